/**
 * Registry authentication: the WWW-Authenticate challenge (RFC 7235 as
 * registries send it), basic credentials, and the bearer-token exchange of
 * the Docker token spec, with tokens cached per scope until they expire.
 */

export interface Challenge {
  /** Lowercased: 'bearer' or 'basic'. */
  scheme: string
  /** Parameter names lowercased: realm, service, scope, error, ... */
  params: Record<string, string>
}

/**
 * Parse a WWW-Authenticate header. Registries send one challenge, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`;
 * when several are sent the first is returned. Undefined when it cannot be read.
 */
export function parseChallenge (header: string | undefined): Challenge | undefined {
  if (header == null) return undefined
  const m = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)(?:\s+(.*))?$/s.exec(header)
  if (m == null) return undefined
  const params: Record<string, string> = {}
  const rest = m[2] ?? ''
  const param = /\s*([A-Za-z][A-Za-z0-9._-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/gy
  let p: RegExpExecArray | null
  while (param.lastIndex < rest.length && (p = param.exec(rest)) != null) {
    params[p[1]!.toLowerCase()] = p[2] != null ? p[2].replace(/\\(.)/g, '$1') : p[3]!
  }
  return { scheme: m[1]!.toLowerCase(), params }
}

export interface BasicCredentials {
  username: string
  password: string
}

export function basicAuthorization (c: BasicCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`
}

/**
 * The `auths` of a Docker `config.json`, keyed by registry host.
 * Keys may be full URLs (`https://index.docker.io/v1/`); entries carry
 * `auth` (base64 of user:password) or `username` and `password`.
 * Entries that cannot be read are reported through `problems`, not thrown.
 */
export function credentialsFromDockerConfig (config: unknown, problems: string[] = []): Map<string, BasicCredentials> {
  const out = new Map<string, BasicCredentials>()
  const auths = (config as { auths?: unknown } | null)?.auths
  if (auths == null) return out
  if (typeof auths !== 'object' || Array.isArray(auths)) {
    problems.push('"auths" is not an object')
    return out
  }
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    const host = normalizeRegistryKey(key)
    const e = entry as { auth?: unknown, username?: unknown, password?: unknown } | null
    if (typeof e?.auth === 'string' && e.auth !== '') {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon <= 0) {
        problems.push(`auths[${JSON.stringify(key)}].auth is not base64 of user:password`)
        continue
      }
      out.set(host, { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) })
    } else if (typeof e?.username === 'string' && typeof e.password === 'string') {
      out.set(host, { username: e.username, password: e.password })
    }
    // entries with only credsStore / identitytoken are helpers this daemon does not run
  }
  return out
}

/** `https://index.docker.io/v1/` → `docker.io`; `ghcr.io` → `ghcr.io`. */
export function normalizeRegistryKey (key: string): string {
  let host = key.trim()
  host = host.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '')
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'registry.hub.docker.com') return 'docker.io'
  return host
}

interface CachedToken {
  token: string
  expiresAt: number
}

/** What fetching a token needs from the HTTP layer: one GET returning status and body. */
export type TokenFetch = (url: URL, headers: Record<string, string>, signal?: AbortSignal) => Promise<{ status: number, body: string }>

/** Tokens are used until this long before they expire. */
const EXPIRY_MARGIN_MS = 10_000
/** The token spec's default lifetime when a token server does not say. */
const DEFAULT_TOKEN_SECONDS = 60
const MAX_TOKENS = 1000

/**
 * Bearer tokens per (realm, service, scope), fetched with basic credentials
 * when there are some, anonymously otherwise, and reused until expiry.
 * Concurrent requests for the same scope share one fetch.
 */
export class TokenCache {
  readonly #tokens = new Map<string, CachedToken>()
  readonly #pending = new Map<string, Promise<string>>()
  readonly #fetch: TokenFetch

  constructor (fetch: TokenFetch) {
    this.#fetch = fetch
  }

  /** A cached, unexpired token for this challenge and scope, if any. */
  cached (challenge: Challenge, scope: string): string | undefined {
    const t = this.#tokens.get(this.#key(challenge, scope))
    return t != null && t.expiresAt - EXPIRY_MARGIN_MS > Date.now() ? t.token : undefined
  }

  /** Drop a token the registry refused, so the next request fetches a new one. */
  forget (challenge: Challenge, scope: string): void {
    this.#tokens.delete(this.#key(challenge, scope))
  }

  async token (challenge: Challenge, scope: string, credentials: BasicCredentials | undefined, signal?: AbortSignal): Promise<string> {
    const cached = this.cached(challenge, scope)
    if (cached != null) return cached
    const key = this.#key(challenge, scope)
    let p = this.#pending.get(key)
    if (p == null) {
      p = this.#fetchToken(challenge, scope, credentials, signal).finally(() => this.#pending.delete(key))
      this.#pending.set(key, p)
    }
    return p
  }

  #key (challenge: Challenge, scope: string): string {
    return `${challenge.params.realm ?? ''} ${challenge.params.service ?? ''} ${scope}`
  }

  async #fetchToken (challenge: Challenge, scope: string, credentials: BasicCredentials | undefined, signal?: AbortSignal): Promise<string> {
    const realm = challenge.params.realm
    let url: URL
    try {
      url = new URL(realm ?? '')
    } catch {
      throw new Error(`the registry's bearer challenge has no usable realm (${JSON.stringify(realm ?? '')})`)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`the token realm ${url.origin} is not http(s)`)
    if (challenge.params.service != null) url.searchParams.set('service', challenge.params.service)
    if (scope !== '') url.searchParams.set('scope', scope)
    const headers: Record<string, string> = {}
    if (credentials != null) headers.authorization = basicAuthorization(credentials)
    const res = await this.#fetch(url, headers, signal)
    if (res.status === 401 || res.status === 403) {
      throw new Error(`the token server ${url.origin}${url.pathname} refused ${credentials != null ? `the credentials of ${credentials.username}` : 'anonymous access'} (${res.status})`)
    }
    if (res.status !== 200) throw new Error(`the token server ${url.origin}${url.pathname} answered ${res.status}`)
    let body: { token?: unknown, access_token?: unknown, expires_in?: unknown, issued_at?: unknown }
    try {
      body = JSON.parse(res.body)
    } catch {
      throw new Error(`the token server ${url.origin}${url.pathname} sent something that is not JSON`)
    }
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined
    if (token == null || token === '') throw new Error(`the token server ${url.origin}${url.pathname} sent no token`)
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS
    const issued = typeof body.issued_at === 'string' ? Date.parse(body.issued_at) : NaN
    // a token server's clock may be off: count from now, not from issued_at, when they disagree by much
    const start = Number.isFinite(issued) && Math.abs(issued - Date.now()) < 60_000 ? issued : Date.now()
    if (this.#tokens.size >= MAX_TOKENS) this.#tokens.delete(this.#tokens.keys().next().value!)
    this.#tokens.set(this.#key(challenge, scope), { token, expiresAt: start + seconds * 1000 })
    return token
  }
}

/** `repository:<name>:pull`, the scope of a read of repository `name`. */
export function pullScope (name: string): string {
  return `repository:${name}:pull`
}
