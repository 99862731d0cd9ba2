import { normalizeRegistryKey } from './auth.js'
import { parseV2Path } from './reference.js'

/**
 * One `--allow-origin` pattern: `scheme://host[:port][/path]`, where the host
 * may be `*` or start with `*.` (any subdomain), the port may be `*`, and the
 * path is a prefix on segment boundaries (`/releases` covers `/releases/x`,
 * not `/releases-old`). A trailing `*` on the path changes nothing.
 */
export interface OriginPattern {
  /** As given, for messages. */
  text: string
  protocol: 'http:' | 'https:'
  /** Lowercase; `*` for any host, `*.example.org` for its subdomains. */
  host: string
  /** `''` for the scheme's default, `*` for any. */
  port: string
  /** Starts with `/`; `/` covers everything. */
  path: string
}

/** A pattern that cannot be read: the message says what is wrong with it. */
export class OriginPatternError extends Error {
  static override name = 'OriginPatternError'
  override name = 'OriginPatternError'
}

/** Parses one `--allow-origin` pattern; throws OriginPatternError. */
export function parseOriginPattern (text: string): OriginPattern {
  const m = /^(https?):\/\/(\*|(?:\*\.)?[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\*|\d{1,5}))?(\/[^?#\s]*)?$/.exec(text.trim())
  if (m == null) {
    throw new OriginPatternError(`${JSON.stringify(text.slice(0, 200))} is not an origin pattern: http(s)://HOST[:PORT][/PATH], HOST may be * or *.domain, PORT may be *`)
  }
  const [, scheme, host, port, path] = m as unknown as [string, string, string, string | undefined, string | undefined]
  if (port != null && port !== '*' && Number(port) > 65535) throw new OriginPatternError(`${JSON.stringify(text)}: port ${port} is out of range`)
  let prefix = (path ?? '/').replace(/\*$/, '')
  if (prefix.includes('*')) throw new OriginPatternError(`${JSON.stringify(text)}: * may end the path, not stand inside it`)
  if (prefix.length > 1 && prefix.endsWith('/')) prefix = prefix.slice(0, -1)
  const protocol = `${scheme}:` as 'http:' | 'https:'
  const defaultPort = protocol === 'https:' ? '443' : '80'
  return { text, protocol, host: host.toLowerCase(), port: port === defaultPort ? '' : port ?? '', path: prefix === '' ? '/' : prefix }
}

/** True when `url` is covered by `pattern`. */
export function matchesOriginPattern (pattern: OriginPattern, url: URL): boolean {
  if (url.protocol !== pattern.protocol) return false
  if (pattern.port !== '*' && url.port !== pattern.port) return false
  const host = url.hostname.toLowerCase()
  if (pattern.host !== '*') {
    if (pattern.host.startsWith('*.')) {
      if (!host.endsWith(pattern.host.slice(1))) return false
    } else if (host !== pattern.host) {
      return false
    }
  }
  const path = pattern.path
  return path === '/' || url.pathname === path || url.pathname.startsWith(`${path}/`)
}

export interface OriginPolicyInit {
  /** Registries configured on this node (default, insecure, per-host settings, credentials), by name. */
  registries: Iterable<string>
  /** Where a registry's API lives. */
  endpoint(registry: string): URL
  /** `--allow-origin` patterns, parsed. @default [] */
  patterns?: readonly OriginPattern[]
}

/**
 * The repository and digest of a blob URL of the distribution API
 * (`/v2/<name>/blobs/<digest>`, no query); otherwise why it is not one.
 */
function blobPath (url: URL): { name: string, digest: string } | { problem: string } {
  let route
  try {
    route = parseV2Path(decodeURIComponent(url.pathname))
  } catch (err: any) {
    return { problem: `${url.pathname.slice(0, 200)} does not name a repository and a blob: ${err.message}` }
  }
  if (route?.kind !== 'blob' || url.search !== '') return { problem: 'only blob URLs (/v2/<name>/blobs/<digest>) are fetched from a registry' }
  return { name: route.name, digest: route.digest }
}

/**
 * Which upstreams this node talks to, for itself and for the swarm: the
 * registries it is configured for, and URLs its `--allow-origin` patterns
 * cover. Nothing else is fetched, whoever asks (a seed request from a peer,
 * the control API, a mirror request naming a registry in `ns`). On a
 * configured registry's host only blob URLs are read for a peer, and only
 * for the digest asked: the node's credentials go with every request there,
 * and any other path (a manifest, a catalog) would hand its answer to
 * whoever asked, before any digest could be checked.
 */
export class OriginPolicy {
  readonly #registries: Set<string>
  /** The configured registries by the origin (scheme://host:port) of their APIs. */
  readonly #registryAt = new Map<string, string>()
  readonly #patterns: readonly OriginPattern[]
  readonly #endpoint: (registry: string) => URL

  constructor (init: OriginPolicyInit) {
    this.#registries = new Set([...init.registries].map(normalizeRegistryKey))
    this.#endpoint = init.endpoint
    this.#patterns = init.patterns ?? []
    for (const r of this.#registries) {
      try {
        this.#registryAt.set(init.endpoint(r).origin, r)
      } catch {
        // a name that is not a registry host reaches nothing
      }
    }
  }

  /** True when this node may talk to `registry`: configured, or its API covered by a pattern. */
  allowsRegistry (registry: string): boolean {
    const name = normalizeRegistryKey(registry)
    if (this.#registries.has(name)) return true
    let api: URL
    try {
      api = new URL('/v2/', this.#endpoint(name))
    } catch {
      return false
    }
    return this.#patterns.some(p => matchesOriginPattern(p, api))
  }

  /**
   * The registry and repository a blob URL belongs to: a configured
   * registry's API origin, or a registry allowed by pattern at its own host,
   * with a `/v2/<name>/blobs/<digest>` path. Undefined for a plain URL.
   */
  blobOf (url: URL): { registry: string, name: string } | undefined {
    const blob = blobPath(url)
    if ('problem' in blob) return undefined
    const name = blob.name
    const configured = this.#registryAt.get(url.origin)
    if (configured != null) return { registry: configured, name }
    const host = normalizeRegistryKey(url.host)
    try {
      if (this.#endpoint(host).origin === url.origin && this.allowsRegistry(host)) return { registry: host, name }
    } catch {
      // not a registry host
    }
    return undefined
  }

  /**
   * Why `url` may not be read for the blob `digest`, or undefined when it
   * may. The reason is for this node's log and its own user, never for a
   * peer: it names the rule, and nothing learnt from the network.
   */
  refusal (url: URL, digest: string): string | undefined {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} URLs are not fetched`
    if (url.username !== '' || url.password !== '') return 'URLs carrying credentials are not fetched'
    if (this.#registryAt.has(url.origin)) {
      const blob = blobPath(url)
      if ('problem' in blob) return `${blob.problem}, at ${url.origin}`
      if (blob.digest !== digest) return `the URL names blob ${blob.digest}, not ${digest}`
      return undefined
    }
    if (this.#patterns.some(p => matchesOriginPattern(p, url))) return undefined
    return `${url.origin} is neither a configured registry nor covered by an --allow-origin pattern`
  }
}
