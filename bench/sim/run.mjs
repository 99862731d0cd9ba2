// The cold-start experiment in simulation (bench/sim/model.mjs drives the
// daemon's own request policy, piece picker and parent ranker):
//   1. the real-process runs' setups (npm run bench), checked against what
//      bench/results/cold-start.json measured;
//   2. the published scenarios at full image size: 50, 100, 200 and 500 pods
//      pulling a 500 MB nginx image and a 3 GB TensorFlow image;
//   3. toward internet scale: 1,000 and 10,000 nodes.
// Writes bench/results/sim.json and sim.md.
//
//   npm run bench:sim                 everything (about half an hour: the 10,000-node run is most of it)
//   npm run bench:sim -- --quick      small N only (seconds)
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { layerSizes } from '@damselfly/cli'
import { MAX_PIECE_SIZE } from '@damselfly/protocol'
import { benchArgs, pieceSizeFlag, UsageError } from '../lib/args.mjs'
import { lowerBound, percentile, writeResult } from '../lib/report.mjs'
import { simulate } from './model.mjs'

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')
const MB = 1e6
const MiB = 1024 * 1024
const PARTS = ['validation', 'pods', 'scale']
const USAGE = `Usage: npm run bench:sim -- [--quick] [--only PART,...] [--churn FRACTION] [--piece-size KiB]
                        [--divisor D] [--scale-nodes N,...] [--beacons MODE] [--unpaced]

  --quick           small N only (seconds): bench/results/sim-quick.{json,md}
  --only PART,...   run only these of ${PARTS.join(', ')}; the others are kept from the last results
  --churn FRACTION  share of the nodes that leave mid-pull in the churn run, 0..0.5 (default 0.05;
                    0 makes no churn run)
  --piece-size KiB  every blob in pieces of this size, as daemons started with --piece-size
                    (64..${MAX_PIECE_SIZE / 1024}; default: the protocol's rule). Results go to
                    bench/results/sim[-quick]-piece-<KiB>k.{json,md}; part validation is skipped
                    (the real runs used the rule)
  --divisor D       part scale: the 500 MB nginx-like image divided by D, 1..64 (default 16, as
                    npm run bench scales it for 2 cores); other than 16, results go to
                    bench/results/sim[...]-div<D>.{json,md}. With D=1 the 10,000-node run takes hours
                    and over 4 GiB of heap (npm run bench:sim allows 16 GiB)
  --scale-nodes N,... part scale: these node counts instead of 100, 1000, 10000 (the churn run
                    keeps 1,000 nodes, or the largest given below that); rows for other node
                    counts are kept from the last results
  --beacons MODE    what the parent ranker reads of a candidate's load: modelled (the default: its
                    beacons as the daemon sends them, heard a round trip later), fresh (its load the
                    instant it is ranked), none (no beacon heard), or SECONDS (modelled, but every
                    non-seed node beaconing at that interval, 1..3600). Other than modelled, results
                    go to bench/results/sim[...]-beacons-<MODE>.{json,md}
  --unpaced         parts pods and scale with every node's super-seeding ledger as a daemon given no
                    upload rate runs it (the default; without the flag, as one given its link's rate,
                    as npm run bench's runs are). Results go to bench/results/sim[...]-unpaced.{json,md};
                    part validation is skipped (the real runs gave every daemon its rate)
`
const opts = benchArgs('bench:sim', USAGE, {
  quick: { type: 'boolean', default: false },
  churn: { type: 'string', default: '0.05' },
  only: { type: 'string' },
  'piece-size': { type: 'string' },
  divisor: { type: 'string', default: '16' },
  'scale-nodes': { type: 'string' },
  beacons: { type: 'string', default: 'modelled' },
  unpaced: { type: 'boolean', default: false }
}, values => {
  const divisor = Number(values.divisor)
  if (!(Number.isInteger(divisor) && divisor >= 1 && divisor <= 64)) throw new UsageError(`--divisor ${values.divisor}: a whole number from 1 to 64`)
  const scaleNodes = values['scale-nodes']?.split(',').map(Number)
  if (scaleNodes != null && scaleNodes.some(n => !(Number.isInteger(n) && n >= 1 && n <= 100_000))) throw new UsageError(`--scale-nodes ${values['scale-nodes']}: whole numbers 1 to 100000, separated by commas`)
  const pieceSize = pieceSizeFlag(values['piece-size'])
  const churn = Number(values.churn)
  if (!(churn >= 0 && churn <= 0.5)) throw new UsageError(`--churn ${values.churn}: a fraction from 0 to 0.5`)
  const only = values.only?.split(',')
  const unknown = only?.filter(p => !PARTS.includes(p))
  if (unknown != null && unknown.length > 0) throw new UsageError(`--only ${values.only}: ${unknown.join(', ')} is not one of ${PARTS.join(', ')}`)
  const seconds = Number(values.beacons)
  const beacons = ['modelled', 'fresh', 'none'].includes(values.beacons)
    ? { mode: values.beacons }
    : Number.isInteger(seconds) && seconds >= 1 && seconds <= 3600 ? { mode: 'modelled', intervalMs: seconds * 1000 } : undefined
  if (beacons == null) throw new UsageError(`--beacons ${values.beacons}: modelled, fresh, none, or whole seconds from 1 to 3600`)
  return { ...values, churn, only, divisor, scaleNodes, pieceSize, beacons: { ...beacons, label: values.beacons } }
})
/** --only validation,pods,scale runs those parts and keeps the others from the last sim.json. */
const parts = new Set(opts.only ?? PARTS)
// the real runs used the protocol's rule: a fixed piece size would compare unlike with like
if (opts.pieceSize != null || opts.unpaced) parts.delete('validation')

/** An image as the bench builds it: a small config and tar layers split by weight. */
function image (bytes, weights) {
  const tar = n => 512 + Math.ceil(n / 512) * 512 + 1024
  return [1200, ...layerSizes(bytes, weights).map(tar)]
}
const NGINX = [8, 4, 2, 1, 1]
const TENSORFLOW = [10, 6, 4, 3, 2, 1, 1, 1]

function run (name, blobs, n, caps, extra = {}) {
  const started = performance.now()
  const r = simulate({ nodes: n, blobs, ...caps, seed: 7, pieceSize: opts.pieceSize, beacons: opts.beacons.mode, beaconIntervalMs: opts.beacons.intervalMs, unpaced: opts.unpaced, ...extra })
  const S = blobs.reduce((a, b) => a + b, 0)
  const tlb = lowerBound(blobs, n, { down: caps.nodeDown, up: caps.nodeUp, registry: caps.registry, seed: caps.seedRate, pieceSize: opts.pieceSize }).seconds
  const t = r.completionSeconds
  const out = {
    name,
    nodes: n,
    imageBytes: S,
    caps,
    churn: extra.churn ?? 0,
    lowerBoundSeconds: tlb,
    p50: percentile(t, 50),
    p95: percentile(t, 95),
    max: Math.max(...t),
    maxOverLowerBound: Math.max(...t) / tlb,
    registryEgressOverImage: r.registryBytes / S,
    registryPeakBytesPerSecond: r.registryPeakBytesPerSecond,
    directMaxSeconds: Math.max(S / caps.nodeDown, n * S / caps.registry),
    directRegistryEgressOverImage: n,
    seedUploadOverImage: r.seedUploadedBytes / S,
    discardedBytes: r.discardedBytes,
    declined: r.declined,
    finished: t.length,
    unfinished: r.unfinished,
    left: r.left,
    events: r.events,
    wallSeconds: (performance.now() - started) / 1000,
    date: new Date().toISOString()
  }
  const f = (x, d = 2) => x.toFixed(d)
  console.log(`${name.padEnd(34)} N=${String(n).padStart(5)}  p50 ${f(out.p50).padStart(7)} s  p95 ${f(out.p95).padStart(7)} s  max ${f(out.max).padStart(7)} s  T_lb ${f(tlb).padStart(7)} s  max/T_lb ${f(out.maxOverLowerBound)}  registry ${f(out.registryEgressOverImage)}x (direct ${n}x, ${f(out.directMaxSeconds, 1)} s)${out.unfinished > 0 ? `  UNFINISHED ${out.unfinished}` : ''}${out.left > 0 ? `  (${out.left} left mid-pull)` : ''}  [${f(out.wallSeconds, 1)} s]`)
  return out
}

/** What the real-process bench measured, by image key and N, when bench/results/cold-start.json exists. */
async function measured () {
  try {
    const r = JSON.parse(await readFile(join(RESULTS, 'cold-start.json'), 'utf8'))
    return r
  } catch {
    return undefined
  }
}

async function main () {
  const started = performance.now()
  const name = `${opts.quick ? 'sim-quick' : 'sim'}${opts.pieceSize != null ? `-piece-${opts.pieceSize / 1024}k` : ''}${opts.divisor !== 16 ? `-div${opts.divisor}` : ''}${opts.beacons.label !== 'modelled' ? `-beacons-${opts.beacons.label}` : ''}${opts.unpaced ? '-unpaced' : ''}`
  let previous = {}
  try {
    previous = JSON.parse(await readFile(join(RESULTS, `${name}.json`), 'utf8'))
  } catch {
    // no earlier run: every part starts empty
  }
  const results = { validation: previous.validation ?? [], pods: previous.pods ?? [], scale: previous.scale ?? [] }
  for (const p of parts) results[p] = []
  const real = await measured()

  // 1. the real runs' setups
  console.log('1. the real-process runs, simulated (same image, caps and N as npm run bench)')
  if (!parts.has('validation')) {
    console.log('   (kept from the last run)')
  } else if (real?.images != null) {
    for (const img of real.images) {
      const blobs = img.image.blobs.map(b => b.size)
      for (const s of img.summary) {
        if (opts.quick && s.nodes > 10) continue
        const caps = { nodeDown: real.caps.nodeDownBytesPerSecond, nodeUp: real.caps.nodeUpBytesPerSecond, registry: real.caps.registryUpBytesPerSecond, seedRate: real.caps.seedBytesPerSecond, rttS: 0.001 }
        const sim = run(`${img.key} (real run's setup)`, blobs, s.nodes, caps)
        const m = s.p2p
        results.validation.push({ ...sim, measured: { p50: m.p50, max: m.max, maxOverLowerBound: m.maxOverLowerBound, machineCpuBusy: m.machineCpuBusy, cpuBound: m.cpuBound }, maxError: (sim.max - m.max) / m.max, p50Error: (sim.p50 - m.p50) / m.p50 })
        console.log(`   measured: p50 ${m.p50.toFixed(2)} s, max ${m.max.toFixed(2)} s (machine CPU ${(100 * (m.machineCpuBusy ?? 0)).toFixed(0)}%${m.cpuBound ? ', CPU-bound' : ''}); simulated max is ${(100 * (sim.max - m.max) / m.max).toFixed(0)}% off`)
      }
    }
  } else {
    console.log('   (no bench/results/cold-start.json: run npm run bench first to compare)')
  }

  // 2. the published scenarios at full size: 1 Gbit/s nodes, a 1 Gbit/s registry
  const cloud = { nodeDown: 125 * MB, nodeUp: 125 * MB, registry: 125 * MB, seedRate: 125 * MB, rttS: 0.0005 }
  console.log('\n2. the published scenarios at full size: nodes 1 Gbit/s down and up, registry and seed 1 Gbit/s, RTT 0.5 ms')
  const pods = !parts.has('pods') ? [] : opts.quick ? [50] : [50, 100, 200, 500]
  for (const [key, bytes, weights] of [['nginx 500 MB', 500 * MB, NGINX], ['tensorflow 3 GB', 3000 * MB, TENSORFLOW]]) {
    for (const n of pods) results.pods.push(run(key, image(bytes, weights), n, cloud))
  }

  // 3. toward internet scale, with the real runs' caps and image, and churn
  const small = { nodeDown: 4 * MB, nodeUp: 4 * MB, registry: 8 * MB, seedRate: 8 * MB, rttS: 0.02 }
  const d = opts.divisor
  const label = d === 1 ? 'nginx-like (500 MB)' : `nginx-like (500 MB / ${d})`
  console.log(`\n3. toward internet scale: ${label}, nodes 4 MB/s, registry and seed 8 MB/s, RTT 20 ms${opts.churn > 0 ? `; and with ${(100 * opts.churn).toFixed(0)}% of the nodes leaving mid-pull` : ''}`)
  const scaleNodes = opts.scaleNodes ?? (opts.quick ? [100] : [100, 1000, 10000])
  // the churn run: 1,000 nodes, or fewer when only fewer were asked for; none with --churn 0
  const churnNodes = opts.churn > 0 ? [Math.min(1000, Math.max(...scaleNodes))] : []
  if (parts.has('scale') && opts.scaleNodes != null) {
    // rows for node counts not run now stay from the last results (each row carries its date)
    const rerun = row => row.churn > 0 ? churnNodes.includes(row.nodes) : scaleNodes.includes(row.nodes)
    results.scale = (previous.scale ?? []).filter(row => !rerun(row))
  }
  for (const n of !parts.has('scale') ? [] : scaleNodes) {
    results.scale.push(run(label, image(500 * MB / d, NGINX), n, small))
  }
  for (const n of !parts.has('scale') ? [] : churnNodes) {
    // nodes leave within the first 8 s, about the whole of the 2-core image's T_lb, scaled with the image
    results.scale.push(run(`${d === 16 ? 'nginx-like' : label}, churn`, image(500 * MB / d, NGINX), n, small, { churn: opts.churn, leaveBeforeS: 8 * 16 / d }))
  }
  // plain runs by node count, then the churn runs
  results.scale.sort((a, b) => (a.churn > 0) - (b.churn > 0) || a.nodes - b.nodes)

  const out = { ...results, pieceSize: opts.pieceSize ?? 'the protocol\'s rule', beacons: opts.beacons.label, ledger: opts.unpaced ? 'unpaced' : 'paced', notes: 'simulated with bench/sim/model.mjs: fluid flows, the daemon\'s planRequests/pickPiece/pipelineDepth/requestBudget/LocalParentRanker; direct pulls are the fluid bound max(S/B_down, N*S/B_reg)', date: new Date().toISOString(), wallSeconds: (performance.now() - started) / 1000 }
  await writeResult(join(RESULTS, `${name}.json`), JSON.stringify(out, null, 2) + '\n')
  await writeResult(join(RESULTS, `${name}.md`), markdown(out))
  console.log(`\nwrote bench/results/${name}.json and ${name}.md (${out.wallSeconds.toFixed(0)} s)`)
}

function markdown (r) {
  const f = (x, d = 2) => (x == null ? '?' : x.toFixed(d))
  const rows = xs => xs.map(x => `| ${x.name} | ${x.nodes} | ${f(x.imageBytes / MiB, 0)} | ${f(x.p50)} | ${f(x.p95)} | ${f(x.max)} | ${f(x.lowerBoundSeconds)} | ${f(x.maxOverLowerBound)} | ${f(x.registryEgressOverImage)} | ${f(x.registryPeakBytesPerSecond == null ? null : x.registryPeakBytesPerSecond / 1e6, 1)} | ${f(x.directMaxSeconds, 1)} | ${x.left > 0 ? `${x.left} left` : ''}${x.unfinished > 0 ? ` ${x.unfinished} unfinished` : ''} |`)
  const head = ['| scenario | N | MiB | p50 s | p95 s | max s | T_lb s | max/T_lb | registry x image | peak registry MB/s | direct max s | |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |']
  const out = ['# Cold start in simulation', '', `Simulated ${r.date} by \`npm run bench:sim\` (bench/sim/model.mjs): the daemon's request policy, piece picker and parent ranker, imported, over a fluid model of the network. Direct pulls are the fluid bound max(S/B_down, N*S/B_reg); their registry egress is N x.${typeof r.pieceSize === 'number' ? ` Every blob in pieces of ${r.pieceSize / 1024} KiB (\`--piece-size ${r.pieceSize / 1024}\`), not the protocol's rule; T_lb counts one such piece.` : ''}${r.beacons != null && r.beacons !== 'modelled' ? ` The ranker read ${r.beacons === 'fresh' ? 'each candidate\'s load of that instant' : r.beacons === 'none' ? 'no beacons' : `beacons sent every ${r.beacons} s`} (\`--beacons ${r.beacons}\`), not beacons as the daemon sends them.` : ''}${r.ledger === 'unpaced' ? ' Every node declines copies as a daemon given no upload rate does, the default (`--unpaced`: an 8 s window; a node judges its uplink busy from its upload rate against its peak, a seed counts it busy).' : r.ledger === 'paced' ? ' Every node declines copies as a daemon given its link\'s rate does, as npm run bench\'s runs are (a 2 s window, while two pieces are on their way out); `--unpaced` simulates the default.' : ''}`, '']
  // a part not run (--only, or validation with --piece-size) has no section
  if (r.validation.length > 0) {
    out.push('## Checked against the real-process runs', '', '| scenario | N | simulated p50 s | measured p50 s | simulated max s | measured max s | max off by | machine CPU in the real run |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const v of r.validation) out.push(`| ${v.name} | ${v.nodes} | ${f(v.p50)} | ${f(v.measured.p50)} | ${f(v.max)} | ${f(v.measured.max)} | ${f(100 * v.maxError, 0)}% | ${f(100 * (v.measured.machineCpuBusy ?? 0), 0)}%${v.measured.cpuBound ? ' (CPU-bound)' : ''} |`)
    out.push('')
  }
  if (r.pods.length > 0) out.push('## The published scenarios at full size (1 Gbit/s nodes and registry)', '', ...head, ...rows(r.pods), '')
  if (r.scale.length > 0) out.push('## Toward internet scale (4 MB/s nodes, 8 MB/s registry, RTT 20 ms)', '', ...head, ...rows(r.scale), '')
  return out.join('\n')
}

await main()
