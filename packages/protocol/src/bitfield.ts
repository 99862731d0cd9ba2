import { MAX_PIECES } from './constants.js'
import { MalformedMessageError } from './errors.js'

/** One bit per piece; bit i is the MSB-first bit (7 - i % 8) of byte i / 8. */
export class Bitfield {
  readonly length: number
  readonly bytes: Uint8Array
  #count = 0

  constructor (length: number, bytes?: Uint8Array) {
    if (!Number.isInteger(length) || length < 0 || length > MAX_PIECES) {
      throw new MalformedMessageError(`bitfield length ${length} is outside 0..${MAX_PIECES}`)
    }
    this.length = length
    const byteLength = Math.ceil(length / 8)
    if (bytes == null) {
      this.bytes = new Uint8Array(byteLength)
      return
    }
    if (bytes.byteLength !== byteLength) {
      throw new MalformedMessageError(`bitfield of ${length} pieces must be ${byteLength} bytes, got ${bytes.byteLength}`)
    }
    const spare = byteLength * 8 - length
    if (spare > 0 && ((bytes[byteLength - 1] ?? 0) & ((1 << spare) - 1)) !== 0) {
      throw new MalformedMessageError('bitfield has bits set past its last piece')
    }
    this.bytes = Uint8Array.from(bytes)
    for (let i = 0; i < length; i++) {
      if (this.has(i)) this.#count++
    }
  }

  has (index: number): boolean {
    if (index < 0 || index >= this.length) return false
    return (((this.bytes[index >> 3] ?? 0) >> (7 - (index & 7))) & 1) === 1
  }

  set (index: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`piece ${index} is outside 0..${this.length - 1}`)
    }
    if (this.has(index)) return false
    this.bytes[index >> 3] = (this.bytes[index >> 3] ?? 0) | (1 << (7 - (index & 7)))
    this.#count++
    return true
  }

  /** Number of pieces set. */
  get count (): number {
    return this.#count
  }

  get complete (): boolean {
    return this.#count === this.length
  }

  * indices (): Generator<number> {
    for (let i = 0; i < this.length; i++) {
      if (this.has(i)) yield i
    }
  }
}
