import { Uint8ArrayList } from 'uint8arraylist'
import { MalformedMessageError, MessageTooLargeError } from './errors.js'

/** Frames are an unsigned LEB128 varint length followed by that many bytes. */
export function encodeFrame (payload: Uint8Array): Uint8ArrayList {
  const header: number[] = []
  let n = payload.byteLength
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    header.push(b)
  } while (n > 0)
  return new Uint8ArrayList(Uint8Array.from(header), payload)
}

/**
 * Splits a byte stream into frames. A declared length above `maxLength` is
 * refused before any of its bytes are buffered.
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
      let length = 0
      let shift = 1
      let headerLength = 0
      let complete = false
      for (let i = 0; i < this.#buffer.byteLength; i++) {
        const b = this.#buffer.get(i)
        length += (b & 0x7f) * shift
        shift *= 128
        headerLength++
        if ((b & 0x80) === 0) {
          complete = true
          break
        }
        if (headerLength >= 5) {
          throw new MalformedMessageError('frame length varint is longer than 5 bytes')
        }
      }
      if (!complete) return
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
