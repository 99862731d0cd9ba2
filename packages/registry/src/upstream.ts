import * as tls from 'node:tls'
import { basicAuthorization, normalizeRegistryKey, parseChallenge, pullScope, TokenCache } from './auth.js'
import { UpstreamError } from './errors.js'
import { flatHeaders, readBody, send } from './http.js'
import { OriginPolicy, parseOriginPattern } from './origin-policy.js'
import { isRegistryHost } from './reference.js'
import type { BasicCredentials, Challenge } from './auth.js'
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'

/** One upstream registry, as configured. */
export interface RegistryHostConfig {
  /** Base URL of its API, e.g. https://registry-1.docker.io. @default https://<host>, or http://<host> when insecure */
  endpoint?: string
  /** Reach it over plain HTTP. @default false */
  insecure?: boolean
  username?: string
  password?: string
}

export interface UpstreamInit {
  /** Upstream for mirror requests that name none (no `ns`: CRI-O, Docker); a configured registry. */
  defaultRegistry?: string
  /** Per-registry settings, keyed by the registry's name in image references (docker.io, ghcr.io, host:port). */
  registries?: Record<string, RegistryHostConfig>
  /** Registries reached over plain HTTP, as Docker's --insecure-registry. */
  insecure?: string[]
  /** Extra CA certificates (PEM) trusted for HTTPS besides the system's. */
  ca?: string
  /** Credentials from a Docker config.json, by registry. Config entries win over these. */
  dockerCredentials?: Map<string, BasicCredentials>
  /** Deadline for an upstream's response headers. @default 30000 */
  timeoutMs?: number
  /**
   * Origin patterns (see OriginPattern) this node may read besides its
   * configured registries: other registries' APIs, and plain URLs. @default []
   */
  allowOrigins?: string[]
}

/** Registries whose API lives somewhere other than https://<name>. */
const WELL_KNOWN_ENDPOINTS: Record<string, string> = {
  'docker.io': 'https://registry-1.docker.io'
}

/**
 * Where the API of the registry an image reference names lives, with no
 * configuration: docker.io is https://registry-1.docker.io, any other
 * `host[:port]` is https://host[:port] (http:// when `insecure`).
 */
export function registryEndpoint (registry: string, insecure = false): string {
  const name = normalizeRegistryKey(registry)
  return WELL_KNOWN_ENDPOINTS[name] ?? `${insecure ? 'http' : 'https'}://${name}`
}

/** Largest token-server answer read. */
const MAX_TOKEN_BODY = 64 * 1024
const MAX_REDIRECTS = 5

interface Endpoint {
  registry: string
  url: URL
  credentials?: BasicCredentials
}

/** What a request to a registry needs from the node: headers that authorize it and the CAs to trust. */
export interface RequestAccess {
  headers: Record<string, string>
  ca?: string[]
}

/**
 * The node's way to its upstream registries: where each one's API is,
 * whether it is plain HTTP, which credentials go to it (never anywhere
 * else), the bearer-token exchange, and which CAs to trust.
 */
export class RegistryClient {
  readonly #registries: Map<string, RegistryHostConfig>
  readonly #insecure: Set<string>
  readonly #docker: Map<string, BasicCredentials>
  readonly #timeoutMs: number
  readonly #extraCa: string | undefined
  #caList: string[] | undefined
  readonly #tokens: TokenCache
  /** Last challenge seen per endpoint origin, so later requests authorize up front. */
  readonly #challenges = new Map<string, Challenge>()

  /** The upstreams this node talks to; a registry outside it is never reached (see endpoint). */
  readonly policy: OriginPolicy

  constructor (init: UpstreamInit = {}) {
    this.#registries = new Map(Object.entries(init.registries ?? {}).map(([k, v]) => [normalizeRegistryKey(k), v]))
    this.#insecure = new Set((init.insecure ?? []).map(normalizeRegistryKey))
    for (const [name, c] of this.#registries) if (c.insecure === true) this.#insecure.add(name)
    this.#docker = init.dockerCredentials ?? new Map()
    this.policy = new OriginPolicy({
      registries: [...(init.defaultRegistry != null ? [init.defaultRegistry] : []), ...this.#insecure, ...this.#registries.keys(), ...this.#docker.keys()],
      endpoint: registry => this.#endpoint(registry),
      patterns: (init.allowOrigins ?? []).map(parseOriginPattern)
    })
    this.#timeoutMs = init.timeoutMs ?? 30_000
    this.#extraCa = init.ca
    this.#tokens = new TokenCache(async (url, headers, signal) => {
      const res = await this.#send(url, { headers, signal }, 0)
      const body = await readBody(res, MAX_TOKEN_BODY)
      return { status: res.statusCode ?? 0, body: body.toString('utf8') }
    })
  }

  /**
   * The CAs a request to `url` trusts: none over plain HTTP. Read on the
   * first HTTPS request, not at start: a node that never reaches a registry
   * over HTTPS (most of a swarm) never parses the system store.
   */
  #caFor (url: URL): string[] | undefined {
    if (url.protocol !== 'https:') return undefined
    this.#caList ??= this.#extraCa != null ? [...systemAndDefaultCas(), this.#extraCa] : systemAndDefaultCas()
    return this.#caList
  }

  /** True when `registry` is reached over plain HTTP. */
  isInsecure (registry: string): boolean {
    return this.#insecure.has(normalizeRegistryKey(registry))
  }

  /**
   * Base URL of `registry`'s API. Throws UpstreamError (403) for a registry
   * this node is not configured for and no `allowOrigins` pattern covers.
   */
  endpoint (registry: string): URL {
    const url = this.#endpoint(registry)
    if (!this.policy.allowsRegistry(registry)) {
      throw new UpstreamError(`${normalizeRegistryKey(registry)} is not a registry this node reaches: configure it (registry.hosts, --insecure-registry, --default-registry) or allow its API with --allow-origin ${url.origin}`, { status: 403 })
    }
    return url
  }

  #endpoint (registry: string): URL {
    const name = normalizeRegistryKey(registry)
    if (!isRegistryHost(name)) throw new UpstreamError(`${JSON.stringify(registry.slice(0, 100))} is not a registry host`)
    return new URL(this.#registries.get(name)?.endpoint ?? registryEndpoint(name, this.isInsecure(name)))
  }

  blobUrl (registry: string, name: string, digest: string): URL {
    return new URL(`/v2/${name}/blobs/${digest}`, this.endpoint(registry))
  }

  manifestUrl (registry: string, name: string, reference: string): URL {
    return new URL(`/v2/${name}/manifests/${reference}`, this.endpoint(registry))
  }

  /**
   * Headers and CAs for a request to `url`. Credentials go only to a known
   * registry endpoint, and over plain HTTP only to a registry named insecure:
   * a redirect to blob storage gets none.
   */
  async access (url: URL, signal?: AbortSignal): Promise<RequestAccess> {
    const headers: Record<string, string> = {}
    const endpoint = this.#endpointOf(url)
    if (endpoint != null) {
      const auth = await this.#authorization(endpoint, url, signal)
      if (auth != null) headers.authorization = auth
    }
    return { headers, ca: this.#caFor(url) }
  }

  /**
   * `url` was answered 401 with `header` as its challenge, to a request that
   * carried `sent` as its Authorization (or none). Fetch what that challenge
   * asks for; true when a retry now carries other credentials. What the
   * refused request carried decides, not what this node knew when it was
   * answered: several requests sent at once before the first challenge all
   * come back 401 without credentials, and each is worth its retry.
   */
  async unauthorized (url: URL, header: string | undefined, signal?: AbortSignal, sent?: string): Promise<boolean> {
    const endpoint = this.#endpointOf(url)
    const challenge = parseChallenge(header)
    if (endpoint == null || challenge == null) return false
    this.#challenges.set(endpoint.url.origin, challenge)
    if (challenge.scheme === 'bearer') {
      const scope = challenge.params.scope ?? scopeOf(url)
      // the token the request carried was refused: it is stale, and the next one is fetched afresh
      const refused = sent?.startsWith('Bearer ') === true ? sent.slice(7) : undefined
      if (refused != null && refused === this.#tokens.cached(challenge, scope)) this.#tokens.forget(challenge, scope)
      try {
        await this.#tokens.token(challenge, scope, endpoint.credentials, signal)
      } catch (err: any) {
        throw new UpstreamError(`cannot authorize with ${endpoint.registry}: ${err.message}`, { status: 401 })
      }
      return true
    }
    // basic: worth a retry only with credentials the request did not already carry
    return challenge.scheme === 'basic' && endpoint.credentials != null && sent !== basicAuthorization(endpoint.credentials)
  }

  /**
   * A request to a registry, authorized the way `access` and `unauthorized`
   * describe, retried once after a 401 it can answer, following redirects.
   * `clientAuthorization`, when given, is sent instead of the node's own
   * credentials: the client's identity decides what it may see.
   */
  async request (url: URL, options: { method?: string, headers?: OutgoingHttpHeaders, signal?: AbortSignal, clientAuthorization?: string, followRedirects?: boolean } = {}): Promise<IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      const headers: OutgoingHttpHeaders = { ...options.headers }
      if (options.clientAuthorization != null) {
        headers.authorization = options.clientAuthorization
      } else {
        const a = await this.access(url, options.signal)
        Object.assign(headers, a.headers)
      }
      let res: IncomingMessage
      try {
        res = await this.#send(url, { method: options.method, headers, signal: options.signal }, 0, options.followRedirects === false)
      } catch (err: any) {
        if (options.signal?.aborted === true) throw err
        throw new UpstreamError(`${url.host} could not be reached: ${err.message}`)
      }
      if (res.statusCode === 401 && options.clientAuthorization == null && attempt === 0 &&
        await this.unauthorized(url, header(res, 'www-authenticate'), options.signal, typeof headers.authorization === 'string' ? headers.authorization : undefined)) {
        res.resume()
        continue
      }
      return res
    }
  }

  #endpointOf (url: URL): Endpoint | undefined {
    for (const registry of this.#knownRegistries(url)) {
      let endpoint: URL
      try {
        endpoint = this.endpoint(registry)
      } catch {
        continue
      }
      if (endpoint.origin !== url.origin) continue
      // plain HTTP carries credentials only to a registry the operator named insecure
      const mayCarry = endpoint.protocol === 'https:' || this.isInsecure(registry)
      return { registry, url: endpoint, credentials: mayCarry ? this.#credentials(registry) : undefined }
    }
    return undefined
  }

  /** Registries `url` may belong to: its host, and any configured registry whose endpoint is on that origin. */
  * #knownRegistries (url: URL): Generator<string> {
    yield normalizeRegistryKey(url.host)
    for (const [name, c] of this.#registries) if (c.endpoint != null) yield name
    for (const name of Object.keys(WELL_KNOWN_ENDPOINTS)) yield name
  }

  /** True when this node holds credentials for `registry`. */
  hasCredentials (registry: string): boolean {
    return this.#credentials(normalizeRegistryKey(registry)) != null
  }

  #credentials (registry: string): BasicCredentials | undefined {
    const c = this.#registries.get(registry)
    if (c?.username != null && c.password != null) return { username: c.username, password: c.password }
    return this.#docker.get(registry)
  }

  async #authorization (endpoint: Endpoint, url: URL, signal: AbortSignal | undefined): Promise<string | undefined> {
    const challenge = this.#challenges.get(endpoint.url.origin)
    if (challenge?.scheme === 'bearer') {
      const scope = scopeOf(url)
      const cached = this.#tokens.cached(challenge, scope) ?? this.#tokens.cached(challenge, challenge.params.scope ?? '')
      if (cached != null) return `Bearer ${cached}`
      // the registry wants tokens: get one for this scope before asking
      try {
        return `Bearer ${await this.#tokens.token(challenge, scope, endpoint.credentials, signal)}`
      } catch {
        return undefined
      }
    }
    if (challenge?.scheme === 'basic' && endpoint.credentials != null) return basicAuthorization(endpoint.credentials)
    return undefined
  }

  async #send (url: URL, options: { method?: string, headers?: OutgoingHttpHeaders, signal?: AbortSignal }, redirects: number, keepRedirect = false): Promise<IncomingMessage> {
    const res = await send(url, { ...options, ca: this.#caFor(url), timeoutMs: this.#timeoutMs })
    const status = res.statusCode ?? 0
    const location = res.headers.location
    if (!keepRedirect && [301, 302, 303, 307, 308].includes(status) && location != null) {
      res.resume()
      if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`)
      const next = new URL(location, url)
      // credentials stay with the registry: a redirect elsewhere is followed without them
      const headers = { ...options.headers }
      if (next.origin !== url.origin) delete headers.authorization
      return this.#send(next, { ...options, headers, method: status === 303 ? 'GET' : options.method }, redirects + 1)
    }
    return res
  }
}

function header (res: IncomingMessage, name: string): string | undefined {
  return flatHeaders(res)[name]
}

/** The pull scope of a /v2/<name>/... URL, or '' when the path names no repository. */
function scopeOf (url: URL): string {
  const m = /^\/v2\/(.+)\/(?:manifests|blobs)\/[^/]+$/.exec(url.pathname)
  return m != null ? pullScope(m[1]!) : ''
}

let cas: string[] | undefined

/** Node's bundled CAs plus the operating system's store, read once. */
function systemAndDefaultCas (): string[] {
  if (cas == null) {
    // tls.getCACertificates is Node 22.15+; before it, Node's bundle is all there is
    const get = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates
    const all = new Set(get != null ? get('default') : tls.rootCertificates)
    try {
      for (const c of get?.('system') ?? []) all.add(c)
    } catch {
      // a platform without a readable system store keeps Node's bundle
    }
    cas = [...all]
  }
  return cas
}
