import { browserPeerName } from './browser-peers.js'
import type { BrowserPeerReport } from './browser-peers.js'
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

/** A browser peer the dashboard page started, as the summary tells it. */
export interface BrowserPeerSummary {
  name: string
  peerId: string
  /** Every piece and the whole digest verified in the page, and the page's own sha256 of the bytes matches. */
  verified: boolean
  seconds?: number
  error?: string
  /** Verified bytes from the demo's daemons and from other browser peers. */
  fromDaemons: number
  fromBrowsers: number
  transports: string[]
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
  /** The browser peers asked for (`wanted`), the blob they fetch, and each that reported. */
  browsers?: { wanted: number, digest: string, size: number, peers: BrowserPeerSummary[] }
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
export async function summarize (input: {
  nodes: DemoNode[]
  seed: DemoNode
  image: DemoImage
  registry: RegistryCounts
  results: Map<string, PullResult | Error>
  browsers?: { wanted: number, blob: { digest: string, size: number }, reports: BrowserPeerReport[] }
}): Promise<DemoSummary> {
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
  const browsers = input.browsers != null && input.browsers.wanted > 0 ? summarizeBrowsers(input.browsers, new Set(input.nodes.map(n => n.peerId))) : undefined
  return {
    // the registry may have sent more than the daemons kept (a transfer cut short when
    // the swarm delivered first), never less
    ok: nodes.every(n => n.error == null) && pullers.every(n => n.verified === true) && originMetric <= registry.blobBytes &&
      (browsers == null || (browsers.peers.filter(b => b.verified).length >= browsers.wanted && browsers.peers.every(b => b.verified || b.error == null))),
    image: { reference: `${image.name}:${image.tag}`, totalBytes: image.totalBytes, blobs: image.blobs.length },
    nodes,
    registry,
    directBytes,
    saving: directBytes > 0 ? 1 - registry.blobBytes / directBytes : 0,
    originMetric,
    browsers
  }
}

function summarizeBrowsers (input: { wanted: number, blob: { digest: string, size: number }, reports: BrowserPeerReport[] }, daemons: Set<string>): NonNullable<DemoSummary['browsers']> {
  const hex = input.blob.digest.replace(/^sha256:/, '')
  const peers = input.reports.map((r): BrowserPeerSummary => {
    let fromDaemons = 0
    let fromBrowsers = 0
    for (const [peer, n] of Object.entries(r.parents)) {
      if (daemons.has(peer)) fromDaemons += n
      else fromBrowsers += n
    }
    // the page's word that it verified is not taken alone: the hash it computed must be the blob's
    const verified = r.state === 'verified' && r.sha256 === hex && r.bytes === input.blob.size
    const error = r.state === 'failed'
      ? r.error ?? 'failed'
      : r.state === 'verified' && !verified ? `the page's sha256 ${r.sha256 ?? '(none)'} of ${r.bytes} bytes is not the blob's` : undefined
    return { name: browserPeerName(r.peerId), peerId: r.peerId, verified, seconds: r.seconds, error, fromDaemons, fromBrowsers, transports: r.transports }
  })
  return { wanted: input.wanted, digest: input.blob.digest, size: input.blob.size, peers }
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
  if (s.browsers != null) lines.push(...formatBrowsers(s.browsers))
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

function formatBrowsers (b: NonNullable<DemoSummary['browsers']>): string[] {
  const lines = ['', 'browser peer      time  from daemons  from browsers  over                 fetch']
  for (const p of b.peers) {
    const time = p.seconds != null ? `${p.seconds.toFixed(1)} s` : '-'
    const fetch = p.verified ? 'verified' : p.error != null ? `FAILED: ${p.error}` : 'not done'
    lines.push(`${p.name.padEnd(15)} ${time.padStart(7)}  ${mib(p.fromDaemons).padStart(12)}  ${mib(p.fromBrowsers).padStart(13)}  ${p.transports.join(', ').padEnd(19)}  ${fetch}`)
  }
  const verified = b.peers.filter(p => p.verified).length
  if (verified >= b.wanted) {
    lines.push(`Checked: ${verified} browser peer${verified === 1 ? '' : 's'} fetched the largest layer (${mib(b.size)}) from the swarm, and the sha256 each page computed is ${b.digest}.`)
  } else {
    lines.push(`BROWSER PEERS: ${verified} of the ${b.wanted} asked for verified the largest layer${b.peers.length < b.wanted ? `; ${b.peers.length} reported at all (is the dashboard open?)` : ''}.`)
  }
  return lines
}
