import { Bitfield, layoutFor, MIN_RANGED_PIECE_SIZE, PIECE_PROTOCOL, pieceRange, rangedPieceSizeFor, signManifestPart, verifyManifestPart } from '@damselfly/protocol'
import { TypedEventEmitter } from 'main-event'
import { toString as toBase64 } from 'uint8arrays/to-string'
import { ADVICE_DEADLINE_MS, ADVICE_TIMEOUT_MS, DISCOVERY_TIMEOUT_MS, ORIGIN_RANGE_RUN_BYTES, ORIGIN_RANGE_STREAMS, READ_SLICE_BYTES, SESSION_OPEN_TIMEOUT_MS } from './constants.js'
import { DownloadEngine } from './engine.js'
import { RangeIgnoredError, storeFailure, TaskFailedError } from './errors.js'
import { ParentSession } from './parent-session.js'
import type { ParentAdvisor } from './advisor.js'
import type { BufferPool } from './buffer-pool.js'
import type { CloseReason, EngineCommand, EngineConfig, SeedAnswer } from './engine.js'
import type { SwarmNetwork } from './network.js'
import type { OriginReader } from './origin.js'
import type { PeerPenalties } from './penalties.js'
import type { ParentCandidate, ParentRanker } from './ranking.js'
import type { RateLimiter } from './rate-limit.js'
import type { SwarmStats } from './stats.js'
import type { BlobDigest, BlobLayout, ManifestPart, SeedAnswerMessage, VerifiedManifestPart } from '@damselfly/protocol'
import type { BlobHandle, PieceStore } from '@damselfly/store'
import type { AbortOptions, Logger } from '@libp2p/interface'

export type TaskConfig = EngineConfig

export interface BeaconInfo {
  uploadBps: number
  activeUploads: number
  freeUploadSlots: number
  seed: boolean
  /** Its locality label, when it said one. */
  locality?: string
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
  /** The scheduler, when the node has one: asked to rank and suggest, told what parents did. */
  advisor?: ParentAdvisor
  origin: Pick<OriginReader, 'read' | 'readRange'>
  config: TaskConfig
  isSeed: boolean
  /** Piece size for blobs this node pulls from their origin; undefined follows the protocol's rule. */
  pieceSize?: number
  trustedSigners?: ReadonlySet<string>
  log: Logger
  beacons: ReadonlyMap<string, BeaconInfo>
  /** Known seeds (peer ids), not including this node. */
  seeds(): string[]
  /** Whether the node has bootstrap addresses to join the swarm through. */
  hasBootstrap: boolean
  /** Peers on the blob's gossip topic, not this node. */
  pullers(digest: BlobDigest): string[]
  /** Ask a seed to pull the blob: with `ranges`, at least the pieces covering those bytes ([start, end)), first. */
  requestSeed(seed: string, digest: BlobDigest, url: string, size: number | undefined, ranges: Array<[number, number]> | undefined, options: AbortOptions): Promise<SeedAnswerMessage>
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
  /** Holders are told of on gossip (announced on blob topics): not while a scheduler answers, which hears of them and suggests them. */
  gossipsHolders(): boolean
  /** Piece bytes requested from parents and not yet received, over every task of the node. */
  requestedBytes(): number
}

export type TaskState = 'pending' | 'downloading' | 'verifying' | 'complete' | 'failed'

export interface TaskRequest {
  digest: BlobDigest
  url?: string
  size?: number
  /**
   * Bytes [start, end) a client asked for first: the download is ranged. It
   * fetches only the pieces its readers want (from peers, from a seed that
   * pulls them by range, or by range from the origin) until a reader asks
   * for the whole blob.
   */
  range?: [number, number]
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
  /** Only the pieces read are fetched (a download started by a range read, §10.1). */
  ranged: boolean
  /** Pieces are being fetched now; false for a ranged download holding every piece read so far. */
  fetching: boolean
  error?: { where: string, message: string }
  startedAt: number
  finishedAt?: number
}

export interface DownloadTaskEvents {
  /** The blob's size is known. */
  layout: CustomEvent<BlobLayout>
  /** A piece is verified and held. */
  piece: CustomEvent<{ index: number, bytes: number, from: 'peer' | 'origin' }>
  complete: CustomEvent<TaskSummary>
  failed: CustomEvent<TaskFailedError>
}

/**
 * One blob's download: the download engine's decisions carried out with
 * libp2p sessions, the store and the origin reader. Everything here is I/O;
 * what to do next is the engine's (engine.ts).
 */
export class DownloadTask extends TypedEventEmitter<DownloadTaskEvents> {
  readonly digest: BlobDigest
  readonly url: string | undefined
  readonly #ctx: TaskContext
  readonly #wantSize: number | undefined
  readonly #engine: DownloadEngine
  #state: TaskState = 'pending'
  #handle: BlobHandle | undefined
  #opening: Promise<BlobHandle> | undefined
  #error: TaskFailedError | undefined
  readonly #sessions = new Map<string, ParentSession>()
  /** Parts whose signatures verified, by signature: a part forwarded by many parents is checked once. */
  readonly #verifiedParts = new Map<string, VerifiedManifestPart>()
  #startedAt = Date.now()
  #finishedAt: number | undefined
  /** Keeps garbage collection off the blob while the task runs. */
  #release: (() => void) | undefined
  #readers = 0
  #timer: ReturnType<typeof setInterval> | undefined
  /** Whether this task joined the blob's gossip topic. */
  #joinedTopic = false
  readonly #controller = new AbortController()
  readonly #failed = new AbortController()
  readonly #done = Promise.withResolvers<void>()
  /** Settles when the blob is complete and verified, or with the task's error. */
  readonly done = this.#done.promise
  /** Settles once the whole digest is verified (before the blob is synced and moved into place), or with the task's error. */
  readonly #verified = Promise.withResolvers<void>()
  /** Settles when the blob's size is known, or with the task's error. */
  readonly #layout = Promise.withResolvers<BlobLayout>()
  /** Wakes a ranged origin pull waiting for pieces to be wanted. */
  #wake = Promise.withResolvers<void>()

  constructor (ctx: TaskContext, request: TaskRequest) {
    super()
    this.#ctx = ctx
    this.digest = request.digest
    this.url = request.url
    this.#wantSize = request.size
    const network = ctx.network
    this.#engine = new DownloadEngine({
      now: () => performance.now(),
      self: network.peerId,
      isSeed: ctx.isSeed,
      // not those that said they hold no blobs (a scheduler, a relay-only peer): probed, they would never say "not found", and the seed would be asked only after seedAfterMs
      connectedPeers: () => network.connectedPeers().filter(peer => !network.lacks(peer, PIECE_PROTOCOL)),
      isConnected: peer => network.isConnected(peer),
      seeds: () => ctx.seeds(),
      hasBootstrap: () => ctx.hasBootstrap,
      pullers: () => ctx.pullers(request.digest).filter(peer => network.isConnected(peer)),
      penalized: peer => ctx.penalties.isBanned(peer),
      beacon: peer => ctx.beacons.get(peer),
      downloadRate: () => ctx.downloadLimiter.rate,
      requestedBytes: () => ctx.requestedBytes(),
      ranker: ctx.ranker,
      advised: ctx.advisor != null,
      random: Math.random,
      log: (format, ...args) => ctx.log(format, ...args)
    }, ctx.config, command => this.#run(command), { digest: request.digest, hasUrl: request.url != null, excludedSigners: ctx.excludedSigners(request.digest), ranged: request.range != null })
    if (request.range != null) this.#engine.want(request.range[0], request.range[1])
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

  /** Only the pieces readers (or a seed's requesters) want are fetched. */
  get ranged (): boolean {
    return this.#engine.ranged
  }

  /** A client reads the blob through this download now. */
  get reading (): boolean {
    return this.#readers > 0
  }

  /** Fetching pieces now: downloading, and not a ranged download at rest with every piece wanted so far. */
  get fetching (): boolean {
    return this.#state === 'downloading' && this.#engine.fetching
  }

  /** Bytes [start, end) are wanted: a ranged download fetches the pieces covering them. */
  want (start: number, end: number): void {
    this.#engine.want(start, end)
  }

  /** The whole blob is wanted: a ranged download becomes a whole one. */
  wantAll (): void {
    this.#engine.wantAll()
  }

  /** Start downloading from peers (falling back to seeds, then the origin). */
  start (): void {
    if (!this.#begin()) return
    this.#timer = setInterval(() => {
      try {
        this.#engine.tick()
        // a scheduler that stopped answering leaves holders to gossip again
        this.#joinTopicIfUseful()
      } catch (err: any) {
        // a bug in one tick must not take the daemon down; the next tick tries again
        this.#ctx.log.error('tick of %s failed: %e', this.digest, err)
      }
    }, 200)
    this.#engine.start()
  }

  /** Pull from the origin at once: what a seed does when asked. */
  startFromOrigin (): void {
    if (!this.#begin()) return
    this.#engine.startFromOrigin()
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
   * probed on the chance).
   */
  addCandidate (peer: string, holds = true): void {
    this.#engine.candidate(peer, holds)
  }

  /** The peer said it holds the blob no more (collected). */
  dropCandidate (peer: string): void {
    this.#engine.withdrawn(peer)
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
    if (this.#engine.ranged) {
      if (start === 0 && end === layout.size) this.#engine.wantAll()
      else this.#engine.want(start, end)
    }
    // a client that reads every byte of a blob takes it for the blob: its
    // last piece waits for the whole digest. A ranged read gets pieces
    // verified against the signed manifest, which is what it can be given.
    const wholeDigest = end === layout.size && (start === 0 || !this.#engine.ranged)
    const first = Math.floor(start / layout.pieceSize)
    const last = Math.ceil(end / layout.pieceSize) - 1
    const id = Symbol('reader')
    // only failure stops a reader: a task that completed still serves its bytes
    const signal = AbortSignal.any([this.#failed.signal, ...(options.signal != null ? [options.signal] : [])])
    const release = this.#ctx.store.hold(this.digest)
    this.#readers++
    try {
      for (let i = first; i <= last; i++) {
        this.#engine.reader(id, i)
        if (!handle.bitfield.has(i)) {
          try {
            await handle.waitForPiece(i, { signal })
          } catch (err) {
            if (this.#error != null) throw this.#error
            throw err
          }
        }
        if (i === layout.pieces - 1 && wholeDigest) {
          // not until it is synced to disk: that is the store's business
          await this.#verified.promise
        }
        const pieceStart = i * layout.pieceSize
        const from = Math.max(start, pieceStart) - pieceStart
        const to = Math.min(end, pieceStart + layout.pieceSize) - pieceStart
        // in slices, each handed on and dropped soon enough to die young
        for (let at = from; at < to; at += READ_SLICE_BYTES) {
          let bytes: Uint8Array
          try {
            bytes = await handle.read(pieceStart + at, Math.min(READ_SLICE_BYTES, to - at), { signal })
          } catch (err) {
            throw await this.#readFailure(err)
          }
          yield bytes
        }
      }
    } finally {
      this.#engine.reader(id, undefined)
      this.#readers--
      release()
    }
    if (last === layout.pieces - 1 && wholeDigest) await this.#verified.promise
  }

  /**
   * Where this task's bytes come from, as far as it knows now: 'origin'
   * when it pulls from the origin itself, 'seed' when a seed pulls for it,
   * 'peers' otherwise.
   */
  get feed (): 'origin' | 'seed' | 'peers' {
    return this.#engine.feed
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
      bytesFromOrigin: this.#engine.bytesFromOrigin,
      bytesFromPeers: this.#engine.bytesFromPeers,
      parents: Object.fromEntries(this.#engine.parentBytes),
      activeParents: [...this.#sessions.values()].filter(s => s.open).length,
      ranged: this.ranged,
      fetching: this.fetching,
      error: this.#error != null ? { where: this.#error.where, message: this.#error.message } : undefined,
      startedAt: this.#startedAt,
      finishedAt: this.#finishedAt
    }
  }

  /** Piece bytes this task asked parents for and has not received yet. */
  get requestedBytes (): number {
    return this.#engine.requestedBytes
  }

  /** Stop everything; pieces held so far stay in the store. */
  stop (): void {
    this.#shutdown()
  }

  // ---- the engine's commands ------------------------------------------------

  #run (command: EngineCommand): void {
    switch (command.type) {
      case 'connect':
        this.#connect(command.peer)
        break
      case 'close': {
        const s = this.#sessions.get(command.peer)
        this.#sessions.delete(command.peer)
        s?.close(command.error != null ? new Error(command.error) : undefined)
        break
      }
      case 'request': {
        const s = this.#sessions.get(command.peer)
        s?.request(command.index).catch(err => s.close(err))
        break
      }
      case 'cancel':
        this.#sessions.get(command.peer)?.cancel(command.index).catch(() => {})
        break
      case 'join-topic':
        if (!this.#joinedTopic) {
          this.#joinedTopic = true
          this.#ctx.joinTopic(this.digest)
        }
        break
      case 'rank':
        this.#askAdvisor(command.candidates)
        break
      case 'report':
        this.#ctx.advisor?.report(command.report)
        break
      case 'lookup':
        this.#lookup(command.limit)
        break
      case 'suggest':
        this.#askSuggestions(command.limit, command.rank)
        break
      case 'ask-seed':
        this.#askSeed(command.seed, command.ranges)
        break
      case 'wanted':
        this.#wakeUp()
        break
      case 'pull-origin':
        this.#runOrigin(this.url!).catch(err => {
          if (this.#state !== 'downloading') return
          this.#engine.originFailed(err.name === 'TaskFailedError' ? err : err.name === 'OriginError' ? new TaskFailedError(err.message, 'origin', err.status, undefined, err.shareable) : storeFailure(err))
        })
        break
      case 'ban':
        this.#ctx.stats.bans++
        this.#ctx.banned(command.peer, command.reason, this.digest)
        break
      case 'finish':
        this.#finish().catch(err => this.#fail(storeFailure(err)))
        break
      case 'fail':
        this.#fail(command.error)
        break
    }
  }

  /** Advice when it comes (within ADVICE_TIMEOUT_MS): the engine ranks on its own meanwhile. */
  #askAdvisor (candidates: ParentCandidate[]): void {
    const advisor = this.#ctx.advisor
    if (advisor == null) return
    const answered = this.#answered()
    advisor.rank(this.digest, candidates, { signal: this.#questionSignal() })
      .then(order => {
        answered(true)
        this.#engine.advised(order)
      }, () => answered(false))
      .catch(err => this.#ctx.log.error('advice for %s failed: %e', this.digest, err))
  }

  #questionSignal (): AbortSignal {
    return AbortSignal.any([this.#controller.signal, AbortSignal.timeout(ADVICE_TIMEOUT_MS)])
  }

  /** Counts a question asked; the function returned counts how it ended: answered in time, late (after ADVICE_DEADLINE_MS) or failed. */
  #answered (): (ok: boolean) => void {
    const stats = this.#ctx.stats.advice
    const asked = Date.now()
    stats.asked++
    return ok => {
      if (!ok) stats.failed++
      else if (Date.now() - asked > ADVICE_DEADLINE_MS) stats.late++
      else stats.answered++
    }
  }

  /** Holders the advisor knows of, beside the DHT's: remembered with their addresses, then candidates; with `rank`, its order of them all. */
  #askSuggestions (limit: number, rank: ParentCandidate[] | undefined): void {
    const advisor = this.#ctx.advisor
    if (advisor == null) return
    const answered = this.#answered()
    advisor.suggest(this.digest, { limit, exclude: [], rank, signal: this.#questionSignal() })
      .then(async ({ holders, ranked }) => {
        answered(true)
        const others = holders.filter(s => s.peer !== this.#ctx.network.peerId)
        for (const s of others) await this.#ctx.network.rememberAddresses(s.peer, s.addrs).catch(() => {})
        this.#engine.suggested(others.map(s => s.peer), ranked)
      }, () => {
        answered(false)
        if (this.#state === 'downloading') this.#engine.suggestFailed()
      })
      .catch(err => this.#ctx.log.error('suggestions for %s failed: %e', this.digest, err))
  }

  #lookup (limit: number): void {
    this.#ctx.findProviders(this.digest, peer => this.#engine.found(peer), {
      limit,
      signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(DISCOVERY_TIMEOUT_MS)])
    })
      .catch(() => {})
      .finally(() => this.#engine.lookupDone())
  }

  #askSeed (seed: string, ranges: Array<[number, number]> | undefined): void {
    const signal = AbortSignal.any([this.#controller.signal, AbortSignal.timeout(this.#ctx.config.seedTimeoutMs)])
    this.#ctx.requestSeed(seed, this.digest, this.url!, this.#wantSize ?? this.#handle?.layout.size, ranges, { signal })
      .then((res): SeedAnswer => res.accepted ? { accepted: true } : { accepted: false, code: res.error?.code, message: res.error?.message, status: res.error?.status })
      .catch((err): SeedAnswer => ({ lost: err.message }))
      .then(answer => this.#engine.seedAnswer(seed, answer))
      .catch(err => this.#ctx.log.error('seed answer for %s failed: %e', this.digest, err))
  }

  #connect (peer: string): void {
    const current = (): boolean => this.#sessions.get(peer) === session
    const session = new ParentSession(peer, this.digest, {
      manifest: async parts => { if (current()) await this.#onManifest(peer, parts) },
      bitfield: have => { if (current()) this.#engine.bitfield(peer, have) },
      have: gained => { if (current()) this.#engine.have(peer, gained) },
      data: bytes => { if (current()) this.#engine.received(peer, bytes) },
      declined: (index, busy, holders) => {
        if (!current()) return
        this.#engine.declined(peer, index, busy)
        // the peers the piece just went to hold it now: candidates at once, without waiting for a lookup
        const network = this.#ctx.network
        for (const h of holders) {
          if (h.peer === network.peerId) continue
          this.#ctx.stats.busyHolders++
          // one already connected is dialled without them: no peer-store write per declined piece
          if (network.isConnected(h.peer)) this.#engine.candidate(h.peer)
          else network.rememberAddresses(h.peer, h.addrs).catch(() => {}).finally(() => { if (current()) this.#engine.candidate(h.peer) })
        }
      },
      buffer: index => {
        const layout = this.#handle!.layout
        return this.#ctx.pieceBuffers.acquire(layout.pieceSize, pieceRange(layout.size, layout.pieceSize, index).length)
      },
      piece: (index, data) => {
        this.#onPiece(peer, current(), index, data)
          .catch(err => this.#fail(storeFailure(err)))
          .finally(() => this.#ctx.pieceBuffers.release(data))
      },
      abandoned: data => this.#ctx.pieceBuffers.release(data),
      closed: reason => {
        if (!current()) return
        this.#sessions.delete(peer)
        this.#onClosed(peer, reason)
      }
    }, this.#ctx.downloadLimiter)
    this.#sessions.set(peer, session)
    session.connect(this.#ctx.network, { signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(SESSION_OPEN_TIMEOUT_MS)]) })
      .then(() => { if (current()) this.#engine.sessionOpened(peer) })
      .catch(err => {
        this.#ctx.log('could not open a piece stream to %s: %s', peer, err.message)
        session.close()
        if (!current()) return
        this.#sessions.delete(peer)
        this.#onClosed(peer, { kind: 'error', message: err.message })
      })
  }

  #onClosed (peer: string, reason: CloseReason | undefined): void {
    this.#ctx.log('session with %s for %s closed: %s', peer, this.digest, reason == null ? 'clean' : `${reason.kind} ${reason.message}`)
    // broke the protocol: out of every exchange for a while, not only this download
    if (reason?.kind === 'violation') this.#ctx.penalties.ban(peer, reason.message)
    this.#engine.sessionClosed(peer, reason)
  }

  // ---- pieces and manifests -------------------------------------------------

  async #onManifest (peer: string, parts: ManifestPart[]): Promise<void> {
    const verified: VerifiedManifestPart[] = []
    for (const part of parts) {
      const sig = toBase64(part.signature, 'base64')
      let v = this.#verifiedParts.get(sig)
      if (v == null) {
        try {
          v = await verifyManifestPart(part, { digest: this.digest, trustedSigners: this.#ctx.trustedSigners })
        } catch (err: any) {
          // a part by a signer this node does not trust is ignored; a broken one is the sender's fault
          if (err.name === 'UntrustedSignerError') continue
          this.#engine.violation(peer, err.message)
          return
        }
        this.#verifiedParts.set(sig, v)
      }
      verified.push(v)
    }
    if (verified.length === 0) return
    const first = verified[0]!
    if (this.#wantSize != null && first.size !== this.#wantSize) {
      this.#engine.violation(peer, `manifest says ${first.size} bytes, expected ${this.#wantSize}`)
      return
    }
    const handle = await this.#ensureHandle(layoutFor(first.size, first.pieceSize))
    const consistent = verified.filter(v => v.size === handle.layout.size && v.pieceSize === handle.layout.pieceSize)
    // each parent's word is kept for its own pieces; the blob's manifest takes the believed signer's only
    const believed = this.#engine.manifest(peer, consistent)
    if (believed.length > 0) await handle.addManifestParts(believed)
  }

  /** A piece from a parent: verified and written, or dropped. `data` goes back to the pool once this settles. */
  async #onPiece (peer: string, current: boolean, index: number, data: Uint8Array): Promise<void> {
    const handle = this.#handle
    const arrival = current && handle != null ? this.#engine.pieceArrived(peer, index) : { write: false as const, discarded: handle != null }
    if (!arrival.write) {
      // the losing copy of a hedged request (or one from a banned parent): the downlink paid for it
      if (arrival.discarded) this.#ctx.stats.bytesDiscarded += data.byteLength
      return
    }
    try {
      // checked against its own parent's word: a parent is at fault only for breaking that
      await handle!.writePiece(index, data, { expected: arrival.expected })
      // the blob's manifest learns the hash with its first piece (all the pin's parts when this one set it)
      const parts = this.#engine.pieceVerified(peer, index)
      if (parts.length > 0) await handle!.addManifestParts(parts)
    } catch (err: any) {
      if (err.name === 'PieceVerificationError') {
        this.#ctx.stats.piecesRejected++
        this.#engine.pieceRejected(peer, index, err.message)
        return
      }
      this.#engine.pieceAbandoned(peer, index)
      throw err
    }
    this.#ctx.stats.bytesFromPeers += data.byteLength
    this.#gained(index)
    this.#engine.pieceStored(peer, index, data.byteLength)
  }

  #gained (index: number): void {
    this.#ctx.stats.piecesVerified++
    this.#ctx.gained(this.digest, index, this.#handle!.layout.pieces)
    this.safeDispatchEvent('piece', { detail: { index, bytes: pieceRange(this.#handle!.layout.size, this.#handle!.layout.pieceSize, index).length, from: 'peer' } })
  }

  // ---- the origin -----------------------------------------------------------

  async #runOrigin (url: string): Promise<void> {
    if (this.#engine.ranged) {
      try {
        await this.#runOriginRanges(url)
        return
      } catch (err: any) {
        if (err.name !== 'RangeIgnoredError') throw err
        // an origin that serves no ranges is read whole, once
        this.#ctx.log('%s serves no ranges: pulling %s whole', url, this.digest)
        this.#engine.wantAll()
      }
    }
    await this.#runOriginWhole(url)
  }

  /** The blob from its origin in one stream, from its first missing piece on. */
  async #runOriginWhole (url: string): Promise<void> {
    const signal = this.#controller.signal
    let handle = this.#handle
    let start = 0
    if (handle != null) {
      while (start < handle.layout.pieces && handle.bitfield.has(start)) start++
      if (start >= handle.layout.pieces) {
        this.#engine.originDone()
        return
      }
    }
    let sink: ((chunk: Uint8Array) => Promise<void>) | undefined
    const offset = handle != null ? start * handle.layout.pieceSize : 0
    // the size comes once, before the first byte, however often the transfer resumes
    await this.#ctx.origin.read(url, offset, async size => {
      handle = await this.#originLayout(size)
      sink = this.#piecesFrom(handle, start, signal)
    }, async chunk => { await sink!(chunk) }, { signal })
    await this.#signWhole(handle!)
    this.#engine.originDone()
  }

  /**
   * A ranged download's pieces from the origin by HTTP Range, as they come
   * to be wanted: adjacent wanted pieces in one request (up to
   * ORIGIN_RANGE_RUN_BYTES), ORIGIN_RANGE_STREAMS requests at once, each
   * piece read once. Ends when every piece is held.
   */
  async #runOriginRanges (url: string): Promise<void> {
    const signal = this.#controller.signal
    const pulling = new Set<number>()
    const running = new Set<Promise<void>>()
    let failure: Error | undefined
    try {
      while (this.#state === 'downloading' && failure == null) {
        const handle = this.#handle
        if (handle == null) {
          const first = this.#engine.wantedBytes[0]
          if (first == null) await this.#nextWant(signal)
          else await this.#learnSizeByRange(url, first[0], signal)
          continue
        }
        if (handle.bitfield.count === handle.layout.pieces) break
        const runs = pieceRuns(this.#engine.wantedMissing().filter(i => !pulling.has(i)), Math.max(1, Math.floor(ORIGIN_RANGE_RUN_BYTES / handle.layout.pieceSize)))
        for (const [first, end] of runs) {
          if (running.size >= ORIGIN_RANGE_STREAMS) break
          for (let i = first; i < end; i++) pulling.add(i)
          const run: Promise<void> = this.#pullRun(url, handle, first, end, signal)
            .catch(err => { failure ??= err })
            .finally(() => {
              for (let i = first; i < end; i++) pulling.delete(i)
              running.delete(run)
              this.#wakeUp()
            })
          running.add(run)
        }
        await this.#nextWant(signal)
      }
    } finally {
      await Promise.allSettled([...running])
    }
    if (failure != null) throw failure
    if (this.#state !== 'downloading') return
    await this.#signWhole(this.#handle!)
    this.#engine.originDone()
  }

  /**
   * The size, from the origin's answer to a range request for the piece-sized
   * span that holds `byte`: a span of the smallest ranged piece (or of the
   * piece size this node cuts blobs in), which is a piece of every blob up to
   * 512 MiB and is kept; with larger pieces the answer is cut short.
   */
  async #learnSizeByRange (url: string, byte: number, signal: AbortSignal): Promise<void> {
    const unit = this.#ctx.pieceSize ?? MIN_RANGED_PIECE_SIZE
    const start = Math.floor(byte / unit) * unit
    let sink: ((chunk: Uint8Array) => Promise<void>) | undefined
    try {
      await this.#ctx.origin.readRange(url, start, start + unit, async size => {
        const handle = await this.#originLayout(size)
        if (handle.layout.pieceSize !== unit) throw new SizeLearned()
        // the span is piece start / unit, the last one clipped to the size
        sink = this.#piecesFrom(handle, start / unit, signal)
      }, async chunk => { await sink!(chunk) }, { signal })
    } catch (err: any) {
      if (err instanceof SizeLearned) return
      if (err.status === 416) {
        // a client asked past the end: that must not fail the blob for the others (a seed remembers a failed pull)
        if (start > 0) {
          await this.#learnSizeByRange(url, 0, signal)
          return
        }
        // not even byte 0: an empty blob, read whole
        throw new RangeIgnoredError(`${this.digest} has no first byte to ask for`)
      }
      throw err
    }
  }

  /** Pieces [first, end) from the origin in one range request. */
  async #pullRun (url: string, h: BlobHandle, first: number, end: number, signal: AbortSignal): Promise<void> {
    const { pieceSize, size } = h.layout
    const sink = this.#piecesFrom(h, first, signal)
    await this.#ctx.origin.readRange(url, first * pieceSize, Math.min(size, end * pieceSize), got => {
      if (got !== size) throw new TaskFailedError(`origin has ${got} bytes for ${this.digest}, expected ${size}`, 'origin', undefined, 'SIZE_MISMATCH')
    }, sink, { signal })
  }

  /** Origin bytes from the start of piece `index` on, in order: each piece is written as soon as it is whole. */
  #piecesFrom (h: BlobHandle, index: number, signal: AbortSignal): (chunk: Uint8Array) => Promise<void> {
    const { pieceSize, size } = h.layout
    const buffer = new Uint8Array(pieceSize)
    let filled = 0
    return async chunk => {
      let pos = 0
      while (pos < chunk.byteLength) {
        const { length } = pieceRange(size, pieceSize, index)
        const n = Math.min(length - filled, chunk.byteLength - pos)
        buffer.set(chunk.subarray(pos, pos + n), filled)
        filled += n
        pos += n
        if (filled === length) {
          await this.#writeOriginPiece(h, index, buffer.subarray(0, length), signal)
          index++
          filled = 0
        }
      }
    }
  }

  /** Waits until more pieces are wanted or a range request ended. */
  async #nextWant (signal: AbortSignal): Promise<void> {
    const wake = this.#wake.promise
    signal.throwIfAborted()
    let onAbort: (() => void) | undefined
    try {
      await Promise.race([wake, new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
      })])
    } finally {
      if (onAbort != null) signal.removeEventListener('abort', onAbort)
    }
  }

  #wakeUp (): void {
    const wake = this.#wake
    this.#wake = Promise.withResolvers<void>()
    wake.resolve()
  }

  /** The layout the origin's size gives, checked against the size the task was asked for and what peers said. */
  async #originLayout (size: number): Promise<BlobHandle> {
    if (this.#wantSize != null && size !== this.#wantSize) {
      throw new TaskFailedError(`origin has ${size} bytes for ${this.digest}, expected ${this.#wantSize}`, 'origin', undefined, 'SIZE_MISMATCH')
    }
    // the first pull decides the layout: a ranged one cuts the small pieces reads by range want (docs/protocol.md §4)
    const handle = await this.#ensureHandle(layoutFor(size, this.#ctx.pieceSize ?? (this.#engine.ranged ? rangedPieceSizeFor(size) : undefined)))
    if (handle.layout.size !== size) {
      throw new TaskFailedError(`origin has ${size} bytes for ${this.digest}, peers said ${handle.layout.size}`, 'origin', undefined, 'SIZE_MISMATCH')
    }
    return handle
  }

  /** A piece read from the origin: checked against a manifest that has its hash, else hashed and signed by this node; then held. */
  async #writeOriginPiece (h: BlobHandle, index: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    await this.#ctx.downloadLimiter.take(data.byteLength, { signal })
    if (h.bitfield.has(index)) return
    if (h.pieceHash(index) != null) {
      // peers' manifest already says what this piece hashes to: the origin's bytes must agree
      await this.#writeAgainstManifest(h, index, data, signal)
    } else {
      const hash = await h.writeOriginPiece(index, data, { signal })
      const body = { digest: this.digest, size: h.layout.size, pieceSize: h.layout.pieceSize, first: index, hashes: [hash] }
      const part = await signManifestPart(body, this.#ctx.network.privateKey)
      await h.addManifestParts([{ ...body, signer: this.#ctx.network.peerId, part }])
    }
    this.#ctx.stats.bytesFromOrigin += data.byteLength
    this.#ctx.stats.piecesVerified++
    this.#ctx.gained(this.digest, index, h.layout.pieces)
    this.safeDispatchEvent('piece', { detail: { index, bytes: data.byteLength, from: 'origin' } })
    this.#engine.originPiece(index, data.byteLength)
  }

  /** With every piece's hash known, one part signed over all of them: what a peer asking for the manifest gets in one frame. */
  async #signWhole (h: BlobHandle): Promise<void> {
    if (h.layout.pieces === 0) return
    const hashes: Uint8Array[] = []
    for (let i = 0; i < h.layout.pieces; i++) {
      const x = h.pieceHash(i)
      if (x == null) return
      hashes.push(x)
    }
    const body = { digest: this.digest, size: h.layout.size, pieceSize: h.layout.pieceSize, first: 0, hashes }
    const part = await signManifestPart(body, this.#ctx.network.privateKey)
    await h.addManifestParts([{ ...body, signer: this.#ctx.network.peerId, part }])
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

  // ---- the store ------------------------------------------------------------

  #setHandle (handle: BlobHandle): void {
    if (this.#handle != null) return
    this.#handle = handle
    // a partial blob on disk was being fetched under one signer's word: it still is
    const signer = handle.manifestSigners()[0]
    if (signer != null) this.#engine.trust.resume(signer)
    this.#engine.layoutKnown(handle.layout, new Bitfield(handle.layout.pieces, handle.bitfield.bytes), i => handle.pieceHash(i) != null)
    this.#layout.resolve(handle.layout)
    this.#joinTopicIfUseful()
    this.safeDispatchEvent('layout', { detail: handle.layout })
  }

  /**
   * The blob's gossip topic carries Have announcements, which only a blob of
   * several pieces needs: a single piece is all or nothing, and its holders
   * answer probes and lookups. Joining costs every peer a subscription
   * message (and leaving, another), so a tiny blob does without, and so does
   * a node whose scheduler tells it of holders.
   */
  #joinTopicIfUseful (): void {
    if (this.#joinedTopic || this.#state !== 'downloading' || this.#handle == null || this.#handle.layout.pieces <= 1 || !this.#ctx.gossipsHolders()) return
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

  /**
   * Why a read of held bytes failed: the task's error when it failed or is
   * failing. A blob whose digest proves wrong is removed from the store
   * before the task learns why, so a reader can meet the removal first.
   */
  async #readFailure (err: unknown): Promise<unknown> {
    if (this.#error == null && this.#state === 'verifying') await this.#verified.promise.catch(() => {})
    return this.#error ?? err
  }

  // ---- the end --------------------------------------------------------------

  async #finish (): Promise<void> {
    const handle = this.#handle!
    if (this.#state !== 'downloading') return
    this.#state = 'verifying'
    try {
      await handle.finalize({ signal: this.#controller.signal, onVerified: () => this.#verified.resolve() })
    } catch (err: any) {
      if (err.name === 'DigestMismatchError') {
        const where = this.#engine.bytesFromOrigin > 0 ? 'origin' : 'p2p'
        // every piece verified against the believed signer's word, and together they are wrong: its word was false
        const trust = this.#engine.trust
        if (where === 'p2p') this.#ctx.forged(this.digest, handle.manifestSigners().length > 0 ? handle.manifestSigners() : trust.pin != null ? [trust.pin] : [], false)
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
    const conflicting = this.#engine.trust.conflicting
    if (conflicting.size > 0) this.#ctx.forged(this.digest, [...conflicting], true)
    this.#shutdown()
    this.#verified.resolve()
    this.#done.resolve()
    this.safeDispatchEvent('complete', { detail: this.summary() })
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
    this.safeDispatchEvent('failed', { detail: err })
  }

  #shutdown (reason?: Error): void {
    this.#release?.()
    this.#engine.end()
    if (this.#timer != null) clearInterval(this.#timer)
    this.#timer = undefined
    this.#controller.abort(reason ?? new Error('task ended'))
    for (const s of this.#sessions.values()) s.close()
    this.#sessions.clear()
    if (this.#joinedTopic) this.#ctx.leaveTopic(this.digest)
    this.#joinedTopic = false
  }
}

/** Thrown by the size callback of a range request whose bytes are not kept: the size was all it was for. */
class SizeLearned extends Error {}

/** Sorted piece indices as runs [first, end) of adjacent pieces, each at most `max` long. */
function pieceRuns (pieces: number[], max: number): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  for (const i of pieces) {
    const last = runs[runs.length - 1]
    if (last != null && last[1] === i && last[1] - last[0] < max) last[1] = i + 1
    else runs.push([i, i + 1])
  }
  return runs
}
