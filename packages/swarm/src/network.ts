import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify, identifyPush } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { formatSwarmKey } from '@damselfly/protocol'
import { createLibp2p } from 'libp2p'
import { controlMetrics } from './control-metrics.js'
import { libp2pLogger } from './libp2p-logger.js'
import { RELAY_DEFAULTS } from './defaults.js'
import { gossipMetrics, GOSSIP_TOPIC_LABELS } from './gossip-metrics.js'
import { CONNECTION_MONITOR, dhtInit, gossipInit, Libp2pNetwork, muxerInit } from './libp2p-network.js'
import { chooseTransports, PRIVATE_SWARM_TRANSPORTS, TransportConfigError } from './transports.js'
import type { TransportName } from './transports.js'
import type { WebRtcCertificate } from './webrtc-certificate.js'
import type { BlobDigest } from '@damselfly/protocol'
import type { GossipSub } from '@libp2p/gossipsub'
import type { AbortOptions, Libp2p, PeerId, PrivateKey, Transport } from '@libp2p/interface'
import type { HeldConnection } from './connection-cap.js'
import type { Registry } from 'prom-client'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * The few stream operations Damselfly uses; libp2p 3 streams satisfy it.
 * Keeping to this interface keeps libp2p types out of the exchange logic.
 */
export interface ByteStream extends AsyncIterable<Uint8Array | Uint8ArrayList> {
  send(data: Uint8Array | Uint8ArrayList): boolean
  onDrain(options?: AbortOptions): Promise<void>
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
}

/** An open connection to a peer, as the status shows it. */
export interface ConnectionInfo {
  /**
   * Its security protocol: `/tls/1.0.0` or `/noise` over TCP and WebSockets;
   * `native` over WebRTC-direct, whose DTLS channel is bound to the peer id by a Noise handshake.
   */
  encryption?: string
  /** What it runs over. */
  transport?: TransportName | 'webrtc' | 'relayed'
}

export interface StreamHandlerLimits {
  maxInboundStreams: number
  maxOutboundStreams: number
}

export interface ProviderRecord {
  peer: string
  addrs: string[]
}

/** What the swarm needs from the peer-to-peer network. */
export interface SwarmNetwork {
  readonly peerId: string
  readonly privateKey: PrivateKey
  listenAddresses(): string[]
  connectedPeers(): string[]
  isConnected(peer: string): boolean
  /** Peers known (through identify) to speak a protocol. */
  peersSupporting(protocol: string): string[]
  /** The peer said (through identify) it does not speak the protocol; false while it has said nothing. */
  lacks(peer: string, protocol: string): boolean
  handle(protocol: string, handler: (stream: ByteStream, peer: string) => void, limits: StreamHandlerLimits): Promise<void>
  open(peer: string, protocol: string, options: AbortOptions): Promise<ByteStream>
  dial(addr: string, options: AbortOptions): Promise<string>
  rememberAddresses(peer: string, addrs: string[]): Promise<void>
  /** The addresses this node knows for a peer (from identify and dials); none when it knows none. */
  addressesOf(peer: string): Promise<string[]>
  provide(digest: BlobDigest, options: AbortOptions): Promise<void>
  /** Stop providing: this node's own record goes, and it is not published again. */
  withdraw(digest: BlobDigest, options: AbortOptions): Promise<void>
  findProviders(digest: BlobDigest, options: AbortOptions): AsyncIterable<ProviderRecord>
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  /** Peers this node knows to be subscribed to the topic. */
  subscribers(topic: string): string[]
  publish(topic: string, data: Uint8Array): Promise<void>
  onMessage(handler: (topic: string, from: string, data: Uint8Array) => void): void
  /** How this node is connected to a peer, if it is. */
  connectionWith(peer: string): ConnectionInfo | undefined
  /** Each open connection as the connection cap weighs it; in use means a stream of one of `protocols` is open on it. */
  connections(protocols: readonly string[]): Array<Omit<HeldConnection, 'kept'>>
  /**
   * Of `peers`, those the network itself keeps connected and would dial again
   * at once if a connection closed: the DHT's closest peers (libp2p's
   * keep-alive tag). Closing theirs only makes a new one.
   */
  keptAlive(peers: string[]): Promise<Set<string>>
  /** Close the connections to the peer that this node opened and that carry none of `protocols` now; resolves with how many. */
  closeOpened(peer: string, protocols: readonly string[]): Promise<number>
  stop(): Promise<void>
}

const ENCRYPTERS = { tls, noise }

/** A connection encryption a node can offer. */
export type ConnectionEncryption = keyof typeof ENCRYPTERS

/** Every connection encryption a node can offer. */
export const CONNECTION_ENCRYPTIONS = Object.keys(ENCRYPTERS) as readonly ConnectionEncryption[]

/**
 * What a node offers, most preferred first: on this stack TLS moves about
 * 1.7x the bytes of Noise per CPU second; Noise is there for peers that
 * offer only Noise. go-libp2p offers both.
 */
export const DEFAULT_ENCRYPTION: readonly ConnectionEncryption[] = ['tls', 'noise']

export interface NetworkInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on: TCP, WebSockets (`.../tcp/PORT/ws`) or WebRTC-direct (`.../udp/PORT/webrtc-direct`). */
  listen: string[]
  /**
   * The transports the node dials and may listen on; a listen address needs
   * its own. @default chooseTransports: DEFAULT_DIALED and those the listen addresses name
   */
  transports?: readonly TransportName[]
  /** Run a circuit relay v2 server with these limits. @default none: no relay */
  relay?: RelayLimits
  /** The WebRTC-direct listener's certificate (loadWebRtcCertificate). @default a new one each start: the certhash changes */
  webrtcCertificate?: WebRtcCertificate
  /** Connection encryptions offered, most preferred first. @default DEFAULT_ENCRYPTION */
  encryption?: readonly ConnectionEncryption[]
  /**
   * The 32-byte pre-shared key of a private network (libp2p pnet): only
   * peers holding it can complete a connection, in either direction.
   * @default none: any peer that reaches the node may connect
   */
  swarmKey?: Uint8Array
  /** Peer ids allowed to connect, either way; others are refused once identified. @default none: every peer */
  allowPeers?: readonly string[]
  /** Where the node records its metrics. @default none: it records none */
  metrics?: NetworkMetricsInit
  /**
   * Take part in the swarm's DHT and gossip. @default true; false for a node
   * that only answers its own protocol (the scheduler): nobody routes DHT
   * queries or gossip through it, and it spends nothing on them
   */
  swarm?: boolean
}

/** A circuit relay's limits; see RELAY_DEFAULTS. */
export interface RelayLimits {
  /** Peers holding a reservation at once. @default RELAY_DEFAULTS.maxReservations */
  maxReservations?: number
  /** How long a reservation lasts unless renewed. @default RELAY_DEFAULTS.reservationTtlMs */
  reservationTtlMs?: number
  /** How long one relayed connection may stay open. @default RELAY_DEFAULTS.durationMs */
  durationMs?: number
  /** Bytes one relayed connection may carry, both ways together. @default RELAY_DEFAULTS.dataBytes */
  dataBytes?: number
}

export interface NetworkMetricsInit {
  /** Gets libp2p's metrics (connections, streams, bytes by protocol, dials, DHT) and gossipsub's. */
  registry: Registry
  /** A path on the file system whose use libp2p reports (`nodejs_fs_usage_bytes`). */
  statfsPath: string
}

/** Connections a node keeps open at once. */
const MAX_CONNECTIONS = 300

type Node = Libp2p<{ pubsub?: GossipSub, dht?: any, identify: unknown, identifyPush: unknown, ping: unknown, relay?: unknown }>

type TransportFactory = (components: any) => Transport

/** The libp2p transport of each name; WebRTC-direct's native module is loaded only by a node that uses it. */
async function transportFactory (name: TransportName, init: NetworkInit): Promise<TransportFactory> {
  switch (name) {
    case 'tcp': return tcp()
    case 'websockets': return webSockets()
    case 'webrtc-direct': return (await import('@libp2p/webrtc')).webRTCDirect({ certificate: init.webrtcCertificate })
  }
}

export async function createNetwork (init: NetworkInit): Promise<SwarmNetwork> {
  const encryption = init.encryption ?? DEFAULT_ENCRYPTION
  if (encryption.length === 0) throw new TypeError('at least one connection encryption is needed')
  for (const name of encryption) {
    if (!CONNECTION_ENCRYPTIONS.includes(name)) throw new TypeError(`unknown connection encryption ${JSON.stringify(name)}: ${CONNECTION_ENCRYPTIONS.join(' or ')}`)
  }
  const transports = init.transports ?? chooseTransports({ listen: init.listen, privateSwarm: init.swarmKey != null })
  // the swarm key is the trust model's gate: no transport it does not guard, whoever chose them
  const unguarded = transports.find(t => !PRIVATE_SWARM_TRANSPORTS.includes(t))
  if (init.swarmKey != null && unguarded != null) {
    throw new TransportConfigError(`a private swarm (swarm key) cannot use ${unguarded}: js-libp2p does not apply the swarm key to its connections`)
  }
  const relay = init.relay
  const allowed = init.allowPeers != null && init.allowPeers.length > 0 ? new Set(init.allowPeers) : undefined
  const refused = (peer: PeerId): boolean => allowed != null && !allowed.has(peer.toString())
  const registry = init.metrics?.registry
  const node: Node = await createLibp2p({
    privateKey: init.privateKey,
    logger: libp2pLogger(),
    addresses: { listen: init.listen },
    transports: await Promise.all(transports.map(async t => transportFactory(t, init))),
    ...(init.swarmKey != null ? { connectionProtector: preSharedKey({ psk: new TextEncoder().encode(formatSwarmKey(init.swarmKey)) }) } : {}),
    // an allow-list is checked once the encryption handshake has proved who the peer is
    ...(allowed != null ? { connectionGater: { denyDialPeer: refused, denyInboundEncryptedConnection: refused, denyOutboundEncryptedConnection: refused } } : {}),
    connectionEncrypters: [...new Set(encryption)].map(name => ENCRYPTERS[name]()),
    ...(registry != null ? { metrics: controlMetrics({ registry, statfsPath: init.metrics!.statfsPath }) } : {}),
    streamMuxers: [yamux(muxerInit())],
    connectionManager: {
      maxConnections: MAX_CONNECTIONS,
      // js-libp2p refuses a sixth inbound connection within a second from one
      // IP address, before any handshake, a guard against one host flooding
      // a node on the open internet. A swarm's members often share an address
      // (a NAT, a cluster node's pod network, one test host), and a cold start
      // has them all dial the seeds within that second: refused, they back
      // off and come late. The peer id is not known at that point, so the
      // limit cannot be per peer; one address may open as many connections a
      // second as the node keeps at all. Handshakes in progress stay capped
      // (maxIncomingPendingConnections), and so does the total.
      inboundConnectionThreshold: MAX_CONNECTIONS
    },
    connectionMonitor: CONNECTION_MONITOR,
    services: {
      identify: identify(),
      // tells connected peers at once when this node's protocols or addresses
      // change (docs/protocol.md §2 requires it of every peer)
      identifyPush: identifyPush(),
      ping: ping(),
      // reachable through this node: peers that cannot listen (browsers)
      // reserve a slot and others dial them over it to set up WebRTC
      ...(relay != null
        ? {
            relay: circuitRelayServer({
              reservations: {
                maxReservations: relay.maxReservations ?? RELAY_DEFAULTS.maxReservations,
                reservationTtl: relay.reservationTtlMs ?? RELAY_DEFAULTS.reservationTtlMs,
                applyDefaultLimit: true,
                defaultDurationLimit: relay.durationMs ?? RELAY_DEFAULTS.durationMs,
                defaultDataLimit: BigInt(relay.dataBytes ?? RELAY_DEFAULTS.dataBytes)
              }
            })
          }
        : {}),
      ...(init.swarm !== false
        ? {
            dht: kadDHT(dhtInit(false)),
            pubsub: gossipsub({
              ...gossipInit(),
              ...(registry != null ? { metricsRegister: gossipMetrics(registry), metricsTopicStrToLabel: GOSSIP_TOPIC_LABELS } : {})
            })
          }
        : {})
    }
  }) as unknown as Node
  return new Libp2pNetwork(node, init.privateKey)
}

