import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { createPieceStore } from '@damselfly/store'
import { createNetwork } from './network.js'
import { OriginReader } from './origin.js'
import { startSwarm } from './swarm-core.js'
import { chooseTransports } from './transports.js'
import { loadWebRtcCertificate } from './webrtc-certificate.js'
import type { Swarm, SwarmCoreInit } from './swarm-core.js'
import type { ConnectionEncryption, RelayLimits } from './network.js'
import type { OriginAccess } from './origin.js'
import type { TransportName } from './transports.js'
import type { PrivateKey } from '@libp2p/interface'
import type { Registry } from 'prom-client'

/** A daemon's swarm: its key and blobs on disk, its libp2p node listening on TCP, WebSockets or WebRTC-direct. */
export interface SwarmInit extends SwarmCoreInit {
  /** Where blobs and the node's key live. */
  dataDir: string
  /**
   * Multiaddrs to listen on, each naming its transport: `/ip4/HOST/tcp/PORT`,
   * `/ip4/HOST/tcp/PORT/ws` (WebSockets) or `/ip4/HOST/udp/PORT/webrtc-direct`.
   * The node dials what `transports` names whatever it listens on.
   * @default ['/ip4/127.0.0.1/tcp/0']
   */
  listen?: string[]
  /**
   * Transports to dial peers over, besides those the listen and bootstrap
   * addresses name. @default DEFAULT_DIALED: TCP and WebSockets
   */
  transports?: readonly TransportName[]
  /** A circuit relay v2 server, so that peers that cannot listen (browsers) are reachable through this node. @default on for a seed, with RELAY_DEFAULTS */
  relay?: RelayInit
  /** Connection encryptions offered, most preferred first. @default ['tls', 'noise'] */
  encryption?: readonly ConnectionEncryption[]
  /** The 32-byte key of a private swarm (parseSwarmKey); only peers holding it can connect. @default none */
  swarmKey?: Uint8Array
  /** Peer ids allowed to connect; empty allows every peer that can connect. @default [] */
  allowPeers?: string[]
  /** No new blob is admitted while the file system is fuller than this fraction (see PieceStoreInit.diskGuard). @default 0.95 */
  diskGuard?: number
  /** Origin response and idle deadline. @default 30000 */
  originTimeoutMs?: number
  /** Credentials and CAs for origins (the registry client); anonymous without. */
  originAccess?: OriginAccess
  /**
   * Where the libp2p node records its metrics (connections, streams, bytes
   * by protocol, dials, DHT, gossipsub), beside the owner's own. @default none
   */
  metrics?: Registry
}

/** Whether a node runs a circuit relay, and its limits. */
export interface RelayInit extends RelayLimits {
  /** @default SwarmInit.seed */
  enabled?: boolean
}

export async function loadKey (dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, 'peer.key')
  try {
    return privateKeyFromProtobuf(await readFile(file))
  } catch (err: any) {
    if (err.code !== 'ENOENT') throw new Error(`cannot read the peer key ${file}: ${err.message}`)
  }
  const key = await generateKeyPair('Ed25519')
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

export async function createSwarm (init: SwarmInit): Promise<Swarm> {
  const listen = init.listen ?? ['/ip4/127.0.0.1/tcp/0']
  // a bad address or a transport the swarm key cannot guard stops the node before anything starts
  const transports = chooseTransports({ dialled: init.transports, listen, dial: [...init.bootstrap ?? [], ...init.schedulers ?? []], privateSwarm: init.swarmKey != null })
  const { enabled: relayOn = init.seed ?? false, ...relayLimits } = init.relay ?? {}
  await mkdir(init.dataDir, { recursive: true })
  const privateKey = await loadKey(init.dataDir)
  const store = await createPieceStore({ dataDir: join(init.dataDir, 'store'), diskGuard: init.diskGuard })
  // kept in the data directory, so that a WebRTC-direct address (its certhash) outlives a restart
  const certificate = listen.some(a => a.includes('/webrtc-direct')) ? await loadWebRtcCertificate(init.dataDir) : undefined
  if (certificate?.renewed === true) init.logger.forComponent('damselfly:swarm')('the WebRTC-direct certificate was near its end and is replaced: this node\'s webrtc-direct addresses have a new certhash')
  const network = await createNetwork({
    privateKey,
    listen,
    transports,
    webrtcCertificate: certificate,
    relay: relayOn ? relayLimits : undefined,
    encryption: init.encryption,
    swarmKey: init.swarmKey,
    allowPeers: init.allowPeers,
    metrics: init.metrics != null ? { registry: init.metrics, statfsPath: init.dataDir } : undefined
  })
  const origin = new OriginReader({ headersTimeoutMs: init.originTimeoutMs, idleTimeoutMs: init.originTimeoutMs, access: init.originAccess })
  return startSwarm(init, { network, store, origin })
}

