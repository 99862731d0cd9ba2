import { decodePieceFrame, encodeFrame, encodePieceFrame, FrameDecoder, MAX_PIECE_FRAME } from '@damselfly/protocol'
import type { ByteStream } from './network.js'
import type { PieceFrame } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Piece-protocol frames over a byte stream, with the frame size limit enforced. */
export class FramedStream {
  readonly stream: ByteStream

  constructor (stream: ByteStream) {
    this.stream = stream
  }

  /** Queue one whole frame; waits for drain when the send buffer is full. */
  async send (frame: PieceFrame, options: AbortOptions = {}): Promise<void> {
    if (!this.stream.send(encodeFrame(encodePieceFrame(frame)))) {
      await this.stream.onDrain(options)
    }
  }

  /** Queue bytes that already form whole frames (see encodePieceDataFrame). */
  async sendRaw (frames: Uint8ArrayList, options: AbortOptions = {}): Promise<void> {
    if (!this.stream.send(frames)) {
      await this.stream.onDrain(options)
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

/**
 * The first length-prefixed frame of a stream (at most `maxLength` bytes):
 * the whole of a one-message request or answer. The stream is aborted when
 * `options.signal` fires first.
 */
export async function readOneFrame (stream: ByteStream, maxLength: number, options: AbortOptions): Promise<Uint8Array> {
  const decoder = new FrameDecoder(maxLength)
  const onAbort = (): void => stream.abort(new Error('timed out waiting for a frame'))
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const chunk of stream) {
      for (const frame of decoder.push(chunk)) return frame.subarray()
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
  throw new Error('stream ended before a whole frame arrived')
}
