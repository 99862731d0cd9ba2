/**
 * How many connections a node keeps open. Without a cap a node keeps every
 * connection it ever opened: to each peer its DHT lookups asked, each holder
 * an announcement named, each parent it once had; in a large swarm that is
 * most of the swarm, and each connection costs pings, gossip and memory.
 *
 * The node that opened a connection is the one that closes it: it knows
 * whether it still needs it, and closing one the other side opened makes
 * that side dial again when it does (its parent session, its bootstrap
 * peer). Beyond the cap, a node closes the idle connections it opened,
 * newest first, down to three quarters of the cap, as go-libp2p's connection
 * manager trims from its high water mark to its low one. Idle: no stream of
 * the swarm's own protocols open on it (a piece session either way, a seed
 * request, the scheduler's), and open longer than the grace period. Never
 * closed: connections to a seed, a scheduler or a bootstrap peer, and to the
 * peers libp2p keeps connected (kad-dht's 20 closest to this node, which it
 * would dial again at once).
 */

/** Once over the cap, idle connections are closed down to this share of it. */
export const CONNECTION_LOW_WATER = 0.75

/** An open connection to a peer, as the cap weighs it. */
export interface HeldConnection {
  peer: string
  /** This node opened it. */
  outbound: boolean
  /** How long it has been open, in ms. */
  ageMs: number
  /** A stream of one of the swarm's protocols is open on it. */
  inUse: boolean
  /** Kept whatever it carries: a seed, a scheduler, a bootstrap peer, one of the DHT's closest. */
  kept: boolean
}

/**
 * The peers whose connections to close: none while this node has opened at
 * most `max`; otherwise idle ones it opened, newest first, until
 * `max * CONNECTION_LOW_WATER` of those it opened remain (or no idle one does).
 */
export function connectionsToClose (connections: HeldConnection[], max: number, graceMs: number): string[] {
  const opened = connections.filter(c => c.outbound)
  if (opened.length <= max) return []
  const keep = Math.floor(max * CONNECTION_LOW_WATER)
  const idle = opened
    .filter(c => !c.inUse && !c.kept && c.ageMs >= graceMs)
    .sort((a, b) => a.ageMs - b.ageMs)
  // a peer with two idle connections is named once: closing it closes both
  return [...new Set(idle.slice(0, opened.length - keep).map(c => c.peer))]
}
