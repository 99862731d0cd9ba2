/**
 * When a node gossips its load beacon. The swarm runs these rules and the
 * simulator (bench/sim) models them, so what is simulated is what runs.
 *
 * Every beacon reaches every peer on the topic, so a swarm's beacons grow
 * with the square of its size: at 30 daemons beaconing every 5 s, each
 * received 871 over a 160 s pull. A node therefore spaces its beacons out
 * as the number of peers it hears from grows, so that each peer hears about
 * BEACONS_HEARD_PER_SECOND from the whole swarm. Seeds keep the short
 * interval: they are few, and peers find them by their beacons.
 */

/** How often a node gossips its load beacon while its load changes, in a small swarm; and how often the timer that decides runs. */
export const BEACON_INTERVAL_MS = 5000
/**
 * How often it gossips an unchanged one. In an idle 21-daemon swarm on one
 * host, beacons every 5 s kept 85% of a core busy.
 */
export const BEACON_UNCHANGED_MS = 30_000
/**
 * The beacons a second a node aims to hear from non-seed peers, all told.
 * One rather than two: in the simulator (bench/sim/heterogeneous.mjs, a
 * third of the uplinks at a tenth) local ranking did no worse (p95 at 30
 * nodes 28.8 s against 31.7, at 100 33.0 against 33.7); with real daemons
 * (bench:control, 8 MiB) a 30-node pull took 62 s and 3.8 CPU-seconds per
 * node against 73 s and 4.5, each beacon heard being a signature to check
 * and a copy from each mesh peer.
 */
export const BEACONS_HEARD_PER_SECOND = 1

/** The load a beacon carries. */
export interface BeaconLoad {
  uploadBps: number
  activeUploads: number
  freeUploadSlots: number
}

/**
 * How often a node beacons a changing load, having heard beacons from
 * `peersHeard` non-seed peers (within beaconMemoryMs): at least every
 * BEACON_INTERVAL_MS, and no more often than keeps the swarm's beacons at
 * about BEACONS_HEARD_PER_SECOND per peer. A seed always uses BEACON_INTERVAL_MS.
 */
export function beaconIntervalMs (peersHeard: number, seed: boolean): number {
  if (seed) return BEACON_INTERVAL_MS
  return Math.max(BEACON_INTERVAL_MS, Math.round(peersHeard * 1000 / BEACONS_HEARD_PER_SECOND))
}

/** How long a receiver keeps a peer's beacon, and counts the peer as heard: twice the longest a sender at this interval stays silent. */
export function beaconMemoryMs (intervalMs: number): number {
  return 2 * Math.max(BEACON_UNCHANGED_MS, intervalMs)
}

/** The load fields as one string: a beacon is sent again early only when this changed. */
export function beaconKey (load: BeaconLoad): string {
  return `${load.uploadBps}/${load.activeUploads}/${load.freeUploadSlots}`
}

/**
 * Whether a node whose last beacon carried `last.key`, `last.sinceMs` ago,
 * beacons `load` now: when the load changed and `intervalMs` has passed, or
 * when the unchanged interval (the longer of BEACON_UNCHANGED_MS and
 * `intervalMs`) has. The timer runs every BEACON_INTERVAL_MS, so an
 * interval counts as passed half a tick early.
 */
export function beaconDue (load: BeaconLoad, last: { key: string, sinceMs: number } | undefined, intervalMs: number): { due: boolean, key: string } {
  const key = beaconKey(load)
  if (last == null) return { due: true, key }
  const since = last.sinceMs + BEACON_INTERVAL_MS / 2
  const due = since >= Math.max(BEACON_UNCHANGED_MS, intervalMs) || (last.key !== key && since >= intervalMs)
  return { due, key }
}
