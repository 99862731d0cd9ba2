import { Uint8ArrayList } from 'uint8arraylist'
import { MalformedMessageError, MessageTooLargeError } from './errors.js'

/** An unsigned LEB128 varint, as protobuf and the frame length prefix use. */
export function encodeVarint (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out
}

/**
 * The varint at `offset`: its value and how many bytes it took, or
 * undefined when it is incomplete or longer than 5 bytes (past uint32).
 */
export function readVarint (list: Uint8ArrayList, offset: number): { value: number, bytes: number } | undefined {
  let value = 0
  let mul = 1
  for (let i = 0; i < 5 && offset + i < list.byteLength; i++) {
    const b = list.get(offset + i)
    value += (b & 0x7f) * mul
    if ((b & 0x80) === 0) return { value, bytes: i + 1 }
    mul *= 128
  }
  return undefined
}

/** Frames are an unsigned LEB128 varint length followed by that many bytes. */
export function encodeFrame (payload: Uint8Array): Uint8ArrayList {
  return new Uint8ArrayList(Uint8Array.from(encodeVarint(payload.byteLength)), payload)
}

/**
 * Splits a byte stream into frames. A declared length above `maxLength` is
 * refused before any of its bytes are buffered.
 *
 * Not @libp2p/utils' LengthPrefixedDecoder: it drops empty frames unseen,
 * where docs/protocol.md §7 has the receiver reset a stream whose frame does
 * not validate, and it takes the prefix's size from the length it decoded,
 * so a prefix written in more bytes than needed (`82 00` for 2) shifts every
 * later frame.
 */
export class FrameDecoder {
  readonly #buffer = new Uint8ArrayList()
  readonly #maxLength: number

  constructor (maxLength: number) {
    this.#maxLength = maxLength
  }

  /** Bytes held that do not yet form a whole frame. */
  get buffered (): number {
    return this.#buffer.byteLength
  }

  * push (chunk: Uint8Array | Uint8ArrayList): Generator<Uint8ArrayList> {
    this.#buffer.append(chunk)
    while (true) {
      const header = readVarint(this.#buffer, 0)
      if (header == null) {
        if (this.#buffer.byteLength >= 5) throw new MalformedMessageError('frame length varint is longer than 5 bytes')
        return
      }
      const length = header.value
      const headerLength = header.bytes
      if (length > this.#maxLength) {
        throw new MessageTooLargeError(`frame of ${length} bytes exceeds the ${this.#maxLength} byte limit`)
      }
      if (this.#buffer.byteLength < headerLength + length) return
      const frame = this.#buffer.sublist(headerLength, headerLength + length)
      this.#buffer.consume(headerLength + length)
      yield frame
    }
  }
}
