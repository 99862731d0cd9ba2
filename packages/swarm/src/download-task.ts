import { layoutFor, pieceRange, rankSeeds, signManifestPart, verifyManifestPart } from '@damselfly/protocol'
import { ManifestTrust } from './manifest-trust.js'
import { ParentSession } from './parent-session.js'
import type { BufferPool } from './buffer-pool.js'
import { pipelineDepth, planRequests, requestBudget, retryDelay } from './scheduler.js'
import type { PickerState } from './picker.js'
import { storeFailure, TaskFailedError } from './errors.js'
import { SWARM_DEFAULTS } from './defaults.js'
import type { OriginReader } from './origin.js'
import type { CloseReason } from './parent-session.js'
import type { SwarmNetwork } from './network.js'
import type { PeerPenalties } from './penalties.js'
import type { ParentRanker, ParentCandidate } from './ranking.js'
import type { RateLimiter } from './rate-limit.js'
import type { SwarmStats } from './stats.js'
import type { BlobDigest, BlobLayout, ManifestPart, SeedResponse, VerifiedManifestPart } from '@damselfly/protocol'
import type { BlobHandle, PieceStore } from '@damselfly/store'
import type { AbortOptions, Logger } from '@libp2p/interface'

export interface TaskConfig {
  /** Parents fetched from at once. */
  maxParents: number
  /** Requests outstanding per parent. */
  pipeline: number
  /** How long a seed may take to accept a request. */
  seedTimeoutMs: number
  /** Pull from the origin directly when no seed answers. */
  originFallback: boolean
  /** Wait for peers this long before asking a seed. */
  seedAfterMs: number
  /** A parent silent this long with requests outstanding, or without having sent its bitfield, is dropped. */
  stallMs: number
  /** A request older than this is hedged to a second parent. */
  hedgeAfterMs: number
}

export interface BeaconInfo {
  uploadBps: number
  activeUploads: number
  freeUploadSlots: number
  seed: boolean
  at: number
}

export interface TaskContext {
  network: SwarmNetwork
  store: PieceStore
  stats: SwarmStats
  penalties: PeerPenalties
  downloadLimiter: RateLimiter
  /** Where pieces from parents are received (see BufferPool). */
  pieceBuffers: BufferPool
  ranker: ParentRanker
  origin: OriginReader
  config: TaskConfig
  isSeed: boolean
  /** Piece size for blobs this node pulls from their origin; undefined follows the protocol's rule. */
  pieceSize?: number
  trustedSigners?: ReadonlySet<string>
  log: Logger
  beacons: ReadonlyMap<string, BeaconInfo>
  /** Known seeds (peer ids), not including this node. */
  seeds(): string[]
  requestSeed(seed: string, digest: BlobDigest, url: string, size: number | undefined, options: AbortOptions): Promise<SeedResponse>
  /** Names holders of the blob (not this node) to onPeer, and stops after `limit` of them. */
  findProviders(digest: BlobDigest, onPeer: (peer: string) => void, options: AbortOptions & { limit: number }): Promise<void>
  /** A parent was banned from this download. */
  banned(peer: string, reason: string, digest: BlobDigest): void
  /** Signers whose manifests a digest proved false lately: their parts are not used for it. */
  excludedSigners(digest: BlobDigest): ReadonlySet<string>
  /**
   * The whole digest showed these signers' hashes false for this blob: left
   * out of the next attempts at it, and when `proven` (their word contradicts
   * a verified blob), banned.
   */
  forged(digest: BlobDigest, signers: string[], proven: boolean): void
  /** A verified piece is now held: announce it and make sure the blob is provided. */
  gained(digest: BlobDigest, index: number, pieces: number): void
  joinTopic(digest: BlobDigest): void
  leaveTopic(digest: BlobDigest): void
  /** Piece bytes requested from parents and not yet received, over every task of the node. */
  requestedBytes(): number
}

/** How long one DHT provider lookup may take. */
const DISCOVERY_TIMEOUT_MS = 2000
/** Between DHT lookups for a blob: 3 s, doubling up to 30 s while the task has parents, 30 s after a lookup that named nobody new. */
const DISCOVERY_GAP_MS = 3000
const DISCOVERY_GAP_MAX_MS = 30_000
/**
 * A task that knows this many holders (times maxParents; peers that said
 * they have nothing do not count) looks up no more after its first lookup:
 * it lacks their time, not their names. Every
 * lookup costs each peer it reaches a read of the k closest peers from its
 * peer store, and the asker a merge of each peer named; in a 20-node cold
 * start on 2 cores, where each node looked up 22 times, the peer store was
 * a fifth of the swarm's CPU.
 */
const ENOUGH_CANDIDATES_PER_PARENT = 2

/** A streaming reader reads held pieces back from the store (the page cache, mostly) this much at a time. */
const READ_SLICE_BYTES = 1024 * 1024

export type TaskState = 'pending' | 'downloading' | 'verifying' | 'complete' | 'failed'

/** Connected peers asked directly when a download starts, and again when the DHT names no holder. */
const PROBE_CONNECTED_PEERS = 8

/**
 * Up to this many connected peers, all of them are asked, and the first DHT
 * lookup waits its turn (DISCOVERY_GAP_MS) instead of PROBE_WAIT_MS: in a
 * swarm this small it would reach nearly the same peers, and each lookup
 * costs every peer it reaches a read of k peers from its peer store and the
 * asker a merge of each peer named. A 10-node cold start of the 30 MiB
 * image on 2 cores (bench/cold-start.mjs): about 44 lookups in the swarm
 * instead of 75, and 2.35 CPU-seconds per daemon (8 runs) against 2.67 (6),
 * lower in 4 of 4 alternating pairs. Beyond it, a random
 * PROBE_CONNECTED_PEERS: probing 16 of 30 cost more than it saved.
 */
const PROBE_ALL_CONNECTED_UP_TO = 16

/** How long the first DHT lookup waits for the connected peers' answers, at most. */
const PROBE_WAIT_MS = 300

/** How soon a task that knows no seed yet looks for one again. */
const NO_SEED_RECHECK_MS = 250

/** How long after asking the seeds a task asks them again. */
const SEED_RETRY_MS = 5000
/** After a seed refused or did not answer, before the seed deadline. */
const SEED_BUSY_RETRY_MS = 1000
/**
 * Once a seed accepted the blob, how long the task may go without a verified
 * piece before a seed that stops answering counts as gone. In a 30-node cold
 * start on 2 cores, nodes whose seed had accepted their layers asked it again
 * after a stall, got a reset or no answer within seedTimeoutMs from the
 * overloaded seed, and pulled 11 layers from the registry themselves (3.0x
 * the image from the registry).
 */
const ACCEPTED_SEED_PATIENCE_MS = 60_000

export interface TaskRequest {
  digest: BlobDigest
  url?: string
  size?: number
}

export interface TaskSummary {
  digest: BlobDigest
  url?: string
  state: TaskState
  size?: number
  pieceSize?: number
  pieces?: number
  piecesHeld: number
  bytesFromOrigin: number
  bytesFromPeers: number
  /** Bytes of verified pieces received from each parent. */
  parents: Record<string, number>
  activeParents: number
  error?: { where: string, message: string }
  startedAt: number
  finishedAt?: number
}

interface Candidate {
  retryAt: number
  failures: number
  /** Its last answer was "not found": news that it holds pieces ends the wait. */
  notFound?: boolean
  /** Let go as idle (IDLE_PARENT_MS): news that it holds pieces ends the wait. */
  idle?: boolean
}

/**
 * A parent session that has had nothing this download lacks, and no request
 * outstanding, this long is let go once another candidate waits for its
 * place (SWARM_DEFAULTS.idleParentMs). Without it, a download whose parent
 * places were all taken by peers stuck with the same few pieces waited for
 * their announcements for ever: it looked no further, and could not even
 * take in a seed that had just accepted the blob.
 */
const IDLE_PARENT_MS = SWARM_DEFAULTS.idleParentMs
const IDLE_RETRY_MS = SWARM_DEFAULTS.idleRetryMs

/** One blob's download: the parents it draws on, what it asks each for, and where it falls back. */
export class DownloadTask extends EventTarget {
  readonly digest: BlobDigest
  readonly url: string | undefined
  readonly #ctx: TaskContext
  readonly #wantSize: number | undefined
  #state: TaskState = 'pending'
  #handle: BlobHandle | undefined
  #opening: Promise<BlobHandle> | undefined
  #error: TaskFailedError | undefined
  readonly #sessions = new Map<string, ParentSession>()
  readonly #candidates = new Map<string, Candidate>()
  readonly #banned = new Set<string>()
  /** Parts whose signatures verified, by signature: a part forwarded by many parents is checked once. */
  readonly #verifiedParts = new Map<string, VerifiedManifestPart>()
  /** Whose hashes this download believes (see ManifestTrust). */
  readonly #trust: ManifestTrust
  readonly #declined = new Map<string, number>()
  /** Pieces being verified and written: a second copy arriving meanwhile is dropped. */
  readonly #writing = new Set<number>()
  readonly #inflight = new Map<number, Set<string>>()
  readonly #parentBytes = new Map<string, number>()
  readonly #readers = new Map<symbol, number>()
  #fromOrigin = 0
  #fromPeers = 0
  #startedAt = Date.now()
  #finishedAt: number | undefined
  #lastProgress = performance.now()
  /** When the seeds may be asked (again); performance.now() time. */
  #nextSeedAsk = 0
  #originRunning = false
  /** Until when a seed may answer before this node goes to the origin: seedTimeoutMs from the first ask. */
  #seedDeadline: number | undefined
  #seedAccepted = false
  /** Keeps garbage collection off the blob while the task runs. */
  #release: (() => void) | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #discovering = false
  #nobodyHasIt = false
  #lastDiscovery = 0
  /** When the first DHT lookup is due, if the probe of connected peers did not cover them all. */
  #lookupDueAt = Infinity
  /** Whether this task joined the blob's gossip topic. */
  #joinedTopic = false
  /** Wait before the next DHT lookup: doubles while parents are at hand (gossip names new holders), back to the start when none is. */
  #discoveryGap = DISCOVERY_GAP_MS
  readonly #controller = new AbortController()
  readonly #failed = new AbortController()
  readonly #done = Promise.withResolvers<void>()
  /** Settles when the blob is complete and verified, or with the task's error. */
  readonly done = this.#done.promise
  /** Settles once the whole digest is verified (before the blob is synced and moved into place), or with the task's error. */
  readonly #verified = Promise.withResolvers<void>()
  /** Settles when the blob's size is known, or with the task's error. */
  readonly #layout = Promise.withResolvers<BlobLayout>()

  constructor (ctx: TaskContext, request: TaskRequest) {
    super()
    this.#ctx = ctx
    this.digest = request.digest
    this.url = request.url
    this.#wantSize = request.size
    this.#trust = new ManifestTrust(ctx.excludedSigners(request.digest))
    this.done.catch(() => {})
    this.#verified.promise.catch(() => {})
    this.#layout.promise.catch(() => {})
  }

  get state (): TaskState {
    return this.#state
  }

  get error (): TaskFailedError | undefined {
    return this.#error
  }

  get layout (): BlobLayout | undefined {
    return this.#handle?.layout
  }

  /** Start downloading from peers (falling back to seeds, then the origin). */
  start (): void {
    if (!this.#begin()) return
    this.#timer = setInterval(() => {
      try {
        this.#tick()
      } catch (err: any) {
        // a bug in one tick must not take the daemon down; the next tick tries again
        this.#ctx.log.error('tick of %s failed: %e', this.digest, err)
      }
    }, 200)
    this.#tick()
  }

  /** Pull from the origin at once: what a seed does when asked. */
  startFromOrigin (): void {
    if (!this.#begin()) return
    this.#pullFromOrigin()
  }

  /** Pick up what the store already holds; false when there is nothing left to fetch. */
  #begin (): boolean {
    this.#release ??= this.#ctx.store.hold(this.digest)
    const existing = this.#ctx.store.get(this.digest)
    if (existing != null) this.#setHandle(existing)
    if (existing?.complete === true) {
      this.#complete()
      return false
    }
    this.#state = 'downloading'
    this.#joinTopicIfUseful()
    return true
  }

  /**
   * A peer said (through the DHT or gossip) that it holds pieces of this
   * blob; with `holds` false it is only worth asking (a connected peer
   * probed on the chance). News that it holds pieces ends the wait after an
   * earlier "not found".
   */
  addCandidate (peer: string, holds = true): void {
    // a task pulling from the origin has nothing to gain from parents
    if (peer === this.#ctx.network.peerId || this.#banned.has(peer) || this.#originRunning) return
    const c = this.#candidates.get(peer)
    if (c == null) {
      this.#candidates.set(peer, { retryAt: 0, failures: 0 })
      if (this.#state === 'downloading') this.#connectMore()
    } else if (holds && (c.notFound === true || c.idle === true) && !this.#sessions.has(peer)) {
      c.notFound = false
      c.idle = false
      c.retryAt = 0
      if (this.#state === 'downloading') this.#connectMore()
    }
  }

  /**
   * The peer said it holds the blob no more (collected): it is asked for
   * nothing until it announces pieces again.
   */
  dropCandidate (peer: string): void {
    const c = this.#candidates.get(peer)
    if (c == null) return
    const s = this.#sessions.get(peer)
    if (s != null) {
      s.close()
      this.#onClosed(s, { kind: 'not-found', message: 'withdrawn' })
    }
    // after #onClosed, which would ask it again after the usual delay
    c.notFound = true
    c.retryAt = Infinity
  }

  /** Resolves when the blob's size is known. */
  async whenLayoutKnown (options: AbortOptions = {}): Promise<BlobLayout> {
    const signal = options.signal
    let onAbort: (() => void) | undefined
    try {
      const layout = await (signal == null
        ? this.#layout.promise
        : Promise.race([this.#layout.promise, new Promise<never>((_resolve, reject) => {
          signal.throwIfAborted()
          onAbort = () => reject(signal.reason)
          signal.addEventListener('abort', onAbort, { once: true })
        })]))
      // a task that failed after its size was known (a digest mismatch) has no blob to give
      if (this.#error != null) throw this.#error
      return layout
    } finally {
      if (onAbort != null) signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * The blob's bytes in order, each piece as soon as it is verified; ends
   * after the whole digest is verified, or throws the task's error.
   * `start` and `end` (exclusive) read a byte range; a range that stops
   * short of the last piece does not wait for the whole digest.
   */
  async * read (options: AbortOptions & { start?: number, end?: number } = {}): AsyncGenerator<Uint8Array> {
    const layout = await this.whenLayoutKnown(options)
    const handle = this.#handle!
    const start = Math.max(0, options.start ?? 0)
    const end = Math.min(layout.size, options.end ?? layout.size)
    if (end <= start) {
      // an empty blob has no piece to wait for, but its digest is still checked
      if (layout.size === 0) await this.#verified.promise
      return
    }
    const first = Math.floor(start / layout.pieceSize)
    const last = Math.ceil(end / layout.pieceSize) - 1
    const id = Symbol('reader')
    // only failure stops a reader: a task that completed still serves its bytes
    const signal = AbortSignal.any([this.#failed.signal, ...(options.signal != null ? [options.signal] : [])])
    const release = this.#ctx.store.hold(this.digest)
    try {
      for (let i = first; i <= last; i++) {
        this.#readers.set(id, i)
        if (!handle.bitfield.has(i)) {
          try {
            await handle.waitForPiece(i, { signal })
          } catch (err) {
            if (this.#error != null) throw this.#error
            throw err
          }
        }
        if (i === layout.pieces - 1) {
          // a client that has every byte thinks it has the blob: the last
          // piece waits until the whole digest is verified (not until it is
          // synced to disk: that is the store's business)
          await this.#verified.promise
        }
        const pieceStart = i * layout.pieceSize
        const from = Math.max(start, pieceStart) - pieceStart
        const to = Math.min(end, pieceStart + layout.pieceSize) - pieceStart
        // in slices, each handed on and dropped soon enough to die young
        for (let at = from; at < to; at += READ_SLICE_BYTES) {
          yield await handle.read(pieceStart + at, Math.min(READ_SLICE_BYTES, to - at), { signal })
        }
      }
    } finally {
      this.#readers.delete(id)
      release()
    }
    if (last === layout.pieces - 1) await this.#verified.promise
  }

  /**
   * Where this task's bytes come from, as far as it knows now: 'origin'
   * when it pulls from the origin itself, 'seed' when a seed pulls for it,
   * 'peers' otherwise.
   */
  get feed (): 'origin' | 'seed' | 'peers' {
    if (this.#originRunning || this.#fromOrigin > 0) return 'origin'
    return this.#seedAccepted ? 'seed' : 'peers'
  }

  summary (): TaskSummary {
    const h = this.#handle
    return {
      digest: this.digest,
      url: this.url,
      state: this.#state,
      size: h?.layout.size,
      pieceSize: h?.layout.pieceSize,
      pieces: h?.layout.pieces,
      piecesHeld: h?.bitfield.count ?? 0,
      bytesFromOrigin: this.#fromOrigin,
      bytesFromPeers: this.#fromPeers,
      parents: Object.fromEntries(this.#parentBytes),
      activeParents: [...this.#sessions.values()].filter(s => s.open).length,
      error: this.#error != null ? { where: this.#error.where, message: this.#error.message } : undefined,
      startedAt: this.#startedAt,
      finishedAt: this.#finishedAt
    }
  }

  /** Stop everything; pieces held so far stay in the store. */
  stop (): void {
    this.#shutdown()
  }

  #setHandle (handle: BlobHandle): void {
    if (this.#handle != null) return
    this.#handle = handle
    // a partial blob on disk was being fetched under one signer's word: it still is
    const signer = handle.manifestSigners()[0]
    if (signer != null) this.#trust.resume(signer)
    this.#layout.resolve(handle.layout)
    this.#joinTopicIfUseful()
    this.dispatchEvent(new CustomEvent('layout'))
  }

  /**
   * The blob's gossip topic carries Have announcements, which only a blob of
   * several pieces needs: a single piece is all or nothing, and its holders
   * answer probes and lookups. Joining costs every peer a subscription
   * message (and leaving, another), so a tiny blob does without.
   */
  #joinTopicIfUseful (): void {
    if (this.#joinedTopic || this.#state !== 'downloading' || this.#handle == null || this.#handle.layout.pieces <= 1) return
    this.#joinedTopic = true
    this.#ctx.joinTopic(this.digest)
  }

  async #ensureHandle (layout: BlobLayout): Promise<BlobHandle> {
    if (this.#handle != null) return this.#handle
    this.#opening ??= this.#ctx.store.open(this.digest, layout)
    let h: BlobHandle
    try {
      h = await this.#opening
    } catch (err: any) {
      // no room for it (or a store that fails): the task cannot go on, whoever brought its layout
      if (err.name !== 'LayoutMismatchError') this.#fail(storeFailure(err))
      throw err
    }
    this.#setHandle(h)
    return h
  }

  #tick (): void {
    if (this.#state !== 'downloading') return
    const now = performance.now()
    if (this.#sessions.size === 0) this.#discoveryGap = DISCOVERY_GAP_MS
    if (this.#lastDiscovery === 0) {
      // the connected peers first, directly: they answer within a round
      // trip, while a DHT lookup costs RPCs all over the swarm, and that
      // work slows everyone's answers down. When they were every connected
      // peer, a lookup could only name peers further away: it waits its
      // turn; otherwise it waits for their answers (see #onClosed), at most
      // PROBE_WAIT_MS.
      this.#lastDiscovery = now
      if (!this.#probeConnected()) this.#lookupDueAt = now + PROBE_WAIT_MS
    } else if (this.#lookupDue(now)) {
      this.#discoveryGap = Math.min(DISCOVERY_GAP_MAX_MS, this.#discoveryGap * 2)
      this.#discover()
    }
    this.#releaseIdle(now)
    this.#connectMore()
    this.#hedge(now)
    this.#maybeAskSeeds(now)
    this.#schedule()
  }

  /**
   * A DHT lookup runs while the task has fewer busy parents than it may
   * have, and either the first one is due (see the probe above) or the gap
   * since the last has passed and the task does not know enough holders.
   */
  #lookupDue (now: number): boolean {
    if (this.#discovering) return false
    const due = now >= this.#lookupDueAt || (now - this.#lastDiscovery > this.#discoveryGap && !this.#knowsEnoughHolders())
    return due && this.#busySessions(now) < this.#ctx.config.maxParents
  }

  #knowsEnoughHolders (): boolean {
    const enough = ENOUGH_CANDIDATES_PER_PARENT * this.#ctx.config.maxParents
    let n = 0
    for (const c of this.#candidates.values()) {
      if (c.notFound !== true && ++n >= enough) return true
    }
    return false
  }

  /** Sessions not idle for IDLE_PARENT_MS: a lookup for more holders runs while there are fewer than maxParents. */
  #busySessions (now: number): number {
    let n = 0
    for (const s of this.#sessions.values()) {
      if (s.idleSince == null || now - s.idleSince < IDLE_PARENT_MS) n++
    }
    return n
  }

  /**
   * When every parent place is taken and another candidate is ready, let go
   * of a parent idle for IDLE_PARENT_MS: nothing this download lacks and
   * nothing asked of it. Letting one go also frees its upload slot for others.
   */
  #releaseIdle (now: number): void {
    const handle = this.#handle
    let ready: boolean | undefined
    // one idle parent per tick: the candidate takes its place before the next goes
    let released = false
    for (const s of [...this.#sessions.values()]) {
      if (s.have == null) continue
      if (handle == null || s.outstanding.length > 0 || this.#offers(handle, s)) {
        s.idleSince = undefined
        continue
      }
      s.idleSince ??= now
      if (released || now - s.idleSince < IDLE_PARENT_MS || this.#sessions.size < this.#ctx.config.maxParents) continue
      ready ??= this.#readyCandidates(now).length > 0
      if (!ready) continue
      this.#ctx.log('parent %s had nothing for %s in %d ms: letting it go', s.peer, this.digest, Math.round(now - s.idleSince))
      s.close()
      this.#onClosed(s, undefined)
      const c = this.#candidates.get(s.peer)
      if (c != null) {
        c.idle = true
        c.retryAt = now + IDLE_RETRY_MS
      }
      released = true
    }
  }

  /** The parent holds a piece this download lacks. */
  #offers (handle: BlobHandle, s: ParentSession): boolean {
    const have = s.have
    if (have == null || have.length !== handle.layout.pieces) return false
    const mine = handle.bitfield.bytes
    for (let k = 0; k < have.bytes.length; k++) {
      if (((have.bytes[k] ?? 0) & ~(mine[k] ?? 0)) !== 0) return true
    }
    return false
  }

  /**
   * Ask the connected peers directly (all up to PROBE_ALL_CONNECTED_UP_TO of
   * them, else a random PROBE_CONNECTED_PEERS), as Bitswap
   * sends want-haves to its neighbours: on a LAN the blob is often one hop
   * away, and a DHT lookup costs tens of milliseconds. Those without it say
   * so at once. True when that was every connected peer.
   */
  #probeConnected (): boolean {
    const peers = this.#ctx.network.connectedPeers()
    // a random few when there are many, so probes spread over the swarm
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[peers[i], peers[j]] = [peers[j]!, peers[i]!]
    }
    const probed = peers.length <= PROBE_ALL_CONNECTED_UP_TO ? peers : peers.slice(0, PROBE_CONNECTED_PEERS)
    for (const peer of probed) this.addCandidate(peer, false)
    return peers.length > 0 && probed.length === peers.length
  }

  #discover (): void {
    this.#lookupDueAt = Infinity
    if (this.#ctx.network.connectedPeers().length === 0) {
      // alone: a DHT lookup has nobody to ask (and kad-dht would wait out its timeout)
      this.#lastDiscovery = performance.now()
      if (this.#candidates.size === 0 && this.#handle == null) this.#nobodyHasIt = true
      return
    }
    this.#discovering = true
    this.#lastDiscovery = performance.now()
    // as many holders as parents a task may have: a lookup runs only while it has fewer
    const limit = this.#ctx.config.maxParents
    let news = 0
    this.#ctx.findProviders(this.digest, peer => {
      if (!this.#candidates.has(peer)) news++
      this.addCandidate(peer)
    }, { limit, signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(DISCOVERY_TIMEOUT_MS)]) })
      .catch(() => {})
      .finally(() => {
        this.#discovering = false
        this.#lastDiscovery = performance.now()
        // the records named nobody new: while a crowd pulls, its holders are
        // found through gossip and probes, and their records come later
        if (news === 0) this.#discoveryGap = DISCOVERY_GAP_MAX_MS
        // nobody has it: no point waiting out seedAfterMs before asking a seed
        if (this.#candidates.size === 0 && this.#handle == null) {
          this.#nobodyHasIt = true
          // provider records take a while to spread (a holder that has just
          // restarted provides again only once it has DHT peers): the peers
          // at hand are asked directly; those without the blob say so at once
          this.#probeConnected()
          this.#tick()
        }
      })
  }

  /** Candidates that may be connected now. */
  #readyCandidates (now: number): ParentCandidate[] {
    const ready: ParentCandidate[] = []
    for (const [peer, c] of this.#candidates) {
      if (this.#sessions.has(peer) || this.#banned.has(peer) || c.retryAt > now || this.#ctx.penalties.isBanned(peer)) continue
      const b = this.#ctx.beacons.get(peer)
      ready.push({ peer, delivered: 0, failures: c.failures, beacon: b })
    }
    return ready
  }

  #connectMore (): void {
    let room = this.#ctx.config.maxParents - this.#sessions.size
    if (room <= 0) return
    const ready = this.#readyCandidates(performance.now())
    for (const c of this.#ctx.ranker.rank(ready)) {
      if (room-- <= 0) break
      this.#connect(c.peer)
    }
  }

  #connect (peer: string): void {
    const session = new ParentSession(peer, this.digest, {
      manifest: async parts => this.#onManifest(peer, parts),
      availability: () => this.#schedule(),
      declined: (index, busy) => {
        this.#inflight.get(index)?.delete(peer)
        // a busy parent just sent the piece to others: ask them, or ask again shortly
        if (busy) this.#declined.set(`${peer}/${index}`, performance.now() + SWARM_DEFAULTS.declineBackoffMs)
        this.#schedule()
      },
      buffer: index => {
        const layout = this.#handle!.layout
        return this.#ctx.pieceBuffers.acquire(layout.pieceSize, pieceRange(layout.size, layout.pieceSize, index).length)
      },
      piece: (index, data) => {
        this.#onPiece(session, index, data)
          .catch(err => this.#fail(storeFailure(err)))
          .finally(() => this.#ctx.pieceBuffers.release(data))
      },
      abandoned: data => this.#ctx.pieceBuffers.release(data),
      closed: reason => this.#onClosed(session, reason)
    }, this.#ctx.downloadLimiter)
    this.#sessions.set(peer, session)
    session.connect(this.#ctx.network, { signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(5000)]) })
      .catch(err => {
        this.#ctx.log('could not open a piece stream to %s: %s', peer, err.message)
        session.close()
        this.#onClosed(session, { kind: 'error', message: err.message })
      })
  }

  #onClosed (session: ParentSession, reason: CloseReason | undefined): void {
    if (this.#sessions.get(session.peer) !== session) return
    this.#ctx.log('session with %s for %s closed: %s', session.peer, this.digest, reason == null ? 'clean' : `${reason.kind} ${reason.message}`)
    this.#sessions.delete(session.peer)
    for (const index of session.outstanding) this.#inflight.get(index)?.delete(session.peer)
    session.outstanding.length = 0
    const c = this.#candidates.get(session.peer) ?? { retryAt: 0, failures: 0 }
    this.#candidates.set(session.peer, c)
    c.notFound = reason?.kind === 'not-found'
    if (reason?.kind === 'violation') {
      // broke the protocol: out of this download and, for a while, out of every exchange
      this.#ban(session.peer, reason.message)
      this.#ctx.penalties.ban(session.peer, reason.message)
    } else if (reason != null) {
      // failures in a row: a session that brought data starts the count again
      if (session.receivedBytes > 0) c.failures = 0
      c.failures++
      c.retryAt = performance.now() + retryDelay(reason.kind, reason.retryAfterMs, c.failures)
    } else {
      c.retryAt = performance.now() + 1000
    }
    if (c.notFound && this.#handle == null && this.#sessions.size === 0 && this.#lastDiscovery !== 0 &&
      [...this.#candidates.values()].every(x => x.notFound === true)) {
      // every peer asked so far (connected ones probed, any a lookup named)
      // said it does not have it: ask a seed now rather than wait out
      // seedAfterMs or a lookup still under way (a seed that holds the blob
      // costs the registry nothing; a lookup that finds holders later
      // still adds them as parents)
      this.#nobodyHasIt = true
      if (this.#state === 'downloading') {
        this.#maybeAskSeeds(performance.now())
        if (this.#lookupDueAt !== Infinity && !this.#discovering) this.#discover()
      }
    }
    if (this.#state === 'downloading') {
      this.#connectMore()
      this.#schedule()
    }
  }

  #ban (peer: string, reason: string): void {
    if (this.#banned.has(peer)) return
    this.#banned.add(peer)
    this.#ctx.stats.bans++
    this.#ctx.log('banned %s for %s: %s', peer, this.digest, reason)
    this.#ctx.banned(peer, reason, this.digest)
    this.#sessions.get(peer)?.close(new Error(`banned: ${reason}`))
  }

  async #onManifest (peer: string, parts: ManifestPart[]): Promise<void> {
    const verified: VerifiedManifestPart[] = []
    for (const part of parts) {
      const sig = Buffer.from(part.signature).toString('base64')
      let v = this.#verifiedParts.get(sig)
      if (v == null) {
        try {
          v = await verifyManifestPart(part, { digest: this.digest, trustedSigners: this.#ctx.trustedSigners })
        } catch (err: any) {
          // a part by a signer this node does not trust is ignored; a broken one is the sender's fault
          if (err.name === 'UntrustedSignerError') continue
          this.#ban(peer, err.message)
          return
        }
        this.#verifiedParts.set(sig, v)
      }
      verified.push(v)
    }
    if (verified.length === 0) return
    const first = verified[0]!
    if (this.#wantSize != null && first.size !== this.#wantSize) {
      this.#ban(peer, `manifest says ${first.size} bytes, expected ${this.#wantSize}`)
      return
    }
    const handle = await this.#ensureHandle(layoutFor(first.size, first.pieceSize))
    const consistent = verified.filter(v => v.size === handle.layout.size && v.pieceSize === handle.layout.pieceSize)
    // each parent's word is kept for its own pieces; the blob's manifest takes the believed signer's only
    const believed = this.#trust.vouch(peer, consistent)
    if (believed.length > 0) await handle.addManifestParts(believed)
    this.#schedule()
  }

  /** What the picker needs, with each piece's availability counted once over the parents' bitfields. */
  #pickerState (handle: BlobHandle): PickerState {
    const availability = new Uint16Array(handle.layout.pieces)
    for (const s of this.#sessions.values()) {
      if (s.have?.length !== handle.layout.pieces) continue
      for (const i of s.have.indices()) availability[i]!++
    }
    return {
      pieces: handle.layout.pieces,
      held: i => handle.bitfield.has(i),
      // before any piece verified, every parent's own word will do; then the believed signer's
      hashKnown: i => handle.pieceHash(i) != null || this.#trust.pin == null || this.#trust.pinned(i) != null,
      inflight: i => this.#inflight.get(i)?.size ?? 0,
      availability: i => availability[i] ?? 0
    }
  }

  #cursor (handle: BlobHandle): number | undefined {
    let min: number | undefined
    for (const pos of this.#readers.values()) {
      let p = pos
      while (p < handle.layout.pieces && handle.bitfield.has(p)) p++
      if (min == null || p < min) min = p
    }
    return min
  }

  #schedule (): void {
    const handle = this.#handle
    if (handle == null || this.#state !== 'downloading' || handle.bitfield.complete) return
    const size = handle.layout.pieceSize
    const budgetBytes = requestBudget(size, this.#ctx.downloadLimiter.rate)
    const seeds = new Set(this.#ctx.seeds())
    const now = performance.now()
    const parents = [...this.#sessions.values()]
      .filter(s => s.open && s.have != null && s.have.length === handle.layout.pieces)
      .map(s => ({
        session: s,
        outstanding: s.outstanding.length,
        depth: this.#pipeline(handle, s),
        seed: seeds.has(s.peer),
        canServe: (i: number) => s.have!.has(i) && this.#trust.usable(s.peer, i) && !(this.#inflight.get(i)?.has(s.peer) ?? false) && !this.#isDeclined(s.peer, i, now)
      }))
    planRequests(parents, {
      state: this.#pickerState(handle),
      cursor: this.#cursor(handle),
      pieceSize: size,
      budgetBytes,
      requestedBytes: budgetBytes === Infinity ? 0 : this.#ctx.requestedBytes(),
      ownRequestedBytes: this.requestedBytes
    }, (p, index) => { this.#request(p.session, index) })
  }

  /** Piece bytes this task asked parents for and has not received yet. */
  get requestedBytes (): number {
    const size = this.#handle?.layout.pieceSize ?? 0
    let n = 0
    for (const s of this.#sessions.values()) n += s.outstanding.length * size
    return n
  }

  /**
   * How long the oldest request to a parent may wait before a second parent
   * is asked too: the configured floor, or three times what the parent's
   * measured rate needs for the bytes requested from it. Under a rate limit a
   * parent's share can be a fraction of a MB/s, and a hedge then would only
   * spend the downlink twice.
   */
  #hedgeAfter (handle: BlobHandle, s: ParentSession): number {
    const bytesAhead = s.outstanding.length * handle.layout.pieceSize
    const rate = s.meter.rate
    if (rate <= 0) return Math.max(this.#ctx.config.hedgeAfterMs, 4 * bytesAhead / (4 * 1024 * 1024) * 1000)
    return Math.max(this.#ctx.config.hedgeAfterMs, 3 * bytesAhead / rate * 1000)
  }

  #isDeclined (peer: string, index: number, now: number): boolean {
    if (this.#declined.size === 0) return false
    const key = `${peer}/${index}`
    const until = this.#declined.get(key)
    if (until == null) return false
    if (until > now) return true
    this.#declined.delete(key)
    return false
  }

  /** Requests kept outstanding with a parent (pipelineDepth). */
  #pipeline (handle: BlobHandle, s: ParentSession): number {
    return pipelineDepth(handle.layout.pieceSize, s.meter.rate, this.#ctx.config.pipeline)
  }

  #request (s: ParentSession, index: number): void {
    let set = this.#inflight.get(index)
    if (set == null) {
      set = new Set()
      this.#inflight.set(index, set)
    }
    set.add(s.peer)
    s.request(index).catch(err => s.close(err))
  }

  #hedge (now: number): void {
    // stalls are checked even before the blob's layout is known: a parent that sends nothing leaves it unknown
    const handle = this.#handle
    for (const s of [...this.#sessions.values()]) {
      // a session that never sent its bitfield has had no data since it was opened
      const waiting = s.outstanding.length > 0 || s.have == null
      if (waiting && now - s.lastDataAt > this.#ctx.config.stallMs) {
        const what = s.have == null ? 'no bitfield' : 'stalled'
        this.#ctx.log('parent %s for %s: %s', s.peer, this.digest, what)
        s.close(new Error(what))
        this.#onClosed(s, { kind: 'error', message: what })
        continue
      }
      const oldest = s.outstanding[0]
      if (oldest == null || handle == null) continue
      const since = s.requestedAt.get(oldest) ?? now
      if (now - since < this.#hedgeAfter(handle, s) || (this.#inflight.get(oldest)?.size ?? 0) > 1) continue
      // the oldest request has waited too long: ask the best other parent for it too
      const other = [...this.#sessions.values()]
        .filter(o => o !== s && o.open && o.have?.has(oldest) === true && o.outstanding.length <= this.#pipeline(handle, o))
        .sort((a, b) => b.meter.rate - a.meter.rate)[0]
      if (other != null) this.#request(other, oldest)
    }
  }

  #maybeAskSeeds (now: number): void {
    if (this.#originRunning || now < this.#nextSeedAsk) return
    const handle = this.#handle
    const waited = performance.now() - this.#lastProgress
    if (handle != null) {
      // recent progress, or a parent that can still give us a piece: keep going
      if (waited < this.#ctx.config.seedAfterMs * 3 || this.#canProgress(handle)) return
    } else if (!this.#nobodyHasIt && (waited < this.#ctx.config.seedAfterMs || (this.#sessions.size > 0 && waited < this.#ctx.config.seedAfterMs * 3))) {
      return
    }
    this.#nextSeedAsk = now + SEED_RETRY_MS
    this.#askSeeds().catch(err => this.#fail(err.name === 'TaskFailedError' ? err : new TaskFailedError(err.message, 'p2p')))
  }

  /** Some missing piece is in flight or held by a parent. */
  #canProgress (handle: BlobHandle): boolean {
    const state = this.#pickerState(handle)
    for (let i = 0; i < handle.layout.pieces; i++) {
      if (!handle.bitfield.has(i) && (state.inflight(i) > 0 || state.availability(i) > 0)) return true
    }
    return false
  }

  async #askSeeds (): Promise<void> {
    if (this.url == null) {
      if (this.#candidates.size === 0 && performance.now() - this.#lastProgress > this.#ctx.config.seedTimeoutMs) {
        throw new TaskFailedError(`no peer holds ${this.digest} and no origin URL is known`, 'p2p')
      }
      return
    }
    const self = this.#ctx.network.peerId
    const seeds = rankSeeds(this.digest, [...this.#ctx.seeds(), ...(this.#ctx.isSeed ? [self] : [])])
    this.#seedDeadline ??= performance.now() + this.#ctx.config.seedTimeoutMs
    if (seeds.length === 0 && performance.now() < this.#seedDeadline) {
      // no seed known yet (a node that has just started may not have met
      // one): the swarm gets until the seed deadline before this node goes
      // to the origin itself, looking again shortly
      this.#nextSeedAsk = performance.now() + NO_SEED_RECHECK_MS
      return
    }
    for (const seed of seeds) {
      if (this.#state !== 'downloading') return
      if (seed === self) {
        this.#pullFromOrigin()
        return
      }
      try {
        const res = await this.#ctx.requestSeed(seed, this.digest, this.url, this.#wantSize, { signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(this.#ctx.config.seedTimeoutMs)]) })
        if (res.accepted) {
          this.#ctx.log('seed %s accepted %s', seed, this.digest)
          this.#seedAccepted = true
          const c = this.#candidates.get(seed)
          if (c != null) c.retryAt = 0
          this.addCandidate(seed)
          this.#lastProgress = performance.now()
          return
        }
        if (res.error?.code === 'ORIGIN') {
          throw new TaskFailedError(`seed ${seed}: ${res.error.message}`, 'origin', res.error.status)
        }
        this.#ctx.log('seed %s refused %s: %s', seed, this.digest, res.error?.message)
      } catch (err: any) {
        if (err.name === 'TaskFailedError') throw err
        this.#ctx.log('seed %s did not answer for %s: %s', seed, this.digest, err.message)
      }
    }
    const now = performance.now()
    // a seed that accepted this blob is pulling it for the swarm: while it is
    // connected and pieces arrived lately, a late or reset answer to asking
    // again is a loaded seed, not a missing one
    const seedAtWork = this.#seedAccepted && now - this.#lastProgress < ACCEPTED_SEED_PATIENCE_MS &&
      seeds.some(seed => this.#ctx.network.isConnected(seed))
    if (seeds.length > 0 && now < this.#seedDeadline) {
      // a refusal (a seed too busy to learn the blob's size in time) or a
      // reset is not the deadline: ask again shortly, so a loaded seed does
      // not send every node to the origin
      this.#nextSeedAsk = now + SEED_BUSY_RETRY_MS
      return
    }
    if (seedAtWork) {
      this.#nextSeedAsk = now + SEED_RETRY_MS
      return
    }
    if (this.#ctx.config.originFallback) {
      this.#ctx.log('no seed answered for %s: pulling from the origin', this.digest)
      this.#pullFromOrigin()
    } else if (this.#sessions.size === 0) {
      throw new TaskFailedError(`no peer holds ${this.digest}, no seed answered, and origin fallback is off`, 'p2p')
    }
  }

  #pullFromOrigin (): void {
    if (this.#originRunning) return
    if (this.url == null) {
      this.#fail(new TaskFailedError(`no origin URL is known for ${this.digest}`, 'origin'))
      return
    }
    this.#originRunning = true
    this.#runOrigin(this.url).catch(err => {
      this.#originRunning = false
      if (this.#state !== 'downloading' && this.#state !== 'pending') return
      this.#fail(err.name === 'TaskFailedError' ? err : err.name === 'OriginError' ? new TaskFailedError(err.message, 'origin', err.status, undefined, err.shareable) : storeFailure(err))
    })
  }

  async #runOrigin (url: string): Promise<void> {
    const signal = this.#controller.signal
    // what this node pulls and signs itself is what it believes
    this.#trust.resume(this.#ctx.network.peerId)
    let handle = this.#handle
    let start = 0
    if (handle != null) {
      while (start < handle.layout.pieces && handle.bitfield.has(start)) start++
      if (start >= handle.layout.pieces) {
        await this.#finish()
        return
      }
    }
    let buffer: Buffer | undefined
    let index = start
    let filled = 0
    const key = this.#ctx.network.privateKey
    const self = this.#ctx.network.peerId
    const offset = handle != null ? start * handle.layout.pieceSize : 0
    await this.#ctx.origin.read(url, offset, async size => {
      if (this.#wantSize != null && size !== this.#wantSize) {
        throw new TaskFailedError(`origin has ${size} bytes for ${this.digest}, expected ${this.#wantSize}`, 'origin', undefined, 'SIZE_MISMATCH')
      }
      handle = await this.#ensureHandle(layoutFor(size, this.#ctx.pieceSize))
      if (handle.layout.size !== size) {
        throw new TaskFailedError(`origin has ${size} bytes for ${this.digest}, peers said ${handle.layout.size}`, 'origin', undefined, 'SIZE_MISMATCH')
      }
      buffer ??= Buffer.allocUnsafe(handle.layout.pieceSize)
    }, async chunk => {
      const h = handle!
      let pos = 0
      while (pos < chunk.byteLength) {
        const { length } = pieceRange(h.layout.size, h.layout.pieceSize, index)
        const n = Math.min(length - filled, chunk.byteLength - pos)
        buffer!.set(chunk.subarray(pos, pos + n), filled)
        filled += n
        pos += n
        if (filled === length) {
          await this.#ctx.downloadLimiter.take(length, { signal })
          if (!h.bitfield.has(index)) {
            if (h.pieceHash(index) != null) {
              // peers' manifest already says what this piece hashes to: the origin's bytes must agree
              await this.#writeAgainstManifest(h, index, buffer!.subarray(0, length), signal)
            } else {
              const hash = await h.writeOriginPiece(index, buffer!.subarray(0, length), { signal })
              const body = { digest: this.digest, size: h.layout.size, pieceSize: h.layout.pieceSize, first: index, hashes: [hash] }
              const part = await signManifestPart(body, key)
              await h.addManifestParts([{ ...body, signer: self, part }])
            }
            this.#fromOrigin += length
            this.#ctx.stats.bytesFromOrigin += length
            this.#gained(index)
          }
          index++
          filled = 0
        }
      }
    }, { signal })
    const h = handle!
    if (h.layout.pieces > 0) {
      const hashes: Uint8Array[] = []
      for (let i = 0; i < h.layout.pieces; i++) {
        const x = h.pieceHash(i)
        if (x == null) break
        hashes.push(x)
      }
      if (hashes.length === h.layout.pieces) {
        const body = { digest: this.digest, size: h.layout.size, pieceSize: h.layout.pieceSize, first: 0, hashes }
        const part = await signManifestPart(body, key)
        await h.addManifestParts([{ ...body, signer: self, part }])
      }
    }
    await this.#finish()
  }

  /**
   * An origin piece whose hash a believed signer already gave: the two must
   * agree. When they do not, one of them is wrong and this attempt cannot
   * tell which: the signer is not believed for this blob on the next one.
   */
  async #writeAgainstManifest (h: BlobHandle, index: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    try {
      await h.writePiece(index, data, { signal })
    } catch (err: any) {
      if (err.name !== 'PieceVerificationError') throw err
      const signers = h.manifestSigners()
      this.#ctx.forged(this.digest, signers, false)
      throw new TaskFailedError(`the origin's piece ${index} of ${this.digest} is not what ${signers.join(', ')} signed: one of them is wrong`, 'p2p', undefined, 'DIGEST_MISMATCH')
    }
  }

  /** A piece from a parent: verified and written, or dropped. `data` goes back to the pool once this settles. */
  async #onPiece (session: ParentSession, index: number, data: Uint8Array): Promise<void> {
    const handle = this.#handle
    // data already in flight from a parent banned a moment ago is not looked at
    if (handle == null || this.#banned.has(session.peer) || handle.bitfield.has(index) || this.#writing.has(index)) {
      // the losing copy of a hedged request (or one from a banned parent): the downlink paid for it
      if (handle != null) this.#ctx.stats.bytesDiscarded += data.byteLength
      this.#inflight.get(index)?.delete(session.peer)
      this.#schedule()
      return
    }
    const word = this.#trust.vouched(session.peer, index)
    if (word == null) {
      // a parent sends the hash of every piece it offers before the piece itself
      this.#inflight.get(index)?.delete(session.peer)
      this.#ban(session.peer, `sent piece ${index} of ${this.digest} without a manifest part for it`)
      return
    }
    if (!this.#trust.usable(session.peer, index)) {
      // it follows another signer than the one believed: neither used nor blamed (the digest will tell)
      this.#ctx.stats.bytesDiscarded += data.byteLength
      this.#inflight.get(index)?.delete(session.peer)
      this.#schedule()
      return
    }
    this.#writing.add(index)
    const hashKept = handle.pieceHash(index) != null
    try {
      // the piece counts as in flight until it is written, so nobody asks for it again meanwhile;
      // it is checked against its own parent's word: a parent is at fault only for breaking that
      await handle.writePiece(index, data, { expected: word.hash })
      // the blob's manifest learns the hash with its first piece (all the pin's parts when this one set it);
      // a part is not handed over again for every piece it covers
      const pinned = this.#trust.verified(session.peer, index)
      if (pinned.length > 0) await handle.addManifestParts(pinned)
      else if (!hashKept) await handle.addManifestParts([word.part])
    } catch (err: any) {
      this.#inflight.get(index)?.delete(session.peer)
      if (err.name === 'PieceVerificationError') {
        this.#ctx.stats.piecesRejected++
        this.#ban(session.peer, err.message)
        this.#schedule()
        return
      }
      throw err
    } finally {
      this.#writing.delete(index)
    }
    this.#inflight.get(index)?.delete(session.peer)
    this.#fromPeers += data.byteLength
    this.#ctx.stats.bytesFromPeers += data.byteLength
    this.#parentBytes.set(session.peer, (this.#parentBytes.get(session.peer) ?? 0) + data.byteLength)
    // the losing copies of a hedged request are no longer wanted
    for (const other of this.#inflight.get(index) ?? []) {
      this.#sessions.get(other)?.cancel(index).catch(() => {})
    }
    this.#gained(index)
    if (handle.bitfield.complete) {
      await this.#finish()
    } else {
      this.#schedule()
    }
  }

  #gained (index: number): void {
    this.#lastProgress = performance.now()
    this.#ctx.stats.piecesVerified++
    this.#ctx.gained(this.digest, index, this.#handle!.layout.pieces)
  }

  async #finish (): Promise<void> {
    const handle = this.#handle!
    if (this.#state !== 'downloading') return
    this.#state = 'verifying'
    try {
      await handle.finalize({ signal: this.#controller.signal, onVerified: () => this.#verified.resolve() })
    } catch (err: any) {
      if (err.name === 'DigestMismatchError') {
        const where = this.#fromOrigin > 0 ? 'origin' : 'p2p'
        // every piece verified against the believed signer's word, and together they are wrong: its word was false
        if (where === 'p2p') this.#ctx.forged(this.digest, handle.manifestSigners().length > 0 ? handle.manifestSigners() : this.#trust.pin != null ? [this.#trust.pin] : [], false)
        // the content's own hash stays in this node's log: told to whoever asked, it would make any URL a hash oracle
        this.#ctx.log('%s hashes to %s, not %s', this.url ?? 'the content', err.actual, this.digest)
        this.#fail(new TaskFailedError(`digest mismatch: ${this.url ?? 'the content'} does not hash to ${this.digest}`, where, undefined, 'DIGEST_MISMATCH'))
        return
      }
      this.#fail(new TaskFailedError(`verifying ${this.digest} failed: ${err.message}`, 'daemon'))
      return
    }
    this.#complete()
  }

  #complete (): void {
    this.#state = 'complete'
    this.#finishedAt = Date.now()
    // the digest proved the believed signer right: whoever signed other hashes for it signed false ones
    if (this.#trust.conflicting.size > 0) this.#ctx.forged(this.digest, [...this.#trust.conflicting], true)
    this.#shutdown()
    this.#verified.resolve()
    this.#done.resolve()
    this.dispatchEvent(new CustomEvent('complete'))
  }

  #fail (err: TaskFailedError): void {
    if (this.#state === 'complete' || this.#state === 'failed') return
    this.#state = 'failed'
    this.#error = err
    this.#finishedAt = Date.now()
    this.#ctx.log('task %s failed: %s', this.digest, err.message)
    this.#shutdown(err)
    // a partial blob left on a full disk would fail the next pull too, and one
    // whose pieces followed a signer a digest proved wrong would mislead it
    if ((err.fault === 'NO_SPACE' || err.fault === 'DIGEST_MISMATCH') && this.#handle?.complete === false) {
      this.#ctx.store.remove(this.digest).catch(e => this.#ctx.log('removing %s after a full disk failed: %s', this.digest, e.message))
    }
    this.#failed.abort(err)
    this.#done.reject(err)
    this.#verified.reject(err)
    this.#layout.reject(err)
    this.dispatchEvent(new CustomEvent('failed'))
  }

  #shutdown (reason?: Error): void {
    this.#release?.()
    if (this.#timer != null) clearInterval(this.#timer)
    this.#timer = undefined
    this.#controller.abort(reason ?? new Error('task ended'))
    for (const s of this.#sessions.values()) s.close()
    this.#sessions.clear()
    if (this.#joinedTopic) this.#ctx.leaveTopic(this.digest)
    this.#joinedTopic = false
  }
}
