import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { setTimeout as delay } from 'node:timers/promises'
import { OriginError, RangeIgnoredError } from './errors.js'
import type { AbortOptions } from '@libp2p/interface'
import type { IncomingMessage } from 'node:http'

/**
 * What this node adds to requests to an origin: credentials that stay on
 * this node (a registry's basic auth or bearer tokens) and the CAs to trust.
 * The registry client implements it; without one, origins are read anonymously.
 */
export interface OriginAccess {
  /** Headers (Authorization) and CA certificates for a request to `url`. */
  access(url: URL, signal?: AbortSignal): Promise<{ headers: Record<string, string>, ca?: string[] }>
  /** `url` answered 401 with this challenge to a request carrying `sent` as its Authorization; true when a retry now carries other credentials. */
  unauthorized(url: URL, challenge: string | undefined, signal?: AbortSignal, sent?: string): Promise<boolean>
}

/**
 * Which origin URLs this node reads a blob from, whoever asks: the daemon
 * builds it from the registries it is configured for and its
 * `--allow-origin` patterns.
 */
export interface OriginPolicy {
  /** Why `url` may not be read for `digest`; undefined when it may. */
  refusal(url: URL, digest: string): string | undefined
}

export interface OriginInit {
  /** Deadline for the origin's response headers. @default 30000 */
  headersTimeoutMs?: number
  /** Longest silence while reading the body before the connection counts as broken. @default 30000 */
  idleTimeoutMs?: number
  /** Times a broken or failing transfer is resumed. @default 3 */
  retries?: number
  access?: OriginAccess
}

export interface OriginHead {
  size: number
}

/** Carries an error thrown by the caller's sink past the retry logic, unchanged. */
class SinkFailure extends Error {
  readonly error: Error

  constructor (error: Error) {
    super(error.message)
    this.error = error
  }
}

function describe (url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return 'origin'
  }
}

/**
 * Reads a blob from its origin over HTTP(S), resuming with Range after a
 * broken connection. Bytes are handed to `sink` in order, each chunk exactly
 * once, whatever the number of reconnects.
 */
export class OriginReader {
  readonly #headersTimeoutMs: number
  readonly #idleTimeoutMs: number
  readonly #retries: number
  readonly #access?: OriginAccess

  constructor (init: OriginInit = {}) {
    this.#access = init.access
    this.#headersTimeoutMs = init.headersTimeoutMs ?? 30_000
    this.#idleTimeoutMs = init.idleTimeoutMs ?? 30_000
    this.#retries = init.retries ?? 3
  }

  /**
   * Stream the blob from `offset`. `onSize` is called once with the total
   * size before the first byte; `sink` receives chunks in order.
   */
  async read (url: string, offset: number, onSize: (size: number) => Promise<void> | void, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions = {}): Promise<void> {
    await this.#read(url, offset, undefined, onSize, sink, options)
  }

  /**
   * Bytes [start, end) of the blob, with an HTTP Range request (clipped to
   * the blob's size, which `onSize` is told first). An origin that answers
   * with the whole blob instead fails with RangeIgnoredError before a byte
   * reaches `sink`: reading a range out of the whole would cost the origin
   * the whole.
   */
  async readRange (url: string, start: number, end: number, onSize: (size: number) => Promise<void> | void, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions = {}): Promise<void> {
    if (!(end > start)) throw new RangeError(`an empty range ${start}-${end}`)
    await this.#read(url, start, end, onSize, sink, options)
  }

  async #read (url: string, offset: number, end: number | undefined, onSize: (size: number) => Promise<void> | void, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions): Promise<void> {
    let position = offset
    let total: number | undefined
    let attempt = 0
    while (true) {
      try {
        await this.#once(url, position, end, async size => {
          if (total == null) {
            total = size
            await onSize(size)
          } else if (size !== total) {
            throw new OriginError(`${describe(url)} changed size from ${total} to ${size} bytes during the download`)
          }
        }, async chunk => {
          position += chunk.byteLength
          attempt = 0
          await sink(chunk)
        }, options)
        const until = end == null || total == null ? total : Math.min(end, total)
        if (until != null && position < until) {
          throw new OriginError(`${describe(url)} closed the connection at byte ${position} of ${until}`, true)
        }
        return
      } catch (err: any) {
        if (options.signal?.aborted === true) throw options.signal.reason ?? err
        // the caller's own failure (disk, a size it did not expect) is not the origin's: no retry
        if (err instanceof SinkFailure) throw err.error
        const retryable = err.name !== 'OriginError' || err.retryable === true
        if (!retryable || attempt >= this.#retries) {
          if (err.name === 'OriginError') throw err
          throw new OriginError(`${describe(url)} failed: ${err.message}`)
        }
        attempt++
        await delay(Math.min(2000, 100 * 2 ** attempt), undefined, { signal: options.signal })
      }
    }
  }

  async #once (url: string, offset: number, end: number | undefined, onSize: (size: number) => Promise<void>, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions): Promise<void> {
    const res = await this.#request(url, offset, end, options, 0)
    try {
      let size: number
      let skip = 0
      const status = res.statusCode ?? 0
      if (status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))
        // the range asked for, clipped to the size: a shorter or shifted one would be taken for other bytes
        if (m == null || Number(m[1]) !== offset || (end != null && Number(m[2]) + 1 !== Math.min(end, Number(m[3])))) {
          throw new OriginError(`${describe(url)} sent an unusable Content-Range`)
        }
        size = Number(m[3])
      } else if (end != null) {
        throw new RangeIgnoredError(`${describe(url)} answered a range request with the whole blob`)
      } else {
        const length = res.headers['content-length']
        if (length == null || !/^\d+$/.test(length)) {
          throw new OriginError(`${describe(url)} did not send a Content-Length`)
        }
        size = Number(length)
        // the origin ignored Range: skip what we already have
        skip = offset
      }
      try {
        await onSize(size)
      } catch (err: any) {
        throw new SinkFailure(err)
      }
      // the request carries options.signal, so aborting it ends this loop too
      let idle: ReturnType<typeof setTimeout> | undefined
      const arm = (): void => {
        clearTimeout(idle)
        idle = setTimeout(() => res.destroy(new OriginError(`${describe(url)} sent nothing for ${this.#idleTimeoutMs} ms`, true, undefined, `the origin sent nothing for ${this.#idleTimeoutMs} ms`)), this.#idleTimeoutMs)
      }
      arm()
      try {
        // one chunk at a time, so a slow sink (disk, rate limit) backs up to the socket
        for await (const buf of res) {
          arm()
          let chunk: Uint8Array = buf as Buffer
          if (skip > 0) {
            const n = Math.min(skip, chunk.byteLength)
            skip -= n
            chunk = chunk.subarray(n)
            if (chunk.byteLength === 0) continue
          }
          try {
            await sink(chunk)
          } catch (err: any) {
            throw new SinkFailure(err)
          }
        }
      } catch (err: any) {
        if (err instanceof SinkFailure || err.name === 'OriginError') throw err
        throw new OriginError(`${describe(url)} broke off: ${err.message}`, true)
      } finally {
        clearTimeout(idle)
      }
    } finally {
      res.destroy()
    }
  }

  /** GET with Range from `offset` (to `end`, exclusive), following up to 5 redirects; resolves with a 200 or 206 response. */
  async #request (url: string, offset: number, end: number | undefined, options: AbortOptions, redirects: number, authorized = false): Promise<IncomingMessage> {
    let target: URL
    try {
      target = new URL(url)
    } catch {
      throw new OriginError(`${JSON.stringify(url.slice(0, 200))} is not a URL`)
    }
    const get = target.protocol === 'https:' ? httpsGet : target.protocol === 'http:' ? httpGet : undefined
    if (get == null) throw new OriginError(`${target.protocol} origins are not supported`)
    let access: { headers: Record<string, string>, ca?: string[] } = { headers: {} }
    if (this.#access != null) {
      try {
        access = await this.#access.access(target, options.signal)
      } catch (err: any) {
        throw new OriginError(`${describe(url)}: cannot authorize: ${err.message}`, false, 401)
      }
    }
    const headers: Record<string, string> = { ...access.headers }
    if (end != null) headers.range = `bytes=${offset}-${end - 1}`
    else if (offset > 0) headers.range = `bytes=${offset}-`
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = get(target, { headers, signal: options.signal, ...(access.ca != null && target.protocol === 'https:' ? { ca: access.ca } : {}) })
      const timer = setTimeout(() => req.destroy(new OriginError(`${describe(url)} did not answer within ${this.#headersTimeoutMs} ms`, true, undefined, `the origin did not answer within ${this.#headersTimeoutMs} ms`)), this.#headersTimeoutMs)
      req.once('response', res => {
        clearTimeout(timer)
        resolve(res)
      })
      req.once('error', (err: any) => {
        clearTimeout(timer)
        if (err.name === 'OriginError' || options.signal?.aborted === true) reject(err)
        else reject(new OriginError(`${describe(url)} could not be reached: ${err.message}`, true))
      })
    })
    const status = res.statusCode ?? 0
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location != null) {
      res.resume()
      if (redirects >= 5) throw new OriginError(`${describe(url)} redirected more than 5 times`)
      return this.#request(new URL(res.headers.location, target).toString(), offset, end, options, redirects + 1)
    }
    if (status === 200 || status === 206) return res
    res.resume()
    if (status === 401 && !authorized && this.#access != null) {
      let retry: boolean
      try {
        retry = await this.#access.unauthorized(target, res.headers['www-authenticate'], options.signal, headers.authorization)
      } catch (err: any) {
        throw new OriginError(`${describe(url)} answered 401 and authorizing failed: ${err.message}`, false, 401)
      }
      if (retry) return this.#request(url, offset, end, options, redirects, true)
    }
    throw new OriginError(`${describe(url)} answered ${status} ${res.statusMessage ?? ''}`.trimEnd(), status >= 500 || status === 429, status)
  }
}
