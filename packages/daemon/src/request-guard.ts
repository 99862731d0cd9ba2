import { timingSafeEqual, createHash } from 'node:crypto'
import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'

/** Why a request is turned away, and the HTTP status that says so. */
export interface Rejection {
  status: number
  message: string
}

export interface RequestGuardInit {
  /** A bearer token every request must carry, but those to `openPaths`; undefined for none. */
  token?: string
  /** Paths answered without the token (a liveness probe, static pages). @default none */
  isOpen?(path: string): boolean
  /** Paths that may carry the token as `?access_token=` (RFC 6750 2.3): EventSource cannot send headers. @default [] */
  queryTokenPaths?: readonly string[]
  /** Writes (anything but GET and HEAD) must send `Content-Type: application/json`. @default false */
  jsonWrites?: boolean
}

/** Checks a request before anything else reads it; undefined when it may go on. */
export type RequestGuard = (req: IncomingMessage) => Rejection | undefined

/** True for 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach. */
export function isLoopback (host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (h === 'localhost' || h === '::1') return true
  return isIP(h) === 4 && h.startsWith('127.')
}

/** The host name of a Host header (`[::1]:65002` is `::1`), lowercased; undefined when it cannot be read. */
function hostName (header: string): string | undefined {
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i.exec(header)
  if (v6 != null) return v6[1]!.toLowerCase()
  const m = /^([^:[\]\s]+)(?::\d{1,5})?$/.exec(header)
  return m?.[1]?.toLowerCase()
}

/**
 * A web page can reach a server on this machine in two ways, and both are
 * closed here. Cross-site requests (`fetch` or a form post from another
 * origin) carry `Origin` or `Sec-Fetch-Site`; DNS rebinding makes the page's
 * own host name resolve to this machine, so its requests look same-origin
 * but name that host in `Host`. Container runtimes and the CLI send a Host
 * that is an IP address or `localhost`, and neither header.
 */
function pageRequest (req: IncomingMessage): Rejection | undefined {
  const site = req.headers['sec-fetch-site']
  if (site != null && site !== 'same-origin' && site !== 'none') {
    return { status: 403, message: `cross-site requests are refused (Sec-Fetch-Site: ${site.slice(0, 40)})` }
  }
  const host = req.headers.host
  // absolute-form ("GET http://registry/v2/..."): a client using this node as its proxy, which no page can make a browser do
  const proxied = /^https?:\/\//i.test(req.url ?? '')
  if (!proxied) {
    const name = host == null ? undefined : hostName(host)
    if (name == null) return { status: 400, message: 'the request has no readable Host header' }
    if (name !== 'localhost' && isIP(name) === 0) {
      return { status: 403, message: `Host ${JSON.stringify(host!.slice(0, 100))} is refused: address this server by IP address or localhost` }
    }
  }
  const origin = req.headers.origin
  if (origin != null) {
    let same = false
    try {
      same = host != null && new URL(origin).host === host.toLowerCase()
    } catch {
      // "null" or garbage: not this server's own page
    }
    if (!same) return { status: 403, message: `cross-origin requests are refused (Origin: ${origin.slice(0, 100)})` }
  }
  return undefined
}

function digestOf (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

/**
 * The checks every request to a local server passes before it is read: no
 * web page may drive it (see pageRequest), and when a token is set, the
 * request carries it as a bearer token.
 */
export function createRequestGuard (init: RequestGuardInit = {}): RequestGuard {
  const want = init.token != null ? digestOf(init.token) : undefined
  const queryToken = new Set(init.queryTokenPaths ?? [])
  return (req) => {
    const page = pageRequest(req)
    if (page != null) return page
    const method = req.method ?? 'GET'
    if (init.jsonWrites === true && method !== 'GET' && method !== 'HEAD') {
      const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
      if (type !== 'application/json') return { status: 415, message: `${method.slice(0, 10)} requests must send Content-Type: application/json` }
    }
    if (want == null) return undefined
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (init.isOpen?.(url.pathname) === true) return undefined
    const header = req.headers.authorization
    let given: string | undefined
    if (header != null) given = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1]
    else if (queryToken.has(url.pathname)) given = url.searchParams.get('access_token') ?? undefined
    // compared as hashes: equal lengths, and no early exit that times the prefix
    if (given == null || !timingSafeEqual(digestOf(given), want)) {
      return { status: 401, message: given == null ? 'this API wants a bearer token (Authorization: Bearer <token>; see --api-token-file)' : 'wrong bearer token' }
    }
    return undefined
  }
}
