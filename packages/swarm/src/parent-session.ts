import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { Bitfield, PIECE_PROTOCOL } from '@damselfly/protocol'
import { ProtocolViolationError } from './errors.js'
import { FramedStream } from './framed.js'
import type { CloseReason } from './engine.js'
import type { SwarmNetwork } from './network.js'
import type { RateLimiter } from './rate-limit.js'
import type { BlobDigest, ManifestPart } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'

export interface ParentSessionEvents {
  /** Signed manifest parts arrived (not yet verified). */
  manifest(parts: ManifestPart[]): Promise<void>
  /** The parent's bitfield arrived. */
  bitfield(have: Bitfield): void
  /** The parent gained these pieces (each within its bitfield): the receiver sets them in the bitfield it was given. */
  have(pieces: number[]): void
  /** Piece bytes arrived. */
  data(bytes: number): void
  /** A request ended without data: declined (busy, naming the peers it went to when the parent knows), cancelled or refused. */
  declined(index: number, busy: boolean, holders: Array<{ peer: string, addrs: string[] }>): void
  /** Where piece `index` is to be received: a buffer of exactly its length (BufferPool). */
  buffer(index: number): Uint8Array
  /** A whole piece arrived (not yet verified), in the buffer `buffer()` gave, which the receiver now owns. */
  piece(index: number, data: Uint8Array): void
  /** A piece was cut off (the session ended): its buffer is no longer used. */
  abandoned(data: Uint8Array): void
  /** The session ended; `reason` is undefined on a clean close. */
  closed(reason: CloseReason | undefined): void
}

/**
 * One requester-side stream to a parent for one blob: the wire side only.
 * What to ask of it, and when to give it up, is the download engine's.
 */
export class ParentSession {
  readonly peer: string
  readonly digest: BlobDigest
  /** Pieces requested and not yet fully received or answered: anything else the parent sends breaks the protocol. */
  readonly outstanding: number[] = []
  have: Bitfield | undefined
  #framed: FramedStream | undefined
  #closed = false
  readonly #events: ParentSessionEvents
  readonly #limiter: RateLimiter

  constructor (peer: string, digest: BlobDigest, events: ParentSessionEvents, limiter: RateLimiter) {
    this.peer = peer
    this.digest = digest
    this.#events = events
    this.#limiter = limiter
  }

  get open (): boolean {
    return this.#framed != null && !this.#closed
  }

  /** Open the stream and start reading; resolves once Open was sent. */
  async connect (network: SwarmNetwork, options: AbortOptions): Promise<void> {
    const stream = await network.open(this.peer, PIECE_PROTOCOL, options)
    this.#framed = new FramedStream(stream)
    await this.#framed.send({ type: 'open', open: { digest: this.digest, wantManifest: true } }, options)
    this.#read().catch(() => {})
  }

  async request (index: number): Promise<void> {
    if (!this.open) return
    this.outstanding.push(index)
    await this.#framed!.send({ type: 'request', request: { piece: index } })
  }

  async cancel (index: number): Promise<void> {
    const i = this.outstanding.indexOf(index)
    if (i < 0 || !this.open) return
    // a piece already being sent arrives anyway; only queued ones are dropped
    await this.#framed!.send({ type: 'cancel', cancel: { piece: index } })
  }

  close (err?: Error): void {
    if (this.#closed) return
    this.#closed = true
    if (err != null) {
      this.#framed?.stream.abort(err)
    } else {
      this.#framed?.stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => {})
    }
  }

  async #read (): Promise<void> {
    let current: { piece: number, data: Uint8Array, filled: number } | undefined
    let reason: CloseReason | undefined
    try {
      for await (const frame of this.#framed!.frames()) {
        switch (frame.type) {
          case 'manifest':
            await this.#events.manifest(frame.manifest)
            break
          case 'bitfield':
            this.have = new Bitfield(frame.bitfield.pieces, frame.bitfield.bits)
            this.#events.bitfield(this.have)
            break
          case 'have': {
            if (this.have == null) throw new ProtocolViolationError('have before bitfield')
            for (const p of frame.have.pieces) {
              if (p >= this.have.length) throw new ProtocolViolationError(`have names piece ${p} of ${this.have.length}`)
            }
            this.#events.have(frame.have.pieces)
            break
          }
          case 'data': {
            const d = frame.data
            if (current == null) {
              if (this.outstanding.indexOf(d.piece) < 0) throw new ProtocolViolationError(`unrequested piece ${d.piece}`)
              current = { piece: d.piece, data: this.#events.buffer(d.piece), filled: 0 }
            }
            if (d.piece !== current.piece || d.offset !== current.filled) {
              throw new ProtocolViolationError(`data for piece ${d.piece} at ${d.offset} out of order`)
            }
            const length = d.data.byteLength
            if (current.filled + length > current.data.byteLength) {
              throw new ProtocolViolationError(`data for piece ${d.piece} runs past its ${current.data.byteLength} bytes`)
            }
            await this.#limiter.take(length)
            // copied at once, the chunks die young (see BufferPool)
            for (const chunk of d.data instanceof Uint8Array ? [d.data] : d.data) {
              current.data.set(chunk, current.filled)
              current.filled += chunk.byteLength
            }
            this.#events.data(length)
            if (d.last) {
              const done = current
              current = undefined
              const i = this.outstanding.indexOf(done.piece)
              if (i >= 0) this.outstanding.splice(i, 1)
              // a piece that ends short keeps its length: the store refuses it
              this.#events.piece(done.piece, done.data.subarray(0, done.filled))
            }
            break
          }
          case 'choke':
            reason = { kind: 'choke', message: 'parent has no free upload slot', retryAfterMs: frame.choke.retryAfterMs }
            return
          case 'error': {
            const piece = frame.error.piece
            if (piece != null && frame.error.code !== 'NOT_FOUND') {
              // an answer to one request: it is over, the session goes on
              const i = this.outstanding.indexOf(piece)
              if (i < 0) throw new ProtocolViolationError(`error for piece ${piece}, which is not outstanding`)
              this.outstanding.splice(i, 1)
              this.#events.declined(piece, frame.error.code === 'BUSY', holdersOf(frame.error.holders ?? []))
              break
            }
            reason = { kind: frame.error.code === 'NOT_FOUND' ? 'not-found' : 'error', message: frame.error.message }
            return
          }
          default:
            throw new ProtocolViolationError(`unexpected ${frame.type} from a parent`)
        }
      }
    } catch (err: any) {
      const violation = ['ProtocolViolationError', 'MalformedMessageError', 'MessageTooLargeError'].includes(err.name)
      reason = { kind: violation ? 'violation' : 'error', message: err.message }
    } finally {
      const closedByUs = this.#closed
      this.#closed = true
      if (current != null) this.#events.abandoned(current.data)
      if (reason?.kind === 'violation') {
        this.#framed?.stream.abort(new Error(reason.message))
      } else if (!closedByUs) {
        // the parent ended the session (a choke, an error, its end of the
        // stream): this end is closed too, or the stream stays half open on
        // both sides and the parent's session waits on it for good, holding
        // the blob against garbage collection
        const stream = this.#framed?.stream
        stream?.close({ signal: AbortSignal.timeout(2000) }).catch(() => stream.abort(new Error('close timed out')))
      }
      this.#events.closed(reason)
    }
  }
}

/** A BUSY answer's holders as peer ids and multiaddr strings; what does not parse is left out. */
function holdersOf (holders: Array<{ peer: Uint8Array, addrs: Uint8Array[] }>): Array<{ peer: string, addrs: string[] }> {
  return holders.flatMap(h => {
    try {
      const peer = peerIdFromMultihash(Digest.decode(h.peer)).toString()
      const addrs = h.addrs.flatMap(a => {
        try {
          return [multiaddr(a).toString()]
        } catch {
          return []
        }
      })
      return [{ peer, addrs }]
    } catch {
      return []
    }
  })
}
