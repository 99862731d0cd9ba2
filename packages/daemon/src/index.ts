/**
 * @packageDocumentation
 *
 * The Damselfly daemon: composes the swarm and store, and serves the local
 * control API (status page, status, tasks, blob streaming, Prometheus
 * metrics, health). The status page's files live in `ui/`.
 */

export { startDaemon, DaemonConfigError } from './daemon.js'
export { createRequestGuard, isLoopback } from './request-guard.js'
export type { RequestGuard, RequestGuardInit, Rejection } from './request-guard.js'
export type { Daemon, DaemonInit, ListenAddress, StorageLimits } from './daemon.js'
export type { LogLevel, OperatorLog, OperatorLogEntry } from './operator-log.js'
export { SwarmBlobs } from './blobs.js'
export { createMetricsRegistry, registerDaemonMetrics } from './metrics.js'
export { SWARM_DEFAULTS, RELAY_DEFAULTS, CONNECTION_ENCRYPTIONS, DEFAULT_ENCRYPTION, TRANSPORTS, DEFAULT_DIALED, listenTransport, dialTransport, startScheduler, RandomParentRanker } from '@damselfly/swarm'
export type { Scheduler, SchedulerInit } from '@damselfly/swarm'
export type { ConnectionEncryption, RelayInit, TransportName } from '@damselfly/swarm'
export { ActivityRecorder } from './activity.js'
export type { ActivitySample, ActivityRecorderInit, Incident } from './activity.js'
export type { TaskView } from './api.js'
export { serveUi, UI_DIR } from './ui.js'
