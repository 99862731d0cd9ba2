import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import type { DaemonProcess } from './helpers/cluster.js'

const MiB = 1024 * 1024

describe('a seed and eight peers as separate processes', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let seed: DaemonProcess
  const peers: DaemonProcess[] = []

  beforeAll(async () => {
    await origin.start()
    seed = await cluster.start('seed', ['--seed'])
    for (let i = 0; i < 8; i++) {
      peers.push(await cluster.start(`peer${i}`, ['--bootstrap', seed.addrs[0]!]))
    }
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('delivers a 128 MiB blob to all eight at once while the origin serves it about once', async () => {
    const blob = makeBlob('/big.bin', 128 * MiB)
    origin.add(blob)
    const root = await cluster.root()
    const results = await Promise.all(peers.map(async (p, i) =>
      runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, `big-${i}.bin`), '--api', p.api], 240_000)))
    for (const [i, r] of results.entries()) {
      expect(r.stderr, `peer ${i}`).toBe('')
      expect(r.code, `peer ${i}`).toBe(0)
      expect((await readFile(join(root, `big-${i}.bin`))).equals(blob.data), `peer ${i} bytes`).toBe(true)
    }
    expect(origin.bytesSent).toBeLessThanOrEqual(1.1 * blob.data.length)

    let multiParent = 0
    let fromPeers = 0
    let discarded = 0
    for (const p of peers) {
      const text: string = await cluster.api(p, '/metrics')
      if ((metric(text, 'damselfly_task_parents', { digest: blob.digest }) ?? 0) >= 2) multiParent++
      fromPeers += metric(text, 'damselfly_received_bytes_total', { source: 'peer' }) ?? 0
      discarded += metric(text, 'damselfly_discarded_bytes_total')!
      // gossip reaches every peer in the swarm: a peer announces the blob when
      // its first piece lands and when it has them all, not piece by piece,
      // and keeps quiet once 8 others (the seed among them) have said as much
      const published = metric(text, 'damselfly_gossip_messages_total', { direction: 'published', topic: 'blob' }) ?? 0
      const withheld = metric(text, 'damselfly_announcements_withheld_total') ?? 0
      expect(published + withheld, `blob announcements published (${published}) and withheld (${withheld})`).toBe(2)
    }
    // second copies of a piece are asked for only when the first is late: little download is wasted
    expect(discarded, 'piece bytes received twice, over all eight peers').toBeLessThanOrEqual(0.1 * 8 * blob.data.length)
    expect(multiParent, 'peers that received pieces from two or more parents').toBeGreaterThanOrEqual(5)
    expect(fromPeers).toBeGreaterThanOrEqual(8 * blob.data.length)
    // the seed did not have to send every copy: peers fed each other
    const seedMetrics: string = await cluster.api(seed, '/metrics')
    expect(metric(seedMetrics, 'damselfly_uploaded_bytes_total')!).toBeLessThan(8 * blob.data.length)
    // every holder publishes a provider record for what it holds, for nodes
    // that come later: once its own downloads are over, within 10 s
    await eventually(async () => {
      for (const [i, p] of peers.entries()) {
        const text: string = await cluster.api(p, '/metrics')
        expect(metric(text, 'damselfly_dht_queries_total', { kind: 'provide' }), `peer ${i}'s provider records`).toBeGreaterThanOrEqual(1)
      }
    }, 20_000)
  })

  it('finishes on every surviving peer when two peers are killed mid-transfer', async () => {
    const blob = makeBlob('/churn.bin', 48 * MiB)
    origin.add(blob)
    // a slow origin keeps the transfer going long enough to kill peers in the middle of it
    origin.rate = 16 * MiB
    const root = await cluster.root()
    const gets = peers.map(async (p, i) =>
      runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, `churn-${i}.bin`), '--api', p.api], 240_000))
    const victims = [peers[1]!, peers[2]!]
    // wait until the victims hold part of the blob, and so are serving it
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      const held = await Promise.all(victims.map(async v => metric(await cluster.api(v, '/metrics'), 'damselfly_task_pieces_held', { digest: blob.digest }) ?? 0))
      if (held.every(h => h >= 4)) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    for (const v of victims) await cluster.kill(v)
    const results = await Promise.all(gets)
    origin.rate = 0
    for (const [i, r] of results.entries()) {
      if (i === 1 || i === 2) {
        expect(r.code, `killed peer ${i}'s get fails`).not.toBe(0)
        await expect(stat(join(root, `churn-${i}.bin`))).rejects.toThrow()
        continue
      }
      expect(r.stderr, `peer ${i}`).toBe('')
      expect(r.code, `peer ${i}`).toBe(0)
      expect((await readFile(join(root, `churn-${i}.bin`))).equals(blob.data)).toBe(true)
    }
    expect(origin.bytesSent - 128 * MiB).toBeLessThanOrEqual(1.1 * blob.data.length)
  })
})
