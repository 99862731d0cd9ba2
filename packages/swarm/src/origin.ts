import { setTimeout as delay } from 'node:timers/promises'
import { OriginError } from './errors.js'
import type { AbortOptions } from '@libp2p/interface'

export interface OriginInit {
  /** Deadline for the origin's response headers. @default 30000 */
  headersTimeoutMs?: number
  /** Longest silence while reading the body before the connection counts as broken. @default 30000 */
  idleTimeoutMs?: number
  /** Times a broken or failing transfer is resumed. @default 3 */
  retries?: number
}

export interface OriginHead {
  size: number
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

  constructor (init: OriginInit = {}) {
    this.#headersTimeoutMs = init.headersTimeoutMs ?? 30_000
    this.#idleTimeoutMs = init.idleTimeoutMs ?? 30_000
    this.#retries = init.retries ?? 3
  }

  /**
   * Stream the blob from `offset`. `onSize` is called once with the total
   * size before the first byte; `sink` receives chunks in order.
   */
  async read (url: string, offset: number, onSize: (size: number) => Promise<void> | void, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions = {}): Promise<void> {
    let position = offset
    let total: number | undefined
    let attempt = 0
    while (true) {
      try {
        await this.#once(url, position, async size => {
          if (total == null) {
            total = size
            await onSize(size)
          } else if (size !== total) {
            throw new OriginError(`${describe(url)} changed size from ${total} to ${size} bytes during the download`)
          }
        }, async chunk => {
          position += chunk.byteLength
          attempt = 0
          try {
            await sink(chunk)
          } catch (err: any) {
            err.fromSink = true
            throw err
          }
        }, options)
        if (total != null && position < total) {
          throw new OriginError(`${describe(url)} closed the connection at byte ${position} of ${total}`, true)
        }
        return
      } catch (err: any) {
        if (options.signal?.aborted === true) throw options.signal.reason ?? err
        if (err.fromSink === true) throw err
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

  async #once (url: string, offset: number, onSize: (size: number) => Promise<void>, sink: (chunk: Uint8Array) => Promise<void>, options: AbortOptions): Promise<void> {
    const controller = new AbortController()
    const signals = [controller.signal]
    if (options.signal != null) signals.push(options.signal)
    const signal = AbortSignal.any(signals)
    let idle = setTimeout(() => controller.abort(new OriginError(`${describe(url)} did not answer within ${this.#headersTimeoutMs} ms`, true)), this.#headersTimeoutMs)
    try {
      const headers: Record<string, string> = {}
      if (offset > 0) headers.range = `bytes=${offset}-`
      let res: Response
      try {
        res = await fetch(url, { headers, signal, redirect: 'follow' })
      } catch (err: any) {
        if (controller.signal.aborted) throw controller.signal.reason
        throw new OriginError(`${describe(url)} could not be reached: ${err.cause?.message ?? err.message}`, true)
      }
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel()
        throw new OriginError(`${describe(url)} answered ${res.status} ${res.statusText}`, true)
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel()
        throw new OriginError(`${describe(url)} answered ${res.status} ${res.statusText}`)
      }
      let size: number
      let skip = 0
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '')
        if (m == null || Number(m[1]) !== offset) {
          await res.body?.cancel()
          throw new OriginError(`${describe(url)} sent an unusable Content-Range`)
        }
        size = Number(m[3])
      } else {
        const length = res.headers.get('content-length')
        if (length == null || !/^\d+$/.test(length)) {
          await res.body?.cancel()
          throw new OriginError(`${describe(url)} did not send a Content-Length`)
        }
        size = Number(length)
        // the origin ignored Range: skip what we already have
        skip = offset
      }
      await onSize(size)
      if (res.body == null) return
      const reader = res.body.getReader()
      const arm = (): void => {
        clearTimeout(idle)
        idle = setTimeout(() => controller.abort(new OriginError(`${describe(url)} sent nothing for ${this.#idleTimeoutMs} ms`, true)), this.#idleTimeoutMs)
      }
      arm()
      try {
        while (true) {
          let r
          try {
            r = await reader.read()
          } catch (err: any) {
            if (controller.signal.aborted) throw controller.signal.reason
            throw new OriginError(`${describe(url)} broke off: ${err.cause?.message ?? err.message}`, true)
          }
          if (r.done) break
          arm()
          let chunk: Uint8Array = r.value
          if (skip > 0) {
            const n = Math.min(skip, chunk.byteLength)
            skip -= n
            chunk = chunk.subarray(n)
            if (chunk.byteLength === 0) continue
          }
          await sink(chunk)
        }
      } finally {
        reader.releaseLock()
      }
    } finally {
      clearTimeout(idle)
    }
  }
}
