/** Peers that broke the protocol; nobody trades with them until the ban ends. */
export class PeerPenalties {
  readonly #until = new Map<string, { until: number, reason: string }>()
  readonly #durationMs: number

  readonly #onBan: ((peer: string, reason: string) => void) | undefined

  constructor (onBan?: (peer: string, reason: string) => void, durationMs = 10 * 60_000) {
    this.#onBan = onBan
    this.#durationMs = durationMs
  }

  /** Returns true when the peer was not banned already. */
  ban (peer: string, reason: string): boolean {
    const fresh = !this.isBanned(peer)
    this.#until.set(peer, { until: Date.now() + this.#durationMs, reason })
    if (fresh) this.#onBan?.(peer, reason)
    return fresh
  }

  isBanned (peer: string): boolean {
    const b = this.#until.get(peer)
    if (b == null) return false
    if (b.until < Date.now()) {
      this.#until.delete(peer)
      return false
    }
    return true
  }

  list (): Array<{ peer: string, reason: string, until: number }> {
    return [...this.#until].filter(([p]) => this.isBanned(p)).map(([peer, b]) => ({ peer, ...b }))
  }
}
