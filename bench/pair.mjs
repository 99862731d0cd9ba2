// Throughput of one blob between two processes on loopback, measured three ways
// in the same run so the figures share a machine and a moment:
//   1. raw TCP (node:net), the ceiling of the machine and of Node's sockets;
//   2. a raw libp2p stream on the daemon's stack (TCP + TLS or Noise + Yamux),
//      the ceiling Damselfly's piece exchange can reach;
//   3. Damselfly itself: daemon B fetching a blob that seed daemon A holds,
//      once with the protocol's piece size rule and once per fixed piece size,
//      timed on B from the fetch request to the blob verified and stored;
//      once more with both daemons offering only Noise, against the raw Noise
//      stream (the stack the target was first set for); and once streamed to a client
//      (this process) through B's HTTP API.
// Prints a table and writes bench/results/pair.json.
//
//   npm run bench:pair                      256 MiB, 2 runs of each
//   npm run bench:pair -- --quick           64 MiB, fewer piece sizes
//   npm run bench:pair -- --size 512 --runs 3
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pieceSizeFor } from '@damselfly/protocol'
import { measureDamselfly } from './lib/damselfly-pair.mjs'
import { createBlob, startOrigin } from './lib/origin.mjs'
import { cleanupAll, cleanupOnSignals, makeTempDir, wasInterrupted } from './lib/processes.mjs'
import { measureRawPair, RAW_LIBP2P, RAW_TCP } from './lib/raw-pair.mjs'
import { benchArgs, UsageError } from './lib/args.mjs'
import { formatSize, machine, mibps, summarize, table, writeResult } from './lib/report.mjs'

const KiB = 1024
const MiB = 1024 * KiB
/** What the raw senders write per call, as the daemon's piece server writes piece data. */
const CHUNK = 256 * KiB
const TARGET_RATIO = 0.85
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'pair.json')

const HELP = `Usage: npm run bench:pair -- [--size MiB] [--quick] [--runs N]

  --size MiB   blob size (default 256; 64 with --quick)
  --quick      64 MiB and piece sizes 256 KiB, 1 MiB, 4 MiB (default: also 16 MiB)
  --runs N     runs of each measurement, best reported (default 2)
  --cpu-prof DIR  the daemons write V8 CPU profiles (.cpuprofile) into DIR
`

function options () {
  return benchArgs('bench:pair', HELP, {
    size: { type: 'string' },
    quick: { type: 'boolean', default: false },
    runs: { type: 'string', default: '2' },
    'cpu-prof': { type: 'string' }
  }, values => {
    const sizeMiB = Number(values.size ?? (values.quick ? 64 : 256))
    const runs = Number(values.runs)
    if (!Number.isInteger(sizeMiB) || sizeMiB < 1 || sizeMiB > 4096) throw new UsageError('--size must be an integer 1..4096 (MiB)')
    if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new UsageError('--runs must be an integer 1..20')
    return {
      size: sizeMiB * MiB,
      runs,
      quick: values.quick,
      cpuProfDir: values['cpu-prof'] != null ? resolve(values['cpu-prof']) : undefined,
      // 16 MiB pieces of a 64 MiB blob are only 4 pieces: nothing to learn in --quick
      pieceSizes: values.quick ? [256 * KiB, MiB, 4 * MiB] : [256 * KiB, MiB, 4 * MiB, 16 * MiB],
      // 120 s per measurement at the default size; more for larger blobs
      timeoutMs: 120_000 * Math.max(1, sizeMiB / 256)
    }
  })
}

async function main () {
  const opts = options()
  const host = machine()
  console.log(`bench:pair  ${formatSize(opts.size)} blob, ${opts.runs} run(s) each, best reported`)
  console.log(`machine: ${host.cpus} x ${host.cpuModel}, ${host.memoryGiB} GiB, ${host.platform}, Node ${host.node}\n`)

  const measurements = [
    {
      key: 'tcp',
      name: 'raw TCP (node:net)',
      run: () => measureRawPair({
        label: 'raw TCP', script: RAW_TCP, bytes: opts.size, timeoutMs: opts.timeoutMs,
        receiveArgs: [], sendArgs: addr => [addr, String(opts.size), String(CHUNK)]
      })
    },
    ...[['libp2pTls', 'tls,noise', 'raw libp2p TLS + yamux'], ['libp2pNoise', 'noise', 'raw libp2p Noise + yamux']].map(([key, encrypters, name]) => ({
      key,
      name,
      run: () => measureRawPair({
        label: name, script: RAW_LIBP2P, bytes: opts.size, timeoutMs: opts.timeoutMs,
        receiveArgs: [encrypters], sendArgs: addr => [encrypters, addr, String(opts.size), String(CHUNK)]
      })
    })),
    {
      key: 'damselfly',
      name: `damselfly B <- A (rule: ${formatSize(pieceSizeFor(opts.size))} pieces)`,
      damselfly: true
    },
    {
      // the target was first set against the raw Noise stream: the same comparison there
      key: 'damselflyNoise',
      name: 'damselfly B <- A over Noise only',
      damselfly: true,
      encryption: 'noise'
    },
    {
      key: 'damselflyStreamed',
      name: 'damselfly, streamed to a client',
      damselfly: true,
      stream: true
    },
    ...opts.pieceSizes.map(pieceSize => ({
      key: `damselfly-${pieceSize}`,
      name: `damselfly, --piece-size ${formatSize(pieceSize)}`,
      pieceSize,
      damselfly: true
    }))
  ]

  const dir = await makeTempDir('damselfly-bench-blob-')
  process.stdout.write('writing the blob ... ')
  const blob = await createBlob(dir, opts.size)
  console.log(blob.digest)
  const origin = await startOrigin(blob)
  try {
    // rounds rather than all runs of one kind in a row: slow drift of the
    // machine (thermal, page cache, neighbours) then touches every row alike
    const runs = new Map(measurements.map(m => [m.key, []]))
    for (let round = 1; round <= opts.runs; round++) {
      for (const m of measurements) {
        const result = m.damselfly
          ? await measureDamselfly({ blob, origin, pieceSize: m.pieceSize, encryption: m.encryption, stream: m.stream === true, timeoutMs: opts.timeoutMs, cpuProfDir: opts.cpuProfDir })
          : await m.run()
        runs.get(m.key).push(result)
        const extra = result.streamed ? `, first byte ${result.firstByteSeconds.toFixed(2)} s, task complete ${result.taskSeconds.toFixed(2)} s` : ''
        console.log(`  run ${round}/${opts.runs}  ${m.name.padEnd(44)} ${mibps(result.bytesPerSecond).padStart(7)} MiB/s  (${result.seconds.toFixed(2)} s${extra})`)
      }
    }

    const summaries = Object.fromEntries(measurements.map(m => [m.key, summarize(runs.get(m.key))]))
    const rows = measurements.map(m => {
      const s = summaries[m.key]
      let note
      if (m.key === 'libp2pTls' || m.key === 'libp2pNoise') note = `${s.best.encryption} ${s.best.multiplexer}`
      if (m.damselfly) note = `${s.best.pieces} pieces; ${s.best.encryption}`
      if (m.stream) note += `; first byte ${s.best.firstByteSeconds.toFixed(2)} s; task complete ${mibps(s.best.taskBytesPerSecond)} MiB/s (${s.best.taskSeconds.toFixed(2)} s); client CPU ${s.best.clientCpuSeconds.toFixed(2)} s`
      return { name: m.name, summary: s, note }
    })
    const ratio = summaries.damselfly.bestBytesPerSecond / summaries.libp2pTls.bestBytesPerSecond
    const noiseRatio = summaries.damselflyNoise.bestBytesPerSecond / summaries.libp2pNoise.bestBytesPerSecond
    const streamedRatio = summaries.damselflyStreamed.bestBytesPerSecond / summaries.libp2pTls.bestBytesPerSecond
    // each round's two rows ran minutes apart at most: their ratio, round by round, drifts less than a ratio of bests
    const perRound = (a, b) => runs.get(a).map((r, i) => r.bytesPerSecond / runs.get(b)[i].bytesPerSecond)
    const median = xs => {
      const sorted = [...xs].sort((x, y) => x - y)
      const mid = sorted.length >> 1
      return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
    const tlsRounds = perRound('damselfly', 'libp2pTls')
    const noiseRounds = perRound('damselflyNoise', 'libp2pNoise')
    const verdictOf = r => r >= TARGET_RATIO ? 'PASS' : 'BELOW TARGET'
    const verdict = verdictOf(ratio)
    const noiseVerdict = verdictOf(noiseRatio)

    console.log(`\n${table(rows, opts.size)}\n`)
    console.log('damselfly: B\'s own clock from the fetch request (POST /api/v1/tasks) to the last piece verified and stored,')
    console.log('           the whole digest checked: the piece transfer between two daemons.')
    console.log('streamed:  this process GETs the blob from B and drains it, request to last byte: a third process on the')
    console.log('           machine\'s cores, and B reads every byte back; "task complete" is B\'s clock as above.')
    console.log('CPU s/GiB: CPU seconds each side spent per GiB moved (damselfly: A serving / B fetching and storing, and streaming).')
    console.log(`ratio damselfly / raw libp2p, each on the same stack (target >= ${TARGET_RATIO}):`)
    const rounds = xs => `round by round ${xs.map(x => x.toFixed(2)).join(', ')}, median ${median(xs).toFixed(3)}`
    console.log(`  TLS + yamux (what two daemons choose)  = ${ratio.toFixed(3)}  ${verdict}  (${rounds(tlsRounds)})`)
    console.log(`  Noise + yamux (the target's own stack) = ${noiseRatio.toFixed(3)}  ${noiseVerdict}  (${rounds(noiseRounds)})`)
    console.log(`ratio streamed to a client / raw libp2p (TLS) = ${streamedRatio.toFixed(3)}`)

    const report = {
      bench: 'pair',
      date: new Date().toISOString(),
      machine: host,
      blobBytes: opts.size,
      chunkBytes: CHUNK,
      runs: opts.runs,
      reported: 'best of runs (highest bytes/s); median also given',
      measurements: Object.fromEntries(measurements.map(m => {
        const s = summaries[m.key]
        return [m.key, {
          name: m.name,
          pieceSize: m.damselfly ? s.best.pieceSize : undefined,
          bestBytesPerSecond: Math.round(s.bestBytesPerSecond),
          medianBytesPerSecond: Math.round(s.medianBytesPerSecond),
          runs: s.runs.map(r => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toFixed(4)) : v])))
        }]
      })),
      ratio: {
        damselflyOverLibp2pTls: Number(ratio.toFixed(4)),
        damselflyNoiseOverLibp2pNoise: Number(noiseRatio.toFixed(4)),
        perRoundTls: tlsRounds.map(x => Number(x.toFixed(4))),
        perRoundNoise: noiseRounds.map(x => Number(x.toFixed(4))),
        streamedOverLibp2pTls: Number(streamedRatio.toFixed(4)),
        target: TARGET_RATIO,
        verdict,
        noiseVerdict
      }
    }
    await writeResult(RESULTS, report)
    console.log(`wrote ${RESULTS}`)
  } finally {
    await origin.close()
  }
}

cleanupOnSignals()
try {
  await main()
} catch (err) {
  if (!wasInterrupted()) console.error(`\nbench:pair failed: ${err?.stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanupAll()
}
