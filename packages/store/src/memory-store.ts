import { Bitfield, digestFromHash, pieceRange } from '@damselfly/protocol'
import { BlobUse } from './blob-use.js'
import { BlobRemovedError, DigestMismatchError, DiskFullError, LayoutMismatchError, PieceNotHeldError } from './errors.js'
import { ManifestHashes } from './manifest-hashes.js'
import { checkManifestParts, checkPieceHash, hashToCheck, pieceChunks } from './piece-checks.js'
import { PieceWaiters } from './piece-waiters.js'
import type { BlobHandle, BlobSummary, FinalizeOptions, PieceStore, WritePieceOptions } from './index.js'
import type { BlobDigest, BlobLayout, ManifestPart, VerifiedManifestPart } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface MemoryPieceStoreInit {
  /**
   * Bytes of blobs held at once, complete or partial (a partial blob counts
   * at its full size). A new blob that does not fit first makes room by
   * removing blobs nobody is using, least recently used first; when that is
   * not enough it is refused with DiskFullError.
   * @default 1 GiB
   */
  maxBytes?: number
}

const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024

/** Slices a complete blob is streamed in. */
const STREAM_CHUNK = 1024 * 1024

/**
 * A PieceStore in memory, for a peer with no file system (a browser): each
 * blob is one buffer of its size, pieces written into it once verified.
 * Hashes are WebCrypto's, so it runs wherever `crypto.subtle` does.
 */
export function createMemoryPieceStore (init: MemoryPieceStoreInit = {}): PieceStore {
  return new MemoryPieceStore(init.maxBytes ?? DEFAULT_MAX_BYTES)
}

async function sha256 (data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>))
}

/** One piece's bytes as a single array, checked for length: a piece received in several chunks is joined once. */
function pieceBytes (digest: BlobDigest, layout: BlobLayout, index: number, data: Uint8Array | Uint8ArrayList): Uint8Array {
  const chunks = pieceChunks(digest, layout, index, data)
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(data.byteLength)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

class MemoryPieceStore implements PieceStore {
  readonly #maxBytes: number
  readonly #blobs = new Map<BlobDigest, MemoryBlob>()
  readonly #opening = new Map<BlobDigest, Promise<MemoryBlob>>()
  readonly #use = new BlobUse()

  constructor (maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  list (): BlobSummary[] {
    return [...this.#blobs.values()].map(blob => ({
      digest: blob.digest,
      layout: blob.layout,
      held: blob.bitfield.count,
      complete: blob.complete,
      lastUsed: this.#use.lastUsed.get(blob.digest) ?? 0,
      inUse: this.#use.inUse(blob.digest)
    }))
  }

  get (digest: BlobDigest): BlobHandle | undefined {
    return this.#blobs.get(digest)
  }

  async open (digest: BlobDigest, layout: BlobLayout, options: AbortOptions = {}): Promise<BlobHandle> {
    const existing = this.#blobs.get(digest) ?? await this.#opening.get(digest)
    if (existing != null) {
      if (existing.layout.size !== layout.size || existing.layout.pieceSize !== layout.pieceSize) {
        throw new LayoutMismatchError(`${digest} is held as ${existing.layout.size} bytes in pieces of ${existing.layout.pieceSize}, not ${layout.size} in pieces of ${layout.pieceSize}`)
      }
      return existing
    }
    options.signal?.throwIfAborted()
    const opening = this.#admit(digest, layout)
    this.#opening.set(digest, opening)
    try {
      return await opening
    } finally {
      this.#opening.delete(digest)
    }
  }

  async #admit (digest: BlobDigest, layout: BlobLayout): Promise<MemoryBlob> {
    if (layout.size > this.#maxBytes) {
      throw new DiskFullError(`${digest} is ${layout.size} bytes, more than the ${this.#maxBytes} this peer keeps in memory`)
    }
    await this.collect(this.#maxBytes - layout.size)
    if (this.usage() + layout.size > this.#maxBytes) {
      throw new DiskFullError(`no room for ${digest} (${layout.size} bytes): ${this.usage()} of ${this.#maxBytes} bytes are held by blobs in use`)
    }
    const blob = new MemoryBlob(digest, layout)
    this.#blobs.set(digest, blob)
    this.#use.lastUsed.set(digest, Date.now())
    return blob
  }

  async remove (digest: BlobDigest): Promise<void> {
    const blob = this.#blobs.get(digest)
    if (blob == null) return
    this.#blobs.delete(digest)
    this.#use.lastUsed.delete(digest)
    blob.destroy(new BlobRemovedError(`${digest} was removed`))
  }

  hold (digest: BlobDigest): () => void {
    return this.#use.hold(digest, () => {
      if (this.#blobs.has(digest)) this.#use.lastUsed.set(digest, Date.now())
    })
  }

  usage (): number {
    let total = 0
    for (const blob of this.#blobs.values()) total += blob.layout.size
    return total
  }

  async collect (maxBytes: number): Promise<BlobDigest[]> {
    const blobs = this.list().map(b => ({ digest: b.digest, size: b.layout.size }))
    return this.#use.collect(blobs, this.usage(), maxBytes, async digest => {
      if (!this.#blobs.has(digest)) return false
      await this.remove(digest)
      return true
    })
  }

  async close (): Promise<void> {
    for (const digest of [...this.#blobs.keys()]) await this.remove(digest)
  }
}

class MemoryBlob extends EventTarget implements BlobHandle {
  readonly digest: BlobDigest
  readonly layout: BlobLayout
  readonly bitfield: Bitfield
  #data: Uint8Array
  readonly #hashes: ManifestHashes
  #complete = false
  #gone: Error | undefined
  readonly #waiters = new PieceWaiters()
  #finalizing: Promise<void> | undefined

  constructor (digest: BlobDigest, layout: BlobLayout) {
    super()
    this.digest = digest
    this.layout = layout
    this.bitfield = new Bitfield(layout.pieces)
    this.#data = new Uint8Array(layout.size)
    this.#hashes = new ManifestHashes(layout.pieces)
  }

  get complete (): boolean {
    return this.#complete
  }

  pieceHash (index: number): Uint8Array | undefined {
    return this.#hashes.get(index)
  }

  async addManifestParts (parts: VerifiedManifestPart[]): Promise<number> {
    this.#checkUsable()
    checkManifestParts(this.digest, this.layout, parts)
    let added = 0
    for (const part of parts) added += this.#hashes.add(part).added
    if (added > 0) this.dispatchEvent(new CustomEvent('hashes', { detail: added }))
    return added
  }

  manifestParts (): ManifestPart[] {
    return this.#hashes.parts()
  }

  manifestPartFor (index: number): ManifestPart | undefined {
    return this.#hashes.partFor(index)
  }

  manifestSigners (): string[] {
    return this.#hashes.signers()
  }

  async writePiece (index: number, data: Uint8Array | Uint8ArrayList, options: WritePieceOptions = {}): Promise<void> {
    this.#checkUsable()
    const bytes = pieceBytes(this.digest, this.layout, index, data)
    const expected = hashToCheck(this.digest, index, this.#hashes.get(index), options.expected, this.#held(index))
    if (expected == null) return
    checkPieceHash(this.digest, index, await sha256(bytes), expected)
    options.signal?.throwIfAborted()
    this.#store(index, bytes)
  }

  async writeOriginPiece (index: number, data: Uint8Array | Uint8ArrayList, options: AbortOptions = {}): Promise<Uint8Array> {
    this.#checkUsable()
    const bytes = pieceBytes(this.digest, this.layout, index, data)
    const hash = await sha256(bytes)
    options.signal?.throwIfAborted()
    this.#store(index, bytes)
    return hash
  }

  async readPiece (index: number, options: AbortOptions = {}): Promise<Uint8Array> {
    this.#checkUsable()
    options.signal?.throwIfAborted()
    const { offset, length } = pieceRange(this.layout.size, this.layout.pieceSize, index)
    if (!this.#held(index)) throw new PieceNotHeldError(`piece ${index} of ${this.digest} is not held`)
    // a copy: the caller may change it, and the blob is what others are served
    return this.#data.slice(offset, offset + length)
  }

  async read (offset: number, length: number, options: AbortOptions = {}): Promise<Uint8Array> {
    this.#checkUsable()
    options.signal?.throwIfAborted()
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.layout.size) {
      throw new RangeError(`bytes ${offset}..${offset + length} are outside ${this.digest} of ${this.layout.size} bytes`)
    }
    if (length === 0) return new Uint8Array(0)
    const first = Math.floor(offset / this.layout.pieceSize)
    const last = Math.floor((offset + length - 1) / this.layout.pieceSize)
    for (let index = first; index <= last; index++) {
      if (!this.#held(index)) throw new PieceNotHeldError(`piece ${index} of ${this.digest} is not held`)
    }
    return this.#data.slice(offset, offset + length)
  }

  stream (start: number, end: number, options: AbortOptions = {}): AsyncIterable<Uint8Array> {
    this.#checkUsable()
    if (!this.#complete) throw new PieceNotHeldError(`${this.digest} is not complete`)
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > this.layout.size || start > end) {
      throw new RangeError(`bytes ${start}..${end} are outside ${this.digest} of ${this.layout.size} bytes`)
    }
    const data = this.#data
    return (async function * () {
      for (let at = start; at < end; at += STREAM_CHUNK) {
        options.signal?.throwIfAborted()
        yield data.slice(at, Math.min(end, at + STREAM_CHUNK))
      }
    })()
  }

  async waitForPiece (index: number, options: AbortOptions = {}): Promise<void> {
    pieceRange(this.layout.size, this.layout.pieceSize, index)
    this.#checkUsable()
    if (this.#held(index)) return
    await this.#waiters.wait(index, options)
  }

  async finalize (options: FinalizeOptions = {}): Promise<void> {
    if (this.#complete) return
    this.#checkUsable()
    this.#finalizing ??= this.#finalize(options).finally(() => { this.#finalizing = undefined })
    await this.#finalizing
  }

  async #finalize (options: FinalizeOptions): Promise<void> {
    if (this.bitfield.count !== this.layout.pieces) {
      throw new PieceNotHeldError(`cannot finalize ${this.digest}: ${this.bitfield.count} of ${this.layout.pieces} pieces held`)
    }
    options.signal?.throwIfAborted()
    const actual = digestFromHash(await sha256(this.#data))
    this.#checkUsable()
    if (actual !== this.digest) {
      this.destroy(new BlobRemovedError(`${this.digest} was removed: its content is ${actual}`))
      throw new DigestMismatchError(`blob content is ${actual}, expected ${this.digest}`, actual)
    }
    options.onVerified?.()
    this.#complete = true
    this.dispatchEvent(new CustomEvent('complete'))
  }

  /** The blob is gone: every later call and every wait fails with `reason`. */
  destroy (reason: Error): void {
    if (this.#gone != null) return
    this.#gone = reason
    this.#data = new Uint8Array(0)
    this.#waiters.rejectAll(reason)
  }

  #store (index: number, bytes: Uint8Array): void {
    this.#checkUsable()
    if (this.#held(index)) return
    this.#data.set(bytes, index * this.layout.pieceSize)
    this.bitfield.set(index)
    this.#waiters.held(index)
    this.dispatchEvent(new CustomEvent('piece', { detail: index }))
  }

  #checkUsable (): void {
    if (this.#gone != null) throw this.#gone
  }

  #held (index: number): boolean {
    return this.#complete || this.bitfield.has(index)
  }

}
