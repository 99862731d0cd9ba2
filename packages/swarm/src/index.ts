/**
 * @packageDocumentation
 *
 * The Damselfly swarm: a libp2p node (TCP, WebSockets, WebRTC-direct; TLS/Noise, Yamux, private
 * Kademlia DHT, gossipsub), the piece-exchange protocol, and the downloader
 * that fetches a blob's pieces from many parents at once, falling back to a
 * seed and then the origin. Callers see `Swarm` and `DownloadTask`; libp2p
 * types stay inside this package. The download engine and its pure rules,
 * for simulators and other drivers, are `@damselfly/swarm/engine`.
 */

export { createSwarm } from './swarm.js'
export type { SwarmInit, RelayInit } from './swarm.js'
export type { BootstrapStatus, Swarm, SwarmCoreInit, PeerSummary, SwarmEvent } from './swarm-core.js'
export type { DownloadTask, DownloadTaskEvents, TaskRequest, TaskSummary, TaskState, BeaconInfo } from './download-task.js'
export type { SwarmStats } from './stats.js'
export type { OriginAccess, OriginPolicy } from './origin.js'
export type { PublicAccessAnswer } from './access-service.js'
export type { ParentRanker, ParentCandidate } from './ranking.js'
export { LocalParentRanker, RandomParentRanker } from './ranking.js'
export { LocalAdvisor } from './advisor.js'
export type { ParentAdvisor, ParentReport, SuggestedParent } from './advisor.js'
export { ScheduleState, SchedulerClient, FLUSH_REPORTS, HOLDING_FLUSH_MS, SCHEDULE_FLUSH_MS, SCHEDULER_SILENT_MS, SCHEDULE_STATE_TTL_MS, scheduleScore } from './schedule.js'
export { startScheduler } from './scheduler-node.js'
export type { Scheduler, SchedulerInit } from './scheduler-node.js'
export * from './errors.js'
export { SWARM_DEFAULTS, RELAY_DEFAULTS } from './defaults.js'
export { CONNECTION_ENCRYPTIONS, DEFAULT_ENCRYPTION } from './network.js'
export type { ConnectionEncryption, RelayLimits } from './network.js'
export { TRANSPORTS, DEFAULT_DIALED, PRIVATE_SWARM_TRANSPORTS, chooseTransports, listenTransport, dialTransport, UnsupportedAddressError, TransportConfigError } from './transports.js'
export type { TransportName, TransportChoice } from './transports.js'
