import { OciError } from './errors.js'

/**
 * Repository names, tags and digests as the OCI distribution spec defines
 * them. Everything the mirror takes from a URL passes through here first, so
 * nothing unchecked reaches a file path or an upstream URL.
 */

/** `<name>` of the distribution spec: path components of lowercase alphanumerics joined by separators. */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/
const SHA256 = /^sha256:[a-f0-9]{64}$/
/** Any digest the spec's grammar allows, to tell "unsupported algorithm" from garbage. */
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
/** Longest repository name accepted; the distribution registry uses the same bound. */
export const MAX_NAME_LENGTH = 255

/** Throws NAME_INVALID unless `name` is a valid repository name. */
export function checkName (name: string): string {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME.test(name)) {
    throw new OciError('NAME_INVALID', `invalid repository name ${JSON.stringify(name.slice(0, 300))}`)
  }
  return name
}

export function isTag (reference: string): boolean {
  return TAG.test(reference)
}

/**
 * Throws DIGEST_INVALID unless `digest` is `sha256:<64 lowercase hex>`.
 * Other algorithms are valid in the spec but not content this node can
 * verify, so they are refused rather than passed through unverified.
 */
export function checkDigest (digest: string): string {
  if (SHA256.test(digest)) return digest
  if (ANY_DIGEST.test(digest) && !digest.startsWith('sha256:')) {
    throw new OciError('DIGEST_INVALID', `unsupported digest algorithm in ${JSON.stringify(digest.slice(0, 100))}; only sha256 is served`)
  }
  throw new OciError('DIGEST_INVALID', `invalid digest ${JSON.stringify(digest.slice(0, 100))}`)
}

export function isDigest (reference: string): boolean {
  return SHA256.test(reference)
}

/**
 * A registry host as image references name it: `docker.io`, `ghcr.io`,
 * `registry.local:5000`, `127.0.0.1:5000`, `[::1]:5000`. No scheme, path,
 * user info or whitespace.
 */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

export function isRegistryHost (host: string): boolean {
  if (host.length > 255 || !HOST.test(host)) return false
  const port = /:(\d+)$/.exec(host)
  return port == null || host.endsWith(']') || Number(port[1]) <= 65535
}

/** What a `/v2/...` path asks for. */
export type V2Route =
  | { kind: 'base' }
  | { kind: 'manifest', name: string, reference: string }
  | { kind: 'blob', name: string, digest: string }

/**
 * Parse the path of a read request of the distribution API. Unknown paths
 * are NAME_UNKNOWN-free 404s (undefined); bad names and digests throw the
 * spec's errors. The path must already be percent-decoded exactly once.
 */
export function parseV2Path (path: string): V2Route | undefined {
  if (path === '/v2/' || path === '/v2') return { kind: 'base' }
  if (!path.startsWith('/v2/')) return undefined
  const rest = path.slice(4)
  const m = /^(.+)\/(manifests|blobs)\/([^/]+)$/.exec(rest)
  if (m == null) return undefined
  const [, name, what, reference] = m as unknown as [string, string, string, string]
  checkName(name)
  if (what === 'blobs') {
    if (reference === 'uploads') return undefined
    return { kind: 'blob', name, digest: checkDigest(reference) }
  }
  if (isTag(reference)) return { kind: 'manifest', name, reference }
  return { kind: 'manifest', name, reference: checkDigest(reference) }
}
