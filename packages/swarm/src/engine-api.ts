/**
 * @packageDocumentation
 *
 * `@damselfly/swarm/engine`: the download engine and the pure rules around
 * it (request planning, piece picking, parent ranking, the parent side's
 * upload slots and super-seeding, beacons, announcements), for drivers other than the
 * daemon: the simulator in bench/sim, and peers that want Damselfly's
 * decisions over their own transport. Nothing here does I/O.
 */

export { DownloadEngine } from './engine.js'
export type { Arrival, CloseReason, EngineCommand, EngineConfig, EngineEnvironment, EngineState, SeedAnswer } from './engine.js'
export * from './constants.js'
export { ENGINE_DEFAULTS, SWARM_DEFAULTS } from './defaults.js'
export { LocalParentRanker, RandomParentRanker } from './ranking.js'
export type { ParentCandidate, ParentRanker } from './ranking.js'
export { pickPiece } from './picker.js'
export type { PickerState, PickOptions } from './picker.js'
export { backoffMs, planRequests, pipelineDepth, requestBudget, retryDelay, PARENT_QUEUE_SECONDS, REQUEST_QUEUE_SECONDS } from './scheduler.js'
export type { ParentQueue, PlanOptions } from './scheduler.js'
export { ServeLedger, idleSlotToFree, slotsForNewcomers } from './piece-server.js'
export type { UploadSlot } from './piece-server.js'
export { BEACON_INTERVAL_MS, BEACON_UNCHANGED_MS, BEACONS_HEARD_PER_SECOND, beaconDue, beaconIntervalMs, beaconKey, beaconMemoryMs } from './beacon.js'
export { UplinkGauge } from './rate-limit.js'
export { ANNOUNCED_HOLDERS_ENOUGH, HeardHolders } from './announce.js'
