import { once } from 'node:events'
import { defaultLogger } from '@libp2p/logger'
import { createSwarm } from '@damselfly/swarm'
import { createControlApi } from './api.js'
import type { Swarm, SwarmInit } from '@damselfly/swarm'
import type { AddressInfo } from 'node:net'

export interface DaemonInit extends Omit<SwarmInit, 'logger'> {
  /** Control API address. @default { host: '127.0.0.1', port: 65002 } */
  api?: { host: string, port: number }
}

export interface Daemon {
  readonly swarm: Swarm
  /** host:port the control API listens on. */
  readonly apiAddress: string
  stop(): Promise<void>
}

export async function startDaemon (init: DaemonInit): Promise<Daemon> {
  const logger = defaultLogger()
  const log = logger.forComponent('damselfly:daemon')
  const swarm = await createSwarm({ ...init, logger })
  const server = createControlApi(swarm, log)
  const api = init.api ?? { host: '127.0.0.1', port: 65002 }
  server.listen(api.port, api.host)
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  } catch (err: any) {
    await swarm.stop()
    throw new Error(`cannot listen on ${api.host}:${api.port} for the control API: ${err.message}`)
  }
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    swarm,
    apiAddress: `${host}:${addr.port}`,
    async stop () {
      server.closeAllConnections()
      server.close()
      await swarm.stop()
    }
  }
}
