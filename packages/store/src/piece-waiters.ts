import type { AbortOptions } from '@libp2p/interface'

interface Waiter {
  resolve(): void
  reject(err: Error): void
}

/** Callers waiting for pieces of one blob, until each is held or the blob goes. */
export class PieceWaiters {
  readonly #waiters = new Map<number, Set<Waiter>>()

  /** Resolves when `held(index)` is called, rejects with the signal's reason or rejectAll's error. */
  async wait (index: number, options: AbortOptions = {}): Promise<void> {
    const signal = options.signal
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      let waiters = this.#waiters.get(index)
      if (waiters == null) {
        waiters = new Set()
        this.#waiters.set(index, waiters)
      }
      const set = waiters
      const onAbort = (): void => {
        forget()
        reject(signal?.reason)
      }
      const forget = (): void => {
        signal?.removeEventListener('abort', onAbort)
        set.delete(waiter)
        if (set.size === 0 && this.#waiters.get(index) === set) this.#waiters.delete(index)
      }
      const waiter: Waiter = {
        resolve: () => { forget(); resolve() },
        reject: (err) => { forget(); reject(err) }
      }
      set.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  held (index: number): void {
    for (const waiter of [...this.#waiters.get(index) ?? []]) waiter.resolve()
  }

  rejectAll (err: Error): void {
    for (const waiters of [...this.#waiters.values()]) {
      for (const waiter of [...waiters]) waiter.reject(err)
    }
    this.#waiters.clear()
  }
}
