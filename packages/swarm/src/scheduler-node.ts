import { mkdir } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { createNetwork } from './network.js'
import { PeerPenalties } from './penalties.js'
import { SchedulerServer } from './schedule.js'
import { loadKey } from './swarm.js'
import { chooseTransports } from './transports.js'
import type { ConnectionEncryption } from './network.js'
import type { ScheduleState } from './schedule.js'
import type { TransportName } from './transports.js'
import type { Logger } from '@libp2p/interface'

export interface SchedulerInit {
  /** Where its peer key lives, so its address stays the same across restarts. @default none: a new key each start */
  dataDir?: string
  /** @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  transports?: readonly TransportName[]
  encryption?: readonly ConnectionEncryption[]
  /** The swarm's key: a scheduler of a private swarm is a member like any node. */
  swarmKey?: Uint8Array
  allowPeers?: readonly string[]
  /** @default libp2p's logger (DEBUG=damselfly:scheduler shows it) */
  logger?: { forComponent(name: string): Logger }
}

export interface Scheduler {
  readonly peerId: string
  readonly state: ScheduleState
  listenAddresses(): string[]
  stop(): Promise<void>
}

/**
 * `damselfly scheduler`: a libp2p node that only answers the schedule
 * protocol. Nothing it knows is written down: after a restart the nodes'
 * next beacons, reports and held digests (within SCHEDULE_STATE_TTL_MS / 2)
 * tell it again.
 */
export async function startScheduler (init: SchedulerInit): Promise<Scheduler> {
  const listen = init.listen ?? ['/ip4/127.0.0.1/tcp/0']
  const transports = chooseTransports({ dialled: init.transports, listen, privateSwarm: init.swarmKey != null })
  let privateKey
  if (init.dataDir != null) {
    await mkdir(init.dataDir, { recursive: true })
    privateKey = await loadKey(init.dataDir)
  } else {
    privateKey = await generateKeyPair('Ed25519')
  }
  // it holds no blobs and routes nothing: no DHT and no gossip, which nodes would otherwise send it their share of
  const network = await createNetwork({ privateKey, listen, transports, encryption: init.encryption, swarmKey: init.swarmKey, allowPeers: init.allowPeers, swarm: false })
  const log = (init.logger ?? defaultLogger()).forComponent('damselfly:scheduler')
  const server = new SchedulerServer(network, new PeerPenalties(), log)
  await server.start()
  return {
    peerId: network.peerId,
    state: server.state,
    listenAddresses: () => network.listenAddresses(),
    async stop () {
      server.stop()
      await network.stop()
    }
  }
}
