/**
 * When a node announces a blob on the blob's gossip topic. The swarm runs
 * this rule and the simulator (bench/sim) models it with this class, so what
 * is simulated is what runs.
 *
 * A node announces a blob twice: when its first piece is verified (that makes
 * it a parent others can find) and when it holds all of it. Every
 * announcement reaches every peer downloading the blob, so without a bound
 * each peer would hear as many as the blob has holders, a number that grows
 * with the swarm. A node that has heard ANNOUNCED_HOLDERS_ENOUGH others say
 * as much stays quiet: the peers downloading the blob heard those too, and
 * each of them meets the holders that stayed quiet through its probes of
 * connected peers, the DHT, and the holders a busy parent names when it
 * declines a piece.
 */

/** Announcements of others heard before a node makes its own no more (each kind counted apart). */
export const ANNOUNCED_HOLDERS_ENOUGH = 8

/** The holders of one blob a downloading node has heard announce it. */
export class HeardHolders {
  /** Peers that said they hold pieces of it (first piece or all). */
  readonly #pieces = new Set<string>()
  /** Peers that said they hold all of it. */
  readonly #complete = new Set<string>()

  /** An announcement heard from `peer`: of its first piece, or (`complete`) of the whole blob. */
  heard (peer: string, complete: boolean): void {
    this.#pieces.add(peer)
    if (complete) this.#complete.add(peer)
  }

  /** `peer` holds the blob no more. */
  withdrawn (peer: string): void {
    this.#pieces.delete(peer)
    this.#complete.delete(peer)
  }

  /**
   * Whether this node publishes its own announcement of its first piece or,
   * with `complete`, of the whole blob: always when it is a seed (there are
   * few, and peers turn to them first), else while fewer than
   * ANNOUNCED_HOLDERS_ENOUGH others have said as much.
   */
  announces (complete: boolean, seed: boolean): boolean {
    return seed || (complete ? this.#complete : this.#pieces).size < ANNOUNCED_HOLDERS_ENOUGH
  }
}
