import { once } from 'node:events'
import { createServer } from 'node:http'
import { UpstreamError, OciError } from './errors.js'
import { flatHeaders, readBody } from './http.js'
import { ManifestCache, sha256 } from './manifest-cache.js'
import { PullAccess } from './pull-access.js'
import { isDigest, isRegistryHost, parseV2Path } from './reference.js'
import type { RegistryClient } from './upstream.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** Where the bytes of a response came from; sent as X-Damselfly-Source. */
export type Source = 'cache' | 'peer' | 'seed' | 'upstream'

/** A blob the provider can serve: its size, where it comes from, and its bytes. */
export interface BlobHandle {
  size: number
  source: Source
  /** Bytes [start, end) in order, each verified before it is yielded. */
  read(start: number, end: number, signal: AbortSignal): AsyncIterable<Uint8Array>
}

/**
 * Blobs as the mirror sees them: by digest, with the upstream URL they can
 * be pulled from. The daemon implements this with the swarm; the mirror
 * knows nothing of peers.
 */
export interface BlobProvider {
  /**
   * Resolves once the blob's size is known. Throws OciError (BLOB_UNKNOWN,
   * UNAUTHORIZED, ...) or UpstreamError when it cannot be had.
   */
  open(request: {
    digest: string
    upstream: URL
    signal: AbortSignal
    /** Bytes [start, end) the client asked for, when it asked for a bounded range (its end may pass the blob's): a provider may fetch only those. */
    range?: [number, number]
  }): Promise<BlobHandle>
}

export interface MirrorInit {
  upstream: RegistryClient
  blobs: BlobProvider
  /** Who may read what; shared with whatever else serves blobs. @default one of its own over `upstream` */
  access?: PullAccess
  /** Directory for manifests by digest. */
  manifestDir: string
  /** Upstream for requests that carry no `ns` (CRI-O, Docker). Undefined: such requests get NAME_UNKNOWN. */
  defaultRegistry?: string
  /** Turns a request away before it is read (a web page's, say): its status and why. */
  admit?(req: IncomingMessage): { status: number, message: string } | undefined
  /** Called as response bytes are written, by source, for metrics. */
  onBytes?(source: Source, bytes: number): void
  log?(message: string): void
}

export interface MirrorStats {
  bytes: Record<Source, number>
  requests: { manifest: number, blob: number, base: number, rejected: number }
  /** The last RECENT_REQUESTS manifest and blob requests, oldest first: what `damselfly doctor` looks for after a test pull. */
  recent: MirrorRequest[]
}

/** One manifest or blob request the mirror answered. */
export interface MirrorRequest {
  /** When it was answered, in ms since the epoch. */
  at: number
  method: string
  kind: 'manifest' | 'blob'
  registry?: string
  name: string
  reference: string
  status: number
}

/** How many requests `MirrorStats.recent` keeps. */
export const RECENT_REQUESTS = 64

/** Largest manifest accepted from upstream; the distribution registry's own limit. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]

/**
 * The read side of the OCI distribution API, for container runtimes:
 * `GET /v2/`, `GET|HEAD /v2/<name>/manifests/<tag|digest>`,
 * `GET|HEAD /v2/<name>/blobs/<digest>` with Range. Manifests by tag are
 * resolved upstream (tags move); manifests by digest are served from a
 * verified cache; blobs come from the BlobProvider.
 */
export class Mirror {
  readonly stats: MirrorStats = {
    bytes: { cache: 0, peer: 0, seed: 0, upstream: 0 },
    requests: { manifest: 0, blob: 0, base: 0, rejected: 0 },
    recent: []
  }

  readonly #init: MirrorInit
  readonly #manifests: ManifestCache
  readonly #access: PullAccess

  constructor (init: MirrorInit) {
    this.#init = init
    this.#manifests = new ManifestCache(init.manifestDir)
    this.#access = init.access ?? new PullAccess({ upstream: init.upstream })
  }

  /** An HTTP server around `handle`, which also answers malformed requests with OCI errors. */
  createServer (): Server {
    const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => { void this.handle(req, res) })
    server.on('clientError', (err: any, socket: Socket) => {
      this.stats.requests.rejected++
      if (!socket.writable) return socket.destroy()
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
      const e = new OciError('UNSUPPORTED', tooLarge ? 'request headers too large' : 'malformed HTTP request', { status: tooLarge ? 431 : 400 })
      const body = e.body()
      socket.end(`HTTP/1.1 ${e.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
    })
    return server
  }

  async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.#route(req, res)
    } catch (err: any) {
      const e = toOciError(err)
      if (e.status >= 500 || e.code === 'UNAUTHORIZED') this.#init.log?.(`${req.method} ${req.url?.slice(0, 300)}: ${e.status} ${e.message}`)
      if (res.headersSent) {
        // the body has begun: breaking the connection is the only way to say it is bad
        res.destroy(err)
        return
      }
      this.stats.requests.rejected++
      const body = e.body()
      res.writeHead(e.status, { ...e.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'docker-distribution-api-version': 'registry/2.0' })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
  }

  async #route (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = this.#init.admit?.(req)
    if (refused != null) throw new OciError('DENIED', refused.message, { status: refused.status })
    const { path, registry } = this.#target(req)
    let route
    try {
      route = parseV2Path(decodeURIComponent(path))
    } catch (err: any) {
      if (err instanceof URIError) throw new OciError('NAME_INVALID', 'the path is not valid percent-encoding')
      throw err
    }
    if (route == null) throw new OciError('UNSUPPORTED', `no such endpoint: ${(req.method ?? '').slice(0, 10)} ${path.slice(0, 200)}`, { status: 404 })
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new OciError('UNSUPPORTED', `this is a read-only mirror: ${req.method?.slice(0, 10) ?? ''} is not supported`, { headers: { allow: 'GET, HEAD' } })
    }
    if (route.kind === 'base') {
      this.stats.requests.base++
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, 'docker-distribution-api-version': 'registry/2.0' })
      res.end(req.method === 'HEAD' ? undefined : '{}')
      return
    }
    this.#remember(req, res, registry, route.kind === 'manifest'
      ? { kind: 'manifest', name: route.name, reference: route.reference }
      : { kind: 'blob', name: route.name, reference: route.digest })
    if (registry == null) {
      throw new OciError('NAME_UNKNOWN', 'no upstream registry: the request has no ns parameter and the mirror has no default registry')
    }
    if (route.kind === 'manifest') {
      this.stats.requests.manifest++
      await this.#manifest(req, res, registry, route.name, route.reference)
    } else {
      this.stats.requests.blob++
      await this.#blob(req, res, registry, route.name, route.digest)
    }
  }

  /** Adds the request to `stats.recent` once it has been answered, with the status it got. */
  #remember (req: IncomingMessage, res: ServerResponse, registry: string | undefined, what: Pick<MirrorRequest, 'kind' | 'name' | 'reference'>): void {
    res.once('close', () => {
      const recent = this.stats.recent
      recent.push({ at: Date.now(), method: req.method ?? '', registry, ...what, status: res.statusCode })
      if (recent.length > RECENT_REQUESTS) recent.splice(0, recent.length - RECENT_REQUESTS)
    })
  }

  /** The path asked for and the upstream registry it is meant for. */
  #target (req: IncomingMessage): { path: string, registry?: string } {
    let raw = req.url ?? '/'
    let proxied: string | undefined
    const absolute = /^https?:\/\/([^/?#]*)/i.exec(raw)
    if (absolute != null) {
      // absolute form: the client uses this node as an HTTP proxy for that registry
      proxied = absolute[1]!
      if (!isRegistryHost(proxied)) throw new OciError('NAME_INVALID', `${JSON.stringify(proxied.slice(0, 100))} is not a registry host`)
      raw = raw.slice(absolute[0].length) || '/'
    }
    // the path as sent, never normalised: "/v2/../x" is a bad name, not "/x"
    const q = raw.indexOf('?')
    const path = q < 0 ? raw : raw.slice(0, q)
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))
    const ns = query.get('ns') ?? undefined
    if (ns != null && !isRegistryHost(ns)) throw new OciError('NAME_INVALID', `ns=${JSON.stringify(ns.slice(0, 100))} is not a registry host`)
    return { path, registry: ns ?? proxied ?? this.#init.defaultRegistry }
  }

  async #manifest (req: IncomingMessage, res: ServerResponse, registry: string, name: string, reference: string): Promise<void> {
    const head = req.method === 'HEAD'
    const authorization = req.headers.authorization
    if (isDigest(reference)) {
      const cached = await this.#manifests.get(reference)
      if (cached != null) {
        // cached for whoever asked first: this client gets it only if the registry would give it to this client
        const controller = new AbortController()
        res.on('close', () => controller.abort())
        await this.#access.check({ registry, name, digest: reference, kind: 'manifest', authorization, signal: controller.signal })
        this.#access.learnManifest({ registry, name, digest: reference, authorization }, cached.bytes)
        this.#sendManifest(res, head, cached.bytes, cached.mediaType, cached.digest, 'cache')
        return
      }
    }
    const upstream = this.#init.upstream
    const url = upstream.manifestUrl(registry, name, reference)
    const controller = new AbortController()
    res.on('close', () => controller.abort())
    // every Accept header the client sent, as one list: a client that repeats Accept (podman) gets what it asked for
    const accept = req.headersDistinct.accept?.join(', ') ?? [...MANIFEST_TYPES, '*/*'].join(', ')
    const upRes = await upstream.request(url, {
      // a GET even for HEAD: the body is what the digest is checked against, and what the cache keeps
      method: 'GET',
      headers: { accept, 'user-agent': 'damselfly-mirror' },
      signal: controller.signal,
      clientAuthorization: authorization
    })
    const status = upRes.statusCode ?? 0
    if (status !== 200) {
      await relayUpstreamError(upRes, status, name, reference, 'manifest')
    }
    let body: Buffer
    try {
      body = await readBody(upRes, MAX_MANIFEST_BYTES)
    } catch (err: any) {
      throw new OciError('MANIFEST_INVALID', `${registry}: ${err.message}`, { status: 502 })
    }
    const digest = sha256(body)
    const declared = flatHeaders(upRes)['docker-content-digest']
    if (isDigest(reference) && digest !== reference) {
      throw new OciError('MANIFEST_INVALID', `${registry} sent a manifest whose digest is ${digest}, not the ${reference} asked for`, { status: 502 })
    }
    if (declared != null && isDigest(declared) && declared !== digest) {
      throw new OciError('MANIFEST_INVALID', `${registry} sent a manifest whose digest is ${digest}, not the ${declared} it declared`, { status: 502 })
    }
    const mediaType = mediaTypeOf(body, flatHeaders(upRes)['content-type'])
    // the registry gave it to this client: so may everything it names be
    this.#access.learnManifest({ registry, name, digest, authorization }, body)
    try {
      await this.#manifests.put(body, mediaType)
    } catch (err: any) {
      // a full disk costs the cache, not the pull
      this.#init.log?.(`cannot cache manifest ${digest}: ${err.message}`)
    }
    this.#sendManifest(res, head, body, mediaType, digest, 'upstream')
  }

  #sendManifest (res: ServerResponse, head: boolean, body: Buffer, mediaType: string, digest: string, source: Source): void {
    res.writeHead(200, {
      'content-type': mediaType,
      'content-length': body.byteLength,
      'docker-content-digest': digest,
      'docker-distribution-api-version': 'registry/2.0',
      'x-damselfly-source': source
    })
    if (head) {
      res.end()
      return
    }
    this.#count(source, body.byteLength)
    res.end(body)
  }

  async #blob (req: IncomingMessage, res: ServerResponse, registry: string, name: string, digest: string): Promise<void> {
    const controller = new AbortController()
    res.on('close', () => controller.abort(new Error('the client went away')))
    // content-addressed is not public: held here or by peers, a blob goes only to a client the registry would give it to
    await this.#access.check({ registry, name, digest, kind: 'blob', authorization: req.headers.authorization, signal: controller.signal })
    // a HEAD needs the size only: as a read of the first byte, it costs at most the first piece, never the whole blob
    const wanted = req.method === 'HEAD' ? [0, 1] as [number, number] : boundedRange(req.headers.range)
    const handle = await this.#init.blobs.open({ digest, upstream: this.#init.upstream.blobUrl(registry, name, digest), signal: controller.signal, range: wanted })
    const range = parseRange(req.headers.range, handle.size)
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'docker-content-digest': digest,
      'docker-distribution-api-version': 'registry/2.0',
      'accept-ranges': 'bytes',
      'x-damselfly-source': handle.source
    }
    if (range === 'unsatisfiable') {
      throw new OciError('RANGE_INVALID', `the range ${req.headers.range?.slice(0, 100)} is outside the blob's ${handle.size} bytes`, { headers: { 'content-range': `bytes */${handle.size}` } })
    }
    const [start, end] = range ?? [0, handle.size]
    headers['content-length'] = end - start
    if (range != null) headers['content-range'] = `bytes ${start}-${end - 1}/${handle.size}`
    if (req.method === 'HEAD' || end === start) {
      res.writeHead(range != null ? 206 : 200, headers)
      res.end()
      return
    }
    // the status waits for the first verified bytes: a blob that fails before
    // them gets a real OCI error, not a connection closed after a 200
    const bytes = handle.read(start, end, controller.signal)[Symbol.asyncIterator]()
    let next = await bytes.next()
    res.writeHead(range != null ? 206 : 200, headers)
    while (next.done !== true) {
      this.#count(handle.source, next.value.byteLength)
      if (!res.write(next.value)) await once(res, 'drain', { signal: controller.signal })
      next = await bytes.next()
    }
    res.end()
  }

  #count (source: Source, bytes: number): void {
    this.stats.bytes[source] += bytes
    this.#init.onBytes?.(source, bytes)
  }
}

/**
 * A `Range: bytes=a-b` header as [a, b + 1), before the blob's size is
 * known; undefined for any other form (open-ended, suffix, several, none).
 */
export function boundedRange (header: string | undefined): [number, number] | undefined {
  const m = header == null ? null : /^bytes=(\d+)-(\d+)$/.exec(header.trim())
  if (m == null) return undefined
  const start = Number(m[1])
  const last = Number(m[2])
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start) return undefined
  return [start, last + 1]
}

/**
 * `Range: bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`: [start, end)
 * exclusive, undefined for no (or an ignorable) Range header, 'unsatisfiable'
 * when it lies outside the blob. Several ranges are not served: the whole
 * blob is, as RFC 9110 allows.
 */
export function parseRange (header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header == null) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m == null || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const n = Number(m[2])
    if (n === 0) return 'unsatisfiable'
    return [Math.max(0, size - n), size]
  }
  const start = Number(m[1])
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable'
  if (last < start) return undefined
  return [start, last + 1]
}

/** The manifest's own mediaType field, else the upstream's Content-Type, else guessed from its shape. */
function mediaTypeOf (body: Buffer, contentType: string | undefined): string {
  let parsed: { mediaType?: unknown, manifests?: unknown, layers?: unknown } | undefined
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new OciError('MANIFEST_INVALID', 'the upstream sent a manifest that is not JSON', { status: 502 })
  }
  if (typeof parsed?.mediaType === 'string' && parsed.mediaType !== '') return parsed.mediaType
  const type = contentType?.split(';')[0]?.trim()
  if (type != null && type !== '' && type !== 'application/octet-stream') return type
  return Array.isArray(parsed?.manifests) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json'
}

/** Turn an upstream's non-200 answer into the OCI error the client gets. */
async function relayUpstreamError (res: IncomingMessage, status: number, name: string, reference: string, what: 'manifest'): Promise<never> {
  const headers = flatHeaders(res)
  let detail: unknown
  try {
    const text = (await readBody(res, 64 * 1024)).toString('utf8')
    detail = JSON.parse(text)?.errors?.[0]?.message
  } catch {
    // no readable error body: the status says enough
  }
  const suffix = typeof detail === 'string' ? `: ${detail}` : ''
  if (status === 401) {
    // the challenge goes to the client, which can answer it itself
    const challenge = headers['www-authenticate']
    throw new OciError('UNAUTHORIZED', `the upstream registry wants authentication for ${name}${suffix}`, { headers: challenge != null ? { 'www-authenticate': challenge } : {} })
  }
  if (status === 403) throw new OciError('DENIED', `the upstream registry denied access to ${name}${suffix}`)
  if (status === 404) throw new OciError(what === 'manifest' ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN', `${name}:${reference} is not in the upstream registry${suffix}`)
  if (status === 429) throw new OciError('TOOMANYREQUESTS', `the upstream registry is rate limiting${suffix}`)
  throw new OciError('UPSTREAM_UNAVAILABLE', `the upstream registry answered ${status}${suffix}`)
}

/** Anything thrown while serving, as the OCI error the client gets. */
export function toOciError (err: any): OciError {
  if (err instanceof OciError) return err
  if (err instanceof UpstreamError) {
    if (err.status === 401) return new OciError('UNAUTHORIZED', err.message, { headers: err.headers })
    if (err.status === 403) return new OciError('DENIED', err.message)
    if (err.status === 404) return new OciError('BLOB_UNKNOWN', err.message)
    return new OciError('UPSTREAM_UNAVAILABLE', err.message)
  }
  return new OciError('UPSTREAM_UNAVAILABLE', `the mirror could not serve this: ${err?.message ?? String(err)}`, { status: 500 })
}
