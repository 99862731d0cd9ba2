/**
 * @packageDocumentation
 *
 * The Damselfly daemon: composes the swarm and store, and serves the local
 * control API (status, tasks, blob streaming, Prometheus metrics, health).
 */

export { startDaemon } from './daemon.js'
export type { Daemon, DaemonInit, ListenAddress, StorageLimits } from './daemon.js'
export { SwarmBlobs } from './blobs.js'
export { renderMetrics } from './metrics.js'
