import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SWARM_DEFAULTS } from '@damselfly/swarm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, runCli } from './helpers/cluster.js'
import { buildGoPeer, GO_BUILD_TIMEOUT_MS, GoPeer, runGoPeer, VECTORS } from './helpers/go-peer.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { bareLibp2p, providersNamedBy } from './helpers/peer.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestBlob } from './helpers/origin.js'

const MiB = 1024 * 1024

/**
 * interop/go, a peer written with go-libp2p from docs/protocol.md alone,
 * among TypeScript daemons on loopback. `npm run interop` runs this file.
 */
describe('a go-libp2p peer (interop/go)', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let originUp = false
  const goPeers: GoPeer[] = []
  let bin: string
  let root: string

  const goPeer = (args: string[]): GoPeer => {
    const p = new GoPeer(bin, args)
    goPeers.push(p)
    return p
  }

  /** A daemon fetches the blob through its control API, as `damselfly get` does. */
  const get = async (d: DaemonProcess, blob: TestBlob, name: string): Promise<void> => {
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, name), '--api', d.api])
    expect(r.code, r.stderr).toBe(0)
  }

  beforeAll(async () => {
    bin = await buildGoPeer()
    await origin.start()
    originUp = true
    root = await cluster.root()
  }, GO_BUILD_TIMEOUT_MS + 30_000)

  afterAll(async () => {
    await Promise.all(goPeers.map(async p => p.stop()))
    await cluster.stop()
    if (originUp) await origin.stop()
  })

  it('reproduces every test vector from Go', async () => {
    const r = await runGoPeer(bin, ['vectors', VECTORS])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/all good: .*32 messages.*2 signed manifest parts/)
  })

  it('with default Yamux settings and a slow reader, stays connected to a daemon through a 64 MiB blob', async () => {
    // go-yamux grants 256 KiB per stream and grows it only for a reader that
    // keeps up: a sender that assumes a wider window overruns it, and
    // go-yamux closes the whole connection
    const blob = makeBlob('/slow.bin', 64 * MiB)
    origin.add(blob)
    const lone = await cluster.start('lone', ['--seed'])
    await get(lone, blob, 'lone.bin')
    const slow = goPeer(['fetch', '-digest', blob.digest, '-bootstrap', lone.addrs[0]!, '-out', join(root, 'slow.bin'),
      '-max-parents', '1', '-read-delay', '20ms', '-timeout', '60s'])
    const done = await slow.next('done', 90_000)
    // 256 chunks of 256 KiB, 20 ms each: it really was slow
    expect(done.seconds).toBeGreaterThan(5)
    expect(done.from).toEqual({ [lone.peerId]: blob.data.length })
    expect(slow.all('disconnected').filter(e => e.peer === lone.peerId && e.at <= done.at), 'connections to the daemon lost').toEqual([])
    expect(slow.all('parent').filter(e => e.peer === lone.peerId), 'piece streams it had to open').toHaveLength(1)
    expect((await readFile(join(root, 'slow.bin'))).equals(blob.data)).toBe(true)
    await slow.stop()
    await cluster.kill(lone)
  })

  it('joins a private swarm with its key (libp2p pnet), and cannot without it', async () => {
    const key = join(root, 'swarm.key')
    const made = await runCli(['swarm-key', '-o', key])
    expect(made.code, made.stderr).toBe(0)
    const blob = makeBlob('/private.bin', 4 * MiB)
    origin.add(blob)
    const member = await cluster.start('private', ['--seed', '--swarm-key', key])
    await get(member, blob, 'private.bin')
    const withKey = goPeer(['fetch', '-digest', blob.digest, '-bootstrap', member.addrs[0]!, '-out', join(root, 'go-private.bin'), '-swarm-key', key, '-timeout', '60s'])
    const done = await withKey.next('done', 90_000)
    expect(done.from).toEqual({ [member.peerId]: blob.data.length })
    expect((await readFile(join(root, 'go-private.bin'))).equals(blob.data)).toBe(true)
    const without = goPeer(['fetch', '-digest', blob.digest, '-bootstrap', member.addrs[0]!, '-out', join(root, 'go-outsider.bin'), '-timeout', '20s'])
    await expect(without.next('done', 30_000)).rejects.toThrow(/bootstrap .* failed to dial/)
    expect(without.all('connected')).toEqual([])
    await cluster.kill(member)
  })

  describe('in a swarm of daemons', () => {
    const blob = makeBlob('/interop.bin', 64 * MiB)
    let seed: DaemonProcess
    let daemons: DaemonProcess[]
    let first: GoPeer
    let firstId: string
    let firstAddr: string

    it('fetches a 64 MiB blob from a seed and two daemons, several at once, and becomes a holder they know of', async () => {
      origin.add(blob)
      seed = await cluster.start('seed', ['--seed'])
      daemons = [await cluster.start('d1', ['--bootstrap', seed.addrs[0]!]), await cluster.start('d2', ['--bootstrap', seed.addrs[0]!])]
      for (const [i, d] of daemons.entries()) await get(d, blob, `d${i + 1}.bin`)
      // a daemon declines, for a while, a piece it has just sent to another peer (super-seeding,
      // docs/protocol.md §8): the Go peer comes once that has passed for the pieces the three just
      // traded, as a peer joining later would, so that every holder serves it
      await new Promise(resolve => setTimeout(resolve, SWARM_DEFAULTS.superSeedUnpacedWindowMs))

      first = goPeer(['fetch', '-digest', blob.digest, '-bootstrap', daemons[0]!.addrs[0]!, '-out', join(root, 'go1.bin'), '-stay', '-timeout', '100s'])
      const listening = await first.next('listening')
      firstId = listening.peer
      firstAddr = listening.addrs[0]
      const done = await first.next('done', 120_000)
      expect((await readFile(join(root, 'go1.bin'))).equals(blob.data)).toBe(true)
      const holders = [seed, ...daemons].map(d => d.peerId)
      const parents = Object.keys(done.from)
      expect(parents.length, 'parents it fetched from').toBeGreaterThanOrEqual(2)
      for (const p of parents) expect(holders).toContain(p)
      expect(first.all('banned')).toEqual([])

      // each daemon told it, through identify, that it takes identify pushes and serves the DHT
      for (const d of [seed, ...daemons]) {
        const identified = await first.next('identified', 10_000, e => e.peer === d.peerId)
        expect(identified.protocols).toEqual(expect.arrayContaining(['/ipfs/id/push/1.0.0', '/damselfly/kad/1.0.0', '/damselfly/piece/1.0.0']))
      }
      // it announced the blob on its topic and the daemons heard it; its provider record reached their DHT
      await first.next('announced', 10_000, e => e.complete === true)
      await first.next('provided', 30_000)
      const asker = await bareLibp2p()
      try {
        await eventually(async () => {
          expect(await providersNamedBy(asker, seed.addrs[0]!, blob.digest)).toContain(firstId)
        }, 30_000)
      } finally {
        await asker.stop()
      }
    })

    it('serves it to a new daemon that joins through it, once the seed is gone and the origin unreachable', async () => {
      await cluster.kill(seed)
      await origin.stop()
      originUp = false
      const late = await cluster.start('late', ['--bootstrap', firstAddr])
      // a download with no client waiting (the control API's tasks): the
      // origin cannot vouch for a client now, and a pull must not need it
      const res = await fetch(`http://${late.api}/api/v1/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ digest: blob.digest, url: `${origin.url}${blob.path}` })
      })
      expect(res.status).toBe(202)
      let task: any
      await eventually(async () => {
        task = await cluster.api(late, `/api/v1/tasks/${blob.digest}`)
        expect(task.state).toBe('complete')
      }, 60_000)
      expect(task.bytesFromOrigin).toBe(0)
      expect(task.parents[firstId], 'bytes from the Go peer').toBeGreaterThan(0)
      // the daemon verified the whole digest before it moved the blob in place
      const stored = await readFile(join(late.dataDir, 'store', 'blobs', 'sha256', blob.digest.slice('sha256:'.length)))
      expect(stored.equals(blob.data)).toBe(true)
      expect(first.all('uploaded').filter(e => e.peer === late.peerId).length).toBeGreaterThan(0)
      daemons.push(late)
    })

    it('serves it to a second Go peer when it is the only holder left', async () => {
      for (const d of daemons) await cluster.kill(d)
      const second = goPeer(['fetch', '-digest', blob.digest, '-bootstrap', firstAddr, '-out', join(root, 'go2.bin'), '-timeout', '100s'])
      const done = await second.next('done', 120_000)
      expect(done.from).toEqual({ [firstId]: blob.data.length })
      expect((await readFile(join(root, 'go2.bin'))).equals(blob.data)).toBe(true)
      expect(second.all('banned')).toEqual([])
    })
  })
})
