import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { multiaddr } from '@multiformats/multiaddr'
import type { DaemonProcess } from '../../../cli/test/helpers/cluster.js'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

const BUNDLE = new URL('../../dist/damselfly-browser.js', import.meta.url)

/** What the tests need of a page, in Playwright's Chromium and in Puppeteer's Firefox (WebDriver BiDi) alike. */
export interface Page {
  evaluate<A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R>
}

/** The daemon's printed listen address of one transport. */
export function addrOf (d: DaemonProcess, transport: 'ws' | 'webrtc-direct'): string {
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
export async function servePage (): Promise<{ server: Server, url: string }> {
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

export interface PageFetch {
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

/** In the page: join through `bootstrap`, fetch the blob and hash what fetch() handed over; `keep` leaves the peer running. */
export async function fetchInPage (page: Page, init: { bootstrap: string[], transports?: string[] }, digest: string, options: { keep?: boolean } = {}): Promise<PageFetch> {
  await page.evaluate(async (timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs
    while ((globalThis as any).createBrowserPeer == null) {
      if (performance.now() > deadline) throw new Error('the bundle did not load')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }, 10_000)
  return page.evaluate(async ({ init, digest, keep }) => {
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
      // kept, the peer goes on serving what it holds until stopInPage
      if (keep) (globalThis as any).peer = peer
      else await peer.stop()
    }
  }, { init, digest, keep: options.keep === true })
}

/** The counters of the peer a page kept (fetchInPage with keep), and its addresses; stops it with `stop`. */
export async function keptPeer (page: Page, stop = false): Promise<{ peerId: string, addresses: string[], stats: { bytesUploaded: number } }> {
  return page.evaluate(async (stop: boolean) => {
    const peer = (globalThis as any).peer
    const out = { peerId: peer.peerId, addresses: peer.addresses(), stats: peer.stats() }
    if (stop) await peer.stop()
    return out
  }, stop)
}
