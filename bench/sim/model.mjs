// A discrete-event model of a cold start: one seed behind a capped registry
// and N nodes pulling one image at once. Bytes move as fluid flows (a piece
// transfer gets min(its parent's upload share, its child's download share),
// recomputed whenever a flow starts or ends at either end); requests and
// answers take half a round trip each way.
//
// Every download is the daemon's own download engine (DownloadEngine from
// @damselfly/swarm/engine), driven here as DownloadTask drives it in the
// daemon: its commands (open a session, request a piece, look up holders,
// ask a seed) are carried out over the modelled network, and what comes
// back (a bitfield, a have, a piece, a busy answer, a choke) goes back to it
// as events, on the simulated clock. So which parents a download takes and
// lets go, what it asks each for, when it hedges, backs off or gives a
// stalled parent up, are not modelled but run. The parent side runs the
// daemon's rules too: the ServeLedger (a piece just sent to others is
// declined while the uplink is busy, asked as each request's turn comes),
// idleSlotToFree (which session gives its upload slot to a newcomer), the
// load beacons (beaconDue, on the daemon's timer), the piece layout
// (layoutFor). What is modelled: 16 upload slots per parent (a choke at
// open, or a choke that ends an idle session), a parent sending each
// session's requests one after another, discovery (a holder is visible a
// round trip after its first piece, which it announces at once; a task
// hears of a sample of the visible holders, as gossip would name them), the
// runtime pulling 3 blobs at a time in order (the seed likewise from the
// registry, holding every blob from the start), and churn. Not modelled:
// CPU (so not what gossip costs), manifests other than the seed's (every
// piece verifies). SIM_TRACE=1 prints the swarm's state each second (2: and
// the parents of the first two live nodes' downloads).
import { BEACON_INTERVAL_MS, BEACON_UNCHANGED_MS, DownloadEngine, ENGINE_DEFAULTS, HeardHolders, LocalParentRanker, RandomParentRanker, ServeLedger, SWARM_DEFAULTS, beaconDue, beaconIntervalMs, beaconKey, idleSlotToFree, slotsForNewcomers, UplinkGauge } from '@damselfly/swarm/engine'
import { Bitfield, layoutFor, MAX_BUSY_HOLDERS } from '@damselfly/protocol'
import { HOLDING_FLUSH_MS, SCHEDULE_FLUSH_MS, ScheduleState } from '@damselfly/swarm'
import { EventQueue } from './heap.mjs'

// the daemon's own defaults, imported so the two cannot drift apart
const MAX_PARENTS = SWARM_DEFAULTS.maxParents
const UPLOAD_SLOTS = SWARM_DEFAULTS.uploadSlots
const SUPER_SEED_COPIES = SWARM_DEFAULTS.superSeedCopies
const SUPER_SEED_WINDOW_S = SWARM_DEFAULTS.superSeedWindowMs / 1000
const IDLE_RETRY_S = SWARM_DEFAULTS.idleRetryMs / 1000
const IDLE_SLOT_S = SWARM_DEFAULTS.idleSlotMs / 1000
/** What a full parent's choke at open names (the piece server's); the child's engine backs off from it. */
const CHOKE_RETRY_AFTER_MS = 500
/** A node's upload rate is measured over this window (the daemon's RateMeter(1000)). */
const METER_S = 1
/** The daemon's beacon timer runs this often; beaconDue decides whether it sends. */
const BEACON_TIMER_S = BEACON_INTERVAL_MS / 1000
const TICK_S = 0.2
const CONCURRENT_BLOBS = 3
const CANDIDATE_SAMPLE = 20
/** Link levels are recomputed until they move by less than this share (and at most LEVEL_STEPS links per change). */
const LEVEL_EPSILON = 0.01
const LEVEL_STEPS = 200

/**
 * A download's session with one parent, as the network and the parent see
 * it (the download's own view of it is its engine's): the parent's upload
 * slot, the requests waiting their turn at the parent, the piece on its way.
 * A class, every field set at construction: the slot rule reads `busy` and
 * `lastActiveAt` of every session of every candidate parent on each tick.
 */
class Session {
  constructor (node, task, parent) {
    this.node = node
    this.task = task
    this.parent = parent
    /** The parent's id as the engine knows it. */
    this.peer = String(parent.id)
    /** Requests at the parent, waiting their turn. */
    this.queue = []
    /** The ledger's callback for the piece on its way out, undefined while the session sends nothing. */
    this.sent = undefined
    this.open = false
    this.lastActiveAt = 0
    /** The parent's task it serves from, once open. */
    this.attached = undefined
    this.flow = undefined
    /** Bytes of the piece on its way already told to the engine as received. */
    this.reported = 0
    /** The parent's bitfield as the download holds it (the engine sets have bits in it). */
    this.have = undefined
  }

  /** What the parent's slot rule (idleSlotToFree) sees of the session. */
  get busy () { return this.queue.length > 0 || this.sent != null }
}

/** A small fast seeded PRNG (mulberry32): the same seed, the same run. */
function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * scenario: { nodes, blobs: [bytes...], nodeDown, nodeUp, registry, seedRate,
 *   rttS, churn (fraction of nodes that leave mid-pull), seed (PRNG seed),
 *   pieceSize (every blob's, as daemons run with --piece-size; default: the protocol's rule),
 *   beacons ('modelled', the default: the daemon's beacon timer; 'fresh': each
 *   candidate's load as it is the instant it is ranked; 'none': no beacon heard),
 *   beaconIntervalMs (a non-seed node's beacon interval; default the daemon's rule, beaconIntervalMs),
 *   slowShare, slowFactor (every round(1/slowShare)-th node uploads at slowFactor of nodeUp),
 *   ranker ('local', the default: the daemon's LocalParentRanker; 'random': candidates in random order;
 *   'scheduler': the daemon's engine asks the scheduler's ScheduleState, which hears every node's reports
 *   SCHEDULE_FLUSH_MS after they happen and its load when it ranks, and answers a round trip later; as the
 *   daemon with a scheduler, nodes announce nothing on gossip: it hears of each holder HOLDING_FLUSH_MS
 *   after its first piece and suggests holders to the nodes that ask),
 *   unpaced (every node's super-seeding ledger as a daemon given no upload rate runs it, the default:
 *   a node judges its uplink by an UplinkGauge, a seed counts it busy;
 *   otherwise as one given its link's rate, as npm run bench's runs are) }
 * Rates in bytes per second. Returns completion times and traffic figures.
 */
export function simulate (scenario) {
  const random = rng(scenario.seed ?? 1)
  const rtt = scenario.rttS ?? 0.001
  const q = new EventQueue()
  const ranker = scenario.ranker === 'random' ? new RandomParentRanker(random) : new LocalParentRanker()
  const schedule = scenario.ranker === 'scheduler' ? new ScheduleState(() => now * 1000, random) : undefined
  /** Nodes whose uplink is slowFactor of the others' (a share slowShare of them, every k-th). */
  const slowEvery = scenario.slowShare > 0 ? Math.round(1 / scenario.slowShare) : 0
  const isSlow = id => slowEvery > 0 && id % slowEvery === 0
  /** 'modelled' (the daemon's beacon timer), 'fresh' (every candidate's load as it is this instant), 'none' (no beacons heard). */
  const beaconMode = scenario.beacons ?? 'modelled'
  /** A node's beacon interval: every node has heard every other's idle beacon before the pull, so it counts the other nodes. */
  const beaconIntervalS = n => (n.seed ? beaconIntervalMs(0, true) : scenario.beaconIntervalMs ?? beaconIntervalMs(scenario.nodes - 1, false)) / 1000
  let now = 0
  const at = (t, fn) => q.push(t, fn)

  const blobs = scenario.blobs.map((size, b) => {
    const layout = layoutFor(size, scenario.pieceSize)
    // the seed's manifest: one part for the whole blob, every hash distinct (no piece fails here)
    const digest = `sha256:${b.toString(16).padStart(64, '0')}`
    const hashes = Array.from({ length: layout.pieces }, (_, i) => { const h = new Uint8Array(32); new DataView(h.buffer).setUint32(0, i); return h })
    const part = { digest, size, pieceSize: layout.pieceSize, first: 0, hashes, signer: '0', part: { signature: new Uint8Array([b]) } }
    return { b, size, layout, digest, part, visible: [], listening: new Set() }
  })
  // paced: as a daemon given its link's rate (npm run bench's runs); unpaced: as one given none, the default,
  // where a node other than a seed judges its uplink from its upload rate (the meter's), its flows as uploads
  const ledgerOf = n => {
    if (scenario.unpaced !== true) return new ServeLedger(SUPER_SEED_COPIES, SUPER_SEED_WINDOW_S * 1000, () => now * 1000)
    const gauge = n.seed ? undefined : new UplinkGauge(() => n.uploadMeter.rate, () => now * 1000)
    return new ServeLedger(SUPER_SEED_COPIES, SWARM_DEFAULTS.superSeedUnpacedWindowMs, () => now * 1000, gauge == null ? () => true : () => gauge.busy(n.upFlows.size))
  }
  const makeNode = (id, seed) => withLedger({
    id,
    seed,
    up: seed ? scenario.seedRate : isSlow(id) ? scenario.nodeUp * scenario.slowFactor : scenario.nodeUp,
    down: seed ? scenario.seedRate : scenario.nodeDown,
    upFlows: new Set(),
    downFlows: new Set(),
    upLevel: Infinity,
    downLevel: Infinity,
    /** Sessions holding one of its upload slots, in the order they got them (an array: the slot rules walk it on every tick). */
    serving: [],
    ledger: undefined,
    uploaded: 0,
    uploadMeter: { bytes: 0, rate: 0 },
    /** The load beacon other nodes have heard from it last (the daemon's beacons map), and the one it last sent, as a key, and when. */
    beacon: undefined,
    lastBeacon: undefined,
    tasks: new Map(),
    next: 0,
    finishedAt: undefined,
    gone: false
  })
  const withLedger = n => Object.assign(n, { ledger: ledgerOf(n) })
  const seedNode = makeNode(0, true)
  const nodes = Array.from({ length: scenario.nodes }, (_, i) => makeNode(i + 1, false))
  /** Nodes neither finished nor gone. */
  let pending = nodes.length
  const all = [seedNode, ...nodes]
  // control traffic: announcements made, and heard (each by every node downloading the blob then); beacons heard
  const stats = { registryBytes: 0, pieceTransfers: 0, declined: 0, discardedBytes: 0, events: 0, idleReleased: 0, slotsFreed: 0, stalled: 0, lookups: 0, seedAsks: 0, originPulls: 0, announcements: 0, announcementsWithheld: 0, announcementsHeard: 0, beaconsHeard: 0, ranks: 0, suggests: 0 }

  // ---- fluid flows ---------------------------------------------------------
  // Each node's uplink and downlink is shared max-min fairly, as the
  // daemon's token buckets share them: a flow held back at its other end
  // leaves its share to the rest. A link's level is the rate of its
  // flows that are limited there (Infinity while the link is not full); a
  // flow runs at the lower of its two ends' levels. After a flow starts or
  // ends, levels are recomputed from the two links outward until they move
  // by less than LEVEL_EPSILON.
  function rateOf (f) {
    return Math.min(f.from.upLevel, f.to.downLevel)
  }
  /** The level of a link of `capacity` shared by flows whose other ends allow `caps`. */
  function waterLevel (capacity, caps) {
    caps.sort((a, b) => a - b)
    let left = capacity
    let k = caps.length
    for (const c of caps) {
      if (c * k > left) return left / k
      left -= c
      k--
    }
    return Infinity
  }
  function upLevelOf (n) {
    const caps = []
    for (const f of n.upFlows) caps.push(f.to.downLevel)
    return waterLevel(n.up, caps)
  }
  function downLevelOf (n) {
    const caps = []
    for (const f of n.downFlows) caps.push(f.from.upLevel)
    return waterLevel(n.down, caps)
  }
  const moved = (a, b) => a !== b && !(Math.abs(a - b) <= LEVEL_EPSILON * Math.min(a, b))
  /** A flow started or ended from `from` to `to`. */
  function touch (from, to) {
    const flows = new Set([...from.upFlows, ...to.downFlows])
    // links to recompute: [node, isUplink]
    const work = [[from, true], [to, false]]
    let steps = 0
    while (work.length > 0 && steps++ < LEVEL_STEPS) {
      const [n, up] = work.shift()
      const level = up ? upLevelOf(n) : downLevelOf(n)
      if (!moved(level, up ? n.upLevel : n.downLevel)) continue
      if (up) n.upLevel = level
      else n.downLevel = level
      for (const f of up ? n.upFlows : n.downFlows) {
        flows.add(f)
        work.push(up ? [f.to, false] : [f.from, true])
      }
    }
    for (const f of flows) reschedule(f)
  }
  function settle (f) {
    if (f.from === registry && now > f.updated) countRegistry(f.updated, now, f.rate)
    f.remaining -= f.rate * (now - f.updated)
    f.updated = now
  }
  // the registry's egress in 1 s windows, as the real runs' capped proxy counts
  // it: a flow's bytes are spread over the time they took
  const registryWindows = []
  function countRegistry (from, to, rate) {
    for (let t = from; t < to;) {
      const w = Math.floor(t)
      const end = Math.min(to, w + 1)
      registryWindows[w] = (registryWindows[w] ?? 0) + rate * (end - t)
      t = end
    }
  }
  function reschedule (f) {
    settle(f)
    const rate = rateOf(f)
    if (rate === f.rate && f.version > 0) return
    f.rate = rate
    const version = ++f.version
    const eta = now + Math.max(0, f.remaining) / f.rate
    at(eta, () => { if (f.version === version && !f.done) finishFlow(f) })
  }
  function startFlow (from, to, bytes, onDone) {
    const f = { from, to, remaining: bytes, rate: 0, updated: now, version: 0, done: false, onDone }
    from.upFlows.add(f)
    to.downFlows.add(f)
    touch(from, to)
    return f
  }
  function endFlow (f) {
    settle(f)
    f.done = true
    f.from.upFlows.delete(f)
    f.to.downFlows.delete(f)
    touch(f.from, f.to)
  }
  function finishFlow (f) {
    endFlow(f)
    f.onDone()
  }

  // ---- the seed's origin pull ---------------------------------------------
  // blobs in manifest order, CONCURRENT_BLOBS at a time, each piece by piece
  const registry = { up: scenario.registry, upFlows: new Set(), downFlows: new Set(), upLevel: Infinity, downLevel: Infinity }
  let nextOriginPull = 0
  function seedPull () {
    if (nextOriginPull >= blobs.length) return
    const blob = blobs[nextOriginPull++]
    const task = seedNode.tasks.get(blob.b)
    let piece = 0
    const pullPiece = () => {
      if (piece >= blob.layout.pieces) {
        seedPull()
        return
      }
      const i = piece++
      const length = pieceLength(blob, i)
      startFlow(registry, seedNode, length, () => {
        stats.registryBytes += length
        gain(seedNode, task, i)
        pullPiece()
      })
    }
    at(now + rtt, pullPiece)
  }

  // ---- a node's download of one blob ---------------------------------------
  function pieceLength (blob, i) {
    return Math.min(blob.layout.pieceSize, blob.size - i * blob.layout.pieceSize)
  }
  const seedPeer = String(seedNode.id)
  function newTask (node, b) {
    const blob = blobs[b]
    const task = { b, blob, node, heard: new HeardHolders(), held: new Uint8Array(blob.layout.pieces), count: 0, children: new Set(), sessions: new Map(), engine: undefined, layoutKnown: false, done: false, reader: Symbol('runtime'), cursor: 0 }
    if (node.seed) return task
    blob.listening.add(task)
    task.engine = new DownloadEngine({
      now: () => now * 1000,
      self: String(node.id),
      isSeed: false,
      // every node is connected to the seed it bootstrapped from
      connectedPeers: () => [seedPeer],
      isConnected: () => true,
      seeds: () => [seedPeer],
      hasBootstrap: () => true,
      pullers: () => [],
      penalized: () => false,
      beacon: peer => beaconOf(all[Number(peer)]),
      // the real runs give each daemon its link's rate
      downloadRate: () => node.down,
      requestedBytes: () => {
        let n = 0
        for (const t of node.tasks.values()) if (!t.done) n += t.engine.requestedBytes
        return n
      },
      ranker,
      advised: schedule != null,
      random,
      log: () => {}
    }, ENGINE_DEFAULTS, command => run(node, task, command), { digest: blob.digest, hasUrl: true })
    // the runtime reads the blob from the front, as the mirror streams it
    task.engine.reader(task.reader, 0)
    return task
  }
  /** The engine's commands, carried out over the modelled network. */
  function run (node, task, command) {
    switch (command.type) {
      case 'connect':
        connect(node, task, all[Number(command.peer)])
        break
      case 'close': {
        const s = task.sessions.get(Number(command.peer))
        if (s == null) break
        if (command.error == null) stats.idleReleased++
        else stats.stalled++
        closeSession(s)
        break
      }
      case 'request':
        request(task.sessions.get(Number(command.peer)), command.index)
        break
      case 'lookup':
        // with a scheduler the daemon asks it, not the DHT (whose records nodes with one do not make)
        if (schedule != null) {
          stats.suggests++
          at(now + rtt, () => {
            if (task.done || node.gone) return
            for (const p of schedule.suggestPeers(task.blob.digest, String(node.id), new Set(), command.limit)) task.engine.found(p)
            task.engine.lookupDone()
          })
          break
        }
        stats.lookups++
        // the DHT names holders a round trip or two later: a sample of the visible ones
        at(now + 2 * rtt, () => {
          if (task.done || node.gone) return
          for (const p of sample(node, task)) task.engine.found(String(p.id))
          task.engine.lookupDone()
        })
        break
      case 'ask-seed':
        stats.seedAsks++
        // the seed holds (or is pulling) every blob: it accepts
        at(now + rtt, () => { if (!task.done && !node.gone) task.engine.seedAnswer(command.seed, { accepted: true }) })
        break
      case 'pull-origin':
        stats.originPulls++
        break
      case 'finish':
        at(now, () => finishTask(node, task))
        break
      case 'report':
        // sent in the node's next batch
        at(now + SCHEDULE_FLUSH_MS / 1000, () => schedule?.report(command.report))
        break
      case 'suggest':
        stats.suggests++
        at(now + rtt, () => {
          if (task.done || node.gone || schedule == null) return
          const holders = schedule.suggestPeers(task.blob.digest, String(node.id), new Set(), command.limit)
          // asked to rank too: the candidates and the holders named, in one order
          task.engine.suggested(holders, command.rank == null ? undefined : rankNow([...command.rank.map(c => c.peer), ...holders]))
        })
        break
      case 'rank':
        stats.ranks++
        at(now + rtt, () => {
          if (task.done || node.gone || schedule == null) return
          task.engine.advised(rankNow(command.candidates.map(c => c.peer)))
        })
        break
      // a piece still in flight arrives and is counted as discarded; nothing is banned or fails here
      default:
        break
    }
  }
  /** The scheduler's order of these peers, with their loads as their last batches told it. */
  function rankNow (peers) {
    for (const peer of peers) {
      const p = all[Number(peer)]
      if (p != null && !p.gone) schedule.beacon(peer, loadOf(p))
    }
    return schedule.rankPeers([...new Set(peers)])
  }

  /** Up to CANDIDATE_SAMPLE holders the task could hear of now. */
  function sample (node, task) {
    const pool = []
    const visible = task.blob.visible
    for (let k = 0; k < CANDIDATE_SAMPLE && visible.length > 0; k++) {
      const p = visible[Math.floor(random() * visible.length)]
      if (p !== node && !p.gone && !pool.includes(p)) pool.push(p)
    }
    return pool
  }
  function gain (node, task, i) {
    if (task.held[i] === 1) return
    task.held[i] = 1
    task.count++
    if (i === task.cursor && task.engine != null) {
      while (task.cursor < task.held.length && task.held[task.cursor] === 1) task.cursor++
      task.engine.reader(task.reader, task.cursor < task.held.length ? task.cursor : undefined)
    }
    // children with an open session hear of the piece at once (a have frame)
    for (const s of task.children) {
      if (s.open) s.task.engine.have(String(node.id), [i])
    }
    const blob = task.blob
    if (task.count === 1 && schedule != null) {
      // with a scheduler a holder tells it, not the swarm
      at(now + HOLDING_FLUSH_MS / 1000 + rtt / 2, () => {
        if (node.gone) return
        schedule.beacon(String(node.id), loadOf(node))
        schedule.hold(blob.digest, String(node.id))
      })
    } else if (task.count === 1 && !node.seed) {
      // a node announces the first piece of a blob at once (later ones wait
      // for the batch); gossip carries it in about a round trip
      announce(node, task, false)
      at(now + rtt, () => { if (!node.gone) blob.visible.push(node) })
    }
    if (task.count === blob.layout.pieces) {
      task.done = true
      if (!node.seed) {
        // the second announcement, the blob complete: counted, it names no new holder
        if (schedule == null) announce(node, task, true)
        blob.listening.delete(task)
      }
    }
  }
  /**
   * What a node's announcement of a blob costs: every other node downloading
   * it hears it, on the blob's topic, which a blob of one piece has none of
   * (the daemon's downloads of it join no topic); none once the node has
   * heard enough others' (HeardHolders, as the daemon).
   */
  function announce (node, task, complete) {
    const blob = task.blob
    if (blob.layout.pieces <= 1) return
    if (!task.heard.announces(complete, node.seed)) {
      stats.announcementsWithheld++
      return
    }
    stats.announcements++
    stats.announcementsHeard += blob.listening.size - (blob.listening.has(task) ? 1 : 0)
    // heard a round trip later by the nodes downloading the blob then
    const peer = String(node.id)
    at(now + rtt, () => {
      for (const t of blob.listening) if (t.node !== node) t.heard.heard(peer, complete)
    })
  }
  function startNextBlob (node) {
    while (node.next < blobs.length && [...node.tasks.values()].filter(t => !t.done).length < CONCURRENT_BLOBS) {
      const t = newTask(node, node.next++)
      node.tasks.set(t.b, t)
      t.engine.start()
    }
    if (node.next >= blobs.length && [...node.tasks.values()].every(t => t.done) && node.finishedAt == null && !node.gone) {
      node.finishedAt = now
      pending--
    }
  }
  function finishTask (node, task) {
    for (const s of [...task.sessions.values()]) closeSession(s)
    task.engine.end()
    if (!node.gone) startNextBlob(node)
  }
  /** The engine opens a session: a round trip later the parent takes it (an upload slot) or chokes it. */
  function connect (node, task, parent) {
    const s = new Session(node, task, parent)
    task.sessions.set(parent.id, s)
    at(now + rtt, () => {
      if (task.sessions.get(parent.id) !== s || node.gone || task.done) return
      const ptask = parent.gone ? undefined : parent.tasks.get(task.b)
      if (ptask == null) {
        task.sessions.delete(parent.id)
        task.engine.sessionClosed(s.peer, parent.gone ? { kind: 'error', message: 'gone' } : { kind: 'not-found', message: 'no such blob' })
        return
      }
      if (parent.serving.length >= UPLOAD_SLOTS) {
        // the slot of a session that has asked for nothing for IDLE_SLOT_S goes to the newcomer
        const idle = idleSlotToFree(parent.serving, now, IDLE_SLOT_S)
        if (idle != null) yieldSlot(idle)
      }
      if (parent.serving.length >= UPLOAD_SLOTS) {
        task.sessions.delete(parent.id)
        task.engine.sessionClosed(s.peer, { kind: 'choke', message: 'no free upload slot', retryAfterMs: CHOKE_RETRY_AFTER_MS })
        return
      }
      parent.serving.push(s)
      s.lastActiveAt = now
      s.open = true
      s.attached = ptask
      ptask.children.add(s)
      const blob = task.blob
      if (!task.layoutKnown) {
        task.layoutKnown = true
        task.engine.layoutKnown(blob.layout, new Bitfield(blob.layout.pieces), () => false)
      }
      task.engine.sessionOpened(s.peer)
      task.engine.manifest(s.peer, [blob.part])
      s.have = new Bitfield(blob.layout.pieces)
      for (let i = 0; i < ptask.held.length; i++) if (ptask.held[i] === 1) s.have.set(i)
      task.engine.bitfield(s.peer, s.have)
    })
  }
  /** Ends the session at both ends' network side; the engine is told by the caller, if it did not end it itself. */
  function closeSession (s) {
    const task = s.task
    if (task.sessions.get(s.parent.id) === s) task.sessions.delete(s.parent.id)
    s.attached?.children.delete(s)
    s.attached = undefined
    if (s.open) s.parent.serving.splice(s.parent.serving.indexOf(s), 1)
    s.open = false
    s.queue.length = 0
    if (s.flow != null && !s.flow.done) endFlow(s.flow)
    s.flow = undefined
    // a send that broke off counts as sent, as in the piece server
    s.sent?.()
    s.sent = undefined
  }
  function request (s, i) {
    if (s == null) return
    at(now + rtt / 2, () => {
      if (!s.open) return
      s.queue.push(i)
      s.lastActiveAt = now
      serve(s)
    })
  }
  /** The child hears BUSY for piece i half a round trip later, and asks elsewhere. */
  function declined (s, i, holders) {
    stats.declined++
    at(now + rtt / 2, () => {
      if (!s.open) return
      s.task.engine.declined(s.peer, i, true)
      // the peers the piece just went to, named in the BUSY answer: candidates at once, as the daemon's download takes them
      for (const h of holders) s.task.engine.candidate(h)
    })
  }
  /**
   * The parent takes a session's requests one after another, as the piece
   * server does, and asks its ledger as each one's turn comes: a piece just
   * sent to others is answered BUSY while its uplink is busy.
   */
  function serve (s) {
    if (s.sent != null || !s.open) return
    const task = s.task
    let i
    let sent
    while (s.queue.length > 0) {
      i = s.queue.shift()
      const digest = String(task.b)
      const requester = String(s.node.id)
      // declined only for recipients still here (the piece server's reach check: every simulated node can dial every other)
      sent = s.parent.ledger.admit(digest, i, task.blob.layout.pieces, requester, p => !all[Number(p)].gone)
      if (sent != null) break
      declined(s, i, s.parent.ledger.recipients(digest, i).filter(p => p !== requester).slice(0, MAX_BUSY_HOLDERS))
    }
    if (sent == null) return
    const length = pieceLength(task.blob, i)
    s.sent = sent
    s.reported = 0
    s.flow = startFlow(s.parent, s.node, length, () => {
      // the ledger's window runs from the end of the send, as the piece server's does
      s.sent = undefined
      s.flow = undefined
      s.lastActiveAt = now
      sent()
      s.parent.uploaded += length
      stats.pieceTransfers++
      // the last byte reaches the child half a round trip later
      const reported = s.reported
      s.reported = 0
      at(now + rtt / 2, () => deliver(s, i, length, reported))
      serve(s)
    })
    s.flow.length = length
  }
  function deliver (s, i, length, reported) {
    if (!s.open) return
    const node = s.node
    const task = s.task
    const engine = task.engine
    engine.received(s.peer, length - reported)
    const arrival = engine.pieceArrived(s.peer, i)
    if (!arrival.write) {
      if (arrival.discarded) stats.discardedBytes += length
      return
    }
    engine.pieceVerified(s.peer, i)
    gain(node, task, i)
    engine.pieceStored(s.peer, i, length)
  }

  /**
   * The parent ends an idle session with a choke naming IDLE_RETRY_S (the
   * piece server's rule); the child's engine counts it as a choke.
   */
  function yieldSlot (s) {
    stats.slotsFreed++
    closeSession(s)
    s.task.engine.sessionClosed(s.peer, { kind: 'choke', message: 'upload slot given to another', retryAfterMs: IDLE_RETRY_S * 1000 })
  }

  /**
   * Every TICK_S, as the daemon's timer: the bytes of pieces on their way
   * reach the engine (the daemon's sessions report each chunk), a task with
   * parent places free hears of holders (gossip), and the engine ticks.
   */
  function tick (node) {
    if (node.gone || node.finishedAt != null) return
    for (const task of node.tasks.values()) {
      if (task.done) continue
      const engine = task.engine
      for (const s of task.sessions.values()) {
        const f = s.flow
        if (f == null || f.done) continue
        settle(f)
        const done = Math.floor(f.length - f.remaining)
        if (done > s.reported) {
          engine.received(s.peer, done - s.reported)
          s.reported = done
        }
      }
      if (engine.sessionCount < MAX_PARENTS) {
        for (const p of sample(node, task)) engine.candidate(String(p.id))
      }
      engine.tick()
    }
    at(now + TICK_S, () => tick(node))
  }
  /** What a node's ranker reads of a candidate's load: its last beacon heard (or, with beacons: 'fresh', its load this instant). */
  function beaconOf (p) {
    if (beaconMode === 'fresh') return loadOf(p)
    return beaconMode === 'none' ? undefined : p.beacon
  }
  function loadOf (n) {
    return { uploadBps: Math.round(n.uploadMeter.rate), activeUploads: n.upFlows.size, freeUploadSlots: slotsForNewcomers(n.serving, UPLOAD_SLOTS, now, IDLE_SLOT_S), seed: n.seed }
  }
  /** The daemon's beacon timer: its load gossiped when beaconDue says (changed and its interval passed, or unchanged for longer), heard everywhere a round trip later (a hop or two of gossip). */
  function beaconTick (n) {
    if (n.gone || pending === 0) return
    const load = loadOf(n)
    const { due, key } = beaconDue(load, n.lastBeacon == null ? undefined : { key: n.lastBeacon.key, sinceMs: (now - n.lastBeacon.at) * 1000 }, beaconIntervalS(n) * 1000)
    if (due) {
      n.lastBeacon = { key, at: now }
      // with a scheduler a node's beacon goes to it alone, and nodes follow no beacon topic (a seed's is heard by nobody)
      if (schedule == null) stats.beaconsHeard += all.length - 1
      at(now + rtt, () => { n.beacon = load })
    }
    at(now + BEACON_TIMER_S, () => beaconTick(n))
  }
  function meterTick () {
    for (const n of all) {
      const bytes = n.uploaded - n.uploadMeter.bytes
      n.uploadMeter.rate = bytes / METER_S
      n.uploadMeter.bytes = n.uploaded
    }
    if (nodes.some(n => n.finishedAt == null && !n.gone)) at(now + METER_S, meterTick)
  }

  // ---- churn ----------------------------------------------------------------
  const leaving = new Set()
  const churn = scenario.churn ?? 0
  if (churn > 0) {
    for (const n of nodes) if (random() < churn) leaving.add(n)
  }
  function leave (n) {
    if (n.finishedAt != null) return
    n.gone = true
    pending--
    for (const task of n.tasks.values()) {
      task.blob.listening.delete(task)
      for (const s of [...task.sessions.values()]) closeSession(s)
      task.engine?.end()
      // children lose their sessions with it
      for (const s of [...task.children]) {
        closeSession(s)
        s.task.engine.sessionClosed(s.peer, { kind: 'error', message: 'connection closed' })
      }
    }
  }

  // ---- run ------------------------------------------------------------------
  blobs.forEach(blob => {
    blob.visible.push(seedNode)
    seedNode.tasks.set(blob.b, newTask(seedNode, blob.b))
  })
  for (let b = 0; b < Math.min(CONCURRENT_BLOBS, blobs.length); b++) seedPull()
  for (const n of nodes) {
    startNextBlob(n)
    at(TICK_S * random(), () => tick(n))
  }
  for (const n of leaving) at(random() * (scenario.leaveBeforeS ?? 10), () => leave(n))
  at(METER_S, meterTick)
  // the daemons were started before the pull: each has beaconed its idle load, and its timer runs at its own phase
  if (beaconMode === 'modelled') {
    for (const n of all) {
      n.beacon = loadOf(n)
      n.lastBeacon = { key: beaconKey(n.beacon), at: -BEACON_UNCHANGED_MS / 1000 * random() }
      at(BEACON_TIMER_S * random(), () => beaconTick(n))
    }
  }
  if (process.env.SIM_TRACE) {
    const trace = () => {
      const live = nodes.filter(n => n.finishedAt == null && !n.gone)
      if (live.length === 0) return
      const avg = f => (live.reduce((a, n) => a + f(n), 0) / live.length).toFixed(2)
      // the share of live nodes' download and of all nodes' upload capacity in use
      const util = (set, cap) => { let r = 0; for (const f of set) r += f.rate; return r / cap }
      const upUtil = nodes.reduce((a, n) => a + (n.gone ? 0 : util(n.upFlows, n.up)), 0) / nodes.length
      // SIM_TRACE=2: also the first two live nodes' downloads, each parent as id (S: a slow uplink, ?: not open yet):requests queued (+: one being sent)
      if (process.env.SIM_TRACE === '2') for (const n of live.slice(0, 2)) for (const t of n.tasks.values()) if (!t.done && t.engine != null) console.log(`  node ${n.id} blob ${t.b} held ${t.count}/${t.held.length} sessions ${[...t.sessions.values()].map(x => `${x.parent.id}${x.parent.up < scenario.nodeUp ? 'S' : ''}${x.open ? '' : '?'}:${x.queue.length}${x.sent ? '+' : ''}`).join(' ')} candidates ${t.blob.visible.length}`)
      console.log(`t=${now.toFixed(1)} live ${live.length} downUtil ${avg(n => util(n.downFlows, n.down))} upUtil ${upUtil.toFixed(2)} downFlows ${avg(n => n.downFlows.size)} idleDown ${avg(n => n.downFlows.size === 0 ? 1 : 0)} requested MiB ${avg(n => [...n.tasks.values()].reduce((a, t) => a + (t.done || t.engine == null ? 0 : t.engine.requestedBytes), 0) / 1048576)} sessions ${avg(n => [...n.tasks.values()].filter(t => !t.done).reduce((a, t) => a + t.sessions.size, 0))} openSessions ${avg(n => [...n.tasks.values()].filter(t => !t.done).reduce((a, t) => a + [...t.sessions.values()].filter(x => x.open).length, 0))} upFlows ${avg(n => n.upFlows.size)} held ${avg(n => [...n.tasks.values()].reduce((a, t) => a + t.count, 0))} seedUp ${seedNode.upFlows.size} seedSlots ${seedNode.serving.length} visible ${blobs.map(b => b.visible.length).join('/')}`)
      at(now + 1, trace)
    }
    at(1, trace)
  }

  // bounded, whatever happens: an hour of simulated time, 2e8 events or
  // 50,000 per node (10,000 nodes of the whole 500 MB image need over 2e8)
  const limit = 3600
  const maxEvents = Math.max(2e8, 5e4 * scenario.nodes)
  while (q.size > 0) {
    const e = q.pop()
    if (e.time > limit || stats.events++ > maxEvents) break
    now = e.time
    e.fn()
    if (pending === 0) break
  }
  const finished = nodes.filter(n => !n.gone && n.finishedAt != null).map(n => n.finishedAt)
  return {
    completionSeconds: finished,
    unfinished: nodes.filter(n => !n.gone && n.finishedAt == null).length,
    left: nodes.filter(n => n.gone).length,
    registryBytes: stats.registryBytes,
    registryPeakBytesPerSecond: registryWindows.reduce((a, b) => Math.max(a, b ?? 0), 0),
    seedUploadedBytes: seedNode.uploaded,
    discardedBytes: stats.discardedBytes,
    declined: stats.declined,
    pieceTransfers: stats.pieceTransfers,
    events: stats.events,
    idleReleased: stats.idleReleased,
    slotsFreed: stats.slotsFreed,
    stalled: stats.stalled,
    lookups: stats.lookups,
    seedAsks: stats.seedAsks,
    originPulls: stats.originPulls,
    announcements: stats.announcements,
    announcementsWithheld: stats.announcementsWithheld,
    announcementsHeard: stats.announcementsHeard,
    beaconsHeard: stats.beaconsHeard,
    ranks: stats.ranks,
    suggests: stats.suggests,
    demotions: nodes.reduce((a, n) => a + [...n.tasks.values()].reduce((b, t) => b + (t.engine?.demotions ?? 0), 0), 0),
    simSeconds: now
  }
}
