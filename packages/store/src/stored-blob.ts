import { createHash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { createReadStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Bitfield, MAX_PIECE_STREAMS, digestFromHash, digestHex, pieceRange } from '@damselfly/protocol'
import { HASH_CHUNK_SIZE, TEMP_PREFIX } from './constants.js'
import { BlobRemovedError, DigestMismatchError, PieceNotHeldError } from './errors.js'
import { hashInto, readFully, sha256, syncDir, toPlain, writeFully } from './file-io.js'
import { encodeManifestFrames } from './manifest-file.js'
import { checkManifestParts, checkPieceHash, hashToCheck, pieceChunks } from './piece-checks.js'
import { PieceWaiters } from './piece-waiters.js'
import type { BlobHandle, WritePieceOptions, FinalizeOptions } from './index.js'
import type { ManifestHashes } from './manifest-hashes.js'
import type { BlobPaths } from './paths.js'
import type { BlobDigest, BlobLayout, ManifestPart, VerifiedManifestPart } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface StoredBlobInit {
  digest: BlobDigest
  layout: BlobLayout
  paths: BlobPaths
  hashes: ManifestHashes
  /** Verified pieces held; ignored for a complete blob. */
  bitfield?: Bitfield
  /** Open data and bitfield files of a partial blob; a complete blob has none. */
  files?: { data: FileHandle, bitfield: FileHandle }
  /** Called once the blob is removed, to drop it from the store. */
  onRemoved(blob: StoredBlob): void
}

/** A blob being written is synced in the background after this many bytes (see #syncInBackground). */
const SYNC_EVERY = 16 * 1024 * 1024

/**
 * One blob on disk. A partial blob lives in `partial/<hex>/`; pieces are
 * written in place in `data` and only then marked in `bitfield`, so a bit
 * never names bytes that were not written. `finalize` moves the data to
 * `blobs/sha256/<hex>` once the whole digest verifies.
 */
export class StoredBlob extends EventTarget implements BlobHandle {
  readonly digest: BlobDigest
  readonly layout: BlobLayout
  readonly bitfield: Bitfield
  readonly #paths: BlobPaths
  readonly #hashes: ManifestHashes
  readonly #onRemoved: (blob: StoredBlob) => void
  #complete: boolean
  #data?: Promise<FileHandle>
  #bitfieldFile?: FileHandle
  /** A partial blob's manifest file, open for appending: a seed adds a part per piece, and so does each peer that gets it. */
  #manifestFile?: FileHandle
  /** Set once the blob was removed or the store closed; every later call fails with it. */
  #gone?: Error
  readonly #writing = new Map<number, Promise<void>>()
  readonly #waiters = new PieceWaiters()
  /** Bitfield bytes are written one after another, each with the byte's latest value. */
  #bitfieldWrites: Promise<void> = Promise.resolve()
  /** Orders manifest appends, finalize and removal. */
  #lock: Promise<void> = Promise.resolve()
  #finalizing?: Promise<void>
  /**
   * The whole digest, running: pieces [0, #digestNext) are in it, each fed
   * from memory when it is written in order, or read back from the data
   * file when it arrived ahead of a gap (#digestCatchUp). Finalize then only
   * hashes what is left, instead of reading the whole blob back at the end,
   * where every byte of a streamed pull waited for it.
   */
  #digestHash?: Hash
  #digestNext = 0
  #digestCatchUp?: Promise<void>
  /** A read failed part-way into the running digest, or finalize used it up: finalize hashes the whole file. */
  #digestSpent = false
  /** Bytes written since the last background datasync began. */
  #unsynced = 0
  #syncing?: Promise<void>

  constructor (init: StoredBlobInit) {
    super()
    // every upload session and every reader of the blob listens for its
    // pieces: a popular blob has more than Node's default of 10 (a warning
    // about a leak that is not one), as many as the piece protocol's streams
    setMaxListeners(MAX_PIECE_STREAMS, this)
    this.digest = init.digest
    this.layout = init.layout
    this.#paths = init.paths
    this.#hashes = init.hashes
    this.#onRemoved = init.onRemoved
    this.#complete = init.files == null
    if (init.files != null) {
      this.bitfield = init.bitfield ?? new Bitfield(init.layout.pieces)
      this.#data = Promise.resolve(init.files.data)
      this.#bitfieldFile = init.files.bitfield
      this.#digestHash = createHash('sha256')
    } else {
      this.bitfield = fullBitfield(init.layout.pieces)
    }
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
    const keep: ManifestPart[] = []
    for (const part of parts) {
      const result = this.#hashes.add(part)
      added += result.added
      if (result.keep) keep.push(part.part)
    }
    if (keep.length > 0) {
      await this.#exclusive(async () => {
        this.#checkUsable()
        if (!this.#complete) {
          this.#manifestFile ??= await open(this.#paths.partialManifest, 'a')
          await this.#unlessGone(this.#manifestFile.appendFile(encodeManifestFrames(keep)))
          return
        }
        const file = await open(this.#paths.completeManifest, 'a')
        try {
          await file.appendFile(encodeManifestFrames(keep))
        } finally {
          await file.close()
        }
      })
    }
    if (added > 0) this.dispatchEvent(new CustomEvent('hashes', { detail: added }))
    return added
  }

  manifestParts (): ManifestPart[] {
    return this.#hashes.parts()
  }

  manifestPartFor (index: number): ManifestPart | undefined {
    return this.#hashes.partFor(index)
  }

  async writePiece (index: number, data: Uint8Array | Uint8ArrayList, options: WritePieceOptions = {}): Promise<void> {
    this.#checkUsable()
    const chunks = pieceChunks(this.digest, this.layout, index, data)
    // an origin piece can be held before any manifest covers it
    const expected = hashToCheck(this.digest, index, this.#hashes.get(index), options.expected, this.#held(index))
    if (expected == null) return
    checkPieceHash(this.digest, index, sha256(chunks), expected)
    await this.#store(index, chunks, options)
  }

  manifestSigners (): string[] {
    return this.#hashes.signers()
  }

  async writeOriginPiece (index: number, data: Uint8Array | Uint8ArrayList, options: AbortOptions = {}): Promise<Uint8Array> {
    this.#checkUsable()
    const chunks = pieceChunks(this.digest, this.layout, index, data)
    const hash = sha256(chunks)
    await this.#store(index, chunks, options)
    return hash
  }

  async readPiece (index: number, options: AbortOptions = {}): Promise<Uint8Array> {
    this.#checkUsable()
    options.signal?.throwIfAborted()
    const { offset, length } = this.#range(index)
    if (!this.#held(index)) {
      throw new PieceNotHeldError(`piece ${index} of ${this.digest} is not held`)
    }
    const out = uninitialized(length)
    await this.#readAt(out, offset)
    return out
  }

  stream (start: number, end: number, options: AbortOptions = {}): AsyncIterable<Uint8Array> {
    this.#checkUsable()
    if (!this.#complete) throw new PieceNotHeldError(`${this.digest} is not complete`)
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > this.layout.size || start > end) {
      throw new RangeError(`bytes ${start}..${end} are outside ${this.digest} of ${this.layout.size} bytes`)
    }
    if (start === end) return (async function * () {})()
    return createReadStream(this.#paths.completeData, { start, end: end - 1, highWaterMark: 1024 * 1024, signal: options.signal })
  }

  async read (offset: number, length: number, options: AbortOptions = {}): Promise<Uint8Array> {
    this.#checkUsable()
    options.signal?.throwIfAborted()
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.layout.size) {
      throw new RangeError(`bytes ${offset}..${offset + length} are outside ${this.digest} of ${this.layout.size} bytes`)
    }
    const out = uninitialized(length)
    if (length === 0) return out
    const first = Math.floor(offset / this.layout.pieceSize)
    const last = Math.floor((offset + length - 1) / this.layout.pieceSize)
    for (let index = first; index <= last; index++) {
      if (!this.#held(index)) {
        throw new PieceNotHeldError(`piece ${index} of ${this.digest} is not held`)
      }
    }
    await this.#readAt(out, offset)
    return out
  }

  async waitForPiece (index: number, options: AbortOptions = {}): Promise<void> {
    this.#range(index)
    this.#checkUsable()
    if (this.#held(index)) return
    await this.#waiters.wait(index, options)
  }

  async finalize (options: FinalizeOptions = {}): Promise<void> {
    if (this.#complete) return
    this.#checkUsable()
    this.#finalizing ??= this.#exclusive(async () => { await this.#finalize(options) })
      .finally(() => { this.#finalizing = undefined })
    await this.#finalizing
  }

  /** Delete the blob's files; pending waits fail with BlobRemovedError. */
  async remove (): Promise<void> {
    await this.#exclusive(async () => {
      await this.#destroy(new BlobRemovedError(`${this.digest} was removed`))
    })
  }

  /** Close the blob's files, keeping them on disk. */
  async close (): Promise<void> {
    if (this.#gone != null) return
    this.#gone = new BlobRemovedError(`${this.digest} is no longer available: the piece store was closed`)
    this.#waiters.rejectAll(this.#gone)
    await this.#closeFiles()
  }

  /** A piece was just written and marked: into the running digest if it is next in line. */
  #feedDigest (index: number, chunks: Uint8Array[]): void {
    const hash = this.#digestHash
    if (hash == null || this.#digestSpent) return
    if (index === this.#digestNext && this.#digestCatchUp == null) {
      for (const chunk of chunks) hash.update(chunk)
      this.#digestNext++
    }
    if (this.bitfield.has(this.#digestNext)) this.#catchUpDigest(hash)
  }

  /** Feed the running digest the held pieces that follow it, read back from the data file. */
  #catchUpDigest (hash: Hash): void {
    if (this.#digestCatchUp != null) return
    this.#digestCatchUp = (async () => {
      const data = await this.#dataFile()
      // one read buffer for the run, not one per piece
      const buffer = new Uint8Array(Math.max(1, Math.min(HASH_CHUNK_SIZE, this.layout.pieceSize, this.layout.size)))
      while (this.#digestNext < this.layout.pieces && this.bitfield.has(this.#digestNext) && this.#gone == null && !this.#digestSpent) {
        const { offset, length } = pieceRange(this.layout.size, this.layout.pieceSize, this.#digestNext)
        await hashInto(hash, data, offset, length, { buffer })
        this.#digestNext++
      }
    })()
      // part of a piece may have gone in: finalize hashes the whole file instead
      .catch(() => { this.#digestSpent = true })
      .finally(() => { this.#digestCatchUp = undefined })
  }

  async #finalize (options: FinalizeOptions): Promise<void> {
    if (this.#complete) return
    // a piece whose bytes are written may still have its bit on the way to disk
    await Promise.allSettled(this.#writing.values())
    await this.#bitfieldWrites
    this.#checkUsable()
    if (!this.bitfield.complete) {
      throw new PieceNotHeldError(`cannot finalize ${this.digest}: ${this.bitfield.count} of ${this.layout.pieces} pieces held`)
    }
    const data = await this.#dataFile()
    while (this.#digestCatchUp != null) await this.#digestCatchUp
    if (this.#digestHash == null || this.#digestSpent) {
      this.#digestHash = createHash('sha256')
      this.#digestNext = 0
    }
    const hash = this.#digestHash
    // a Hash gives its digest once: a finalize that fails after this starts afresh
    this.#digestSpent = true
    // normally nothing is left: the pieces were fed as they came
    const from = Math.min(this.layout.size, this.#digestNext * this.layout.pieceSize)
    await this.#unlessGone(hashInto(hash, data, from, this.layout.size - from, options))
    const actual = digestFromHash(toPlain(hash.digest()))
    if (actual !== this.digest) {
      await this.#destroy(new BlobRemovedError(`${this.digest} was removed: its content did not match the digest`))
      throw new DigestMismatchError(`blob content is ${actual}, expected ${this.digest}`, actual)
    }
    options.onVerified?.()
    await this.#syncing
    await this.#unlessGone(data.sync())
    this.#checkUsable()

    // The manifest goes first and the data rename makes the blob complete. A
    // crash in between leaves an intact partial blob and an orphan manifest,
    // which the store removes when it starts.
    const completeDir = dirname(this.#paths.completeData)
    const temp = join(completeDir, `${TEMP_PREFIX}${digestHex(this.digest)}.manifest`)
    const manifest = await open(temp, 'w')
    try {
      await writeFully(manifest, [encodeManifestFrames(this.#hashes.parts())], 0)
      await manifest.sync()
    } finally {
      await manifest.close()
    }
    await rename(temp, this.#paths.completeManifest)
    // the open data file stays valid across the rename, so reads in flight carry on
    await rename(this.#paths.partialData, this.#paths.completeData)
    await syncDir(completeDir)
    this.#complete = true
    const bitfieldFile = this.#bitfieldFile
    const manifestFile = this.#manifestFile
    this.#bitfieldFile = undefined
    this.#manifestFile = undefined
    await Promise.allSettled([bitfieldFile?.close(), manifestFile?.close()])
    await rm(this.#paths.partialDir, { recursive: true, force: true })
    this.dispatchEvent(new CustomEvent('complete'))
  }

  async #destroy (reason: Error): Promise<void> {
    if (this.#gone == null) {
      this.#gone = reason
      this.#waiters.rejectAll(reason)
      await this.#closeFiles()
    }
    await rm(this.#paths.partialDir, { recursive: true, force: true })
    await rm(this.#paths.completeData, { force: true })
    await rm(this.#paths.completeManifest, { force: true })
    this.#onRemoved(this)
  }

  /** Write verified bytes in place, then persist the piece's bit. */
  async #store (index: number, chunks: Uint8Array[], options: AbortOptions): Promise<void> {
    if (this.#held(index)) return
    const inFlight = this.#writing.get(index)
    if (inFlight != null) {
      await inFlight
      return
    }
    options.signal?.throwIfAborted()
    const write = this.#writeAndMark(index, chunks)
    this.#writing.set(index, write)
    try {
      await write
    } finally {
      this.#writing.delete(index)
    }
  }

  async #writeAndMark (index: number, chunks: Uint8Array[]): Promise<void> {
    const data = await this.#dataFile()
    await this.#unlessGone(writeFully(data, chunks, index * this.layout.pieceSize))
    this.#checkUsable()
    this.bitfield.set(index)
    this.#feedDigest(index, chunks)
    this.#syncInBackground(data, this.#range(index).length)
    await this.#persistBit(index)
    this.#waiters.held(index)
    this.dispatchEvent(new CustomEvent('piece', { detail: index }))
  }

  /**
   * Write the data out while the download goes on, once SYNC_EVERY bytes
   * are dirty: finalize's sync then finds little left, instead of the
   * whole blob (about 0.4 s for 256 MiB here, a quarter of the transfer).
   */
  #syncInBackground (data: FileHandle, written: number): void {
    this.#unsynced += written
    if (this.#syncing != null || this.#unsynced < SYNC_EVERY) return
    this.#unsynced = 0
    // a failure shows again in finalize's own sync
    this.#syncing = data.datasync().catch(() => {}).finally(() => { this.#syncing = undefined })
  }

  async #persistBit (index: number): Promise<void> {
    const byteIndex = index >> 3
    const write = this.#bitfieldWrites.then(async () => {
      const file = this.#bitfieldFile
      if (file == null) {
        this.#checkUsable()
        return
      }
      // the byte's value when its turn comes, so the last write carries every bit set so far
      await this.#unlessGone(writeFully(file, [Uint8Array.of(this.bitfield.bytes[byteIndex] ?? 0)], byteIndex))
    })
    this.#bitfieldWrites = write.catch(() => {})
    await write
  }

  async #readAt (into: Uint8Array, offset: number): Promise<void> {
    const data = await this.#dataFile()
    await this.#unlessGone(readFully(data, into, offset))
  }

  /** The open data file; a complete blob opens it on first use. */
  async #dataFile (): Promise<FileHandle> {
    this.#checkUsable()
    if (this.#data == null) {
      const opening = open(this.#paths.completeData, 'r')
      this.#data = opening
      opening.catch(() => {
        if (this.#data === opening) this.#data = undefined
      })
    }
    return this.#unlessGone(this.#data)
  }

  async #closeFiles (): Promise<void> {
    const data = this.#data
    const bitfield = this.#bitfieldFile
    const manifest = this.#manifestFile
    this.#data = undefined
    this.#bitfieldFile = undefined
    this.#manifestFile = undefined
    // FileHandle.close waits for reads and writes in flight on the handle
    await Promise.allSettled([
      data?.then(async file => { await file.close() }),
      bitfield?.close(),
      manifest?.close()
    ])
  }

  /** Await an I/O step; when the blob went away meanwhile, fail with that reason rather than EBADF. */
  async #unlessGone<T> (step: Promise<T>): Promise<T> {
    try {
      return await step
    } catch (err) {
      throw this.#gone ?? err
    }
  }

  async #exclusive (fn: () => Promise<void>): Promise<void> {
    const previous = this.#lock
    let release!: () => void
    this.#lock = new Promise(resolve => { release = resolve })
    await previous
    try {
      await fn()
    } finally {
      release()
    }
  }

  #checkUsable (): void {
    if (this.#gone != null) throw this.#gone
  }

  #held (index: number): boolean {
    return this.#complete || this.bitfield.has(index)
  }

  #range (index: number): { offset: number, length: number } {
    return pieceRange(this.layout.size, this.layout.pieceSize, index)
  }

}

function fullBitfield (pieces: number): Bitfield {
  const bytes = new Uint8Array(Math.ceil(pieces / 8)).fill(0xff)
  const spare = bytes.byteLength * 8 - pieces
  if (spare > 0) bytes[bytes.byteLength - 1] = (0xff << spare) & 0xff
  return new Bitfield(pieces, bytes)
}

/** A Uint8Array of `length` bytes that is not zero-filled first: for reads that fill every byte or throw. */
function uninitialized (length: number): Uint8Array {
  const b = Buffer.allocUnsafe(length)
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}
