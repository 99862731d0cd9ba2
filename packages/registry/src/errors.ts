/**
 * The error codes of the OCI distribution spec that a read-only mirror
 * answers with, and the HTTP status each goes with.
 */
export const OCI_ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  RANGE_INVALID: 416,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  /** Not in the spec's table; what a mirror says when its upstream cannot be reached. */
  UPSTREAM_UNAVAILABLE: 502
} as const

export type OciErrorCode = keyof typeof OCI_ERROR_STATUS

/**
 * An error a registry client understands: the spec's JSON body
 * `{"errors":[{"code","message","detail"}]}` with the code's status.
 */
export class OciError extends Error {
  override readonly name = 'OciError'
  readonly code: OciErrorCode
  readonly status: number
  readonly detail?: unknown
  /** Response headers to send with it, e.g. WWW-Authenticate with UNAUTHORIZED. */
  readonly headers: Record<string, string>

  constructor (code: OciErrorCode, message: string, options: { status?: number, detail?: unknown, headers?: Record<string, string> } = {}) {
    super(message)
    this.code = code
    this.status = options.status ?? OCI_ERROR_STATUS[code]
    this.detail = options.detail
    this.headers = options.headers ?? {}
  }

  body (): string {
    return JSON.stringify({ errors: [{ code: this.code, message: this.message, ...(this.detail !== undefined ? { detail: this.detail } : {}) }] })
  }
}

/** A request to an upstream registry failed: unreachable, an error status, or a bad answer. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError'
  /** The upstream's HTTP status, when it answered. */
  readonly status?: number
  readonly headers: Record<string, string>

  constructor (message: string, options: { status?: number, headers?: Record<string, string> } = {}) {
    super(message)
    this.status = options.status
    this.headers = options.headers ?? {}
  }
}
