/**
 * The swarm's tunables as a node runs them unless configured otherwise. The
 * daemon's configuration defaults and the simulator (bench/sim) read these,
 * so what is simulated is what runs.
 */
export const SWARM_DEFAULTS = {
  /** Upload sessions a node serves at once. */
  uploadSlots: 16,
  /** Parents one download draws on at once. */
  maxParents: 8,
  /**
   * Connections a node keeps open that it opened itself; beyond it the idle
   * ones are closed (connection-cap.ts). Room for the parents of several
   * downloads at once, the seeds, the DHT's closest peers and gossip's mesh.
   */
  maxConnections: 64,
  /** How long a new connection is left open, whatever it carries, before the cap may close it. */
  connectionGraceMs: 30_000,
  /**
   * Copies of a piece a node sends within `superSeedWindowMs` before it
   * declines further requests for it while its uplink is busy; 0 never declines.
   * 1 rather than 2 (bench/sim, max-min shared links): the last of 1,000
   * nodes at 4 MB/s finished 16% sooner (2.25 instead of 2.68 times T_lb),
   * of 100 12% sooner, the 3 GB image to 50 and 100 pods at 1 Gbit/s 8-12%
   * sooner; the 500 MB one to 100 and 200 pods 5-9% later. Real runs of
   * 5 nodes did not tell the two apart.
   */
  superSeedCopies: 1,
  superSeedWindowMs: 2000,
  /**
   * The window when nothing paces the sends (no upload rate set): a send
   * then ends once the transport has taken the bytes, seconds before they
   * arrive. On 100 Mbit/s links with five nodes (bench:equal-links), a
   * seed sent each piece 1.62 times within a 2 s window, 1.29 times within
   * 8 s, at the same pull time.
   */
  superSeedUnpacedWindowMs: 8000,
  /**
   * A requester declined a piece gets it when it asks again this long after:
   * the holders it was named could not give it (their upload slots full, or
   * its own parent places). Simulated (bench/sim --unpaced, 100 nodes at
   * 1 Gbit/s, a 500 MB image): the last pull took 3.73 x T_lb instead of
   * 7.44 (1 s: 2.47). With 1 s, real runs of 5 nodes (bench:equal-links) had
   * the seed send 2.05-2.15 images instead of 1.5-1.6; with 3 s, 1.64-1.81.
   */
  declinedRetryMs: 3000,
  /**
   * Unpaced, a node other than a seed counts its uplink busy (and declines
   * copies) while two uploads are under way or while it uploads at this share
   * or more of the highest rate it has uploaded at within `uplinkPeakMs`
   * (UplinkGauge): what its transport takes tells it, not a configured rate.
   * Simulated (bench/sim --unpaced, 1 Gbit/s, 500 MB), the last of 100
   * pulls at 2.42 x T_lb instead of 3.73, of 50 at 1.96 instead of 3.58, of
   * 200 at 2.43.
   * The rate alone (copies with any number of uploads under way) did better
   * there (2.32, 1.68) but not in real runs on a busy machine, where a rate
   * dips below its peak for want of CPU, not of work: every host's link at
   * 100 Mbit/s, 10 nodes (bench:equal-links), the last pull 78-85 s against
   * 58-70 s without a gauge; with both tests 58-62 s. A seed declines
   * whatever its rate: it is the crowd's bottleneck, and with the gauge it
   * sent 1.57-2.80 images to 5 nodes (five of six runs over 2.2) instead of
   * 1.5-1.9.
   */
  uplinkBusyShare: 0.8,
  uplinkPeakMs: 30_000,
  /** How long a download does not ask a parent again for a piece it declined. */
  declineBackoffMs: 500,
  /**
   * A parent that has had nothing a download lacks, and no request, this long
   * gives its place up once every place is taken and another holder is ready.
   */
  idleParentMs: 5000,
  /** A parent let go as idle is asked again after this, or as soon as it announces pieces. */
  idleRetryMs: 10_000,
  /**
   * With every upload slot taken, a node gives the slot of a requester that
   * has had nothing queued or sent for this long to a new requester, and
   * tells the idle one to come back after `idleRetryMs`.
   */
  idleSlotMs: 1000,
  /**
   * A stream whose peer reads nothing for this long, while this node has
   * something to send it, is reset: a requester that opens streams and
   * never reads them holds upload slots and memory only this long. 256 KiB
   * (a chunk) in that time is 13 KB/s.
   */
  writeStallMs: 20_000,
  /** Upload slots one peer may hold at once: a quarter of them, so one peer never fills a parent. */
  slotsPerPeerShare: 0.25
} as const

/**
 * How a download runs unless the node is configured otherwise (see
 * EngineConfig): the daemon and the simulator start from these.
 */
export const ENGINE_DEFAULTS = {
  maxParents: SWARM_DEFAULTS.maxParents,
  pipeline: 4,
  seedTimeoutMs: 5000,
  originFallback: true,
  seedAfterMs: 1000,
  stallMs: 10_000,
  hedgeAfterMs: 3000,
  idleParentMs: SWARM_DEFAULTS.idleParentMs,
  idleRetryMs: SWARM_DEFAULTS.idleRetryMs,
  declineBackoffMs: SWARM_DEFAULTS.declineBackoffMs,
  /** A ranged download fetches what is read and no more (bench:lazy: the registry then sends the pieces read, once). */
  prefetch: 'none'
} as const

/**
 * The limits of the circuit relay a node runs (RelayInit). A relay here
 * carries what two peers say while they set up a direct connection (WebRTC
 * signalling, a few KiB), never pieces: go-libp2p's limits for a relayed
 * connection, and as many reservations as go-libp2p's default relay keeps.
 */
export const RELAY_DEFAULTS = {
  /** Peers that may hold a reservation (be reachable through this node) at once. */
  maxReservations: 128,
  /** How long a reservation lasts before its holder must renew it. */
  reservationTtlMs: 3_600_000,
  /** How long one relayed connection may stay open. */
  durationMs: 120_000,
  /** Bytes one relayed connection may carry, both ways together. */
  dataBytes: 128 * 1024
} as const
