// Cold start (issue 4): N nodes pull one image at the same moment, through
// Damselfly (a seed and N daemons) and directly from the registry, under the
// same caps; compared with the physical lower bound.
//
//   npm run bench -- --quick     N=5, a 64 MiB image: bench/results/quick.{json,md}
//   npm run bench                the published experiment scaled to this machine:
//                                an nginx-like image (500 MB / 16) at N = 5, 10, 20, 30 and a
//                                tensorflow-like one (3 GB / 16) at N = 5, 10:
//                                bench/results/cold-start.{json,md} and SVG charts
//   npm run bench -- --help      the flags (--nodes, --size, the caps)
import { writeFile, mkdir } from 'node:fs/promises'
import { join, dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { loadavg } from 'node:os'
import { generateImage, pullImage } from '@damselfly/cli'
import { MAX_PIECE_SIZE } from '@damselfly/protocol'
import { benchArgs, pieceSizeFlag, rateFlag, UsageError } from './lib/args.mjs'
import { startBenchDaemon, waitForSeed } from './lib/daemons.mjs'
import { getJson } from './lib/http-client.mjs'
import { startCappedProxy } from './lib/capped-proxy.mjs'
import { startDistributionRegistry } from './lib/distribution-registry.mjs'
import { cleanupAll, cleanupOnSignals, cpuSecondsOf, threadCpuOf, makeTempDir, peakRssOf, removeTempDir, stopChild, withDeadline } from './lib/processes.mjs'
import { busyFraction, bytesBySource, lowerBound, machine, machineCpu, percentile, sampleOf, writeResult } from './lib/report.mjs'
import { cdfPoints, lineChart } from './lib/charts.mjs'

const MiB = 1024 * 1024
const MB = 1e6
/** The published images (nginx about 500 MB, TensorFlow about 3 GB) are scaled by this for 2 cores. */
const SCALE = 16
/** The published run's caps; a run with others writes results of its own (resultName). */
const DEFAULT_NODE_RATE = '4MB'
const DEFAULT_REGISTRY_RATE = '8MB'

const USAGE = `Usage: npm run bench -- [--quick] [--nodes N,...] [--size MiB] [--node-rate RATE] [--registry-rate RATE] [--seed-rate RATE] [--piece-size KiB] [--out DIR]

  (no flags)           the published experiment scaled to this machine (about 20 minutes):
                       bench/results/cold-start.{json,md}
  --quick              N=5 and a 64 MiB image (under 3 minutes): bench/results/quick.{json,md}
  --nodes N,...        node counts, whole numbers 1..50, with one image (64 MiB unless --size)
  --size MiB           one image of this many MiB (N = 5, 10, 20, 30 unless --nodes)
                       (with either, or other caps than the defaults, the results go to
                       bench/results/cold-start-custom.{json,md}: the published run's stay)
  --node-rate RATE     every node's download and upload cap (default ${DEFAULT_NODE_RATE})
  --registry-rate RATE the registry's upload cap (default ${DEFAULT_REGISTRY_RATE})
  --seed-rate RATE     the seed's caps (default: the registry's rate)
  --piece-size KiB     the seed cuts every blob in pieces of this size (its --piece-size;
                       64..${MAX_PIECE_SIZE / 1024}; default: the protocol's rule). T_lb counts one such piece;
                       results go to bench/results/<name>-piece-<KiB>k.{json,md}
  --out DIR            write the results to DIR instead of bench/results

  RATE is bytes per second: 4MB (10^6), 4MiB, 500kB, 500KiB, 1GB, or a plain number.
`

const opts = benchArgs('bench', USAGE, {
  quick: { type: 'boolean', default: false },
  nodes: { type: 'string' },
  size: { type: 'string' },
  'node-rate': { type: 'string', default: DEFAULT_NODE_RATE },
  'registry-rate': { type: 'string', default: DEFAULT_REGISTRY_RATE },
  'seed-rate': { type: 'string' },
  'piece-size': { type: 'string' },
  out: { type: 'string' }
}, values => {
  if (values.out === '') throw new UsageError('--out: a directory')
  const pieceSize = pieceSizeFlag(values['piece-size'])
  const nodes = values.nodes?.split(',').map(Number)
  if (nodes != null && nodes.some(n => !(Number.isInteger(n) && n >= 1 && n <= 50))) throw new UsageError(`--nodes ${values.nodes}: whole numbers 1 to 50, separated by commas`)
  const sizeMiB = values.size != null ? Number(values.size) : undefined
  if (sizeMiB != null && !(sizeMiB > 0 && sizeMiB <= 16384)) throw new UsageError(`--size ${values.size}: a number of MiB above 0 and at most 16384`)
  // the seed stands where the registry's edge would: by default it gets the registry's rate
  const seedFlag = values['seed-rate'] != null ? '--seed-rate' : '--registry-rate'
  const seedRateText = values['seed-rate'] ?? values['registry-rate']
  const node = rateFlag('--node-rate', values['node-rate'])
  const caps = {
    nodeDownBytesPerSecond: node,
    nodeUpBytesPerSecond: node,
    registryUpBytesPerSecond: rateFlag('--registry-rate', values['registry-rate']),
    seedBytesPerSecond: rateFlag(seedFlag, seedRateText)
  }
  return { ...values, nodes, sizeMiB, caps, seedRateText, pieceSize }
})
const caps = opts.caps
const RESULTS = opts.out != null ? resolve(opts.out) : join(dirname(fileURLToPath(import.meta.url)), 'results')
/** The caps as the daemons' --download-rate and --upload-rate take them. */
const nodeRateText = opts['node-rate']
const seedRateText = opts.seedRateText

/** Results of a run not the published one (other N, size or caps) have files of their own: the published run's stay. */
function resultName () {
  if (opts.quick) return 'quick'
  const custom = opts.nodes != null || opts.size != null || opts['node-rate'] !== DEFAULT_NODE_RATE || opts['registry-rate'] !== DEFAULT_REGISTRY_RATE || opts['seed-rate'] != null
  return custom ? 'cold-start-custom' : 'cold-start'
}

/** What to run: images and, for each, the node counts. */
function scenarios () {
  if (opts.quick || opts.nodes != null || opts.size != null) {
    const nodes = opts.nodes ?? (opts.quick ? [5] : [5, 10, 20, 30])
    const size = (opts.sizeMiB ?? 64) * MiB
    return [{ key: 'nginx-like', title: `an image of ${size / MiB} MiB`, size, weights: [8, 4, 2, 1, 1], nodes }]
  }
  return [
    { key: 'nginx-like', title: `nginx-like: 500 MB / ${SCALE}`, size: Math.round(500e6 / SCALE), weights: [8, 4, 2, 1, 1], nodes: [5, 10, 20, 30] },
    { key: 'tensorflow-like', title: `tensorflow-like: 3 GB / ${SCALE}`, size: Math.round(3e9 / SCALE), weights: [10, 6, 4, 3, 2, 1, 1, 1], nodes: [5, 10] }
  ]
}


const seconds = ms => ms / 1000
const f = (x, d = 2) => (x == null ? '?' : x.toFixed(d))

function lowerBoundOf (image, n) {
  return lowerBound(image.blobs.map(b => b.size), n, { down: caps.nodeDownBytesPerSecond, up: caps.nodeUpBytesPerSecond, registry: caps.registryUpBytesPerSecond, seed: caps.seedBytesPerSecond, pieceSize: opts.pieceSize })
}

function timing (ms) {
  const s = ms.map(seconds)
  return { seconds: s, p50: percentile(s, 50), p95: percentile(s, 95), max: Math.max(...s) }
}

/** N clients pull straight from the registry proxy, each behind its own capped forwarder (its downlink). */
async function directRun (n, image, registry, deadlineMs) {
  const links = await Promise.all(Array.from({ length: n }, () => startCappedProxy({ target: registry.host, rate: caps.nodeDownBytesPerSecond })))
  try {
    registry.reset()
    const cpu0 = await machineCpu()
    const t0 = performance.now()
    const done = await withDeadline(deadlineMs, `direct pulls (N=${n})`, signal => Promise.all(links.map(async link => {
      await pullImage({ mirror: link.host, registry: registry.host, name: image.name, tag: image.tag, signal })
      return performance.now() - t0
    })))
    return { ...timing(done), registry: registry.stats(), machineCpuBusy: busyFraction(cpu0, await machineCpu()) }
  } finally {
    await Promise.all(links.map(l => l.close()))
  }
}

/** Verified bytes a daemon got from the registry, the seed and other peers (its tasks), and what it uploaded (its metrics). */
async function daemonReport (daemon, seedId, digests) {
  try {
    const get = async path => {
      const res = await fetch(`${daemon.api}${path}`, { signal: AbortSignal.timeout(5000) })
      if (!res.ok) throw new Error(`${path}: ${res.status}`)
      return res
    }
    const tasks = await (await get('/api/v1/tasks')).json()
    const metrics = await (await get('/metrics')).text()
    return {
      ...bytesBySource(tasks, seedId, digests),
      uploadedBytes: sampleOf(metrics, 'damselfly_uploaded_bytes_total'),
      discardedBytes: sampleOf(metrics, 'damselfly_discarded_bytes_total'),
      dhtLookups: sampleOf(metrics, 'damselfly_dht_queries_total', 'kind="find_providers"'),
      dhtProvides: sampleOf(metrics, 'damselfly_dht_queries_total', 'kind="provide"'),
      gossipReceived: { blob: sampleOf(metrics, 'damselfly_gossip_messages_total', 'direction="received",topic="blob"'), beacon: sampleOf(metrics, 'damselfly_gossip_messages_total', 'direction="received",topic="beacon"') }
    }
  } catch (err) {
    return { bytesBySourceError: err.message }
  }
}

/** A fresh seed and N fresh daemons; all N pull through their own mirror at once. */
async function p2pRun (n, image, registry, deadlineMs, tiny) {
  const root = await makeTempDir('damselfly-bench-swarm-')
  const daemons = []
  const capArgs = role => { const r = role === 'seed' ? seedRateText : nodeRateText; return ['--download-rate', r, '--upload-rate', r] }
  const start = async (name, role, args) => {
    const d = await startBenchDaemon(join(root, name), ['--insecure-registry', registry.host, ...capArgs(role), ...args], { timeoutMs: 30_000 })
    const daemon = { ...d, name, role }
    daemons.push(daemon)
    return daemon
  }
  try {
    const seed = await start('seed', 'seed', ['--seed', ...(opts.pieceSize != null ? ['--piece-size', String(opts.pieceSize)] : [])])
    // a few at a time: each start costs a CPU second or two, and 2 cores are shared
    // --seed-timeout 60s: on 2 cores shared by dozens of daemons a busy seed
    // answers late, and the default 5 s would send nodes to the registry
    // themselves: the run would measure the fallback under CPU starvation
    const nodes = []
    for (let i = 0; i < n; i += 4) {
      nodes.push(...await Promise.all(Array.from({ length: Math.min(4, n - i) }, (_, k) => start(`node${i + k + 1}`, 'node', ['--bootstrap', seed.addrs[0], '--seed-timeout', '60s']))))
    }
    await waitForSeed(nodes, seed.peerId)
    const cpuBefore = new Map(await Promise.all(daemons.map(async d => [d, await cpuSecondsOf(d.child.pid)])))
    const threadsBefore = new Map(await Promise.all(daemons.map(async d => [d, await threadCpuOf(d.child.pid)])))
    registry.reset()
    const cpu0 = await machineCpu()
    const t0 = performance.now()
    const results = await withDeadline(deadlineMs, `p2p pulls (N=${n})`, signal => Promise.all(nodes.map(async node => {
      try {
        const r = await pullImage({ mirror: node.mirror, registry: registry.host, name: image.name, tag: image.tag, signal })
        const sources = {}
        for (const b of r.blobs) sources[b.source] = (sources[b.source] ?? 0) + b.size
        return { ms: performance.now() - t0, sources }
      } catch (err) {
        // what the daemon's unfinished downloads looked like, before the daemons are stopped
        console.error(`${node.name}: pull failed after ${f((performance.now() - t0) / 1000, 1)} s: ${err.message}`)
        await printUnfinishedTasks(node)
        throw err
      }
    })))
    const stats = registry.stats()
    console.log(`N=${n}: p2p max ${f(Math.max(...results.map(r => r.ms)) / 1000)} s, registry ${f(stats.bytes / image.totalBytes)}x image`)
    const machineCpuBusy = busyFraction(cpu0, await machineCpu())
    const digests = new Set(image.blobs.map(b => b.digest))
    const perDaemon = await Promise.all(daemons.map(async d => {
      const cpu = await cpuSecondsOf(d.child.pid)
      const before = cpuBefore.get(d)
      const threads = await threadCpuOf(d.child.pid)
      const threadsAtStart = threadsBefore.get(d)
      return {
        name: d.name,
        role: d.role,
        cpuSeconds: cpu,
        pullCpuSeconds: cpu != null && before != null ? cpu - before : undefined,
        pullCpuByThread: threads != null && threadsAtStart != null ? Object.fromEntries(Object.entries(threads).map(([k, v]) => [k, v - threadsAtStart[k]])) : undefined,
        peakRssBytes: await peakRssOf(d.child.pid),
        ...await daemonReport(d, seed.peerId, digests)
      }
    }))
    const oneByte = tiny != null ? await oneByteBlob(nodes, registry, tiny) : undefined
    return { ...timing(results.map(r => r.ms)), registry: stats, machineCpuBusy, daemons: perDaemon, sources: results.map((r, i) => ({ node: nodes[i].name, ...r.sources })), oneByte }
  } finally {
    await Promise.all(daemons.map(d => stopChild(d.child)))
    await removeTempDir(root)
  }
}

/** A node's downloads that are not complete, as its control API describes them (for a failed pull). */
async function printUnfinishedTasks (node) {
  try {
    const tasks = await getJson(`${node.api}/api/v1/tasks`, AbortSignal.timeout(5000))
    for (const t of tasks.filter(t => t.state !== 'complete')) console.error(`  ${node.name} task: ${JSON.stringify(t).slice(0, 1500)}`)
  } catch (err) {
    console.error(`  ${node.name}: its tasks could not be read: ${err.message}`)
  }
}

/**
 * A 1-byte blob through the mirror: the first node GETs it while nobody holds
 * it (the seed fetches it from the registry: the cold case); then every other
 * node, one at a time, GETs it through its own mirror from a peer. Each is
 * timed from request to last byte, uncapped by anything but the daemons'
 * rate limits.
 */
async function oneByteBlob (nodes, registry, tiny) {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), 60_000)
  try {
    const get = async node => {
      const t0 = performance.now()
      const res = await fetch(`http://${node.mirror}/v2/${tiny.name}/blobs/${tiny.digest}?ns=${registry.host}`, { signal: ac.signal })
      const body = Buffer.from(await res.arrayBuffer())
      const ms = performance.now() - t0
      const ok = res.status === 200 && `sha256:${createHash('sha256').update(body).digest('hex')}` === tiny.digest
      return { node: node.name, ms, source: res.headers.get('x-damselfly-source'), ok }
    }
    const cold = await get(nodes[0])
    if (!cold.ok) throw new Error(`the first GET of the 1-byte blob, through the seed, failed (source ${cold.source})`)
    const samples = []
    for (const node of nodes.slice(1)) samples.push(await get(node))
    const ms = samples.filter(x => x.ok).map(x => x.ms)
    return { cold, samples, p50Ms: ms.length > 0 ? percentile(ms, 50) : undefined, maxMs: ms.length > 0 ? Math.max(...ms) : undefined, failed: samples.filter(x => !x.ok).length }
  } catch (err) {
    return { error: err.message }
  } finally {
    clearTimeout(timer)
  }
}

/** An OCI layout holding one image whose only layer is the single byte "x". */
async function writeTinyLayout (dir) {
  const blobs = join(dir, 'blobs', 'sha256')
  await mkdir(blobs, { recursive: true })
  const put = async bytes => {
    const hex = createHash('sha256').update(bytes).digest('hex')
    await writeFile(join(blobs, hex), bytes)
    return { digest: `sha256:${hex}`, size: bytes.length }
  }
  const layer = await put(Buffer.from('x'))
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })))
  const manifest = await put(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }]
  })))
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }]
  }))
  return { name: 'bench/one-byte', tag: 'v1', digest: layer.digest }
}

function table (runs, image) {
  const head = ['N', 'run', 'p50 s', 'p95 s', 'max s', 'T_lb s', 'max/T_lb', 'registry MiB', 'x image', 'peak reg MB/s', 'reg requests', 'machine CPU']
  const rows = []
  for (const r of runs) {
    for (const [name, t] of [['direct', r.direct], ['p2p', r.p2p]]) {
      rows.push([String(r.nodes), name, f(t.p50), f(t.p95), f(t.max), f(r.lowerBound.seconds), f(t.max / r.lowerBound.seconds),
        f(t.registry.bytes / MiB, 1), f(t.registry.bytes / image.totalBytes), f(t.registry.peakBytesPerSecond / MB, 1), String(t.registry.requests),
        t.machineCpuBusy == null ? '?' : `${f(100 * t.machineCpuBusy, 0)}%`])
    }
  }
  return { head, rows }
}

const mean = xs => xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length
const maxOf = xs => xs.length === 0 ? undefined : Math.max(...xs)

/** CPU-seconds over the pull and peak RSS of the seed and of the nodes in one P2P run (direct pulls run no daemon). */
function daemonFigures (r) {
  const daemons = r.p2p.daemons ?? []
  const seed = daemons.find(d => d.role === 'seed')
  const nodes = daemons.filter(d => d.role === 'node')
  const cpu = nodes.map(d => d.pullCpuSeconds).filter(x => x != null)
  const rss = nodes.map(d => d.peakRssBytes).filter(x => x != null)
  return {
    nodeDaemons: nodes.length,
    seedCpuSeconds: seed?.pullCpuSeconds,
    meanNodeCpuSeconds: mean(cpu),
    maxNodeCpuSeconds: maxOf(cpu),
    seedPeakRssBytes: seed?.peakRssBytes,
    meanNodePeakRssBytes: mean(rss),
    maxNodePeakRssBytes: maxOf(rss)
  }
}

function daemonTable (runs) {
  const head = ['N', 'daemons', 'seed CPU s', 'node CPU s mean', 'node CPU s max', 'seed peak RSS MiB', 'node peak RSS MiB mean', 'node peak RSS MiB max']
  const mib = x => f(x == null ? undefined : x / MiB, 0)
  const rows = runs.map(r => {
    const d = daemonFigures(r)
    return [String(r.nodes), `1 seed, ${d.nodeDaemons} nodes`, f(d.seedCpuSeconds), f(d.meanNodeCpuSeconds), f(d.maxNodeCpuSeconds), mib(d.seedPeakRssBytes), mib(d.meanNodePeakRssBytes), mib(d.maxNodePeakRssBytes)]
  })
  return { head, rows }
}

function textTable ({ head, rows }) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = cells => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [line(head), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

function markdownTable ({ head, rows }) {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 1 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
}

/** A run is CPU-bound when the machine was this busy during it: its times then measure the machine. */
const CPU_BOUND = 0.85

async function main () {
  cleanupOnSignals()
  const started = performance.now()
  const loadBefore = loadavg()
  const work = await makeTempDir('damselfly-bench-image-')
  const upstream = await startDistributionRegistry()
  const registry = await startCappedProxy({ target: upstream.host, rate: caps.registryUpBytesPerSecond })
  const results = []
  const name = `${resultName()}${opts.pieceSize != null ? `-piece-${opts.pieceSize / 1024}k` : ''}`
  /** Writes what has been measured so far: a run that dies later still leaves its finished runs. */
  const save = async complete => {
    const measured = results.filter(x => x.runs.length > 0)
    const result = { complete, ...resultOf(measured, started, loadBefore) }
    await writeResult(join(RESULTS, `${name}.json`), result)
    await writeResult(join(RESULTS, `${name}.md`), markdown(measured, result, name))
    for (const [file, svg] of charts(measured, name)) await writeResult(join(RESULTS, file), svg)
    return result
  }
  try {
    const tiny = await writeTinyLayout(join(work, 'one-byte'))
    await upstream.push(join(work, 'one-byte'), tiny.tag, `${tiny.name}:${tiny.tag}`)
    for (const sc of scenarios()) {
      const image = await generateImage(join(work, sc.key), { size: sc.size, weights: sc.weights, name: `bench/${sc.key}`, tag: 'v1', seed: 'damselfly-bench' })
      await upstream.push(join(work, sc.key), image.tag, `${image.name}:${image.tag}`)
      const entry = { scenario: sc, image, runs: [] }
      results.push(entry)
      await measure(sc, image, registry, upstream, results.length === 1 ? tiny : undefined, async run => {
        entry.runs.push(run)
        await save(false)
      })
      report(sc, image, entry.runs)
    }
  } finally {
    await registry.close()
    await upstream.stop()
  }
  console.log(`\nload average (1, 5, 15 min) before ${loadBefore.map(x => f(x, 1)).join(' ')}, after ${loadavg().map(x => f(x, 1)).join(' ')} on ${machine().cpus} cores`)
  const result = await save(true)
  const shown = relative(process.cwd(), join(RESULTS, name))
  console.log(`\nwrote ${shown.startsWith('..') ? join(RESULTS, name) : shown}.json, ${name}.md and charts (${f(result.wallSeconds, 0)} s in all)`)
}

/** Runs direct and P2P pulls for each N of the scenario, handing each finished pair to onRun. */
async function measure (sc, image, registry, upstream, tiny, onRun) {
  console.log(`\n${sc.title}: ${image.name}:${image.tag}, config + ${image.layers.length} uncompressed layers, ${f(image.totalBytes / MiB, 1)} MiB (${image.totalBytes} bytes)`)
  console.log(`caps: every node ${f(caps.nodeDownBytesPerSecond / MB, 1)} MB/s down and up, the seed ${f(caps.seedBytesPerSecond / MB, 1)} MB/s (daemon --download-rate/--upload-rate; direct clients: a token-bucket forwarder each);`)
  console.log(`      registry upload ${f(caps.registryUpBytesPerSecond / MB, 1)} MB/s shared (a token-bucket proxy in front of docker-registry ${upstream.host}); MB = 10^6 bytes`)
  for (const n of sc.nodes) {
    const lb = lowerBoundOf(image, n)
    // generous but bounded: direct needs N*S/B_reg at best
    const estimate = 6 * 1000 * Math.max(lb.seconds, n * image.totalBytes / caps.registryUpBytesPerSecond)
    const deadlineMs = Number.isFinite(estimate) ? Math.min(Math.max(60_000, estimate), 30 * 60_000) : 120_000
    console.log(`N=${n}: direct pulls...`)
    const direct = await directRun(n, image, registry, deadlineMs)
    console.log(`N=${n}: a seed and ${n} fresh daemons...`)
    const p2p = await p2pRun(n, image, registry, deadlineMs, n >= 2 ? tiny : undefined)
    if (p2p.oneByte != null) tiny = undefined
    await onRun({ nodes: n, lowerBound: lb, direct, p2p })
  }
}

function report (sc, image, runs) {
  console.log('')
  console.log(textTable(table(runs, image)))
  console.log('')
  for (const r of runs) {
    console.log(`N=${r.nodes}: T_lb = max(S/B_down ${f(r.lowerBound.terms.download)}, S/B_reg ${f(r.lowerBound.terms.registry)}, N*S/(B_reg+N*B_up) ${f(r.lowerBound.terms.swarm)}) + one ${r.lowerBound.pieceSize / 1024} KiB piece ${f(r.lowerBound.pieceDelaySeconds, 3)} s`)
    if ((r.p2p.machineCpuBusy ?? 0) > CPU_BOUND) console.log(`  the machine's CPU was ${f(100 * r.p2p.machineCpuBusy, 0)}% busy: this run measures the CPU, not the swarm`)
    console.log('  daemon   CPU s (pull)  main/V8 helpers/libuv  CPU s (total)  peak RSS MiB  MiB from registry  from seed  from peers  uploaded  discarded  DHT lookups/provides  gossip in (blob/beacon)  X-Damselfly-Source of its blobs (MiB)')
    const mib = x => f(x == null ? undefined : x / MiB, 1)
    for (const d of r.p2p.daemons) {
      const src = r.p2p.sources.find(x => x.node === d.name)
      const label = src == null ? '' : Object.entries(src).filter(([k]) => k !== 'node').map(([k, v]) => `${k} ${mib(v)}`).join(', ')
      const t = d.pullCpuByThread
      const byThread = t == null ? '?' : `${f(t.main, 1)}/${f(t.v8, 1)}/${f(t.libuv, 1)}`
      console.log(`  ${d.name.padEnd(7)}  ${f(d.pullCpuSeconds).padStart(12)}  ${byThread.padStart(21)}  ${f(d.cpuSeconds).padStart(13)}  ${f(d.peakRssBytes / MiB, 0).padStart(12)}  ${mib(d.fromRegistry).padStart(17)}  ${mib(d.fromSeed).padStart(9)}  ${mib(d.fromPeers).padStart(10)}  ${mib(d.uploadedBytes).padStart(8)}  ${mib(d.discardedBytes).padStart(9)}  ${`${d.dhtLookups ?? '?'}/${d.dhtProvides ?? '?'}`.padStart(20)}  ${`${d.gossipReceived?.blob ?? '?'}/${d.gossipReceived?.beacon ?? '?'}`.padStart(23)}  ${label}`)
    }
    const ob = r.p2p.oneByte
    if (ob != null) console.log(ob.error != null ? `  1-byte blob from a peer: failed: ${ob.error}` : `  1-byte blob through the mirror from a peer: p50 ${f(ob.p50Ms, 1)} ms, max ${f(ob.maxMs, 1)} ms over ${ob.samples.length} node${ob.samples.length === 1 ? '' : 's'} (sources: ${[...new Set(ob.samples.map(x => x.source))].join(', ')}; target < 50 ms); the first GET, through the seed from the registry, ${f(ob.cold.ms, 1)} ms`)
  }
}

function summaryOf (r, image) {
  return {
    nodes: r.nodes,
    lowerBoundSeconds: r.lowerBound.seconds,
    p2p: { p50: r.p2p.p50, p95: r.p2p.p95, max: r.p2p.max, maxOverLowerBound: r.p2p.max / r.lowerBound.seconds, registryEgressBytes: r.p2p.registry.bytes, registryEgressOverImage: r.p2p.registry.bytes / image.totalBytes, registryPeakBytesPerSecond: r.p2p.registry.peakBytesPerSecond, machineCpuBusy: r.p2p.machineCpuBusy, cpuBound: (r.p2p.machineCpuBusy ?? 0) > CPU_BOUND, ...daemonFigures(r) },
    direct: { p50: r.direct.p50, p95: r.direct.p95, max: r.direct.max, maxOverLowerBound: r.direct.max / r.lowerBound.seconds, registryEgressBytes: r.direct.registry.bytes, registryEgressOverImage: r.direct.registry.bytes / image.totalBytes, registryPeakBytesPerSecond: r.direct.registry.peakBytesPerSecond, machineCpuBusy: r.direct.machineCpuBusy }
  }
}

function resultOf (results, started, loadBefore) {
  const first = results[0].runs[0]
  const image = results[0].image
  const oneByte = results.flatMap(x => x.runs).map(r => r.p2p.oneByte).find(o => o != null)
  return {
    // the first run, flat, as issue 4 asks of quick.json
    nodes: first.nodes,
    imageBytes: image.totalBytes,
    registryEgressBytes: first.p2p.registry.bytes,
    directRegistryEgressBytes: first.direct.registry.bytes,
    p2pMaxSeconds: first.p2p.max,
    directMaxSeconds: first.direct.max,
    lowerBoundSeconds: first.lowerBound.seconds,
    p2pP50Seconds: first.p2p.p50,
    p2pP95Seconds: first.p2p.p95,
    directP50Seconds: first.direct.p50,
    directP95Seconds: first.direct.p95,
    p2pMaxOverLowerBound: first.p2p.max / first.lowerBound.seconds,
    directMaxOverLowerBound: first.direct.max / first.lowerBound.seconds,
    registryPeakBytesPerSecond: first.p2p.registry.peakBytesPerSecond,
    directRegistryPeakBytesPerSecond: first.direct.registry.peakBytesPerSecond,
    oneByteFromPeerMs: oneByte == null ? undefined : { p50: oneByte.p50Ms, max: oneByte.maxMs, samples: oneByte.samples?.length, failed: oneByte.failed, error: oneByte.error },
    oneByteThroughSeedMs: oneByte?.cold?.ms,
    caps,
    pieceSize: opts.pieceSize ?? 'the protocol\'s rule',
    scale: opts.quick || opts.nodes != null || opts.size != null ? undefined : `images are the published sizes divided by ${SCALE}`,
    notes: 'registry egress: response body bytes the capped proxy in front of docker-registry sent (manifests, blobs); times from the moment all pulls start to each verified pull; machineCpuBusy: share of the whole machine\'s CPU busy during the pulls (/proc/stat)',
    images: results.map(x => ({
      key: x.scenario.key,
      title: x.scenario.title,
      image: { name: x.image.name, tag: x.image.tag, bytes: x.image.totalBytes, manifestDigest: x.image.manifest.digest, blobs: x.image.blobs.map(b => ({ role: b.role, digest: b.digest, size: b.size })) },
      summary: x.runs.map(r => summaryOf(r, x.image)),
      runs: x.runs
    })),
    machine: { ...machine(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
    wallSeconds: seconds(performance.now() - started),
    date: new Date().toISOString()
  }
}

function markdown (results, result, name) {
  const out = [`# Cold start: ${name === 'quick' ? 'quick run' : 'the published experiment, scaled'}`, '']
  out.push(`Measured ${result.date} on ${result.machine.cpus} cores (${result.machine.cpuModel}), Node ${result.machine.node}; \`npm run bench${name === 'quick' ? ' -- --quick' : ''}\`.`)
  out.push(`Caps: every node ${f(caps.nodeDownBytesPerSecond / MB, 1)} MB/s down and up; the seed ${f(caps.seedBytesPerSecond / MB, 1)} MB/s; the registry ${f(caps.registryUpBytesPerSecond / MB, 1)} MB/s upload shared by all (MB = 10^6 bytes).`)
  if (result.scale != null) out.push(`Sizes: ${result.scale}.`)
  if (!result.complete) out.push('**Partial**: written while the run was still going, or left by a run that stopped early; only the runs below finished.')
  out.push('"machine CPU" is how busy the whole machine was during the pulls: above 85% a run measures the CPU rather than the swarm.', '')
  for (const x of results) {
    out.push(`## ${x.scenario.title}: ${f(x.image.totalBytes / MiB, 1)} MiB in ${x.image.blobs.length} blobs`, '')
    out.push(markdownTable(table(x.runs, x.image)), '')
    out.push('Per daemon in the P2P runs: CPU-seconds over the pull (all its threads, from /proc) and peak RSS over its life (VmHWM). Direct pulls run no daemon.', '')
    out.push(markdownTable(daemonTable(x.runs)), '')
    const ob = x.runs.map(r => r.p2p.oneByte).find(o => o != null && o.error == null)
    if (ob != null) out.push(`A 1-byte blob through the mirror from a peer: p50 ${f(ob.p50Ms, 1)} ms, max ${f(ob.maxMs, 1)} ms over ${ob.samples.length} node${ob.samples.length === 1 ? '' : 's'} (target under 50 ms); the first GET, when only the registry held it (through the seed), took ${f(ob.cold.ms, 1)} ms.`, '')
    out.push(`![completion-time CDF](${name}-cdf-${x.scenario.key}.svg)`, '')
  }
  out.push(`![registry egress against N](${name}-egress.svg)`, '')
  return out.join('\n') + '\n'
}

function charts (results, name) {
  const out = []
  for (const x of results) {
    const series = []
    for (const r of x.runs) {
      series.push({ label: `P2P, N=${r.nodes}`, points: cdfPoints(r.p2p.seconds), step: true })
    }
    x.runs.forEach(r => {
      series.push({ label: `direct, N=${r.nodes}`, points: cdfPoints(r.direct.seconds), step: true, dashed: true })
    })
    // the same color for one N, solid for P2P and dashed for direct
    const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']
    series.forEach((s, i) => { s.color = colors[i % x.runs.length] })
    out.push([`${name}-cdf-${x.scenario.key}.svg`, lineChart({
      title: `${x.scenario.title}: completion time of every node`,
      xLabel: 'seconds from the moment all pulls start',
      yLabel: 'fraction of nodes done',
      series,
      marks: x.runs.map(r => ({ x: r.lowerBound.seconds, label: `T_lb N=${r.nodes}` })).filter((m, i, a) => a.findIndex(o => Math.abs(o.x - m.x) < 0.01) === i),
      yMax: 1
    })])
  }
  const egress = []
  for (const x of results) {
    egress.push({ label: `P2P, ${x.scenario.key}`, points: x.runs.map(r => [r.nodes, r.p2p.registry.bytes / x.image.totalBytes]) })
    egress.push({ label: `direct, ${x.scenario.key}`, points: x.runs.map(r => [r.nodes, r.direct.registry.bytes / x.image.totalBytes]), dashed: true })
  }
  out.push([`${name}-egress.svg`, lineChart({ title: 'Registry egress against the number of nodes', xLabel: 'nodes pulling at once (N)', yLabel: 'registry egress / image size', series: egress })])
  return out
}

try {
  await main()
} catch (err) {
  console.error(`bench failed: ${err.stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanupAll()
  // a pull cut off by its deadline may hold a socket open: do not wait for it
  process.exit()
}
