export class OriginError extends Error {
  static override name = 'OriginError'
  override name = 'OriginError'
  /** False when retrying cannot help (4xx, size mismatch). */
  readonly retryable: boolean
  /** The origin's HTTP status, when it answered with an error. */
  readonly status?: number
  /**
   * What may be told to a peer that asked for the pull, when the message
   * itself may not (it names addresses). A time-out says no more than the
   * time the peer waited for the answer already does.
   */
  readonly shareable?: string

  constructor (message: string, retryable = false, status?: number, shareable?: string) {
    super(message)
    this.retryable = retryable
    this.status = status
    this.shareable = shareable
  }
}

/** The origin answered a range request with the whole blob (200): it serves no ranges. */
export class RangeIgnoredError extends OriginError {
  static override name = 'RangeIgnoredError'
  override name = 'RangeIgnoredError'
}

export class ProtocolViolationError extends Error {
  static override name = 'ProtocolViolationError'
  override name = 'ProtocolViolationError'
}

/**
 * Why a task failed, where that matters to what comes after:
 * - DIGEST_MISMATCH, SIZE_MISMATCH: the content itself was wrong (the
 *   origin's bytes do not hash to the digest, or there are not as many as
 *   expected). Unlike a connection that failed, these say nothing about the
 *   network, so a seed tells them to the peer that asked.
 * - NO_SPACE: the disk filled up; the partial blob is removed, so the next
 *   pull starts clean once there is room.
 */
export type TaskFault = 'DIGEST_MISMATCH' | 'SIZE_MISMATCH' | 'NO_SPACE'

/** Content faults: what a seed may tell a peer. */
export function isContentFault (fault: TaskFault | undefined): boolean {
  return fault === 'DIGEST_MISMATCH' || fault === 'SIZE_MISMATCH'
}

export class TaskFailedError extends Error {
  static override name = 'TaskFailedError'
  override name = 'TaskFailedError'
  /** Where it failed: origin, p2p or daemon. */
  readonly where: 'origin' | 'p2p' | 'daemon'
  /** The origin's HTTP status when it refused the blob (404, 401, ...), as far as this node knows it. */
  readonly status?: number
  readonly fault?: TaskFault
  /** What a seed may tell the peer that asked (see OriginError.shareable). */
  readonly shareable?: string

  constructor (message: string, where: 'origin' | 'p2p' | 'daemon', status?: number, fault?: TaskFault, shareable?: string) {
    super(message)
    this.where = where
    this.status = status
    this.fault = fault
    this.shareable = shareable
  }
}

/** A URL this node's origin policy does not let it fetch; the message says which rule, for this node's user only. */
export class OriginNotAllowedError extends Error {
  static override name = 'OriginNotAllowedError'
  override name = 'OriginNotAllowedError'
}

/** A failure of this node's own store, as the task's error: NO_SPACE when the disk is full. */
export function storeFailure (err: { message: string, code?: string, name?: string }): TaskFailedError {
  const full = err.code === 'ENOSPC' || err.code === 'EDQUOT' || err.name === 'DiskFullError'
  return new TaskFailedError(err.name === 'DiskFullError' ? err.message : `store failed: ${err.message}`, 'daemon', undefined, full ? 'NO_SPACE' : undefined)
}
