// Cold start (issue 4): N nodes pull one image at the same moment, through
// Damselfly (a seed and N daemons) and directly from the registry, under the
// same caps; compared with the physical lower bound.
//
//   npm run bench -- --quick          N=5, a 64 MiB image: bench/results/quick.json
//   npm run bench                     N in 5,10,20, a 256 MiB image: bench/results/cold-start.json
//   options: --nodes 5,10 --size 128 (MiB) --node-rate 20MB --registry-rate 40MB
import { rename, writeFile, mkdir } from 'node:fs/promises'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as delay } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { loadavg } from 'node:os'
import { generateImage, pullImage } from '@damselfly/cli'
import { startBenchDaemon } from './lib/daemons.mjs'
import { pieceSizeFor } from '@damselfly/protocol'
import { startCappedProxy } from './lib/capped-proxy.mjs'
import { startDistributionRegistry } from './lib/distribution-registry.mjs'
import { cleanupAll, cleanupOnSignals, cpuSecondsOf, threadCpuOf, makeTempDir, peakRssOf, removeTempDir, stopChild, withDeadline } from './lib/processes.mjs'
import { machine } from './lib/report.mjs'

const MiB = 1024 * 1024
const MB = 1e6
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results')

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    nodes: { type: 'string' },
    size: { type: 'string' },
    'node-rate': { type: 'string', default: '20MB' },
    'registry-rate': { type: 'string', default: '40MB' },
    'seed-rate': { type: 'string' }
  }
})

/** '20MB' -> 20e6; '20MiB' -> 20 * 2^20; a plain number is bytes. */
function rate (text) {
  const m = /^(\d+(?:\.\d+)?)(MB|MiB|kB|KiB|GB)?$/.exec(text)
  if (m == null) throw new Error(`bad rate ${text}: use e.g. 20MB`)
  return Number(m[1]) * ({ kB: 1e3, KiB: 1024, MB: 1e6, MiB: MiB, GB: 1e9 }[m[2]] ?? 1)
}

const nodeCounts = opts.nodes != null ? opts.nodes.split(',').map(Number) : opts.quick ? [5] : [5, 10, 20]
const imageSize = (opts.size != null ? Number(opts.size) : opts.quick ? 64 : 256) * MiB
const nodeRateText = opts['node-rate']
const caps = { nodeDownBytesPerSecond: rate(nodeRateText), nodeUpBytesPerSecond: rate(nodeRateText), registryUpBytesPerSecond: rate(opts['registry-rate']), seedRate: opts['seed-rate'] ?? nodeRateText }
if (nodeCounts.some(n => !(n >= 1 && n <= 50)) || !(imageSize > 0)) throw new Error('--nodes: 1 to 50 each; --size: MiB > 0')

const seconds = ms => ms / 1000
function percentile (values, p) {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]
}
const f = (x, d = 2) => (x == null ? '?' : x.toFixed(d))

/** T_lb = max(S/B_down, S/B_reg, N*S/(B_reg + N*B_up)) + one piece of the largest blob at B_down. */
function lowerBound (image, n) {
  const S = image.totalBytes
  const { nodeDownBytesPerSecond: down, nodeUpBytesPerSecond: up, registryUpBytesPerSecond: reg } = caps
  const pieceSize = Math.max(...image.blobs.map(b => pieceSizeFor(b.size)))
  const terms = { download: S / down, registry: S / reg, swarm: n * S / (reg + n * up) }
  return { seconds: Math.max(...Object.values(terms)) + pieceSize / down, terms, pieceSize, pieceDelaySeconds: pieceSize / down }
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
    const t0 = performance.now()
    const done = await withDeadline(deadlineMs, `direct pulls (N=${n})`, signal => Promise.all(links.map(async link => {
      await pullImage({ mirror: link.host, registry: registry.host, name: image.name, tag: image.tag, signal })
      return performance.now() - t0
    })))
    return { ...timing(done), registry: registry.stats() }
  } finally {
    await Promise.all(links.map(l => l.close()))
  }
}

/** Until every node lists the seed among its peers (GET /api/v1/status, peers[].seed), at most 20 s. */
async function waitForSeed (nodes, seedId) {
  const deadline = Date.now() + 20_000
  const waiting = new Set(nodes)
  while (waiting.size > 0) {
    for (const node of [...waiting]) {
      try {
        const status = await (await fetch(`${node.api}/api/v1/status`, { signal: AbortSignal.timeout(2000) })).json()
        if (status.peers?.some(p => p.seed === true && p.peer === seedId)) waiting.delete(node)
      } catch {
        // not answering yet
      }
    }
    if (waiting.size === 0) return
    if (Date.now() > deadline) throw new Error(`${waiting.size} node(s) did not see the seed within 20 s`)
    await delay(200)
  }
}

/** Verified bytes a daemon got from the registry, the seed and other peers (its tasks), and what it uploaded (its metrics). */
async function bytesBySource (daemon, seedId, digests) {
  try {
    const get = async path => {
      const res = await fetch(`${daemon.api}${path}`, { signal: AbortSignal.timeout(5000) })
      if (!res.ok) throw new Error(`${path}: ${res.status}`)
      return res
    }
    const tasks = await (await get('/api/v1/tasks')).json()
    const metrics = await (await get('/metrics')).text()
    const out = { fromRegistry: 0, fromSeed: 0, fromPeers: 0 }
    for (const t of tasks) {
      if (!digests.has(t.digest)) continue
      const fromSeed = t.parents?.[seedId] ?? 0
      out.fromRegistry += t.bytesFromOrigin ?? 0
      out.fromSeed += fromSeed
      out.fromPeers += (t.bytesFromPeers ?? 0) - fromSeed
    }
    const counter = name => {
      const v = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(metrics)?.[1]
      return v != null ? Number(v) : undefined
    }
    return { ...out, uploadedBytes: counter('damselfly_uploaded_bytes_total'), discardedBytes: counter('damselfly_discarded_bytes_total') }
  } catch (err) {
    return { bytesBySourceError: err.message }
  }
}

/** A fresh seed and N fresh daemons; all N pull through their own mirror at once. */
async function p2pRun (n, image, registry, deadlineMs) {
  const root = await makeTempDir('damselfly-bench-swarm-')
  const daemons = []
  const capArgs = role => { const r = role === 'seed' ? caps.seedRate : nodeRateText; return ['--download-rate', r, '--upload-rate', r] }
  const start = async (name, role, args) => {
    const d = await startBenchDaemon(join(root, name), ['--insecure-registry', registry.host, ...capArgs(role), ...args], { timeoutMs: 30_000 })
    const daemon = { ...d, name, role }
    daemons.push(daemon)
    return daemon
  }
  try {
    const seed = await start('seed', 'seed', ['--seed'])
    const nodes = await Promise.all(Array.from({ length: n }, (_, i) => start(`node${i + 1}`, 'node', ['--bootstrap', seed.addrs[0]])))
    await waitForSeed(nodes, seed.peerId)
    const cpuBefore = new Map(await Promise.all(daemons.map(async d => [d, await cpuSecondsOf(d.child.pid)])))
    const threadsBefore = new Map(await Promise.all(daemons.map(async d => [d, await threadCpuOf(d.child.pid)])))
    registry.reset()
    const t0 = performance.now()
    const results = await withDeadline(deadlineMs, `p2p pulls (N=${n})`, signal => Promise.all(nodes.map(async node => {
      const r = await pullImage({ mirror: node.mirror, registry: registry.host, name: image.name, tag: image.tag, signal })
      const sources = {}
      for (const b of r.blobs) sources[b.source] = (sources[b.source] ?? 0) + b.size
      return { ms: performance.now() - t0, sources }
    })))
    const stats = registry.stats()
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
        ...await bytesBySource(d, seed.peerId, digests)
      }
    }))
    return { ...timing(results.map(r => r.ms)), registry: stats, daemons: perDaemon, sources: results.map((r, i) => ({ node: nodes[i].name, ...r.sources })) }
  } finally {
    await Promise.all(daemons.map(d => stopChild(d.child)))
    await removeTempDir(root)
  }
}

async function writeJson (file, data) {
  await mkdir(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(data, null, 2) + '\n')
  await rename(tmp, file)
}

function table (runs, image) {
  const head = ['N', 'run', 'p50 s', 'p95 s', 'max s', 'T_lb s', 'max/T_lb', 'registry MiB', 'x image', 'peak reg MB/s', 'reg requests']
  const rows = []
  for (const r of runs) {
    for (const [name, t] of [['direct', r.direct], ['p2p', r.p2p]]) {
      rows.push([String(r.nodes), name, f(t.p50), f(t.p95), f(t.max), f(r.lowerBound.seconds), f(t.max / r.lowerBound.seconds),
        f(t.registry.bytes / MiB, 1), f(t.registry.bytes / image.totalBytes), f(t.registry.peakBytesPerSecond / MB, 1), String(t.registry.requests)])
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = cells => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [line(head), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

async function main () {
  cleanupOnSignals()
  const started = performance.now()
  const loadBefore = loadavg()
  const work = await makeTempDir('damselfly-bench-image-')
  const image = await generateImage(join(work, 'layout'), { size: imageSize, name: 'bench/nginx-like', tag: 'v1', seed: 'damselfly-bench' })
  const upstream = await startDistributionRegistry()
  await upstream.push(join(work, 'layout'), image.tag, `${image.name}:${image.tag}`)
  const registry = await startCappedProxy({ target: upstream.host, rate: caps.registryUpBytesPerSecond })
  let runs
  try {
    runs = await measure(image, registry, upstream)
  } finally {
    await registry.close()
    await upstream.stop()
  }
  report(image, runs, started, loadBefore)
  const result = resultOf(image, runs, started, loadBefore)
  const file = join(RESULTS, opts.quick ? 'quick.json' : 'cold-start.json')
  await writeJson(file, result)
  console.log(`\nwrote ${file} (${f(result.wallSeconds, 0)} s in all)`)
}

async function measure (image, registry, upstream) {
  console.log(`cold start: image ${image.name}:${image.tag}, config + ${image.layers.length} uncompressed layers, ${f(image.totalBytes / MiB, 1)} MiB (${image.totalBytes} bytes)`)
  console.log(`caps: every node ${f(caps.nodeDownBytesPerSecond / MB, 0)} MB/s down and up, the seed ${caps.seedRate} (0: uncapped) (daemon --download-rate/--upload-rate; direct clients: a client-side token bucket);`)
  console.log(`      registry upload ${f(caps.registryUpBytesPerSecond / MB, 0)} MB/s shared (a token-bucket proxy in front of docker-registry ${upstream.host}); MB = 10^6 bytes`)
  const runs = []
  for (const n of nodeCounts) {
    const lb = lowerBound(image, n)
    // generous but bounded: direct needs N*S/B_reg at best
    const estimate = 6 * 1000 * Math.max(lb.seconds, n * image.totalBytes / caps.registryUpBytesPerSecond)
    const deadlineMs = Number.isFinite(estimate) ? Math.min(Math.max(60_000, estimate), 30 * 60_000) : 120_000
    console.log(`N=${n}: direct pulls...`)
    const direct = await directRun(n, image, registry, deadlineMs)
    console.log(`N=${n}: a seed and ${n} fresh daemons...`)
    const p2p = await p2pRun(n, image, registry, deadlineMs)
    runs.push({ nodes: n, lowerBound: lb, direct, p2p })
  }
  return runs
}

function report (image, runs, started, loadBefore) {
  console.log('')
  console.log(table(runs, image))
  console.log('')
  for (const r of runs) {
    console.log(`N=${r.nodes}: T_lb = max(S/B_down ${f(r.lowerBound.terms.download)}, S/B_reg ${f(r.lowerBound.terms.registry)}, N*S/(B_reg+N*B_up) ${f(r.lowerBound.terms.swarm)}) + one ${r.lowerBound.pieceSize / 1024} KiB piece ${f(r.lowerBound.pieceDelaySeconds, 3)} s`)
    console.log('  daemon   CPU s (pull)  main/V8 helpers/libuv  CPU s (total)  peak RSS MiB  MiB from registry  from seed  from peers  uploaded  discarded  X-Damselfly-Source of its blobs (MiB)')
    const mib = x => f(x == null ? undefined : x / MiB, 1)
    for (const d of r.p2p.daemons) {
      const src = r.p2p.sources.find(x => x.node === d.name)
      const label = src == null ? '' : Object.entries(src).filter(([k]) => k !== 'node').map(([k, v]) => `${k} ${mib(v)}`).join(', ')
      const t = d.pullCpuByThread
      const byThread = t == null ? '?' : `${f(t.main, 1)}/${f(t.v8, 1)}/${f(t.libuv, 1)}`
      console.log(`  ${d.name.padEnd(7)}  ${f(d.pullCpuSeconds).padStart(12)}  ${byThread.padStart(21)}  ${f(d.cpuSeconds).padStart(13)}  ${f(d.peakRssBytes / MiB, 0).padStart(12)}  ${mib(d.fromRegistry).padStart(17)}  ${mib(d.fromSeed).padStart(9)}  ${mib(d.fromPeers).padStart(10)}  ${mib(d.uploadedBytes).padStart(8)}  ${mib(d.discardedBytes).padStart(9)}  ${label}`)
    }
  }
  console.log(`\nload average (1, 5, 15 min) before ${loadBefore.map(x => f(x, 1)).join(' ')}, after ${loadavg().map(x => f(x, 1)).join(' ')} on ${machine().cpus} cores`)
}

function resultOf (image, runs, started, loadBefore) {
  const first = runs[0]
  return {
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
    caps,
    image: { name: image.name, tag: image.tag, manifestDigest: image.manifest.digest, blobs: image.blobs.map(b => ({ role: b.role, digest: b.digest, size: b.size })) },
    notes: 'registry egress: response body bytes the capped proxy in front of docker-registry sent (manifests, blobs); times from the moment all pulls start to each verified pull',
    runs,
    machine: { ...machine(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
    wallSeconds: seconds(performance.now() - started),
    date: new Date().toISOString()
  }
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
