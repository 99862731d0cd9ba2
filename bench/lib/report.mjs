// Summaries and the printed table.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { dirname } from 'node:path'
import { pieceSizeFor } from '@damselfly/protocol'

const MiB = 1024 * 1024

export function machine () {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    platform: `${process.platform}-${process.arch}`,
    node: process.version
  }
}

/**
 * Busy and total jiffies of the whole machine, from /proc/stat, and of the
 * busy ones those in interrupts (the network stack's softirqs) and stolen by
 * the hypervisor.
 */
export async function machineCpu () {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const idle = line[3] + (line[4] ?? 0)
    const total = line.slice(0, 8).reduce((a, b) => a + b, 0)
    return { busy: total - idle, total, interrupts: (line[5] ?? 0) + (line[6] ?? 0), steal: line[7] ?? 0 }
  } catch {
    return undefined
  }
}

/** Share of the machine's CPU busy between two machineCpu() readings. */
export const busyFraction = (a, b) => (a == null || b == null || b.total === a.total ? undefined : (b.busy - a.busy) / (b.total - a.total))

/**
 * Waits until the machine's CPU has been at most `busy` busy over a second,
 * for at most `maxMs`; resolves with the seconds waited. Daemons just started
 * spend a CPU second or two each joining the swarm, which a container starting
 * on a node whose daemon has long been running does not wait for.
 */
export async function settled ({ busy = 0.25, maxMs = 20_000 } = {}) {
  const t0 = performance.now()
  while (performance.now() - t0 < maxMs) {
    const a = await machineCpu()
    await new Promise(resolve => setTimeout(resolve, 1000))
    const f = busyFraction(a, await machineCpu())
    if (f == null || f <= busy) break
  }
  return (performance.now() - t0) / 1000
}

function median (values) {
  const s = [...values].sort((x, y) => x - y)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Best and median of one measurement's runs; the best run's extra fields are kept. */
export function summarize (runs) {
  const rates = runs.map(r => r.bytesPerSecond)
  const best = runs.reduce((x, y) => (y.bytesPerSecond > x.bytesPerSecond ? y : x))
  return { best, bestBytesPerSecond: best.bytesPerSecond, medianBytesPerSecond: median(rates), runs }
}

export const mibps = bytesPerSecond => (bytesPerSecond / MiB).toFixed(1)
const gbps = bytesPerSecond => (bytesPerSecond * 8 / 1e9).toFixed(2)

export function formatSize (bytes) {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / 1024} KiB`
}

const GiB = 1024 * MiB

/** CPU seconds per GiB moved, sender / receiver, of the best run ('' when not measured). */
function cpuPerGiB (run, bytes) {
  const per = s => (s == null ? '?' : (s * GiB / bytes).toFixed(1))
  return run.senderCpuSeconds == null && run.receiverCpuSeconds == null ? '' : `${per(run.senderCpuSeconds)} / ${per(run.receiverCpuSeconds)}`
}

/**
 * Rows of { name, summary, note }: best MiB/s, Gbit/s, median, every run, and
 * the CPU the best run cost each side per GiB of `bytes`.
 */
export function table (rows, bytes) {
  const head = ['measurement', 'best MiB/s', 'Gbit/s', 'median', 'CPU s/GiB send / recv', 'runs (MiB/s)', 'note']
  const body = rows.map(({ name, summary, note }) => [
    name,
    mibps(summary.bestBytesPerSecond),
    gbps(summary.bestBytesPerSecond),
    mibps(summary.medianBytesPerSecond),
    cpuPerGiB(summary.best, bytes),
    summary.runs.map(r => mibps(r.bytesPerSecond)).join(', '),
    note ?? ''
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map(r => r[i].length)))
  const line = cells => cells.map((c, i) => (i === 0 || i >= 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [line(head), line(widths.map(w => '-'.repeat(w))), ...body.map(line)].join('\n')
}

/** The value at percentile `p` (nearest rank) of `values`. */
export function percentile (values, p) {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]
}

/**
 * The cold start's lower bound for N nodes pulling blobs of `sizes` bytes:
 * T_lb = max(S/B_down, S/B_reg, N*S/(B_reg + N*B_up)) + one piece of the
 * largest blob at B_down. B_reg is what enters the swarm: the registry's
 * rate, or the seed's when that is lower (0: the seed is not capped).
 */
export function lowerBound (sizes, n, { down, up, registry, seed, pieceSize: fixed }) {
  const S = sizes.reduce((a, b) => a + b, 0)
  const reg = Math.min(registry, seed || Infinity)
  // one piece of the largest blob (a fixed piece size when the daemons run with one)
  const pieceSize = fixed ?? Math.max(...sizes.map(s => pieceSizeFor(s)))
  const terms = { download: S / down, registry: S / reg, swarm: n * S / (reg + n * up) }
  return { seconds: Math.max(...Object.values(terms)) + pieceSize / down, terms, pieceSize, pieceDelaySeconds: pieceSize / down }
}

/** Write a result file whole or not at all: JSON for objects, text as given. */
export async function writeResult (file, data) {
  await mkdir(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, typeof data === 'string' ? data : JSON.stringify(data, null, 2) + '\n')
  await rename(tmp, file)
}

/**
 * Verified bytes of the image's blobs a daemon got from the registry, the
 * seed and other peers, from its tasks (as /api/v1/status or /api/v1/tasks
 * list them).
 */
export function bytesBySource (tasks, seedId, digests) {
  const out = { fromRegistry: 0, fromSeed: 0, fromPeers: 0 }
  for (const t of tasks ?? []) {
    if (!digests.has(t.digest)) continue
    const fromSeed = t.parents?.[seedId] ?? 0
    out.fromRegistry += t.bytesFromOrigin ?? 0
    out.fromSeed += fromSeed
    out.fromPeers += (t.bytesFromPeers ?? 0) - fromSeed
  }
  return out
}

/** A sample's value in Prometheus text, by name and (optionally) its exact label text: 'kind="provide"'. */
export function sampleOf (metrics, name, labels) {
  const v = new RegExp(`^${name}${labels != null ? `\\{${labels}\\}` : '(?:\\{\\})?'} (\\S+)$`, 'm').exec(metrics)?.[1]
  return v != null ? Number(v) : undefined
}

/** Every sample of a metric summed over its labels (those matching `labels`, a substring of the label set, when given). */
export function sumOf (metrics, name, labels) {
  let sum = 0
  for (const m of metrics.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if (labels == null || (m[1] ?? '').includes(labels)) sum += Number(m[2])
  }
  return sum
}

/** The gossipsub RPC contents counted, sent and received, by kind. */
const GOSSIP_KINDS = ['message', 'subscription', 'ihave', 'iwant', 'graft', 'prune']

/** A counter summed over its other labels, by the value of `label`: { piece: 503, dht: 496, ... }. */
function sumsBy (metrics, name, label) {
  const out = {}
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const value = new RegExp(`${label}="([^"]*)"`).exec(m[1])?.[1]
    if (value != null) out[value] = (out[value] ?? 0) + Number(m[2])
  }
  return out
}

/**
 * A daemon's control-traffic counters from its /metrics text: gossip RPCs
 * and their contents, DHT requests made and served (a stream each),
 * scheduler requests, all streams, connections opened and open.
 */
export function controlCounters (metrics) {
  const gossipByKind = Object.fromEntries(GOSSIP_KINDS.map(k => [k, sumOf(metrics, `gossipsub_rpc_sent_${k}_total`) + sumOf(metrics, `gossipsub_rpc_recv_${k}_total`)]))
  gossipByKind.idontwant = sumOf(metrics, 'gossipsub_rpc_sent_idontwant_total') + sumOf(metrics, 'gossipsub_idontwant_rcv_msgids_total')
  return {
    gossipRpcsSent: sumOf(metrics, 'gossipsub_rpc_sent_count_total'),
    gossipRpcsReceived: sumOf(metrics, 'gossipsub_rpc_recv_count_total'),
    gossipByKind,
    // the messages the daemon itself published and took in, by topic
    gossipByTopic: Object.fromEntries(['published', 'received'].flatMap(dir => ['blob', 'beacon'].map(topic => [`${topic} ${dir}`, sumOf(metrics, 'damselfly_gossip_messages_total', `direction="${dir}",topic="${topic}"`)]))),
    dhtSent: sumOf(metrics, 'damselfly_streams_total', 'protocol="dht",direction="outbound"'),
    dhtServed: sumOf(metrics, 'damselfly_streams_total', 'protocol="dht",direction="inbound"'),
    // kad-dht's own count of the requests it made and answered, by message type, and the node's own queries
    dhtByType: Object.fromEntries([
      ...Object.entries(sumsBy(metrics, 'libp2p_kad_dht_outbound_rpc_requests_total', 'libp2p_kad_dht_outbound_rpc_requests_total')).map(([k, v]) => [`made ${k}`, v]),
      ...Object.entries(sumsBy(metrics, 'libp2p_kad_dht_inbound_rpc_requests_total', 'libp2p_kad_dht_inbound_rpc_requests_total')).map(([k, v]) => [`served ${k}`, v]),
      ...Object.entries(sumsBy(metrics, 'libp2p_kad_dht_operations_total', 'operation')).map(([k, v]) => [`query ${k}`, v])
    ]),
    schedulerRequests: sumOf(metrics, 'damselfly_streams_total', 'protocol="schedule",direction="outbound"'),
    schedulerByKind: sumsBy(metrics, 'damselfly_schedule_requests_total', 'kind'),
    streamsOpened: sumOf(metrics, 'damselfly_streams_total'),
    streamsByProtocol: sumsBy(metrics, 'damselfly_streams_total', 'protocol'),
    announcementsWithheld: sumOf(metrics, 'damselfly_announcements_withheld_total'),
    connectionsOpened: sumOf(metrics, 'damselfly_connections_total'),
    // not control traffic: what the node's uplink carried, to see whose uplinks a swarm used
    uploadedBytes: sumOf(metrics, 'damselfly_uploaded_bytes_total'),
    connectionsOpen: sumOf(metrics, 'libp2p_connection_manager_connections', '="inbound"') + sumOf(metrics, 'libp2p_connection_manager_connections', '="outbound"')
  }
}

/** What the counters grew by between two readings; connections open is the later reading's. */
export function controlDelta (before, after) {
  const out = {}
  for (const [k, v] of Object.entries(after)) {
    if (k === 'connectionsOpen') out[k] = v
    else if (typeof v === 'number') out[k] = v - before[k]
    // a key first counted after the first reading (a protocol first used in the pull) grew from 0
    else out[k] = Object.fromEntries(Object.entries(v).map(([kk, vv]) => [kk, vv - (before[k]?.[kk] ?? 0)]))
  }
  return out
}

/** A node's control messages: gossip RPCs sent and received, DHT requests made and served, scheduler requests. */
export function controlMessages (c) {
  return c.gossipRpcsSent + c.gossipRpcsReceived + c.dhtSent + c.dhtServed + c.schedulerRequests
}
