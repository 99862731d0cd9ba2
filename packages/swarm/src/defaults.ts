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
  declineBackoffMs: 500
} as const
