export class OriginError extends Error {
  static override name = 'OriginError'
  override name = 'OriginError'
  /** False when retrying cannot help (4xx, size mismatch). */
  readonly retryable: boolean
  /** The origin's HTTP status, when it answered with an error. */
  readonly status?: number

  constructor (message: string, retryable = false, status?: number) {
    super(message)
    this.retryable = retryable
    this.status = status
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
  /** The origin's HTTP status when it refused the blob (404, 401, ...), as far as this node knows it. */
  readonly status?: number

  constructor (message: string, where: 'origin' | 'p2p' | 'daemon', status?: number) {
    super(message)
    this.where = where
    this.status = status
  }
}
