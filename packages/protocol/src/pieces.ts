import { MAX_BLOB_SIZE, MAX_PIECE_SIZE, MAX_PIECES, MIN_PIECE_SIZE, MIN_RANGED_PIECE_SIZE, TARGET_PIECES } from './constants.js'
import { BlobTooLargeError } from './errors.js'

/**
 * The piece size of a blob: size / TARGET_PIECES rounded up to a power of
 * two, clamped to MIN_PIECE_SIZE..MAX_PIECE_SIZE. Every implementation must
 * compute the same value; it is also carried in each manifest part.
 */
export function pieceSizeFor (size: bigint | number): number {
  return ruledPieceSize(size, MIN_PIECE_SIZE)
}

/**
 * The piece size of a blob whose first pull from its origin was ranged (a
 * lazy-loading client's): the same rule with MIN_RANGED_PIECE_SIZE as the
 * smallest piece, so that reads of a few KiB cost a small piece; the two
 * agree from 2 GiB on.
 */
export function rangedPieceSizeFor (size: bigint | number): number {
  return ruledPieceSize(size, MIN_RANGED_PIECE_SIZE)
}

function ruledPieceSize (size: bigint | number, min: number): number {
  const s = BigInt(size)
  if (s < 0n) {
    throw new RangeError('blob size must not be negative')
  }
  if (s > MAX_BLOB_SIZE) {
    throw new BlobTooLargeError(`blob of ${s} bytes is larger than the ${MAX_BLOB_SIZE} bytes the protocol supports`)
  }
  const target = (s + BigInt(TARGET_PIECES) - 1n) / BigInt(TARGET_PIECES)
  let piece = BigInt(min)
  while (piece < target && piece < BigInt(MAX_PIECE_SIZE)) {
    piece *= 2n
  }
  return Number(piece)
}

/** Number of pieces of a blob (an empty blob has none). */
export function pieceCount (size: bigint | number, pieceSize: number): number {
  const s = BigInt(size)
  const n = (s + BigInt(pieceSize) - 1n) / BigInt(pieceSize)
  if (n > BigInt(MAX_PIECES)) {
    throw new BlobTooLargeError(`blob of ${s} bytes would need ${n} pieces of ${pieceSize} bytes; at most ${MAX_PIECES} are allowed`)
  }
  return Number(n)
}

/** Byte offset and length of one piece. */
export function pieceRange (size: bigint | number, pieceSize: number, index: number): { offset: number, length: number } {
  const s = Number(size)
  const offset = index * pieceSize
  if (!Number.isInteger(index) || index < 0 || offset >= s) {
    throw new RangeError(`piece ${index} is outside a blob of ${s} bytes`)
  }
  return { offset, length: Math.min(pieceSize, s - offset) }
}

/** Geometry of a blob: everything piece math needs. */
export interface BlobLayout {
  size: number
  pieceSize: number
  pieces: number
}

export function layoutFor (size: bigint | number, pieceSize?: number): BlobLayout {
  const ps = pieceSize ?? pieceSizeFor(size)
  if (!Number.isInteger(ps) || ps < 1 || ps > MAX_PIECE_SIZE) {
    throw new RangeError(`piece size ${ps} is outside 1..${MAX_PIECE_SIZE}`)
  }
  const s = Number(size)
  if (!Number.isSafeInteger(s)) {
    throw new BlobTooLargeError(`blob size ${size} is not a safe integer`)
  }
  return { size: s, pieceSize: ps, pieces: pieceCount(size, ps) }
}
