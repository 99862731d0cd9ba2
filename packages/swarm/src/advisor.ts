import { LocalParentRanker } from './ranking.js'
import type { ParentCandidate, ParentRanker } from './ranking.js'

/**
 * Who advises a download on its parents: the node itself (LocalAdvisor), or
 * the optional scheduler (SchedulerClient). A download never waits on it:
 * the engine ranks with its own ranker until advice arrives, and advice that
 * misses its deadline is dropped.
 */
export interface ParentAdvisor {
  /** The candidates' peer ids, best first (every one once); rejects or is aborted past the deadline. */
  rank(digest: string, candidates: ParentCandidate[], options: { signal: AbortSignal }): Promise<string[]>
  /** What a parent did for a download. Never awaited, never throws. */
  report(report: ParentReport): void
  /**
   * Parents holding the blob that the node has not found itself, with their
   * addresses; given `rank`, also those candidates and the holders named,
   * best first (one question where two would go).
   */
  suggest(digest: string, options: SuggestOptions): Promise<Suggestions>
}

export interface SuggestOptions {
  limit: number
  exclude: string[]
  /** Candidates to put in order with the holders named. */
  rank?: ParentCandidate[]
  signal: AbortSignal
}

export interface Suggestions {
  holders: SuggestedParent[]
  /** The candidates asked to rank and the holders, best first; absent when the advisor gave no order. */
  ranked?: string[]
}

export type ParentReport =
  /** A verified piece of `bytes` came in `ms` after it was asked. */
  | { type: 'piece', digest: string, parent: string, bytes: number, ms: number }
  /** A piece did not come: stalled, declined, refused. */
  | { type: 'failed', digest: string, parent: string }
  /** The session with the parent ended. */
  | { type: 'closed', digest: string, parent: string }

export interface SuggestedParent {
  peer: string
  /** Multiaddrs, as strings. */
  addrs: string[]
}

/** The node's own ranking (throughput measured by its downloads, then beacons); it knows of no parent the node has not found. */
export class LocalAdvisor implements ParentAdvisor {
  readonly #ranker: ParentRanker

  constructor (ranker: ParentRanker = new LocalParentRanker()) {
    this.#ranker = ranker
  }

  async rank (_digest: string, candidates: ParentCandidate[]): Promise<string[]> {
    return this.#ranker.rank(candidates).map(c => c.peer)
  }

  report (): void {}

  async suggest (digest: string, options: SuggestOptions): Promise<Suggestions> {
    return options.rank == null ? { holders: [] } : { holders: [], ranked: await this.rank(digest, options.rank) }
  }
}
