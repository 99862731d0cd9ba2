export class PieceVerificationError extends Error {
  static override name = 'PieceVerificationError'
  override name = 'PieceVerificationError'
}

export class MissingPieceHashError extends Error {
  static override name = 'MissingPieceHashError'
  override name = 'MissingPieceHashError'
}

export class PieceNotHeldError extends Error {
  static override name = 'PieceNotHeldError'
  override name = 'PieceNotHeldError'
}

export class LayoutMismatchError extends Error {
  static override name = 'LayoutMismatchError'
  override name = 'LayoutMismatchError'
}

export class DigestMismatchError extends Error {
  static override name = 'DigestMismatchError'
  override name = 'DigestMismatchError'
  readonly actual: string

  constructor (message: string, actual: string) {
    super(message)
    this.actual = actual
  }
}

export class BlobRemovedError extends Error {
  static override name = 'BlobRemovedError'
  override name = 'BlobRemovedError'
}

/** The file system is too full to admit a new blob (see PieceStoreInit.diskGuard). */
export class DiskFullError extends Error {
  static override name = 'DiskFullError'
  override name = 'DiskFullError'
}
