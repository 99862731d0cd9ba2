import { once } from 'node:events'
import { createServer } from 'node:http'
import { isDigest, parseOriginUrl } from '@damselfly/protocol'
import { serveUi } from './ui.js'
import type { ActivityRecorder } from './activity.js'
import type { BlobAccess } from './blob-access.js'
import type { RequestGuard } from './request-guard.js'
import type { BlobDigest } from '@damselfly/protocol'
import type { MirrorStats } from '@damselfly/registry'
import type { Swarm, TaskSummary } from '@damselfly/swarm'
import type { Logger } from '@libp2p/interface'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'

export interface ControlApiInit {
  host: string
  port: number
}

const MAX_BODY = 64 * 1024

function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2) + '\n'
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function sendError (res: ServerResponse, status: number, where: 'daemon' | 'p2p' | 'origin' | 'request', message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { where, message } }, { ...headers, 'x-damselfly-error-type': where })
}

async function readBody (req: IncomingMessage): Promise<unknown> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength
    if (size > MAX_BODY) throw new Error(`request body is larger than ${MAX_BODY} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

interface DownloadParams {
  digest: BlobDigest
  url?: string
  size?: number
}

function parseDownload (digest: string, url: unknown, size: unknown): DownloadParams {
  if (!isDigest(digest)) throw new Error(`invalid digest ${JSON.stringify(digest.slice(0, 80))}: expected sha256:<64 lowercase hex digits>`)
  let u: string | undefined
  if (url != null && url !== '') {
    if (typeof url !== 'string') throw new Error('url must be a string')
    parseOriginUrl(url)
    u = url
  }
  let s: number | undefined
  if (size != null && size !== '') {
    s = Number(size)
    if (!Number.isSafeInteger(s) || s < 0) throw new Error('size must be a non-negative integer')
  }
  return { digest, url: u, size: s }
}

/** Answers a request the node refuses (an origin it does not read, a blob the client may not have); false for any other error. */
function sendRefusal (res: ServerResponse, err: { name?: string, message: string, status?: number }): boolean {
  if (err.name === 'OriginNotAllowedError') sendError(res, 403, 'request', `not fetched: ${err.message}`)
  else if (err.name === 'BlobAccessError') sendError(res, err.status ?? 403, err.status === 401 || err.status === 403 ? 'request' : 'origin', err.message)
  else return false
  return true
}

function statusFor (where: string): number {
  return where === 'origin' ? 502 : where === 'p2p' ? 504 : 500
}

/** What the control API reports besides the swarm. */
export interface ApiExtras {
  /** What `/metrics` serves: the node's, libp2p's and the process's metrics. */
  metrics: Registry
  /** The registry mirror's counters and address, when it runs. */
  mirror?: { stats: MirrorStats, address(): string | undefined }
  /** Counters over time and recent incidents, for the status page. */
  activity?: ActivityRecorder
  /** True when this node runs as a seed. */
  seed?: boolean
  /** Turns requests away before they are read (web pages, a missing token). */
  guard?: RequestGuard
  /** Who may have a blob under the URL they name. */
  blobAccess: BlobAccess
}

/** A task as the status page draws it: its summary and which pieces it holds. */
export interface TaskView extends TaskSummary {
  /** Base64 of the bitfield of verified pieces (bit i is the MSB-first bit of byte i / 8). */
  bitfield?: string
}

function taskView (swarm: Swarm, task: TaskSummary): TaskView {
  const bytes = swarm.store.get(task.digest)?.bitfield.bytes
  return bytes != null ? { ...task, bitfield: Buffer.from(bytes).toString('base64') } : task
}

/** The local control API: status page, status, tasks, blob download, metrics, health. */
export function createControlApi (swarm: Swarm, log: Logger, extras: ApiExtras): Server {
  return createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(swarm, extras, req, res).catch(err => {
      log('control API error: %s', err.message)
      if (!res.headersSent) sendError(res, 500, 'daemon', err.message)
      else res.destroy(err)
    })
  })
}

async function handle (swarm: Swarm, extras: ApiExtras, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const path = url.pathname
  const method = req.method ?? 'GET'

  const rejected = extras.guard?.(req)
  if (rejected != null) {
    req.resume()
    sendError(res, rejected.status, 'request', rejected.message, rejected.status === 401 ? { 'www-authenticate': 'Bearer realm="damselfly"' } : {})
    return
  }

  if ((path === '/' || path.startsWith('/ui/')) && await serveUi(req, res, 'index.html')) return
  if (path === '/healthz' && method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok\n')
    return
  }
  if (path === '/metrics' && method === 'GET') {
    const text = await extras.metrics.metrics()
    res.writeHead(200, { 'content-type': extras.metrics.contentType })
    res.end(text)
    return
  }
  if (path === '/api/v1/status' && method === 'GET') {
    sendJson(res, 200, {
      peerId: swarm.peerId,
      seed: extras.seed === true,
      listenAddresses: swarm.listenAddresses(),
      bootstrap: swarm.bootstrapStatus(),
      peers: swarm.peers(),
      tasks: swarm.tasks(),
      stats: swarm.stats,
      bans: swarm.bans(),
      mirror: extras.mirror != null ? { address: extras.mirror.address(), ...extras.mirror.stats } : undefined
    })
    return
  }
  if (path === '/api/v1/peers' && method === 'GET') {
    sendJson(res, 200, swarm.peers())
    return
  }
  if (path === '/api/v1/events' && method === 'GET') {
    streamEvents(swarm, extras, req, res)
    return
  }
  if (path === '/api/v1/tasks' && method === 'GET') {
    sendJson(res, 200, swarm.tasks())
    return
  }
  if (path === '/api/v1/tasks' && method === 'POST') {
    let params: DownloadParams
    try {
      const body = await readBody(req) as Record<string, unknown>
      params = parseDownload(String(body.digest ?? ''), body.url, body.size)
    } catch (err: any) {
      sendError(res, 400, 'request', err.message)
      return
    }
    let task
    try {
      task = swarm.download(params)
    } catch (err: any) {
      if (!sendRefusal(res, err)) throw err
      return
    }
    sendJson(res, 202, task.summary())
    return
  }
  const taskMatch = /^\/api\/v1\/tasks\/([^/]+)$/.exec(path)
  if (taskMatch != null && method === 'GET') {
    const digest = decodeURIComponent(taskMatch[1]!)
    const task = isDigest(digest) ? swarm.task(digest) : undefined
    if (task == null) {
      sendError(res, 404, 'request', `no task for ${digest.slice(0, 80)}`)
      return
    }
    sendJson(res, 200, task.summary())
    return
  }
  const piecesMatch = /^\/api\/v1\/tasks\/([^/]+)\/pieces$/.exec(path)
  if (piecesMatch != null && method === 'GET') {
    const digest = decodeURIComponent(piecesMatch[1]!)
    const held = isDigest(digest) ? swarm.store.get(digest) : undefined
    if (held == null) {
      sendError(res, 404, 'request', `no pieces of ${digest.slice(0, 80)}`)
      return
    }
    sendJson(res, 200, { digest, pieces: held.layout.pieces, pieceSize: held.layout.pieceSize, held: held.bitfield.count, bitfield: Buffer.from(held.bitfield.bytes).toString('base64') })
    return
  }
  const blobMatch = /^\/api\/v1\/blobs\/([^/]+)$/.exec(path)
  if (blobMatch != null && (method === 'GET' || method === 'HEAD')) {
    let params: DownloadParams
    try {
      params = parseDownload(decodeURIComponent(blobMatch[1]!), url.searchParams.get('url'), url.searchParams.get('size'))
    } catch (err: any) {
      sendError(res, 400, 'request', err.message)
      return
    }
    if (params.url == null) {
      sendError(res, 400, 'request', 'url is required: the origin a blob is read under decides who may have it')
      return
    }
    await streamBlob(swarm, extras, { ...params, url: params.url }, method === 'HEAD', req, res)
    return
  }
  sendError(res, 404, 'request', `no such endpoint: ${method} ${path}`)
}

/**
 * Server-Sent Events: a `status` snapshot (with the recent history of
 * samples and incidents), then `progress`, `done` and `ban` events as they
 * happen and a `sample` of the counters every second; a comment every 15 s
 * keeps proxies from closing an idle stream. Tasks carry their bitfield.
 */
function streamEvents (swarm: Swarm, extras: ApiExtras, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  const write = (type: string, data: unknown): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
  }
  write('status', {
    peerId: swarm.peerId,
    seed: extras.seed === true,
    listenAddresses: swarm.listenAddresses(),
    peers: swarm.peers().map(p => ({ peer: p.peer, seed: p.seed })),
    tasks: swarm.tasks().map(t => taskView(swarm, t)),
    stats: swarm.stats,
    bans: swarm.bans(),
    mirror: extras.mirror != null ? { address: extras.mirror.address(), ...extras.mirror.stats } : undefined,
    samples: extras.activity?.samples() ?? [],
    incidents: extras.activity?.incidents() ?? []
  })
  const stopEvents = swarm.onEvent(event => {
    write(event.type, event.type === 'ban' ? event : { ...event, task: taskView(swarm, event.task) })
  })
  const stopSamples = extras.activity?.onSample(sample => {
    write('sample', { ...sample, peerList: swarm.peers().map(p => ({ peer: p.peer, seed: p.seed })), mirror: extras.mirror?.stats.bytes })
  })
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
  const end = (): void => {
    stopEvents()
    stopSamples?.()
    clearInterval(keepAlive)
  }
  req.on('close', end)
  res.on('close', end)
}

async function streamBlob (swarm: Swarm, extras: ApiExtras, params: DownloadParams & { url: string }, headOnly: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const controller = new AbortController()
  res.on('close', () => controller.abort(new Error('client went away')))
  let task
  let layout
  try {
    task = await extras.blobAccess.open(new URL(params.url), params.digest, () => swarm.download(params), controller.signal)
    layout = await task.whenLayoutKnown({ signal: controller.signal })
  } catch (err: any) {
    if (controller.signal.aborted || sendRefusal(res, err)) return
    const where = err.where ?? 'daemon'
    sendError(res, statusFor(where), where, err.message)
    return
  }
  const headers = {
    'content-type': 'application/octet-stream',
    'content-length': String(layout.size),
    'docker-content-digest': params.digest
  }
  if (headOnly) {
    res.writeHead(200, headers)
    res.end()
    return
  }
  const pieces = task.read({ signal: controller.signal })[Symbol.asyncIterator]()
  let next
  try {
    // the status waits for the first verified bytes: a task that fails before
    // them gets a JSON error, not a connection closed after a 200
    next = await pieces.next()
  } catch (err: any) {
    if (controller.signal.aborted) return
    const where = err.where ?? 'daemon'
    sendError(res, statusFor(where), where, err.message)
    return
  }
  res.writeHead(200, headers)
  try {
    while (next.done !== true) {
      if (!res.write(next.value)) await once(res, 'drain', { signal: controller.signal })
      next = await pieces.next()
    }
    res.end()
  } catch (err: any) {
    // headers are gone: breaking the connection is the only way to say the body is bad
    res.destroy(err)
  }
}
