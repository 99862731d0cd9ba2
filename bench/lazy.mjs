// Lazy start (issue 32): N nodes each "start a container" of a large image at
// the same moment, that is read its start-up set (a share of the image's
// bytes spread over its files), three ways in one run, under the caps of
// `npm run bench` (every node 4 MB/s down and up, the registry and the seed 8 MB/s):
//   (a) a full OCI pull through Damselfly (a seed and N daemons), then the reads;
//   (b) Nydus (nydusd, FUSE, RAFS v6) straight from the registry, each node
//       behind a capped forwarder of its own;
//   (c) Nydus through Damselfly: each node's nydusd reads through its daemon
//       (as a forward proxy, as runtime-config nydus sets it up, or as its
//       registry host with --via host).
// Time is from the start (the pull, or nydusd's start) until the start-up
// reads are done and every byte read is checked against the file it came
// from. The OCI image of (a) has the same number of bytes as the Nydus
// image's files, in one layer. The Nydus bootstrap (the filesystem's
// metadata, a small layer a snapshotter fetches first) is given to nydusd
// as a local file in (b) and (c): the registry bytes are the data blob's.
//
//   npm run bench:lazy                  N = 5, 10; a 192 MiB image (TensorFlow's 3 GB / 16): bench/results/lazy.{json,md}
//   npm run bench:lazy -- --quick       N = 2, a 32 MiB image: bench/results/lazy-quick.{json,md}
//   npm run bench:lazy -- --help        the flags
//
// It needs nydusd and nydus-image on PATH (Nydus ships no Debian package:
// build them from its source, see README "Lazy-loaded images"), /dev/fuse,
// and root to mount.
import { createCipheriv, createHash } from 'node:crypto'
import { access, mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { constants as fsConstants } from 'node:fs'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as delay } from 'node:timers/promises'
import { generateImage, pullImage, which } from '@damselfly/cli'
import { layoutFor, rangedPieceSizeFor } from '@damselfly/protocol'
import { benchArgs, pieceSizeFlag, rateFlag, UsageError } from './lib/args.mjs'
import { startBenchDaemon, waitForSeed } from './lib/daemons.mjs'
import { startCappedProxy } from './lib/capped-proxy.mjs'
import { startDistributionRegistry } from './lib/distribution-registry.mjs'
import { capture, cleanupAll, cleanupOnSignals, makeTempDir, onCleanup, removeTempDir, stopChild, track, withDeadline } from './lib/processes.mjs'
import { busyFraction, machine, machineCpu, percentile, sampleOf, settled, writeResult } from './lib/report.mjs'

const KiB = 1024
const MiB = 1024 * KiB
const MB = 1e6
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results')
/** Readers per node at once: a container's start reads several files in parallel. */
const READERS = 4
const READ_FILES = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'read-files.mjs')

const USAGE = `Usage: npm run bench:lazy -- [--quick] [--nodes N,...] [--size MiB] [--read PERCENT] [--via proxy|host] [--node-rate RATE] [--registry-rate RATE]
             [--piece-size KiB] [--prefetch POLICY] [--out DIR]

  (no flags)           N = 5 and 10, a 192 MiB image, 5% of its bytes read at start:
                       bench/results/lazy.{json,md}
  --quick              N = 2 and a 32 MiB image: bench/results/lazy-quick.{json,md}
  --nodes N,...        node counts, whole numbers 1 to 20
  --size MiB           the image's bytes, 8 to 4096
  --read PERCENT       share of the image's bytes the start-up set reads, 1 to 100 (default 5)
  --via proxy|host     how nydusd reaches its daemon in (c): as its registry backend's
                       forward proxy (default, what runtime-config nydus writes) or as
                       its registry host (the daemon's --default-registry is the registry)
  --node-rate RATE     every node's download and upload cap (default 4MB)
  --registry-rate RATE the registry's upload cap (default 8MB)
  --piece-size KiB     the seed cuts blobs in pieces of this size (its --piece-size; 64..65536;
                       default: the protocol's rule)
  --prefetch POLICY    the nodes' --prefetch in (c): none (their default), background or full
  --out DIR            write the results to DIR instead of bench/results
  (other than the defaults, the results go to lazy-custom.{json,md})

  Needs nydusd and nydus-image on PATH, /dev/fuse and root.
  RATE is bytes per second: 4MB (10^6), 4MiB, 500kB, or a plain number.
`

const opts = benchArgs('bench:lazy', USAGE, {
  quick: { type: 'boolean', default: false },
  nodes: { type: 'string' },
  size: { type: 'string' },
  read: { type: 'string', default: '5' },
  via: { type: 'string', default: 'proxy' },
  'node-rate': { type: 'string', default: '4MB' },
  'registry-rate': { type: 'string', default: '8MB' },
  'piece-size': { type: 'string' },
  prefetch: { type: 'string' },
  out: { type: 'string' }
}, values => {
  const nodes = values.nodes?.split(',').map(Number)
  if (nodes != null && nodes.some(n => !(Number.isInteger(n) && n >= 1 && n <= 20))) throw new UsageError(`--nodes ${values.nodes}: whole numbers 1 to 20, separated by commas`)
  const size = values.size != null ? Number(values.size) : undefined
  if (size != null && !(Number.isInteger(size) && size >= 8 && size <= 4096)) throw new UsageError(`--size ${values.size}: whole MiB from 8 to 4096`)
  const read = Number(values.read)
  if (!(read >= 1 && read <= 100)) throw new UsageError(`--read ${values.read}: a percentage from 1 to 100`)
  if (values.via !== 'proxy' && values.via !== 'host') throw new UsageError(`--via ${values.via}: proxy or host`)
  if (values.out === '') throw new UsageError('--out: a directory')
  const nodeRate = rateFlag('--node-rate', values['node-rate'])
  const registryRate = rateFlag('--registry-rate', values['registry-rate'])
  const pieceSize = pieceSizeFlag(values['piece-size'])
  if (values.prefetch != null && !['none', 'background', 'full'].includes(values.prefetch)) throw new UsageError(`--prefetch ${values.prefetch}: none, background or full`)
  const custom = values.prefetch != null || pieceSize != null || nodes != null || size != null || read !== 5 || values.via !== 'proxy' || values['node-rate'] !== '4MB' || values['registry-rate'] !== '8MB'
  return {
    nodes: nodes ?? (values.quick ? [2] : [5, 10]),
    sizeBytes: (size ?? (values.quick ? 32 : 192)) * MiB,
    readFraction: read / 100,
    via: values.via,
    nodeRate,
    nodeRateText: values['node-rate'],
    registryRate,
    registryRateText: values['registry-rate'],
    pieceSize,
    prefetch: values.prefetch,
    resultName: custom ? 'lazy-custom' : values.quick ? 'lazy-quick' : 'lazy',
    out: values.out != null ? resolve(values.out) : RESULTS
  }
})

/** nydusd and nydus-image, or one line saying what is missing and how to get it. */
async function nydusTools () {
  const nydusd = await which('nydusd')
  const nydusImage = await which('nydus-image')
  const missing = [nydusd == null ? 'nydusd' : undefined, nydusImage == null ? 'nydus-image' : undefined].filter(Boolean)
  if (missing.length > 0) {
    throw new Error(`${missing.join(' and ')} not on PATH: Nydus ships no Debian package; build nydusd and nydus-image from its source (README, "Lazy-loaded images") and put them on PATH`)
  }
  try {
    await access('/dev/fuse', fsConstants.R_OK | fsConstants.W_OK)
  } catch {
    throw new Error('/dev/fuse is missing or not writable: nydusd mounts its images with FUSE (run as root)')
  }
  return { nydusd, nydusImage }
}

/** A small seeded PRNG, so the same flags make the same image and start-up set. */
function prng (seed) {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0)
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A root filesystem of incompressible files, 16 KiB to 4 MiB each
 * (log-uniform), `size` bytes in all, in directories of 32 files; and its
 * start-up set, files in random order until `fraction` of the bytes.
 */
async function writeRootfs (dir, size, fraction) {
  const random = prng(`lazy-${size}`)
  const files = []
  let total = 0
  while (total < size) {
    const want = Math.round(16 * KiB * Math.pow(256, random()))
    const bytes = Math.min(want, size - total)
    const i = files.length
    const path = join(`d${Math.floor(i / 32)}`, `f${i}.bin`)
    files.push({ path, bytes })
    total += bytes
  }
  const zeros = Buffer.alloc(MiB)
  for (const [i, f] of files.entries()) {
    await mkdir(join(dir, dirname(f.path)), { recursive: true })
    const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(`lazy-file-${i}`).digest(), Buffer.alloc(16))
    const hash = createHash('sha256')
    const out = await open(join(dir, f.path), 'w')
    try {
      for (let at = 0; at < f.bytes; at += MiB) {
        const chunk = cipher.update(zeros.subarray(0, Math.min(MiB, f.bytes - at)))
        hash.update(chunk)
        await out.write(chunk)
      }
    } finally {
      await out.close()
    }
    f.sha256 = hash.digest('hex')
  }
  const order = files.map((_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  const startup = []
  let read = 0
  for (const i of order) {
    if (read >= size * fraction) break
    startup.push(files[i])
    read += files[i].bytes
  }
  return { files, startup, startupBytes: read }
}

/** nydus-image create: a RAFS v6 bootstrap and one data blob (its name is its sha256). */
async function buildNydus (nydusImage, rootfs, out) {
  await mkdir(out, { recursive: true })
  const r = await capture(nydusImage, ['create', '--fs-version', '6', '--log-level', 'warn', '--blob-dir', out, '--bootstrap', join(out, 'bootstrap'), rootfs], { timeoutMs: 300_000 })
  if (r.code !== 0) throw new Error(`nydus-image create failed (${r.code}): ${r.stderr.slice(-2000)}`)
  const blob = (await readdir(out)).find(n => /^[0-9a-f]{64}$/.test(n))
  if (blob == null) throw new Error(`nydus-image create wrote no data blob in ${out}`)
  return { bootstrap: join(out, 'bootstrap'), blobId: blob, blobPath: join(out, blob), blobBytes: (await stat(join(out, blob))).size }
}

/** A blob pushed as the registry's API takes it: one POST, one PUT with the bytes. */
async function pushBlob (registryHost, repo, digestHex, path) {
  const body = await readFile(path)
  const start = await fetch(`http://${registryHost}/v2/${repo}/blobs/uploads/`, { method: 'POST' })
  if (start.status !== 202) throw new Error(`upload to ${registryHost}/${repo}: ${start.status}`)
  const url = new URL(start.headers.get('location'), `http://${registryHost}`)
  url.searchParams.set('digest', `sha256:${digestHex}`)
  const put = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } })
  if (put.status !== 201) throw new Error(`upload to ${registryHost}/${repo}: ${put.status} ${await put.text()}`)
}

async function mounted (mountpoint) {
  const info = await readFile('/proc/self/mountinfo', 'utf8')
  return info.split('\n').some(line => line.split(' ')[4] === mountpoint)
}

/**
 * One nydusd mounting the image at its own mountpoint, its registry backend
 * given by `backend` ({ host, proxy? }); resolves once the mount is there.
 */
async function startNydusd (nydusd, dir, image, backend) {
  const mountpoint = join(dir, 'mnt')
  await mkdir(mountpoint, { recursive: true })
  await mkdir(join(dir, 'cache'), { recursive: true })
  const config = {
    device: {
      backend: {
        type: 'registry',
        config: { scheme: 'http', host: backend.host, repo: 'lazy/nydus', timeout: 60, connect_timeout: 10, retry_limit: 2, ...(backend.proxy != null ? { proxy: backend.proxy } : {}) }
      },
      cache: { type: 'blobcache', config: { work_dir: join(dir, 'cache') } }
    },
    mode: 'direct',
    digest_validate: false,
    iostats_files: false,
    enable_xattr: true
  }
  await writeFile(join(dir, 'nydusd.json'), JSON.stringify(config, null, 2))
  const child = track(spawn(nydusd, ['--config', join(dir, 'nydusd.json'), '--mountpoint', mountpoint, '--bootstrap', image.bootstrap, '--log-level', 'warn', '--rlimit-nofile', '0', '--apisock', join(dir, 'api.sock')], { stdio: ['ignore', 'ignore', 'pipe'] }))
  let output = ''
  child.stderr.on('data', d => { output = (output + d).slice(-8000) })
  const unmount = onCleanup(async () => {
    if (await mounted(mountpoint)) await capture('umount', ['-l', mountpoint], { timeoutMs: 10_000 }).catch(() => {})
    await stopChild(child, 3000)
  })
  const deadline = Date.now() + 30_000
  while (!await mounted(mountpoint)) {
    if (child.exitCode != null || child.signalCode != null) throw new Error(`nydusd exited before mounting (${child.exitCode ?? child.signalCode}):\n${output}`)
    if (Date.now() > deadline) throw new Error(`nydusd did not mount within 30 s:\n${output}`)
    await delay(20)
  }
  return { mountpoint, child, output: () => output, stop: unmount }
}

/**
 * A node's container, ready to read the start-up set through `mountpoint`
 * (READERS files at a time, each checked against its sha256) in a process of
 * its own, started now, off the clock; `read()` starts it and resolves once
 * every file read right.
 */
async function startupReader (mountpoint, startup, list) {
  await writeFile(list, JSON.stringify({ files: startup, readers: READERS }))
  const child = track(spawn(process.execPath, [READ_FILES, list, mountpoint], { stdio: ['pipe', 'pipe', 'pipe'] }))
  let stderr = ''
  child.stderr.on('data', d => { stderr = (stderr + d).slice(-4000) })
  child.stdin.on('error', () => {})
  const exited = new Promise(resolve => child.once('close', (code, signal) => resolve(code ?? signal)))
  const ready = await Promise.race([once(child.stdout, 'data'), exited.then(code => { throw new Error(`the start-up reader exited before it was ready (${code}): ${stderr.trim()}`) })])
  if (!String(ready).startsWith('ready')) throw new Error(`the start-up reader said ${String(ready).trim()}`)
  child.stdout.resume()
  return {
    async read () {
      child.stdin.end('go\n')
      const code = await exited
      if (code !== 0) throw new Error(`reading the start-up set through ${mountpoint} failed (${code}): ${stderr.trim()}`)
    },
    async stop () {
      await stopChild(child, 1000)
    }
  }
}

function timing (ms) {
  const s = ms.map(x => x / 1000)
  return { seconds: s, p50: percentile(s, 50), max: Math.max(...s) }
}

/** A fresh seed and N fresh daemons, at the caps; `extra` for the nodes' flags. */
async function startSwarm (root, n, registryHost, extra = []) {
  const caps = ['--download-rate', opts.nodeRateText, '--upload-rate', opts.nodeRateText]
  const upstream = ['--insecure-registry', registryHost]
  // the seed at the registry's rate, as in npm run bench
  const seed = await startBenchDaemon(join(root, 'seed'), ['--seed', ...upstream, '--download-rate', opts.registryRateText, '--upload-rate', opts.registryRateText,
    ...(opts.pieceSize != null ? ['--piece-size', String(opts.pieceSize)] : [])], { timeoutMs: 30_000 })
  const nodes = []
  // a few at a time: each start costs a CPU second or two
  for (let i = 0; i < n; i += 4) {
    nodes.push(...await Promise.all(Array.from({ length: Math.min(4, n - i) }, (_, k) => startBenchDaemon(join(root, `node${i + k + 1}`), ['--bootstrap', seed.addrs[0], ...upstream, ...caps, ...extra], { timeoutMs: 30_000 }))))
  }
  await waitForSeed(nodes, seed.peerId)
  // a container starts on a node whose daemon has been running: not while N daemons are still joining
  const settleSeconds = await settled()
  return { seed, nodes, all: [seed, ...nodes], settleSeconds }
}

async function stopSwarm (swarm) {
  await Promise.allSettled(swarm.all.map(d => stopChild(d.child, 5000)))
}

/**
 * From each daemon's metrics, the seed's and each node's: piece bytes sent to
 * others, and pieces declined as just sent to others (super-seeding).
 */
async function uploadedBy (swarm) {
  const of = async d => {
    const res = await fetch(`${d.api}/metrics`, { signal: AbortSignal.timeout(5000) })
    const text = await res.text()
    return { bytes: sampleOf(text, 'damselfly_uploaded_bytes_total') ?? 0, declined: sampleOf(text, 'damselfly_pieces_declined_total') ?? 0 }
  }
  const seed = await of(swarm.seed)
  const nodes = await Promise.all(swarm.nodes.map(of))
  return { seed: seed.bytes, nodes: nodes.map(x => x.bytes), declined: { seed: seed.declined, nodes: nodes.map(x => x.declined) } }
}

/** (a) Every node pulls the whole OCI image through its daemon's mirror at once. */
async function ociRun (n, oci, registry, deadlineMs) {
  const root = await makeTempDir('damselfly-lazy-oci-')
  const swarm = await startSwarm(root, n, registry.host)
  try {
    registry.reset()
    const cpu0 = await machineCpu()
    const t0 = performance.now()
    const done = await withDeadline(deadlineMs, `OCI pulls (N=${n})`, signal => Promise.all(swarm.nodes.map(async node => {
      await pullImage({ mirror: node.mirror, registry: registry.host, name: oci.name, tag: oci.tag, signal })
      return performance.now() - t0
    })))
    return { ...timing(done), registryBytes: registry.stats().bytes, machineCpuBusy: busyFraction(cpu0, await machineCpu()), settleSeconds: swarm.settleSeconds }
  } finally {
    await stopSwarm(swarm)
    await removeTempDir(root)
  }
}

/** (b) and (c): every node's nydusd mounts the image and reads the start-up set, all at once. */
async function nydusRun (n, label, tools, image, rootfs, registry, backends, deadlineMs) {
  const root = await makeTempDir(`damselfly-lazy-${label}-`)
  const mounts = []
  const readers = []
  try {
    readers.push(...await Promise.all(backends.map(async (_, i) => {
      const dir = join(root, `node${i + 1}`)
      await mkdir(dir, { recursive: true })
      return startupReader(join(dir, 'mnt'), rootfs.startup, join(dir, 'startup.json'))
    })))
    registry.reset()
    const cpu0 = await machineCpu()
    const t0 = performance.now()
    const done = await withDeadline(deadlineMs, `${label} (N=${n})`, () => Promise.all(backends.map(async (backend, i) => {
      const m = await startNydusd(tools.nydusd, join(root, `node${i + 1}`), image, backend)
      mounts.push(m)
      const mountedAt = performance.now() - t0
      await readers[i].read()
      return { ms: performance.now() - t0, mountedMs: mountedAt }
    })))
    const t = timing(done.map(d => d.ms))
    return { ...t, mountSeconds: timing(done.map(d => d.mountedMs)).max, registryBytes: registry.stats().bytes, machineCpuBusy: busyFraction(cpu0, await machineCpu()) }
  } finally {
    await Promise.allSettled([...readers.map(r => r.stop()), ...mounts.map(m => m.stop())])
    await removeTempDir(root)
  }
}

/** Byte ranges as `Range: bytes=a-b` asked of the registry in (b), over all nodes: their union, and rounded out to pieces. */
function unionOf (ranges, blobBytes) {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0])
  let union = 0
  let end = -1
  const pieces = new Set()
  const { pieceSize } = layoutFor(blobBytes, opts.pieceSize ?? rangedPieceSizeFor(blobBytes))
  for (const [a, b] of sorted) {
    if (b > end) {
      union += b - Math.max(a, end)
      end = b
    }
    for (let i = Math.floor(a / pieceSize); i * pieceSize < b; i++) pieces.add(i)
  }
  let inPieces = 0
  for (const i of pieces) inPieces += Math.min(pieceSize, blobBytes - i * pieceSize)
  return { bytes: union, inPiecesBytes: inPieces, pieceSize }
}

const f1 = x => x.toFixed(1)
const f2 = x => x.toFixed(2)

function markdown (result) {
  const lines = [
    `# bench:lazy: start-up reads of a ${f1(result.imageBytes / MiB)} MiB image, ${f1(result.readFraction * 100)}% of its bytes in ${result.startupFiles} files`,
    '',
    `${result.date}; ${result.machine.cpus} x ${result.machine.cpuModel}, Node ${result.machine.node}; caps: every node ${f1(result.caps.nodeBytesPerSecond / MB)} MB/s down and up, the registry and the seed ${f1(result.caps.registryBytesPerSecond / MB)} MB/s; nydusd reaches its daemon as ${result.via === 'proxy' ? 'a forward proxy' : 'its registry host'}.`,
    '',
    '| N | (a) OCI through Damselfly p50 / max s | (b) Nydus direct p50 / max s | (c) Nydus through Damselfly p50 / max s | (c) / (a) max | registry MiB (a) / (b) / (c) | union read, in pieces, MiB | (c) registry / union |',
    '|---|---|---|---|---|---|---|---|'
  ]
  for (const r of result.runs) {
    lines.push(`| ${r.nodes} | ${f1(r.oci.p50)} / ${f1(r.oci.max)} | ${f1(r.direct.p50)} / ${f1(r.direct.max)} | ${f1(r.damselfly.p50)} / ${f1(r.damselfly.max)} | ${f2(r.damselflyOverOciMax)} | ${f1(r.oci.registryBytes / MiB)} / ${f1(r.direct.registryBytes / MiB)} / ${f1(r.damselfly.registryBytes / MiB)} | ${f1(r.unionRead.inPiecesBytes / MiB)} | ${f2(r.damselflyRegistryOverUnion)} |`)
  }
  for (const r of result.runs) {
    const u = r.damselfly.uploaded
    if (u == null) continue
    lines.push('', `N=${r.nodes}, (c): the seed sent ${f1(u.seed / MiB)} MiB (${f2(u.seed / r.unionRead.inPiecesBytes)} x the union read), the nodes ${f1(Math.min(...u.nodes) / MiB)}-${f1(Math.max(...u.nodes) / MiB)} MiB each; pieces declined as just sent to others (super-seeding): the seed ${u.declined.seed}, the nodes ${u.declined.nodes.reduce((a, b) => a + b, 0)}; nydusd mounted within ${f1(r.damselfly.mountSeconds)} s.`)
  }
  const waits = result.runs.flatMap(r => [r.oci.settleSeconds, r.damselfly.settleSeconds]).filter(x => x != null)
  if (waits.length > 0) lines.push('', `Each swarm's daemons were started, then let settle before the clock started (until the machine was at most 25% busy over a second, at most 20 s; here ${f1(Math.min(...waits))}-${f1(Math.max(...waits))} s): a container starts on a node whose daemon has been running, not while N daemons join.`)
  lines.push('', `Targets at N=5 and 10: (c) max at most 0.10 of (a)'s; (c) registry bytes at most 1.1 x the union of the byte ranges read, rounded out to pieces (${result.pieceSize / KiB} KiB). Nydus data blob ${f1(result.nydusBlobBytes / MiB)} MiB; the OCI layer ${f1(result.ociBytes / MiB)} MiB.`)
  return lines.join('\n') + '\n'
}

async function main () {
  cleanupOnSignals()
  const tools = await nydusTools()
  const work = await makeTempDir('damselfly-lazy-')
  console.log(`bench:lazy  nodes ${opts.nodes.join(', ')}; a ${f1(opts.sizeBytes / MiB)} MiB image, ${opts.readFraction * 100}% read at start; nydusd via ${opts.via}`)
  const rootfs = await writeRootfs(join(work, 'rootfs'), opts.sizeBytes, opts.readFraction)
  const image = await buildNydus(tools.nydusImage, join(work, 'rootfs'), join(work, 'nydus'))
  const oci = await generateImage(join(work, 'oci'), { layers: [opts.sizeBytes], name: 'lazy/app', tag: 'v1', seed: 'lazy' })
  console.log(`image: ${rootfs.files.length} files; start-up set ${rootfs.startup.length} files, ${f1(rootfs.startupBytes / MiB)} MiB; Nydus blob ${f1(image.blobBytes / MiB)} MiB`)
  const upstream = await startDistributionRegistry()
  await upstream.push(oci.dir, oci.tag, `${oci.name}:${oci.tag}`)
  await pushBlob(upstream.host, 'lazy/nydus', image.blobId, image.blobPath)
  const registry = await startCappedProxy({ target: upstream.host, rate: opts.registryRate })
  const runs = []
  for (const n of opts.nodes) {
    // generous but bounded: a direct pull of everything by everyone, at the registry's cap, three times over
    const deadlineMs = Math.max(120_000, 3 * 1000 * n * opts.sizeBytes / opts.registryRate)
    console.log(`N=${n}: (a) OCI pulls through Damselfly...`)
    const ociResult = await ociRun(n, oci, registry, deadlineMs)
    console.log(`  p50 ${f1(ociResult.p50)} s, max ${f1(ociResult.max)} s, registry ${f1(ociResult.registryBytes / MiB)} MiB`)

    console.log(`N=${n}: (b) Nydus straight from the registry...`)
    const ranges = []
    const links = await Promise.all(Array.from({ length: n }, () => startCappedProxy({
      target: registry.host,
      rate: opts.nodeRate,
      onRequest: req => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
        if (m != null && req.url.includes(image.blobId)) ranges.push([Number(m[1]), Number(m[2]) + 1])
      }
    })))
    let direct
    try {
      direct = await nydusRun(n, 'direct', tools, image, rootfs, registry, links.map(l => ({ host: l.host })), deadlineMs)
    } finally {
      await Promise.all(links.map(l => l.close()))
    }
    const unionRead = unionOf(ranges, image.blobBytes)
    console.log(`  p50 ${f1(direct.p50)} s, max ${f1(direct.max)} s, registry ${f1(direct.registryBytes / MiB)} MiB; ranges read ${f1(unionRead.bytes / MiB)} MiB (${f1(unionRead.inPiecesBytes / MiB)} MiB in pieces)`)

    console.log(`N=${n}: (c) Nydus through Damselfly...`)
    const root = await makeTempDir('damselfly-lazy-swarm-')
    const swarm = await startSwarm(root, n, registry.host, [...(opts.via === 'host' ? ['--default-registry', registry.host] : []), ...(opts.prefetch != null ? ['--prefetch', opts.prefetch] : [])])
    let damselfly
    try {
      const backends = swarm.nodes.map(node => opts.via === 'host'
        ? { host: node.mirror }
        // what runtime-config nydus writes, without the fallback: a broken proxy must show, not hide behind the registry
        : { host: registry.host, proxy: { url: `http://${node.mirror}`, ping_url: `http://${node.mirror}/v2/`, fallback: false, check_interval: 5, use_http: true } })
      damselfly = await nydusRun(n, 'damselfly', tools, image, rootfs, registry, backends, deadlineMs)
      damselfly.uploaded = await uploadedBy(swarm)
      damselfly.settleSeconds = swarm.settleSeconds
    } finally {
      await stopSwarm(swarm)
      await removeTempDir(root)
    }
    console.log(`  p50 ${f1(damselfly.p50)} s, max ${f1(damselfly.max)} s, registry ${f1(damselfly.registryBytes / MiB)} MiB; uploaded: the seed ${f1(damselfly.uploaded.seed / MiB)} MiB, the nodes ${damselfly.uploaded.nodes.map(b => f1(b / MiB)).join(', ')}; pieces declined: the seed ${damselfly.uploaded.declined.seed}, the nodes ${damselfly.uploaded.declined.nodes.join(', ')}`)
    runs.push({
      nodes: n,
      oci: ociResult,
      direct,
      damselfly,
      unionRead,
      damselflyOverOciMax: damselfly.max / ociResult.max,
      damselflyOverOciP50: damselfly.p50 / ociResult.p50,
      damselflyRegistryOverUnion: damselfly.registryBytes / unionRead.inPiecesBytes
    })
  }
  await registry.close()
  const result = {
    bench: 'lazy',
    date: new Date().toISOString(),
    machine: machine(),
    complete: true,
    via: opts.via,
    prefetch: opts.prefetch ?? 'none',
    imageBytes: opts.sizeBytes,
    ociBytes: oci.totalBytes,
    nydusBlobBytes: image.blobBytes,
    pieceSize: layoutFor(image.blobBytes, opts.pieceSize ?? rangedPieceSizeFor(image.blobBytes)).pieceSize,
    files: rootfs.files.length,
    startupFiles: rootfs.startup.length,
    startupBytes: rootfs.startupBytes,
    readFraction: opts.readFraction,
    caps: { nodeBytesPerSecond: opts.nodeRate, registryBytesPerSecond: opts.registryRate },
    runs
  }
  await mkdir(opts.out, { recursive: true })
  await writeResult(join(opts.out, `${opts.resultName}.json`), result)
  await writeFile(join(opts.out, `${opts.resultName}.md`), markdown(result))
  console.log('')
  console.log(markdown(result))
  console.log(`wrote ${join(opts.out, opts.resultName)}.json and .md`)
}

main().then(() => cleanupAll(), async err => {
  process.stderr.write(`bench:lazy: ${err.message}\n`)
  await cleanupAll()
  process.exitCode = 1
})
