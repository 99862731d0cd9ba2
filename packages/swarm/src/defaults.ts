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
   * Copies of a piece a node sends within `superSeedWindowMs` before it
   * declines further requests for it while its uplink is busy; 0 never declines.
   */
  superSeedCopies: 2,
  superSeedWindowMs: 2000,
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
  idleSlotMs: 1000
} as const
