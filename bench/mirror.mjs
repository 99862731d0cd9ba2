// The registry mirror's own costs, measured against plain Node in the same run:
//   1. throughput: a cached blob served by the daemon's mirror port, against
//      plain Node http (fs.createReadStream piped into the response) serving
//      the same file from its own process; target >= 80%;
//   2. memory: the peak RSS (VmHWM) of a daemon while a blob it does not hold
//      streams through its mirror port from a seed; target <= 200 MiB;
//   3. the access check on the first byte: a cached blob asked for under a
//      repository the registry has not been asked about yet (one HEAD to it),
//      against one it answered for lately.
// The "registry" is a plain HTTP server that answers every path with the blob,
// which is all a seed needs of /v2/<name>/blobs/<digest>.
//
//   npm run bench:mirror                   1 GiB cached, 2 GiB streamed, 3 runs
//   npm run bench:mirror -- --quick        256 MiB cached, 512 MiB streamed, 2 runs
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startBenchDaemon } from './lib/daemons.mjs'
import { drain, getJson, pollUntil } from './lib/http-client.mjs'
import { createBlob, startOrigin } from './lib/origin.mjs'
import { cleanupAll, cleanupOnSignals, makeTempDir, nextMessage, peakRssOf, spawnNode, stopChild, track, wasInterrupted, withDeadline } from './lib/processes.mjs'
import { benchArgs, UsageError } from './lib/args.mjs'
import { formatSize, machine, mibps, writeResult } from './lib/report.mjs'

const MiB = 1024 * 1024
const THROUGHPUT_TARGET = 0.8
const RSS_TARGET = 200 * MiB
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'mirror.json')
const STATIC_SERVER = fileURLToPath(new URL('./lib/static-server.mjs', import.meta.url))

const HELP = `Usage: npm run bench:mirror -- [--quick] [--size MiB] [--stream-size MiB] [--runs N]

  --size MiB         the cached blob (default 1024; 256 with --quick)
  --stream-size MiB  the blob streamed through a daemon for peak RSS (default 2048; 512 with --quick)
  --runs N           timed downloads of each server, best reported (default 3; 2 with --quick)
`

function options () {
  return benchArgs('bench:mirror', HELP, {
    quick: { type: 'boolean', default: false },
    size: { type: 'string' },
    'stream-size': { type: 'string' },
    runs: { type: 'string' }
  }, values => {
    const size = Number(values.size ?? (values.quick ? 256 : 1024))
    const streamSize = Number(values['stream-size'] ?? (values.quick ? 512 : 2048))
    const runs = Number(values.runs ?? (values.quick ? 2 : 3))
    for (const [name, v, max] of [['--size', size, 8192], ['--stream-size', streamSize, 16384], ['--runs', runs, 20]]) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new UsageError(`${name} must be an integer 1..${max}`)
    }
    return { size: size * MiB, streamSize: streamSize * MiB, runs, timeoutMs: 120_000 + (size + streamSize) * 200 }
  })
}

function startDaemon (dataDir, args, signal) {
  return startBenchDaemon(dataDir, args, { signal })
}

/** One timed download of `url`, which must be `size` bytes. */
async function timed (label, url, size, signal) {
  const r = await drain(url, signal)
  if (r.bytes !== size) throw new Error(`${label}: got ${r.bytes} bytes, expected ${size}`)
  console.log(`  ${label.padEnd(34)} ${mibps(size / r.seconds).padStart(7)} MiB/s  (${r.seconds.toFixed(2)} s)`)
  return { bytesPerSecond: size / r.seconds, headers: r.headers }
}

async function throughput (dir, opts, signal) {
  const blob = await createBlob(join(dir, 'cached'), opts.size)
  const origin = await startOrigin(blob)
  const host = new URL(origin.url).host
  const plain = spawnNode([STATIC_SERVER, blob.path], { ipc: true })
  track(plain)
  let daemon
  try {
    const { url } = await nextMessage(plain, 'ready', signal)
    daemon = await startDaemon(join(dir, 'cached-daemon'), ['--seed', '--insecure-registry', host, '--default-registry', host], signal)
    const mirrorUrl = `http://${daemon.mirror}/v2/bench/blob/blobs/${blob.digest}`
    // the first request pulls the blob from the "registry"; the timed ones are served from the cache
    const warm = await drain(mirrorUrl, signal)
    if (warm.bytes !== blob.size) throw new Error(`warm-up got ${warm.bytes} bytes`)
    await pollUntil(async () => (await getJson(`${daemon.api}/api/v1/tasks/${blob.digest}`, signal)).state === 'complete' ? true : undefined, signal)
    // rounds alternate, so drift of the machine touches both alike
    const node = { runs: [] }
    const mirror = { runs: [] }
    for (let round = 0; round < opts.runs; round++) {
      const a = await timed('plain Node http (fs stream)', url, blob.size, signal)
      const b = await timed('damselfly mirror, cached', mirrorUrl, blob.size, signal)
      if (b.headers['x-damselfly-source'] !== 'cache') throw new Error(`the mirror said source ${b.headers['x-damselfly-source']}, not cache`)
      node.runs.push(a.bytesPerSecond)
      mirror.runs.push(b.bytesPerSecond)
    }
    const best = runs => Math.max(...runs)
    const access = await accessCost(daemon, blob, origin, signal)
    return { blobBytes: blob.size, plainBytesPerSecond: best(node.runs), mirrorBytesPerSecond: best(mirror.runs), plainRuns: node.runs, mirrorRuns: mirror.runs, access }
  } finally {
    await Promise.all([stopChild(plain), daemon != null ? stopChild(daemon.child) : undefined])
    await origin.close()
  }
}

/** Milliseconds from a 1-byte Range GET of `url` to its byte. */
async function firstByteMs (url, signal) {
  const started = performance.now()
  const res = await fetch(url, { headers: { range: 'bytes=0-0' }, signal })
  if (res.status !== 206) throw new Error(`${url}: ${res.status}`)
  await res.arrayBuffer()
  return performance.now() - started
}

/**
 * What the mirror's access check costs a client on its first byte, on a
 * cached blob: a repository the registry has not been asked about yet
 * (one HEAD to it) against one it answered for lately (none), alternating.
 */
async function accessCost (daemon, blob, origin, signal) {
  const rounds = 20
  const fresh = []
  const known = []
  const requestsBefore = origin.counters.requests
  for (let i = 0; i < rounds; i++) {
    fresh.push(await firstByteMs(`http://${daemon.mirror}/v2/bench/fresh${i}/blobs/${blob.digest}`, signal))
    known.push(await firstByteMs(`http://${daemon.mirror}/v2/bench/blob/blobs/${blob.digest}`, signal))
  }
  const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const registryRequests = origin.counters.requests - requestsBefore
  console.log(`  first byte of a cached blob: ${median(known).toFixed(2)} ms (repository checked lately), ${median(fresh).toFixed(2)} ms (first request for the repository; ${registryRequests} registry requests for ${rounds})`)
  return { rounds, knownFirstByteMs: median(known), freshFirstByteMs: median(fresh), registryRequests }
}

async function memory (dir, opts, signal) {
  const blob = await createBlob(join(dir, 'streamed'), opts.streamSize)
  const origin = await startOrigin(blob)
  const host = new URL(origin.url).host
  let seed, node
  try {
    seed = await startDaemon(join(dir, 'stream-seed'), ['--seed', '--insecure-registry', host], signal)
    node = await startDaemon(join(dir, 'stream-node'), ['--bootstrap', seed.addrs[0], '--insecure-registry', host, '--default-registry', host], signal)
    await pollUntil(async () => (await getJson(`${node.api}/api/v1/status`, signal)).peers.some(p => p.peer === seed.peerId && p.seed) ? true : undefined, signal)
    const before = await peakRssOf(node.child.pid)
    // what the memory is, sampled from /metrics while the blob streams: the sample with the largest RSS is kept
    let atPeak
    const sampler = setInterval(() => {
      fetch(`${node.api}/metrics`, { signal: AbortSignal.timeout(2000) }).then(res => res.text()).then(text => {
        const kinds = Object.fromEntries([...text.matchAll(/^damselfly_process_memory_bytes\{kind="(\w+)"\} (\d+)$/gm)].map(m => [m[1], Number(m[2])]))
        if (atPeak == null || kinds.rss > atPeak.rss) atPeak = kinds
      }).catch(() => {})
    }, 250)
    // cold: the node fetches from the seed, which pulls from the "registry", while the client streams
    const r = await drain(`http://${node.mirror}/v2/bench/blob/blobs/${blob.digest}`, signal).finally(() => clearInterval(sampler))
    if (r.bytes !== blob.size) throw new Error(`streamed ${r.bytes} bytes, expected ${blob.size}`)
    const [nodePeak, seedPeak] = await Promise.all([peakRssOf(node.child.pid), peakRssOf(seed.child.pid)])
    console.log(`  streamed ${formatSize(blob.size)} through a daemon (source ${r.headers['x-damselfly-source']}) at ${mibps(blob.size / r.seconds)} MiB/s, first byte after ${(r.firstByteSeconds * 1000).toFixed(0)} ms`)
    // the registry's own time to first byte, for comparison (the whole body is read: the server is single-threaded with this client)
    const direct = await drain(`${origin.url}`, signal)
    console.log(`  the "registry" directly: first byte after ${(direct.firstByteSeconds * 1000).toFixed(0)} ms`)
    return { blobBytes: blob.size, source: r.headers['x-damselfly-source'], seconds: r.seconds, firstByteSeconds: r.firstByteSeconds, directFirstByteSeconds: direct.firstByteSeconds, nodePeakRssBytes: nodePeak, nodeRssBeforeBytes: before, seedPeakRssBytes: seedPeak, nodeMemoryAtPeak: atPeak }
  } finally {
    await Promise.all([seed != null ? stopChild(seed.child) : undefined, node != null ? stopChild(node.child) : undefined])
    await origin.close()
  }
}

async function main () {
  const opts = options()
  const host = machine()
  console.log(`bench:mirror  cached ${formatSize(opts.size)}, streamed ${formatSize(opts.streamSize)}, ${opts.runs} run(s)`)
  console.log(`machine: ${host.cpus} x ${host.cpuModel}, ${host.memoryGiB} GiB, ${host.platform}, Node ${host.node}\n`)
  const dir = await makeTempDir('damselfly-bench-mirror-')
  await mkdir(join(dir, 'cached'))
  await mkdir(join(dir, 'streamed'))
  const t = await withDeadline(opts.timeoutMs, 'throughput', signal => throughput(dir, opts, signal))
  const m = await withDeadline(opts.timeoutMs, 'memory', signal => memory(dir, opts, signal))
  const ratio = t.mirrorBytesPerSecond / t.plainBytesPerSecond
  const fmt = b => (b == null ? '?' : `${(b / MiB).toFixed(0)} MiB`)
  console.log('')
  console.log(`cached ${formatSize(t.blobBytes)}: plain Node http ${mibps(t.plainBytesPerSecond)} MiB/s, damselfly mirror ${mibps(t.mirrorBytesPerSecond)} MiB/s`)
  console.log(`  ratio ${ratio.toFixed(3)}  (target >= ${THROUGHPUT_TARGET})  ${ratio >= THROUGHPUT_TARGET ? 'PASS' : 'BELOW TARGET'}`)
  console.log(`streamed ${formatSize(m.blobBytes)} through a daemon: its peak RSS ${fmt(m.nodePeakRssBytes)} (${fmt(m.nodeRssBeforeBytes)} before), the seed's ${fmt(m.seedPeakRssBytes)}`)
  if (m.nodeMemoryAtPeak != null) {
    const p = m.nodeMemoryAtPeak
    console.log(`  its largest sampled RSS ${fmt(p.rss)}: V8 heap ${fmt(p.heap_used)} used of ${fmt(p.heap_total)}, external ${fmt(p.external)} (ArrayBuffers ${fmt(p.array_buffers)})`)
  }
  console.log(`  target <= ${fmt(RSS_TARGET)}  ${m.nodePeakRssBytes != null && m.nodePeakRssBytes <= RSS_TARGET ? 'PASS' : 'BELOW TARGET'}`)
  const report = {
    bench: 'mirror',
    date: new Date().toISOString(),
    machine: host,
    throughput: { ...t, ratio: Number(ratio.toFixed(4)), target: THROUGHPUT_TARGET },
    memory: { ...m, target: RSS_TARGET }
  }
  await writeResult(RESULTS, report)
  console.log(`wrote ${RESULTS}`)
}

cleanupOnSignals()
try {
  await main()
} catch (err) {
  if (!wasInterrupted()) console.error(`\nbench:mirror failed: ${err?.stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanupAll()
}
