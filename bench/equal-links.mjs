// Equal links (issue 28): every host, the registry, the seed and each node,
// in a network namespace of its own behind a link shaped with tc to the same
// rate both ways; real containerd on every node pulls one image through its
// own daemon's mirror, all at once, and then, in the same run, straight from
// the registry. The daemons get no rate flags: the links are the caps.
//
//   npm run bench:equal-links                 N=5 and N=10, a 96 MiB image, 100 Mbit/s:
//                                             bench/results/equal-links.{json,md}
//   npm run bench:equal-links -- --help       the flags
//
// Needs root (namespaces, tc), iproute2, containerd, docker-registry and skopeo.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, join, dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import { generateImage } from '@damselfly/cli'
import { benchArgs, UsageError } from './lib/args.mjs'
import { startBenchDaemon } from './lib/daemons.mjs'
import { REGISTRY_BIN, SKOPEO_BIN, startDistributionRegistry } from './lib/distribution-registry.mjs'
import { CONTAINERD_BIN, CTR_BIN, startContainerd } from './lib/netns-containerd.mjs'
import { createSwitchedHosts, flowRate, getInNetns, linkCounters, measureRoundTrips, measureThroughput, netnsUnavailable, removeStaleNamespaces, switchCounters } from './lib/netns.mjs'
import { allProcessesCpu, capture, cleanupAll, cleanupOnSignals, cpuSecondsOf, endedChildrenCpuSeconds, makeTempDir, peakRssOf, removeTempDir, stopChild, wasInterrupted } from './lib/processes.mjs'
import { busyFraction, bytesBySource, machine, machineCpu, sampleOf, writeResult } from './lib/report.mjs'
import { lineChart } from './lib/charts.mjs'

const MiB = 1024 * 1024
const DEFAULT_NODES = [5, 10]
const DEFAULT_SIZE_MIB = 96
const DEFAULT_RATE_MBIT = 100
/** Layer sizes of the image, as shares of its size: three layers, base layer first. */
const WEIGHTS = [2, 1, 1]
/** What issue 28 asks of the P2P pulls at N=5. */
const TARGETS = { maxOverLowerBound: 1.3, seedSentImages: 1.5, registryImages: 1.0 }
/** Seconds each link check sends for. */
const CHECK_SECONDS = 2
/** How often the switch's counters are read during a P2P pull, for the chart. */
const SAMPLE_MS = 500

const USAGE = `Usage: npm run bench:equal-links -- [--nodes N,...] [--size MiB] [--rate Mbit/s] [--runs K] [--out DIR]

Every host (the registry, the seed, N nodes) in a network namespace of its own, its link shaped
with tc to the same rate both ways; containerd on every node pulls one 3-layer image through its
own daemon's mirror, all at once, then straight from the registry. The daemons get no rate flags.

  --nodes N,...   node counts, whole numbers 1..50 (default ${DEFAULT_NODES.join(',')})
  --size MiB      the image's size in MiB, split over 3 layers ${WEIGHTS.join(':')} (default ${DEFAULT_SIZE_MIB})
  --rate Mbit/s   every host's link, each way, in Mbit/s (10^6 bit/s) (default ${DEFAULT_RATE_MBIT})
  --runs K        P2P and direct pulls K times for each N, fresh daemons and content stores each time (default 1)
  --out DIR       write the results to DIR instead of bench/results
  --render FILE   measure nothing: write the .md and charts of FILE, an earlier run's .json, again
                  (beside it, or in --out DIR)

The defaults write bench/results/equal-links.{json,md}; other nodes, size or rate write
equal-links-custom.{json,md}, so the published run stays. Needs root, iproute2 (ip, tc),
containerd, docker-registry and skopeo (node scripts/test-tools.mjs installs them).
`

const opts = benchArgs('bench:equal-links', USAGE, {
  nodes: { type: 'string' },
  size: { type: 'string' },
  rate: { type: 'string' },
  runs: { type: 'string' },
  out: { type: 'string' },
  render: { type: 'string' }
}, values => {
  if (values.out === '') throw new UsageError('--out: a directory')
  const nodes = values.nodes?.split(',').map(Number) ?? DEFAULT_NODES
  if (!nodes.every(n => Number.isInteger(n) && n >= 1 && n <= 50)) throw new UsageError(`--nodes ${values.nodes}: whole numbers 1 to 50, separated by commas`)
  const sizeMiB = Number(values.size ?? DEFAULT_SIZE_MIB)
  if (!(sizeMiB >= 1 && sizeMiB <= 16384)) throw new UsageError(`--size ${values.size}: MiB from 1 to 16384`)
  const rateMbit = Number(values.rate ?? DEFAULT_RATE_MBIT)
  if (!(rateMbit >= 1 && rateMbit <= 10000)) throw new UsageError(`--rate ${values.rate}: Mbit/s from 1 to 10000`)
  const runs = Number(values.runs ?? 1)
  if (!(Number.isInteger(runs) && runs >= 1 && runs <= 10)) throw new UsageError(`--runs ${values.runs}: a whole number from 1 to 10`)
  const custom = values.nodes != null || values.size != null || values.rate != null
  if (values.render === '') throw new UsageError('--render: an earlier run\'s .json')
  return { nodes, sizeMiB, bitsPerSecond: rateMbit * 1e6, runs, out: values.out, render: values.render, name: custom ? 'equal-links-custom' : 'equal-links' }
})
const RESULTS = opts.out != null ? resolve(opts.out) : join(dirname(fileURLToPath(import.meta.url)), 'results')
/** Every link's rate in bytes per second. */
const B = opts.bitsPerSecond / 8

const f = (x, d = 2) => (x == null || Number.isNaN(x) ? '?' : x.toFixed(d))
const median = xs => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? undefined : s[Math.floor((s.length - 1) / 2)] }

/** Why this cannot run here, as one line, or undefined. */
async function unavailable () {
  const missing = [[REGISTRY_BIN, 'docker-registry'], [SKOPEO_BIN, 'skopeo'], [CONTAINERD_BIN, 'containerd'], [CTR_BIN, 'containerd']].filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg)
  const netns = await netnsUnavailable()
  if (netns != null) return netns
  if (missing.length > 0) return `needs ${[...new Set(missing)].join(', ')} (Debian packages; node scripts/test-tools.mjs docker-registry skopeo containerd installs them)`
  return undefined
}

/**
 * The lower bound with every host capped at B: the registry must send at
 * least one copy (S/B) and every node must receive S (S/B); the rest of the
 * swarm can upload (N+1)B in all for N*S bytes, so that term never binds.
 * Pieces relayed by the seed arrive one round trip later at the least, and
 * the links here add no delay: T_lb = S/B (+ a round trip, under a ms).
 */
function lowerBound (image, n) {
  const S = image.totalBytes
  return {
    seconds: S / B,
    directSeconds: n * S / B,
    formula: 'T_lb = S/B: the registry must send one copy and each node receive one, each at B (plus one round trip, under 1 ms here); direct pulls: N*S/B, the registry sends N copies',
    imageBytes: S,
    bytesPerSecond: B
  }
}

/** A daemon in `host`'s namespace: libp2p on its address, mirror and API on its loopback, no rate flags. */
async function startDaemon (host, root, registry, extra) {
  const args = ['--listen', `/ip4/${host.addr}/tcp/4001`, '--insecure-registry', registry.host, ...extra]
  const d = await startBenchDaemon(join(root, host.name), args, { prefix: ['ip', 'netns', 'exec', host.ns], timeoutMs: 60_000 })
  return { ...d, host, args }
}

/** Until every node lists the seed among its peers, at most 30 s. */
async function waitForSeed (nodes, seed) {
  const deadline = Date.now() + 30_000
  const waiting = new Set(nodes)
  for (let round = 0; waiting.size > 0 && round < 150; round++) {
    await Promise.all([...waiting].map(async node => {
      const r = await getInNetns(node.host.ns, `${node.api}/api/v1/status`)
      try {
        if (JSON.parse(r.body).peers?.some(p => p.seed === true && p.peer === seed.peerId)) waiting.delete(node)
      } catch {
        // not answering yet
      }
    }))
    if (waiting.size === 0) return
    if (Date.now() > deadline) break
    await delay(200)
  }
  throw new Error(`${[...waiting].map(n => n.host.name).join(', ')} did not see the seed within 30 s`)
}

/** What a daemon's API says after the pull: bytes by source of the image's blobs, uploads, peers, addresses. */
async function daemonReport (d, seedId, digests) {
  const get = async path => {
    const r = await getInNetns(d.host.ns, `${d.api}${path}`)
    if (r.status !== 200) throw new Error(`${path}: ${r.status ?? r.error}`)
    return r.body
  }
  try {
    const status = JSON.parse(await get('/api/v1/status'))
    const metrics = await get('/metrics')
    return {
      ...bytesBySource(status.tasks, seedId, digests),
      uploadedBytes: sampleOf(metrics, 'damselfly_uploaded_bytes_total'),
      discardedBytes: sampleOf(metrics, 'damselfly_discarded_bytes_total'),
      listenAddresses: status.listenAddresses,
      peers: status.peers?.length
    }
  } catch (err) {
    return { reportError: err.message }
  }
}

/** Reads the switch's counters every SAMPLE_MS until stopped (at most `maxMs`): bytes each host sent, over time. */
function sampleSent (star, hosts, maxMs) {
  const t0 = performance.now()
  const series = { intervalSeconds: SAMPLE_MS / 1000, t: [], sent: Object.fromEntries(hosts.map(h => [h.name, []])) }
  let stopped = false
  let base
  const loop = (async () => {
    for (let i = 0; !stopped && i < maxMs / SAMPLE_MS; i++) {
      try {
        const c = await switchCounters(star.switchNs, hosts)
        base ??= c
        series.t.push(Math.round(performance.now() - t0) / 1000)
        for (const h of hosts) series.sent[h.name].push(c[h.name].tx - base[h.name].tx)
      } catch {
        // a missed sample
      }
      await delay(SAMPLE_MS)
    }
  })()
  return async () => {
    stopped = true
    await loop
    return series
  }
}

/** Bytes each host sent and received between two linkCounters readings, with the roles. */
function hostBytes (before, after, hosts, image) {
  return hosts.map(h => {
    const sent = after[h.name].tx - before[h.name].tx
    const received = after[h.name].rx - before[h.name].rx
    const tcp = Object.fromEntries(Object.entries(after[h.name].tcp).map(([k, v]) => [k, v - (before[h.name].tcp[k] ?? 0)]))
    return { host: h.name, role: h.name.startsWith('node') ? 'node' : h.name, sentBytes: sent, receivedBytes: received, sentImages: sent / image.totalBytes, receivedImages: received / image.totalBytes, tcp }
  })
}

/** Registry egress: response bodies by client, the client named by host. */
function registryEgress (served, star, image) {
  const byAddr = new Map(star.hosts.map(h => [h.addr, h.name]))
  return {
    bodyBytes: served.bytes,
    images: served.bytes / image.totalBytes,
    requests: served.requests,
    byClient: Object.fromEntries(Object.entries(served.byClient).map(([addr, bytes]) => [byAddr.get(addr) ?? addr, bytes]))
  }
}

/** Clock ticks per second of /proc/stat (USER_HZ). */
const CLOCK_TICKS = 100

/** A process's command, short: the program and, for node, its script and subcommand. */
async function commandOf (pid, comm) {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean)
    // kernel threads have no command line
    if (argv.length === 0) return comm
    const program = basename(argv[0])
    const script = argv.findIndex((a, i) => i > 0 && /\.(m?js|cjs)$/.test(a))
    if (script < 0) return program
    const sub = argv[script + 1] != null && /^[a-z][\w-]*$/.test(argv[script + 1]) ? ` ${argv[script + 1]}` : ''
    return `${program} ${argv[script]}${sub}`
  } catch {
    return comm
  }
}

/**
 * The processes not the bench's that used the most CPU between two
 * allProcessesCpu readings (those that ended meanwhile are not seen), by
 * command: [{ command, seconds, processes }], at least 0.5 s each.
 */
async function othersOf (before, after, own) {
  const byCommand = new Map()
  for (const [pid, p] of after) {
    if (own.has(pid)) continue
    const seconds = p.seconds - (before.get(pid)?.comm === p.comm ? before.get(pid).seconds : 0)
    if (seconds < 0.05) continue
    const command = await commandOf(pid, p.comm)
    const e = byCommand.get(command) ?? { command, seconds: 0, processes: 0 }
    e.seconds += seconds
    e.processes++
    byCommand.set(command, e)
  }
  return [...byCommand.values()].filter(e => e.seconds >= 0.5).sort((a, b) => b.seconds - a.seconds).slice(0, 5)
}

/**
 * CPU-seconds so far of the processes a pull involves, by kind: `daemons`,
 * containerd, the registry, and the ended children of this process (the ctr
 * pulls, and the ip and cat commands that read counters); the bench itself.
 */
async function cpuByKind (ctx, runtimes, daemonPids) {
  const sum = async pids => (await Promise.all(pids.map(cpuSecondsOf))).reduce((a, x) => a + (x ?? 0), 0)
  const self = process.cpuUsage()
  return {
    daemons: await sum(daemonPids),
    containerd: await sum(runtimes.map(rt => rt.pid)),
    registry: await sum([ctx.registry.pid]),
    ctr: await endedChildrenCpuSeconds() ?? 0,
    bench: (self.user + self.system) / 1e6
  }
}

/**
 * All `runtimes` fetch the image at the same moment, each through `via(i)`;
 * resolves with each pull's time, exit code and verification, the bytes
 * every host of `hosts` sent and received meanwhile, and who used the CPU.
 */
async function pullAll (ctx, hosts, runtimes, via, deadlineMs, label, daemonPids = []) {
  const { star, registry, image } = ctx
  const ref = `${image.name}:${image.tag}`
  const fetches = await Promise.all(runtimes.map((rt, i) => rt.prepareFetch(registry.host, ref, via(i))))
  const before = await linkCounters(hosts)
  registry.reset()
  const cpu0 = await machineCpu()
  const byKind0 = await cpuByKind(ctx, runtimes, daemonPids)
  const processes0 = await allProcessesCpu()
  const loadBefore = loadavg()[0]
  const signal = AbortSignal.timeout(Math.round(deadlineMs))
  const stopSampling = sampleSent(star, hosts, deadlineMs)
  const t0 = performance.now()
  const pulls = await Promise.all(runtimes.map(async (rt, i) => {
    const r = await fetches[i](signal)
    return { host: rt.host, seconds: (performance.now() - t0) / 1000, exitCode: r.code, error: r.code === 0 ? undefined : (signal.aborted ? `no result within ${deadlineMs / 1000} s` : r.stderr) }
  }))
  const wallSeconds = (performance.now() - t0) / 1000
  const byKind1 = await cpuByKind(ctx, runtimes, daemonPids)
  const processes1 = await allProcessesCpu()
  const cpu1 = await machineCpu()
  const after = await linkCounters(hosts)
  const machineCpuBusy = busyFraction(cpu0, cpu1)
  const cpuSeconds = Object.fromEntries(Object.keys(byKind0).map(k => [k, byKind1[k] - byKind0[k]]))
  if (cpu0 != null && cpu1 != null) {
    cpuSeconds.machine = (cpu1.busy - cpu0.busy) / CLOCK_TICKS
    cpuSeconds.available = machine().cpus * wallSeconds
    // of the busy time, the network stack's softirqs (veths, bridge, tbf, loopback): the kernel charges
    // them to whichever process they interrupted too, so they overlap the figures above
    cpuSeconds.interrupts = (cpu1.interrupts - cpu0.interrupts) / CLOCK_TICKS
    cpuSeconds.steal = (cpu1.steal - cpu0.steal) / CLOCK_TICKS
    cpuSeconds.rest = cpuSeconds.machine - cpuSeconds.steal - Object.keys(byKind0).reduce((a, k) => a + cpuSeconds[k], 0)
    cpuSeconds.others = await othersOf(processes0, processes1, new Set([process.pid, ctx.registry.pid, ...daemonPids, ...runtimes.map(rt => rt.pid)]))
  }
  const series = await stopSampling()
  // the registry logs a response once it is complete: give the last line a moment
  await delay(300)
  const egress = registryEgress(registry.served(), star, image)
  const wanted = [image.manifest.digest, ...image.blobs.map(b => b.digest)]
  for (const [i, rt] of runtimes.entries()) {
    const have = await rt.digests().catch(() => new Set())
    const missing = wanted.filter(d => !have.has(d))
    pulls[i].verified = pulls[i].exitCode === 0 && missing.length === 0
    if (pulls[i].exitCode === 0 && missing.length > 0) pulls[i].error = `ctr exited 0 but the content store lacks ${missing.join(', ')}`
  }
  for (const p of pulls.filter(p => !p.verified)) console.error(`${label}: the pull on ${p.host} failed after ${f(p.seconds, 1)} s: ${p.error}`)
  // what the registry logged besides its access log, for a failed pull
  const registryLog = pulls.every(p => p.verified) ? undefined : registry.output().split('\n').filter(l => l.startsWith('{')).slice(-20)
  const seconds = pulls.map(p => p.seconds)
  return {
    pulls,
    allVerified: pulls.every(p => p.verified),
    registryLog,
    max: Math.max(...seconds),
    min: Math.min(...seconds),
    median: median(seconds),
    registry: egress,
    hosts: hostBytes(before, after, hosts, image),
    series,
    machineCpuBusy,
    cpuSeconds,
    loadAverage1: [loadBefore, loadavg()[0]],
    wallSeconds
  }
}

/** Fresh containerds (empty content stores) on the hosts, started together. */
async function containerdsOn (hosts) {
  const runtimes = await Promise.all(hosts.map(async h => ({ ...await startContainerd(h.ns), host: h.name })))
  return runtimes
}

/** A seed and N fresh daemons; every node's containerd pulls through its own daemon's mirror at once. */
async function p2pRun (ctx, n, lb) {
  const { star, registry, image } = ctx
  const host = name => star.hosts.find(h => h.name === name)
  const nodeHosts = Array.from({ length: n }, (_, i) => host(`node${i + 1}`))
  const root = await makeTempDir('damselfly-bench-equal-')
  const daemons = []
  let runtimes = []
  try {
    const seed = await startDaemon(host('seed'), root, registry, ['--seed'])
    daemons.push({ ...seed, role: 'seed' })
    // a few at a time: each start costs a CPU second or two, and 2 cores are shared
    const nodes = []
    for (let i = 0; i < n; i += 4) {
      nodes.push(...await Promise.all(nodeHosts.slice(i, i + 4).map(h => startDaemon(h, root, registry, ['--bootstrap', seed.addrs[0]]))))
    }
    daemons.push(...nodes.map(d => ({ ...d, role: 'node' })))
    const offAddress = daemons.filter(d => !d.addrs.every(a => a.startsWith(`/ip4/${d.host.addr}/`)))
    if (offAddress.length > 0) console.error(`note: ${offAddress.map(d => `${d.host.name} listens on ${d.addrs.join(' ')}`).join('; ')}`)
    runtimes = await containerdsOn(nodeHosts)
    await waitForSeed(nodes, seed)
    const cpuBefore = await Promise.all(daemons.map(d => cpuSecondsOf(d.child.pid)))
    const deadlineMs = Math.round(Math.min(30 * 60_000, Math.max(120_000, 30_000 * lb.seconds)))
    console.log(`N=${n}: ${n} pulls through the daemons' mirrors...`)
    const result = await pullAll(ctx, [host('registry'), host('seed'), ...nodeHosts], runtimes, i => nodes[i].mirror, deadlineMs, `P2P N=${n}`, daemons.map(d => d.child.pid))
    const digests = new Set(image.blobs.map(b => b.digest))
    result.daemons = await Promise.all(daemons.map(async (d, i) => {
      const cpu = await cpuSecondsOf(d.child.pid)
      return {
        host: d.host.name,
        role: d.role,
        peerId: d.peerId,
        args: d.args,
        addrs: d.addrs,
        pullCpuSeconds: cpu != null && cpuBefore[i] != null ? cpu - cpuBefore[i] : undefined,
        peakRssBytes: await peakRssOf(d.child.pid),
        ...await daemonReport(d, seed.peerId, digests)
      }
    }))
    return result
  } finally {
    await Promise.all([...daemons.map(d => stopChild(d.child)), ...runtimes.map(rt => rt.stop())])
    await removeTempDir(root)
  }
}

/** N fresh containerds pull straight from the registry at once. */
async function directRun (ctx, n, lb) {
  const { star, registry } = ctx
  const nodeHosts = Array.from({ length: n }, (_, i) => star.hosts.find(h => h.name === `node${i + 1}`))
  const runtimes = await containerdsOn(nodeHosts)
  try {
    const deadlineMs = Math.round(Math.min(30 * 60_000, Math.max(120_000, 6_000 * lb.directSeconds)))
    console.log(`N=${n}: ${n} pulls straight from the registry...`)
    return await pullAll(ctx, [star.hosts.find(h => h.name === 'registry'), ...nodeHosts], runtimes, () => registry.host, deadlineMs, `direct N=${n}`)
  } finally {
    await Promise.all(runtimes.map(rt => rt.stop()))
  }
}

/**
 * The link checks: one flow, two flows into one host, one host sending to
 * two; round trips on idle links, and with the one flow's links loaded.
 */
async function checkLinks (star) {
  const [registry, seed, node1] = ['registry', 'seed', 'node1'].map(name => star.hosts.find(h => h.name === name))
  const idleRtt = await measureRoundTrips(node1, registry, 10)
  // the echo's answers queue behind the flow in the registry's link, its questions wait in node1's
  const [one, loadedRtt] = await Promise.all([measureThroughput([registry], node1, CHECK_SECONDS), delay(500).then(() => measureRoundTrips(node1, registry, 20))])
  const into = await measureThroughput([registry, seed], node1, CHECK_SECONDS)
  const out = await Promise.all([measureThroughput([registry], seed, CHECK_SECONDS, 5201), measureThroughput([registry], node1, CHECK_SECONDS, 5202)])
  // TCP over Ethernet with timestamps carries 1448 payload bytes in 1514 on the wire
  const expected = opts.bitsPerSecond * 1448 / 1514
  const checks = {
    expectedPayloadBitsPerSecond: expected,
    oneFlow: one,
    twoFlowsIntoOneHost: into,
    oneHostToTwo: { from: 'registry', to: ['seed', 'node1'], bitsPerSecond: flowRate(out.map(x => x.flows[0])), flows: out.map(x => x.flows[0]) },
    handshakeMs: median(one.connectMs.concat(into.connectMs)),
    roundTripMs: { idle: median(idleRtt), loaded: median(loadedRtt), loadedMax: Math.max(...loadedRtt) }
  }
  const mbit = x => f(x / 1e6, 1)
  console.log(`links: one TCP flow ${mbit(one.bitsPerSecond)} Mbit/s of payload (${f(100 * one.bitsPerSecond / expected, 1)}% of the ${mbit(expected)} a ${mbit(opts.bitsPerSecond)} Mbit/s link carries); two into one host ${mbit(into.bitsPerSecond)}; one host to two ${mbit(checks.oneHostToTwo.bitsPerSecond)}; a round trip ${f(checks.roundTripMs.idle, 2)} ms idle, ${f(checks.roundTripMs.loaded, 1)} ms (max ${f(checks.roundTripMs.loadedMax, 1)}) beside the flow`)
  return checks
}

/** --render: the .md and charts of an earlier run's JSON, written again with this code. */
async function render (file) {
  const result = JSON.parse(await readFile(file, 'utf8'))
  const name = basename(file, '.json')
  const dir = opts.out != null ? RESULTS : dirname(resolve(file))
  await writeResult(join(dir, `${name}.md`), markdown(result, name))
  for (const [chart, svg] of charts(result, name)) await writeResult(join(dir, chart), svg)
  console.log(`wrote ${join(dir, name)}.md and its charts from ${file}`)
}

async function main () {
  if (opts.render != null) return await render(opts.render)
  cleanupOnSignals()
  // a reader that went away (| head) must not end the run before its cleanup
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  const why = await unavailable()
  if (why != null) {
    process.stderr.write(`bench:equal-links: ${why}\n`)
    process.exitCode = 1
    return
  }
  const stale = await removeStaleNamespaces()
  if (stale.length > 0) console.log(`removed ${stale.length} network namespace(s) a killed run left: ${stale.join(' ')}`)
  const started = performance.now()
  const loadBefore = loadavg()
  const maxN = Math.max(...opts.nodes)
  const work = await makeTempDir('damselfly-bench-image-')
  const image = await generateImage(join(work, 'image'), { size: opts.sizeMiB * MiB, weights: WEIGHTS, name: 'bench/equal-links', tag: 'v1', seed: 'damselfly-bench' })
  const star = await createSwitchedHosts(['registry', 'seed', ...Array.from({ length: maxN }, (_, i) => `node${i + 1}`)], { bitsPerSecond: opts.bitsPerSecond })
  console.log(`${star.hosts.length} hosts in network namespaces, ${f(opts.bitsPerSecond / 1e6, 0)} Mbit/s each way: ${star.qdisc}; TCP ${star.congestionControl}`)
  const links = await checkLinks(star)
  const registryHost = star.hosts.find(h => h.name === 'registry')
  const registry = await startDistributionRegistry({ netns: registryHost.ns, address: registryHost.addr, accessLog: true })
  await registry.push(image.dir, image.tag, `${image.name}:${image.tag}`)
  console.log(`image ${image.name}:${image.tag}: config + ${image.layers.length} layers, ${f(image.totalBytes / MiB, 1)} MiB (${image.totalBytes} bytes), on docker-registry at ${registry.host}`)
  const ctx = { star, registry, image }
  const runs = []
  const contd = (await capture(CONTAINERD_BIN, ['--version'], { timeoutMs: 10_000 })).stdout.trim()
  const repo = dirname(dirname(fileURLToPath(import.meta.url)))
  const head = (await capture('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { timeoutMs: 10_000 })).stdout.trim()
  const dirty = (await capture('git', ['-C', repo, 'status', '--porcelain', '--', 'packages'], { timeoutMs: 10_000 })).stdout.trim() !== ''
  const commit = head === '' ? undefined : `${head}${dirty ? ' with changes to packages/' : ''}`
  const save = async complete => {
    const result = resultOf(runs, { complete, image, links, star, loadBefore, started, containerd: contd, commit })
    await writeResult(join(RESULTS, `${opts.name}.json`), result)
    await writeResult(join(RESULTS, `${opts.name}.md`), markdown(result, opts.name))
    for (const [file, svg] of charts(result, opts.name)) await writeResult(join(RESULTS, file), svg)
    return result
  }
  for (const n of opts.nodes) {
    for (let k = 1; k <= opts.runs; k++) {
      const lb = lowerBound(image, n)
      const p2p = await p2pRun(ctx, n, lb)
      const direct = await directRun(ctx, n, lb)
      const run = { nodes: n, run: k, lowerBound: lb, p2p, direct }
      run.targets = targetsOf(run)
      runs.push(run)
      report(run)
      await save(false)
    }
  }
  await registry.stop()
  const result = await save(true)
  console.log(`\nload average (1, 5, 15 min) before ${loadBefore.map(x => f(x, 1)).join(' ')}, after ${loadavg().map(x => f(x, 1)).join(' ')} on ${machine().cpus} cores`)
  const shown = relative(process.cwd(), join(RESULTS, opts.name))
  console.log(`wrote ${shown.startsWith('..') ? join(RESULTS, opts.name) : shown}.json and .md (${f(result.wallSeconds, 0)} s in all)`)
  if (!runs.every(r => r.p2p.allVerified && r.direct.allVerified)) {
    console.error('bench:equal-links: some pulls failed (see above and the results)')
    process.exitCode = 1
  }
}

function targetsOf (r) {
  const seed = r.p2p.hosts.find(h => h.host === 'seed')
  return {
    maxOverLowerBound: r.p2p.max / r.lowerBound.seconds,
    seedSentImages: seed.sentImages,
    registryImages: r.p2p.registry.images,
    met: {
      // the manifest requests add a few hundred bytes a node: one copy rounds to 1.00
      maxOverLowerBound: r.p2p.max / r.lowerBound.seconds <= TARGETS.maxOverLowerBound,
      seedSentImages: seed.sentImages <= TARGETS.seedSentImages,
      registryImages: r.p2p.registry.images < TARGETS.registryImages + 0.005
    }
  }
}

function report (r) {
  const t = r.targets
  console.log(`N=${r.nodes}${opts.runs > 1 ? ` run ${r.run}` : ''}: P2P slowest ${f(r.p2p.max)} s = ${f(t.maxOverLowerBound)} x T_lb ${f(r.lowerBound.seconds)} s (target ${TARGETS.maxOverLowerBound}); registry ${f(t.registryImages)} images; seed sent ${f(t.seedSentImages)} images (target ${TARGETS.seedSentImages}); direct slowest ${f(r.direct.max)} s = ${f(r.direct.max / r.lowerBound.seconds)} x T_lb; machine CPU ${f(100 * (r.p2p.machineCpuBusy ?? NaN), 0)}% busy`)
  console.log(`  sent (images): ${r.p2p.hosts.map(h => `${h.host} ${f(h.sentImages)}`).join(', ')}`)
}

function resultOf (runs, { complete, image, links, star, loadBefore, started, containerd, commit }) {
  return {
    complete,
    commit,
    command: `npm run bench:equal-links${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    date: new Date().toISOString(),
    setup: {
      hosts: star.hosts.map(h => ({ host: h.name, address: h.addr })),
      bitsPerSecond: opts.bitsPerSecond,
      runsPerN: opts.runs,
      shaping: star.qdisc,
      congestionControl: star.congestionControl,
      links,
      daemonFlags: 'seed: --listen /ip4/ADDR/tcp/4001 --insecure-registry REGISTRY --seed; nodes: --listen /ip4/ADDR/tcp/4001 --insecure-registry REGISTRY --bootstrap SEED; mirror and API on the namespace\'s 127.0.0.1; no rate or piece-size flags',
      puller: `${containerd}: ctr content fetch --hosts-dir (P2P: the node's mirror the only pull host; direct: the registry)`,
      targets: TARGETS
    },
    image: { name: image.name, tag: image.tag, bytes: image.totalBytes, manifestDigest: image.manifest.digest, blobs: image.blobs.map(b => ({ role: b.role, digest: b.digest, size: b.size })) },
    notes: 'times from the moment all pulls start to each ctr exit; registry egress: response bodies in docker-registry\'s access log (manifests and blobs); bytes sent and received per host: its eth0 counters (/sys/class/net/eth0/statistics, read inside its namespace) before and after the pulls, Ethernet frames with every header, so one image of payload is about 1.04-1.05 images on the wire; images = bytes / image size; machineCpuBusy: share of the whole machine\'s CPU busy during the pulls (/proc/stat)',
    summary: runs.map(r => ({
      nodes: r.nodes,
      run: r.run,
      lowerBoundSeconds: r.lowerBound.seconds,
      p2pMaxSeconds: r.p2p.max,
      p2pMaxOverLowerBound: r.p2p.max / r.lowerBound.seconds,
      directMaxSeconds: r.direct.max,
      directMaxOverLowerBound: r.direct.max / r.lowerBound.seconds,
      registryImagesP2p: r.p2p.registry.images,
      registryImagesDirect: r.direct.registry.images,
      sentImagesP2p: Object.fromEntries(r.p2p.hosts.map(h => [h.host, h.sentImages])),
      allVerified: r.p2p.allVerified && r.direct.allVerified,
      machineCpuBusyP2p: r.p2p.machineCpuBusy,
      targetsMet: r.targets.met
    })),
    runs,
    machine: { ...machine(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
    wallSeconds: (performance.now() - started) / 1000
  }
}

function markdownTable (head, rows, leftColumns = 1) {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < leftColumns ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
}

function markdown (result, name) {
  const s = result.setup
  const l = s.links
  const mbit = x => f(x / 1e6, 1)
  const S = result.image.bytes
  const out = [`# Equal links: every host at ${mbit(s.bitsPerSecond)} Mbit/s`, '']
  out.push(`Measured ${result.date} on ${result.machine.cpus} cores (${result.machine.cpuModel}), Node ${result.machine.node}${result.commit != null ? `, code at ${result.commit}` : ''}: \`${result.command}\`. ` +
    `Load average (1, 5, 15 min) ${result.machine.loadAverageBefore.map(x => f(x, 1)).join(', ')} before, ${result.machine.loadAverageAfter.map(x => f(x, 1)).join(', ')} after.`)
  if (!result.complete) out.push('', '**Partial**: written while the run was still going, or left by a run that stopped early; only the runs below finished.')
  out.push('', `Every host (the registry, the seed, the nodes) runs in a network namespace of its own; its one link (a veth into a bridge) is shaped to ${mbit(s.bitsPerSecond)} Mbit/s each way: \`${s.shaping}\`; TCP congestion control ${s.congestionControl}, the kernel's default. ` +
    `Checked with TCP between namespaces: one flow carried ${mbit(l.oneFlow.bitsPerSecond)} Mbit/s of payload (${f(100 * l.oneFlow.bitsPerSecond / l.expectedPayloadBitsPerSecond, 1)}% of the ${mbit(l.expectedPayloadBitsPerSecond)} a ${mbit(s.bitsPerSecond)} Mbit/s Ethernet link carries), ` +
    `two flows into one host ${mbit(l.twoFlowsIntoOneHost.bitsPerSecond)} in all, one host sending to two ${mbit(l.oneHostToTwo.bitsPerSecond)} in all. A one-byte round trip took ${f(l.roundTripMs?.idle, 2)} ms on idle links and ${f(l.roundTripMs?.loaded, 1)} ms (at most ${f(l.roundTripMs?.loadedMax, 1)}) while the one flow filled them: the queueing a full link adds.`)
  out.push('', `The image: ${result.image.name}:${result.image.tag}, a config and ${result.image.blobs.length - 1} uncompressed layers of random bytes, S = ${f(S / MiB, 1)} MiB (${S} bytes), on docker-registry in its namespace. ` +
    `Daemons: ${s.daemonFlags}. Pulls: ${s.puller}; containerd checks every digest, and each pull counts as verified when ctr exits 0 and its content store holds the manifest and every blob. ` +
    'P2P pulls and direct pulls each start with fresh daemons (P2P) and empty content stores, all N at the same moment.')
  out.push('', `**Lower bound.** ${result.runs[0]?.lowerBound.formula ?? ''}. With S = ${S} bytes and B = ${f(s.bitsPerSecond / 8 / 1e6, 3)} MB/s: T_lb = ${f(S / (s.bitsPerSecond / 8))} s. ` +
    `TCP's headers make even S/B out of reach: at the measured payload rate one copy takes ${f(S * 8 / l.oneFlow.bitsPerSecond)} s (${f(l.expectedPayloadBitsPerSecond > 0 ? s.bitsPerSecond / l.expectedPayloadBitsPerSecond : NaN, 3)} x T_lb).`)
  out.push('', `**Targets** (issue 28, at N=5): the slowest P2P pull within ${TARGETS.maxOverLowerBound} x T_lb, the seed sending at most ${TARGETS.seedSentImages} images, the registry ${TARGETS.registryImages.toFixed(1)}x.`)
  out.push('', `Bytes sent per host are its link's counters (Ethernet frames, every header; one image of payload is about 1.04-1.05 images on the wire). Registry egress is what docker-registry's access log says it sent (response bodies: blobs and manifests).`)
  out.push('', '## Summary', '')
  const yes = b => (b ? 'yes' : '**no**')
  out.push(markdownTable(['N', 'run', 'T_lb s', 'P2P slowest s', 'T_max / T_lb', 'direct slowest s', 'direct / T_lb', 'registry, P2P', 'registry, direct', 'seed sent', 'nodes sent (min-max)', 'all verified', 'targets met (time, seed, registry)', 'machine CPU, P2P (not the bench\'s)'],
    result.runs.map(r => {
      const nodes = r.p2p.hosts.filter(h => h.role === 'node').map(h => h.sentImages)
      const seed = r.p2p.hosts.find(h => h.host === 'seed')
      return [String(r.nodes), String(r.run), f(r.lowerBound.seconds), f(r.p2p.max), f(r.p2p.max / r.lowerBound.seconds), f(r.direct.max), f(r.direct.max / r.lowerBound.seconds),
        `${f(r.p2p.registry.images)}x`, `${f(r.direct.registry.images)}x`, f(seed?.sentImages), `${f(Math.min(...nodes))}-${f(Math.max(...nodes))}`,
        yes(r.p2p.allVerified && r.direct.allVerified), [r.targets.met.maxOverLowerBound, r.targets.met.seedSentImages, r.targets.met.registryImages].map(yes).join(', '),
        `${f(100 * (r.p2p.machineCpuBusy ?? NaN), 0)}%${r.p2p.cpuSeconds?.rest != null ? ` (${f(100 * Math.max(0, r.p2p.cpuSeconds.rest) / r.p2p.cpuSeconds.available, 0)}%)` : ''}`]
    }), 0), '')
  for (const r of result.runs) {
    out.push(`## N=${r.nodes}${(result.setup.runsPerN ?? result.runs.filter(x => x.nodes === r.nodes).length) > 1 ? `, run ${r.run}` : ''}`, '')
    const pullRow = (label, x, bound) => [label, f(x.max), f(x.max / bound), x.pulls.map(p => f(p.seconds, 1)).join(', '), `${f(x.registry.images)}x`, x.allVerified ? 'yes' : `**no** (${x.pulls.filter(p => !p.verified).map(p => p.host).join(', ')})`,
      `${f(100 * (x.machineCpuBusy ?? NaN), 0)}%`, x.loadAverage1.map(v => f(v, 1)).join(' → ')]
    out.push(markdownTable(['pulls', 'slowest s', 'T_max / T_lb', `each pull s (node1..node${r.nodes})`, 'registry egress', 'every pull verified', 'machine CPU busy', 'load (1 min)'],
      [pullRow('P2P', r.p2p, r.lowerBound.seconds), pullRow('direct', r.direct, r.lowerBound.seconds)]), '')
    const seed = r.p2p.hosts.find(h => h.host === 'seed')
    out.push(`T_lb = ${f(r.lowerBound.seconds)} s; direct pulls cannot beat N*S/B = ${f(r.lowerBound.directSeconds)} s (direct / that: ${f(r.direct.max / r.lowerBound.directSeconds)}). ` +
      `What the seed sent kept its link busy for at least ${f(seed.sentBytes / (s.bitsPerSecond / 8))} s of the ${f(r.p2p.max)} the slowest P2P pull took.`, '')
    const cpuLine = (label, c) => c?.machine == null ? undefined : `${label}: the machine was busy ${f(c.machine, 1)} of ${f(c.available, 1)} CPU-seconds: ` +
      `${c.daemons > 0 ? `daemons ${f(c.daemons, 1)}, ` : ''}containerd ${f(c.containerd, 1)}, ctr ${f(c.ctr, 1)}, registry ${f(c.registry, 1)}, the bench ${f(c.bench, 1)}, ` +
      `stolen by the hypervisor ${f(c.steal, 1)}, anything else ${f(c.rest, 1)}${c.others?.length > 0 ? ` (${c.others.map(o => `\`${o.command}\`${o.processes > 1 ? ` x${o.processes}` : ''} ${f(o.seconds, 1)}`).join(', ')}, ...)` : ''}; ` +
      `${f(c.interrupts, 1)} of the busy seconds were in interrupts (the network stack, charged to the processes above as well)`
    for (const line of [cpuLine('P2P pulls', r.p2p.cpuSeconds), cpuLine('direct pulls', r.direct.cpuSeconds)]) if (line != null) out.push(`${line}.`, '')
    out.push('(A process\'s CPU time and the machine\'s are counted by different clocks, a few CPU-seconds apart either way; "anything else" names the busiest other processes that were still running at the end.)', '')
    out.push('Bytes per host, in images (S); the daemons\' figures are from P2P pulls: CPU-seconds over the pull, peak RSS, and the image\'s bytes by source from their tasks (MiB).', '')
    const mib = x => f(x == null ? undefined : x / MiB, 1)
    const rows = r.p2p.hosts.map(h => {
      const d = r.direct.hosts.find(x => x.host === h.host)
      const dm = r.p2p.daemons?.find(x => x.host === h.host)
      const sources = dm == null ? '' : dm.reportError != null ? `? (${dm.reportError})` : `${mib(dm.fromRegistry)} / ${mib(dm.fromSeed)} / ${mib(dm.fromPeers)}${dm.discardedBytes > 0 ? ` (${mib(dm.discardedBytes)} discarded)` : ''}`
      const tcp = x => x?.tcp == null ? '-' : `${x.tcp.RetransSegs ?? '?'} / ${x.tcp.OutRsts ?? '?'}`
      return [h.host, f(h.sentImages), f(h.receivedImages), d == null ? '-' : f(d.sentImages), d == null ? '-' : f(d.receivedImages), tcp(h), tcp(d), dm == null ? '' : f(dm.pullCpuSeconds, 1), dm == null ? '' : f(dm.peakRssBytes / MiB, 0), sources]
    })
    const sum = (xs, k) => xs.reduce((a, h) => a + h[k], 0)
    rows.push(['all hosts', f(sum(r.p2p.hosts, 'sentImages')), f(sum(r.p2p.hosts, 'receivedImages')), f(sum(r.direct.hosts, 'sentImages')), f(sum(r.direct.hosts, 'receivedImages')), '', '', '', '', ''])
    out.push(markdownTable(['host', 'P2P sent', 'P2P received', 'direct sent', 'direct received', 'TCP retransmits / resets sent, P2P', 'the same, direct', 'daemon CPU s', 'peak RSS MiB', 'from registry / seed / peers'], rows), '')
    out.push(`![bytes sent per host over time, P2P, N=${r.nodes}](${chartName(name, result, r)})`, '')
  }
  return out.join('\n') + '\n'
}

/** A chart per run, named by the run only when there are several of each N (a partial result names them alike). */
const chartName = (name, result, r) => `${name}-sent-n${r.nodes}${(result.setup.runsPerN ?? result.runs.filter(x => x.nodes === r.nodes).length) > 1 ? `-run${r.run}` : ''}.svg`

function charts (result, name) {
  return result.runs.map(r => {
    const s = r.p2p.series
    const series = Object.entries(s.sent).map(([host, bytes]) => ({ label: host, points: bytes.map((b, i) => [s.t[i], b / result.image.bytes]), dashed: host.startsWith('node'), dots: false }))
    return [chartName(name, result, r), lineChart({
      title: `P2P, N=${r.nodes}, every link ${f(result.setup.bitsPerSecond / 1e6, 0)} Mbit/s: bytes each host sent`,
      xLabel: 'seconds from the moment all pulls start',
      yLabel: 'sent, in images',
      series,
      marks: [{ x: r.lowerBound.seconds, label: 'T_lb' }]
    })]
  })
}

try {
  await main()
} catch (err) {
  // after Ctrl-C the failure is the cleanup's doing
  if (!wasInterrupted()) console.error(`bench:equal-links failed: ${err.stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanupAll()
  process.exit()
}
