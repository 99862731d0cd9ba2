import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { identify, identifyPush } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { defaultLogger } from '@libp2p/logger'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { parseDigest } from '@damselfly/protocol'
import { createMemoryPieceStore } from '@damselfly/store/memory'
import { CONNECTION_MONITOR, dhtInit, gossipInit, Libp2pNetwork, muxerInit, startSwarm, TaskFailedError } from '@damselfly/swarm/portable'
import { createLibp2p } from 'libp2p'
import { CustomProgressEvent } from 'progress-events'
import { BROWSER_TRANSPORTS, DEFAULT_JOIN_TIMEOUT_MS, DEFAULT_MAX_BYTES, DEFAULT_UPLOAD_SLOTS, JOIN_POLL_MS } from './constants.js'
import { BootstrapError } from './errors.js'
import type { BrowserPeer, BrowserPeerBan, BrowserPeerConnection, BrowserPeerInit, BrowserPeerStats, FetchOptions, FetchSummary, IceServer } from './index.js'
import type { BrowserTransport } from './constants.js'
import type { BlobDigest, BlobLayout } from '@damselfly/protocol'
import type { PieceStore } from '@damselfly/store/memory'
import type { OriginPolicy, Swarm, SwarmLibp2p, SwarmNetwork } from '@damselfly/swarm/portable'
import type { Transport } from '@libp2p/interface'

/** A browser pulls from no origin: what it fetches comes from the swarm, every byte verified. */
const NO_ORIGIN: OriginPolicy = { refusal: () => 'a browser peer reads from the swarm only' }

/** Bans from single downloads a peer remembers. */
const MAX_TASK_BANS_KEPT = 100

const NO_ORIGIN_READER = {
  async read (): Promise<void> {
    throw new TaskFailedError('a browser peer reads from the swarm only', 'origin')
  },
  async readRange (): Promise<void> {
    throw new TaskFailedError('a browser peer reads from the swarm only', 'origin')
  }
}

function transportsFor (names: readonly BrowserTransport[], iceServers: IceServer[]): Array<(components: any) => Transport> {
  const out: Array<(components: any) => Transport> = []
  if (names.includes('websockets')) out.push(webSockets())
  if (names.includes('webrtc-direct')) out.push(webRTCDirect())
  // WebRTC between browsers is set up over a relayed connection, so it needs the relay transport;
  // its ICE servers are the caller's (js-libp2p's own default is four public STUN services)
  if (names.includes('webrtc')) out.push(webRTC({ rtcConfiguration: { iceServers } }), circuitRelayTransport())
  return out
}

export async function createBrowserPeer (init: BrowserPeerInit): Promise<BrowserPeer> {
  const names = init.transports ?? BROWSER_TRANSPORTS
  const privateKey = await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey,
    // reachable only through a relay: a reservation on a daemon, over which
    // other browsers open WebRTC connections to this one
    addresses: { listen: names.includes('webrtc') ? ['/p2p-circuit', '/webrtc'] : [] },
    transports: transportsFor(names, init.iceServers ?? []),
    // TLS needs Node's crypto: a browser offers Noise, which every daemon accepts
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(muxerInit())],
    // in a browser libp2p refuses by default to dial plain ws:// and private
    // addresses; a swarm lives on LAN addresses, and its daemons need no certificate
    connectionGater: { denyDialMultiaddr: () => false },
    connectionMonitor: CONNECTION_MONITOR,
    services: {
      identify: identify(),
      identifyPush: identifyPush(),
      ping: ping(),
      dht: kadDHT(dhtInit(true)),
      pubsub: gossipsub(gossipInit())
    }
  }) as unknown as SwarmLibp2p
  const network = new Libp2pNetwork(node, privateKey)
  const store = createMemoryPieceStore({ maxBytes: init.maxBytes ?? DEFAULT_MAX_BYTES })
  const swarm = await startSwarm({
    bootstrap: init.bootstrap,
    trustedSeeds: init.trustedSeeds,
    maxParents: init.maxParents,
    uploadSlots: init.uploadSlots ?? DEFAULT_UPLOAD_SLOTS,
    originFallback: false,
    originPolicy: NO_ORIGIN,
    logger: defaultLogger()
  }, { network, store, origin: NO_ORIGIN_READER })
  try {
    await joined(swarm, init.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS)
  } catch (err) {
    await swarm.stop()
    throw err
  }
  return new DamselflyBrowserPeer(swarm, network, store)
}

/**
 * Resolves once a bootstrap peer is connected: a fetch started before that
 * finds nobody to ask, and waits out the engine's discovery deadlines (7 s
 * to the first piece in the e2e test, against 0.1 s once joined).
 */
async function joined (swarm: Swarm, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (true) {
    const status = swarm.bootstrapStatus()
    if (status.length === 0 || status.some(s => s.connected)) return
    if (performance.now() > deadline) {
      throw new BootstrapError(`could not reach any bootstrap peer within ${timeoutMs} ms: ${status.map(s => `${s.address}: ${s.lastError ?? 'no answer'}`).join('; ')}`)
    }
    await new Promise(resolve => setTimeout(resolve, JOIN_POLL_MS))
  }
}

class DamselflyBrowserPeer implements BrowserPeer {
  readonly #swarm: Swarm
  readonly #network: SwarmNetwork
  readonly #store: PieceStore

  /** Bans from one download, most recent last (the swarm's penalties keep the others). */
  readonly #taskBans: BrowserPeerBan[] = []

  constructor (swarm: Swarm, network: SwarmNetwork, store: PieceStore) {
    this.#swarm = swarm
    this.#network = network
    this.#store = store
    swarm.onEvent(event => {
      if (event.type !== 'ban' || event.digest == null) return
      this.#taskBans.push({ peer: event.peer, reason: event.reason, digest: event.digest })
      if (this.#taskBans.length > MAX_TASK_BANS_KEPT) this.#taskBans.shift()
    })
  }

  get peerId (): string {
    return this.#swarm.peerId
  }

  async fetch (digest: string, options: FetchOptions = {}): Promise<Uint8Array> {
    const d = parseDigest(digest)
    const signal = options.signal
    signal?.throwIfAborted()
    const task = this.#swarm.download({ digest: d })
    let received = 0
    let size = 0
    const onLayout = (evt: CustomEvent<BlobLayout>): void => {
      size = evt.detail.size
      options.onProgress?.(new CustomProgressEvent('damselfly:fetch:layout', evt.detail))
    }
    const onPiece = (evt: CustomEvent<{ index: number, bytes: number }>): void => {
      received += evt.detail.bytes
      options.onProgress?.(new CustomProgressEvent('damselfly:fetch:piece', { index: evt.detail.index, bytes: evt.detail.bytes, received, size }))
    }
    task.addEventListener('layout', onLayout)
    task.addEventListener('piece', onPiece)
    let onAbort: (() => void) | undefined
    try {
      await (signal == null
        ? task.done
        : Promise.race([task.done, new Promise<never>((_resolve, reject) => {
          onAbort = () => {
            // nobody else waits on a page's download: it stops, its pieces stay for the next fetch
            task.stop()
            reject(signal.reason)
          }
          signal.addEventListener('abort', onAbort, { once: true })
        })]))
      return await this.#bytes(d)
    } finally {
      if (onAbort != null) signal?.removeEventListener('abort', onAbort)
      task.removeEventListener('layout', onLayout)
      task.removeEventListener('piece', onPiece)
    }
  }

  /** The bytes of a complete blob, whose digest the store verified: a copy, so the page cannot change what is served. */
  async #bytes (digest: BlobDigest): Promise<Uint8Array> {
    const handle = this.#store.get(digest)
    if (handle?.complete !== true) throw new TaskFailedError(`${digest} is not held whole`, 'daemon')
    const release = this.#store.hold(digest)
    try {
      return await handle.read(0, handle.layout.size)
    } finally {
      release()
    }
  }

  summary (digest: string): FetchSummary | undefined {
    const s = this.#swarm.task(parseDigest(digest))?.summary()
    if (s == null) return undefined
    return { digest: s.digest, state: s.state, size: s.size, piecesHeld: s.piecesHeld, bytesFromPeers: s.bytesFromPeers, parents: s.parents, startedAt: s.startedAt, finishedAt: s.finishedAt }
  }

  addresses (): string[] {
    return this.#network.listenAddresses()
  }

  connections (): BrowserPeerConnection[] {
    return this.#swarm.peers().map(p => ({ peer: p.peer, transport: p.transport, seed: p.seed }))
  }

  stats (): BrowserPeerStats {
    const s = this.#swarm.stats
    return { bytesFromPeers: s.bytesFromPeers, bytesUploaded: s.bytesUploaded, piecesVerified: s.piecesVerified, piecesRejected: s.piecesRejected, bans: s.bans }
  }

  bans (): BrowserPeerBan[] {
    return [...this.#swarm.bans(), ...this.#taskBans]
  }

  async stop (): Promise<void> {
    await this.#swarm.stop()
  }
}
