import { InvalidManifestError, pieceRange } from '@damselfly/protocol'
import { equalBytes, hex } from './bytes.js'
import { LayoutMismatchError, MissingPieceHashError, PieceVerificationError } from './errors.js'
import type { BlobDigest, BlobLayout, VerifiedManifestPart } from '@damselfly/protocol'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The checks every store makes, whatever holds the bytes. */

/** Throws unless every part is about this blob, at its size and piece size. */
export function checkManifestParts (digest: BlobDigest, layout: BlobLayout, parts: VerifiedManifestPart[]): void {
  for (const part of parts) {
    if (part.digest !== digest) {
      throw new InvalidManifestError(`manifest part is for ${part.digest}, not ${digest}`)
    }
    if (part.size !== layout.size || part.pieceSize !== layout.pieceSize) {
      throw new LayoutMismatchError(`manifest part describes ${part.size} bytes in pieces of ${part.pieceSize}; ${digest} is ${layout.size} bytes in pieces of ${layout.pieceSize}`)
    }
  }
}

/** A piece's bytes as chunks; throws PieceVerificationError unless they are exactly the piece's length. */
export function pieceChunks (digest: BlobDigest, layout: BlobLayout, index: number, data: Uint8Array | Uint8ArrayList): Uint8Array[] {
  const { length } = pieceRange(layout.size, layout.pieceSize, index)
  const chunks = data instanceof Uint8Array ? [data] : [...data]
  const received = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)
  if (received !== length) {
    throw new PieceVerificationError(`piece ${index} of ${digest} must be ${length} bytes, got ${received}`)
  }
  return chunks
}

/**
 * The hash a piece must have: `expected` (its parent's word) or the one its
 * manifest holds, which must not contradict each other. Undefined for a held
 * piece that no hash covers (an origin piece): writing it again is a no-op.
 * Throws MissingPieceHashError when there is none for a piece not held.
 */
export function hashToCheck (digest: BlobDigest, index: number, known: Uint8Array | undefined, expected: Uint8Array | undefined, held: boolean): Uint8Array | undefined {
  const wanted = expected ?? known
  if (wanted == null) {
    if (held) return undefined
    throw new MissingPieceHashError(`no manifest part covers piece ${index} of ${digest} yet`)
  }
  if (known != null && !equalBytes(known, wanted)) {
    throw new PieceVerificationError(`piece ${index} of ${digest}: the hash it is checked against is not the one its manifest holds`)
  }
  return wanted
}

/** Throws PieceVerificationError unless the piece hashed to what it had to. */
export function checkPieceHash (digest: BlobDigest, index: number, actual: Uint8Array, expected: Uint8Array): void {
  if (!equalBytes(actual, expected)) {
    throw new PieceVerificationError(`piece ${index} of ${digest} has sha256 ${hex(actual)}, the manifest says ${hex(expected)}`)
  }
}
