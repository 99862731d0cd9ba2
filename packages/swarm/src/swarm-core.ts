import { multiaddr } from '@multiformats/multiaddr'
import { ACCESS_PROTOCOL, BEACON_TOPIC, blobTopic, KAD_PROTOCOL, decodeAnnounce, decodeBeacon, encodeAnnounce, encodeBeacon, MAX_ADDRS, parseDigest, PIECE_PROTOCOL, SCHEDULE_PROTOCOL, SEED_PROTOCOL } from '@damselfly/protocol'
import { AccessService } from './access-service.js'
import { BufferPool } from './buffer-pool.js'
import { DownloadTask } from './download-task.js'
import { PeerPenalties } from './penalties.js'
import { PieceServer } from './piece-server.js'
import { LocalParentRanker } from './ranking.js'
import { BEACON_INTERVAL_MS, beaconDue, beaconIntervalMs, beaconMemoryMs } from './beacon.js'
import { RateLimiter, RateMeter } from './rate-limit.js'
import { backoffMs } from './scheduler.js'
import { SchedulerClient } from './schedule.js'
import { SeedService } from './seed-service.js'
import { ENGINE_DEFAULTS, SWARM_DEFAULTS } from './defaults.js'
import { DISCOVERY_TIMEOUT_MS } from './constants.js'
import { HeardHolders } from './announce.js'
import { connectionsToClose } from './connection-cap.js'
import { OriginNotAllowedError } from './errors.js'
import { newStats } from './stats.js'
import type { BeaconInfo, TaskConfig, TaskContext, TaskRequest, TaskSummary } from './download-task.js'
import type { SwarmNetwork } from './network.js'
import type { OriginPolicy, OriginReader } from './origin.js'
import type { ParentRanker } from './ranking.js'
import type { Load } from './schedule.js'
import type { SwarmStats } from './stats.js'
import type { PublicAccessAnswer } from './access-service.js'
import type { AccessQuery, BlobDigest } from '@damselfly/protocol'
import type { PieceStore } from '@damselfly/store'
import type { AbortOptions, Logger } from '@libp2p/interface'

/**
 * The swarm's behaviour over a network, a store and an origin it is given:
 * downloads, serving pieces, gossip, providing, beacons, bans. No Node
 * built-ins: the daemon gives it a disk store and a libp2p node on TCP,
 * a browser peer an in-memory store and a libp2p node on WebSockets and WebRTC.
 */

/** What the swarm is told, wherever it runs. */
export interface SwarmCoreInit {
  /** Multiaddrs to dial at start, with or without /p2p/<peer id>. @default [] */
  bootstrap?: string[]
  /** Pull from origins on request and feed the swarm. @default false */
  seed?: boolean
  /** Peer ids whose manifest signatures are accepted; empty accepts any signer. @default [] */
  trustedSeeds?: string[]
  /** Pull from the origin when no seed answers. @default true */
  originFallback?: boolean
  /** What a download started by a ranged read fetches beyond what is read: none, the rest in the background, or the rest at once. @default 'none' */
  prefetch?: 'none' | 'background' | 'full'
  /** How long a seed may take to accept. @default 5000 */
  seedTimeoutMs?: number
  /** Wait for peers this long before asking a seed. @default 1000 */
  seedAfterMs?: number
  /** Node-wide upload limit in bytes/s; 0 for none. @default 0 */
  uploadRate?: number
  /** Node-wide download limit in bytes/s; 0 for none. @default 0 */
  downloadRate?: number
  /** Upload sessions served at once. @default 16 */
  uploadSlots?: number
  /** Parents per download. @default 8 */
  maxParents?: number
  /** Requests outstanding per parent. @default 4 */
  pipeline?: number
  /** Piece size for blobs this node pulls from their origin, for experiments. @default size / 512 rounded up to a power of two, 1..64 MiB */
  pieceSize?: number
  /** Connections this node keeps open that it opened itself; beyond it the idle ones are closed (connection-cap.ts). @default SWARM_DEFAULTS.maxConnections */
  maxConnections?: number
  /** How long a new connection is left open whatever it carries. @default SWARM_DEFAULTS.connectionGraceMs */
  connectionGraceMs?: number
  /** Copies of a piece sent in quick succession before further requests for it are declined; 0 never declines. @default 1 */
  superSeedCopies?: number
  /** The origins this node reads blobs from, for itself and for peers that ask it as a seed. */
  originPolicy: OriginPolicy
  /** Answers peers that ask whether a registry lets anyone read a blob or manifest (from what this node learnt). @default never yes */
  publicAccess?: PublicAccessAnswer
  /** Replace local parent ranking (the simulator's random choice does). */
  ranker?: ParentRanker
  /**
   * Where this node is, most general first, '/'-separated (`eu-west-1a/rack-12`):
   * sent in its load, and parents sharing more of it are ranked first when
   * all else is equal. @default none
   */
  locality?: string
  /**
   * Multiaddrs of schedulers (`damselfly scheduler`; /p2p/<peer id>
   * optional): downloads ask one, chosen per blob, to rank and suggest
   * parents, within ADVICE_DEADLINE_MS, and the node sends them its load
   * instead of gossiping it to every peer. @default none: ranking is local
   */
  schedulers?: string[]
  /** Test only: corrupt every piece served. @default false */
  corruptUploads?: boolean
  /** Test only: how long a ranged download rests before it is let go. @default RANGED_REST_MS */
  rangedRestMs?: number
  logger: { forComponent(name: string): Logger }
}

/** What the swarm reports as it works; the CLI bar and a dashboard read the same events. */
export type SwarmEvent =
  | { type: 'progress', task: TaskSummary }
  | { type: 'done', task: TaskSummary }
  | { type: 'ban', peer: string, reason: string, digest?: string }

export interface PeerSummary {
  peer: string
  seed: boolean
  /** The connection's security protocol, `/tls/1.0.0` or `/noise`, or `native` for WebRTC-direct's own. */
  encryption?: string
  /** What the connection runs over: `tcp`, `websockets`, `webrtc-direct`, `webrtc` (a browser) or `relayed`. */
  transport?: string
  beacon?: BeaconInfo
}

/** A bootstrap address and how dialling it went. */
export interface BootstrapStatus {
  address: string
  /** From the address's /p2p part, or learnt from the first dial. */
  peer?: string
  connected: boolean
  /** Dials that failed since the last one that worked. */
  failures: number
  lastError?: string
}

/** The swarm as the daemon sees it; libp2p stays inside. */
export interface Swarm {
  readonly peerId: string
  readonly store: PieceStore
  readonly stats: SwarmStats
  listenAddresses(): string[]
  peers(): PeerSummary[]
  /** Each bootstrap address, and whether this node is connected to its peer. */
  bootstrapStatus(): BootstrapStatus[]
  /**
   * Start a download, or join the one already running for that digest.
   * Throws OriginNotAllowedError when the request names an origin this
   * node does not read from.
   */
  download(request: TaskRequest): DownloadTask
  task(digest: BlobDigest): DownloadTask | undefined
  tasks(): TaskSummary[]
  bans(): Array<{ peer: string, reason: string, until: number }>
  /**
   * Remove blobs nobody is using, least recently used first, until the
   * store holds at most `maxBytes`; returns what was removed.
   */
  collectGarbage(maxBytes: number): Promise<BlobDigest[]>
  /** Listen to progress, completion and bans; returns a function that stops listening. */
  onEvent(listener: (event: SwarmEvent) => void): () => void
  /**
   * Ask a few connected peers whether the registry lets anyone read this
   * blob or manifest (for when the registry cannot be asked): true at the
   * first yes, false when none says yes within 3 s.
   */
  askPublic(query: AccessQuery, options?: AbortOptions): Promise<boolean>
  stop(): Promise<void>
}

/** Blobs waiting for their provider record are looked at this often (see #provideBatch). */
const PROVIDE_BATCH_MS = 1000

/**
 * How long a node that is downloading holds back its provider records, at
 * most. A provide is a DHT query plus an ADD_PROVIDER to each of the closest
 * peers, and every peer named in the answers goes through the routing table
 * and the peer store of the node that asked: in a 10-node cold start of a
 * 2 MiB image on 2 cores, providing at the first piece cost each daemon
 * 1.0 of its 2.1 CPU-seconds and doubled the time of the last node (12.0 s
 * against 6.5 s without providing). While the crowd pulls, the peers that
 * want the blob learn of each other from the blob's gossip and from asking
 * the peers they are connected to; the record serves those who come later.
 */
const PROVIDE_DEFER_MAX_MS = 30_000
/**
 * Once a node's downloads are over, its held-back records go out spread over
 * this long: a crowd finishes within seconds, and records sent all at once
 * land on the peers still pulling. With the records held back but not spread,
 * the 10-node start above cost 1.7-1.9 CPU-seconds per daemon and 9.4-10.7 s;
 * spread, 1.24 and 7.7-9.1 s.
 */
const PROVIDE_SPREAD_MS = 10_000

/** Piece buffers kept for reuse: a few pieces in flight and being written. */
const PIECE_BUFFERS_KEPT = 32 * 1024 * 1024

/** How long a signer whose hashes a digest proved false is not believed for that blob. */
const FORGER_MEMORY_MS = 10 * 60_000

/** How long a seed remembers that pulling a blob from an origin URL failed. */
const FAILED_PULL_MEMORY_MS = 30_000

/** How long a seed stays a seed after it was last identified or beaconed: as long as a beacon at a seed's interval is kept. */
const SEED_MEMORY_MS = beaconMemoryMs(beaconIntervalMs(0, true))

/** How often the connections are counted against the cap (and idle ones closed). */
const CONNECTION_CHECK_MS = 5000

/** The protocols a connection is in use for, as the connection cap sees it: the swarm's own. */
const SWARM_PROTOCOLS = [PIECE_PROTOCOL, SEED_PROTOCOL, ACCESS_PROTOCOL, SCHEDULE_PROTOCOL]

/** How often the bootstrap peers' connections are checked (and dialled again when gone). */
const BOOTSTRAP_RECHECK_MS = 2000

/**
 * How long a ranged download rests (every piece read held, nobody reading)
 * before it is let go. A container's start-up reads come in bursts seconds
 * apart; a minute's quiet means the burst is over.
 */
export const RANGED_REST_MS = 60_000
/** How often resting downloads are looked for. */
const RANGED_REST_CHECK_MS = 10_000

/** What the swarm runs over. */
export interface SwarmParts {
  network: SwarmNetwork
  store: PieceStore
  /** Reads blobs from their origin (HTTP); a peer that never pulls from an origin gives one that refuses. */
  origin: Pick<OriginReader, 'read' | 'readRange'>
}

/** Start the swarm's services over `parts`; it stops them, the network and the store on stop(). */
export async function startSwarm (init: SwarmCoreInit, parts: SwarmParts): Promise<Swarm> {
  const swarm = new DamselflySwarm(init, parts)
  await swarm.start()
  return swarm
}

/** Lets a timer not keep Node's process alive; browsers have no such thing. */
function unref (timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.()
}

class DamselflySwarm implements Swarm {
  readonly store: PieceStore
  readonly stats = newStats()
  readonly #network: SwarmNetwork
  readonly #init: SwarmCoreInit
  readonly #log: Logger
  readonly #penalties = new PeerPenalties((peer, reason) => this.#emit({ type: 'ban', peer, reason }))
  readonly #tasks = new Map<BlobDigest, DownloadTask>()
  readonly #beacons = new Map<string, BeaconInfo>()
  /** The beacon interval last worked out (#beaconIntervalMs): how long beacons heard are kept. */
  #lastBeaconIntervalMs = BEACON_INTERVAL_MS
  /** The load fields of the last beacon gossiped, as one key, and when. */
  #lastBeacon?: { key: string, at: number }
  /** Seeds by when this node last saw them (identify or beacon), Date.now() time. */
  readonly #seedsSeen = new Map<string, number>()
  readonly #bootstrapTargets: Array<Omit<BootstrapStatus, 'connected'> & { retryAt: number }>
  readonly #uploadMeter = new RateMeter(1000)
  readonly #server: PieceServer
  readonly #scheduler: SchedulerClient | undefined
  readonly #seedService: SeedService
  readonly #accessService: AccessService
  readonly #ctx: TaskContext
  /** Downloads whose first pieces this node has announced (see #gained). */
  readonly #announced = new WeakSet<DownloadTask>()
  /** For each download, the other holders heard announcing its blob (see #announce). */
  readonly #heard = new WeakMap<DownloadTask, HeardHolders>()
  readonly #provided = new Set<BlobDigest>()
  /** Blobs to provide (see #provideBatch): when each was queued (performance.now() time) and its share of PROVIDE_SPREAD_MS. */
  readonly #provideSoon = new Map<BlobDigest, { queuedAt: number, spread: number }>()
  /** Since when this node has had no download running. */
  #quietSince: number | undefined
  /** Since when this node has made provider records (performance.now() time): not while a scheduler answered (#provideBatch). */
  #providingSince: number | undefined
  readonly #timers: Array<ReturnType<typeof setInterval>> = []
  readonly #leaveTimers = new Set<ReturnType<typeof setTimeout>>()
  readonly #topics = new Map<string, number>()
  #followingBeacons = false
  readonly #controller = new AbortController()
  readonly #listeners = new Set<(event: SwarmEvent) => void>()
  readonly #lastProgress = new Map<BlobDigest, number>()
  /** Since when (performance.now) each ranged download has rested: nothing fetched, nobody reading. */
  readonly #resting = new Map<BlobDigest, number>()
  /** Per blob, signers whose manifests its digest proved false, until when (Date.now() time). */
  readonly #forgers = new Map<BlobDigest, Map<string, number>>()

  constructor (init: SwarmCoreInit, { network, store, origin }: SwarmParts) {
    this.#init = init
    this.#network = network
    this.store = store
    this.#log = init.logger.forComponent('damselfly:swarm')
    this.#bootstrapTargets = (init.bootstrap ?? []).map(address => ({
      address,
      peer: multiaddr(address).getComponents().find(c => c.name === 'p2p')?.value,
      failures: 0,
      retryAt: 0
    }))
    const uploadLimiter = new RateLimiter(init.uploadRate)
    this.#server = new PieceServer({
      network, store, stats: this.stats, penalties: this.#penalties, uploadLimiter, uploadMeter: this.#uploadMeter, log: init.logger.forComponent('damselfly:swarm:upload')
    }, {
      uploadSlots: init.uploadSlots,
      corruptUploads: init.corruptUploads,
      superSeedCopies: init.superSeedCopies,
      paced: (init.uploadRate ?? 0) > 0,
      seed: init.seed === true
    })
    this.#seedService = new SeedService(network, this.#penalties, init.logger.forComponent('damselfly:swarm:seed'))
    this.#scheduler = (init.schedulers?.length ?? 0) > 0
      ? new SchedulerClient({ network, schedulers: init.schedulers!, counts: this.stats.scheduleRequests, log: init.logger.forComponent('damselfly:swarm:schedule'), load: () => this.#load(), held: () => this.store.list().filter(b => b.held > 0).map(b => b.digest) })
      : undefined
    this.#accessService = new AccessService(network, this.#penalties, init.logger.forComponent('damselfly:swarm:access'))
    const config: TaskConfig = {
      ...ENGINE_DEFAULTS,
      maxParents: init.maxParents ?? ENGINE_DEFAULTS.maxParents,
      pipeline: init.pipeline ?? ENGINE_DEFAULTS.pipeline,
      seedTimeoutMs: init.seedTimeoutMs ?? ENGINE_DEFAULTS.seedTimeoutMs,
      originFallback: init.originFallback ?? ENGINE_DEFAULTS.originFallback,
      seedAfterMs: init.seedAfterMs ?? ENGINE_DEFAULTS.seedAfterMs,
      prefetch: init.prefetch ?? ENGINE_DEFAULTS.prefetch
    }
    this.#ctx = {
      network,
      store,
      stats: this.stats,
      penalties: this.#penalties,
      downloadLimiter: new RateLimiter(init.downloadRate),
      pieceBuffers: new BufferPool(PIECE_BUFFERS_KEPT),
      ranker: init.ranker ?? new LocalParentRanker(init.locality),
      advisor: this.#scheduler,
      origin,
      config,
      isSeed: init.seed === true,
      pieceSize: init.pieceSize,
      trustedSigners: (init.trustedSeeds?.length ?? 0) > 0 ? new Set(init.trustedSeeds) : undefined,
      log: init.logger.forComponent('damselfly:swarm:task'),
      beacons: this.#beacons,
      seeds: () => this.#seeds(),
      hasBootstrap: (init.bootstrap?.length ?? 0) > 0,
      pullers: digest => network.subscribers(blobTopic(digest)),
      requestSeed: async (seed, digest, url, size, ranges, options) => this.#seedService.request(seed, digest, url, size, ranges, options),
      findProviders: async (digest, onPeer, options) => {
        // while a scheduler answers, nodes tell it what they hold instead of
        // providing it (#provideBatch): it is asked, one request where a DHT
        // walk asks up to 20 peers (at N=30 the walks were most of a node's
        // control traffic with a scheduler). Should it fail, the DHT is asked
        if (this.#scheduler?.reachable === true && this.#init.seed !== true) {
          const suggested = await this.#scheduler.suggest(digest, { limit: options.limit, exclude: [], lookup: true, signal: options.signal ?? AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) }).catch(() => undefined)
          if (suggested != null) {
            for (const s of suggested.holders) {
              if (s.peer === this.peerId) continue
              await network.rememberAddresses(s.peer, s.addrs).catch(() => {})
              onPeer(s.peer)
            }
            return
          }
        }
        this.stats.dhtLookups++
        const named = new Set<string>()
        for await (const p of network.findProviders(digest, options)) {
          if (p.peer === this.peerId || named.has(p.peer)) continue
          named.add(p.peer)
          // a connected peer's addresses are known; a merge per answer is CPU the lookup already spent
          if (!network.isConnected(p.peer)) await network.rememberAddresses(p.peer, p.addrs).catch(() => {})
          onPeer(p.peer)
          // enough holders named: leaving the loop ends the lookup, so one
          // answered from this node's own provider records asks nobody else
          if (named.size >= options.limit) break
        }
      },
      gained: (digest, index, pieces) => this.#gained(digest, index, pieces),
      requestedBytes: () => {
        let n = 0
        for (const t of this.#tasks.values()) if (t.state === 'downloading') n += t.requestedBytes
        return n
      },
      banned: (peer, reason, digest) => this.#emit({ type: 'ban', peer, reason, digest }),
      excludedSigners: digest => this.#excludedSigners(digest),
      forged: (digest, signers, proven) => this.#forged(digest, signers, proven),
      joinTopic: digest => this.#join(blobTopic(digest)),
      gossipsHolders: () => this.#gossipsHolders(),
      leaveTopic: digest => {
        // stay a little so late announcements and the final batch still flow
        const timer = setTimeout(() => {
          this.#leaveTimers.delete(timer)
          this.#safely('leaving a topic', () => this.#leave(blobTopic(digest)))
        }, 30_000)
        unref(timer)
        this.#leaveTimers.add(timer)
      }
    }
  }

  get peerId (): string {
    return this.#network.peerId
  }

  listenAddresses (): string[] {
    return this.#network.listenAddresses()
  }

  async start (): Promise<void> {
    await this.#server.start()
    if (this.#init.seed === true) {
      await this.#seedService.serve(async (req, options) => {
        // ranges ask for the pieces covering them, pulled by range; none, for the whole blob
        const ranges = req.ranges.map(r => [r.start, r.start + r.length] as [number, number])
        const task = this.#taskFor({ digest: req.digest as BlobDigest, url: req.url, size: req.size > 0 ? req.size : undefined, range: ranges[0] }, true)
        if (ranges.length === 0) task.wantAll()
        for (const [start, end] of ranges) task.want(start, end)
        const layout = await task.whenLayoutKnown(options)
        return { size: layout.size, pieceSize: layout.pieceSize }
      }, (this.#init.seedTimeoutMs ?? ENGINE_DEFAULTS.seedTimeoutMs) * 4)
    }
    if (this.#init.publicAccess != null) await this.#accessService.serve(this.#init.publicAccess)
    this.#network.onMessage((topic, from, data) => this.#onGossip(topic, from, data))
    // with a scheduler, beacons go to it and it ranks: the topic is joined only while none answers
    if (this.#scheduler == null || this.#init.seed === true) this.#followBeacons(true)
    this.#timers.push(setInterval(() => this.#safely('providing new blobs', () => this.#provideBatch()), PROVIDE_BATCH_MS))
    this.#timers.push(setInterval(() => {
      if (this.#scheduler != null) this.#safely('following beacons', () => this.#followBeacons(this.#gossipsHolders()))
      this.#beacon().catch(() => {})
    }, BEACON_INTERVAL_MS))
    this.#timers.push(setInterval(() => this.#safely('providing blobs', () => this.#provideMissing()), 10_000))
    this.#timers.push(setInterval(() => {
      this.#capConnections().catch(err => { this.#log.error('closing idle connections failed: %e', err) })
    }, CONNECTION_CHECK_MS))
    const rest = this.#init.rangedRestMs ?? RANGED_REST_MS
    this.#timers.push(setInterval(() => this.#safely('letting resting downloads go', () => this.#letRestingGo(rest)), Math.min(rest, RANGED_REST_CHECK_MS)))
    for (const t of this.#timers) unref(t)
    this.#bootstrap().catch(() => {})
    this.#scheduler?.start()
    this.#provideMissing()
  }

  /**
   * Connect to the bootstrap peers, and stay connected: a connection that
   * drops later (a restarted peer, keep-alive pings lost on a starved
   * machine) is dialled again, so a node is never left with nobody to ask
   * and no seed to turn to.
   */
  async #bootstrap (): Promise<void> {
    const targets = this.#bootstrapTargets
    for (let round = 0; targets.length > 0 && !this.#controller.signal.aborted; round++) {
      const connected = new Set(this.#network.connectedPeers())
      for (const t of targets) {
        if ((t.peer != null && connected.has(t.peer)) || Date.now() < t.retryAt) continue
        try {
          t.peer = await this.#network.dial(t.address, { signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(5000)]) })
          t.failures = 0
          t.lastError = undefined
          this.#log('connected to bootstrap peer %s', t.peer)
        } catch (err: any) {
          t.failures++
          t.lastError = err.message
          t.retryAt = Date.now() + backoffMs(t.failures, 1000, 60_000)
          this.#log('bootstrap %s failed: %s', t.address, err.message)
        }
      }
      await new Promise(resolve => { unref(setTimeout(resolve, round === 0 ? 500 : BOOTSTRAP_RECHECK_MS)) })
    }
  }

  /**
   * Seeds met within SEED_MEMORY_MS: identified on a connection now, or
   * named by a beacon. Forgetting a seed the moment its identify or beacon
   * lapsed sent nodes to the registry: in a 30-node cold start on 2 cores,
   * 9 nodes found no seed at hand (a connection being replaced, a beacon
   * late) after the seed deadline had passed, and pulled layers from the
   * origin themselves. A seed that is really gone still fails to answer,
   * which is what the deadline is for.
   */
  #seeds (): string[] {
    const now = Date.now()
    // beacons are recorded as they arrive (#onGossip); identify is asked here
    for (const peer of this.#network.peersSupporting(SEED_PROTOCOL)) this.#seedsSeen.set(peer, now)
    const seeds: string[] = []
    for (const [peer, at] of this.#seedsSeen) {
      if (now - at > SEED_MEMORY_MS) this.#seedsSeen.delete(peer)
      else if (peer !== this.peerId) seeds.push(peer)
    }
    return seeds
  }

  /**
   * Close idle connections this node opened, once it has opened more than
   * its cap (connectionsToClose); those to seeds, schedulers and bootstrap
   * peers stay, and those the network keeps alive (the DHT's closest).
   */
  async #capConnections (): Promise<void> {
    if (this.#controller.signal.aborted) return
    const max = this.#init.maxConnections ?? SWARM_DEFAULTS.maxConnections
    const open = this.#network.connections(SWARM_PROTOCOLS)
    const opened = open.filter(c => c.outbound)
    if (opened.length <= max) return
    const kept = await this.#network.keptAlive(opened.map(c => c.peer))
    for (const peer of [...this.#seeds(), ...(this.#scheduler?.peers ?? []), ...this.#bootstrapTargets.flatMap(t => t.peer == null ? [] : [t.peer])]) kept.add(peer)
    const held = open.map(c => ({ ...c, kept: kept.has(c.peer) }))
    for (const peer of connectionsToClose(held, max, this.#init.connectionGraceMs ?? SWARM_DEFAULTS.connectionGraceMs)) {
      this.#network.closeOpened(peer, SWARM_PROTOCOLS).then(closed => { this.stats.connectionsClosedIdle += closed }, () => {})
    }
  }

  bootstrapStatus (): BootstrapStatus[] {
    const connected = new Set(this.#network.connectedPeers())
    return this.#bootstrapTargets.map(t => ({ address: t.address, peer: t.peer, connected: t.peer != null && connected.has(t.peer), failures: t.failures, lastError: t.lastError }))
  }

  peers (): PeerSummary[] {
    const seeds = new Set(this.#seeds())
    return this.#network.connectedPeers().map(peer => ({ peer, seed: seeds.has(peer), ...this.#network.connectionWith(peer), beacon: this.#beacons.get(peer) }))
  }

  #taskFor (request: TaskRequest, fromOrigin: boolean): DownloadTask {
    const digest = parseDigest(request.digest)
    if (request.url != null) {
      const refusal = this.#init.originPolicy.refusal(new URL(request.url), digest)
      if (refusal != null) throw new OriginNotAllowedError(refusal)
    }
    const existing = this.#tasks.get(digest)
    if (existing != null && existing.state !== 'failed' && (existing.state !== 'complete' || this.store.get(digest)?.complete === true)) {
      return existing
    }
    // a seed answers with a recent failure instead of pulling the origin again
    // for every peer that asks (a wrong digest or a missing blob fails the
    // same way); only for the same URL, or one request naming the wrong
    // registry would fail everybody's right ones
    if (fromOrigin && existing?.state === 'failed' && existing.url === request.url && Date.now() - (existing.summary().finishedAt ?? 0) < FAILED_PULL_MEMORY_MS) {
      return existing
    }
    const task = new DownloadTask(this.#ctx, { ...request, digest })
    this.#tasks.set(digest, task)
    task.addEventListener('complete', () => {
      const summary = task.summary()
      this.#emit({ type: 'done', task: summary })
      // the second announcement, once the whole digest is verified; a task
      // that found the blob already held announced nothing and adds nothing
      if (this.#announced.has(task)) this.#announce(task, summary.pieces ?? 0, [], true)
    }, { once: true })
    task.addEventListener('failed', () => this.#emit({ type: 'done', task: task.summary() }), { once: true })
    if (fromOrigin) task.startFromOrigin()
    else task.start()
    return task
  }

  download (request: TaskRequest): DownloadTask {
    return this.#taskFor(request, false)
  }

  task (digest: BlobDigest): DownloadTask | undefined {
    return this.#tasks.get(digest)
  }

  tasks (): TaskSummary[] {
    return [...this.#tasks.values()].map(t => t.summary())
  }

  async collectGarbage (maxBytes: number): Promise<BlobDigest[]> {
    const removed = await this.store.collect(maxBytes)
    for (const digest of removed) {
      // a later request starts afresh; the blob is provided again once it is back
      if (this.#tasks.get(digest)?.state === 'complete') this.#tasks.delete(digest)
      this.#withdraw(digest)
      this.#provideSoon.delete(digest)
      this.#lastProgress.delete(digest)
      this.#log('removed %s to stay within the disk quota', digest)
    }
    return removed
  }

  /**
   * This node holds `digest` no more: its provider record goes from its own
   * DHT store and is not renewed (the copies other peers keep lapse within
   * their validity), and peers fetching the blob now hear it on its topic.
   */
  #withdraw (digest: BlobDigest): void {
    this.#scheduler?.dropped(digest)
    if (this.#provided.delete(digest)) {
      this.#network.withdraw(digest, { signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(10_000)]) })
        .catch(err => this.#log('withdrawing %s failed: %s', digest, err.message))
    }
    this.stats.gossipPublished.blob++
    this.#network.publish(blobTopic(digest), encodeAnnounce({ digest, pieces: 0, have: [], complete: false, withdrawn: true, addrs: [] })).catch(() => {})
  }

  bans (): Array<{ peer: string, reason: string, until: number }> {
    return this.#penalties.list()
  }

  #join (topic: string): void {
    const n = this.#topics.get(topic) ?? 0
    this.#topics.set(topic, n + 1)
    if (n === 0) this.#network.subscribe(topic)
  }

  #leave (topic: string): void {
    const n = (this.#topics.get(topic) ?? 1) - 1
    if (n <= 0) {
      this.#topics.delete(topic)
      this.#network.unsubscribe(topic)
    } else {
      this.#topics.set(topic, n)
    }
  }

  async askPublic (query: AccessQuery, options: AbortOptions = {}): Promise<boolean> {
    return this.#accessService.ask(() => this.#network.peersSupporting(ACCESS_PROTOCOL), query, options)
  }

  onEvent (listener: (event: SwarmEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  #emit (event: SwarmEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event)
      } catch (err: any) {
        this.#log('event listener failed: %s', err.message)
      }
    }
  }

  #gained (digest: BlobDigest, index: number, pieces: number): void {
    // progress at most every 200 ms per blob: enough for a bar or a dashboard
    const now = performance.now()
    const task = this.#tasks.get(digest)
    if (task != null && this.#listeners.size > 0 && now - (this.#lastProgress.get(digest) ?? 0) >= 200) {
      this.#lastProgress.set(digest, now)
      this.#emit({ type: 'progress', task: task.summary() })
    }
    // gossip reaches every peer on the blob's topic, so a node announces a
    // blob twice. First when its first piece lands: that makes it a parent
    // downloads can find, and in a flash crowd every moment a new holder stays
    // unseen slows the spread (bench/sim: 100 and 1,000 nodes finished 11-14%
    // sooner than when the first piece waited for a 1 s batch). Then when it
    // holds every piece (the task's complete event). Pieces in between reach
    // the peers downloading from it as Have frames on their streams;
    // announcing them too cost every peer in the swarm CPU for each batch of
    // each node, and no receiver used them
    if (task != null && !this.#announced.has(task)) {
      this.#announced.add(task)
      this.#announce(task, pieces, [index], false)
      // the scheduler may suggest this node from now on
      this.#scheduler?.holding(digest)
    }
    // provided later, not now: the lookup behind a provide costs RPCs all
    // over the swarm (see PROVIDE_DEFER_MAX_MS)
    this.#queueProvide(digest)
  }

  /**
   * Publish this node as a provider of the blob, once: kad-dht republishes
   * provider records itself. One that could not be made (no DHT peer yet, or
   * failed) is made by the periodic #provideMissing.
   */
  #provide (digest: BlobDigest): void {
    // with no DHT peer kad-dht "provides" to nobody and reports success: wait for one
    if (this.#provided.has(digest) || this.#network.peersSupporting(KAD_PROTOCOL).length === 0) return
    this.#provided.add(digest)
    this.stats.dhtProvides++
    this.#network.provide(digest, { signal: AbortSignal.any([this.#controller.signal, AbortSignal.timeout(20_000)]) })
      .catch(err => {
        this.#log('providing %s failed: %s', digest, err.message)
        this.#provided.delete(digest)
      })
  }

  #provideMissing (): void {
    for (const b of this.store.list()) {
      if (b.held > 0) this.#queueProvide(b.digest)
    }
  }

  #queueProvide (digest: BlobDigest): void {
    if (this.#provided.has(digest) || this.#provideSoon.has(digest)) return
    // a seed sends its records at the next batch (see #provideBatch)
    const spread = this.#init.seed === true ? 0 : Math.random() * PROVIDE_SPREAD_MS
    this.#provideSoon.set(digest, { queuedAt: performance.now(), spread })
  }

  #addrs (): Array<Uint8Array<ArrayBuffer>> {
    return this.#network.listenAddresses().slice(0, MAX_ADDRS).map(a => Uint8Array.from(multiaddr(a).bytes))
  }

  /**
   * Provide the blobs queued: a seed at once (it feeds the swarm, and is
   * what a late node's lookup should find first), any other node once it
   * has no download running, or when a blob has waited PROVIDE_DEFER_MAX_MS
   * (a long pull still makes its holders findable); not while a scheduler
   * answers.
   */
  #provideBatch (): void {
    const now = performance.now()
    // a seed's own downloads are its origin pulls: it never holds back
    if (this.#init.seed !== true && this.#downloading()) this.#quietSince = undefined
    else this.#quietSince ??= now
    // while a scheduler answers it names this node's blobs to those who ask
    // (SchedulerClient.holding), as it does instead of gossip: the records
    // wait, and go out once no scheduler has answered for SCHEDULER_SILENT_MS.
    // Providing them anyway was most of a node's control traffic with a
    // scheduler at N=30 (bench:control: 343 DHT requests of 456 messages)
    if (!this.#gossipsHolders()) {
      this.#providingSince = undefined
      return
    }
    // once it falls silent, every node of the fleet has its records to make:
    // each record waits its share of the spread from then, not all at once
    this.#providingSince ??= now
    const spreadFrom = Math.max(this.#quietSince ?? now, this.#providingSince)
    for (const [digest, { queuedAt, spread }] of this.#provideSoon) {
      const due = (now - queuedAt >= PROVIDE_DEFER_MAX_MS && now - this.#providingSince >= spread) || (this.#quietSince != null && now - spreadFrom >= spread)
      if (!due) continue
      this.#provideSoon.delete(digest)
      this.#provide(digest)
    }
  }

  /**
   * A ranged download that has fetched nothing and served no reader for
   * `restMs` is let go: its sessions close, it leaves the blob's topic, and
   * the blob is no longer in use, so the disk quota can reach it. The pieces
   * read stay held and served; the next read starts a download that takes
   * them up and fetches only what it lacks.
   */
  #letRestingGo (restMs: number): void {
    const now = performance.now()
    for (const [digest, task] of this.#tasks) {
      if (task.state !== 'downloading' || !task.ranged || task.fetching || task.reading) {
        this.#resting.delete(digest)
        continue
      }
      const since = this.#resting.get(digest)
      if (since == null) {
        this.#resting.set(digest, now)
        continue
      }
      if (now - since < restMs) continue
      this.#resting.delete(digest)
      this.#tasks.delete(digest)
      task.stop()
      this.#log('%s rests after ranged reads: its download is let go, the %d pieces read stay held', digest, task.summary().piecesHeld)
    }
  }

  #downloading (): boolean {
    // a ranged download resting between reads is not a pull under way
    for (const t of this.#tasks.values()) if (t.fetching) return true
    return false
  }

  /**
   * Whether holders are told of on gossip: every announcement reaches every
   * peer downloading the blob, so a node hears as many as the swarm has
   * holders. A scheduler hears of them instead (SchedulerClient.holding) and
   * hands each node a few (suggest): while one answers, a node announces
   * nothing and joins no blob topic. A seed announces still: there are few,
   * and a node without the scheduler finds them so.
   */
  #gossipsHolders (): boolean {
    return this.#scheduler?.reachable !== true || this.#init.seed === true
  }

  /**
   * Join the beacon topic, or leave it. A node whose scheduler answers hears
   * no beacons (the scheduler has them, and ranks); it finds seeds by the
   * seed protocol they identify with.
   */
  #followBeacons (follow: boolean): void {
    if (follow === this.#followingBeacons) return
    this.#followingBeacons = follow
    if (follow) this.#join(BEACON_TOPIC)
    else this.#leave(BEACON_TOPIC)
  }

  /**
   * Publish that this node holds the pieces `have` of the task's blob, or
   * all of them; not once enough others have said as much (HeardHolders).
   */
  #announce (task: DownloadTask, pieces: number, have: number[], complete: boolean): void {
    if (!this.#gossipsHolders()) return
    if (this.#heard.get(task)?.announces(complete, this.#init.seed === true) === false) {
      this.stats.announcementsWithheld++
      return
    }
    const digest = task.digest
    const data = encodeAnnounce({ digest, pieces, have, complete, addrs: this.#addrs() })
    this.stats.gossipPublished.blob++
    this.#network.publish(blobTopic(digest), data).catch(() => {})
  }

  /**
   * This node's beacon interval (beaconIntervalMs), from the non-seed peers
   * heard within the memory of the last interval; older beacons are dropped.
   */
  #beaconIntervalMs (): number {
    const seed = this.#init.seed === true
    const now = Date.now()
    const memory = beaconMemoryMs(this.#lastBeaconIntervalMs)
    let heard = 0
    for (const [peer, b] of this.#beacons) {
      if (now - b.at > memory) this.#beacons.delete(peer)
      else if (!b.seed) heard++
    }
    this.#lastBeaconIntervalMs = beaconIntervalMs(heard, seed)
    return this.#lastBeaconIntervalMs
  }

  /** Gossip this node's load if it changed and the beacon interval has passed, or it is unchanged and the longer interval has (beaconDue). */
  #load (): Load {
    return {
      uploadBps: Math.round(this.#uploadMeter.rate),
      activeUploads: this.#server.activeUploads,
      freeUploadSlots: this.#server.freeSlots,
      seed: this.#init.seed === true,
      locality: this.#init.locality ?? ''
    }
  }

  async #beacon (): Promise<void> {
    // with a scheduler, a node's load goes to it (SchedulerClient's flush), not to every peer; a seed still says it is one
    if (this.#scheduler != null && this.#init.seed !== true) return
    const load = this.#load()
    const now = performance.now()
    const last = this.#lastBeacon
    const { due, key } = beaconDue(load, last == null ? undefined : { key: last.key, sinceMs: now - last.at }, this.#beaconIntervalMs())
    if (!due) return
    this.#lastBeacon = { key, at: now }
    this.stats.gossipPublished.beacon++
    await this.#network.publish(BEACON_TOPIC, encodeBeacon({ ...load, addrs: this.#addrs() }))
  }

  #onGossip (topic: string, from: string, data: Uint8Array): void {
    try {
      if (topic === BEACON_TOPIC) {
        this.stats.gossipReceived.beacon++
        const b = decodeBeacon(data)
        const at = Date.now()
        this.#beacons.set(from, { uploadBps: Number(b.uploadBps), activeUploads: b.activeUploads, freeUploadSlots: b.freeUploadSlots, seed: b.seed, locality: b.locality, at })
        if (b.seed) this.#seedsSeen.set(from, at)
        return
      }
      this.stats.gossipReceived.blob++
      const a = decodeAnnounce(data)
      if (blobTopic(a.digest as BlobDigest) !== topic) return
      const task = this.#tasks.get(a.digest as BlobDigest)
      if (task == null || task.state !== 'downloading') return
      let heard = this.#heard.get(task)
      if (heard == null) {
        heard = new HeardHolders()
        this.#heard.set(task, heard)
      }
      if (a.withdrawn) {
        heard.withdrawn(from)
        task.dropCandidate(from)
        return
      }
      heard.heard(from, a.complete)
      if (this.#network.isConnected(from)) {
        task.addCandidate(from)
        return
      }
      const addrs = a.addrs.flatMap(bytes => { try { return [multiaddr(bytes).toString()] } catch { return [] } })
      this.#network.rememberAddresses(from, addrs)
        .catch(() => {})
        .finally(() => task.addCandidate(from))
    } catch (err: any) {
      this.#log('bad gossip from %s on %s: %s', from, topic, err.message)
    }
  }

  #excludedSigners (digest: BlobDigest): ReadonlySet<string> {
    const now = Date.now()
    const out = new Set<string>()
    for (const [signer, until] of this.#forgers.get(digest) ?? []) if (until > now) out.add(signer)
    return out
  }

  /**
   * A digest showed these signers' hashes for `digest` false: their parts
   * are left out of the next attempts at it for FORGER_MEMORY_MS. Proven
   * (their word contradicted a blob whose digest verified), they are banned
   * from every exchange too; otherwise the signer may be honest and its
   * origin wrong, and only this blob is spared its word.
   */
  #forged (digest: BlobDigest, signers: string[], proven: boolean): void {
    if (signers.length === 0) return
    let known = this.#forgers.get(digest)
    if (known == null) {
      known = new Map()
      this.#forgers.set(digest, known)
      if (this.#forgers.size > 1000) this.#forgers.delete(this.#forgers.keys().next().value!)
    }
    for (const signer of signers) {
      if (signer === this.peerId) continue
      known.set(signer, Date.now() + FORGER_MEMORY_MS)
      this.#log('%s signed hashes of %s that its digest %s', signer, digest, proven ? 'proved false' : 'did not match')
      if (proven) {
        const reason = `signed a manifest of ${digest} that its digest proved false`
        if (this.#penalties.ban(signer, reason)) this.stats.bans++
      }
    }
  }

  /** Run a timer's work; a bug in it is logged, never allowed to take the daemon down. */
  #safely (what: string, fn: () => void): void {
    if (this.#controller.signal.aborted) return
    try {
      fn()
    } catch (err: any) {
      this.#log.error('%s failed: %e', what, err)
    }
  }

  async stop (): Promise<void> {
    this.#controller.abort()
    this.#scheduler?.stop()
    for (const t of this.#timers) clearInterval(t)
    for (const t of this.#leaveTimers) clearTimeout(t)
    this.#leaveTimers.clear()
    for (const t of this.#tasks.values()) t.stop()
    await this.#network.stop()
    await this.store.close()
  }
}
