// A browser peer against a daemon, fetching the same blob from the same seed
// daemon in one run (issue 30): the seed listens on TCP and WebSockets; each
// round a fresh daemon fetches the blob over TCP (timed on its own clock, from
// the fetch request to the blob verified and stored) and a fresh page in
// headless Chromium fetches it over WebSockets with the light browser peer
// (timed in the page, from fetch() to the verified bytes). Rounds alternate
// which goes first, and wait out the seed's super-seeding window between
// fetches, so neither finds the seed declining what the other just took.
//
//   npm run bench:browser                      64 MiB, 3 rounds: bench/results/browser.{json,md}
//   npm run bench:browser -- --size 32 --rounds 2
//
// Needs chromium (Debian's, /usr/bin/chromium) and the browser bundle (npm run build).
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { SWARM_DEFAULTS } from '@damselfly/daemon'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS } from '../packages/cli/test/helpers/chromium.ts'
import { benchArgs, UsageError } from './lib/args.mjs'
import { startBenchDaemon } from './lib/daemons.mjs'
import { drain, getJson, pollUntil, postJson } from './lib/http-client.mjs'
import { createBlob, startOrigin } from './lib/origin.mjs'
import { cleanupAll, cleanupOnSignals, makeTempDir, stopChild, track, withDeadline } from './lib/processes.mjs'
import { machine, percentile, writeResult } from './lib/report.mjs'

const MiB = 1024 * 1024
const BUNDLE = fileURLToPath(new URL('../packages/browser/dist/damselfly-browser.js', import.meta.url))
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results')
/** Between fetches from the seed, by default: its unpaced super-seeding window, and a second more. */
const DEFAULT_GAP_S = (SWARM_DEFAULTS.superSeedUnpacedWindowMs + 1000) / 1000

const USAGE = `Usage: npm run bench:browser -- [--size MiB] [--rounds K] [--out DIR]

  --size MiB    the blob (default 64)
  --rounds K    a daemon fetch and a browser fetch per round (default 3)
  --gap S       seconds between fetches (default ${DEFAULT_GAP_S}: the seed's super-seeding window
                and a second); 0 has each fetch find the seed just sent the pieces to the other
  --out DIR     write browser.{json,md} there (default bench/results; with --gap, browser-gap-S.*)
`
const opts = benchArgs('bench:browser', USAGE, {
  size: { type: 'string', default: '64' },
  rounds: { type: 'string', default: '3' },
  gap: { type: 'string' },
  out: { type: 'string' }
}, values => {
  const sizeMiB = Number(values.size)
  if (!(Number.isInteger(sizeMiB) && sizeMiB >= 1 && sizeMiB <= 1024)) throw new UsageError(`--size ${values.size}: whole MiB from 1 to 1024`)
  const rounds = Number(values.rounds)
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 10)) throw new UsageError(`--rounds ${values.rounds}: a whole number from 1 to 10`)
  const gapS = Number(values.gap ?? DEFAULT_GAP_S)
  if (!(gapS >= 0 && gapS <= 60)) throw new UsageError(`--gap ${values.gap}: seconds from 0 to 60`)
  return { sizeMiB, rounds, gapMs: gapS * 1000, out: values.out, name: values.gap != null ? `browser-gap-${gapS}` : 'browser' }
})
const GAP_MS = opts.gapMs

const PAGE = `<!doctype html><title>damselfly bench</title>
<script type="module">import { createBrowserPeer } from './damselfly-browser.js'; globalThis.createBrowserPeer = createBrowserPeer</script>`

async function servePage () {
  const bundle = await readFile(BUNDLE).catch(() => { throw new Error(`no browser bundle at ${BUNDLE}: run npm run build`) })
  const server = createServer((req, res) => {
    if (req.url === '/damselfly-browser.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
    else res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${server.address().port}/` }
}

/** In a fresh page: join through the seed's WebSockets address, then fetch and hash the blob; times from fetch(). */
async function browserFetch (browser, url, bootstrap, digest) {
  const page = await browser.newPage()
  try {
    await page.goto(url)
    await page.waitForFunction(() => globalThis.createBrowserPeer != null, undefined, { timeout: 10_000 })
    return await page.evaluate(async ({ bootstrap, digest }) => {
      const peer = await globalThis.createBrowserPeer({ bootstrap })
      try {
        let firstPieceMs
        const started = performance.now()
        const bytes = await peer.fetch(digest, {
          signal: AbortSignal.timeout(300_000),
          onProgress: evt => { if (evt.type === 'damselfly:fetch:piece' && firstPieceMs == null) firstPieceMs = performance.now() - started }
        })
        const ms = performance.now() - started
        const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
        return { ms, firstPieceMs, bytes: bytes.byteLength, sha256: `sha256:${Array.from(hash, b => b.toString(16).padStart(2, '0')).join('')}` }
      } finally {
        await peer.stop()
      }
    }, { bootstrap, digest })
  } finally {
    await page.close()
  }
}

/** A fresh daemon fetches the blob from the seed over TCP; its own clock, from the request to the blob stored. */
async function daemonFetch (dir, seed, origin, blob, signal) {
  const d = await startBenchDaemon(dir, ['--bootstrap', seed.addrs.find(a => !a.includes('/ws')), '--allow-origin', `${new URL(origin.url).origin}/`], { signal })
  try {
    await pollUntil(async () => (await getJson(`${d.api}/api/v1/status`, signal)).peers.find(p => p.peer === seed.peerId && p.seed), signal)
    await postJson(`${d.api}/api/v1/tasks`, { digest: blob.digest, url: origin.url }, signal)
    const task = await pollUntil(async () => {
      const t = await getJson(`${d.api}/api/v1/tasks/${blob.digest}`, signal)
      if (t.state === 'failed') throw new Error(`the daemon's fetch failed: ${t.error?.message}`)
      return t.state === 'complete' ? t : undefined
    }, signal, 100)
    if (task.bytesFromPeers !== blob.size) throw new Error(`the daemon took ${task.bytesFromPeers} of ${blob.size} bytes from peers`)
    return { ms: task.finishedAt - task.startedAt }
  } finally {
    await stopChild(d.child)
  }
}

cleanupOnSignals()
let code = 0
try {
  const work = await makeTempDir('damselfly-bench-browser-')
  const blob = await createBlob(work, opts.sizeMiB * MiB)
  const origin = await startOrigin(blob)
  const page = await servePage()
  // the tests' switches: Chromium resolves nothing but loopback, so it reaches no outside service
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] })
  try {
    await withDeadline(30 * 60_000, 'bench:browser', async signal => {
      const seed = await startBenchDaemon(join(work, 'seed'), ['--seed', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--allow-origin', `${new URL(origin.url).origin}/`], { signal })
      track(seed.child)
      const warm = await drain(`${seed.api}/api/v1/blobs/${blob.digest}?url=${encodeURIComponent(origin.url)}`, signal)
      if (warm.bytes !== blob.size) throw new Error(`the seed streamed ${warm.bytes} of ${blob.size} bytes`)
      await delay(GAP_MS)
      const ws = seed.addrs.find(a => a.includes('/ws'))
      const rounds = []
      for (let r = 0; r < opts.rounds; r++) {
        const order = r % 2 === 0 ? ['daemon', 'browser'] : ['browser', 'daemon']
        const round = {}
        for (const who of order) {
          if (who === 'daemon') round.daemon = await daemonFetch(join(work, `node${r}`), seed, origin, blob, signal)
          else {
            round.browser = await browserFetch(browser, page.url, [ws], blob.digest)
            if (round.browser.sha256 !== blob.digest || round.browser.bytes !== blob.size) throw new Error(`the page got ${round.browser.bytes} bytes hashing to ${round.browser.sha256}`)
          }
          await delay(GAP_MS)
        }
        rounds.push(round)
        const rate = ms => (blob.size / MiB / (ms / 1000)).toFixed(1)
        console.log(`round ${r + 1}: daemon ${rate(round.daemon.ms)} MiB/s (${(round.daemon.ms / 1000).toFixed(2)} s), browser ${rate(round.browser.ms)} MiB/s (${(round.browser.ms / 1000).toFixed(2)} s, first piece after ${(round.browser.firstPieceMs / 1000).toFixed(2)} s)`)
      }
      const mibps = ms => blob.size / MiB / (ms / 1000)
      const daemon = percentile(rounds.map(r => mibps(r.daemon.ms)), 50)
      const browserRate = percentile(rounds.map(r => mibps(r.browser.ms)), 50)
      const firstPiece = percentile(rounds.map(r => r.browser.firstPieceMs), 50)
      const result = { bench: 'browser', date: new Date().toISOString(), machine: machine(), command: `npm run bench:browser -- --size ${opts.sizeMiB} --rounds ${opts.rounds}${opts.name !== 'browser' ? ` --gap ${GAP_MS / 1000}` : ''}`, sizeBytes: blob.size, rounds, medianMiBps: { daemon, browser: browserRate }, browserFirstPieceMs: firstPiece }
      const md = [
        '# A browser peer against a daemon',
        '',
        `\`${result.command}\` on ${result.machine.cpus} cores, ${result.date.slice(0, 10)}: one seed daemon on loopback (TCP and WebSockets) holds a ${opts.sizeMiB} MiB blob; each round a fresh daemon fetches it over TCP (TLS, Yamux), timed on its own clock from the request to the blob stored, and a fresh page in headless Chromium fetches it over WebSockets (Noise, Yamux) with \`createBrowserPeer\`, timed in the page from \`fetch()\` to the verified bytes (the join through the seed before it not counted). Rounds alternate who goes first and wait ${GAP_MS / 1000} s between fetches${GAP_MS >= SWARM_DEFAULTS.superSeedUnpacedWindowMs ? " (the seed's super-seeding window)" : ': each fetch may find the seed declining pieces it just sent to the other, and naming the other as their holder'}.`,
        '',
        '| round | daemon MiB/s | browser MiB/s | browser / daemon | browser: first piece after |',
        '| ---: | ---: | ---: | ---: | ---: |',
        ...rounds.map((r, i) => `| ${i + 1} | ${mibps(r.daemon.ms).toFixed(1)} | ${mibps(r.browser.ms).toFixed(1)} | ${(mibps(r.browser.ms) / mibps(r.daemon.ms)).toFixed(2)} | ${(r.browser.firstPieceMs / 1000).toFixed(2)} s |`),
        `| median | ${daemon.toFixed(1)} | ${browserRate.toFixed(1)} | ${(browserRate / daemon).toFixed(2)} | ${(firstPiece / 1000).toFixed(2)} s |`,
        ''
      ].join('\n')
      const dir = opts.out ?? RESULTS
      await writeResult(join(dir, `${opts.name}.json`), result)
      await writeResult(join(dir, `${opts.name}.md`), md)
      console.log(`median: daemon ${daemon.toFixed(1)} MiB/s, browser ${browserRate.toFixed(1)} MiB/s (${(browserRate / daemon).toFixed(2)} of it); wrote ${join(dir, opts.name)}.{json,md}`)
    })
  } finally {
    await browser.close()
    page.server.close()
    await origin.close()
  }
} catch (err) {
  process.stderr.write(`bench:browser: ${err.message}\n`)
  code = 1
} finally {
  await cleanupAll()
}
process.exit(code)
