// A node's control traffic per pull as the swarm grows past what one machine
// runs, in simulation (bench/sim/model.mjs drives the daemon's engine and its
// gossip rules): blob announcements and load beacons each node hears, and the
// DHT lookups it makes, at 100, 1,000 and 10,000 nodes, ranking locally and
// with the scheduler. The real-process figures for 5 to 30 nodes come from
// bench/control.mjs.
//
//   npm run bench:sim-control -- [--nodes 100,1000,10000] [--size MiB]
//
// Writes bench/results/sim-control.{json,md}.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { layerSizes } from '@damselfly/cli'
import { FLUSH_REPORTS, SCHEDULER_SILENT_MS } from '@damselfly/swarm'
import { benchArgs, UsageError } from '../lib/args.mjs'
import { lowerBound, percentile, writeResult } from '../lib/report.mjs'
import { simulate } from './model.mjs'

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')
const MB = 1e6
const MiB = 1024 * 1024
const USAGE = `Usage: npm run bench:sim-control -- [--nodes N,...] [--size MiB]

  --nodes N,...  node counts (default 100,1000,10000)
  --size MiB     the image, split as the nginx-like one (default 8: a 10,000-node run in minutes)
`
const opts = benchArgs('bench:sim-control', USAGE, {
  nodes: { type: 'string', default: '100,1000,10000' },
  size: { type: 'string', default: '8' }
}, values => {
  const nodes = values.nodes.split(',').map(Number)
  if (nodes.some(n => !(Number.isInteger(n) && n >= 2 && n <= 100_000))) throw new UsageError(`--nodes ${values.nodes}: whole numbers 2 to 100000, separated by commas`)
  const sizeMiB = Number(values.size)
  if (!(sizeMiB > 0 && sizeMiB <= 4096)) throw new UsageError(`--size ${values.size}: MiB above 0, at most 4096`)
  return { nodes, sizeMiB }
})

const tar = n => 512 + Math.ceil(n / 512) * 512 + 1024
const blobs = [1200, ...layerSizes(opts.sizeMiB * MiB, [8, 4, 2, 1, 1]).map(tar)]
// npm run bench's caps (and the simulator's scale part): nodes 4 MB/s, registry and seed 8 MB/s, RTT 20 ms
const caps = { nodeDown: 4 * MB, nodeUp: 4 * MB, registry: 8 * MB, seedRate: 8 * MB, rttS: 0.02 }
const f = (x, d = 1) => (x == null ? '?' : x.toFixed(d))

/**
 * A node's flushes to the scheduler over its pull, as the daemon sends them (packages/swarm/src/schedule.ts):
 * one per blob newly held and per FLUSH_REPORTS pieces, and one per SCHEDULER_SILENT_MS / 4 in which it
 * asked no question (a question carries what a flush would).
 */
function flushes (r, n) {
  const pull = r.completionSeconds.reduce((a, b) => a + b, 0) / r.completionSeconds.length
  const questions = (r.ranks + r.suggests) / n
  return blobs.length + r.pieceTransfers / n / FLUSH_REPORTS + Math.max(0, pull / (SCHEDULER_SILENT_MS / 4 / 1000) - questions)
}

const rows = []
for (const n of opts.nodes) {
  for (const ranker of ['local', 'scheduler']) {
    const started = performance.now()
    const r = simulate({ nodes: n, blobs, ...caps, seed: 7, ranker })
    const tlb = lowerBound(blobs, n, { down: caps.nodeDown, up: caps.nodeUp, registry: caps.registry, seed: caps.seedRate }).seconds
    const row = {
      nodes: n,
      ranker,
      maxOverTlb: Math.max(...r.completionSeconds) / tlb,
      p50OverTlb: percentile(r.completionSeconds, 50) / tlb,
      unfinished: r.unfinished,
      announcements: r.announcements,
      announcementsWithheld: r.announcementsWithheld,
      announcementsHeardPerNode: r.announcementsHeard / n,
      beaconsHeardPerNode: r.beaconsHeard / n,
      lookupsPerNode: r.lookups / n,
      // with the scheduler, its questions and the daemon's flushes (above)
      schedulerRequestsPerNode: ranker === 'scheduler' ? (r.ranks + r.suggests) / n + flushes(r, n) : 0,
      wallSeconds: (performance.now() - started) / 1000
    }
    row.controlPerNode = row.announcementsHeardPerNode + row.beaconsHeardPerNode + row.lookupsPerNode + row.schedulerRequestsPerNode
    rows.push(row)
    console.log(`N=${n}, ${ranker}: max ${f(row.maxOverTlb, 2)} x T_lb, per node: announcements heard ${f(row.announcementsHeardPerNode)}, beacons heard ${f(row.beaconsHeardPerNode)}, lookups ${f(row.lookupsPerNode, 2)}, scheduler requests ${f(row.schedulerRequestsPerNode)} (${f(row.wallSeconds, 0)} s)`)
  }
}

const head = ['N', 'ranking', 'max/T_lb', 'p50/T_lb', 'announcements made', 'withheld', 'announcements heard/node', 'beacons heard/node', 'DHT lookups/node', 'scheduler requests/node', 'control msgs/node']
const md = [
  '# Control traffic per node per pull, simulated',
  '',
  `\`npm run bench:sim-control -- --nodes ${opts.nodes.join(',')} --size ${opts.sizeMiB}\`, ${new Date().toISOString()}: a ${opts.sizeMiB} MiB nginx-like image (config and 5 layers), nodes 4 MB/s, registry and seed 8 MB/s, RTT 20 ms.`,
  'Messages a node takes in from the swarm\'s gossip (each announcement and beacon once, as the daemon counts them; gossip\'s forwarded copies are on top, bounded by its mesh degree) and the DHT lookups it starts (each a few requests, log N hops); with the scheduler, the requests a node sends it (a flush per blob newly held, per 32 pieces and per 2.5 s without a question, and its questions, each of which carries what a flush would). The simulator models neither gossip\'s own control nor DHT provides.',
  '',
  `| ${head.join(' | ')} |`,
  `|${head.map(() => ' ---: ').join('|')}|`,
  ...rows.map(r => `| ${r.nodes} | ${r.ranker} | ${f(r.maxOverTlb, 2)} | ${f(r.p50OverTlb, 2)} | ${r.announcements} | ${r.announcementsWithheld} | ${f(r.announcementsHeardPerNode)} | ${f(r.beaconsHeardPerNode)} | ${f(r.lookupsPerNode, 2)} | ${f(r.schedulerRequestsPerNode)} | ${f(r.controlPerNode)} |`),
  ''
].join('\n')
await writeResult(join(RESULTS, 'sim-control.json'), { date: new Date().toISOString(), sizeMiB: opts.sizeMiB, caps, rows })
await writeResult(join(RESULTS, 'sim-control.md'), md)
console.log(`\n${md}`)
