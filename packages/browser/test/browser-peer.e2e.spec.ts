import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { chromium } from 'playwright-core'
import puppeteer from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric, runCli } from '../../cli/test/helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from '../../cli/test/helpers/origin.js'
import type { DaemonProcess } from '../../cli/test/helpers/cluster.js'
import type { TestBlob } from '../../cli/test/helpers/origin.js'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { Browser } from 'playwright-core'

/** What the tests need of a page, in Playwright's Chromium and in Puppeteer's Firefox (WebDriver BiDi) alike. */
interface Page {
  evaluate<A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R>
}

const MiB = 1024 * 1024
const CHROMIUM = '/usr/bin/chromium'
const FIREFOX = '/usr/bin/firefox-esr'
const BUNDLE = new URL('../dist/damselfly-browser.js', import.meta.url)

const WS = '/ip4/127.0.0.1/tcp/0/ws'
const TCP = '/ip4/127.0.0.1/tcp/0'

/** The daemon's printed listen address of one transport. */
function addrOf (d: DaemonProcess, transport: 'ws' | 'webrtc-direct'): string {
  const found = d.addrs.find(a => multiaddr(a).getComponents().some(c => c.name === transport))
  if (found == null) throw new Error(`no ${transport} address among ${d.addrs.join(' ')}`)
  return found
}

/** A page that loads the bundle as a web app would, and hands createBrowserPeer to the test. */
const PAGE = `<!doctype html><title>damselfly browser peer</title>
<script type="module">
import { createBrowserPeer } from './damselfly-browser.js'
globalThis.createBrowserPeer = createBrowserPeer
</script>`

/** Serves the page and the bundle. */
async function servePage (): Promise<{ server: Server, url: string }> {
  const bundle = await readFile(BUNDLE)
  const server = createServer((req, res) => {
    if (req.url === '/damselfly-browser.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
      return
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }
}

interface PageFetch {
  sha256: string
  length: number
  ms: number
  /** From fetch() to the first verified piece: finding parents and the manifest. */
  firstPieceMs: number
  layoutEvents: number
  pieceEvents: number
  lastReceived: number
  parents: Record<string, number>
  stats: { bytesFromPeers: number, piecesVerified: number, piecesRejected: number, bans: number }
  bans: Array<{ peer: string, reason: string }>
  transports: Array<string | undefined>
}

/** In the page: load the bundle, join through `bootstrap`, fetch the blob and hash what fetch() handed over. */
async function fetchInPage (page: Page, init: { bootstrap: string[], transports?: string[] }, digest: string): Promise<PageFetch> {
  await page.evaluate(async (timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs
    while ((globalThis as any).createBrowserPeer == null) {
      if (performance.now() > deadline) throw new Error('the bundle did not load')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }, 10_000)
  return page.evaluate(async ({ init, digest }) => {
    const peer = await (globalThis as any).createBrowserPeer(init)
    try {
      let layoutEvents = 0
      let pieceEvents = 0
      let lastReceived = 0
      let firstPieceMs = 0
      const started = performance.now()
      const bytes: Uint8Array = await peer.fetch(digest, {
        signal: AbortSignal.timeout(60_000),
        onProgress: (evt: any) => {
          if (evt.type === 'damselfly:fetch:layout') layoutEvents++
          if (evt.type === 'damselfly:fetch:piece') {
            if (pieceEvents === 0) firstPieceMs = performance.now() - started
            pieceEvents++
            lastReceived = evt.detail.received
          }
        }
      })
      const ms = performance.now() - started
      const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
      return {
        sha256: Array.from(hash, b => b.toString(16).padStart(2, '0')).join(''),
        length: bytes.byteLength,
        ms,
        firstPieceMs,
        layoutEvents,
        pieceEvents,
        lastReceived,
        parents: peer.summary(digest)?.parents ?? {},
        stats: peer.stats(),
        bans: peer.bans(),
        transports: peer.connections().map((c: any) => c.transport)
      }
    } finally {
      await peer.stop()
    }
  }, { init, digest })
}

describe('a browser peer in Chromium', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let browser: Browser
  let page: { server: Server, url: string }
  let seed: DaemonProcess
  let node: DaemonProcess
  let blob: TestBlob
  let root: string

  async function uploaded (d: DaemonProcess): Promise<number> {
    return metric(await cluster.api(d, '/metrics'), 'damselfly_uploaded_bytes_total') ?? 0
  }

  beforeAll(async () => {
    await origin.start()
    root = await cluster.root()
    page = await servePage()
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    const env: Record<string, string> = process.env.DEBUG_DAEMONS != null ? { DEBUG: process.env.DEBUG_DAEMONS } : {}
    seed = await cluster.start('seed', ['--seed', '--listen', WS, '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct'], env)
    node = await cluster.start('node', ['--listen', WS, '--listen', TCP, '--bootstrap', addrOf(seed, 'ws')], env)
    blob = makeBlob('/browser.bin', 32 * MiB)
    origin.add(blob)
    // the seed pulls it from the origin, the node from the seed: both hold it
    for (const d of [seed, node]) {
      const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, `${d === seed ? 'seed' : 'node'}.bin`), '--api', d.api])
      expect(r.code, r.stderr).toBe(0)
    }
  })

  afterAll(async () => {
    await browser?.close()
    page?.server.close()
    await cluster.stop()
    await origin.stop()
  })

  it('fetches a 32 MiB blob from daemons over WebSockets: every byte verified, progress reported, the daemons\' metrics show the upload', async () => {
    const before = (await uploaded(seed)) + (await uploaded(node))
    const tab = await browser.newPage()
    const logs: string[] = []
    tab.on('pageerror', err => logs.push(`pageerror ${err.message}`))
    tab.on('console', msg => logs.push(`${msg.type()} ${msg.text()}`))
    // DEBUG_PAGE=damselfly:* (or libp2p:*) shows the page's own logs when a test fails
    if (process.env.DEBUG_PAGE != null) await tab.addInitScript(`localStorage.setItem('debug', ${JSON.stringify(process.env.DEBUG_PAGE)})`)
    try {
      await tab.goto(page.url)
      const got = await fetchInPage(tab, { bootstrap: [addrOf(seed, 'ws'), addrOf(node, 'ws')] }, blob.digest).catch(err => {
        throw new Error(`${err.message}\n${logs.join('\n')}`)
      })
      if (process.env.DEBUG_PAGE != null) console.info(logs.join('\n'), '\nSEED\n', seed.output.join('').slice(-20000), '\nNODE\n', node.output.join('').slice(-20000))
      expect(got.length, logs.join("\n")).toBe(blob.data.length)
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.layoutEvents).toBe(1)
      expect(got.pieceEvents).toBeGreaterThan(1)
      expect(got.lastReceived).toBe(blob.data.length)
      expect(got.stats.bytesFromPeers).toBe(blob.data.length)
      expect(got.stats.piecesRejected).toBe(0)
      expect(Object.keys(got.parents).every(p => p === seed.peerId || p === node.peerId)).toBe(true)
      expect(Object.values(got.parents).reduce((a, b) => a + b, 0)).toBe(blob.data.length)
      expect(got.transports.every(t => t === 'websockets'), got.transports.join(' ')).toBe(true)
      const after = (await uploaded(seed)) + (await uploaded(node))
      expect(after - before, 'piece bytes the daemons sent the browser').toBeGreaterThanOrEqual(blob.data.length)
      // the same blob as the node daemon took it from the seed (beforeAll), for comparison
      const daemonTask = await cluster.api(node, `/api/v1/tasks/${blob.digest}`)
      const daemonMs = daemonTask.finishedAt - daemonTask.startedAt
      const rate = (ms: number, bytes = blob.data.length): string => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`
      // the first pieces wait while the seed declines what it just sent the node (super-seeding): the rest shows the link
      const after1 = rate(got.ms - got.firstPieceMs, blob.data.length * (1 - 1 / got.pieceEvents))
      console.info(`browser: ${blob.data.length / MiB} MiB over WebSockets in ${got.ms.toFixed(0)} ms (${rate(got.ms)}; first piece at ${got.firstPieceMs.toFixed(0)} ms, ${after1} after it) from ${JSON.stringify(got.parents)}; ` +
        `the node daemon from the seed: ${daemonMs} ms (${rate(daemonMs)}) from ${JSON.stringify(daemonTask.parents)}`)
    } finally {
      await tab.close()
    }
  })

  it('fetches it over WebRTC-direct from a daemon that listens there', async () => {
    const before = await uploaded(seed)
    const tab = await browser.newPage()
    const logs: string[] = []
    tab.on('pageerror', err => logs.push(`pageerror ${err.message}`))
    tab.on('console', msg => logs.push(`${msg.type()} ${msg.text()}`))
    try {
      await tab.goto(page.url)
      const got = await fetchInPage(tab, { bootstrap: [addrOf(seed, 'webrtc-direct')], transports: ['webrtc-direct'] }, blob.digest).catch(err => {
        throw new Error(`${err.message}\n${logs.join('\n')}`)
      })
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.lastReceived).toBe(blob.data.length)
      expect(got.parents).toEqual({ [seed.peerId]: blob.data.length })
      expect(got.transports).toEqual(['webrtc-direct'])
      expect((await uploaded(seed)) - before, 'piece bytes the seed sent the browser').toBeGreaterThanOrEqual(blob.data.length)
      console.info(`browser: ${blob.data.length / MiB} MiB over WebRTC-direct in ${got.ms.toFixed(0)} ms (${(blob.data.length / MiB / (got.ms / 1000)).toFixed(1)} MiB/s; first piece at ${got.firstPieceMs.toFixed(0)} ms)`)
    } finally {
      await tab.close()
    }
  })

  it('fetches it in Firefox ESR too, over WebSockets', async () => {
    // playwright-core cannot drive Debian's Firefox; puppeteer-core speaks WebDriver BiDi to it
    const firefox = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true })
    try {
      const before = (await uploaded(seed)) + (await uploaded(node))
      const tab = await firefox.newPage()
      const logs: string[] = []
      tab.on('pageerror', err => logs.push(`pageerror ${String(err)}`))
      await tab.goto(page.url)
      const got = await fetchInPage(tab as unknown as Page, { bootstrap: [addrOf(seed, 'ws'), addrOf(node, 'ws')], transports: ['websockets'] }, blob.digest).catch(err => {
        throw new Error(`${err.message}\n${logs.join('\n')}`)
      })
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.lastReceived).toBe(blob.data.length)
      expect(got.stats.piecesRejected).toBe(0)
      expect((await uploaded(seed)) + (await uploaded(node)) - before).toBeGreaterThanOrEqual(blob.data.length)
      console.info(`firefox: ${blob.data.length / MiB} MiB over WebSockets in ${got.ms.toFixed(0)} ms (${(blob.data.length / MiB / (got.ms / 1000)).toFixed(1)} MiB/s; first piece at ${got.firstPieceMs.toFixed(0)} ms) from ${JSON.stringify(got.parents)}`)
    } finally {
      await firefox.close()
    }
  })

  it('bans a daemon that sends it a corrupt piece, and still hands the page the right bytes', async () => {
    const liar = await cluster.start('liar', ['--listen', WS, '--bootstrap', addrOf(seed, 'ws'), '--test-corrupt-uploads'], { DAMSELFLY_TEST: '1' })
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'liar.bin'), '--api', liar.api])
    expect(r.code, r.stderr).toBe(0)
    // the liar and the honest node are the only holders the page can reach
    await cluster.kill(seed)
    const tab = await browser.newPage()
    try {
      await tab.goto(page.url)
      const got = await fetchInPage(tab, { bootstrap: [addrOf(liar, 'ws'), addrOf(node, 'ws')] }, blob.digest)
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.parents[liar.peerId], 'no byte from the liar was kept').toBeUndefined()
      // banned at its first bad piece: nothing more from it is even looked at
      expect(got.stats.piecesRejected).toBe(1)
      expect(got.bans.map(b => b.peer)).toContain(liar.peerId)
      expect(got.stats.bans).toBeGreaterThanOrEqual(1)
    } finally {
      await tab.close()
    }
  })
})
