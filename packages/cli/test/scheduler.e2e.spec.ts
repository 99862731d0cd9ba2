import { join } from 'node:path'
import { pullImage } from '@damselfly/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric, runCli } from './helpers/cluster.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import { startSchedulerProcess } from './helpers/scheduler.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'
import type { SchedulerProcess } from './helpers/scheduler.js'

const MiB = 1024 * 1024
const NODES = 6
/** A third of the nodes upload at this rate, about a tenth of what the others manage on this machine. */
const SLOW_UPLOAD = '4MB'

/** `damselfly scheduler` on loopback, printing its stats every second. */
async function startScheduler (): Promise<SchedulerProcess> {
  return await startSchedulerProcess(['scheduler', '--listen', '/ip4/127.0.0.1/tcp/0', '--stats-every', '1'])
}

/** Blob announcements a daemon published on gossip, and the piece bytes it uploaded to peers. */
async function gossipAndUpload (cluster: Cluster, d: DaemonProcess): Promise<{ announced: number, uploaded: number }> {
  const text = await cluster.api(d, '/metrics')
  return {
    announced: metric(text, 'damselfly_gossip_messages_total', { direction: 'published', topic: 'blob' }) ?? 0,
    uploaded: metric(text, 'damselfly_uploaded_bytes_total') ?? 0
  }
}

/** Provider records a daemon published on the DHT. */
async function provides (cluster: Cluster, d: DaemonProcess): Promise<number> {
  return metric(await cluster.api(d, '/metrics'), 'damselfly_dht_queries_total', { kind: 'provide' }) ?? 0
}

async function advice (cluster: Cluster, d: DaemonProcess): Promise<{ asked: number, answered: number, late: number, failed: number }> {
  const text = await cluster.api(d, '/metrics')
  return {
    asked: metric(text, 'damselfly_advice_asked_total') ?? 0,
    answered: metric(text, 'damselfly_advice_total', { result: 'answered' }) ?? 0,
    late: metric(text, 'damselfly_advice_total', { result: 'late' }) ?? 0,
    failed: metric(text, 'damselfly_advice_total', { result: 'failed' }) ?? 0
  }
}

/**
 * A swarm in which a third of the nodes upload at a tenth of the others'
 * rate pulls images through the nodes' mirrors: with the optional scheduler
 * ranking parents, with local ranking, and with the scheduler stopped in the
 * middle of a pull. Every pull must verify each time; with the scheduler gone
 * no question to it may stay open past its deadline.
 */
describe('the optional scheduler, in a swarm whose parents are not alike', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let images: BuiltImage[]
  let scheduler: SchedulerProcess
  let seed: DaemonProcess
  const nodes: DaemonProcess[] = []
  const upstream = (): string[] => ['--insecure-registry', registry.host, '--default-registry', registry.host]

  async function pullAll (on: DaemonProcess[], name: string, image: BuiltImage): Promise<void> {
    const pulls = await Promise.all(on.map(async n => await pullImage({ mirror: n.mirror!, registry: registry.host, name, tag: 'v1', signal: AbortSignal.timeout(180_000) })))
    for (const p of pulls) {
      expect(p.manifestDigest).toBe(image.manifest.digest)
      // pullImage checks every blob against its digest as it reads it
      expect(p.bytes).toBe(image.totalBytes)
    }
  }

  beforeAll(async () => {
    const root = await cluster.root()
    registry = await startRegistry()
    images = await Promise.all(['first', 'second', 'third'].map(async name => await buildImage(join(root, name), { layers: [2 * MiB, 6 * MiB], seed: `scheduler-${name}` })))
    await Promise.all(images.map(async (image, i) => await registry.push(image.dir, `hetero/${['first', 'second', 'third'][i]}:v1`)))
    scheduler = await startScheduler()
    seed = await cluster.start('seed', ['--seed', '--scheduler', scheduler.addr, ...upstream()])
    for (let i = 0; i < NODES; i++) {
      const slow = i % 3 === 0 ? ['--upload-rate', SLOW_UPLOAD] : []
      // four places for parents among seven peers: there is a choice to make, and the scheduler is asked to rank
      nodes.push(await cluster.start(`node${i}`, ['--bootstrap', seed.addrs[0]!, '--scheduler', scheduler.addr, '--max-parents', '4', ...slow, ...upstream()]))
    }
  }, 180_000)

  afterAll(async () => {
    if (scheduler?.child.exitCode == null) scheduler?.child.kill('SIGKILL')
    await cluster.stop()
    await registry?.close()
  })

  it('with the scheduler: every pull verifies, the nodes send it their load and reports, and it answers within the deadline', async () => {
    await pullAll(nodes, 'hetero/first', images[0]!)
    // the scheduler heard from the seed and every node (its stats line, printed every second)
    await expect.poll(() => scheduler.lines.some(l => {
      const m = /^nodes (\d+), requests \d+ \(beacons \d+, reports (\d+), ranks (\d+), suggestions (\d+)\)$/.exec(l)
      // asked for holders by every download short of parents, and to rank when a download has more candidates than places
      return m != null && Number(m[1]) === NODES + 1 && Number(m[2]) > 0 && Number(m[4]) > 0
    }), { timeout: 10_000, message: `the scheduler said: ${scheduler.lines.slice(-3).join(' | ')}` }).toBe(true)
    const all = await Promise.all(nodes.map(async n => await advice(cluster, n)))
    expect(all.reduce((s, a) => s + a.answered, 0)).toBeGreaterThan(0)
    // each node's own count of what it sent it: flushes from every node, and questions (its downloads' and their lookups)
    let questions = 0
    for (const n of nodes) {
      const text = await cluster.api(n, '/metrics')
      expect(metric(text, 'damselfly_schedule_requests_total', { kind: 'flush' })).toBeGreaterThan(0)
      for (const kind of ['rank', 'suggest', 'lookup']) questions += metric(text, 'damselfly_schedule_requests_total', { kind }) ?? 0
    }
    expect(questions).toBeGreaterThan(0)
    // the scheduler heard of the holders and named them: the nodes announced nothing on gossip, and still fed each other
    const traffic = await Promise.all(nodes.map(async n => await gossipAndUpload(cluster, n)))
    expect(traffic.map(t => t.announced)).toEqual(nodes.map(() => 0))
    expect(traffic.reduce((s, t) => s + t.uploaded, 0)).toBeGreaterThan(0)
  })

  it('with the scheduler stopped in the middle of a pull: every pull verifies, no question to it stays open, and the nodes provide what they hold on the DHT', async () => {
    // while it answered, the scheduler named the holders: no node made a provider record
    // (without one, each would within 10 s of its pull's end, see swarm.e2e)
    expect(await Promise.all(nodes.map(async n => await provides(cluster, n)))).toEqual(nodes.map(() => 0))
    const pulling = pullAll(nodes, 'hetero/second', images[1]!)
    await new Promise(resolve => setTimeout(resolve, 500))
    scheduler.child.kill('SIGKILL')
    await pulling
    // a node's next pull asks a scheduler that is gone: each question ends, failed or late, never open
    await pullAll(nodes.slice(0, 2), 'hetero/third', images[2]!)
    await new Promise(resolve => setTimeout(resolve, 1000))
    const all = await Promise.all(nodes.map(async n => await advice(cluster, n)))
    for (const a of all) expect(a.answered + a.late + a.failed).toBe(a.asked)
    expect(all.reduce((s, a) => s + a.failed + a.late, 0)).toBeGreaterThan(0)
    // with the scheduler silent, the records go out, for nodes that come later
    await expect.poll(async () => (await Promise.all(nodes.map(async n => await provides(cluster, n)))).every(p => p > 0), { timeout: 30_000, interval: 1000 }).toBe(true)
  })

  it('with local ranking (no scheduler), the same swarm pulls every image verified', async () => {
    const local = new Cluster()
    try {
      const localSeed = await local.start('seed', ['--seed', ...upstream()])
      const localNodes: DaemonProcess[] = []
      for (let i = 0; i < NODES; i++) {
        const slow = i % 3 === 0 ? ['--upload-rate', SLOW_UPLOAD] : []
        localNodes.push(await local.start(`node${i}`, ['--bootstrap', localSeed.addrs[0]!, ...slow, ...upstream()]))
      }
      await pullAll(localNodes, 'hetero/first', images[0]!)
      const asked = await Promise.all(localNodes.map(async n => (await advice(local, n)).asked))
      expect(asked).toEqual(localNodes.map(() => 0))
      // without one, holders are announced on gossip
      const traffic = await Promise.all(localNodes.map(async n => await gossipAndUpload(local, n)))
      expect(traffic.reduce((s, t) => s + t.announced, 0)).toBeGreaterThan(0)
    } finally {
      await local.stop()
    }
  })

  it('refuses bad flags with one line', async () => {
    const r = await runCli(['scheduler', '--listen', '/ip4/1.2.3/tcp/0'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('--listen')
    const d = await runCli(['daemon', '--data-dir', '/tmp/x', '--scheduler', 'not-a-multiaddr'])
    expect(d.code).toBe(2)
    expect(d.stderr).toMatch(/--scheduler/)
  })
})
