import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import { identify, identifyPush } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { blobCid, formatSwarmKey, KAD_PROTOCOL, MAX_GOSSIP_MESSAGE } from '@damselfly/protocol'
import { createLibp2p } from 'libp2p'
import { RELAY_DEFAULTS } from './defaults.js'
import { gossipMetrics, GOSSIP_TOPIC_LABELS } from './gossip-metrics.js'
import { chooseTransports, connectionTransport, PRIVATE_SWARM_TRANSPORTS, TransportConfigError } from './transports.js'
import type { TransportName } from './transports.js'
import type { BlobDigest } from '@damselfly/protocol'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { AbortOptions, Connection, Libp2p, PeerId, PrivateKey, Transport } from '@libp2p/interface'
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
  transport?: TransportName | 'relayed'
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
  handle(protocol: string, handler: (stream: ByteStream, peer: string) => void, limits: StreamHandlerLimits): Promise<void>
  open(peer: string, protocol: string, options: AbortOptions): Promise<ByteStream>
  dial(addr: string, options: AbortOptions): Promise<string>
  rememberAddresses(peer: string, addrs: string[]): Promise<void>
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

/** How long a provider record is good for (see the kad-dht settings below). */
const PROVIDER_RECORD_MS = 6 * 3_600_000

/**
 * The largest Yamux receive window per stream: several pieces in flight,
 * below the 4 MB read buffer. A stream starts at the spec's 256 KiB, which
 * both sides assume until a window update says otherwise, and grows to this
 * through window updates while the reader keeps up.
 */
const MAX_STREAM_WINDOW = 2 * 1024 * 1024

/** Connections a node keeps open at once. */
const MAX_CONNECTIONS = 300

type Node = Libp2p<{ pubsub: GossipSub, dht: any, identify: unknown, identifyPush: unknown, ping: unknown, relay?: unknown }>

type TransportFactory = (components: any) => Transport

/** The libp2p transport of each name; WebRTC-direct's native module is loaded only by a node that uses it. */
async function transportFactory (name: TransportName): Promise<TransportFactory> {
  switch (name) {
    case 'tcp': return tcp()
    case 'websockets': return webSockets()
    case 'webrtc-direct': return (await import('@libp2p/webrtc')).webRTCDirect()
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
    addresses: { listen: init.listen },
    transports: await Promise.all(transports.map(transportFactory)),
    ...(init.swarmKey != null ? { connectionProtector: preSharedKey({ psk: new TextEncoder().encode(formatSwarmKey(init.swarmKey)) }) } : {}),
    // an allow-list is checked once the encryption handshake has proved who the peer is
    ...(allowed != null ? { connectionGater: { denyDialPeer: refused, denyInboundEncryptedConnection: refused, denyOutboundEncryptedConnection: refused } } : {}),
    connectionEncrypters: [...new Set(encryption)].map(name => ENCRYPTERS[name]()),
    // the process's metrics (CPU, memory, event loop) are the registry's
    // owner's to add. preserveExistingMetrics stays off: libp2p caches its
    // metrics by name across nodes, and on it would give a second node in the
    // process the first one's (off, it empties prom-client's global registry,
    // which nothing here uses)
    ...(registry != null ? { metrics: prometheusMetrics({ registry, collectDefaultMetrics: false, statfsLocation: init.metrics?.statfsPath }) } : {}),
    streamMuxers: [yamux({
      // the initial window stays at the spec's 256 KiB: js-yamux takes the
      // initial size as the peer's window too, and a peer on another stack
      // (go-yamux) starts at 256 KiB whatever this side was configured with,
      // so a wider start overran it and it closed the whole connection.
      // js-yamux doubles a stream's window, up to the maximum, each time its
      // reader empties it within a few round trips
      streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW }
    })],
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
    // libp2p pings every connection every 10 s and, by default, aborts it
    // when a ping fails: takes longer than an adaptive timeout of at least
    // 5 s, or overlaps the previous one. A daemon busy moving pieces on a
    // loaded machine answers late, not never: an N=20 cold start on 2 cores
    // lost 1,697 connections that way (247 with a 30 s timeout, to
    // overlapping pings), each taking its sessions and pieces in flight with
    // it and costing a new TLS handshake. A peer that is gone closes its TCP
    // connection, and a download leaves a stalled parent on its own.
    // So the pings only keep idle connections alive through NATs (AWS's NAT
    // gateway drops one idle for 350 s), and once a minute does that. Every
    // 10 s, each ping a new stream that both ends negotiate and record in
    // their peer stores, a 30-node cold start of the 30 MiB image on 2 cores
    // took 114-126 s and 7.1-7.9 CPU-seconds per daemon; with no pings,
    // 84-100 s and 5.2-6.3.
    connectionMonitor: {
      abortConnectionOnPingFailure: false,
      pingInterval: 60_000
    },
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
      dht: kadDHT({
        protocol: KAD_PROTOCOL,
        clientMode: false,
        // a private swarm lives on LAN and loopback addresses: keep them all
        peerInfoMapper: passthroughMapper,
        allowQueryWithZeroPeers: true,
        // k, as BitTorrent's DHT has it, not 20 as IPFS's: every request a
        // peer answers costs it k reads from its peer store, and every answer
        // costs the asker k routing-table updates and peer-store merges. A
        // 20-node cold start of the 30 MiB image on 2 cores (bench/cold-start.mjs):
        // 80.7 s and 7.4 CPU-seconds per daemon with 20, 45.1 s and 4.1 with 8.
        // Provider records are kept by the 8 peers closest to a blob's key.
        kBucketSize: 8,
        // a record is good for 6 hours, renewed 2 hours before it lapses:
        // the records of a blob a node no longer holds (collected, and no
        // longer renewed) are gone from the swarm within 6 hours, where the
        // IPFS defaults keep them for 24 to 48
        providers: { provideValidity: PROVIDER_RECORD_MS / 1000 },
        reprovide: { validity: PROVIDER_RECORD_MS, threshold: PROVIDER_RECORD_MS / 3, interval: PROVIDER_RECORD_MS / 12 }
      }),
      pubsub: gossipsub({
        // drop the copies of a message that other mesh peers forward before
        // checking signatures: without this every copy is verified, which cost
        // more CPU than moving the blob itself. from+seqno is StrictSign's message id.
        fastMsgIdFn: msg => `${Buffer.from(msg.from ?? []).toString('base64')}/${Buffer.from(msg.seqno ?? []).toString('base64')}`,
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // gossipsub scores down peers that share an IP address once more than
        // ten do (-5 x the excess squared), a defence against Sybils on the
        // open internet. A private swarm often has many nodes behind one
        // address (one host, NAT, a local cluster): with 14 such peers a node
        // stopped publishing to them, with 15 it dropped all they sent
        scoreParams: { IPColocationFactorWeight: 0 },
        maxInboundDataLength: MAX_GOSSIP_MESSAGE * 2,
        ...(registry != null ? { metricsRegister: gossipMetrics(registry), metricsTopicStrToLabel: GOSSIP_TOPIC_LABELS } : {})
      })
    }
  }) as unknown as Node
  return new Libp2pNetwork(node, init.privateKey)
}

function describe (connection: Connection | undefined): ConnectionInfo {
  if (connection == null) return {}
  return { encryption: connection.encryption, transport: connectionTransport(connection.remoteAddr.toString()) }
}

class Libp2pNetwork implements SwarmNetwork {
  readonly #node: Node
  readonly privateKey: PrivateKey
  readonly peerId: string

  /** What each connected peer said it speaks, from identify. */
  readonly #protocols = new Map<string, string[]>()

  /**
   * Connected peers, kept from libp2p's peer and connection events, each with
   * the encryption of an open connection to it. The swarm asks for them on
   * every scheduling pass and gossip message; asking libp2p each time rebuilt
   * a peer set and base58-encoded every peer id, about 3% of a daemon's CPU in
   * a 10-node cold start. The daemon's activity sampler lists the peers with
   * their encryption every second; asking libp2p for each one's connections
   * was over 1% in a 30-node cold start.
   */
  readonly #connected = new Map<string, ConnectionInfo>()

  constructor (node: Node, privateKey: PrivateKey) {
    this.#node = node
    this.privateKey = privateKey
    this.peerId = node.peerId.toString()
    const connectionOf = (peer: PeerId): ConnectionInfo => describe(node.getConnections(peer).find(c => c.status === 'open'))
    for (const p of node.getPeers()) this.#connected.set(p.toString(), connectionOf(p))
    node.addEventListener('peer:connect', (evt) => {
      this.#connected.set(evt.detail.toString(), connectionOf(evt.detail))
    })
    node.addEventListener('peer:identify', (evt) => {
      this.#protocols.set(evt.detail.peerId.toString(), evt.detail.protocols)
    })
    node.addEventListener('connection:close', (evt) => {
      // another connection to the peer may stay open, with its own encryption and transport
      const peer = evt.detail.remotePeer.toString()
      if (this.#connected.has(peer)) this.#connected.set(peer, connectionOf(evt.detail.remotePeer))
    })
    node.addEventListener('peer:disconnect', (evt) => {
      const peer = evt.detail.toString()
      this.#connected.delete(peer)
      this.#protocols.delete(peer)
    })
  }

  listenAddresses (): string[] {
    return this.#node.getMultiaddrs().map(ma => ma.toString())
  }

  connectedPeers (): string[] {
    return [...this.#connected.keys()]
  }

  isConnected (peer: string): boolean {
    return this.#connected.has(peer)
  }

  connectionWith (peer: string): ConnectionInfo | undefined {
    return this.#connected.get(peer)
  }

  peersSupporting (protocol: string): string[] {
    const peers: string[] = []
    for (const [peer, protocols] of this.#protocols) {
      if (this.#connected.has(peer) && protocols.includes(protocol)) peers.push(peer)
    }
    return peers
  }

  async handle (protocol: string, handler: (stream: ByteStream, peer: string) => void, limits: StreamHandlerLimits): Promise<void> {
    await this.#node.handle(protocol, (stream, connection) => {
      handler(stream, connection.remotePeer.toString())
    }, limits)
  }

  async open (peer: string, protocol: string, options: AbortOptions): Promise<ByteStream> {
    // the protocol name goes out with the first frame (every stream here
    // starts with the opener's message): a round trip less before data flows
    return this.#node.dialProtocol(peerIdFromString(peer), protocol, { ...options, negotiateFully: false })
  }

  async dial (addr: string, options: AbortOptions): Promise<string> {
    const conn = await this.#node.dial(multiaddr(addr), options)
    return conn.remotePeer.toString()
  }

  async rememberAddresses (peer: string, addrs: string[]): Promise<void> {
    if (addrs.length === 0 || peer === this.peerId) return
    const multiaddrs = []
    for (const a of addrs) {
      try {
        multiaddrs.push(multiaddr(a))
      } catch {
        // a peer's bad address is its problem: skip it
      }
    }
    await this.#node.peerStore.merge(peerIdFromString(peer), { multiaddrs })
  }

  async provide (digest: BlobDigest, options: AbortOptions): Promise<void> {
    await this.#node.contentRouting.provide(blobCid(digest), options)
  }

  async withdraw (digest: BlobDigest, options: AbortOptions): Promise<void> {
    await this.#node.contentRouting.cancelReprovide(blobCid(digest), options)
  }

  async * findProviders (digest: BlobDigest, options: AbortOptions): AsyncIterable<ProviderRecord> {
    for await (const p of this.#node.contentRouting.findProviders(blobCid(digest), options)) {
      yield { peer: p.id.toString(), addrs: p.multiaddrs.map(m => m.toString()) }
    }
  }

  subscribe (topic: string): void {
    this.#node.services.pubsub.subscribe(topic)
  }

  unsubscribe (topic: string): void {
    this.#node.services.pubsub.unsubscribe(topic)
  }

  subscribers (topic: string): string[] {
    return this.#node.services.pubsub.getSubscribers(topic).map(p => p.toString())
  }

  async publish (topic: string, data: Uint8Array): Promise<void> {
    await this.#node.services.pubsub.publish(topic, data)
  }

  onMessage (handler: (topic: string, from: string, data: Uint8Array) => void): void {
    this.#node.services.pubsub.addEventListener('message', (evt: CustomEvent<Message>) => {
      const msg = evt.detail
      if (msg.type !== 'signed') return
      handler(msg.topic, msg.from.toString(), msg.data)
    })
  }

  async stop (): Promise<void> {
    await this.#node.stop()
  }
}
