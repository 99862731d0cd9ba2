#!/usr/bin/env node
// Parents that are not alike, with real daemons: a seed and N nodes, every
// third node uploading at a tenth of the others' rate, pull one image through
// their mirrors at once. Three swarms in turn, each fresh: the nodes with a
// damselfly scheduler, ranking parents by what they measured themselves, and
// taking candidates in random order (--parent-ranking random); R rounds,
// the order of the three turned each round. The simulator's version of the
// same is bench/sim/heterogeneous.mjs.
//
//   npm run bench:heterogeneous -- [--nodes N] [--size MiB] [--rounds R] [--out DIR]
//
// Writes bench/results/heterogeneous.{json,md}.
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import { generateImage } from '@damselfly/cli'
import { benchArgs, UsageError } from './lib/args.mjs'
import { startCappedProxy } from './lib/capped-proxy.mjs'
import { startDistributionRegistry } from './lib/distribution-registry.mjs'
import { cleanupOnSignals, makeTempDir, removeTempDir } from './lib/processes.mjs'
import { lowerBound, machine, percentile, writeResult } from './lib/report.mjs'
import { swarmPull } from './lib/swarm-run.mjs'

const MiB = 1024 * 1024
const MB = 1e6
const RANKINGS = ['scheduler', 'measured', 'random']
const NODE_RATE = 4 * MB
const SLOW_RATE = 0.4 * MB
const SEED_RATE = 8 * MB

const USAGE = `Usage: npm run bench:heterogeneous -- [--nodes N] [--size MiB] [--rounds R] [--out DIR]

  A seed (8 MB/s) and N nodes (4 MB/s down; up 4 MB/s, every third node 0.4 MB/s)
  pull one image at once through their mirrors, in three fresh swarms: with a
  damselfly scheduler, with the nodes' own measured ranking, and with random
  parent choice (--parent-ranking random). p50, p95 and max of the pulls.

  --nodes N     nodes, 3..30 (default 12)
  --size MiB    the image (default 32)
  --rounds R    each swarm R times, the order turned each round (default 2)
  --out DIR     write heterogeneous.{json,md} to DIR instead of bench/results
`

const opts = benchArgs('bench:heterogeneous', USAGE, {
  nodes: { type: 'string', default: '12' },
  size: { type: 'string', default: '32' },
  rounds: { type: 'string', default: '2' },
  out: { type: 'string' }
}, values => {
  const nodes = Number(values.nodes)
  if (!(Number.isInteger(nodes) && nodes >= 3 && nodes <= 30)) throw new UsageError(`--nodes ${values.nodes}: a whole number from 3 to 30`)
  const sizeMiB = Number(values.size)
  if (!(sizeMiB > 0 && sizeMiB <= 1024)) throw new UsageError(`--size ${values.size}: a number of MiB above 0 and at most 1024`)
  const rounds = Number(values.rounds)
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 10)) throw new UsageError(`--rounds ${values.rounds}: a whole number from 1 to 10`)
  if (values.out === '') throw new UsageError('--out: a directory')
  return { nodes, sizeMiB, rounds, out: values.out }
})
const RESULTS = opts.out != null ? resolve(opts.out) : join(dirname(fileURLToPath(import.meta.url)), 'results')
const f = (x, d = 2) => (x == null ? '?' : x.toFixed(d))
/** Every third node (the 1st, 4th, ...) uploads at a tenth. */
const slow = i => i % 3 === 0
const rates = i => ({ down: String(NODE_RATE), up: String(slow(i) ? SLOW_RATE : NODE_RATE) })

/** MiB a node uploaded during the pull, on average, over the slow third's nodes or the others. */
function uploadedMiB (runs, slowOnes) {
  const nodes = runs.flatMap(r => r.daemons.filter(d => d.role === 'node' && (d.uploadRate === String(SLOW_RATE)) === slowOnes))
  return nodes.length === 0 ? undefined : nodes.reduce((a, d) => a + (d.uploadedBytes ?? 0), 0) / nodes.length / MiB
}

function summary (ranking, runs, tlb) {
  const all = runs.flatMap(r => r.seconds)
  const mean = key => runs.reduce((a, r) => a + r[key], 0) / runs.length
  const seedMiB = runs.reduce((a, r) => a + (r.daemons.find(d => d.role === 'seed')?.uploadedBytes ?? 0), 0) / runs.length / MiB
  return { ranking, runs: runs.length, p50: mean('p50'), p95: mean('p95'), max: mean('max'), maxOverTlb: mean('max') / tlb, pulls: all.length, machineCpuBusy: mean('machineCpuBusy'), slowUploadedMiB: uploadedMiB(runs, true), fastUploadedMiB: uploadedMiB(runs, false), seedUploadedMiB: seedMiB }
}

function markdown (result) {
  const head = ['ranking', 'rounds', 'p50 s', 'p95 s', 'max s', 'max / T_lb', 'p95 / random\'s', 'MiB up per slow node', 'per other node', 'the seed', 'machine CPU']
  const random = result.summaries.find(s => s.ranking === 'random')
  return [
    '# Parents not alike, real daemons',
    '',
    `\`npm run bench:heterogeneous -- --nodes ${opts.nodes} --size ${opts.sizeMiB} --rounds ${opts.rounds}\`, ${result.date}, ${result.machine.cpus} cores, load before ${result.loadBefore.map(x => f(x, 1)).join(' ')}.`,
    `A seed (${SEED_RATE / MB} MB/s) and ${opts.nodes} nodes (${NODE_RATE / MB} MB/s down; up ${NODE_RATE / MB} MB/s, every third node ${SLOW_RATE / MB} MB/s) pull a ${opts.sizeMiB} MiB image at once through their mirrors; a fresh swarm for each ranking and round, the order turned each round. Figures are means over the rounds; T_lb (${f(result.lowerBoundSeconds)} s) is the lower bound with every node at ${NODE_RATE / MB} MB/s. The simulated version: sim-heterogeneous.md.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' ---: ').join('|')}|`,
    ...result.summaries.map(s => `| ${s.ranking} | ${s.runs} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.max)} | ${f(s.maxOverTlb)} | ${random != null ? f(s.p95 / random.p95) : '?'} | ${f(s.slowUploadedMiB, 1)} | ${f(s.fastUploadedMiB, 1)} | ${f(s.seedUploadedMiB, 1)} | ${f(100 * s.machineCpuBusy, 0)}% |`),
    '',
    'Each run: ' + result.runs.map(r => `${r.ranking} (round ${r.round}) p95 ${f(r.p95)} s`).join('; '),
    ''
  ].join('\n')
}

async function main () {
  cleanupOnSignals()
  const loadBefore = loadavg()
  const work = await makeTempDir('damselfly-bench-heterogeneous-')
  const upstream = await startDistributionRegistry()
  const registry = await startCappedProxy({ target: upstream.host, rate: SEED_RATE })
  const runs = []
  let image
  try {
    image = await generateImage(join(work, 'image'), { size: opts.sizeMiB * MiB, weights: [8, 4, 2, 1, 1], name: 'bench/heterogeneous', tag: 'v1', seed: 'damselfly-bench-heterogeneous' })
    await upstream.push(join(work, 'image'), image.tag, `${image.name}:${image.tag}`)
    for (let round = 1; round <= opts.rounds; round++) {
      // the order turned each round: none always runs on the machine's freshest minutes
      const order = RANKINGS.map((_, k) => RANKINGS[(k + round - 1) % RANKINGS.length])
      for (const ranking of order) {
        console.log(`round ${round}, ${ranking}: a seed and ${opts.nodes} fresh daemons...`)
        const r = await swarmPull({ n: opts.nodes, ranking, image, registry, seedRate: String(SEED_RATE), rates, label: `${ranking}, round ${round}` })
        const run = { round, ranking, seconds: r.seconds, p50: percentile(r.seconds, 50), p95: percentile(r.seconds, 95), max: Math.max(...r.seconds), machineCpuBusy: r.machineCpuBusy, daemons: r.daemons }
        runs.push(run)
        console.log(`  p50 ${f(run.p50)} s, p95 ${f(run.p95)} s, max ${f(run.max)} s, machine ${f(100 * run.machineCpuBusy, 0)}% busy`)
      }
    }
  } finally {
    await registry.close()
    await upstream.stop()
    await removeTempDir(work)
  }
  const tlb = lowerBound(image.blobs.map(b => b.size), opts.nodes, { down: NODE_RATE, up: NODE_RATE, registry: SEED_RATE, seed: SEED_RATE }).seconds
  const summaries = RANKINGS.map(k => summary(k, runs.filter(r => r.ranking === k), tlb))
  const result = { date: new Date().toISOString(), machine: machine(), loadBefore, loadAfter: loadavg(), nodes: opts.nodes, sizeMiB: opts.sizeMiB, lowerBoundSeconds: tlb, summaries, runs }
  await writeResult(join(RESULTS, 'heterogeneous.json'), result)
  await writeResult(join(RESULTS, 'heterogeneous.md'), markdown(result))
  console.log(`\n${markdown(result)}`)
}

main().catch(err => {
  console.error(`bench:heterogeneous: ${err.message}`)
  process.exitCode = 1
})
