import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { createRequestGuard, serveUi } from '@damselfly/daemon'
import { MAX_BROWSER_PEERS, MAX_REPORT_BYTES, parseBrowserReport } from './browser-peers.js'
import type { BrowserPeerReport } from './browser-peers.js'
import type { NodeFeed } from './node-feed.js'
import type { RegistryCounts } from './registry.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Other sites' pages may not read the demo's state nor post to it (DNS rebinding, cross-origin fetches, forms). */
const pageGuard = createRequestGuard({ jsonWrites: true })

/** What the swarm page is told about the demo before anything moves. */
export interface DemoInfo {
  image: { reference: string, name: string, tag: string, manifestDigest: string, totalBytes: number, blobs: Array<{ digest: string, size: number, role: string }> }
  /** host:port of the embedded registry. */
  registry: string
  nodes: Array<{ name: string, role: 'seed' | 'node', peerId: string, api: string, mirror?: string }>
  /**
   * Browser peers the page starts: `peers` of them once every pull is
   * verified (and one more for each click), joining through `bootstrap`
   * (the daemons' WebSockets addresses) to fetch `blob`, the largest layer.
   * `unavailable` says why the page cannot start any.
   */
  browser: { peers: number, bootstrap: string[], blob: { digest: string, size: number }, unavailable?: string }
  startedAt: number
}

/** One node's pull, as the demo runs it. */
export interface PullState {
  node: string
  state: 'waiting' | 'pulling' | 'verified' | 'failed'
  /** Blob bytes received so far. */
  bytes: number
  total: number
  seconds?: number
  error?: string
  /** X-Damselfly-Source of each blob response. */
  sources?: Record<string, number>
}

export interface RegistrySample extends RegistryCounts {
  t: number
}

/** Registry samples kept: an hour at one a second. */
const KEEP_SAMPLES = 3600
/** Bytes queued for one page before it is dropped. */
const MAX_BUFFERED = 16 * 1024 * 1024

/**
 * The demo's swarm page: serves the dashboard's files (swarm.html at /) and
 * one Server-Sent Events stream, /events, that carries every daemon's events
 * tagged with its name (`node`), the registry's byte counts (`registry`),
 * each pull's progress (`pull`), the browser peers' reports (`browser`) and
 * the final `summary`. A page that connects later first gets all of it as it
 * stands now. `GET /api/demo` is the same as JSON. Browser peers started by
 * a page load their code from `/browser/damselfly-browser.js` and post their
 * progress to `POST /api/browser-peers`.
 */
export class DemoDashboard {
  readonly #server: Server
  readonly #clients = new Set<ServerResponse>()
  readonly #feeds: NodeFeed[] = []
  readonly #pulls = new Map<string, PullState>()
  readonly #registry: RegistrySample[] = []
  readonly #browsers = new Map<string, BrowserPeerReport>()
  readonly #browserBundle: string | undefined
  #info: DemoInfo | undefined
  #summary: unknown
  readonly #keepAlive: ReturnType<typeof setInterval>

  /** `browserBundle`: the browser peer's bundle to serve, when it is built. */
  constructor (options: { browserBundle?: string } = {}) {
    this.#browserBundle = options.browserBundle
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(err => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(err.message))
      })
    })
    this.#keepAlive = setInterval(() => { for (const c of this.#clients) c.write(': keep-alive\n\n') }, 15_000)
    this.#keepAlive.unref()
  }

  /**
   * Listens on host:port; with `anyPortIfBusy`, a busy port is replaced by
   * a free one rather than failing. Resolves with host:port.
   */
  async listen (host: string, port: number, anyPortIfBusy = false): Promise<string> {
    try {
      await this.#listenOn(host, port)
    } catch (err: any) {
      if (err.code !== 'EADDRINUSE' || !anyPortIfBusy) throw new Error(`cannot listen on ${host}:${port} for the dashboard: ${err.message}`)
      await this.#listenOn(host, 0)
    }
    const a = this.#server.address() as AddressInfo
    return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
  }

  async #listenOn (host: string, port: number): Promise<void> {
    this.#server.listen(port, host)
    await Promise.race([once(this.#server, 'listening'), once(this.#server, 'error').then(([err]) => { throw err })])
  }

  setInfo (info: DemoInfo): void {
    this.#info = info
    this.#send('demo', info)
  }

  /** Relays a daemon's events, tagged with the feed's name. */
  feed (feed: NodeFeed): (type: string, data: unknown) => void {
    this.#feeds.push(feed)
    return (type, data) => { this.#send('node', { node: feed.name, type, data }) }
  }

  pull (state: PullState): void {
    this.#pulls.set(state.node, state)
    this.#send('pull', state)
  }

  registry (sample: RegistrySample): void {
    this.#registry.push(sample)
    if (this.#registry.length > KEEP_SAMPLES) this.#registry.shift()
    this.#send('registry', sample)
  }

  /** The browser peers' latest reports, in the order they first reported. */
  browserPeers (): BrowserPeerReport[] {
    return [...this.#browsers.values()]
  }

  summary (summary: unknown): void {
    this.#summary = summary
    this.#send('summary', summary)
  }

  close (): void {
    clearInterval(this.#keepAlive)
    for (const c of this.#clients) c.end()
    this.#clients.clear()
    this.#server.closeAllConnections()
    this.#server.close()
  }

  state (): unknown {
    return {
      info: this.#info,
      nodes: Object.fromEntries(this.#feeds.map(f => [f.name, f.snapshot()])),
      pulls: [...this.#pulls.values()],
      browsers: this.browserPeers(),
      registry: this.#registry.at(-1),
      summary: this.#summary
    }
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = pageGuard(req)
    if (refused != null) {
      res.writeHead(refused.status, { 'content-type': 'text/plain' })
      res.end(`${refused.message}\n`)
      return
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/events' && req.method === 'GET') {
      this.#subscribe(req, res)
      return
    }
    if (path === '/api/demo' && req.method === 'GET') {
      const body = JSON.stringify(this.state())
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
      return
    }
    if (path === '/api/browser-peers' && req.method === 'POST') {
      await this.#browserReport(req, res)
      return
    }
    if (path === '/browser/damselfly-browser.js' && req.method === 'GET' && this.#browserBundle != null) {
      const body = await readFile(this.#browserBundle)
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'content-length': body.byteLength, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
      res.end(body)
      return
    }
    if (await serveUi(req, res, 'swarm.html')) return
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
  }

  async #browserReport (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number, message: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain' })
      res.end(`${message}\n`)
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength
      if (size > MAX_REPORT_BYTES) return refuse(413, `a report is at most ${MAX_REPORT_BYTES} bytes`)
      chunks.push(chunk)
    }
    let report: BrowserPeerReport
    try {
      report = parseBrowserReport(JSON.parse(Buffer.concat(chunks).toString('utf8')))
    } catch (err: any) {
      return refuse(400, `bad report: ${err.message}`)
    }
    const known = this.#browsers.get(report.peerId)
    if (known == null && this.#browsers.size >= MAX_BROWSER_PEERS) return refuse(429, `the demo keeps at most ${MAX_BROWSER_PEERS} browser peers`)
    // a peer's last word stands: a late progress report does not undo verified or failed
    if (known != null && known.state !== 'fetching') return refuse(409, `${report.peerId} already reported ${known.state}`)
    this.#browsers.set(report.peerId, report)
    this.#send('browser', report)
    res.writeHead(204)
    res.end()
  }

  #subscribe (req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    const write = (type: string, data: unknown): void => { res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`) }
    if (this.#info != null) write('demo', this.#info)
    for (const f of this.#feeds) {
      const snapshot = f.snapshot()
      if (snapshot != null) write('node', { node: f.name, type: 'status', data: snapshot })
    }
    write('registry-history', { samples: this.#registry })
    for (const p of this.#pulls.values()) write('pull', p)
    for (const b of this.#browsers.values()) write('browser', b)
    if (this.#summary != null) write('summary', this.#summary)
    this.#clients.add(res)
    res.on('error', () => {})
    res.on('close', () => this.#clients.delete(res))
  }

  #send (type: string, data: unknown): void {
    if (this.#clients.size === 0) return
    const text = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`
    for (const c of this.#clients) {
      // a page that does not read its stream is dropped, not buffered for
      if (c.writableEnded) continue
      if (c.writableLength > MAX_BUFFERED) c.destroy()
      else c.write(text)
    }
  }
}
