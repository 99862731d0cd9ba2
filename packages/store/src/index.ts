/**
 * @packageDocumentation
 *
 * On-disk content for Damselfly: each blob is a data file written piece by
 * piece in place, a persisted bitfield of verified pieces, and the signed
 * manifest parts that say what each piece must hash to. A blob becomes
 * complete only after its whole digest is verified; after a crash, a partial
 * blob resumes from the pieces that re-verify, never from unverified bytes.
 */

import type { Bitfield, BlobDigest, BlobLayout, ManifestPart, VerifiedManifestPart } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export { createPieceStore } from './piece-store.js'
export * from './errors.js'

export interface PieceStoreInit {
  /** Directory holding all blobs; created when missing. */
  dataDir: string
  /**
   * No new blob is admitted while the file system holding `dataDir` is
   * fuller than this fraction, or when the blob would not fit in what is
   * free: a full disk fails a pull at once with DiskFullError, before any
   * byte is fetched, instead of half-way with ENOSPC. 1 turns it off.
   * @default 0.95
   */
  diskGuard?: number
}

export interface BlobSummary {
  digest: BlobDigest
  layout: BlobLayout
  /** Verified pieces held. */
  held: number
  complete: boolean
  /** When it was created or a hold on it last ended (ms since the epoch); survives a restart through the data file's mtime. */
  lastUsed: number
  /** True while something holds it (see PieceStore.hold). */
  inUse: boolean
}

export interface PieceStore {
  /**
   * Every blob on disk, complete or partial. Partial blobs found at start
   * were re-verified piece by piece when the store was created.
   */
  list(): BlobSummary[]

  /** The blob's handle when it is on disk (complete or partial). */
  get(digest: BlobDigest): BlobHandle | undefined

  /**
   * The handle of a blob, created as an empty partial blob when absent.
   * Throws LayoutMismatchError when the blob exists with another size or
   * piece size, and DiskFullError when a new blob is refused (see diskGuard).
   */
  open(digest: BlobDigest, layout: BlobLayout, options?: AbortOptions): Promise<BlobHandle>

  /** Delete a blob (complete or partial) and its files. */
  remove(digest: BlobDigest): Promise<void>

  /**
   * Mark a blob as in use (being downloaded, served to a client or uploaded
   * to a peer) until the returned function is called: collect() never
   * removes it meanwhile. The blob need not exist yet. Holds nest.
   */
  hold(digest: BlobDigest): () => void

  /** Bytes of every blob on disk, complete or partial (a partial blob counts at its full size). */
  usage(): number

  /**
   * Remove blobs not in use, least recently used first, until usage() is at
   * most `maxBytes` or nothing removable is left. Returns what was removed.
   */
  collect(maxBytes: number): Promise<BlobDigest[]>

  /** Close every open file. */
  close(): Promise<void>
}

export interface WritePieceOptions extends AbortOptions {
  /** Check the piece against this hash: the word of the parent it came from, before its part is kept. */
  expected?: Uint8Array
}

export interface FinalizeOptions extends AbortOptions {
  /** Called once the whole digest is verified, before the data is synced and moved into place. */
  onVerified?(): void
}

export interface BlobHandleEvents {
  /** A piece was verified and written; detail is its index. */
  piece: CustomEvent<number>
  /** New piece hashes became known (manifest parts added); detail is how many. */
  hashes: CustomEvent<number>
  /** The whole digest was verified and the blob is complete. */
  complete: CustomEvent<void>
}

export interface BlobHandle extends EventTarget {
  readonly digest: BlobDigest
  readonly layout: BlobLayout
  /** Verified pieces held (read it, do not change it). */
  readonly bitfield: Bitfield
  readonly complete: boolean

  /** The expected sha256 of a piece, once a manifest part covering it is known. */
  pieceHash(index: number): Uint8Array | undefined

  /**
   * Remember verified manifest parts (persisted). A hash that conflicts with one
   * already known is ignored, first one wins. Returns how many piece hashes were new.
   */
  addManifestParts(parts: VerifiedManifestPart[]): Promise<number>

  /** Manifest parts, as received or signed, that together cover every hash known; forwarded to children. */
  manifestParts(): ManifestPart[]

  /** A part covering the piece's hash (the whole manifest when known), to forward with it. */
  manifestPartFor(index: number): ManifestPart | undefined

  /**
   * Verify a piece's sha256 against its manifest hash (or `options.expected`,
   * which must not contradict a known one), then write it and mark it held.
   * Throws PieceVerificationError (nothing written) on a mismatch and
   * MissingPieceHashError when no hash is known for the piece yet.
   * Writing a piece already held is a no-op.
   */
  writePiece(index: number, data: Uint8Array | Uint8ArrayList, options?: WritePieceOptions): Promise<void>

  /** Peer ids of the signers of the manifest parts whose hashes are known. */
  manifestSigners(): string[]

  /**
   * Write a piece that came from the blob's origin (no manifest hash exists
   * yet); returns its sha256 so the caller can sign a manifest part.
   */
  writeOriginPiece(index: number, data: Uint8Array | Uint8ArrayList, options?: AbortOptions): Promise<Uint8Array>

  /** Read a held piece. Throws PieceNotHeldError when it is not held. */
  readPiece(index: number, options?: AbortOptions): Promise<Uint8Array>

  /** Read `length` bytes at `offset` from held pieces into a new buffer. */
  read(offset: number, length: number, options?: AbortOptions): Promise<Uint8Array>

  /**
   * Bytes [start, end) of a complete blob as a file stream (1 MiB chunks,
   * read ahead like any Node file stream). Throws when the blob is not complete.
   */
  stream(start: number, end: number, options?: AbortOptions): AsyncIterable<Uint8Array>

  /** Resolves when the piece is held; rejects if the signal aborts or the blob is removed. */
  waitForPiece(index: number, options?: AbortOptions): Promise<void>

  /**
   * With every piece held: verify the whole digest by re-reading the data,
   * then atomically mark the blob complete. On a mismatch the blob is removed
   * and DigestMismatchError (naming the digest actually found) is thrown.
   */
  finalize(options?: FinalizeOptions): Promise<void>
}
