/**
 * Reusable buffers for pieces on their way from a parent to the disk.
 *
 * A piece arrives as many small chunks (TLS records, Yamux frames) over tens
 * of milliseconds. Kept as they are until the piece is whole, verified and
 * written, those chunks outlive a young-generation GC or two, are promoted,
 * and wait for the next full GC: streaming a big blob, tens of MiB of them
 * pile up at any moment, and the process's RSS with them. Copied into a
 * piece buffer as they arrive, they die young, and the piece buffer goes
 * back here once the piece is written.
 *
 * A buffer that is never released is simply collected: releasing is an
 * optimisation, never a duty. Releasing one still in use would hand its
 * bytes to the next piece, so only the buffer's single owner releases it,
 * once nothing reads it any more.
 */
export class BufferPool {
  readonly #free = new Map<number, ArrayBuffer[]>()
  readonly #lent = new WeakSet<ArrayBuffer>()
  readonly #maxFreeBytes: number
  #freeBytes = 0

  /** `maxFreeBytes`: buffers kept for reuse beyond it are left to the GC. */
  constructor (maxFreeBytes: number) {
    this.#maxFreeBytes = maxFreeBytes
  }

  /** Bytes held for reuse. */
  get freeBytes (): number {
    return this.#freeBytes
  }

  /** A buffer of `length` bytes inside one of `capacity` bytes (pieces of a blob share one capacity). Its contents are stale. */
  acquire (capacity: number, length: number = capacity): Uint8Array {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || length < 0 || length > capacity) {
      throw new RangeError(`cannot lend ${length} bytes from a buffer of ${capacity}`)
    }
    const list = this.#free.get(capacity)
    let buffer = list?.pop()
    if (buffer != null) {
      this.#freeBytes -= capacity
    } else {
      buffer = new ArrayBuffer(capacity)
    }
    this.#lent.add(buffer)
    return new Uint8Array(buffer, 0, length)
  }

  /** Back for reuse: the caller promises nothing reads or writes `view` (or any view of its buffer) from now on. */
  release (view: Uint8Array): void {
    const buffer = view.buffer
    if (!(buffer instanceof ArrayBuffer) || !this.#lent.has(buffer)) return
    this.#lent.delete(buffer)
    if (this.#freeBytes + buffer.byteLength > this.#maxFreeBytes) return
    let list = this.#free.get(buffer.byteLength)
    if (list == null) {
      list = []
      this.#free.set(buffer.byteLength, list)
    }
    list.push(buffer)
    this.#freeBytes += buffer.byteLength
  }
}
