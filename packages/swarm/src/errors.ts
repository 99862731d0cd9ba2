export class OriginError extends Error {
  static override name = 'OriginError'
  override name = 'OriginError'
  /** False when retrying cannot help (4xx, size mismatch). */
  readonly retryable: boolean

  constructor (message: string, retryable = false) {
    super(message)
    this.retryable = retryable
  }
}

export class ProtocolViolationError extends Error {
  static override name = 'ProtocolViolationError'
  override name = 'ProtocolViolationError'
}

export class TaskFailedError extends Error {
  static override name = 'TaskFailedError'
  override name = 'TaskFailedError'
  /** Where it failed: origin, p2p or daemon. */
  readonly where: 'origin' | 'p2p' | 'daemon'

  constructor (message: string, where: 'origin' | 'p2p' | 'daemon') {
    super(message)
    this.where = where
  }
}
