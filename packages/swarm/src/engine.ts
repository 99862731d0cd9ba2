import { Bitfield, MAX_SEED_RANGES, rankSeeds } from '@damselfly/protocol'
import {
  ACCEPTED_SEED_PATIENCE_MS, ADVICE_GAP_MS, ADVICE_TTL_MS, BAD_PARENT_FLOOR_MS, BAD_PARENT_MEAN_FACTOR, BAD_PARENT_MIN_SAMPLES, BAD_PARENT_NORMAL_SAMPLES, BAD_PARENT_SIGMAS, CLEAN_CLOSE_RETRY_MS, DISCOVERY_GAP_MAX_MS, DISCOVERY_GAP_MS, END_GAME_WAIT_MS, ENOUGH_CANDIDATES_PER_PARENT, SUGGEST_GAP_MAX_MS, SUGGEST_GAP_MS,
  FALLBACK_JOIN_WAIT_MS, FALLBACK_STEP_MS, NO_SEED_RECHECK_MS, PARENT_METER_WINDOW_MS, PROBE_ALL_CONNECTED_UP_TO,
  HEDGE_SOONER_FACTOR, MAX_HEDGED_COPIES, PROBE_CONNECTED_PEERS, PROBE_WAIT_MS, SEED_BUSY_RETRY_MS, SEED_RETRY_MS, SLOW_SEED_PATIENCE_MS, STUCK_MS, UNMEASURED_PARENT_BPS
} from './constants.js'
import { TaskFailedError } from './errors.js'
import { ManifestTrust } from './manifest-trust.js'
import { pipelineDepth, planRequests, requestBudget, retryDelay } from './scheduler.js'
import type { PickerState } from './picker.js'
import type { ParentReport } from './advisor.js'
import type { ParentCandidate, ParentRanker } from './ranking.js'
import type { BlobDigest, BlobLayout, VerifiedManifestPart } from '@damselfly/protocol'

/**
 * The decisions of one blob's download, apart from all I/O: events in
 * (a peer named, a session opened, a bitfield, a piece, a seed's answer, a
 * tick of the clock), commands out (open a session, request a piece, ask a
 * seed, look up the DHT, go to the origin, give a parent up). The daemon
 * drives it with libp2p and the store (DownloadTask), the simulator in
 * bench/sim with modelled links, the unit tests with a fake clock.
 */

export interface EngineConfig {
  /** Parents fetched from at once. */
  maxParents: number
  /** Requests outstanding per parent. */
  pipeline: number
  /** How long a seed may take to accept a request, and how long the swarm gets before a node goes to the origin itself. */
  seedTimeoutMs: number
  /** Pull from the origin directly when no seed answers. */
  originFallback: boolean
  /** Wait for peers this long before asking a seed. */
  seedAfterMs: number
  /** A parent silent this long with requests outstanding, or without having sent its bitfield, is dropped. */
  stallMs: number
  /** A request older than this is hedged to a second parent. */
  hedgeAfterMs: number
  /** A parent with nothing the download lacks, this long, gives its place up when another holder is ready. */
  idleParentMs: number
  /** A parent let go as idle is asked again after this, or as soon as it announces pieces. */
  idleRetryMs: number
  /** A piece a parent declined as busy is not asked of it again for this long. */
  declineBackoffMs: number
  /**
   * What a ranged download fetches beyond the pieces read: 'none', the rest
   * 'background' (once every piece read is held, below any new read), or
   * 'full' (at once, below the reads).
   */
  prefetch: 'none' | 'background' | 'full'
}

/** Why a session ended, when not cleanly. */
export interface CloseReason {
  kind: 'choke' | 'not-found' | 'violation' | 'error'
  message: string
  retryAfterMs?: number
}

/**
 * What the engine reads of the node around it, each call a snapshot: no
 * I/O, nothing that waits. The clock is one of them: the engine never reads
 * the time any other way, nor sets a timer (the driver calls `tick`).
 */
export interface EngineEnvironment {
  /** Milliseconds, monotonic. */
  now(): number
  /** This node's peer id. */
  self: string
  /** Whether this node is a seed (it may be its own seed for the blob). */
  isSeed: boolean
  /** Peers this node is connected to. */
  connectedPeers(): string[]
  isConnected(peer: string): boolean
  /** Known seeds, not this node. */
  seeds(): string[]
  /** Whether this node was given peers to join the swarm through (bootstrap addresses): until it meets them, having no peer is not being alone. */
  hasBootstrap(): boolean
  /** Connected peers known to be pulling this blob (on its gossip topic), not this node. */
  pullers(): string[]
  /** A peer banned from every exchange for a while. */
  penalized(peer: string): boolean
  /** A peer's load as its last beacon told it (what the ranker reads). */
  beacon(peer: string): ParentCandidate['beacon']
  /** The node's download limit, bytes/s; 0 for none. */
  downloadRate(): number
  /** Piece bytes requested from parents and not yet received, over every download of the node. */
  requestedBytes(): number
  ranker: ParentRanker
  /**
   * An advisor beyond the node's own ranker is at hand (the scheduler): the
   * engine asks it to rank (`rank` commands) and tells it what parents did
   * (`report` commands), and ranks with `ranker` until its advice arrives.
   */
  advised?: boolean
  random(): number
  /** Where the engine says why it did what it did (a debug logger). */
  log(format: string, ...args: unknown[]): void
}

/** What the engine asks its driver to do. Commands are issued synchronously from the event that caused them. */
export type EngineCommand =
  /** Open a piece session with the peer; answer with sessionOpened, then bitfield/have/pieces, and sessionClosed. */
  | { type: 'connect', peer: string }
  /** End the session: the engine has already forgotten it (stalled, idle, banned). */
  | { type: 'close', peer: string, error?: string }
  | { type: 'request', peer: string, index: number }
  | { type: 'cancel', peer: string, index: number }
  /** Look up holders in the DHT, at most `limit`; name each with candidate(), then lookupDone(). */
  | { type: 'lookup', limit: number }
  /**
   * Ask the seed to pull the blob (with `ranges`, byte ranges [start, end):
   * at least the pieces covering them, first); answer with seedAnswer().
   */
  | { type: 'ask-seed', seed: string, ranges?: Array<[number, number]> }
  /** Join the blob's gossip topic (if not yet): the pullers of a blob no seed can pull find each other there. */
  | { type: 'join-topic' }
  /**
   * Pull the blob from its origin, writing each piece (originPiece) and
   * ending with originDone or originFailed. A ranged download pulls the
   * pieces `wantedMissing()` names, by range, as they come to be wanted.
   */
  | { type: 'pull-origin' }
  /** A ranged download wants more pieces: an origin pull under way has more to read. */
  | { type: 'wanted' }
  /** The peer broke this download's rules (a bad piece, a false manifest): it is out of it. */
  | { type: 'ban', peer: string, reason: string }
  /** Every piece is held: verify the whole blob. */
  | { type: 'finish' }
  | { type: 'fail', error: TaskFailedError }
  /** Ask the advisor to put these candidates in order; answer with advised() (or never: the engine ranks on its own meanwhile). */
  | { type: 'rank', candidates: ParentCandidate[] }
  /** Tell the advisor what a parent did. */
  | { type: 'report', report: ParentReport }
  /**
   * Ask the advisor for holders of the blob, at most `limit`, and, with
   * `rank`, to put those candidates and the holders it names in order:
   * one question where two would go. Answer with suggested().
   */
  | { type: 'suggest', limit: number, rank?: ParentCandidate[] }

/** What a seed answered, as the engine needs it. */
export type SeedAnswer =
  | { accepted: true }
  | { accepted: false, code?: string, message?: string, status?: number }
  /** No answer within the timeout, or the stream broke. */
  | { lost: string }

/** What to do with a piece that arrived: write it (checking it against `expected`), or drop it. */
export type Arrival =
  | { write: true, expected: Uint8Array }
  | { write: false, discarded: boolean }

interface Candidate {
  retryAt: number
  failures: number
  /** Its last answer was "not found": news that it holds pieces ends the wait. */
  notFound?: boolean
  /** Let go as idle: news that it holds pieces ends the wait. */
  idle?: boolean
  /** Its pieces took far longer than the download's other pieces (a bad parent): a place goes to it after every other candidate. */
  demoted?: boolean
  /** Verified piece bytes it delivered to this download, over its sessions. */
  deliveredBytes?: number
  /** Its delivery rate when its last session ended, bytes/s. */
  lastBps?: number
}

/**
 * Piece times of one download (from a piece's request, or the parent's
 * previous piece if later, to its arrival): count, mean and the sum of
 * squared deviations (Welford), for the bad-parent rule.
 */
class PieceTimes {
  n = 0
  mean = 0
  #m2 = 0

  add (ms: number): void {
    this.n++
    const d = ms - this.mean
    this.mean += d / this.n
    this.#m2 += d * (ms - this.mean)
  }

  get stdev (): number {
    return this.n > 1 ? Math.sqrt(this.#m2 / (this.n - 1)) : 0
  }

  /**
   * A piece time that marks its parent as bad, against the times seen so
   * far (Dragonfly's rule): over BAD_PARENT_MEAN_FACTOR times the mean, or,
   * once there are BAD_PARENT_NORMAL_SAMPLES, over the mean plus
   * BAD_PARENT_SIGMAS standard deviations; never before BAD_PARENT_MIN_SAMPLES.
   */
  isOutlier (ms: number): boolean {
    if (this.n < BAD_PARENT_MIN_SAMPLES) return false
    if (ms < BAD_PARENT_FLOOR_MS) return false
    if (this.n < BAD_PARENT_NORMAL_SAMPLES) return ms > this.mean * BAD_PARENT_MEAN_FACTOR
    return ms > this.mean + BAD_PARENT_SIGMAS * this.stdev
  }
}

/** A clock-driven rate meter: bytes per second over a few windows. */
class Meter {
  #rate = 0
  #bytes = 0
  #since: number

  constructor (now: number) {
    this.#since = now
  }

  add (bytes: number, now: number): void {
    this.#bytes += bytes
    this.#roll(now)
  }

  rate (now: number): number {
    this.#roll(now)
    if (now - this.#since > PARENT_METER_WINDOW_MS * 4) return 0
    return this.#rate
  }

  /** The rate last measured, however long ago: what an idle parent did when it last sent. */
  get last (): number {
    return this.#rate
  }

  #roll (now: number): void {
    const elapsed = now - this.#since
    if (elapsed < PARENT_METER_WINDOW_MS) return
    const sample = this.#bytes / (elapsed / 1000)
    this.#rate = this.#rate === 0 ? sample : this.#rate * 0.5 + sample * 0.5
    this.#bytes = 0
    this.#since = now
  }
}

/** The engine's view of one parent session. */
class Session {
  readonly peer: string
  open = false
  have: Bitfield | undefined
  /** Pieces requested and not yet received or answered, oldest first. */
  readonly outstanding: number[] = []
  readonly requestedAt = new Map<number, number>()
  lastDataAt: number
  receivedBytes = 0
  idleSince: number | undefined
  /** When its last whole piece arrived. */
  lastPieceAt: number | undefined
  readonly meter: Meter

  constructor (peer: string, now: number) {
    this.peer = peer
    this.lastDataAt = now
    this.meter = new Meter(now)
  }

  forget (index: number): boolean {
    const k = this.outstanding.indexOf(index)
    if (k < 0) return false
    this.outstanding.splice(k, 1)
    this.requestedAt.delete(index)
    return true
  }
}

export type EngineState = 'idle' | 'downloading' | 'finishing' | 'ended'

export class DownloadEngine {
  readonly #env: EngineEnvironment
  readonly #config: EngineConfig
  readonly #out: (command: EngineCommand) => void
  readonly #digest: BlobDigest
  /** A URL the origin may be read from; without one only peers and seeds can help. */
  readonly #hasUrl: boolean
  #state: EngineState = 'idle'
  #layout: BlobLayout | undefined
  #held: Bitfield | undefined
  /** Pieces whose hash the blob's manifest holds. */
  #hashKnown: Uint8Array | undefined
  /** Over the parents' bitfields: how many hold each piece. */
  #availability: Uint16Array | undefined
  readonly #sessions = new Map<string, Session>()
  readonly #candidates = new Map<string, Candidate>()
  readonly #banned = new Set<string>()
  readonly #trust: ManifestTrust
  /** When #unstick last reopened a session. */
  #lastUnstick = -Infinity
  /** Pieces a parent declined as busy, by parent: until when it is not asked for them again. */
  readonly #declined = new Map<string, Map<number, number>>()
  /** Pieces being verified and written: a second copy arriving meanwhile is dropped. */
  readonly #writing = new Set<number>()
  /** Per piece, the parents asked for it and not answered yet. */
  #inflight: Array<Set<string> | undefined> = []
  readonly #parentBytes = new Map<string, number>()
  readonly #pieceTimes = new PieceTimes()
  #demotions = 0
  readonly #readers = new Map<symbol, number>()
  /**
   * A ranged download fetches only the pieces its readers (or, on a seed,
   * its requesters) want: until the layout is known, the byte ranges
   * wanted; then one byte per piece. Undefined for a whole download.
   */
  #ranged: {
    bytes: Array<[number, number]>
    pieces?: Uint8Array
    askedBytes?: { at: number, ranges: Array<[number, number]> }
    /** What it fetches beyond the pieces read (EngineConfig.prefetch; 'full' once a reader reads the whole blob). */
    rest: EngineConfig['prefetch']
    /** A seed was asked for the whole blob, for the rest. */
    askedRest?: boolean
  } | undefined
  /** Pieces of a ranged download a seed was asked for, and when. */
  readonly #askedOfSeed = new Map<number, number>()
  /** When the wanted piece asked for longest ago without a parent holding it became wanted. */
  #wantedSince: number | undefined
  #fromPeers = 0
  #fromOrigin = 0
  #lastProgress: number
  #nextSeedAsk = 0
  /** The seeds being asked in turn, while an ask is under way. */
  #seedRound: { seeds: string[], next: number } | undefined
  #originRunning = false
  /** Until when a seed may answer before this node goes to the origin: seedTimeoutMs from the first ask. */
  #seedDeadline: number | undefined
  #firstSeedAsk: number | undefined
  #seedAccepted = false
  /** No seed could pull the blob: since when this node is deciding with the other pullers who goes to the origin. */
  #fallback: { since: number, rank?: number } | undefined
  /** A seed's origin failed before any DHT lookup: the error, should a lookup name nobody new. */
  #failAfterLookup: TaskFailedError | undefined
  #lookups = 0
  #discovering = false
  #nobodyHasIt = false
  /** When the last discovery (the probe of connected peers, or a DHT lookup) began or ended; undefined before the first. */
  #lastDiscovery: number | undefined
  /** When the first DHT lookup is due, if the probe of connected peers did not cover them all. */
  #lookupDueAt = Infinity
  /** The advisor's order of candidates (peer to place), and when it came. */
  #advice: { at: number, order: Map<string, number> } | undefined
  /** When the engine last asked the advisor to rank. */
  #lastRankAsk: number | undefined
  /** When the engine last asked the advisor for holders. */
  #lastSuggestAsk: number | undefined
  /** A `suggest` is unanswered: the next waits for it (or for suggestFailed). */
  #suggesting = false
  /** When the last lookup went out (not a probe of the connected peers). */
  #lastLookup: number | undefined
  /** Between asks for suggestions: SUGGEST_GAP_MS, doubling while they name nobody new. */
  #suggestGap = SUGGEST_GAP_MS
  #lookupNews = 0
  /** Wait before the next DHT lookup: doubles while parents are at hand, back to the start when none is. */
  #discoveryGap = DISCOVERY_GAP_MS

  constructor (env: EngineEnvironment, config: EngineConfig, out: (command: EngineCommand) => void, init: { digest: BlobDigest, hasUrl: boolean, excludedSigners?: ReadonlySet<string>, ranged?: boolean }) {
    this.#env = env
    this.#config = config
    this.#out = out
    this.#digest = init.digest
    this.#hasUrl = init.hasUrl
    this.#trust = new ManifestTrust(init.excludedSigners)
    this.#lastProgress = env.now()
    if (init.ranged === true) this.#ranged = { bytes: [], rest: config.prefetch ?? 'none' }
  }

  /** Started by a ranged read: the pieces read come first, and the rest only as its prefetch policy says. */
  get ranged (): boolean {
    return this.#ranged != null
  }

  /** It is fetching: not a ranged download that holds every piece wanted so far, resting until the next read. */
  get fetching (): boolean {
    return this.#state === 'downloading' && (this.#ranged == null || this.#layout == null || this.#missesWanted() || this.#restOpen())
  }

  /**
   * Bytes [start, end) of the blob are wanted: a ranged download fetches
   * the pieces covering them first, and asks a seed for those no parent
   * holds. A whole download wants every piece already.
   */
  want (start: number, end: number): void {
    const r = this.#ranged
    if (r == null || !(end > start)) return
    const layout = this.#layout
    if (layout == null) {
      r.bytes.push([start, end])
      return
    }
    const first = Math.floor(start / layout.pieceSize)
    const last = Math.min(layout.pieces, Math.ceil(end / layout.pieceSize)) - 1
    let fresh = false
    for (let i = first; i <= last; i++) {
      if (r.pieces![i] === 1 || this.#held!.has(i)) continue
      r.pieces![i] = 1
      fresh = true
    }
    if (!fresh || this.#state !== 'downloading') return
    this.#wantedSince ??= this.#env.now()
    if (this.#originRunning) this.#out({ type: 'wanted' })
    this.#schedule()
    this.#maybeAskSeeds(this.#env.now())
  }

  /** Every piece is wanted from now on (a reader reads the whole blob): the pieces read still come first. */
  wantAll (): void {
    const r = this.#ranged
    if (r == null || r.rest === 'full') return
    r.rest = 'full'
    if (this.#state !== 'downloading') return
    if (this.#held?.complete === true) {
      this.#finish()
      return
    }
    if (this.#originRunning) this.#out({ type: 'wanted' })
    this.#schedule()
    if (this.#layout != null) this.#maybeAskRanges(this.#env.now())
  }

  /**
   * Missing pieces an origin pull reads next, in order: the pieces read
   * first, then (as the prefetch policy says) the rest; every missing piece
   * of a whole download.
   */
  wantedMissing (): number[] {
    const held = this.#held
    if (held == null) return []
    const out = this.#missingWanted()
    if (this.#ranged != null && this.#restOpen()) {
      for (let i = 0; i < held.length; i++) if (!held.has(i) && !this.#isWanted(i)) out.push(i)
    }
    return out
  }

  /** A ranged download fetches the rest of the blob now: always with 'full', with 'background' once every piece read is held. */
  #restOpen (): boolean {
    const r = this.#ranged
    if (r == null || this.#layout == null || this.#held!.complete) return false
    return r.rest === 'full' || (r.rest === 'background' && !this.#missesWanted())
  }

  /** Byte ranges wanted before the layout is known (a ranged download's first). */
  get wantedBytes (): ReadonlyArray<[number, number]> {
    return this.#ranged?.bytes ?? []
  }

  /** The pieces not held that are wanted (every missing piece of a whole download), ascending. */
  #missingWanted (): number[] {
    const held = this.#held!
    const out: number[] = []
    for (let i = 0; i < held.length; i++) if (!held.has(i) && this.#isWanted(i)) out.push(i)
    return out
  }

  #isWanted (i: number): boolean {
    const r = this.#ranged
    return r == null || r.pieces?.[i] === 1
  }

  get state (): EngineState {
    return this.#state
  }

  get trust (): ManifestTrust {
    return this.#trust
  }

  /** Where the bytes come from as far as the engine knows: 'origin' (this node pulls), 'seed' (a seed pulls for it) or 'peers'. */
  get feed (): 'origin' | 'seed' | 'peers' {
    if (this.#originRunning || this.#fromOrigin > 0) return 'origin'
    return this.#seedAccepted ? 'seed' : 'peers'
  }

  get originRunning (): boolean {
    return this.#originRunning
  }

  get bytesFromPeers (): number {
    return this.#fromPeers
  }

  get bytesFromOrigin (): number {
    return this.#fromOrigin
  }

  /** Bytes of verified pieces received from each parent. */
  get parentBytes (): ReadonlyMap<string, number> {
    return this.#parentBytes
  }

  /** Parents demoted as bad (the bad-parent rule) so far. */
  get demotions (): number {
    return this.#demotions
  }

  /** Parent sessions, open or opening. */
  get sessionCount (): number {
    return this.#sessions.size
  }

  /** Sessions open now. */
  get activeParents (): number {
    let n = 0
    for (const s of this.#sessions.values()) if (s.open) n++
    return n
  }

  /** Piece bytes asked of parents and not received yet. */
  get requestedBytes (): number {
    const size = this.#layout?.pieceSize ?? 0
    let n = 0
    for (const s of this.#sessions.values()) n += s.outstanding.length * size
    return n
  }

  // ---- events ---------------------------------------------------------------

  /** Start fetching from peers (then seeds, then the origin). */
  start (): void {
    if (this.#state !== 'idle') return
    this.#state = 'downloading'
    this.tick()
  }

  /** Pull from the origin at once: what a seed does when asked. */
  startFromOrigin (): void {
    if (this.#state !== 'idle') return
    this.#state = 'downloading'
    this.#pullFromOrigin()
  }

  /** Stop: no more commands. */
  end (): void {
    this.#state = 'ended'
    this.#sessions.clear()
  }

  /**
   * The blob's layout is known, with what the store already holds and the
   * pieces whose hash its manifest holds.
   */
  layoutKnown (layout: BlobLayout, held: Bitfield, hashKnown: (index: number) => boolean): void {
    if (this.#layout != null) return
    this.#layout = layout
    this.#held = new Bitfield(layout.pieces, held.bytes)
    this.#hashKnown = new Uint8Array(layout.pieces)
    for (let i = 0; i < layout.pieces; i++) if (hashKnown(i)) this.#hashKnown[i] = 1
    this.#availability = new Uint16Array(layout.pieces)
    for (const s of this.#sessions.values()) this.#count(s.have, 1)
    const r = this.#ranged
    if (r != null) {
      r.pieces = new Uint8Array(layout.pieces)
      // what a seed was asked for before the size was known is asked for
      for (const [start, end] of r.askedBytes?.ranges ?? []) {
        for (let i = Math.floor(start / layout.pieceSize); i * layout.pieceSize < Math.min(end, layout.size); i++) this.#askedOfSeed.set(i, r.askedBytes!.at)
      }
      const bytes = r.bytes
      r.bytes = []
      for (const [start, end] of bytes) this.want(start, end)
    }
  }

  /**
   * A peer said (through the DHT or gossip) that it holds pieces of this
   * blob; with `holds` false it is only worth asking (a connected peer
   * probed on the chance). News that it holds pieces ends the wait after an
   * earlier "not found".
   */
  candidate (peer: string, holds = true): void {
    // a task pulling from the origin has nothing to gain from parents
    if (peer === this.#env.self || this.#banned.has(peer) || this.#originRunning) return
    const c = this.#candidates.get(peer)
    if (c == null) {
      this.#candidates.set(peer, { retryAt: 0, failures: 0 })
      // the others ready now took the places there were: a new one only needs a place
      if (this.#state === 'downloading' && this.#sessions.size < this.#config.maxParents && !this.#env.penalized(peer)) this.#open(peer)
    } else if (holds && (c.notFound === true || c.idle === true) && !this.#sessions.has(peer)) {
      c.notFound = false
      c.idle = false
      c.retryAt = 0
      if (this.#state === 'downloading') this.#connectMore()
    }
  }

  /**
   * The advisor's answer to `suggest`: holders, each a candidate, and its
   * order of them and of the candidates it was asked to rank, when it gave
   * one (the best of them get the places free). While its answers name
   * nobody new, it is asked less often (SUGGEST_GAP_MAX_MS).
   */
  suggested (peers: string[], order?: string[]): void {
    this.#suggesting = false
    let news = 0
    if (order != null) {
      const place = this.#takeAdvice(order)
      peers = [...peers].sort((a, b) => (place.get(a) ?? place.size) - (place.get(b) ?? place.size))
    }
    for (const peer of peers) {
      if (peer !== this.#env.self && !this.#candidates.has(peer)) news++
      this.candidate(peer)
    }
    this.#suggestAnswered(news)
  }

  /** The advisor did not answer `suggest` (in time, or at all): holders are looked up now, the DHT's way if need be. */
  suggestFailed (): void {
    this.#suggesting = false
    if (this.#state !== 'downloading' || this.#discovering) return
    // at once, unless a lookup went within the gap lookups keep
    this.#lookupDueAt = Math.min(this.#lookupDueAt, (this.#lastLookup ?? -Infinity) + this.#discoveryGap)
  }

  /** Holders asked for (suggest, or a lookup the advisor answers) named `news` new ones. */
  #suggestAnswered (news: number): void {
    this.#suggestGap = news === 0 ? Math.min(2 * this.#suggestGap, SUGGEST_GAP_MAX_MS) : SUGGEST_GAP_MS
  }

  /** The advisor's order of the candidates it was given, best first. */
  advised (order: string[]): void {
    this.#takeAdvice(order)
    if (this.#state === 'downloading') this.#connectMore()
  }

  /** The advisor's order from now on: each peer's place in it. */
  #takeAdvice (order: string[]): Map<string, number> {
    this.#advice = { at: this.#env.now(), order: new Map(order.map((peer, i) => [peer, i])) }
    return this.#advice.order
  }

  /** The peer said it holds the blob no more (collected): it is asked for nothing until it announces pieces again. */
  withdrawn (peer: string): void {
    const c = this.#candidates.get(peer)
    if (c == null) return
    if (this.#sessions.has(peer)) this.#drop(peer, { kind: 'not-found', message: 'withdrawn' })
    // after #closed, which would ask it again after the usual delay
    c.notFound = true
    c.retryAt = Infinity
  }

  /** The DHT lookup under way named a holder. */
  found (peer: string): void {
    if (!this.#candidates.has(peer)) this.#lookupNews++
    this.candidate(peer)
  }

  /** A DHT lookup ended. */
  lookupDone (): void {
    const news = this.#lookupNews
    this.#discovering = false
    this.#lastDiscovery = this.#env.now()
    if (this.#env.advised === true) this.#suggestAnswered(news)
    // the records named nobody new: while a crowd pulls, its holders are found through gossip and probes
    if (news === 0) this.#discoveryGap = DISCOVERY_GAP_MAX_MS
    if (this.#state !== 'downloading') return
    const failure = this.#failAfterLookup
    this.#failAfterLookup = undefined
    if (failure != null && news === 0) {
      this.#fail(failure)
      return
    }
    // nobody has it: no point waiting out seedAfterMs before asking a seed
    if (this.#candidates.size === 0 && this.#layout == null) {
      this.#nobodyHasIt = true
      // provider records take a while to spread: the peers at hand are asked directly
      this.#probeConnected()
      this.tick()
    }
  }

  /** The session's stream is open. */
  sessionOpened (peer: string): void {
    const s = this.#sessions.get(peer)
    if (s != null) s.open = true
  }

  /** The parent's bitfield (its first, or a replacement). */
  bitfield (peer: string, have: Bitfield): void {
    const s = this.#sessions.get(peer)
    if (s == null) return
    this.#count(s.have, -1)
    s.have = have
    this.#count(have, 1)
    this.#schedule()
    // the parents being opened have had their say on the wanted pieces
    if (this.#ranged != null && this.#layout != null && this.#state === 'downloading') this.#maybeAskRanges(this.#env.now())
  }

  /** The parent gained these pieces (each within its bitfield's length). */
  have (peer: string, pieces: number[]): void {
    const s = this.#sessions.get(peer)
    if (s?.have == null) return
    const counted = this.#availability != null && s.have.length === this.#availability.length
    for (const i of pieces) {
      if (s.have.set(i) && counted) this.#availability![i] = (this.#availability![i] ?? 0) + 1
    }
    // news from a parent whose queue is full changes no request now: its next answer will
    if (s.open && s.outstanding.length < pipelineDepth(this.#layout?.pieceSize ?? 1, s.meter.rate(this.#env.now()), this.#config.pipeline)) this.#schedule()
  }

  /** Piece bytes arrived on the session (a chunk of a piece). */
  received (peer: string, bytes: number): void {
    const s = this.#sessions.get(peer)
    if (s == null) return
    const now = this.#env.now()
    s.meter.add(bytes, now)
    s.receivedBytes += bytes
    s.lastDataAt = now
  }

  /** Signed manifest parts from a parent, their signatures verified: returns the parts the blob's manifest takes now. */
  manifest (peer: string, parts: VerifiedManifestPart[]): VerifiedManifestPart[] {
    const believed = this.#trust.vouch(peer, parts)
    for (const part of believed) this.#knowHashes(part)
    this.#schedule()
    return believed
  }

  /** A whole piece arrived from a parent, not yet verified. */
  pieceArrived (peer: string, index: number): Arrival {
    const held = this.#held
    const s = this.#sessions.get(peer)
    if (s != null) this.#timePiece(s, index)
    s?.forget(index)
    // data already in flight from a parent banned a moment ago is not looked at
    if (held == null || this.#banned.has(peer) || held.has(index) || this.#writing.has(index)) {
      // the losing copy of a hedged request (or one from a banned parent)
      this.#inflight[index]?.delete(peer)
      this.#schedule()
      return { write: false, discarded: held != null }
    }
    const word = this.#trust.vouched(peer, index)
    if (word == null) {
      // a parent sends the hash of every piece it offers before the piece itself
      this.#inflight[index]?.delete(peer)
      this.#ban(peer, `sent piece ${index} of ${this.#digest} without a manifest part for it`)
      return { write: false, discarded: false }
    }
    if (!this.#trust.usable(peer, index)) {
      // it follows another signer than the one believed: neither used nor blamed (the digest will tell)
      this.#inflight[index]?.delete(peer)
      this.#schedule()
      return { write: false, discarded: true }
    }
    // the piece counts as in flight until it is written, so nobody asks for it again meanwhile
    this.#writing.add(index)
    return { write: true, expected: word.hash }
  }

  /**
   * The piece verified against its parent's word: returns the manifest
   * parts the blob's manifest takes with it (all the pin's parts when this
   * piece set the pin, the piece's own part when its hash was not kept).
   */
  pieceVerified (peer: string, index: number): VerifiedManifestPart[] {
    const hashKept = this.#hashKnown?.[index] === 1
    const pinned = this.#trust.verified(peer, index)
    const parts = pinned.length > 0 ? pinned : hashKept ? [] : [this.#trust.vouched(peer, index)!.part]
    for (const part of parts) this.#knowHashes(part)
    return parts
  }

  /** The piece is verified and stored. */
  pieceStored (peer: string, index: number, bytes: number): void {
    this.#writing.delete(index)
    const others = this.#inflight[index]
    others?.delete(peer)
    this.#fromPeers += bytes
    this.#parentBytes.set(peer, (this.#parentBytes.get(peer) ?? 0) + bytes)
    const c = this.#candidates.get(peer)
    if (c != null) c.deliveredBytes = (c.deliveredBytes ?? 0) + bytes
    // the losing copies of a hedged request are no longer wanted
    for (const other of others ?? []) {
      if (this.#sessions.has(other)) this.#out({ type: 'cancel', peer: other, index })
    }
    this.#gained(index)
    if (this.#held!.complete) this.#finish()
    else this.#schedule()
  }

  /** The piece did not verify against its parent's word: the parent is banned from this download. */
  pieceRejected (peer: string, index: number, reason: string): void {
    this.#writing.delete(index)
    this.#inflight[index]?.delete(peer)
    this.#ban(peer, reason)
    this.#schedule()
  }

  /** The parent broke this download's rules outside a piece (a manifest part that does not verify): it is out of it. */
  violation (peer: string, reason: string): void {
    this.#ban(peer, reason)
    this.#schedule()
  }

  /** Writing the piece failed for another reason (the store): the piece is wanted again. */
  pieceAbandoned (peer: string, index: number): void {
    this.#writing.delete(index)
    this.#inflight[index]?.delete(peer)
  }

  /** A request ended without data: declined (busy) or refused. */
  declined (peer: string, index: number, busy: boolean): void {
    if (this.#sessions.has(peer)) this.#report({ type: 'failed', digest: this.#digest, parent: peer })
    this.#sessions.get(peer)?.forget(index)
    this.#inflight[index]?.delete(peer)
    // a busy parent just sent the piece to others: ask them, or ask again shortly
    if (busy) {
      let byPiece = this.#declined.get(peer)
      if (byPiece == null) {
        byPiece = new Map()
        this.#declined.set(peer, byPiece)
      }
      byPiece.set(index, this.#env.now() + this.#config.declineBackoffMs)
    }
    this.#schedule()
  }

  /** The session ended by the parent's doing or the network's; `reason` undefined on a clean close. */
  sessionClosed (peer: string, reason: CloseReason | undefined): void {
    if (!this.#sessions.has(peer)) return
    this.#closed(peer, reason)
  }

  /** A reader of the blob's bytes waits for piece `index` next; undefined when it is gone. */
  reader (id: symbol, index: number | undefined): void {
    if (index == null) this.#readers.delete(id)
    else this.#readers.set(id, index)
  }

  /** What the seed answered, or that it did not. */
  seedAnswer (seed: string, answer: SeedAnswer): void {
    const round = this.#seedRound
    if (round == null || round.seeds[round.next] !== seed || this.#state !== 'downloading') return
    if ('lost' in answer) {
      this.#env.log('seed %s did not answer for %s: %s', seed, this.#digest, answer.lost)
      round.next++
    } else if (answer.accepted) {
      this.#env.log('seed %s accepted %s', seed, this.#digest)
      this.#seedRound = undefined
      this.#seedAccepted = true
      this.#fallback = undefined
      const c = this.#candidates.get(seed)
      if (c != null) c.retryAt = 0
      this.candidate(seed)
      this.#lastProgress = this.#env.now()
      if (this.#ranged != null) {
        this.#wantedSince = undefined
        // pieces wanted while the seed was being asked
        if (this.#layout != null) this.#maybeAskRanges(this.#env.now())
      }
      return
    } else if (answer.code === 'ORIGIN') {
      this.#seedRound = undefined
      const error = new TaskFailedError(`seed ${seed}: ${answer.message ?? 'the origin could not be read'}`, 'origin', answer.status)
      // the origin will not give the blob, but a holder the DHT names might
      // (the connected peers were asked; the provider records are for peers further away)
      if (this.#lookups === 0 && !this.#discovering && this.#env.connectedPeers().length > 0) {
        this.#failAfterLookup = error
        this.#discover()
        return
      }
      this.#fail(error)
      return
    } else {
      this.#env.log('seed %s refused %s: %s', seed, this.#digest, answer.message)
      round.next++
    }
    this.#askNextSeed()
  }

  /** This node verified and stored a piece it pulled from the origin. */
  originPiece (index: number, bytes: number): void {
    this.#fromOrigin += bytes
    if (this.#hashKnown != null) this.#hashKnown[index] = 1
    this.#gained(index)
  }

  /** The origin pull ended with every piece read. */
  originDone (): void {
    this.#finish()
  }

  /** The origin pull failed. */
  originFailed (error: TaskFailedError): void {
    this.#originRunning = false
    this.#fail(error)
  }

  /** The clock moved on: the driver calls this every 200 ms or so. */
  tick (): void {
    if (this.#state !== 'downloading') return
    const now = this.#env.now()
    // a ranged download with every wanted piece held has nothing to look for
    if (this.#ranged != null && this.#layout != null && !this.#missesWanted() && !this.#restOpen()) return
    if (this.#sessions.size === 0) this.#discoveryGap = DISCOVERY_GAP_MS
    if (this.#lastDiscovery == null) {
      // the connected peers first, directly: they answer within a round
      // trip, while a DHT lookup costs RPCs all over the swarm. When they
      // were every connected peer, a lookup could only name peers further
      // away: it waits its turn; otherwise it waits for their answers, at
      // most PROBE_WAIT_MS.
      this.#lastDiscovery = now
      if (!this.#probeConnected()) this.#lookupDueAt = now + PROBE_WAIT_MS
    } else if (this.#lookupDue(now)) {
      this.#discoveryGap = Math.min(DISCOVERY_GAP_MAX_MS, this.#discoveryGap * 2)
      this.#discover()
    }
    if (this.#state !== 'downloading') return
    this.#maybeAskSuggestions(now)
    this.#releaseIdle(now)
    this.#connectMore()
    this.#checkWaiting(now)
    this.#hedge(now)
    this.#endGame(now)
    this.#expireDeclines(now)
    this.#maybeAskSeeds(now)
    this.#maybeFallBack(now)
    this.#schedule()
    this.#unstick(now)
  }

  /**
   * Nothing asked for and nothing gained for STUCK_MS while an open parent
   * holds a wanted piece this download lacks: the session with it is
   * reopened, with the reason the piece was not asked for in the log.
   */
  #unstick (now: number): void {
    const held = this.#held
    if (held == null || this.#originRunning || now - Math.max(this.#lastProgress, this.#lastUnstick) < STUCK_MS) return
    for (const s of this.#sessions.values()) if (s.outstanding.length > 0) return
    for (const s of [...this.#sessions.values()]) {
      if (!s.open || s.have == null || s.have.length !== held.length) continue
      let piece: number | undefined
      for (const i of s.have.indices()) {
        if (!held.has(i) && this.#isWanted(i) && !this.#writing.has(i)) {
          piece = i
          break
        }
      }
      if (piece == null) continue
      this.#lastUnstick = now
      const inflight = [...this.#inflight[piece] ?? []]
      this.#env.log('%s: parent %s holds piece %d, and nothing was asked for %d ms (hash known %s, usable %s, declined until %s, in flight to %s): reopening the session',
        this.#digest, s.peer, piece, STUCK_MS, this.#hashKnownAt(piece),
        this.#trust.usableFrom(s.peer)(piece), this.#declined.get(s.peer)?.get(piece), inflight.join(',') || 'nobody')
      // whatever says the piece is on its way from this parent goes with the session
      for (const set of this.#inflight) set?.delete(s.peer)
      this.#declined.delete(s.peer)
      this.#drop(s.peer, { kind: 'error', message: 'stuck' }, 'nothing asked of it while it held a piece wanted')
      return
    }
  }

  // ---- discovery ------------------------------------------------------------

  #lookupDue (now: number): boolean {
    if (this.#discovering) return false
    // with an advisor, asking it for holders (#maybeAskSuggestions) is the
    // lookup that comes again: one goes only when due (after the probe, or
    // when the advisor did not answer). Each on its own clock, the two took
    // turns, a question every second or two while nobody held the blob yet
    const again = this.#env.advised !== true && now - this.#lastDiscovery! > this.#discoveryGap && !this.#knowsEnoughHolders()
    return (now >= this.#lookupDueAt || again) && this.#busySessions(now) < this.#config.maxParents
  }

  /**
   * With an advisor, holders from it while this download is short of
   * parents and no candidate is ready for a place, SUGGEST_GAP_MS apart
   * (longer while it names nobody new), and not within that gap of a
   * lookup: it hears of every holder, and nodes that have one do not
   * announce their blobs on gossip. While a candidate is ready, holders are
   * asked for only with a question to rank (#rank): in a crowd each answer
   * names someone new, and a download asked once a second through its pull.
   * It goes on asking once it knows enough holders (lookups without an
   * advisor stop there): in a crowd, a fresh sample finds holders with room
   * that the known ones lack (bench/results/HISTORY.md, 2026-12-08).
   */
  #maybeAskSuggestions (now: number): void {
    if (this.#env.advised !== true || !this.#suggestDue(now) || this.#anyReady(now) || this.#missingAllAsked() != null) return
    this.#ask(now, true, [])
  }

  /**
   * The pieces the whole download lacks when every one of them is asked of
   * a parent, else undefined. Then more holders would have nothing to be
   * asked for (a slow one's pieces go to those it has, see #hedge and
   * #endGame): on a starved machine a pull's small blobs sat like this for a
   * minute, asking for holders every few seconds.
   */
  #missingAllAsked (): number[] | undefined {
    const held = this.#held
    const layout = this.#layout
    if (held == null || layout == null || this.#ranged != null) return undefined
    // on every tick: fewer requests out than pieces missing means one is not
    // asked for yet, known without a scan of the blob's pieces
    let requested = 0
    for (const s of this.#sessions.values()) requested += s.outstanding.length
    if (requested < layout.pieces - held.count - this.#writing.size) return undefined
    const missing: number[] = []
    for (let i = 0; i < layout.pieces; i++) {
      if (held.has(i) || this.#writing.has(i)) continue
      if ((this.#inflight[i]?.size ?? 0) === 0) return undefined
      missing.push(i)
    }
    return missing
  }

  #suggestDue (now: number): boolean {
    // one at a time: a slow advisor's answers come late, not never
    if (this.#suggesting) return false
    // a lookup asks the advisor too while it answers (the daemon's swarm
    // does): it counts as an ask, and its answer as one
    const last = Math.max(this.#lastSuggestAsk ?? -Infinity, this.#lastLookup ?? -Infinity)
    if (this.#discovering || now - last < this.#suggestGap) return false
    return this.#busySessions(now) < this.#config.maxParents
  }

  /**
   * One question to the advisor: for holders when `suggest`, with the
   * candidates to rank when there are any. Both go in one request, and
   * its order then also places the holders it names: asked apart, a
   * crowd's downloads sent it two questions where one does.
   */
  #ask (now: number, suggest: boolean, rank: ParentCandidate[]): void {
    if (rank.length > 0) this.#lastRankAsk = now
    if (!suggest) {
      this.#out({ type: 'rank', candidates: rank })
      return
    }
    this.#lastSuggestAsk = now
    this.#suggesting = true
    // it asks the advisor what a lookup would (the daemon sends lookups
    // there too while it answers): it counts as one, and should it fail,
    // a lookup goes (suggestFailed)
    if (this.#lastDiscovery != null) {
      this.#lastDiscovery = now
      this.#lookupDueAt = Infinity
    }
    // as many as make enough: a place freed then has a choice
    const limit = ENOUGH_CANDIDATES_PER_PARENT * this.#config.maxParents
    this.#out(rank.length > 0 ? { type: 'suggest', limit, rank } : { type: 'suggest', limit })
  }

  #knowsEnoughHolders (): boolean {
    const enough = ENOUGH_CANDIDATES_PER_PARENT * this.#config.maxParents
    let n = 0
    for (const c of this.#candidates.values()) {
      if (c.notFound !== true && ++n >= enough) return true
    }
    return false
  }

  /** Sessions not idle for idleParentMs: a lookup for more holders runs while there are fewer than maxParents. */
  #busySessions (now: number): number {
    let n = 0
    for (const s of this.#sessions.values()) {
      if (s.idleSince == null || now - s.idleSince < this.#config.idleParentMs) n++
    }
    return n
  }

  /**
   * Ask the connected peers directly (all up to PROBE_ALL_CONNECTED_UP_TO of
   * them, else a random PROBE_CONNECTED_PEERS), as Bitswap sends want-haves
   * to its neighbours. True when that was every connected peer.
   */
  #probeConnected (): boolean {
    const peers = this.#env.connectedPeers()
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(this.#env.random() * (i + 1))
      ;[peers[i], peers[j]] = [peers[j]!, peers[i]!]
    }
    const probed = peers.length <= PROBE_ALL_CONNECTED_UP_TO ? peers : peers.slice(0, PROBE_CONNECTED_PEERS)
    for (const peer of probed) this.candidate(peer, false)
    return peers.length > 0 && probed.length === peers.length
  }

  #discover (): void {
    this.#lookupDueAt = Infinity
    const now = this.#env.now()
    if (this.#env.connectedPeers().length === 0) {
      // alone: a DHT lookup has nobody to ask
      this.#lastDiscovery = now
      if (this.#candidates.size === 0 && this.#layout == null) this.#nobodyHasIt = true
      return
    }
    this.#discovering = true
    this.#lastDiscovery = now
    this.#lookupNews = 0
    this.#lookups++
    this.#lastLookup = now
    // as many holders as parents a task may have: a lookup runs only while it has fewer
    this.#out({ type: 'lookup', limit: this.#config.maxParents })
  }

  // ---- parents --------------------------------------------------------------

  /**
   * When every parent place is taken and another candidate is ready, let go
   * of a parent idle for idleParentMs: nothing this download lacks and
   * nothing asked of it. Letting one go also frees its upload slot for others.
   */
  #releaseIdle (now: number): void {
    let ready: boolean | undefined
    // one idle parent per tick: the candidate takes its place before the next goes
    let released = false
    for (const s of [...this.#sessions.values()]) {
      if (s.have == null) continue
      if (this.#held == null || s.outstanding.length > 0 || this.#offers(s)) {
        s.idleSince = undefined
        continue
      }
      s.idleSince ??= now
      if (released || now - s.idleSince < this.#config.idleParentMs || this.#sessions.size < this.#config.maxParents) continue
      ready ??= this.#readyCandidates(now).length > 0
      if (!ready) continue
      this.#env.log('parent %s had nothing for %s in %d ms: letting it go', s.peer, this.#digest, Math.round(now - s.idleSince))
      this.#drop(s.peer, undefined)
      const c = this.#candidates.get(s.peer)
      if (c != null) {
        c.idle = true
        c.retryAt = now + this.#config.idleRetryMs
      }
      released = true
    }
  }

  /** The parent holds a piece this download lacks. */
  #offers (s: Session): boolean {
    const have = s.have
    const held = this.#held
    if (have == null || held == null || have.length !== held.length) return false
    const mine = held.bytes
    for (let k = 0; k < have.bytes.length; k++) {
      if (((have.bytes[k] ?? 0) & ~(mine[k] ?? 0)) !== 0) return true
    }
    return false
  }

  /** A candidate could take a place now: not a parent, not banned or penalized, not waiting to be asked again. */
  #isReady (peer: string, c: Candidate, now: number): boolean {
    return !this.#sessions.has(peer) && !this.#banned.has(peer) && c.retryAt <= now && !this.#env.penalized(peer)
  }

  #anyReady (now: number): boolean {
    for (const [peer, c] of this.#candidates) if (this.#isReady(peer, c, now)) return true
    return false
  }

  #readyCandidates (now: number): ParentCandidate[] {
    const ready: ParentCandidate[] = []
    const size = this.#layout?.pieceSize ?? 1
    for (const [peer, c] of this.#candidates) {
      if (!this.#isReady(peer, c, now)) continue
      const candidate: ParentCandidate = { peer, delivered: Math.floor((c.deliveredBytes ?? 0) / size), failures: c.failures, beacon: this.#env.beacon(peer) }
      if (c.lastBps != null && c.lastBps > 0) candidate.observedBps = c.lastBps
      if (c.demoted === true) candidate.demoted = true
      ready.push(candidate)
    }
    return ready
  }

  /** Records how long the piece took from the parent, and demotes the parent when that is far out of line. */
  #timePiece (s: Session, index: number): void {
    const requested = s.requestedAt.get(index)
    if (requested == null) return
    const now = this.#env.now()
    const ms = now - Math.max(requested, s.lastPieceAt ?? requested)
    const layout = this.#layout
    if (layout != null) this.#report({ type: 'piece', digest: this.#digest, parent: s.peer, bytes: Math.min(layout.pieceSize, layout.size - index * layout.pieceSize), ms })
    s.lastPieceAt = now
    if (this.#pieceTimes.isOutlier(ms)) this.#demote(s, ms)
    else this.#pieceTimes.add(ms)
  }

  /** The parent delivers far slower than the others: let it go (when another parent is open), and give it a place after every other candidate. */
  #demote (s: Session, ms: number): void {
    const c = this.#candidates.get(s.peer) ?? { retryAt: 0, failures: 0 }
    this.#candidates.set(s.peer, c)
    if (c.demoted === true) return
    c.demoted = true
    this.#demotions++
    const others = [...this.#sessions.values()].some(o => o !== s && o.open)
    this.#env.log('parent %s for %s: a piece took %d ms against %d ms on average: demoted', s.peer, this.#digest, Math.round(ms), Math.round(this.#pieceTimes.mean))
    if (others) this.#drop(s.peer, undefined)
  }

  /** A request waiting on its parent far longer than pieces take here marks the parent as bad before the piece arrives. */
  #checkWaiting (now: number): void {
    for (const s of [...this.#sessions.values()]) {
      const oldest = s.outstanding[0]
      if (oldest == null) continue
      const requested = s.requestedAt.get(oldest) ?? now
      const waited = now - Math.max(requested, s.lastPieceAt ?? requested)
      if (this.#pieceTimes.isOutlier(waited)) this.#demote(s, waited)
    }
  }

  #connectMore (): void {
    let room = this.#config.maxParents - this.#sessions.size
    if (room <= 0) return
    const ready = this.#readyCandidates(this.#env.now())
    // ranking only decides who gets the places when there are fewer than ready
    // candidates; a bad parent gets one only after every other candidate (it may
    // be the one holder of a piece: never left out altogether)
    const ranked = ready.length <= room ? ready : this.#rank(ready)
    for (const c of [...ranked.filter(c => c.demoted !== true), ...ranked.filter(c => c.demoted === true)]) {
      if (room-- <= 0) break
      this.#open(c.peer)
    }
  }

  /** The advisor's order while it is fresh (candidates it did not see after, in the ranker's order); else the ranker's, asking the advisor anew. */
  #rank (ready: ParentCandidate[]): ParentCandidate[] {
    const local = this.#env.ranker.rank(ready)
    if (this.#env.advised !== true) return local
    const now = this.#env.now()
    const advice = this.#advice
    if (advice == null || now - advice.at > ADVICE_TTL_MS) {
      if (this.#lastRankAsk == null || now - this.#lastRankAsk >= ADVICE_GAP_MS) this.#ask(now, this.#suggestDue(now), ready)
      return local
    }
    const place = (c: ParentCandidate, i: number): number => advice.order.get(c.peer) ?? advice.order.size + i
    return local.map((c, i) => ({ c, at: place(c, i) })).sort((a, b) => a.at - b.at).map(x => x.c)
  }

  /** Tells the advisor, when there is one beyond the ranker, what a parent did. */
  #report (report: ParentReport): void {
    if (this.#env.advised === true) this.#out({ type: 'report', report })
  }

  #open (peer: string): void {
    this.#sessions.set(peer, new Session(peer, this.#env.now()))
    this.#out({ type: 'connect', peer })
  }

  /** The engine ends a session itself: the driver closes it, and its later events are not the engine's. */
  #drop (peer: string, reason: CloseReason | undefined, error?: string): void {
    if (!this.#sessions.has(peer)) return
    this.#out({ type: 'close', peer, error })
    this.#closed(peer, reason)
  }

  #closed (peer: string, reason: CloseReason | undefined): void {
    const session = this.#sessions.get(peer)!
    this.#sessions.delete(peer)
    this.#report({ type: 'closed', digest: this.#digest, parent: peer })
    this.#count(session.have, -1)
    for (const index of session.outstanding) this.#inflight[index]?.delete(peer)
    const c = this.#candidates.get(peer) ?? { retryAt: 0, failures: 0 }
    this.#candidates.set(peer, c)
    c.notFound = reason?.kind === 'not-found'
    const rate = session.meter.rate(this.#env.now())
    if (rate > 0) c.lastBps = rate
    const now = this.#env.now()
    if (reason?.kind === 'violation') {
      // broke the protocol: out of this download (the driver bans it from every exchange for a while)
      this.#ban(peer, reason.message)
    } else if (reason != null) {
      // failures in a row: a session that brought data starts the count again
      if (session.receivedBytes > 0) c.failures = 0
      c.failures++
      c.retryAt = now + retryDelay(reason.kind, reason.retryAfterMs, c.failures, () => this.#env.random())
    } else {
      c.retryAt = now + CLEAN_CLOSE_RETRY_MS
    }
    if (c.notFound && this.#layout == null && this.#sessions.size === 0 && this.#lastDiscovery != null &&
      [...this.#candidates.values()].every(x => x.notFound === true)) {
      // every peer asked so far said it does not have it: ask a seed now
      // rather than wait out seedAfterMs or a lookup still under way
      this.#nobodyHasIt = true
      if (this.#state === 'downloading') {
        this.#maybeAskSeeds(now)
        if (this.#lookupDueAt !== Infinity && !this.#discovering) this.#discover()
      }
    }
    if (this.#state === 'downloading') {
      this.#connectMore()
      // a session that held no requests and gave no bitfield changes nothing the others are asked
      if (session.outstanding.length > 0 || session.have != null) this.#schedule()
    }
  }

  #ban (peer: string, reason: string): void {
    if (this.#banned.has(peer)) return
    this.#banned.add(peer)
    this.#env.log('banned %s for %s: %s', peer, this.#digest, reason)
    this.#out({ type: 'ban', peer, reason })
    if (this.#sessions.has(peer)) this.#drop(peer, undefined, `banned: ${reason}`)
  }

  /** Adds (sign 1) or removes (-1) a parent's pieces from the availability counts. */
  #count (have: Bitfield | undefined, sign: 1 | -1): void {
    const a = this.#availability
    if (a == null || have == null || have.length !== a.length) return
    for (let i = 0; i < a.length; i++) if (have.has(i)) a[i] = (a[i] ?? 0) + sign
  }

  #knowHashes (part: VerifiedManifestPart): void {
    const known = this.#hashKnown
    if (known == null) return
    for (let k = 0; k < part.hashes.length; k++) known[part.first + k] = 1
  }

  // ---- requests -------------------------------------------------------------

  #pickerState (): PickerState {
    const held = this.#held!
    const availability = this.#availability!
    const inflight = this.#inflight
    // a scheduling round with no parent ready for a request picks nothing: the list is made on the first pick
    let candidates: number[] | undefined
    const missingWanted = (): number[] => (candidates ??= this.#missingWanted())
    return {
      pieces: held.length,
      held: i => held.has(i),
      hashKnown: i => this.#hashKnownAt(i),
      inflight: i => inflight[i]?.size ?? 0,
      availability: i => availability[i] ?? 0,
      ...(this.#ranged != null ? { wanted: (i: number) => this.#isWanted(i) } : {}),
      get candidates () { return missingWanted() }
    }
  }

  /** A copy of the piece can be checked: before any piece verified, every parent's own word will do; then the believed signer's. */
  #hashKnownAt (i: number): boolean {
    return this.#hashKnown?.[i] === 1 || this.#trust.pin == null || this.#trust.pinned(i) != null
  }

  /** A ranged download's readers' next pieces, each first in its turn. */
  #urgent (): number[] {
    const held = this.#held!
    const out: number[] = []
    for (const pos of this.#readers.values()) {
      let p = pos
      while (p < held.length && held.has(p)) p++
      if (p < held.length) out.push(p)
    }
    return out
  }

  #cursor (): number | undefined {
    const held = this.#held!
    let min: number | undefined
    for (const pos of this.#readers.values()) {
      let p = pos
      while (p < held.length && held.has(p)) p++
      if (min == null || p < min) min = p
    }
    return min
  }

  #schedule (): void {
    const layout = this.#layout
    if (layout == null || this.#state !== 'downloading' || this.#held!.complete) return
    const size = layout.pieceSize
    const budgetBytes = requestBudget(size, this.#env.downloadRate())
    const seeds = new Set(this.#env.seeds())
    const now = this.#env.now()
    const parents = [...this.#sessions.values()]
      .filter(s => s.open && s.have != null && s.have.length === layout.pieces)
      .map(s => {
        const have = s.have!
        const usable = this.#trust.usableFrom(s.peer)
        const inflight = this.#inflight
        const declined = this.#declined.get(s.peer)
        return {
          session: s,
          outstanding: s.outstanding.length,
          depth: pipelineDepth(size, s.meter.rate(now), this.#config.pipeline),
          seed: seeds.has(s.peer),
          canServe: (i: number) => have.has(i) && !(inflight[i]?.has(s.peer) ?? false) && !((declined?.get(i) ?? 0) > now) && usable(i)
        }
      })
    if (parents.length === 0) return
    planRequests(parents, {
      state: this.#pickerState(),
      cursor: this.#ranged == null ? this.#cursor() : undefined,
      urgent: this.#ranged != null ? this.#urgent() : undefined,
      rest: this.#restOpen(),
      pieceSize: size,
      budgetBytes,
      requestedBytes: budgetBytes === Infinity ? 0 : this.#env.requestedBytes(),
      ownRequestedBytes: this.requestedBytes,
      random: () => this.#env.random()
    }, (p, index) => { this.#request(p.session, index) })
  }

  #request (s: Session, index: number): void {
    let set = this.#inflight[index]
    if (set == null) {
      set = new Set()
      this.#inflight[index] = set
    }
    set.add(s.peer)
    s.outstanding.push(index)
    s.requestedAt.set(index, this.#env.now())
    this.#out({ type: 'request', peer: s.peer, index })
  }

  /** Forgets declines whose back-off has passed. */
  #expireDeclines (now: number): void {
    for (const [peer, byPiece] of this.#declined) {
      for (const [index, until] of byPiece) if (until <= now) byPiece.delete(index)
      if (byPiece.size === 0) this.#declined.delete(peer)
    }
  }

  /**
   * How long the oldest request to a parent may wait before a second parent
   * is asked too: the configured floor, or three times what the parent's
   * measured rate needs for the bytes requested from it.
   */
  #hedgeAfter (s: Session, now: number): number {
    const bytesAhead = s.outstanding.length * (this.#layout?.pieceSize ?? 0)
    const rate = s.meter.rate(now)
    if (rate <= 0) return Math.max(this.#config.hedgeAfterMs, 4 * bytesAhead / UNMEASURED_PARENT_BPS * 1000)
    return Math.max(this.#config.hedgeAfterMs, 3 * bytesAhead / rate * 1000)
  }

  /**
   * Whether `other` would deliver piece `index` (after what it already has
   * queued) in under a third of the time each parent asked for it so far
   * still needs at its measured rate: a parent that shares a slow uplink
   * among many children is not waited out piece by piece.
   */
  #soonerThanAll (index: number, other: Session, pieceSize: number, now: number): boolean {
    // a parent never measured is assumed to send as the hedge's wait assumes
    const elsewhere = (other.outstanding.length + 1) * pieceSize / (this.#measuredRate(other, now) ?? UNMEASURED_PARENT_BPS) * 1000
    for (const peer of this.#inflight[index] ?? []) {
      const s = this.#sessions.get(peer)
      if (s == null) continue
      const rate = s.meter.rate(now)
      if (rate <= 0) return false
      const left = pieceSize / rate * 1000 - (now - (s.requestedAt.get(index) ?? now))
      if (left <= HEDGE_SOONER_FACTOR * elsewhere) return false
    }
    return true
  }

  /** A parent's rate as measured now, or as it last sent to this download; undefined if never measured. */
  #measuredRate (s: Session, now: number): number | undefined {
    const rate = s.meter.rate(now)
    if (rate > 0) return rate
    if (s.meter.last > 0) return s.meter.last
    const last = this.#candidates.get(s.peer)?.lastBps
    return last != null && last > 0 ? last : undefined
  }

  /**
   * The end game (END_GAME_WAIT_MS): when nothing is left to ask for but
   * pieces on their way, each that has waited long enough is asked of an
   * idle parent too; the copy that loses is cancelled when the other lands.
   * Not for a ranged download: its readers' pieces go first by their own rule.
   */
  #endGame (now: number): void {
    const missing = this.#missingAllAsked()
    if (missing == null) return
    for (const i of missing) {
      const asked = this.#inflight[i]!
      if (asked.size >= MAX_HEDGED_COPIES) continue
      let since = Infinity
      for (const p of asked) {
        const t = this.#sessions.get(p)?.requestedAt.get(i)
        if (t != null) since = Math.min(since, t)
      }
      if (now - since < END_GAME_WAIT_MS) continue
      const best = this.#fastestHolder(i, asked, now, o => o.outstanding.length === 0 && this.#trust.usableFrom(o.peer)(i))
      if (best != null) this.#request(best, i)
    }
  }

  /**
   * Of the open sessions that hold piece `i`, were not asked for it and pass
   * `fits`, the fastest: a parent measured sending beats one never measured,
   * whatever the guess for that one.
   */
  #fastestHolder (i: number, asked: Set<string> | undefined, now: number, fits: (o: Session) => boolean): Session | undefined {
    let best: Session | undefined
    let bestRate = -1
    for (const o of this.#sessions.values()) {
      if (!o.open || o.have?.has(i) !== true || asked?.has(o.peer) === true || !fits(o)) continue
      const r = this.#measuredRate(o, now) ?? 0
      if (r > bestRate) {
        best = o
        bestRate = r
      }
    }
    return best
  }

  #hedge (now: number): void {
    const layout = this.#layout
    for (const s of [...this.#sessions.values()]) {
      // a session that never sent its bitfield has had no data since it was opened
      const waiting = s.outstanding.length > 0 || s.have == null
      if (waiting && now - s.lastDataAt > this.#config.stallMs) {
        const what = s.have == null ? 'no bitfield' : 'stalled'
        this.#env.log('parent %s for %s: %s', s.peer, this.#digest, what)
        this.#drop(s.peer, { kind: 'error', message: what }, what)
        continue
      }
      // the oldest piece still wanted: one held already (its copy from this
      // parent cancelled, and still on its way) is not asked for again
      const oldest = s.outstanding.find(i => this.#held?.has(i) !== true && !this.#writing.has(i))
      if (oldest == null || layout == null) continue
      const waited = now - (s.requestedAt.get(oldest) ?? now)
      const asked = this.#inflight[oldest]
      if (waited < this.#config.hedgeAfterMs || (asked?.size ?? 0) >= MAX_HEDGED_COPIES) continue
      const best = this.#fastestHolder(oldest, asked, now, o => o !== s && o.outstanding.length <= pipelineDepth(layout.pieceSize, o.meter.rate(now), this.#config.pipeline))
      if (best == null) continue
      // the oldest request has waited too long for this parent's own pace
      // (asked of one parent only), or another parent would bring the piece
      // much sooner than every parent asked for it so far
      const late = (asked?.size ?? 0) <= 1 && waited >= this.#hedgeAfter(s, now)
      if (late || this.#soonerThanAll(oldest, best, layout.pieceSize, now)) this.#request(best, oldest)
    }
  }

  // ---- seeds and the origin -------------------------------------------------

  /** A wanted piece is not held. */
  #missesWanted (): boolean {
    const held = this.#held!
    const r = this.#ranged!
    for (let i = 0; i < held.length; i++) if (r.pieces![i] === 1 && !held.has(i)) return true
    return false
  }

  /**
   * The wanted pieces of a ranged download that nobody at hand can give:
   * not held, not in flight, held by no parent, and not asked of a seed
   * within SEED_RETRY_MS.
   */
  #unavailableWanted (now: number): number[] {
    const held = this.#held!
    const r = this.#ranged!
    const availability = this.#availability!
    const out: number[] = []
    for (let i = 0; i < held.length; i++) {
      if (r.pieces![i] !== 1 || held.has(i) || (this.#inflight[i]?.size ?? 0) > 0 || this.#writing.has(i) || (availability[i] ?? 0) > 0) continue
      const asked = this.#askedOfSeed.get(i)
      if (asked != null && now - asked < SEED_RETRY_MS) continue
      out.push(i)
    }
    return out
  }

  /** Pieces as byte ranges, adjacent ones merged. */
  #byteRanges (pieces: number[]): Array<[number, number]> {
    const layout = this.#layout!
    const out: Array<[number, number]> = []
    for (const i of pieces) {
      const start = i * layout.pieceSize
      const end = Math.min(layout.size, start + layout.pieceSize)
      const prev = out[out.length - 1]
      if (prev != null && prev[1] === start) prev[1] = end
      else out.push([start, end])
    }
    return out
  }

  /**
   * A ranged download asks a seed for wanted pieces no parent holds as soon
   * as the parents it is opening have said what they hold (or PROBE_WAIT_MS
   * after they became wanted): a reader waits on them, and peers that hold
   * other pieces of the blob will not come to hold these by waiting.
   */
  #maybeAskRanges (now: number): void {
    if (this.#originRunning || this.#seedRound != null) return
    const missing = this.#unavailableWanted(now)
    if (missing.length === 0) {
      // the rest, once: a seed asked for the whole blob pulls the pieces read by anyone first
      const r = this.#ranged!
      if (this.#restOpen() && r.askedRest !== true && this.#hasUrl) {
        r.askedRest = true
        this.#askSeeds(now)
      }
      return
    }
    const opening = [...this.#sessions.values()].some(s => s.have == null)
    if (opening && now - (this.#wantedSince ?? now) < PROBE_WAIT_MS) return
    this.#askSeeds(now)
  }

  #maybeAskSeeds (now: number): void {
    if (this.#ranged != null && this.#layout != null) {
      this.#maybeAskRanges(now)
      return
    }
    if (this.#originRunning || this.#seedRound != null || now < this.#nextSeedAsk) return
    const waited = now - this.#lastProgress
    if (this.#layout != null) {
      // recent progress, or a parent that can still give us a piece: keep going
      if (waited < this.#config.seedAfterMs * 3 || this.#canProgress()) return
    } else if (!this.#nobodyHasIt && (waited < this.#config.seedAfterMs || (this.#sessions.size > 0 && waited < this.#config.seedAfterMs * 3))) {
      return
    }
    this.#nextSeedAsk = now + SEED_RETRY_MS
    this.#askSeeds(now)
  }

  /** Some missing piece is in flight or held by a parent. */
  #canProgress (): boolean {
    const held = this.#held!
    const availability = this.#availability!
    for (let i = 0; i < held.length; i++) {
      if (!held.has(i) && ((this.#inflight[i]?.size ?? 0) > 0 || (availability[i] ?? 0) > 0)) return true
    }
    return false
  }

  #askSeeds (now: number): void {
    if (!this.#hasUrl) {
      if (this.#candidates.size === 0 && now - this.#lastProgress > this.#config.seedTimeoutMs) {
        this.#fail(new TaskFailedError(`no peer holds ${this.#digest} and no origin URL is known`, 'p2p'))
      }
      return
    }
    const self = this.#env.self
    const seeds = rankSeeds(this.#digest, [...this.#env.seeds(), ...(this.#env.isSeed ? [self] : [])])
    this.#seedDeadline ??= now + this.#config.seedTimeoutMs
    this.#firstSeedAsk ??= now
    // a node with no peer and no bootstrap address to meet one through has
    // nobody to wait for: it goes to the origin (#seedsDone) at once
    const alone = this.#env.connectedPeers().length === 0 && !this.#env.hasBootstrap()
    if (seeds.length === 0 && now < this.#seedDeadline && !alone) {
      // no seed known yet (a node that has just started may not have met
      // one): the swarm gets until the seed deadline before this node goes
      // to the origin itself, looking again shortly
      this.#nextSeedAsk = now + NO_SEED_RECHECK_MS
      return
    }
    this.#seedRound = { seeds, next: 0 }
    this.#askNextSeed()
  }

  #askNextSeed (): void {
    const round = this.#seedRound!
    const seed = round.seeds[round.next]
    if (seed == null) {
      this.#seedRound = undefined
      this.#seedsDone(round.seeds)
      return
    }
    if (seed === this.#env.self) {
      this.#seedRound = undefined
      this.#pullFromOrigin()
      return
    }
    if (this.#ranged == null) {
      this.#out({ type: 'ask-seed', seed })
      return
    }
    if (this.#layout == null) {
      const ranges = this.#ranged.bytes.slice(0, MAX_SEED_RANGES)
      if (ranges.length === 0) {
        // nothing wanted yet: asking with no range would ask for the whole
        this.#seedRound = undefined
        return
      }
      this.#ranged.askedBytes = { at: this.#env.now(), ranges }
      this.#out({ type: 'ask-seed', seed, ranges })
      return
    }
    const now = this.#env.now()
    const pieces = this.#unavailableWanted(now)
    const ranges = this.#byteRanges(pieces).slice(0, MAX_SEED_RANGES)
    const layout = this.#layout
    for (const [start, end] of ranges) {
      for (let i = Math.floor(start / layout.pieceSize); i * layout.pieceSize < end; i++) this.#askedOfSeed.set(i, now)
    }
    if (ranges.length === 0) {
      if (this.#ranged.askedRest === true) {
        this.#out({ type: 'ask-seed', seed })
        return
      }
      // what was missing arrived meanwhile
      this.#seedRound = undefined
      return
    }
    this.#out({ type: 'ask-seed', seed, ranges })
  }

  /** Every seed was asked, and none accepted. */
  #seedsDone (seeds: string[]): void {
    const now = this.#env.now()
    // a seed that accepted this blob is pulling it for the swarm: while it is
    // connected and pieces arrived lately, a late or reset answer to asking
    // again is a loaded seed, not a missing one
    const seedAtWork = this.#seedAccepted && now - this.#lastProgress < ACCEPTED_SEED_PATIENCE_MS &&
      seeds.some(seed => this.#env.isConnected(seed))
    if (seeds.length > 0 && now < this.#seedDeadline!) {
      // a refusal (a seed too busy to learn the blob's size in time) or a
      // reset is not the deadline: ask again shortly
      this.#nextSeedAsk = now + SEED_BUSY_RETRY_MS
      return
    }
    if (seedAtWork) {
      this.#nextSeedAsk = now + SEED_RETRY_MS
      return
    }
    // a seed that is connected and has not said yes is slow, not gone: asked again
    if (seeds.some(seed => this.#env.isConnected(seed)) && now < this.#firstSeedAsk! + SLOW_SEED_PATIENCE_MS) {
      this.#nextSeedAsk = now + SEED_BUSY_RETRY_MS
      return
    }
    if (!this.#config.originFallback) {
      if (this.#sessions.size === 0) this.#fail(new TaskFailedError(`no peer holds ${this.#digest}, no seed answered, and origin fallback is off`, 'p2p'))
      return
    }
    if (this.#env.connectedPeers().length === 0) {
      // nobody to agree with
      this.#env.log('no seed pulls %s and no peer is connected: pulling from the origin', this.#digest)
      this.#pullFromOrigin()
      return
    }
    if (this.#fallback == null) {
      this.#env.log('no seed pulls %s: deciding with its other pullers who goes to the origin', this.#digest)
      this.#fallback = { since: now }
      this.#out({ type: 'join-topic' })
    }
  }

  /**
   * No seed can pull the blob: the first of its pullers by rendezvous rank
   * goes to the origin, the others fetch from it, each going itself only
   * after its rank's wait passed without a piece (see FALLBACK_STEP_MS).
   * A node that knows no other puller goes at once.
   */
  #maybeFallBack (now: number): void {
    const f = this.#fallback
    if (f == null || this.#originRunning) return
    if (f.rank == null) {
      if (now - f.since < FALLBACK_JOIN_WAIT_MS) return
      const ranked = rankSeeds(this.#digest, [this.#env.self, ...this.#env.pullers()])
      f.rank = ranked.indexOf(this.#env.self)
      this.#env.log('%s: origin puller rank %d of %d', this.#digest, f.rank, ranked.length)
      // the ones before it will hold pieces first
      for (const peer of ranked.slice(0, f.rank)) this.candidate(peer)
    }
    const waitFrom = Math.max(f.since, this.#lastProgress)
    if (f.rank === 0 || now - waitFrom >= f.rank * FALLBACK_STEP_MS) {
      this.#env.log('no seed pulls %s: pulling from the origin', this.#digest)
      this.#pullFromOrigin()
    }
  }

  #pullFromOrigin (): void {
    if (this.#originRunning || this.#state !== 'downloading') return
    if (!this.#hasUrl) {
      this.#fail(new TaskFailedError(`no origin URL is known for ${this.#digest}`, 'origin'))
      return
    }
    this.#originRunning = true
    // what this node pulls and signs itself is what it believes
    this.#trust.resume(this.#env.self)
    this.#out({ type: 'pull-origin' })
  }

  // ---- the end --------------------------------------------------------------

  #gained (index: number): void {
    this.#lastProgress = this.#env.now()
    this.#held?.set(index)
  }

  #finish (): void {
    if (this.#state !== 'downloading') return
    this.#state = 'finishing'
    this.#out({ type: 'finish' })
  }

  #fail (error: TaskFailedError): void {
    if (this.#state !== 'downloading') return
    this.#state = 'ended'
    this.#out({ type: 'fail', error })
  }
}
