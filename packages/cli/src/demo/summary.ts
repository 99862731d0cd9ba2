import type { DemoNode } from './demo.js'
import type { DemoImage } from './image.js'
import type { PullResult } from './pull.js'
import type { RegistryCounts } from './registry.js'
import type { TaskSummary } from '@damselfly/swarm'

export interface NodeSummary {
  name: string
  role: 'seed' | 'node'
  /** The pull verified (nodes only). */
  verified?: boolean
  seconds?: number
  error?: string
  /** Bytes of the image's blobs this daemon received from the registry, the seed and other peers. */
  fromRegistry: number
  fromSeed: number
  fromPeers: number
  /** Distinct parents that sent it pieces of the image. */
  parents: number
  /** The daemon's own counters: damselfly_received_bytes_total{source} and damselfly_uploaded_bytes_total. */
  metrics: { origin: number, peer: number, uploaded: number }
}

export interface DemoSummary {
  ok: boolean
  image: { reference: string, totalBytes: number, blobs: number }
  nodes: NodeSummary[]
  /** What the embedded registry sent. */
  registry: RegistryCounts
  /** What N direct pulls would have taken from the registry. */
  directBytes: number
  /** 1 - registry blob bytes / directBytes */
  saving: number
  /** Sum over all daemons of damselfly_received_bytes_total{source="origin"}. */
  originMetric: number
}

/** A sample's value in Prometheus text, e.g. sample(text, 'damselfly_received_bytes_total', { source: 'peer' }). */
export function promSample (text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (m == null || m[1] !== name) continue
    const have = (m[2] ?? '').split(',').filter(Boolean)
    if (want.every(w => have.includes(w))) return Number(m[3])
  }
  return 0
}

async function get (api: string, path: string): Promise<Response> {
  const res = await fetch(`http://${api}${path}`, { signal: AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`${path} on ${api} answered ${res.status}`)
  return res
}

/** Where every node's bytes came from, by its tasks and its metrics, against what the registry counted. */
export async function summarize (input: { nodes: DemoNode[], seed: DemoNode, image: DemoImage, registry: RegistryCounts, results: Map<string, PullResult | Error> }): Promise<DemoSummary> {
  const { image, seed, registry, results } = input
  const digests = new Set(image.blobs.map(b => b.digest))
  const nodes = await Promise.all(input.nodes.map(async (n): Promise<NodeSummary> => {
    let tasks: TaskSummary[] = []
    let metrics = ''
    let unreachable: string | undefined
    try {
      [tasks, metrics] = await Promise.all([
        get(n.api, '/api/v1/tasks').then(async r => await r.json() as TaskSummary[]),
        get(n.api, '/metrics').then(async r => r.text())
      ])
    } catch (err: any) {
      // a daemon that died is part of the story, not the end of it
      unreachable = `its control API did not answer: ${err.message}`
    }
    let fromRegistry = 0
    let fromSeed = 0
    let fromPeers = 0
    const parents = new Set<string>()
    for (const t of tasks) {
      if (!digests.has(t.digest)) continue
      fromRegistry += t.bytesFromOrigin
      const seedBytes = t.parents[seed.peerId] ?? 0
      fromSeed += seedBytes
      fromPeers += t.bytesFromPeers - seedBytes
      for (const p of Object.keys(t.parents)) parents.add(p)
    }
    const r = results.get(n.name)
    return {
      name: n.name,
      role: n.role,
      verified: n.role === 'node' ? r != null && !(r instanceof Error) && unreachable == null : undefined,
      seconds: r != null && !(r instanceof Error) ? r.ms / 1000 : undefined,
      error: r instanceof Error ? r.message : unreachable,
      fromRegistry,
      fromSeed,
      fromPeers,
      parents: parents.size,
      metrics: {
        origin: promSample(metrics, 'damselfly_received_bytes_total', { source: 'origin' }),
        peer: promSample(metrics, 'damselfly_received_bytes_total', { source: 'peer' }),
        uploaded: promSample(metrics, 'damselfly_uploaded_bytes_total')
      }
    }
  }))
  const pullers = nodes.filter(n => n.role === 'node')
  const directBytes = pullers.length * image.totalBytes
  const originMetric = nodes.reduce((sum, n) => sum + n.metrics.origin, 0)
  return {
    // the registry may have sent more than the daemons kept (a transfer cut short when
    // the swarm delivered first), never less
    ok: nodes.every(n => n.error == null) && pullers.every(n => n.verified === true) && originMetric <= registry.blobBytes,
    image: { reference: `${image.name}:${image.tag}`, totalBytes: image.totalBytes, blobs: image.blobs.length },
    nodes,
    registry,
    directBytes,
    saving: directBytes > 0 ? 1 - registry.blobBytes / directBytes : 0,
    originMetric
  }
}

function mib (n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`
}

/** The summary as the demo prints it. */
export function formatSummary (s: DemoSummary): string[] {
  const lines = ['node        time   from registry   from seed  from peers  parents  sent to peers  pull']
  for (const n of s.nodes) {
    const time = n.seconds != null ? `${n.seconds.toFixed(1)} s` : '-'
    const pull = n.verified === true ? 'verified' : n.error != null ? `FAILED: ${n.error}` : '-'
    lines.push(`${n.name.padEnd(8)} ${time.padStart(7)}  ${mib(n.fromRegistry).padStart(14)}  ${mib(n.fromSeed).padStart(10)}  ${mib(n.fromPeers).padStart(10)}  ${String(n.parents).padStart(7)}  ${mib(n.metrics.uploaded).padStart(13)}  ${pull}`)
  }
  const pullers = s.nodes.filter(n => n.role === 'node')
  const times = pullers.map(n => n.seconds).filter((t): t is number => t != null).sort((a, b) => a - b)
  lines.push('')
  if (times.length > 0) lines.push(`${times.length} of ${pullers.length} pulls verified; median ${times[Math.floor(times.length / 2)]!.toFixed(1)} s, slowest ${times[times.length - 1]!.toFixed(1)} s.`)
  lines.push(`The registry sent ${mib(s.registry.blobBytes)} of blobs for ${pullers.length} pulls of a ${mib(s.image.totalBytes)} image (${(s.registry.blobBytes / s.image.totalBytes).toFixed(2)}x the image), plus ${s.registry.manifestBytes} bytes of manifests.`)
  lines.push(`${pullers.length} direct pulls would have sent ${mib(s.directBytes)}: Damselfly saved ${mib(s.directBytes - s.registry.blobBytes)} (${Math.round(s.saving * 100)}%).`)
  if (pullers.every(n => n.verified === true)) lines.push('Checked: every blob of every pull matched its digest.')
  const metric = 'damselfly_received_bytes_total{source="origin"}'
  if (s.originMetric === s.registry.blobBytes) {
    lines.push(`Checked: the registry's count equals the daemons' ${metric} (${s.originMetric} bytes).`)
  } else if (s.originMetric < s.registry.blobBytes) {
    lines.push(`Checked: the daemons' ${metric} add up to ${s.originMetric} bytes; the registry sent ${s.registry.blobBytes - s.originMetric} more, in transfers cut short when the swarm delivered first.`)
  } else {
    lines.push(`MISMATCH: the daemons' ${metric} add up to ${s.originMetric} bytes, more than the ${s.registry.blobBytes} blob bytes the registry sent.`)
  }
  return lines
}
