/**
 * @packageDocumentation
 *
 * The Damselfly swarm: a libp2p node (TCP, TLS/Noise, Yamux, private
 * Kademlia DHT, gossipsub), the piece-exchange protocol, and the downloader
 * that fetches a blob's pieces from many parents at once, falling back to a
 * seed and then the origin. Callers see `Swarm` and `DownloadTask`; libp2p
 * types stay inside this package.
 */

export { createSwarm } from './swarm.js'
export type { Swarm, SwarmInit, PeerSummary, SwarmEvent } from './swarm.js'
export type { DownloadTask, TaskRequest, TaskSummary, TaskState, BeaconInfo } from './download-task.js'
export type { SwarmStats } from './stats.js'
export type { OriginAccess, OriginPolicy } from './origin.js'
export type { PublicAccessAnswer } from './access-service.js'
export type { ParentRanker, ParentCandidate } from './ranking.js'
export { LocalParentRanker } from './ranking.js'
export { pickPiece } from './picker.js'
export type { PickerState, PickOptions } from './picker.js'
export * from './errors.js'
export { planRequests, pipelineDepth, requestBudget, retryDelay, PARENT_QUEUE_SECONDS, REQUEST_QUEUE_SECONDS } from './scheduler.js'
export type { ParentQueue, PlanOptions } from './scheduler.js'
export { ServeLedger, idleSlotToFree, slotsForNewcomers } from './piece-server.js'
export type { UploadSlot } from './piece-server.js'
export { SWARM_DEFAULTS } from './defaults.js'
export { BEACON_INTERVAL_MS, BEACON_UNCHANGED_MS, BEACONS_HEARD_PER_SECOND, beaconDue, beaconIntervalMs, beaconKey, beaconMemoryMs } from './beacon.js'
export type { BeaconLoad } from './beacon.js'
export { CONNECTION_ENCRYPTIONS, DEFAULT_ENCRYPTION } from './network.js'
export type { ConnectionEncryption } from './network.js'
