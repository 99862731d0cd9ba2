import { decodeScheduleRequest, decodeScheduleResponse, encodeScheduleRequest, encodeScheduleResponse, ParentReport as ParentReportMessage, MAX_ADDRS, MAX_SCHEDULE_CANDIDATES, MAX_SCHEDULE_DIGESTS, MAX_SCHEDULE_FRAME, MAX_SCHEDULE_REPORTS, MAX_SCHEDULE_SUGGESTIONS, rankSeeds, SCHEDULE_PROTOCOL } from '@damselfly/protocol'
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { answer, exchange, readRequest } from './request-response.js'
import type { ParentAdvisor, ParentReport, SuggestOptions, Suggestions } from './advisor.js'
import type { SwarmNetwork } from './network.js'
import type { PeerPenalties } from './penalties.js'
import { localityShared } from './ranking.js'
import type { ParentCandidate } from './ranking.js'
import type { BlobDigest, ScheduleAnswer, ScheduleQuestion, ScheduleRequest, ScheduleResponse } from '@damselfly/protocol'
import type { Logger } from '@libp2p/interface'

/**
 * The optional scheduler (`/damselfly/schedule/1.0.0`): nodes send it their
 * load and what their parents did, and ask it to rank candidates and to
 * suggest holders. It keeps soft state only, rebuilt from what nodes send
 * after a restart. A node uses it through SchedulerClient, a ParentAdvisor:
 * a download never waits on it past its deadline (see ADVICE_DEADLINE_MS).
 */

/**
 * How often a node checks whether a flush is due. One goes when a blob is
 * newly held or dropped, when FLUSH_REPORTS reports wait, and otherwise every
 * SCHEDULER_SILENT_MS / 4 with the node's load and whatever reports wait:
 * what a node sends per pull then follows its pieces, not the clock (on a
 * starved machine a pull takes five times as long, and a flush a second
 * made five times the requests), and an idle fleet costs its scheduler a
 * request per node every 2.5 s.
 */
export const SCHEDULE_FLUSH_MS = 1000
/** Reports that make a flush due (a parent's pieces, failures, closes). */
export const FLUSH_REPORTS = 32
/** Questions asked within this long of each other go in one request. */
export const QUESTION_GATHER_MS = 20
/** Questions in one request, at most (MAX_SCHEDULE_QUESTIONS allows more; the answers' frame bounds them). */
export const QUESTIONS_PER_REQUEST = 4
/** A blob newly held goes to the scheduler this soon, with whatever else comes meanwhile. */
export const HOLDING_FLUSH_MS = 100
/** A node whose flushes no scheduler answered for this long goes back to gossip for holders and beacons. */
export const SCHEDULER_SILENT_MS = 10_000
/** A node, a holder or a parent's measurement not refreshed for this long is forgotten. */
export const SCHEDULE_STATE_TTL_MS = 60_000
/** Blobs whose holders the scheduler remembers, at most (the least recently named go first). */
const MAX_BLOBS = 10_000
/** Holders remembered per blob, at most. */
const MAX_HOLDERS = 1000
/** Weight of a new piece's rate in a parent's running rate. */
const RATE_WEIGHT = 0.2

type Bytes = Uint8Array<ArrayBuffer>

export function peerIdBytes (peer: string): Bytes {
  return Uint8Array.from(peerIdFromString(peer).toMultihash().bytes)
}

export function peerIdText (bytes: Uint8Array): string {
  return peerIdFromMultihash(Digest.decode(bytes)).toString()
}

function addrsText (addrs: Uint8Array[]): string[] {
  return addrs.flatMap(bytes => {
    try {
      return [multiaddr(bytes).toString()]
    } catch {
      return []
    }
  })
}

function rankPart (digest: string, candidates: ParentCandidate[]): NonNullable<ScheduleRequest['rank']> {
  return { digest, candidates: candidates.slice(0, MAX_SCHEDULE_CANDIDATES).map(c => peerIdBytes(c.peer)) }
}

/** Peer ids in an answer's order, leaving out what does not parse. */
function peersOf (ranked: Uint8Array[]): string[] {
  return ranked.flatMap(bytes => {
    try {
      return [peerIdText(bytes)]
    } catch {
      return []
    }
  })
}

export interface Load {
  uploadBps: number
  activeUploads: number
  freeUploadSlots: number
  seed: boolean
  /** Its locality label (`zone/rack`); empty or absent: unsaid. */
  locality?: string
}

interface NodeState {
  load: Load
  addrs: Bytes[]
  at: number
}

interface ParentState {
  /** Running rate of its pieces to every child that reported one, bytes/s. */
  bps: number
  samples: number
  failures: number
  at: number
}

/**
 * What a new child can expect of a parent, bytes/s: its upload capacity
 * shared among its children and the newcomer. Its capacity is what its
 * children measured (the running rate of one child's pieces times the
 * children it serves at once), else what its beacon says it uploads, else,
 * for a parent nobody has measured yet and that uploads nothing now, the
 * mean capacity of those measured (worth trying, no more). No free upload
 * slot halves it, a seed counts 0.8 (nodes should offload it), and each
 * recent failure divides it further.
 */
export function scheduleScore (parent: ParentState | undefined, node: NodeState | undefined, typicalCapacity: () => number = () => 0): number {
  const load = node?.load
  const active = load?.activeUploads ?? 0
  let capacity = 0
  if (parent != null && parent.samples > 0) capacity = parent.bps * Math.max(1, active)
  else if (load != null && load.uploadBps > 0) capacity = load.uploadBps
  else capacity = typicalCapacity()
  let s = capacity / (1 + active)
  if (load?.freeUploadSlots === 0) s *= 0.5
  if (load?.seed === true) s *= 0.8
  return s / (1 + (parent?.failures ?? 0))
}

/** The scheduler's state and answers, apart from the network: what the tests and the server share. */
export class ScheduleState {
  readonly #nodes = new Map<string, NodeState>()
  readonly #parents = new Map<string, ParentState>()
  /** Digest → holder → when it said so; in order of use (Map order), for the LRU bound. */
  readonly #holders = new Map<string, Map<string, number>>()
  readonly #now: () => number
  readonly #random: () => number
  /** Requests handled, by part, for the status line. */
  readonly counts = { requests: 0, beacons: 0, reports: 0, ranks: 0, suggests: 0 }

  constructor (now: () => number = Date.now, random: () => number = Math.random) {
    this.#now = now
    this.#random = random
  }

  get nodes (): number {
    return this.#nodes.size
  }

  /** Takes in one request from `peer`; returns the answer. */
  handle (peer: string, req: ScheduleRequest): ScheduleResponse {
    this.counts.requests++
    if (req.beacon != null) {
      const b = req.beacon
      this.beacon(peer, { uploadBps: Number(b.uploadBps), activeUploads: b.activeUploads, freeUploadSlots: b.freeUploadSlots, seed: b.seed, locality: b.locality }, b.addrs.slice(0, MAX_ADDRS))
    }
    for (const d of req.holding) this.hold(d, peer)
    for (const d of req.dropped) this.#holders.get(d)?.delete(peer)
    for (const r of req.reports) {
      let parent: string
      try {
        parent = peerIdText(r.parent)
      } catch {
        continue
      }
      const outcome = r.outcome === ParentReportMessage.Outcome.PIECE ? 'piece' : r.outcome === ParentReportMessage.Outcome.FAILED ? 'failed' : 'closed'
      this.report(outcome === 'piece' ? { type: 'piece', digest: r.digest, parent, bytes: Number(r.bytes), ms: r.ms } : { type: outcome, digest: r.digest, parent })
    }
    // the request's own question first, then those it carries besides, each answered apart
    return { ...this.#answer(peer, req), answers: req.questions.map(q => this.#answer(peer, q)) }
  }

  #answer (peer: string, q: ScheduleQuestion): ScheduleAnswer {
    const suggested = q.suggest != null ? this.#suggest(q.suggest.digest, peer, q.suggest.exclude, q.suggest.limit) : []
    // asked to rank and to suggest at once: the holders named go in the order too
    const ranked = q.rank != null ? this.#rank([...q.rank.candidates, ...suggested.map(s => s.peer)], this.#nodes.get(peer)?.load.locality).slice(0, MAX_SCHEDULE_CANDIDATES) : []
    if (q.rank != null) this.counts.ranks++
    if (q.suggest != null) this.counts.suggests++
    return { ranked, suggested }
  }

  /** A node's load now, and where it listens. */
  beacon (peer: string, load: Load, addrs: Bytes[] = []): void {
    this.counts.beacons++
    this.#nodes.set(peer, { load, addrs, at: this.#now() })
  }

  /** What a parent did for one of its children. */
  report (r: ParentReport): void {
    this.counts.reports++
    const now = this.#now()
    const p = this.#parents.get(r.parent) ?? { bps: 0, samples: 0, failures: 0, at: now }
    p.at = now
    if (r.type === 'piece' && r.ms > 0) {
      const bps = r.bytes / (r.ms / 1000)
      p.bps = p.samples === 0 ? bps : p.bps * (1 - RATE_WEIGHT) + bps * RATE_WEIGHT
      p.samples++
      // a parent that delivers is a holder of the blob
      this.hold(r.digest, r.parent)
      p.failures = Math.max(0, p.failures - 0.1)
    } else if (r.type === 'failed') {
      p.failures = Math.min(10, p.failures + 1)
    }
    this.#parents.set(r.parent, p)
  }

  /** Forgets nodes, measurements and holders not refreshed within SCHEDULE_STATE_TTL_MS. */
  expire (): void {
    const old = this.#now() - SCHEDULE_STATE_TTL_MS
    for (const [peer, n] of this.#nodes) if (n.at < old) this.#nodes.delete(peer)
    for (const [peer, p] of this.#parents) if (p.at < old) this.#parents.delete(peer)
    for (const [digest, holders] of this.#holders) {
      for (const [peer, at] of holders) if (at < old) holders.delete(peer)
      if (holders.size === 0) this.#holders.delete(digest)
    }
  }

  /** Candidates best first (each once), nearer to `locality` first when all else is equal. */
  rankPeers (candidates: string[], locality?: string): string[] {
    // the mean measured capacity, for candidates nobody measured: worked out only when one turns up
    let typical: number | undefined
    const typicalCapacity = (): number => {
      if (typical == null) {
        let sum = 0
        let measured = 0
        for (const [peer, p] of this.#parents) {
          if (p.samples === 0) continue
          sum += p.bps * Math.max(1, this.#nodes.get(peer)?.load.activeUploads ?? 1)
          measured++
        }
        typical = measured > 0 ? sum / measured : 0
      }
      return typical
    }
    const scored = candidates.map((peer, i) => ({ peer, i, score: scheduleScore(this.#parents.get(peer), this.#nodes.get(peer), typicalCapacity) }))
    const near = (peer: string): number => localityShared(locality, this.#nodes.get(peer)?.load.locality)
    return scored.sort((a, b) => b.score - a.score || near(b.peer) - near(a.peer) || a.i - b.i).map(s => s.peer)
  }

  #rank (candidates: Bytes[], locality: string | undefined): Bytes[] {
    const byText = new Map<string, Bytes>()
    for (const bytes of candidates) {
      try {
        byText.set(peerIdText(bytes), bytes)
      } catch {
        // not a peer id: left out of the answer
      }
    }
    return this.rankPeers([...byText.keys()], locality).map(peer => byText.get(peer)!)
  }

  /** The peer holds pieces of the blob. */
  hold (digest: string, peer: string): void {
    const now = this.#now()
    let holders = this.#holders.get(digest)
    if (holders == null) {
      holders = new Map()
      if (this.#holders.size >= MAX_BLOBS) this.#holders.delete(this.#holders.keys().next().value!)
    } else {
      // most recently named last
      this.#holders.delete(digest)
    }
    this.#holders.set(digest, holders)
    holders.delete(peer)
    holders.set(peer, now)
    if (holders.size > MAX_HOLDERS) holders.delete(holders.keys().next().value!)
  }

  #suggest (digest: string, asker: string, exclude: Bytes[], limit: number): Array<{ peer: Bytes, addrs: Bytes[] }> {
    const skip = new Set<string>()
    for (const bytes of exclude) {
      try {
        skip.add(peerIdText(bytes))
      } catch {
        // not a peer id: nothing to leave out
      }
    }
    return this.suggestPeers(digest, asker, skip, limit).map(peer => ({ peer: peerIdBytes(peer), addrs: this.#nodes.get(peer)!.addrs }))
  }

  /**
   * Up to `limit` holders of the blob for `asker`, a random sample: every
   * node of a crowd asks at once, and the same few named to all would take
   * the whole crowd (the best-ranked first cost 12-13% at 100 and 300
   * simulated nodes, bench/sim/control.mjs). The asker ranks what it knows
   * with `rank`, in the same request or later.
   */
  suggestPeers (digest: string, asker: string, exclude: ReadonlySet<string>, limit: number): string[] {
    const holders = this.#holders.get(digest)
    if (holders == null) return []
    const old = this.#now() - SCHEDULE_STATE_TTL_MS
    const fresh: string[] = []
    for (const [peer, at] of holders) {
      if (at >= old && peer !== asker && !exclude.has(peer) && this.#nodes.has(peer)) fresh.push(peer)
    }
    // the first places of a shuffle: a sample, without shuffling every holder (up to MAX_HOLDERS) for each question
    const want = Math.min(limit, MAX_SCHEDULE_SUGGESTIONS, fresh.length)
    for (let i = 0; i < want; i++) {
      const j = i + Math.floor(this.#random() * (fresh.length - i))
      ;[fresh[i], fresh[j]] = [fresh[j]!, fresh[i]!]
    }
    return fresh.slice(0, want)
  }
}

/** Serves the schedule protocol on a network: the `damselfly scheduler` process. */
export class SchedulerServer {
  readonly state: ScheduleState
  readonly #network: SwarmNetwork
  readonly #penalties: PeerPenalties
  readonly #log: Logger
  #timer: ReturnType<typeof setInterval> | undefined

  constructor (network: SwarmNetwork, penalties: PeerPenalties, log: Logger, state = new ScheduleState()) {
    this.#network = network
    this.#penalties = penalties
    this.#log = log
    this.state = state
  }

  async start (): Promise<void> {
    await this.#network.handle(SCHEDULE_PROTOCOL, (stream, peer) => {
      void (async () => {
        const signal = AbortSignal.timeout(10_000)
        const req = await readRequest(stream, peer, this.#penalties, 'schedule request', MAX_SCHEDULE_FRAME, decodeScheduleRequest, { signal })
        if (req == null) return
        const res = this.state.handle(peer, req)
        await answer(stream, encodeScheduleResponse(res), { signal })
      })().catch(err => { this.#log('schedule request from %s failed: %s', peer, err.message) })
    }, { maxInboundStreams: 64, maxOutboundStreams: 1 })
    this.#timer = setInterval(() => this.state.expire(), SCHEDULE_STATE_TTL_MS / 4)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }
}

export interface SchedulerClientInit {
  network: SwarmNetwork
  /** The schedulers' multiaddrs; /p2p/<peer id> optional (learnt from the first dial). */
  schedulers: string[]
  log: Logger
  /** The node's load now, sent with every flush. */
  load(): Load
  /** Digests the node holds pieces of: sent again every SCHEDULE_STATE_TTL_MS / 2, so a restarted scheduler learns them back. */
  held(): string[]
  /** Counted here: each request sent, by kind (a lookup: a suggest asked where the DHT would be, see suggest()). */
  counts?: { flush: number, rank: number, suggest: number, lookup: number }
  /** SCHEDULE_FLUSH_MS unless given (tests shorten it). */
  flushMs?: number
  /** SCHEDULER_SILENT_MS unless given (tests shorten it). */
  silentMs?: number
}

interface SchedulerTarget {
  addr: string
  peer?: string
  /** Reports and digests waiting for the next flush. */
  reports: ParentReportMessage[]
  holding: string[]
  dropped: string[]
  /** A flush to it is on its way: the next waits (what is queued goes with it). */
  flushing: boolean
  /** When the last flush went, or the last question that was answered (Date.now() time). */
  sentAt: number
  /** Questions waiting for the next request to it. */
  pending: PendingQuestion[]
  /** A request with questions is on its way: those asked meanwhile wait for it, and go together in the next. */
  asking: boolean
  /** Questions are gathered for a moment before they go (QUESTION_GATHER_MS). */
  gathering?: ReturnType<typeof setTimeout>
  /** It answered only the first question of a request (a scheduler older than `questions`): one question a request. */
  single: boolean
}

/** A question on its way to a scheduler, with whom to tell the answer. */
interface PendingQuestion {
  question: ScheduleQuestion
  kind: 'rank' | 'suggest' | 'lookup'
  signal: AbortSignal
  resolve(answer: ScheduleAnswer): void
  reject(err: unknown): void
}

/**
 * A node's side of the schedule protocol. Each blob goes to one scheduler,
 * chosen by rendezvous hashing of its digest over those the node is
 * connected to; beacons go to every one. Reports and held digests go in a
 * batch with the beacon, in the next question to that scheduler or a flush
 * (see SCHEDULE_FLUSH_MS), whichever comes first: a request every few
 * seconds per scheduler, whatever the swarm's size.
 */
export class SchedulerClient implements ParentAdvisor {
  readonly #init: SchedulerClientInit
  readonly #targets: SchedulerTarget[]
  readonly #controller = new AbortController()
  #timer: ReturnType<typeof setInterval> | undefined
  #lastHeld = 0
  /** When a flush last reached a scheduler (Date.now() time). */
  #lastReached = 0
  #flushSoon: ReturnType<typeof setTimeout> | undefined

  constructor (init: SchedulerClientInit) {
    this.#init = init
    this.#targets = init.schedulers.map(addr => ({
      addr,
      peer: multiaddr(addr).getComponents().find(c => c.name === 'p2p')?.value,
      reports: [],
      holding: [],
      dropped: [],
      flushing: false,
      sentAt: 0,
      pending: [],
      asking: false,
      single: false
    }))
  }

  get #flushMs (): number {
    return this.#init.flushMs ?? SCHEDULE_FLUSH_MS
  }

  get #silentMs (): number {
    return this.#init.silentMs ?? SCHEDULER_SILENT_MS
  }

  start (): void {
    this.#timer = setInterval(() => { this.#flush().catch(() => {}) }, this.#flushMs)
    this.#timer.unref()
    this.#flush().catch(() => {})
  }

  stop (): void {
    clearInterval(this.#timer)
    clearTimeout(this.#flushSoon)
    this.#controller.abort()
    for (const t of this.#targets) {
      clearTimeout(t.gathering)
      for (const q of t.pending.splice(0)) q.reject(new Error('the scheduler client stopped'))
    }
  }

  /** The schedulers' peer ids, as far as known (from their addresses, or learnt on dialling them). */
  get peers (): string[] {
    return this.#targets.flatMap(t => t.peer == null ? [] : [t.peer])
  }

  /**
   * A scheduler answered a request (a flush or a question) within
   * SCHEDULER_SILENT_MS. While one does, the node tells it, not every peer on
   * gossip, which blobs it holds, and asks it for holders; when none does,
   * gossip carries them again. Not the last request alone: on a starved
   * machine one is late now and then, and each swing costs a subscription
   * message to every peer.
   */
  get reachable (): boolean {
    return Date.now() - this.#lastReached < this.#silentMs
  }

  /**
   * The scheduler to ask about a blob. None while no scheduler has answered
   * a flush for SCHEDULER_SILENT_MS: each download would otherwise dial a
   * dead one for every question, once a second, and wait out its deadline;
   * the flushes (one a second) find out when one answers again.
   */
  #askable (digest: string): SchedulerTarget {
    const target = this.#targetFor(digest)
    if (target == null || !this.reachable) throw new Error('no scheduler is reachable')
    return target
  }

  /** The scheduler for a blob: by rendezvous hashing over those connected (or known, when none is). */
  #targetFor (digest: string): SchedulerTarget | undefined {
    const known = this.#targets.filter(t => t.peer != null)
    const connected = known.filter(t => this.#init.network.isConnected(t.peer!))
    const pool = connected.length > 0 ? connected : known
    // report() asks this for every piece: with one scheduler there is nothing to hash
    if (pool.length <= 1) return pool[0]
    const first = rankSeeds(digest as BlobDigest, pool.map(t => t.peer!))[0]
    return pool.find(t => t.peer === first)
  }

  async rank (digest: string, candidates: ParentCandidate[], options: { signal: AbortSignal }): Promise<string[]> {
    const target = this.#askable(digest)
    const res = await this.#question(target, { rank: rankPart(digest, candidates) }, 'rank', options.signal)
    return peersOf(res.ranked)
  }

  report (report: ParentReport): void {
    const target = this.#targetFor(report.digest)
    if (target == null || target.reports.length >= MAX_SCHEDULE_REPORTS) return
    try {
      target.reports.push({
        digest: report.digest,
        parent: peerIdBytes(report.parent),
        outcome: report.type === 'piece' ? ParentReportMessage.Outcome.PIECE : report.type === 'failed' ? ParentReportMessage.Outcome.FAILED : ParentReportMessage.Outcome.CLOSED,
        bytes: report.type === 'piece' ? report.bytes : 0,
        ms: report.type === 'piece' ? Math.max(1, Math.round(report.ms)) : 0
      })
    } catch {
      // a parent whose id does not parse is not reported
    }
  }

  /**
   * The node holds pieces of the blob now: the scheduler may suggest it to
   * others. Told at once (within HOLDING_FLUSH_MS, with whatever else came
   * meanwhile), not at the next flush: a new holder is what a crowd needs.
   */
  holding (digest: string): void {
    this.#queueHolding(digest)
    if (this.#timer != null) {
      this.#flushSoon ??= setTimeout(() => {
        this.#flushSoon = undefined
        this.#flush().catch(() => {})
      }, HOLDING_FLUSH_MS)
    }
  }

  #queueHolding (digest: string): void {
    const target = this.#targetFor(digest)
    if (target != null && target.holding.length < MAX_SCHEDULE_DIGESTS) target.holding.push(digest)
  }

  /** The node holds the blob no more. */
  dropped (digest: string): void {
    const target = this.#targetFor(digest)
    if (target != null && target.dropped.length < MAX_SCHEDULE_DIGESTS) target.dropped.push(digest)
  }

  /** Holders, and with `rank` an order; `lookup`: asked in place of a DHT lookup (counted apart). */
  async suggest (digest: string, options: SuggestOptions & { lookup?: boolean }): Promise<Suggestions> {
    const target = this.#askable(digest)
    const suggest = { digest, limit: Math.min(options.limit, MAX_SCHEDULE_SUGGESTIONS), exclude: options.exclude.slice(0, MAX_SCHEDULE_CANDIDATES).map(peerIdBytes) }
    const question = options.rank == null ? { suggest } : { suggest, rank: rankPart(digest, options.rank) }
    const res = await this.#question(target, question, options.lookup === true ? 'lookup' : 'suggest', options.signal)
    const holders = res.suggested.flatMap(s => {
      try {
        return [{ peer: peerIdText(s.peer), addrs: addrsText(s.addrs) }]
      } catch {
        return []
      }
    })
    return options.rank == null ? { holders } : { holders, ranked: peersOf(res.ranked) }
  }

  /**
   * A question, answered when the next request to the blob's scheduler
   * comes back. Questions asked within QUESTION_GATHER_MS, or while a
   * request with questions is on its way, go together in one request (up
   * to QUESTIONS_PER_REQUEST), with what waits for the scheduler (the load,
   * reports, blobs held and dropped): a flush then goes only when no
   * question went for a while. A node's downloads each asked apart, and a
   * slow scheduler got more requests the slower it answered.
   */
  async #question (target: SchedulerTarget, question: ScheduleQuestion, kind: PendingQuestion['kind'], signal: AbortSignal): Promise<ScheduleAnswer> {
    signal.throwIfAborted()
    return await new Promise<ScheduleAnswer>((resolve, reject) => {
      const gaveUp = (): void => {
        // waiting still: it does not go at all
        const i = target.pending.indexOf(q)
        if (i >= 0) target.pending.splice(i, 1)
        reject(signal.reason)
      }
      const q: PendingQuestion = {
        question,
        kind,
        signal,
        resolve: answer => { signal.removeEventListener('abort', gaveUp); resolve(answer) },
        reject: err => { signal.removeEventListener('abort', gaveUp); reject(err) }
      }
      signal.addEventListener('abort', gaveUp, { once: true })
      target.pending.push(q)
      if (!target.asking) target.gathering ??= setTimeout(() => { this.#ask(target) }, QUESTION_GATHER_MS)
    })
  }

  /** One request with the questions waiting (the first in its own fields, the rest in `questions`), then the next while more wait. */
  #ask (t: SchedulerTarget): void {
    clearTimeout(t.gathering)
    t.gathering = undefined
    const questions = t.pending.splice(0, t.single ? 1 : QUESTIONS_PER_REQUEST)
    const first = questions[0]
    if (first == null) return
    t.asking = true
    this.#count(first.kind)
    const batch = this.#takeBatch(t)
    // given up on by every question in it, the request is dropped too (one
    // given up before it went left the queue then, see #question)
    const abandoned = new AbortController()
    const allGaveUp = (): void => { if (questions.every(q => q.signal.aborted)) abandoned.abort() }
    for (const q of questions) q.signal.addEventListener('abort', allGaveUp, { once: true, signal: abandoned.signal })
    // and never longer than half the silent time, as a flush
    const signal = AbortSignal.any([abandoned.signal, AbortSignal.timeout(this.#silentMs / 2)])
    this.#send(t, { ...batch, ...first.question, questions: questions.slice(1).map(q => q.question) }, signal).then(res => {
      this.#lastReached = Date.now()
      // answered: the flush it stood for is not due. One that failed does
      // not count: failed questions, one after another, would hold back the
      // flushes that find a slow scheduler still answering, and the node
      // would count it gone
      t.sentAt = this.#lastReached
      first.resolve(res)
      questions.slice(1).forEach((q, i) => {
        const answer = res.answers[i]
        if (answer != null) {
          q.resolve(answer)
          return
        }
        t.single = true
        q.reject(new Error('the scheduler answered only the first question of the request'))
      })
    }, err => {
      // reports are soft state, not sent again; blobs held or dropped wait for the next request
      this.#requeue(t, batch)
      for (const q of questions) q.reject(err)
    }).finally(() => {
      abandoned.abort()
      t.asking = false
      if (t.pending.length > 0) this.#ask(t)
    })
  }

  /** The load now and what waits for the scheduler, taken off its queues. */
  #takeBatch (t: SchedulerTarget): Pick<ScheduleRequest, 'beacon' | 'reports' | 'holding' | 'dropped'> {
    const load = this.#init.load()
    return {
      beacon: { ...load, locality: load.locality ?? '', addrs: this.#init.network.listenAddresses().slice(0, MAX_ADDRS).map(a => Uint8Array.from(multiaddr(a).bytes)) },
      reports: t.reports.splice(0),
      holding: t.holding.splice(0),
      dropped: t.dropped.splice(0)
    }
  }

  #requeue (t: SchedulerTarget, batch: Pick<ScheduleRequest, 'holding' | 'dropped'>): void {
    t.holding.push(...batch.holding.slice(0, MAX_SCHEDULE_DIGESTS - t.holding.length))
    t.dropped.push(...batch.dropped.slice(0, MAX_SCHEDULE_DIGESTS - t.dropped.length))
  }

  #count (kind: 'flush' | 'rank' | 'suggest' | 'lookup'): void {
    if (this.#init.counts != null) this.#init.counts[kind]++
  }

  async #send (target: SchedulerTarget, req: Partial<ScheduleRequest>, signal: AbortSignal): Promise<ReturnType<typeof decodeScheduleResponse>> {
    const network = this.#init.network
    const options = { signal: AbortSignal.any([signal, this.#controller.signal]) }
    if (target.peer == null || !network.isConnected(target.peer)) target.peer = await network.dial(target.addr, options)
    return await exchange(network, target.peer, SCHEDULE_PROTOCOL, encodeScheduleRequest(req), MAX_SCHEDULE_FRAME, decodeScheduleResponse, options)
  }

  /** The beacon to every scheduler, with the reports and digests each has waiting. */
  async #flush (): Promise<void> {
    if (Date.now() - this.#lastHeld >= SCHEDULE_STATE_TTL_MS / 2) {
      this.#lastHeld = Date.now()
      for (const digest of this.#init.held()) this.#queueHolding(digest)
    }
    await Promise.all(this.#targets.map(async t => {
      // one flush at a time to each scheduler: a busy one answers late, and
      // a flush a second on top of those unanswered would bury it deeper
      // (on a starved machine it then answered none within its deadline and
      // every node went back to gossip); it has half the silent time
      if (t.flushing) return
      // questions about to go (QUESTION_GATHER_MS) carry what a flush would
      if (t.gathering != null) return
      const due = t.holding.length > 0 || t.dropped.length > 0 || t.reports.length >= FLUSH_REPORTS
      if (!due && Date.now() - t.sentAt < this.#silentMs / 4) return
      t.flushing = true
      t.sentAt = Date.now()
      this.#count('flush')
      try {
        await this.#send(t, this.#takeBatch(t), AbortSignal.timeout(this.#silentMs / 2))
        this.#lastReached = Date.now()
      } catch (err: any) {
        // soft state: what did not get there is not sent again; the next beacon says the load
        this.#init.log('scheduler %s: %s', t.addr, err.message)
      } finally {
        t.flushing = false
      }
    }))
  }
}
