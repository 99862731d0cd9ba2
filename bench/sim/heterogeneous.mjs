// Parents that are not alike, in simulation: a third of the nodes upload at
// a tenth of the others' rate. The daemon's engine (bad-parent rule
// included) with its local parent ranking and with the scheduler's, against
// candidates taken in random order, over a few seeds of the simulator's PRNG.
//
//   node bench/sim/heterogeneous.mjs [--nodes 30,100] [--seeds 3] [--out DIR]
//
// Writes DIR/sim-heterogeneous.{json,md} (default bench/results).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { layerSizes } from '@damselfly/cli'
import { benchArgs, UsageError } from '../lib/args.mjs'
import { lowerBound, percentile, writeResult } from '../lib/report.mjs'
import { simulate } from './model.mjs'

const MB = 1e6
const USAGE = `Usage: node bench/sim/heterogeneous.mjs [--nodes N,...] [--seeds K] [--out DIR]

  --nodes N,...  node counts (default 30,100)
  --seeds K      runs per case, each with its own PRNG seed (default 3)
  --out DIR      write sim-heterogeneous.{json,md} there (default bench/results)
`
const opts = benchArgs('bench/sim/heterogeneous', USAGE, {
  nodes: { type: 'string', default: '30,100' },
  seeds: { type: 'string', default: '3' },
  out: { type: 'string' }
}, values => {
  const nodes = values.nodes.split(',').map(Number)
  if (!nodes.every(n => Number.isInteger(n) && n >= 3 && n <= 2000)) throw new UsageError(`--nodes ${values.nodes}: whole numbers from 3 to 2000`)
  const seeds = Number(values.seeds)
  if (!(Number.isInteger(seeds) && seeds >= 1 && seeds <= 20)) throw new UsageError(`--seeds ${values.seeds}: a whole number from 1 to 20`)
  return { nodes, seeds, out: values.out }
})

// the real runs' image and caps (npm run bench on 2 cores): nginx-like 500 MB / 16, nodes 4 MB/s, registry and seed 8 MB/s
const blobs = [1200, ...layerSizes(500 * MB / 16, [8, 4, 2, 1, 1])]
const caps = { nodeDown: 4 * MB, nodeUp: 4 * MB, registry: 8 * MB, seedRate: 8 * MB, rttS: 0.02 }
const slow = { slowShare: 1 / 3, slowFactor: 0.1 }

const rows = []
for (const n of opts.nodes) {
  const tlb = lowerBound(blobs, n, { down: caps.nodeDown, up: caps.nodeUp, registry: caps.registry, seed: caps.seedRate }).seconds
  for (const [label, extra] of [['alike', {}], ['a third at a tenth', slow]]) {
    for (const ranker of ['random', 'local', 'scheduler']) {
      const runs = []
      for (let seed = 1; seed <= opts.seeds; seed++) {
        const r = simulate({ nodes: n, blobs, ...caps, ...extra, ranker, seed })
        const t = r.completionSeconds
        runs.push({ seed, p50: percentile(t, 50), p95: percentile(t, 95), max: Math.max(...t), unfinished: r.unfinished, demotions: r.demotions, registryImages: r.registryBytes / blobs.reduce((a, b) => a + b, 0) })
      }
      const mean = k => runs.reduce((a, r) => a + r[k], 0) / runs.length
      const row = { nodes: n, uplinks: label, ranker, lowerBoundSeconds: tlb, p50: mean('p50'), p95: mean('p95'), max: mean('max'), demotions: mean('demotions'), runs }
      rows.push(row)
      console.log(`N=${String(n).padStart(4)} ${label.padEnd(18)} ${ranker.padEnd(9)} p50 ${row.p50.toFixed(2)} p95 ${row.p95.toFixed(2)} max ${row.max.toFixed(2)} s (T_lb ${tlb.toFixed(2)}; the same uplinks) demotions ${row.demotions.toFixed(0)}`)
    }
  }
}

const f = x => x.toFixed(2)
const md = [
  '# Parents not alike, in simulation',
  '',
  `\`node bench/sim/heterogeneous.mjs --nodes ${opts.nodes.join(',')} --seeds ${opts.seeds}\`: the nginx-like image / 16 (${blobs.length} blobs, ${(blobs.reduce((a, b) => a + b, 0) / MB).toFixed(1)} MB), nodes 4 MB/s down and up, registry and seed 8 MB/s, RTT 20 ms; in the "a third at a tenth" rows every third node uploads at 0.4 MB/s. Figures are means over ${opts.seeds} seeds of the simulator's PRNG; T_lb is the lower bound with every node at 4 MB/s (the slow rows cannot reach it). Ranker "random": parent candidates in random order; "local": the daemon's LocalParentRanker; "scheduler": the engine asks the scheduler's ScheduleState (every node's reports reach it a second after they happen; it answers a round trip later; holders are told to it, not gossiped, and it suggests a random sample of them). All run the daemon's engine, bad-parent rule included.`,
  '',
  '| N | uplinks | ranker | p50 s | p95 s | max s | max / T_lb | parents demoted (all nodes) |',
  '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(r => `| ${r.nodes} | ${r.uplinks} | ${r.ranker} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.max)} | ${f(r.max / r.lowerBoundSeconds)} | ${r.demotions.toFixed(0)} |`),
  ''
].join('\n')
const dir = opts.out ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'results')
await writeResult(join(dir, 'sim-heterogeneous.json'), { bench: 'sim-heterogeneous', date: new Date().toISOString(), command: `node bench/sim/heterogeneous.mjs --nodes ${opts.nodes.join(',')} --seeds ${opts.seeds}`, caps, slow, blobs, rows })
await writeResult(join(dir, 'sim-heterogeneous.md'), md)
console.log(`wrote ${join(dir, 'sim-heterogeneous')}.{json,md}`)
