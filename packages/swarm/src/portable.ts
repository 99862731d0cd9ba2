/**
 * @packageDocumentation
 *
 * `@damselfly/swarm/portable`: the swarm without Node's built-ins, for peers
 * that bring their own libp2p node and store (a browser peer). The same
 * downloads, piece server, gossip and bans as the daemon's swarm
 * (`createSwarm`), over a network and a store the caller gives; the libp2p
 * settings every node must share come with it.
 */

export { startSwarm } from './swarm-core.js'
export type { BootstrapStatus, PeerSummary, Swarm, SwarmCoreInit, SwarmEvent, SwarmParts } from './swarm-core.js'
export { CONNECTION_MONITOR, dhtInit, gossipInit, Libp2pNetwork, muxerInit } from './libp2p-network.js'
export type { SwarmLibp2p } from './libp2p-network.js'
export type { ByteStream, ConnectionInfo, SwarmNetwork } from './network.js'
export type { DownloadTask, DownloadTaskEvents, TaskRequest, TaskState, TaskSummary } from './download-task.js'
export type { OriginPolicy } from './origin.js'
export type { SwarmStats } from './stats.js'
export { TaskFailedError } from './errors.js'
export { connectionTransport } from './transports.js'
