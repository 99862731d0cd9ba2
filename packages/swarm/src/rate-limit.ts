import { SWARM_DEFAULTS } from './defaults.js'
import type { AbortOptions } from '@libp2p/interface'

/**
 * A token bucket shared by every transfer in one direction. Callers take
 * tokens for the bytes they are about to move; when the bucket is empty they
 * wait, which backs pressure up to the stream.
 */
export class RateLimiter {
  readonly #rate: number
  readonly #burst: number
  #tokens: number
  #last = performance.now()

  /** @param bytesPerSecond 0 or undefined for no limit */
  constructor (bytesPerSecond?: number) {
    this.#rate = bytesPerSecond ?? 0
    this.#burst = Math.max(256 * 1024, this.#rate / 4)
    this.#tokens = this.#burst
  }

  get limited (): boolean {
    return this.#rate > 0
  }

  /** Bytes per second allowed; 0 for no limit. */
  get rate (): number {
    return this.#rate
  }

  async take (bytes: number, options: AbortOptions = {}): Promise<void> {
    if (this.#rate <= 0) return
    const now = performance.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) / 1000 * this.#rate)
    this.#last = now
    this.#tokens -= bytes
    if (this.#tokens < 0) {
      await delay(Math.ceil(-this.#tokens / this.#rate * 1000), options.signal)
    }
  }
}

/** Exponentially weighted rate in bytes per second. */
export class RateMeter {
  #rate = 0
  #bytes = 0
  #since = performance.now()
  readonly #windowMs: number

  constructor (windowMs = 1000) {
    this.#windowMs = windowMs
  }

  add (bytes: number): void {
    this.#bytes += bytes
    this.#roll()
  }

  #roll (): void {
    const now = performance.now()
    const elapsed = now - this.#since
    if (elapsed >= this.#windowMs) {
      const sample = this.#bytes / (elapsed / 1000)
      this.#rate = this.#rate === 0 ? sample : this.#rate * 0.5 + sample * 0.5
      this.#bytes = 0
      this.#since = now
    }
  }

  /** Bytes per second over the last few windows. */
  get rate (): number {
    this.#roll()
    const elapsed = performance.now() - this.#since
    if (elapsed > this.#windowMs * 4) return 0
    return this.#rate
  }
}

/** Waits `ms`, or rejects with the signal's reason; no Node built-ins, so a browser peer shares the limiter. */
async function delay (ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Whether a node's uplink is busy, learned from what its transport takes
 * rather than from a configured rate: busy while two or more uploads are
 * under way, or while the upload rate is at least `share` of the highest
 * rate sampled (once a second) within `spanMs`, the link's capacity as far
 * as the node has seen it. An upload's bytes leave the node at once into the
 * transport's buffers, so the count alone says little (a node that went by
 * it sent copies while its link was full); the rate says when it is.
 */
export class UplinkGauge {
  readonly #rate: () => number
  readonly #now: () => number
  readonly #share: number
  readonly #spanMs: number
  /** Rate samples, at least a second apart, oldest first. */
  readonly #samples: Array<{ at: number, rate: number }> = []

  /** `rate`: bytes per second the node uploads now (a RateMeter's); `now` in milliseconds. */
  constructor (rate: () => number, now: () => number = () => performance.now(), share: number = SWARM_DEFAULTS.uplinkBusyShare, spanMs: number = SWARM_DEFAULTS.uplinkPeakMs) {
    this.#rate = rate
    this.#now = now
    this.#share = share
    this.#spanMs = spanMs
  }

  /** `uploads`: uploads under way now (pieces queued or being sent). */
  busy (uploads: number): boolean {
    const now = this.#now()
    const rate = this.#rate()
    const last = this.#samples[this.#samples.length - 1]
    if (last == null || now - last.at >= 1000) this.#samples.push({ at: now, rate })
    while (this.#samples.length > 0 && now - this.#samples[0]!.at >= this.#spanMs) this.#samples.shift()
    if (uploads >= 2) return true
    let peak = 0
    for (const s of this.#samples) if (s.rate > peak) peak = s.rate
    return peak > 0 && rate >= this.#share * peak
  }
}
