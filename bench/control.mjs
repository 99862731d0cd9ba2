#!/usr/bin/env node
// What a node's control traffic costs per pull as the swarm grows: for each
// N, a fresh seed and N fresh daemons pull one image through their mirrors
// at once, with and without the optional scheduler, and each daemon's
// counters are read before and after the pull (its /metrics): gossip RPCs
// sent and received (and of what kind), DHT requests made and served,
// scheduler requests, streams opened, connections opened and open.
//
//   npm run bench:control -- [--nodes 5,10,20,30] [--size MiB] [--modes local,scheduler] [--out DIR]
//
// Writes bench/results/control.{json,md}.
import { readFile } from 'node:fs/promises'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import { generateImage } from '@damselfly/cli'
import { benchArgs, UsageError } from './lib/args.mjs'
import { startCappedProxy } from './lib/capped-proxy.mjs'
import { startDistributionRegistry } from './lib/distribution-registry.mjs'
import { cleanupOnSignals, makeTempDir, removeTempDir } from './lib/processes.mjs'
import { machine, percentile, writeResult } from './lib/report.mjs'
import { swarmPull } from './lib/swarm-run.mjs'

const MiB = 1024 * 1024
const MODES = ['local', 'scheduler']

const USAGE = `Usage: npm run bench:control -- [--nodes N,...] [--size MiB] [--modes local,scheduler] [--out DIR]

  Per node and per pull, as the swarm grows: gossip RPCs, DHT requests, scheduler
  requests, streams and connections, read from each daemon's /metrics before and
  after N nodes pull one image at once (every node 4 MB/s, the seed and the
  registry 8 MB/s, as npm run bench).

  --nodes N,...   node counts, whole numbers 2..50 (default 5,10,20,30)
  --size MiB      the image (default 32)
  --modes LIST    local (no scheduler: nodes gossip beacons), scheduler (one
                  damselfly scheduler; nodes send it their beacons), or both (default)
  --out DIR       write control.{json,md} to DIR instead of bench/results
  --report        run nothing: write control.md again from control.json
`

const opts = benchArgs('bench:control', USAGE, {
  nodes: { type: 'string', default: '5,10,20,30' },
  size: { type: 'string', default: '32' },
  modes: { type: 'string', default: MODES.join(',') },
  out: { type: 'string' },
  report: { type: 'boolean', default: false }
}, values => {
  const nodes = values.nodes.split(',').map(Number)
  if (nodes.some(n => !(Number.isInteger(n) && n >= 2 && n <= 50))) throw new UsageError(`--nodes ${values.nodes}: whole numbers 2 to 50, separated by commas`)
  const sizeMiB = Number(values.size)
  if (!(sizeMiB > 0 && sizeMiB <= 1024)) throw new UsageError(`--size ${values.size}: a number of MiB above 0 and at most 1024`)
  const modes = values.modes.split(',')
  if (modes.length === 0 || modes.some(m => !MODES.includes(m))) throw new UsageError(`--modes ${values.modes}: ${MODES.join(', ')} or both, separated by commas`)
  if (values.out === '') throw new UsageError('--out: a directory')
  return { nodes, sizeMiB, modes, out: values.out, report: values.report }
})
const RESULTS = opts.out != null ? resolve(opts.out) : join(dirname(fileURLToPath(import.meta.url)), 'results')
const NODE_RATE = '4MB'
const SEED_RATE = '8MB'
const f = (x, d = 1) => (x == null ? '?' : x.toFixed(d))

/** One swarm of a seed and N nodes, all fresh: every node pulls the image at once. */
async function run (n, mode, image, registry) {
  const r = await swarmPull({ n, ranking: mode === 'scheduler' ? 'scheduler' : 'measured', image, registry, seedRate: SEED_RATE, rates: () => ({ down: NODE_RATE, up: NODE_RATE }), label: `N=${n}, ${mode}` })
  return { nodes: n, mode, maxSeconds: Math.max(...r.seconds), p50Seconds: percentile(r.seconds, 50), machineCpuBusy: r.machineCpuBusy, daemons: r.daemons, ...(r.scheduler != null ? { scheduler: r.scheduler } : {}) }
}

const median = xs => percentile(xs, 50)

/** One row per run: the nodes' median and largest figures per pull. */
function summary (r) {
  const nodes = r.daemons.filter(d => d.role === 'node')
  const seed = r.daemons.find(d => d.role === 'seed')
  const of = key => nodes.map(d => d[key])
  return {
    nodes: r.nodes,
    mode: r.mode,
    maxSeconds: r.maxSeconds,
    machineCpuBusy: r.machineCpuBusy,
    scheduler: r.scheduler,
    controlMessagesMedian: median(of('controlMessages')),
    // what grows with the pull's length (gossip heartbeats, flushes to the scheduler) apart from what grows with N
    controlMessagesPerSecond: median(of('controlMessages')) / r.maxSeconds,
    controlMessagesMax: Math.max(...of('controlMessages')),
    gossipRpcsMedian: median(nodes.map(d => d.gossipRpcsSent + d.gossipRpcsReceived)),
    dhtRequestsMedian: median(nodes.map(d => d.dhtSent + d.dhtServed)),
    schedulerRequestsMedian: median(of('schedulerRequests')),
    streamsMedian: median(of('streamsOpened')),
    connectionsOpenedMedian: median(of('connectionsOpened')),
    connectionsOpenMedian: median(of('connectionsOpen')),
    cpuSecondsMedian: median(of('pullCpuSeconds').filter(x => x != null)),
    seedControlMessages: seed?.controlMessages,
    gossipByKindMedian: Object.fromEntries(Object.keys(nodes[0]?.gossipByKind ?? {}).map(k => [k, median(nodes.map(d => d.gossipByKind[k]))])),
    gossipByTopicMedian: Object.fromEntries(Object.keys(nodes[0]?.gossipByTopic ?? {}).map(k => [k, median(nodes.map(d => d.gossipByTopic[k]))])),
    announcementsWithheldMedian: median(nodes.map(d => d.announcementsWithheld ?? 0)),
    dhtByTypeMedian: Object.fromEntries([...new Set(nodes.flatMap(d => Object.keys(d.dhtByType ?? {})))].sort().map(k => [k, median(nodes.map(d => d.dhtByType[k] ?? 0))])),
    schedulerByKindMedian: Object.fromEntries(['flush', 'rank', 'suggest', 'lookup'].map(k => [k, median(nodes.map(d => d.schedulerByKind?.[k] ?? 0))])),
    streamsByProtocolMedian: Object.fromEntries([...new Set(nodes.flatMap(d => Object.keys(d.streamsByProtocol ?? {})))].sort().map(k => [k, median(nodes.map(d => d.streamsByProtocol[k] ?? 0))]))
  }
}

const HEAD = ['N', 'mode', 'max s', 'control msgs/node (median)', 'max', 'per second of pull', 'gossip RPCs', 'DHT reqs', 'scheduler reqs', 'streams', 'conns opened', 'conns open', 'CPU s/node', 'seed control msgs', 'machine CPU']

function rowOf (s) {
  return [String(s.nodes), s.mode, f(s.maxSeconds), f(s.controlMessagesMedian, 0), f(s.controlMessagesMax, 0), f(s.controlMessagesMedian / s.maxSeconds), f(s.gossipRpcsMedian, 0), f(s.dhtRequestsMedian, 0), f(s.schedulerRequestsMedian, 0),
    f(s.streamsMedian, 0), f(s.connectionsOpenedMedian, 0), f(s.connectionsOpenMedian, 0), f(s.cpuSecondsMedian, 2), f(s.seedControlMessages, 0), s.machineCpuBusy == null ? '?' : `${f(100 * s.machineCpuBusy, 0)}%`]
}

/** How a node's control messages per pull grew from the smallest N to the largest, per mode. */
function growth (summaries) {
  const out = {}
  for (const mode of new Set(summaries.map(s => s.mode))) {
    const runs = summaries.filter(s => s.mode === mode).sort((a, b) => a.nodes - b.nodes)
    const at = n => runs.find(s => s.nodes === n)?.controlMessagesMedian
    const perSecond = n => { const r = runs.find(s => s.nodes === n); return r == null ? undefined : r.controlMessagesMedian / r.maxSeconds }
    out[mode] = {
      from: runs[0]?.nodes,
      to: runs.at(-1)?.nodes,
      ratio: runs.length > 1 ? runs.at(-1).controlMessagesMedian / runs[0].controlMessagesMedian : undefined,
      n10to30: at(10) != null && at(30) != null ? at(30) / at(10) : undefined,
      perSecond10to30: perSecond(10) != null && perSecond(30) != null ? perSecond(30) / perSecond(10) : undefined
    }
  }
  return out
}

/** How the scheduler ran: on a fleet it has a host of its own, here it shares the cores (see swarm-run.mjs). */
function schedulerLines (summaries) {
  const runs = summaries.filter(s => s.scheduler != null)
  if (runs.length === 0) return []
  const nice = [...new Set(runs.map(s => s.scheduler.priority))]
  return [
    `The scheduler ran at nice ${nice.join(', ')} (0: the bench could not raise it), its CPU-seconds over the pull: ${runs.map(s => `${f(s.scheduler.pullCpuSeconds, 2)} at N=${s.nodes}`).join(', ')}.`,
    ''
  ]
}

function markdown (result) {
  const rows = result.summaries.map(rowOf)
  const kinds = Object.keys(result.summaries[0]?.gossipByKindMedian ?? {})
  const topics = Object.keys(result.summaries[0]?.gossipByTopicMedian ?? {})
  const protocols = [...new Set(result.summaries.flatMap(s => Object.keys(s.streamsByProtocolMedian ?? {})))].sort()
  // the kinds some node used in some run (a table of zeros says nothing)
  const scheduled = result.summaries.filter(s => s.mode === 'scheduler')
  const dhtTypes = [...new Set(result.summaries.flatMap(s => Object.entries(s.dhtByTypeMedian ?? {}).filter(([, v]) => v > 0).map(([k]) => k)))].sort()
  return [
    '# Control traffic per node per pull',
    '',
    `\`npm run bench:control -- --nodes ${opts.nodes.join(',')} --size ${opts.sizeMiB} --modes ${opts.modes.join(',')}\`, ${result.date}, ${result.machine.cpus} cores (${result.machine.cpuModel}), load before ${result.loadBefore.map(x => f(x)).join(' ')}.`,
    `A fresh seed (${SEED_RATE}/s) and N fresh nodes (${NODE_RATE}/s each way) pull a ${opts.sizeMiB} MiB image at once through their mirrors; counters are each daemon's /metrics after the pull less before it.`,
    'Control messages: gossip RPCs sent and received, DHT requests made and served, scheduler requests. Streams: every stream opened either way (pieces too). The figures are the nodes\' medians.',
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => ' ---: ').join('|')}|`,
    ...rows.map(r => `| ${r.join(' | ')} |`),
    '',
    ...schedulerLines(result.summaries),
    'Gossip RPC contents per node (median, sent and received): ' + kinds.join(', '),
    '',
    `| N | mode | ${kinds.join(' | ')} |`,
    `|---:|---:|${kinds.map(() => '---:').join('|')}|`,
    ...result.summaries.map(s => `| ${s.nodes} | ${s.mode} | ${kinds.map(k => f(s.gossipByKindMedian[k], 0)).join(' | ')} |`),
    '',
    'Gossip messages a node published and took in, by topic (median): the daemon\'s own count, one per message however many copies arrived.',
    '',
    `| N | mode | ${topics.join(' | ')} | announcements withheld |`,
    `|---:|---:|${topics.map(() => '---:').join('|')}|---:|`,
    ...result.summaries.map(s => `| ${s.nodes} | ${s.mode} | ${topics.map(k => f(s.gossipByTopicMedian[k], 0)).join(' | ')} | ${f(s.announcementsWithheldMedian, 0)} |`),
    '',
    ...(protocols.length === 0
      ? []
      : [
          'Streams a node opened and accepted, by protocol (median):',
          '',
          `| N | mode | ${protocols.join(' | ')} |`,
          `|---:|---:|${protocols.map(() => '---:').join('|')}|`,
          ...result.summaries.map(s => `| ${s.nodes} | ${s.mode} | ${protocols.map(k => f(s.streamsByProtocolMedian == null ? undefined : s.streamsByProtocolMedian[k] ?? 0, 0)).join(' | ')} |`),
          ''
        ]),
    ...(scheduled.length === 0
      ? []
      : [
          'Requests a node sent its scheduler, by kind (median): flushes (its load beacon with reports and blobs held), rank and suggest questions (a suggest may carry candidates to rank), and lookups (holders asked where the DHT would be; a question and a lookup carry what a flush would; questions a node\'s downloads ask at the same moment go in one request, counted by the first).',
          '',
          '| N | flush | rank | suggest | lookup |',
          '|---:|---:|---:|---:|---:|',
          ...scheduled.map(s => `| ${s.nodes} | ${['flush', 'rank', 'suggest', 'lookup'].map(k => f(s.schedulerByKindMedian?.[k], 0)).join(' | ')} |`),
          ''
        ]),
    ...(dhtTypes.length === 0
      ? []
      : [
          'DHT requests a node made and served by message type, and the queries its DHT ran, by kind (median; kad-dht\'s own counts):',
          '',
          `| N | mode | ${dhtTypes.join(' | ')} |`,
          `|---:|---:|${dhtTypes.map(() => '---:').join('|')}|`,
          ...result.summaries.map(s => `| ${s.nodes} | ${s.mode} | ${dhtTypes.map(k => f(s.dhtByTypeMedian?.[k] ?? 0, 0)).join(' | ')} |`),
          ''
        ]),
    'Growth of a node\'s control messages per pull: ' + Object.entries(result.growth).map(([m, g]) => `${m} ${g.from}→${g.to} ${f(g.ratio, 2)}x${g.n10to30 != null ? ` (10→30: ${f(g.n10to30, 2)}x per pull, ${f(g.perSecond10to30, 2)}x per second of pull)` : ''}`).join('; '),
    ''
  ].join('\n')
}

async function main () {
  cleanupOnSignals()
  const loadBefore = loadavg()
  const work = await makeTempDir('damselfly-bench-control-image-')
  const upstream = await startDistributionRegistry()
  const registry = await startCappedProxy({ target: upstream.host, rate: 8e6 })
  const runs = []
  try {
    const image = await generateImage(join(work, 'image'), { size: opts.sizeMiB * MiB, weights: [8, 4, 2, 1, 1], name: 'bench/control', tag: 'v1', seed: 'damselfly-bench-control' })
    await upstream.push(join(work, 'image'), image.tag, `${image.name}:${image.tag}`)
    for (const n of opts.nodes) {
      for (const mode of opts.modes) {
        console.log(`N=${n}, ${mode}: a seed and ${n} fresh daemons...`)
        const r = await run(n, mode, image, registry)
        runs.push(r)
        console.log(`  ${HEAD.join(' | ')}\n  ${rowOf(summary(r)).join(' | ')}`)
      }
    }
  } finally {
    await registry.close()
    await upstream.stop()
    await removeTempDir(work)
  }
  const summaries = runs.map(summary)
  const result = { date: new Date().toISOString(), machine: machine(), loadBefore, loadAfter: loadavg(), sizeMiB: opts.sizeMiB, summaries, growth: growth(summaries), runs }
  await writeResult(join(RESULTS, 'control.json'), result)
  await writeResult(join(RESULTS, 'control.md'), markdown(result))
  console.log(`\n${markdown(result)}`)
}

/** control.md again from control.json, with this script's tables. */
async function report () {
  const result = JSON.parse(await readFile(join(RESULTS, 'control.json'), 'utf8'))
  result.summaries = result.runs.map(summary)
  result.growth = growth(result.summaries)
  opts.nodes = [...new Set(result.runs.map(r => r.nodes))]
  opts.modes = [...new Set(result.runs.map(r => r.mode))]
  opts.sizeMiB = result.sizeMiB
  await writeResult(join(RESULTS, 'control.md'), markdown(result))
}

;(opts.report ? report() : main()).catch(err => {
  console.error(`bench:control: ${err.message}`)
  process.exitCode = 1
})
