import { createHash } from 'node:crypto'
import { normalizeRegistryKey } from './auth.js'
import { OciError } from './errors.js'
import { flatHeaders } from './http.js'
import { isDigest } from './reference.js'
import type { RegistryClient } from './upstream.js'

export interface PullAccessInit {
  upstream: RegistryClient
  /** How long a registry's yes is kept. @default 300000 (5 minutes) */
  ttlMs?: number
  /** How much longer a yes still counts while the registry cannot be reached (down, 5xx). @default 3600000 (1 hour) */
  staleMs?: number
  /** Milliseconds; a test passes its own clock. @default Date.now */
  now?: () => number
  /**
   * Asks others (the swarm's members) whether the registry lets anyone
   * read it, when the registry cannot be reached and this node has no yes
   * of its own. @default nobody is asked
   */
  vouch?(question: PublicQuestion, signal?: AbortSignal): Promise<boolean>
}

/** PullAccess.snapshot(): plain data, JSON as it is. */
export interface PullAccessSnapshot {
  version: 1
  /** [registry/name, digest, until] */
  members: Array<[string, string, number]>
  /** [registry/name, 'node' | 'anonymous', until] */
  grants: Array<[string, string, number]>
}

/** Whether the registry lets anyone read a blob or manifest of a repository. */
export interface PublicQuestion {
  registry: string
  name: string
  digest: string
  kind: 'blob' | 'manifest'
}

export interface PullRequest {
  registry: string
  /** Repository name. */
  name: string
  digest: string
  kind: 'blob' | 'manifest'
  /** The client's own Authorization header; without one, the node's own credentials (or none) are what count. */
  authorization?: string
  signal?: AbortSignal
}

/** Repositories remembered, and digests per repository: a few MiB at most. */
const MAX_REPOSITORIES = 4096
const MAX_DIGESTS_PER_REPOSITORY = 4096
/** Digests read from one manifest; an index of more platforms than this is not a real one. */
const MAX_REFERENCES = 1024

/** A yes for a key until `until` (fresh) or `until + staleMs` (while the registry cannot be asked). */
type Expiry = number

/**
 * Whether a client may read a blob or manifest that this node could serve
 * from its cache or from peers: content-addressed is not public, so the
 * upstream registry decides, as it would for a pull from it.
 *
 * Two facts, both learnt from the registry and kept only when it said yes:
 * that a digest is in a repository (a HEAD of it there said 200, or a
 * manifest fetched from there names it), and that an identity may read the
 * repository (anything it asked there was answered). An identity is the
 * client's own Authorization header (by its hash, never kept), or the node
 * itself (its configured credentials for that registry, else none) when the
 * client sends none. A repository anonymous clients may read lets anyone
 * read it. So a whole pull costs the registry one round trip per
 * repository and identity per `ttlMs`, and usually none: the manifest by
 * tag, which the mirror fetches upstream anyway, teaches both facts for
 * every blob the image has.
 */
export class PullAccess {
  readonly #upstream: RegistryClient
  readonly #ttlMs: number
  readonly #staleMs: number
  readonly #now: () => number
  readonly #vouch: PullAccessInit['vouch']
  /** `registry/name` → digest → expiry. */
  readonly #members = new Map<string, Map<string, Expiry>>()
  /** `registry/name identity` → expiry. */
  readonly #grants = new Map<string, Expiry>()
  /** Checks under way, so a burst of requests for one blob asks once. */
  readonly #pending = new Map<string, Promise<void>>()
  /** Round trips made to registries, for tests and metrics. */
  checks = 0
  /** Counts every change to what is known, so a caller saves only when there is something new. */
  changes = 0

  constructor (init: PullAccessInit) {
    this.#upstream = init.upstream
    this.#ttlMs = init.ttlMs ?? 300_000
    this.#staleMs = init.staleMs ?? 3_600_000
    this.#now = init.now ?? Date.now
    this.#vouch = init.vouch
  }

  /**
   * What this node can tell a peer that asks (see `vouch`): true when the
   * registry said, within the last `ttlMs + staleMs`, that anyone may read
   * it. Never asks the registry.
   */
  knowsPublic (q: PublicQuestion): boolean {
    return this.#allowed(repositoryKey(q.registry, q.name), 'anonymous', q.digest, this.#now() - this.#staleMs)
  }

  /**
   * Resolves when the client may read `digest` in that repository; else
   * throws the OciError a registry would answer (UNAUTHORIZED with the
   * registry's own challenge, so the client can log in and ask again;
   * DENIED; BLOB_UNKNOWN or MANIFEST_UNKNOWN when the repository does not
   * hold it; UPSTREAM_UNAVAILABLE when the registry cannot say).
   */
  async check (req: PullRequest): Promise<void> {
    const repo = repositoryKey(req.registry, req.name)
    const who = this.#identity(req)
    if (this.#allowed(repo, who, req.digest, this.#now())) return
    const key = `${repo} ${who} ${req.digest}`
    let p = this.#pending.get(key)
    if (p == null) {
      p = this.#ask(req, repo, who).finally(() => this.#pending.delete(key))
      this.#pending.set(key, p)
    }
    await p
  }

  /**
   * The registry answered a manifest of (registry, name) to this client:
   * the identity may read the repository, and the manifest and every digest
   * it names (config, layers, the manifests of an index) are in it.
   */
  learnManifest (req: Omit<PullRequest, 'kind' | 'signal'>, body: Uint8Array): void {
    const repo = repositoryKey(req.registry, req.name)
    const until = this.#now() + this.#ttlMs
    this.#grant(repo, this.#identity(req), until)
    this.#member(repo, req.digest, until)
    for (const d of referencedDigests(body)) this.#member(repo, d, until)
  }

  /** Forget everything: the next request of each kind asks the registry. */
  clear (): void {
    this.#members.clear()
    this.#grants.clear()
    this.changes++
  }

  /**
   * What is worth keeping across a restart, so a node that restarts while
   * its registry is down still knows what it knew: digests by repository,
   * and the node's own and anonymous readers. A client's identity is not
   * kept: a hash of a password on disk is one guess away from the password.
   */
  snapshot (): PullAccessSnapshot {
    const horizon = this.#now() - this.#staleMs
    const members: PullAccessSnapshot['members'] = []
    for (const [repo, digests] of this.#members) {
      for (const [digest, until] of digests) if (until > horizon) members.push([repo, digest, until])
    }
    const grants: PullAccessSnapshot['grants'] = []
    for (const [key, until] of this.#grants) {
      const space = key.lastIndexOf(' ')
      const who = key.slice(space + 1)
      if (until > horizon && (who === 'node' || who === 'anonymous')) grants.push([key.slice(0, space), who, until])
    }
    return { version: 1, members, grants }
  }

  /** Takes back what `snapshot` gave; anything unreadable or long expired is left out. */
  restore (snapshot: unknown): void {
    const s = snapshot as Partial<PullAccessSnapshot> | null
    if (s?.version !== 1 || !Array.isArray(s.members) || !Array.isArray(s.grants)) return
    const horizon = this.#now() - this.#staleMs
    for (const m of s.members) {
      if (!Array.isArray(m) || typeof m[0] !== 'string' || typeof m[1] !== 'string' || !isDigest(m[1]) || typeof m[2] !== 'number' || m[2] <= horizon) continue
      this.#member(m[0], m[1], m[2])
    }
    for (const g of s.grants) {
      if (!Array.isArray(g) || typeof g[0] !== 'string' || (g[1] !== 'node' && g[1] !== 'anonymous') || typeof g[2] !== 'number' || g[2] <= horizon) continue
      this.#grant(g[0], g[1], g[2])
    }
  }

  #identity (req: { registry: string, authorization?: string }): string {
    if (req.authorization != null && req.authorization !== '') {
      return `client:${createHash('sha256').update(req.authorization).digest('base64url').slice(0, 22)}`
    }
    return this.#upstream.hasCredentials(req.registry) ? 'node' : 'anonymous'
  }

  /** Known, at `now`, to be in the repository and readable by the identity (or by anyone). */
  #allowed (repo: string, who: string, digest: string, now: number): boolean {
    const member = this.#members.get(repo)?.get(digest)
    if (member == null || member <= now) return false
    const grant = Math.max(this.#grants.get(`${repo} ${who}`) ?? -Infinity, this.#grants.get(`${repo} anonymous`) ?? -Infinity)
    return grant > now
  }

  async #ask (req: PullRequest, repo: string, who: string): Promise<void> {
    const url = req.kind === 'blob'
      ? this.#upstream.blobUrl(req.registry, req.name, req.digest)
      : this.#upstream.manifestUrl(req.registry, req.name, req.digest)
    this.checks++
    let status: number
    let challenge: string | undefined
    try {
      const res = await this.#upstream.request(url, {
        method: 'HEAD',
        headers: { 'user-agent': 'damselfly-mirror', ...(req.kind === 'manifest' ? { accept: MANIFEST_ACCEPT } : {}) },
        signal: req.signal,
        clientAuthorization: req.authorization,
        // a registry that sends its blobs from storage elsewhere answers with a redirect: that is a yes
        followRedirects: false
      })
      res.resume()
      status = res.statusCode ?? 0
      challenge = flatHeaders(res)['www-authenticate']
    } catch (err: any) {
      if (req.signal?.aborted === true) throw err
      await this.#unavailable(req, repo, who, `${req.registry} could not be reached to check access: ${err.message}`)
      return
    }
    if (status >= 200 && status < 400) {
      const until = this.#now() + this.#ttlMs
      this.#member(repo, req.digest, until)
      this.#grant(repo, who, until)
      return
    }
    const what = `${req.name}@${req.digest}`
    if (status === 401) throw new OciError('UNAUTHORIZED', `the upstream registry wants authentication for ${req.name}`, { headers: challenge != null ? { 'www-authenticate': challenge } : {} })
    if (status === 403) throw new OciError('DENIED', `the upstream registry denied access to ${req.name}`)
    if (status === 404) throw new OciError(req.kind === 'blob' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN', `${what} is not in the upstream registry`)
    if (status === 429) throw new OciError('TOOMANYREQUESTS', 'the upstream registry is rate limiting')
    await this.#unavailable(req, repo, who, `${req.registry} answered ${status} when asked whether ${what} may be read`)
  }

  /**
   * The registry cannot say: a yes that lapsed less than staleMs ago still
   * counts, and so does a member's word that anyone may read it (a public
   * image stays available through a registry outage; a private one needs
   * the registry's yes for this client).
   */
  async #unavailable (req: PullRequest, repo: string, who: string, message: string): Promise<void> {
    if (this.#allowed(repo, who, req.digest, this.#now() - this.#staleMs)) return
    const question = { registry: normalizeRegistryKey(req.registry), name: req.name, digest: req.digest, kind: req.kind }
    if (this.#vouch != null && await this.#vouch(question, req.signal).catch(() => false)) return
    throw new OciError('UPSTREAM_UNAVAILABLE', message)
  }

  #grant (repo: string, who: string, until: number): void {
    this.changes++
    const key = `${repo} ${who}`
    this.#grants.delete(key)
    this.#grants.set(key, until)
    if (this.#grants.size > MAX_REPOSITORIES * 4) this.#grants.delete(this.#grants.keys().next().value!)
  }

  #member (repo: string, digest: string, until: number): void {
    this.changes++
    let digests = this.#members.get(repo)
    if (digests == null) {
      digests = new Map()
      if (this.#members.size >= MAX_REPOSITORIES) this.#members.delete(this.#members.keys().next().value!)
    }
    // re-inserted: the map's order is the order of use, oldest first out
    this.#members.delete(repo)
    this.#members.set(repo, digests)
    digests.delete(digest)
    digests.set(digest, until)
    if (digests.size > MAX_DIGESTS_PER_REPOSITORY) digests.delete(digests.keys().next().value!)
  }
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

function repositoryKey (registry: string, name: string): string {
  return `${normalizeRegistryKey(registry)}/${name}`
}

/** The sha256 digests a manifest or index names: config, layers, manifests, blobs, subject. */
export function referencedDigests (body: Uint8Array): string[] {
  let doc: any
  try {
    doc = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch {
    return []
  }
  const out: string[] = []
  const add = (d: unknown): void => {
    const digest = (d as { digest?: unknown } | null)?.digest
    if (typeof digest === 'string' && isDigest(digest) && out.length < MAX_REFERENCES) out.push(digest)
  }
  add(doc?.config)
  add(doc?.subject)
  for (const list of [doc?.layers, doc?.manifests, doc?.blobs]) {
    if (Array.isArray(list)) list.forEach(add)
  }
  return out
}
