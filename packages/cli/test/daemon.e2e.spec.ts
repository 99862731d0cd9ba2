import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric, runCli } from './helpers/cluster.js'
import { freePort } from './helpers/registry.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import type { DaemonProcess } from './helpers/cluster.js'

const MiB = 1024 * 1024

/** Collects Server-Sent Events from a daemon's /api/v1/events until stopped. */
function subscribe (api: string): { events: Array<{ type: string, data: any }>, stop(): void } {
  const events: Array<{ type: string, data: any }> = []
  const controller = new AbortController()
  void (async () => {
    const res = await fetch(`http://${api}/api/v1/events`, { signal: controller.signal })
    let buffer = ''
    for await (const chunk of res.body!) {
      buffer += Buffer.from(chunk).toString('utf8')
      let end
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const type = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (type != null && data != null) events.push({ type, data: JSON.parse(data) })
      }
    }
  })().catch(() => {})
  return { events, stop: () => controller.abort() }
}

describe('the daemon as a user meets it', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let seed: DaemonProcess
  let peer: DaemonProcess

  beforeAll(async () => {
    await origin.start()
    seed = await cluster.start('seed', ['--seed'])
    // a bootstrap address without /p2p/<id> works too
    const bare = seed.addrs[0]!.replace(/\/p2p\/[^/]+$/, '')
    expect(bare).not.toContain('/p2p/')
    peer = await cluster.start('peer', ['--bootstrap', bare])
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  /** A new 3 MiB blob on the origin, got through `node` with `damselfly get`: exit 0 and the exact bytes. */
  async function getFreshBlob (node: DaemonProcess, path: string): Promise<ReturnType<typeof makeBlob>> {
    const blob = makeBlob(path, 3 * MiB)
    origin.add(blob)
    const out = join(await cluster.root(), path.slice(1))
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', out, '--api', node.api])
    expect(r.code, r.stderr).toBe(0)
    expect((await readFile(out)).equals(blob.data)).toBe(true)
    return blob
  }

  it('reports progress as events and its state through status', async () => {
    const blob = makeBlob('/events.bin', 24 * MiB)
    origin.add(blob)
    const sub = subscribe(peer.api)
    await new Promise(resolve => setTimeout(resolve, 200))
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(await cluster.root(), 'events.bin'), '--api', peer.api])
    expect(r.code, r.stderr).toBe(0)
    await new Promise(resolve => setTimeout(resolve, 300))
    sub.stop()
    expect(sub.events[0]?.type).toBe('status')
    const progress = sub.events.filter(e => e.type === 'progress' && e.data.task.digest === blob.digest).map(e => e.data.task.piecesHeld as number)
    expect(progress.length).toBeGreaterThan(0)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress)
    const done = sub.events.find(e => e.type === 'done' && e.data.task.digest === blob.digest)
    expect(done?.data.task.state).toBe('complete')
    expect(done?.data.task.piecesHeld).toBe(done?.data.task.pieces)

    const json = await runCli(['status', '--json', '--api', peer.api])
    expect(json.code).toBe(0)
    const status = JSON.parse(json.stdout)
    expect(status.peerId).toBe(peer.peerId)
    expect(status.peers).toContainEqual(expect.objectContaining({ peer: seed.peerId, seed: true }))
    const task = status.tasks.find((t: any) => t.digest === blob.digest)
    expect(task).toMatchObject({ state: 'complete', size: blob.data.length, bytesFromPeers: blob.data.length, bytesFromOrigin: 0 })
    const human = await runCli(['status', '--api', peer.api])
    expect(human.stdout).toContain(`peer        ${peer.peerId}`)
    expect(human.stdout).toMatch(/from peers\s+24\.0 MiB/)
    expect(human.stdout).toContain(`${blob.digest.slice(0, 19)}  complete`)
  })

  it('shows on /metrics what a download moved, and libp2p\'s view of the connection it came over', async () => {
    const [peerBefore, seedBefore]: [string, string] = await Promise.all([cluster.api(peer, '/metrics'), cluster.api(seed, '/metrics')])
    const blob = await getFreshBlob(peer, '/metrics.bin')
    const [peerAfter, seedAfter]: [string, string] = await Promise.all([cluster.api(peer, '/metrics'), cluster.api(seed, '/metrics')])
    const grew = (before: string, after: string, name: string, labels: Record<string, string> = {}): number =>
      (metric(after, name, labels) ?? 0) - (metric(before, name, labels) ?? 0)

    expect(grew(peerBefore, peerAfter, 'damselfly_received_bytes_total', { source: 'peer' })).toBe(blob.data.length)
    expect(grew(peerBefore, peerAfter, 'damselfly_received_bytes_total', { source: 'origin' })).toBe(0)
    expect(grew(peerBefore, peerAfter, 'damselfly_pieces_verified_total')).toBe(3)
    expect(metric(peerAfter, 'damselfly_task_complete', { digest: blob.digest })).toBe(1)
    expect(metric(peerAfter, 'damselfly_task_pieces_held', { digest: blob.digest })).toBe(3)
    expect(metric(peerAfter, 'damselfly_task_parents', { digest: blob.digest })).toBe(1)
    expect(grew(seedBefore, seedAfter, 'damselfly_received_bytes_total', { source: 'origin' })).toBe(blob.data.length)
    expect(grew(seedBefore, seedAfter, 'damselfly_uploaded_bytes_total')).toBe(blob.data.length)

    // libp2p counted the pieces crossing its piece-protocol streams, at both ends
    const piece = '/damselfly/piece/1.0.0'
    expect(grew(peerBefore, peerAfter, 'libp2p_data_transfer_bytes_total', { protocol: `${piece} received` })).toBeGreaterThanOrEqual(blob.data.length)
    expect(grew(seedBefore, seedAfter, 'libp2p_data_transfer_bytes_total', { protocol: `${piece} sent` })).toBeGreaterThanOrEqual(blob.data.length)
    // the peer dialled the seed, the seed was dialled, and each has the other in its DHT routing table
    const connections = 'libp2p_connection_manager_connections'
    expect(metric(peerAfter, connections, { [connections]: 'outbound' })).toBeGreaterThanOrEqual(1)
    expect(metric(seedAfter, connections, { [connections]: 'inbound' })).toBeGreaterThanOrEqual(1)
    expect(metric(peerAfter, 'libp2p_kad_dht_routing_table_size')).toBeGreaterThanOrEqual(1)
    expect(metric(seedAfter, 'libp2p_kad_dht_routing_table_size')).toBeGreaterThanOrEqual(1)
    // the streams each opened and accepted, by protocol: the peer opened the piece session, the seed accepted it
    const streams = 'damselfly_streams_total'
    expect(grew(peerBefore, peerAfter, streams, { protocol: 'piece', direction: 'outbound' })).toBeGreaterThanOrEqual(1)
    expect(grew(seedBefore, seedAfter, streams, { protocol: 'piece', direction: 'inbound' })).toBeGreaterThanOrEqual(1)
    expect(metric(peerAfter, streams, { protocol: 'identify', direction: 'outbound' })).toBeGreaterThanOrEqual(1)
    expect(metric(peerAfter, 'damselfly_connections_total', { direction: 'outbound' })).toBeGreaterThanOrEqual(1)
    expect(metric(seedAfter, 'damselfly_connections_total', { direction: 'inbound' })).toBeGreaterThanOrEqual(1)
    // gossipsub counts by kind of topic, never by blob: its series do not grow with every blob seen
    expect(grew(peerBefore, peerAfter, 'gossipsub_msg_publish_count_total', { topic: 'blob' })).toBeGreaterThanOrEqual(1)
    expect(peerAfter.split('\n').filter(l => l.startsWith('gossip') && l.includes(blob.digest.slice(7)))).toEqual([])
    // one family per name: a second daemon-wide registration would have thrown or doubled it
    const declared = peerAfter.split('\n').filter(l => l.startsWith('# TYPE ')).map(l => l.split(' ')[2])
    expect(declared.length).toBeGreaterThan(100)
    expect(new Set(declared).size).toBe(declared.length)
  })

  it('holds a download to --download-rate', async () => {
    const blob = makeBlob('/limited.bin', 16 * MiB)
    origin.add(blob)
    const limited = await cluster.start('limited', ['--bootstrap', seed.addrs[0]!, '--download-rate', '4MiB'])
    const started = performance.now()
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(await cluster.root(), 'limited.bin'), '--api', limited.api])
    expect(r.code, r.stderr).toBe(0)
    // a 1 MiB burst plus 4 MiB/s cannot move 16 MiB in less than 3.75 s
    expect(performance.now() - started).toBeGreaterThanOrEqual(3750)
  })

  it('resumes from its verified pieces after SIGKILL and a restart', async () => {
    const blob = makeBlob('/resume.bin', 32 * MiB)
    origin.add(blob)
    const root = await cluster.root()
    const slow = await cluster.start('resumer', ['--bootstrap', seed.addrs[0]!, '--download-rate', '6MiB'])
    const get = runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'resume-1.bin'), '--api', slow.api])
    let held = 0
    const deadline = Date.now() + 60_000
    while (held < 10 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 100))
      held = metric(await cluster.api(slow, '/metrics'), 'damselfly_task_pieces_held', { digest: blob.digest }) ?? 0
    }
    expect(held).toBeGreaterThanOrEqual(10)
    await cluster.kill(slow, 'SIGKILL')
    expect((await get).code).not.toBe(0)

    const again = await cluster.startIn(slow.dataDir, ['--bootstrap', seed.addrs[0]!])
    expect(again.peerId, 'same key, same peer id').toBe(slow.peerId)
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'resume-2.bin'), '--api', again.api])
    expect(r.code, r.stderr).toBe(0)
    expect((await readFile(join(root, 'resume-2.bin'))).equals(blob.data)).toBe(true)
    const status = await cluster.api(again, '/api/v1/status')
    // only the pieces it did not have were fetched again
    expect(status.stats.bytesFromPeers).toBeLessThanOrEqual(blob.data.length - held * MiB + MiB)
    expect(status.stats.bytesFromPeers).toBeGreaterThan(0)
  })

  it('speaks the connection encryption it is told to: a Noise-only node pulls from a seed that prefers TLS', async () => {
    const node = await cluster.start('noise-only', ['--bootstrap', seed.addrs[0]!, '--encryption', 'noise'])
    const seedAsSeen = async (d: DaemonProcess): Promise<any> => (await cluster.api(d, '/api/v1/status')).peers.find((p: any) => p.peer === seed.peerId)
    await eventually(async () => { expect((await seedAsSeen(node))?.seed).toBe(true) }, 20_000)
    expect((await seedAsSeen(node)).encryption).toBe('/noise')
    expect((await seedAsSeen(peer)).encryption, 'two nodes with the defaults choose TLS').toBe('/tls/1.0.0')

    const blob = await getFreshBlob(node, '/over-noise.bin')
    expect((await cluster.api(node, '/api/v1/status')).stats.bytesFromPeers).toBe(blob.data.length)
    await cluster.kill(node, 'SIGTERM')
  })

  it('dials its bootstrap peer again after the connection drops, and pulls through it', async () => {
    const listen = ['--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`]
    const boot = await cluster.start('restarting-seed', ['--seed', ...listen])
    const node = await cluster.start('reconnecting', ['--bootstrap', boot.addrs[0]!, '--seed-timeout', '60s'])
    const sees = async (d: DaemonProcess): Promise<boolean> => (await cluster.api(node, '/api/v1/status')).peers.some((p: any) => p.peer === d.peerId && p.seed === true)
    await eventually(async () => { expect(await sees(boot)).toBe(true) }, 20_000)

    // the seed goes away and comes back at the same address with the same key
    await cluster.kill(boot, 'SIGKILL')
    const again = await cluster.startIn(boot.dataDir, ['--seed', ...listen])
    expect(again.peerId).toBe(boot.peerId)
    await eventually(async () => { expect(await sees(again), 'the node dialled its bootstrap peer again').toBe(true) }, 20_000)

    await getFreshBlob(node, '/after-restart.bin')
    const status = await cluster.api(node, '/api/v1/status')
    expect(status.stats.bytesFromOrigin, 'the node went through the seed, not to the origin itself').toBe(0)
  })

  it('waits for a seed that accepted its blob and then stalls, instead of pulling from the origin itself', async () => {
    // a seed of its own, so the node has no other parent to turn to
    const paused = await cluster.start('pausing-seed', ['--seed'])
    const node = await cluster.start('patient', ['--bootstrap', paused.addrs[0]!, '--seed-timeout', '1000'])
    await eventually(async () => {
      const status = await cluster.api(node, '/api/v1/status')
      expect(status.peers.some((p: any) => p.peer === paused.peerId && p.seed === true)).toBe(true)
    }, 20_000)
    const blob = makeBlob('/stalling-seed.bin', 16 * MiB)
    origin.add(blob)
    origin.rate = 4 * MiB
    const sentBefore = origin.bytesSent
    try {
      const out = join(await cluster.root(), 'stalling-seed.bin')
      const get = runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', out, '--api', node.api], 120_000)
      await eventually(async () => {
        expect(metric(await cluster.api(node, '/metrics'), 'damselfly_task_pieces_held', { digest: blob.digest }) ?? 0).toBeGreaterThanOrEqual(2)
      }, 30_000)
      // frozen, not gone: its connection stays up while it answers nothing,
      // as a seed starved of CPU does; longer than the stall timeout (10 s)
      // plus the seed deadline (1 s), after which the node used to give up on it
      paused.child.kill('SIGSTOP')
      await new Promise(resolve => setTimeout(resolve, 15_000))
      paused.child.kill('SIGCONT')
      const r = await get
      expect(r.code, r.stderr).toBe(0)
      expect((await readFile(out)).equals(blob.data)).toBe(true)
      const status = await cluster.api(node, '/api/v1/status')
      expect(status.stats.bytesFromOrigin, 'the node went to the origin itself').toBe(0)
      expect(origin.bytesSent - sentBefore, 'bytes the origin sent').toBeLessThanOrEqual(blob.data.length + MiB)
    } finally {
      paused.child.kill('SIGCONT')
      origin.rate = 0
    }
  })

  it('resumes a broken origin connection with Range and serves the blob once', async () => {
    const blob = makeBlob('/breaks.bin', 12 * MiB)
    origin.add(blob)
    origin.breakOnce.set(blob.path, 5 * MiB + 12345)
    const sentBefore = origin.bytesSent
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(await cluster.root(), 'breaks.bin'), '--api', peer.api])
    expect(r.code, r.stderr).toBe(0)
    expect((await readFile(join(await cluster.root(), 'breaks.bin'))).equals(blob.data)).toBe(true)
    // the seed asked again from where the broken connection left it, not from zero
    const starts = origin.ranges.map(r => Number(/^bytes=(\d+)-$/.exec(r)?.[1]))
    expect(starts.some(n => n > 0 && n <= 5 * MiB + 12345)).toBe(true)
    expect(origin.bytesSent - sentBefore).toBeLessThanOrEqual(blob.data.length + MiB)
  })

  it('goes to the origin itself when there is no seed, unless told not to', async () => {
    const blob = makeBlob('/alone.bin', 6 * MiB)
    origin.add(blob)
    const loner = await cluster.start('loner')
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(await cluster.root(), 'alone.bin'), '--api', loner.api])
    expect(r.code, r.stderr).toBe(0)
    const status = await cluster.api(loner, '/api/v1/status')
    expect(status.stats.bytesFromOrigin).toBe(blob.data.length)

    const strict = await cluster.start('strict', ['--no-origin-fallback', '--seed-timeout', '1000'])
    const other = makeBlob('/alone-2.bin', 1 * MiB)
    origin.add(other)
    const out = join(await cluster.root(), 'alone-2.bin')
    const refused = await runCli(['get', `${origin.url}${other.path}`, '--digest', other.digest, '-o', out, '--api', strict.api], 60_000)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/no seed answered, and origin fallback is off/)
  })
})
