import { KEEP_ALIVE } from '@libp2p/interface'
import { passthroughMapper } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { blobCid, KAD_PROTOCOL, MAX_GOSSIP_MESSAGE } from '@damselfly/protocol'
import { toString as toBase64 } from 'uint8arrays/to-string'
import { connectionTransport } from './transports.js'
import { skipUnchangedPeerWrites } from './peer-store-writes.js'
import type { ByteStream, ConnectionInfo, ProviderRecord, StreamHandlerLimits, SwarmNetwork } from './network.js'
import type { HeldConnection } from './connection-cap.js'
import type { BlobDigest } from '@damselfly/protocol'
import type { GossipSub, GossipsubOpts, Message } from '@libp2p/gossipsub'
import type { AbortOptions, Connection, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { KadDHTInit } from '@libp2p/kad-dht'
import type { YamuxMuxerInit } from '@libp2p/yamux'

/**
 * What every Damselfly node runs on libp2p, whatever it runs in: the settings
 * its peers must agree with, and the SwarmNetwork over a libp2p node. Nothing
 * here needs Node's built-ins: a daemon (network.ts) and a browser peer share it.
 */

/** A libp2p node with the services SwarmNetwork uses. */
export type SwarmLibp2p = Libp2p<{ pubsub?: GossipSub }>

/** How long a provider record is good for (see dhtInit). */
const PROVIDER_RECORD_MS = 6 * 3_600_000

/**
 * The largest Yamux receive window per stream: several pieces in flight,
 * below the 4 MB read buffer. A stream starts at the spec's 256 KiB, which
 * both sides assume until a window update says otherwise, and grows to this
 * through window updates while the reader keeps up.
 */
const MAX_STREAM_WINDOW = 2 * 1024 * 1024

/** The Yamux settings of every node. */
export function muxerInit (): YamuxMuxerInit {
  return {
    // the initial window stays at the spec's 256 KiB: js-yamux takes the
    // initial size as the peer's window too, and a peer on another stack
    // (go-yamux) starts at 256 KiB whatever this side was configured with,
    // so a wider start overran it and it closed the whole connection.
    // js-yamux doubles a stream's window, up to the maximum, each time its
    // reader empties it within a few round trips
    streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW }
  }
}

/**
 * How connections are watched. libp2p pings every connection every 10 s and, by default, aborts it
 * when a ping fails: takes longer than an adaptive timeout of at least
 * 5 s, or overlaps the previous one. A daemon busy moving pieces on a
 * loaded machine answers late, not never: an N=20 cold start on 2 cores
 * lost 1,697 connections that way (247 with a 30 s timeout, to
 * overlapping pings), each taking its sessions and pieces in flight with
 * it and costing a new TLS handshake. A peer that is gone closes its TCP
 * connection, and a download leaves a stalled parent on its own.
 * So the pings only keep idle connections alive through NATs (AWS's NAT
 * gateway drops one idle for 350 s), and once a minute does that. Every
 * 10 s, each ping a new stream that both ends negotiate and record in
 * their peer stores, a 30-node cold start of the 30 MiB image on 2 cores
 * took 114-126 s and 7.1-7.9 CPU-seconds per daemon; with no pings,
 * 84-100 s and 5.2-6.3.
 */
export const CONNECTION_MONITOR = {
  abortConnectionOnPingFailure: false,
  pingInterval: 60_000
}

/** The Kademlia DHT of a swarm; `clientMode` for a peer that others cannot dial (a browser). */
export function dhtInit (clientMode: boolean): KadDHTInit {
  return {
    protocol: KAD_PROTOCOL,
    clientMode,
    // a private swarm lives on LAN and loopback addresses: keep them all
    peerInfoMapper: passthroughMapper,
    // a server may be the first node of its swarm, and answers from its own
    // records meanwhile. A client has nothing to ask until it meets a server:
    // with no peer its queries end without any I/O, and libp2p's random walk
    // (the circuit relay transport's search for relays) runs them back to back
    // and never lets the page's event loop turn
    allowQueryWithZeroPeers: !clientMode,
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
  }
}

/** The gossipsub settings of every node; metrics are the daemon's to add. */
export function gossipInit (): Partial<GossipsubOpts> {
  return {
    // drop the copies of a message that other mesh peers forward before
    // checking signatures: without this every copy is verified, which cost
    // more CPU than moving the blob itself. from+seqno is StrictSign's message id.
    fastMsgIdFn: msg => `${toBase64(msg.from ?? new Uint8Array(), 'base64')}/${toBase64(msg.seqno ?? new Uint8Array(), 'base64')}`,
    allowPublishToZeroTopicPeers: true,
    // a message published goes to the topic's mesh (D peers), not to every
    // peer on the topic: flood publishing made each announcement and beacon
    // cost its sender one copy per peer in the swarm
    floodPublish: false,
    // a mesh of 4 rather than 6, and gossip (IHAVE) to 3 peers outside it
    // rather than 6 or a quarter of them: each message a node takes in
    // arrived about 15 times at D = 6 in a 30-node cold start, 9 at D = 4,
    // and the swarm's messages (announcements, beacons) are small and
    // found again otherwise (DHT, probes, BUSY answers) when one is lost.
    // bench:control, 30 nodes, 8 MiB: control messages per node per pull
    // 6,444 to 3,419, CPU-seconds per node 5.25 to 4.54
    D: 4,
    Dlo: 3,
    Dhi: 8,
    Dout: 1,
    Dscore: 2,
    Dlazy: 3,
    gossipFactor: 0.1,
    emitSelf: false,
    // gossipsub scores down peers that share an IP address once more than
    // ten do (-5 x the excess squared), a defence against Sybils on the
    // open internet. A private swarm often has many nodes behind one
    // address (one host, NAT, a local cluster): with 14 such peers a node
    // stopped publishing to them, with 15 it dropped all they sent
    scoreParams: { IPColocationFactorWeight: 0 },
    maxInboundDataLength: MAX_GOSSIP_MESSAGE * 2
  }
}

function describe (connection: Connection | undefined): ConnectionInfo {
  if (connection == null) return {}
  return { encryption: connection.encryption, transport: connectionTransport(connection.remoteAddr.toString()) }
}

export class Libp2pNetwork implements SwarmNetwork {
  readonly #node: SwarmLibp2p
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

  constructor (node: SwarmLibp2p, privateKey: PrivateKey) {
    this.#node = node
    this.privateKey = privateKey
    this.peerId = node.peerId.toString()
    skipUnchangedPeerWrites(node.peerStore, node)
    // a relayed connection is limited and soon replaced by a direct one (WebRTC set up over it): the direct one is what carries pieces
    const connectionOf = (peer: PeerId): ConnectionInfo => {
      const open = node.getConnections(peer).filter(c => c.status === 'open')
      return describe(open.find(c => c.limits == null) ?? open[0])
    }
    for (const p of node.getPeers()) this.#connected.set(p.toString(), connectionOf(p))
    node.addEventListener('peer:connect', (evt) => {
      this.#connected.set(evt.detail.toString(), connectionOf(evt.detail))
    })
    node.addEventListener('peer:identify', (evt) => {
      this.#protocols.set(evt.detail.peerId.toString(), evt.detail.protocols)
    })
    node.addEventListener('connection:open', (evt) => {
      const peer = evt.detail.remotePeer.toString()
      if (this.#connected.has(peer)) this.#connected.set(peer, connectionOf(evt.detail.remotePeer))
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

  lacks (peer: string, protocol: string): boolean {
    const protocols = this.#protocols.get(peer)
    return protocols != null && !protocols.includes(protocol)
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

  async addressesOf (peer: string): Promise<string[]> {
    try {
      const found = await this.#node.peerStore.get(peerIdFromString(peer))
      return found.addresses.map(a => a.multiaddr.toString())
    } catch {
      return []
    }
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

  #pubsub (): GossipSub {
    const pubsub = this.#node.services.pubsub
    if (pubsub == null) throw new Error('this node runs no gossip')
    return pubsub
  }

  subscribe (topic: string): void {
    this.#pubsub().subscribe(topic)
  }

  unsubscribe (topic: string): void {
    this.#pubsub().unsubscribe(topic)
  }

  subscribers (topic: string): string[] {
    return this.#pubsub().getSubscribers(topic).map(p => p.toString())
  }

  async publish (topic: string, data: Uint8Array): Promise<void> {
    await this.#pubsub().publish(topic, data)
  }

  onMessage (handler: (topic: string, from: string, data: Uint8Array) => void): void {
    // a node without gossip (the scheduler) hears nothing
    const pubsub = this.#node.services.pubsub
    if (pubsub == null) return
    pubsub.addEventListener('message', (evt: CustomEvent<Message>) => {
      const msg = evt.detail
      if (msg.type !== 'signed') return
      handler(msg.topic, msg.from.toString(), msg.data)
    })
  }

  connections (protocols: readonly string[]): Array<Omit<HeldConnection, 'kept'>> {
    const now = Date.now()
    return this.#node.getConnections().map(c => ({
      peer: c.remotePeer.toString(),
      outbound: c.direction === 'outbound',
      ageMs: now - c.timeline.open,
      inUse: carries(c, protocols)
    }))
  }

  async keptAlive (peers: string[]): Promise<Set<string>> {
    const kept = new Set<string>()
    await Promise.all([...new Set(peers)].map(async peer => {
      try {
        // libp2p dials a peer again when it drops while any tag of this prefix is on it (kad-dht's is keep-alive-kad-dht)
        const { tags } = await this.#node.peerStore.get(peerIdFromString(peer))
        if ([...tags.keys()].some(tag => tag.startsWith(KEEP_ALIVE))) kept.add(peer)
      } catch {
        // not in the peer store: nothing keeps it
      }
    }))
    return kept
  }

  async closeOpened (peer: string, protocols: readonly string[]): Promise<number> {
    const idle = this.#node.getConnections(peerIdFromString(peer)).filter(c => c.direction === 'outbound' && !carries(c, protocols))
    await Promise.all(idle.map(async c => c.close().catch(err => { c.abort(err) })))
    return idle.length
  }

  async stop (): Promise<void> {
    await this.#node.stop()
  }
}

function carries (connection: Connection, protocols: readonly string[]): boolean {
  return connection.streams.some(s => s.protocol != null && protocols.includes(s.protocol))
}
