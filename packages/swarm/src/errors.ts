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

/**
 * What the content was found to be, when that is why a task failed: the
 * origin's bytes do not hash to the digest, or there are not as many as
 * expected. Unlike a connection that failed, these say nothing about the
 * network, so a seed tells them to the peer that asked.
 */
export type ContentFault = 'DIGEST_MISMATCH' | 'SIZE_MISMATCH'

export class TaskFailedError extends Error {
  static override name = 'TaskFailedError'
  override name = 'TaskFailedError'
  /** Where it failed: origin, p2p or daemon. */
  readonly where: 'origin' | 'p2p' | 'daemon'
  /** The origin's HTTP status when it refused the blob (404, 401, ...), as far as this node knows it. */
  readonly status?: number
  /** Set when the content itself was wrong. */
  readonly fault?: ContentFault

  constructor (message: string, where: 'origin' | 'p2p' | 'daemon', status?: number, fault?: ContentFault) {
    super(message)
    this.where = where
    this.status = status
    this.fault = fault
  }
}

/** A URL this node's origin policy does not let it fetch; the message says which rule, for this node's user only. */
export class OriginNotAllowedError extends Error {
  static override name = 'OriginNotAllowedError'
  override name = 'OriginNotAllowedError'
}
