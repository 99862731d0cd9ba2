import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Bitfield, encodePieceDataFrame, ErrorMessage, MAX_ADDRS, MAX_BUSY_HOLDERS, MAX_CHUNK_SIZE, MAX_PARTS_PER_FRAME, MAX_PIECE_STREAMS, PIECE_PROTOCOL, pieceRange } from '@damselfly/protocol'
import { ProtocolViolationError } from './errors.js'
import { FramedStream } from './framed.js'
import { SWARM_DEFAULTS } from './defaults.js'
import { canReach, dialsOf } from './transports.js'
import type { ByteStream, SwarmNetwork } from './network.js'
import type { PeerPenalties } from './penalties.js'
import { UplinkGauge } from './rate-limit.js'
import type { RateLimiter, RateMeter } from './rate-limit.js'
import type { SwarmStats } from './stats.js'
import type { AddressKind } from './transports.js'
import type { BlobDigest, ManifestPart } from '@damselfly/protocol'
import type { BlobHandle, PieceStore } from '@damselfly/store'
import type { Logger } from '@libp2p/interface'

export interface PieceServerInit {
  /** Upload sessions served at once; further requesters are choked. @default 16 */
  uploadSlots?: number
  /** Outstanding requests a requester may queue on one stream. @default 32 */
  maxQueuedRequests?: number
  /** How long a requester may take to send Open. @default 10000 */
  openTimeoutMs?: number
  /** Test only: flip a byte in every piece served. @default false */
  corruptUploads?: boolean
  /** Copies of a piece sent within the super-seeding window before further requests are declined; 0 never declines. @default 1 */
  superSeedCopies?: number
  /** @default 2000 when sends are paced (an upload rate), 8000 when not */
  superSeedWindowMs?: number
  /** Sends are paced by an upload rate: a send then ends when its bytes are on their way, and the ledger can tell an idle uplink. @default false */
  paced?: boolean
  /** A seed: unpaced, it declines copies whatever its upload rate (UplinkGauge is for the others). @default false */
  seed?: boolean
  /** With every slot taken, a session idle this long gives its slot to a new requester. @default 1000 */
  idleSlotMs?: number
  /** What a session that gave its slot up is told to wait before asking again. @default 10000 */
  idleRetryMs?: number
  /** Slots one peer may hold at once; further streams of it are choked. @default a quarter of uploadSlots, at least 1 */
  slotsPerPeer?: number
  /** A session whose peer reads nothing this long, with something to send it, is reset. @default 20000 */
  writeStallMs?: number
}

export interface PieceServerComponents {
  network: SwarmNetwork
  store: PieceStore
  stats: SwarmStats
  penalties: PeerPenalties
  uploadLimiter: RateLimiter
  uploadMeter: RateMeter
  log: Logger
}

/** Serves /damselfly/piece/1.0.0: manifest, bitfield, have updates and piece data. */
export class PieceServer {
  readonly #c: PieceServerComponents
  readonly #slots: number
  readonly #maxQueued: number
  readonly #openTimeoutMs: number
  readonly #corrupt: boolean
  readonly #ledger: ServeLedger
  readonly #idleSlotMs: number
  readonly #idleRetryMs: number
  readonly #slotsPerPeer: number
  readonly #writeStallMs: number
  /** Sessions holding an upload slot. */
  readonly #sessions = new Set<UploadSession>()

  constructor (components: PieceServerComponents, init: PieceServerInit = {}) {
    const paced = init.paced === true
    // unpaced, pieces on their way out say nothing of the uplink (the transport
    // takes the bytes at once): a node reads it from its upload rate, a seed counts it busy
    const gauge = paced || init.seed === true ? undefined : new UplinkGauge(() => components.uploadMeter.rate)
    this.#ledger = new ServeLedger(init.superSeedCopies ?? SWARM_DEFAULTS.superSeedCopies,
      init.superSeedWindowMs ?? (paced ? SWARM_DEFAULTS.superSeedWindowMs : SWARM_DEFAULTS.superSeedUnpacedWindowMs),
      undefined, paced ? undefined : gauge != null ? () => gauge.busy(this.activeUploads) : () => true)
    this.#c = components
    this.#slots = init.uploadSlots ?? SWARM_DEFAULTS.uploadSlots
    this.#maxQueued = init.maxQueuedRequests ?? 32
    this.#openTimeoutMs = init.openTimeoutMs ?? 10_000
    this.#corrupt = init.corruptUploads ?? false
    this.#idleSlotMs = init.idleSlotMs ?? SWARM_DEFAULTS.idleSlotMs
    this.#idleRetryMs = init.idleRetryMs ?? SWARM_DEFAULTS.idleRetryMs
    this.#slotsPerPeer = init.slotsPerPeer ?? Math.max(1, Math.floor(this.#slots * SWARM_DEFAULTS.slotsPerPeerShare))
    this.#writeStallMs = init.writeStallMs ?? SWARM_DEFAULTS.writeStallMs
  }

  /** Slots a new requester would get now (for the load beacon): free ones, and those idle sessions would give up. */
  get freeSlots (): number {
    return slotsForNewcomers(this.#sessions, this.#slots, performance.now(), this.#idleSlotMs)
  }

  /** Sessions with a piece queued or on its way out (for the load beacon). */
  get activeUploads (): number {
    let n = 0
    for (const s of this.#sessions) if (s.busy) n++
    return n
  }

  async start (): Promise<void> {
    await this.#c.network.handle(PIECE_PROTOCOL, (stream, peer) => {
      this.#serve(stream, peer).catch(err => {
        this.#c.log('upload session with %s ended: %s', peer, err.message)
      })
    }, { maxInboundStreams: MAX_PIECE_STREAMS, maxOutboundStreams: MAX_PIECE_STREAMS })
  }

  async #serve (stream: ByteStream, peer: string): Promise<void> {
    const framed = new FramedStream(stream, this.#writeStallMs)
    if (this.#c.penalties.isBanned(peer)) {
      stream.abort(new Error('banned'))
      return
    }
    let mine = 0
    for (const s of this.#sessions) if (s.peer === peer) mine++
    if (mine >= this.#slotsPerPeer) {
      // one peer never holds every slot, whatever number of streams it opens
      await framed.send({ type: 'choke', choke: { retryAfterMs: 1000 } }).catch(() => {})
      await stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => stream.abort(new Error('close timed out')))
      return
    }
    if (this.#sessions.size >= this.#slots) {
      const idle = idleSlotToFree(this.#sessions, performance.now(), this.#idleSlotMs)
      if (idle == null) {
        await framed.send({ type: 'choke', choke: { retryAfterMs: 500 } })
        await stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => stream.abort(new Error('close timed out')))
        return
      }
      this.#c.log('upload slot of %s, idle, goes to %s', idle.peer, peer)
      this.#sessions.delete(idle)
      idle.yieldSlot(this.#idleRetryMs)
    }
    const session = new UploadSession(this.#c, framed, peer, this.#maxQueued, this.#corrupt, this.#ledger)
    this.#sessions.add(session)
    this.#c.stats.activeUploads = this.#sessions.size
    try {
      await session.run(this.#openTimeoutMs)
    } finally {
      this.#sessions.delete(session)
      this.#c.stats.activeUploads = this.#sessions.size
    }
  }
}

/**
 * Slots a new requester would get now out of `slots`: those no session
 * holds, and those held by sessions idle for `idleMs` (idleSlotToFree
 * would give them up), so a parent full of idle sessions does not look full.
 */
export function slotsForNewcomers (sessions: Iterable<UploadSlot>, slots: number, now: number, idleMs: number): number {
  let held = 0
  for (const s of sessions) {
    if (!isIdle(s, now, idleMs)) held++
  }
  return Math.max(0, slots - held)
}

/** Nothing queued or on its way out, and no request or send for `idleMs`. */
function isIdle (s: UploadSlot, now: number, idleMs: number): boolean {
  return !s.busy && now - s.lastActiveAt >= idleMs
}

/** What the slot rule knows of an upload session. */
export interface UploadSlot {
  /** A piece is queued or on its way out, or the session is still answering Open. */
  readonly busy: boolean
  /** When it last had a request or finished a send, or opened (ms, on the caller's clock). */
  readonly lastActiveAt: number
}

/**
 * The session to give its slot to a new requester when every slot is taken:
 * the one idle longest, once it has had nothing queued or sent for `idleMs`.
 * A requester that asks for nothing holds a slot that a requester with wants
 * could use; this is the parent's side of the download's idle-parent rule.
 * Measured in the simulator (bench/sim, nginx-like image, 4 MB/s nodes,
 * three seeds of its PRNG): the last of 1,000 nodes finished in 21.7-21.9 s
 * instead of 22.6-24.3, of 100 in 17.6-18.9 s instead of 18.7-19.2.
 */
export function idleSlotToFree<S extends UploadSlot> (sessions: Iterable<S>, now: number, idleMs: number): S | undefined {
  let best: S | undefined
  for (const s of sessions) {
    if (!isIdle(s, now, idleMs)) continue
    if (best == null || s.lastActiveAt < best.lastActiveAt) best = s
  }
  return best
}

/**
 * Below this many pieces on their way out, a node sends a piece it just sent
 * to `copies` peers all the same: declining would leave part of its uplink
 * idle, and a copy sent now beats none. Measured in the simulator
 * (bench/sim, nginx-like image, 4 MB/s nodes): against a ledger that always
 * declines, the last of 1,000 nodes finished in 28.2 s instead of 35.6, of
 * 10,000 in 29.7 s instead of 38.4; 1 gained less (28.5 s at 1,000), 3 about
 * the same as 2 (27.5 s), with more copies from the seed.
 */
export const IDLE_UPLINK_SENDS = 2

/**
 * How often each piece went out recently. A node that has just sent a piece
 * to `copies` peers declines further requests for it for a moment, so the
 * peers that have it pass it on: the seed of a flash crowd then sends each
 * piece about `copies` times instead of once per peer (super-seeding). It
 * does so only while its uplink is busy (IDLE_UPLINK_SENDS, or an
 * UplinkGauge's judgement when nothing paces the sends), and declines
 * one requester a piece for `retryMs` at most.
 */
export class ServeLedger {
  readonly #copies: number
  readonly #windowMs: number
  /** Per piece: when each recent send finished (Infinity while still sending), and to whom. */
  readonly #served = new Map<string, Array<{ at: number, to?: string }>>()
  /** Per piece and requester: when it was first declined that piece. */
  readonly #declined = new Map<string, number>()
  readonly #retryMs: number
  readonly #now: () => number
  readonly #uplinkBusy: (sending: number) => boolean
  /** Pieces admitted and not yet sent, over all pieces. */
  #sending = 0

  /**
   * `now` in milliseconds: a simulator passes its own clock. A requester
   * declined a piece is sent it when it asks again `retryMs` or more later:
   * the holders it was named could not give it the piece. `uplinkBusy`
   * says whether the uplink is busy, given the pieces being sent now: by
   * default while IDLE_UPLINK_SENDS or more are (as when an upload rate paces
   * the sends); `() => true` declines whatever the uplink does.
   */
  constructor (copies: number, windowMs: number, now: () => number = () => performance.now(), uplinkBusy: (sending: number) => boolean = sending => sending >= IDLE_UPLINK_SENDS, retryMs: number = SWARM_DEFAULTS.declinedRetryMs) {
    this.#uplinkBusy = uplinkBusy
    this.#copies = copies
    this.#windowMs = windowMs
    this.#now = now
    this.#retryMs = retryMs
  }

  /** Pieces being sent now. */
  get sending (): number {
    return this.#sending
  }

  /**
   * Whether piece `piece` of a blob of `pieces` pieces may be sent now to
   * `requester` (a peer id), declining only while one of the peers it just
   * went to is `reachable` (one that left passes nothing on). When it may, returns the function to
   * call once it has been sent (again calls do nothing): the window runs
   * from then, since the receivers can pass a piece on only once they have
   * all of it.
   */
  admit (digest: string, piece: number, pieces = Infinity, requester?: string, reachable?: (peer: string) => boolean): (() => void) | undefined {
    // A one-piece blob (an image's config, a small layer) goes to whoever asks:
    // its holders join no topic for it and provide it only once their own
    // downloads end, so a peer declined it has nobody else to ask. In the
    // README's cluster walk-through (3 nodes, 100 Mbit/s), two nodes waited out
    // the window for the image's config while the third took every layer from
    // the seed alone; sent to all, the three took 12-19 MiB of the 48 from the
    // seed each and the rest from each other.
    if (this.#copies <= 0 || pieces <= 1) return () => {}
    const key = `${digest}/${piece}`
    const now = this.#now()
    const recent = (this.#served.get(key) ?? []).filter(s => now - s.at < this.#windowMs)
    // declined only while a peer it went to can pass it on: one that left cannot
    const passOn = reachable == null || recent.some(s => s.to == null || (s.to !== requester && reachable(s.to)))
    const asked = requester == null ? undefined : `${key} ${requester}`
    const declinedAt = asked == null ? undefined : this.#declined.get(asked)
    const waited = declinedAt != null && now - declinedAt >= this.#retryMs
    if (recent.length >= this.#copies && passOn && !waited && this.#uplinkBusy(this.#sending)) {
      this.#served.set(key, recent)
      if (asked != null && declinedAt == null) {
        if (this.#declined.size >= 100_000) this.#declined.clear()
        this.#declined.set(asked, now)
      }
      return undefined
    }
    if (declinedAt != null) this.#declined.delete(asked!)
    const entry = { at: Infinity, to: requester }
    recent.push(entry)
    this.#served.set(key, recent)
    if (this.#served.size > 100_000) this.#served.clear()
    this.#sending++
    let done = false
    return () => {
      if (done) return
      done = true
      this.#sending--
      entry.at = this.#now()
    }
  }

  /** The peers a piece went to within the window (or is going to), most recent first: whom a declined requester can ask. */
  recipients (digest: string, piece: number): string[] {
    const now = this.#now()
    const list = this.#served.get(`${digest}/${piece}`) ?? []
    return list.filter(s => now - s.at < this.#windowMs && s.to != null).map(s => s.to!).reverse()
  }
}

function isViolation (err: Error): boolean {
  return err.name === 'ProtocolViolationError' || err.name === 'MalformedMessageError' || err.name === 'MessageTooLargeError'
}

class UploadSession implements UploadSlot {
  readonly #c: PieceServerComponents
  readonly #framed: FramedStream
  readonly peer: string
  readonly #maxQueued: number
  readonly #corrupt: boolean
  readonly #ledger: ServeLedger
  readonly #queue: number[] = []
  #wake: (() => void) | undefined
  #closed = false
  #handle: BlobHandle | undefined
  #covered: Bitfield | undefined
  #unannounced: number[] = []
  #ready = false
  #sending = false
  lastActiveAt = performance.now()
  readonly #controller = new AbortController()
  /** What the requester can dial, once looked up. */
  #dials: Promise<Set<AddressKind>> | undefined
  /** Whether the requester can reach each holder it might be sent to instead. */
  readonly #reaches = new Map<string, Promise<boolean>>()

  constructor (c: PieceServerComponents, framed: FramedStream, peer: string, maxQueued: number, corrupt: boolean, ledger: ServeLedger) {
    this.#c = c
    this.#ledger = ledger
    this.#framed = framed
    this.peer = peer
    this.#maxQueued = maxQueued
    this.#corrupt = corrupt
  }

  get busy (): boolean {
    return this.#opening || this.#sending || this.#queue.length > 0
  }

  /** Opened, and the bitfield not yet sent. */
  get #opening (): boolean {
    return this.#handle != null && !this.#ready && !this.#closed
  }

  /**
   * Give the slot up: tell the requester to ask again after `retryAfterMs`,
   * and end the session (the writer closes the stream once it sees it closed).
   */
  yieldSlot (retryAfterMs: number): void {
    if (this.#closed) return
    this.#framed.send({ type: 'choke', choke: { retryAfterMs } }).catch(err => this.#fail(err))
    this.#closed = true
    this.#wake?.()
  }

  async run (openTimeoutMs: number): Promise<void> {
    const frames = this.#framed.frames()
    const stream = this.#framed.stream
    const timer = setTimeout(() => stream.abort(new Error('no Open within deadline')), openTimeoutMs)
    let first
    try {
      first = await frames.next()
    } catch (err: any) {
      if (isViolation(err)) this.#violation(err.message)
      else stream.abort(err)
      return
    } finally {
      clearTimeout(timer)
    }
    if (first.done === true) return
    if (first.value.type !== 'open') {
      this.#violation(`expected open, got ${first.value.type}`)
      return
    }
    const digest = first.value.open.digest as BlobDigest
    const handle = this.#c.store.get(digest)
    if (handle == null) {
      await this.#framed.send({ type: 'error', error: { code: ErrorMessage.Code.NOT_FOUND, message: `${digest} is not held here` } })
      await stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => stream.abort(new Error('close timed out')))
      return
    }
    this.#handle = handle
    this.#covered = new Bitfield(handle.layout.pieces)
    const onPiece = (evt: Event): void => {
      this.#unannounced.push((evt as CustomEvent<number>).detail)
      this.#announce().catch(err => this.#fail(err))
    }
    const onHashes = (): void => {
      this.#announce().catch(err => this.#fail(err))
    }
    handle.addEventListener('piece', onPiece)
    handle.addEventListener('hashes', onHashes)
    // garbage collection leaves a blob alone while a peer is being served from it
    const release = this.#c.store.hold(digest)
    try {
      if (first.value.open.wantManifest) {
        await this.#sendParts(handle.manifestParts())
      }
      // only pieces whose signed hash can be sent count as held; the others follow in Have frames
      const snapshot = new Bitfield(handle.layout.pieces)
      for (const i of handle.bitfield.indices()) {
        if (handle.pieceHash(i) != null) snapshot.set(i)
        else if (!this.#unannounced.includes(i)) this.#unannounced.push(i)
      }
      await this.#framed.send({ type: 'bitfield', bitfield: { pieces: handle.layout.pieces, bits: Uint8Array.from(snapshot.bytes) } })
      // pieces gained while the bitfield was on its way are announced now, the rest were in it
      this.#unannounced = this.#unannounced.filter(i => !snapshot.has(i))
      this.#ready = true
      this.lastActiveAt = performance.now()
      await this.#announce()
      const writer = this.#writeLoop()
      try {
        for await (const frame of frames) {
          if (frame.type === 'request') {
            if (this.#queue.length >= this.#maxQueued) {
              throw new ProtocolViolationError(`more than ${this.#maxQueued} requests queued`)
            }
            if (frame.request.piece >= handle.layout.pieces) {
              throw new ProtocolViolationError(`request for piece ${frame.request.piece} of a ${handle.layout.pieces}-piece blob`)
            }
            this.#queue.push(frame.request.piece)
            this.lastActiveAt = performance.now()
            this.#wake?.()
          } else if (frame.type === 'cancel') {
            const i = this.#queue.indexOf(frame.cancel.piece)
            if (i >= 0) {
              this.#queue.splice(i, 1)
              await this.#framed.send({ type: 'error', error: { code: ErrorMessage.Code.CANCELLED, message: 'cancelled', piece: frame.cancel.piece } })
            }
          } else {
            throw new ProtocolViolationError(`unexpected ${frame.type} from a requester`)
          }
        }
      } catch (err: any) {
        // a malformed frame is the requester's fault; a reset or a closed connection is not
        if (!this.#closed && isViolation(err)) this.#violation(err.message)
        else this.#closed = true
      }
      this.#closed = true
      this.#wake?.()
      await writer
    } finally {
      release()
      handle.removeEventListener('piece', onPiece)
      handle.removeEventListener('hashes', onHashes)
      this.#controller.abort()
    }
  }

  #violation (reason: string): void {
    this.#closed = true
    this.#c.log('peer %s broke the piece protocol: %s', this.peer, reason)
    if (this.#c.penalties.ban(this.peer, reason)) this.#c.stats.bans++
    this.#framed.stream.abort(new Error(reason))
  }

  #fail (err: Error): void {
    this.#closed = true
    this.#framed.stream.abort(err)
  }

  async #sendParts (parts: ManifestPart[]): Promise<void> {
    const covered = this.#covered!
    const fresh = parts.filter(p => {
      for (let i = p.first; i < p.first + p.hashes.length; i++) {
        if (!covered.has(i)) return true
      }
      return false
    })
    if (fresh.length === 0) return
    for (const p of fresh) {
      for (let i = p.first; i < p.first + p.hashes.length; i++) covered.set(i)
    }
    for (let i = 0; i < fresh.length; i += MAX_PARTS_PER_FRAME) {
      await this.#framed.send({ type: 'manifest', manifest: fresh.slice(i, i + MAX_PARTS_PER_FRAME) })
    }
  }

  /**
   * Tell the requester about pieces gained since the last Have. A piece is
   * announced only once its signed hash can go with it (a seed signs a piece
   * just after writing it), so the requester can always verify what it asks for.
   */
  async #announce (): Promise<void> {
    if (this.#closed || !this.#ready || this.#unannounced.length === 0) return
    const handle = this.#handle!
    const ready = this.#unannounced.filter(i => handle.pieceHash(i) != null)
    if (ready.length === 0) return
    this.#unannounced = this.#unannounced.filter(i => handle.pieceHash(i) == null)
    const parts = new Set<ManifestPart>()
    for (const i of ready) {
      const part = this.#covered!.has(i) ? undefined : handle.manifestPartFor(i)
      if (part != null) parts.add(part)
    }
    await this.#sendParts([...parts])
    await this.#framed.send({ type: 'have', have: { pieces: ready } })
  }

  /** The peers piece `piece` went to lately that are still connected and that the requester can dial. */
  async #reachableRecipients (digest: string, piece: number): Promise<Set<string>> {
    const out = new Set<string>()
    for (const p of this.#ledger.recipients(digest, piece)) {
      if (p === this.peer || !this.#c.network.isConnected(p)) continue
      let reach = this.#reaches.get(p)
      if (reach == null) {
        reach = this.#canReach(p)
        this.#reaches.set(p, reach)
      }
      if (await reach) out.add(p)
    }
    return out
  }

  async #canReach (holder: string): Promise<boolean> {
    const network = this.#c.network
    this.#dials ??= network.addressesOf(this.peer).then(addrs => dialsOf(addrs, network.connectionWith(this.peer)?.transport))
    return canReach(await this.#dials, await network.addressesOf(holder))
  }

  async #writeLoop (): Promise<void> {
    const handle = this.#handle!
    const signal = this.#controller.signal
    try {
      while (!this.#closed) {
        const piece = this.#queue.shift()
        if (piece == null) {
          await new Promise<void>(resolve => { this.#wake = resolve })
          this.#wake = undefined
          continue
        }
        if (!handle.bitfield.has(piece)) {
          await this.#framed.send({ type: 'error', error: { code: ErrorMessage.Code.BAD_REQUEST, message: `piece ${piece} is not held here`, piece } })
          continue
        }
        // declined only for holders still here that the requester can dial: a browser on WebRTC-direct cannot reach a daemon on TCP
        const reachable = await this.#reachableRecipients(handle.digest, piece)
        const sent = this.#ledger.admit(handle.digest, piece, handle.layout.pieces, this.peer, p => reachable.has(p))
        if (sent == null) {
          this.#c.stats.piecesDeclined++
          // the peers it went to, so the requester can ask them without a lookup
          const holders = await Promise.all(this.#ledger.recipients(handle.digest, piece).filter(p => p !== this.peer).slice(0, MAX_BUSY_HOLDERS).map(async p => ({
            peer: Uint8Array.from(peerIdFromString(p).toMultihash().bytes),
            addrs: (await this.#c.network.addressesOf(p)).slice(0, MAX_ADDRS).map(a => Uint8Array.from(multiaddr(a).bytes))
          })))
          await this.#framed.send({ type: 'error', error: { code: ErrorMessage.Code.BUSY, message: `piece ${piece} was just sent to other peers: ask them`, piece, holders } })
          continue
        }
        this.#sending = true
        try {
          await this.#sendPiece(handle, piece, signal)
        } finally {
          // a send that broke off counts as sent: the window must end either way
          sent()
          this.#sending = false
          this.lastActiveAt = performance.now()
        }
      }
      await this.#framed.stream.close({ signal: AbortSignal.timeout(5000) })
    } catch (err: any) {
      this.#fail(err)
    }
  }

  async #sendPiece (handle: BlobHandle, piece: number, signal: AbortSignal): Promise<void> {
    const data = await handle.readPiece(piece, { signal })
    if (this.#corrupt && data.byteLength > 0) data[data.byteLength >> 1] = (data[data.byteLength >> 1] ?? 0) ^ 0xff
    const { length } = pieceRange(handle.layout.size, handle.layout.pieceSize, piece)
    for (let offset = 0; offset < length && !this.#closed; offset += MAX_CHUNK_SIZE) {
      const chunk = data.subarray(offset, Math.min(length, offset + MAX_CHUNK_SIZE))
      await this.#c.uploadLimiter.take(chunk.byteLength, { signal })
      await this.#framed.sendRaw(encodePieceDataFrame(piece, offset, chunk, offset + chunk.byteLength >= length), { signal })
      this.#c.stats.bytesUploaded += chunk.byteLength
      this.#c.uploadMeter.add(chunk.byteLength)
    }
  }
}
