import { decodePieceFrame, encodeFrame, encodePieceFrame, FrameDecoder, MAX_PIECE_FRAME } from '@damselfly/protocol'
import { SWARM_DEFAULTS } from './defaults.js'
import type { ByteStream } from './network.js'
import type { PieceFrame } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The peer read nothing for the write-stall deadline while there was something to send it. */
export class WriteStallError extends Error {
  static override name = 'WriteStallError'
  override name = 'WriteStallError'
}

/** Piece-protocol frames over a byte stream, with the frame size limit enforced. */
export class FramedStream {
  readonly stream: ByteStream
  readonly #stallMs: number

  /** `stallMs`: how long a send may wait for the peer to read before the stream counts as stalled. */
  constructor (stream: ByteStream, stallMs: number = SWARM_DEFAULTS.writeStallMs) {
    this.stream = stream
    this.#stallMs = stallMs
  }

  /** Queue one whole frame; waits for drain when the send buffer is full. */
  async send (frame: PieceFrame, options: AbortOptions = {}): Promise<void> {
    if (!this.stream.send(encodeFrame(encodePieceFrame(frame)))) await this.#drained(options)
  }

  /** Queue bytes that already form whole frames (see encodePieceDataFrame). */
  async sendRaw (frames: Uint8ArrayList, options: AbortOptions = {}): Promise<void> {
    if (!this.stream.send(frames)) await this.#drained(options)
  }

  /**
   * Waits for the send buffer to drain, at most `stallMs`: throws
   * WriteStallError then. A plain timer, not a signal per wait: this runs
   * for every chunk a busy stream sends.
   */
  async #drained (options: AbortOptions): Promise<void> {
    const drained = this.stream.onDrain(options)
    let timer: ReturnType<typeof setTimeout> | undefined
    const stalled = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new WriteStallError(`the peer read nothing for ${this.#stallMs} ms`)) }, this.#stallMs)
    })
    try {
      await Promise.race([drained, stalled])
    } finally {
      clearTimeout(timer)
      // after a stall the caller aborts the stream, which rejects the wait for drain: nobody is left to see it
      drained.catch(() => {})
    }
  }

  /** Decoded frames until the remote closes; throws on a malformed or oversized frame. */
  async * frames (): AsyncGenerator<PieceFrame> {
    const decoder = new FrameDecoder(MAX_PIECE_FRAME)
    for await (const chunk of this.stream) {
      for (const frame of decoder.push(chunk)) {
        yield decodePieceFrame(frame)
      }
    }
  }
}

