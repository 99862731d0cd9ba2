// A discrete-event model of a cold start: one seed behind a capped registry
// and N nodes pulling one image at once. Bytes move as fluid flows (a piece
// transfer gets min(its parent's upload share, its child's download share),
// recomputed whenever a flow starts or ends at either end); requests and
// answers take half a round trip each way.
//
// The decisions are the daemon's own code, imported: which parent gets which
// request and which piece (planRequests and pickPiece), how deep a parent's
// queue is (pipelineDepth), the node's request budget (requestBudget), how
// parents are ranked (LocalParentRanker), when a piece is declined as just
// sent to others (ServeLedger, on the simulated clock, asked as each
// request's turn comes, as the piece server asks it), which session gives
// its upload slot to a newcomer when all are taken (idleSlotToFree), and the
// piece layout (layoutFor), how long a child waits before asking a
// parent that choked it again (retryDelay, backing off as the choke count
// grows), and when a node gossips its load beacon (beaconDue on the
// interval of beaconIntervalMs; the ranker reads the last beacon heard, a
// round trip after it was sent). What is modelled rather than run: sessions, 16 upload slots
// (choke at open, or a choke that ends an idle session),
// parents with nothing to give letting their place go (the daemon's
// idle-parent rule, on its own constants), a parent sending each session's
// requests one after another, discovery (a holder is visible a round trip
// after its first piece, which it announces at once), the runtime pulling 3
// blobs at a time in order (the seed likewise from the registry), and churn.
// Not modelled: hedging (no parent stalls here), CPU (so not what gossip costs). SIM_TRACE=1 prints the
// swarm's state each second.
import { BEACON_INTERVAL_MS, BEACON_UNCHANGED_MS, LocalParentRanker, ServeLedger, SWARM_DEFAULTS, beaconDue, beaconIntervalMs, beaconKey, idleSlotToFree, pipelineDepth, planRequests, requestBudget, retryDelay, slotsForNewcomers } from '@damselfly/swarm'
import { layoutFor } from '@damselfly/protocol'
import { EventQueue } from './heap.mjs'

// the daemon's own defaults, imported so the two cannot drift apart
const MAX_PARENTS = SWARM_DEFAULTS.maxParents
const UPLOAD_SLOTS = SWARM_DEFAULTS.uploadSlots
const SUPER_SEED_COPIES = SWARM_DEFAULTS.superSeedCopies
const SUPER_SEED_WINDOW_S = SWARM_DEFAULTS.superSeedWindowMs / 1000
const DECLINE_BACKOFF_S = SWARM_DEFAULTS.declineBackoffMs / 1000
const IDLE_PARENT_S = SWARM_DEFAULTS.idleParentMs / 1000
const IDLE_RETRY_S = SWARM_DEFAULTS.idleRetryMs / 1000
const IDLE_SLOT_S = SWARM_DEFAULTS.idleSlotMs / 1000
/** What a full parent's choke at open names (the piece server's); the child backs off from it as the daemon does (retryDelay). */
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
 * A download's session with one parent, and that parent's upload slot for
 * it. A class, every field set at construction: the slot rule reads `busy`
 * and `lastActiveAt` of every session of every candidate parent on each
 * tick, and object literals that grew fields later made that over a quarter
 * of a 1,000-node run.
 */
class Session {
  constructor (node, task, parent) {
    this.node = node
    this.task = task
    this.parent = parent
    /** Pieces requested and not yet delivered, oldest first. */
    this.outstanding = []
    /** Measured delivery rate, bytes/s (0: not yet). */
    this.rate = 0
    /** Requests at the parent, waiting their turn. */
    this.queue = []
    /** The ledger's callback for the piece on its way out, undefined while the session sends nothing. */
    this.sent = undefined
    this.open = false
    this.lastActiveAt = 0
    /** The parent's task the session counts availability from, once attached. */
    this.attached = undefined
    this.flow = undefined
    this.idleSince = undefined
    /** Pieces the attached parent holds that the download lacks, kept as either side gains one. */
    this.offers = 0
    /** Bytes delivered on the session: one that brought data starts the parent's failure count again. */
    this.received = 0
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
 *   beaconIntervalMs (a non-seed node's beacon interval; default the daemon's rule, beaconIntervalMs) }
 * Rates in bytes per second. Returns completion times and traffic figures.
 */
export function simulate (scenario) {
  const random = rng(scenario.seed ?? 1)
  const rtt = scenario.rttS ?? 0.001
  const q = new EventQueue()
  const ranker = new LocalParentRanker()
  /** 'modelled' (the daemon's beacon timer), 'fresh' (every candidate's load as it is this instant), 'none' (no beacons heard). */
  const beaconMode = scenario.beacons ?? 'modelled'
  /** A node's beacon interval: every node has heard every other's idle beacon before the pull, so it counts the other nodes. */
  const beaconIntervalS = n => (n.seed ? beaconIntervalMs(0, true) : scenario.beaconIntervalMs ?? beaconIntervalMs(scenario.nodes - 1, false)) / 1000
  let now = 0
  const at = (t, fn) => q.push(t, fn)

  const blobs = scenario.blobs.map((size, b) => ({ b, size, layout: layoutFor(size, scenario.pieceSize), visible: [] }))
  const makeNode = (id, seed) => ({
    id,
    seed,
    up: seed ? scenario.seedRate : scenario.nodeUp,
    down: seed ? scenario.seedRate : scenario.nodeDown,
    upFlows: new Set(),
    downFlows: new Set(),
    upLevel: Infinity,
    downLevel: Infinity,
    /** Sessions holding one of its upload slots, in the order they got them (an array: the slot rules walk it on every tick). */
    serving: [],
    ledger: new ServeLedger(SUPER_SEED_COPIES, SUPER_SEED_WINDOW_S * 1000, () => now * 1000),
    uploaded: 0,
    uploadMeter: { bytes: 0, rate: 0 },
    /** The load beacon other nodes have heard from it last (the daemon's beacons map), and the one it last sent, as a key, and when. */
    beacon: undefined,
    lastBeacon: undefined,
    tasks: new Map(),
    next: 0,
    finishedAt: undefined,
    gone: false,
    requested: 0
  })
  const seedNode = makeNode(0, true)
  const nodes = Array.from({ length: scenario.nodes }, (_, i) => makeNode(i + 1, false))
  /** Nodes neither finished nor gone. */
  let pending = nodes.length
  const all = [seedNode, ...nodes]
  const stats = { registryBytes: 0, pieceTransfers: 0, declined: 0, discardedBytes: 0, events: 0, idleReleased: 0, slotsFreed: 0 }

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
    const task = newTask(blob.b)
    seedNode.tasks.set(blob.b, task)
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
  function newTask (b) {
    const blob = blobs[b]
    return { b, blob, held: new Uint8Array(blob.layout.pieces), count: 0, inflight: new Uint16Array(blob.layout.pieces), avail: new Uint16Array(blob.layout.pieces), children: new Set(), sessions: new Map(), declined: new Map(), retryAt: new Map(), failures: new Map(), requested: 0, done: false }
  }
  function gain (node, task, i) {
    if (task.held[i] === 1) return
    task.held[i] = 1
    task.count++
    // children with an open session see the piece at once (a have frame)
    for (const child of task.children) {
      child.avail[i]++
      if (child.held[i] !== 1) child.sessions.get(node.id).offers++
    }
    // a parent that held it offers one piece fewer
    for (const s of task.sessions.values()) if (s.attached?.held[i] === 1) s.offers--
    const blob = task.blob
    if (task.count === 1 && !node.seed) {
      // a node announces the first piece of a blob at once (later ones wait
      // for the batch); gossip carries it in about a round trip
      at(now + rtt, () => { if (!node.gone) blob.visible.push(node) })
    }
    if (task.count === blob.layout.pieces) task.done = true
  }
  function startNextBlob (node) {
    while (node.next < blobs.length && [...node.tasks.values()].filter(t => !t.done).length < CONCURRENT_BLOBS) {
      const t = newTask(node.next++)
      node.tasks.set(t.b, t)
      // the seed is asked at once: nobody holds anything yet
      connect(node, t, seedNode)
    }
    if (node.next >= blobs.length && [...node.tasks.values()].every(t => t.done) && node.finishedAt == null && !node.gone) {
      node.finishedAt = now
      pending--
    }
  }
  function connect (node, task, parent) {
    if (task.sessions.has(parent.id) || task.sessions.size >= MAX_PARENTS || parent.gone) return
    const s = new Session(node, task, parent)
    task.sessions.set(parent.id, s)
    at(now + rtt, () => {
      if (node.gone || parent.gone || task.done) return closeSession(node, task, s)
      if (parent.serving.length >= UPLOAD_SLOTS) {
        // the slot of a session that has asked for nothing for IDLE_SLOT_S goes to the newcomer
        const idle = idleSlotToFree(parent.serving, now, IDLE_SLOT_S)
        if (idle != null) yieldSlot(idle)
      }
      if (parent.serving.length >= UPLOAD_SLOTS) {
        // choked: try others, and this one again after the daemon's backoff
        task.sessions.delete(parent.id)
        choked(task, parent.id, CHOKE_RETRY_AFTER_MS, false)
        return
      }
      parent.serving.push(s)
      s.lastActiveAt = now
      s.open = true
      attach(task, s)
      plan(node, task)
    })
  }
  /** The child's availability counts start from what the parent holds; later pieces arrive as have frames. */
  function attach (task, s) {
    const ptask = s.parent.tasks.get(task.b)
    if (ptask == null || s.attached) return
    s.attached = ptask
    ptask.children.add(task)
    for (let i = 0; i < ptask.held.length; i++) {
      if (ptask.held[i] !== 1) continue
      task.avail[i]++
      if (task.held[i] !== 1) s.offers++
    }
  }
  function detach (task, s) {
    const ptask = s.attached
    if (ptask == null) return
    s.attached = undefined
    ptask.children.delete(task)
    for (let i = 0; i < ptask.held.length; i++) if (ptask.held[i] === 1) task.avail[i]--
  }
  function closeSession (node, task, s) {
    if (task.sessions.get(s.parent.id) === s) task.sessions.delete(s.parent.id)
    detach(task, s)
    if (s.open) s.parent.serving.splice(s.parent.serving.indexOf(s), 1)
    s.open = false
    for (const i of s.outstanding) {
      task.inflight[i]--
      task.requested -= pieceLength(task.blob, i)
      node.requested -= pieceLength(task.blob, i)
    }
    s.outstanding.length = 0
    s.queue.length = 0
    if (s.flow != null && !s.flow.done) endFlow(s.flow)
    // a send that broke off counts as sent, as in the piece server
    s.sent?.()
    s.sent = undefined
  }
  /** The download's request policy (the daemon's planRequests) for one blob, or for all of the node's. */
  function plan (node, only) {
    if (node.gone) return
    for (const task of only != null ? [only] : node.tasks.values()) {
      if (task.done) continue
      const blob = task.blob
      const budget = requestBudget(blob.layout.pieceSize, node.down)
      const parents = []
      for (const s of task.sessions.values()) {
        if (!s.open) continue
        // a session opened before the parent had the blob (the seed, early on) starts counting now
        if (s.attached == null) attach(task, s)
        const ptask = s.attached
        if (ptask == null) continue
        // pieces this parent declined, until when: by parent, so a new session with it keeps them
        const declinedHere = task.declined.get(s.parent.id)
        parents.push({
          s,
          outstanding: s.outstanding.length,
          depth: pipelineDepth(blob.layout.pieceSize, s.rate),
          seed: s.parent.seed,
          canServe: i => ptask.held[i] === 1 && !s.outstanding.includes(i) && !(declinedHere != null && (declinedHere.get(i) ?? 0) > now)
        })
      }
      if (parents.length === 0) continue
      let cursor = 0
      while (cursor < blob.layout.pieces && task.held[cursor] === 1) cursor++
      const state = {
        pieces: blob.layout.pieces,
        held: i => task.held[i] === 1,
        hashKnown: () => true,
        inflight: i => task.inflight[i],
        availability: i => task.avail[i]
      }
      planRequests(parents, { state, cursor, pieceSize: blob.layout.pieceSize, budgetBytes: budget, requestedBytes: node.requested, ownRequestedBytes: task.requested, random }, (p, i) => request(node, task, p.s, i))
    }
  }
  function request (node, task, s, i) {
    const length = pieceLength(task.blob, i)
    s.outstanding.push(i)
    task.inflight[i]++
    task.requested += length
    node.requested += length
    at(now + rtt / 2, () => {
      if (!s.open) return
      s.queue.push(i)
      s.lastActiveAt = now
      serve(node, task, s)
    })
  }
  /** The child hears BUSY for piece i half a round trip later, and asks elsewhere. */
  function declined (node, task, s, i) {
    stats.declined++
    const parent = s.parent
    const length = pieceLength(task.blob, i)
    at(now + rtt / 2, () => {
      if (!s.open) return
      const k = s.outstanding.indexOf(i)
      if (k < 0) return
      s.outstanding.splice(k, 1)
      task.inflight[i]--
      task.requested -= length
      node.requested -= length
      let byPiece = task.declined.get(parent.id)
      if (byPiece == null) task.declined.set(parent.id, byPiece = new Map())
      byPiece.set(i, now + DECLINE_BACKOFF_S)
      plan(node, task)
    })
  }
  /**
   * The parent takes a session's requests one after another, as the piece
   * server does, and asks its ledger as each one's turn comes: a piece just
   * sent to others is answered BUSY while its uplink is busy.
   */
  function serve (node, task, s) {
    if (s.sent != null || !s.open) return
    let i
    let sent
    while (s.queue.length > 0) {
      i = s.queue.shift()
      sent = s.parent.ledger.admit(String(task.b), i)
      if (sent != null) break
      declined(node, task, s, i)
    }
    if (sent == null) return
    const length = pieceLength(task.blob, i)
    const started = now
    s.sent = sent
    s.flow = startFlow(s.parent, node, length, () => {
      // the ledger's window runs from the end of the send, as the piece server's does
      s.sent = undefined
      s.lastActiveAt = now
      sent()
      s.parent.uploaded += length
      stats.pieceTransfers++
      const took = now - started
      s.rate = s.rate === 0 ? length / took : 0.5 * s.rate + 0.5 * length / took
      // the last byte reaches the child half a round trip later
      at(now + rtt / 2, () => deliver(node, task, s, i, length))
      serve(node, task, s)
    })
  }
  function deliver (node, task, s, i, length) {
    const k = s.outstanding.indexOf(i)
    if (k >= 0) s.outstanding.splice(k, 1)
    else return
    s.received += length
    task.inflight[i]--
    task.requested -= length
    node.requested -= length
    if (task.held[i] === 1) stats.discardedBytes += length
    gain(node, task, i)
    if (task.done) {
      for (const x of [...task.sessions.values()]) closeSession(node, task, x)
      startNextBlob(node)
      plan(node)
      return
    }
    plan(node, task)
  }

  /**
   * The daemon's idle-parent rule: with every place taken and another holder
   * at hand, one parent that has had nothing the download lacks and no
   * request for IDLE_PARENT_S gives its place up, and is not asked again
   * for IDLE_RETRY_S.
   */
  function releaseIdle (node, task, ready) {
    let released = false
    for (const s of task.sessions.values()) {
      if (!s.open) continue
      // s.offers: the parent holds a piece the download lacks
      if (s.outstanding.length > 0 || s.offers > 0) {
        s.idleSince = undefined
        continue
      }
      s.idleSince ??= now
      if (released || task.sessions.size < MAX_PARENTS || now - s.idleSince < IDLE_PARENT_S || !ready()) continue
      stats.idleReleased++
      letGo(s)
      released = true
    }
  }

  /**
   * The parent ends an idle session with a choke naming IDLE_RETRY_S (the
   * piece server's rule); the child counts it as a choke, as the daemon
   * does: a session that brought data starts the count again.
   */
  function yieldSlot (s) {
    stats.slotsFreed++
    closeSession(s.node, s.task, s)
    choked(s.task, s.parent.id, IDLE_RETRY_S * 1000, s.received > 0)
  }
  /**
   * A parent choked the download: asked again after the daemon's backoff
   * (retryDelay), which grows with the chokes in a row; a session that
   * brought data starts the count again.
   */
  function choked (task, id, retryAfterMs, broughtData) {
    const failures = (broughtData ? 0 : task.failures.get(id) ?? 0) + 1
    task.failures.set(id, failures)
    task.retryAt.set(id, now + retryDelay('choke', retryAfterMs, failures, random) / 1000)
  }
  /** Not waiting out a backoff from that parent. */
  function mayAsk (task, id) {
    return !((task.retryAt.get(id) ?? 0) > now)
  }
  /** The child lets an idle parent go and asks it again only after IDLE_RETRY_S. */
  function letGo (s) {
    closeSession(s.node, s.task, s)
    s.task.retryAt.set(s.parent.id, now + IDLE_RETRY_S)
  }

  /** Every TICK_S: fill each download's parents from the holders it can see, ranked by the daemon's ranker. */
  function tick (node) {
    if (node.gone || node.finishedAt != null) return
    for (const task of node.tasks.values()) {
      if (task.done) continue
      // sampled only when needed: a full download's parents draw no candidates (nor random numbers)
      let pool
      const sample = () => {
        if (pool != null) return pool
        pool = []
        const visible = task.blob.visible
        for (let k = 0; k < CANDIDATE_SAMPLE && visible.length > 0; k++) {
          const p = visible[Math.floor(random() * visible.length)]
          if (p !== node && !p.gone && !task.sessions.has(p.id) && mayAsk(task, p.id) && !pool.includes(p)) pool.push(p)
        }
        if (!task.sessions.has(seedNode.id) && mayAsk(task, seedNode.id)) pool.push(seedNode)
        return pool
      }
      releaseIdle(node, task, () => sample().length > 0)
      if (task.sessions.size >= MAX_PARENTS) continue
      const candidates = sample().map(p => ({ peer: String(p.id), delivered: 0, failures: 0, beacon: beaconOf(p) }))
      for (const c of ranker.rank(candidates)) {
        if (task.sessions.size >= MAX_PARENTS) break
        connect(node, task, all[Number(c.peer)])
      }
    }
    plan(node)
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
    for (const task of n.tasks.values()) for (const s of [...task.sessions.values()]) closeSession(n, task, s)
    // children lose their sessions with it
    for (const m of nodes) {
      if (m.gone) continue
      for (const task of m.tasks.values()) {
        const s = task.sessions.get(n.id)
        if (s != null) closeSession(m, task, s)
      }
      plan(m)
    }
  }

  // ---- run ------------------------------------------------------------------
  blobs.forEach(blob => { blob.visible.push(seedNode) })
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
      console.log(`t=${now.toFixed(1)} live ${live.length} downUtil ${avg(n => util(n.downFlows, n.down))} upUtil ${upUtil.toFixed(2)} downFlows ${avg(n => n.downFlows.size)} idleDown ${avg(n => n.downFlows.size === 0 ? 1 : 0)} requested MiB ${avg(n => n.requested / 1048576)} sessions ${avg(n => [...n.tasks.values()].filter(t => !t.done).reduce((a, t) => a + t.sessions.size, 0))} openSessions ${avg(n => [...n.tasks.values()].filter(t => !t.done).reduce((a, t) => a + [...t.sessions.values()].filter(x => x.open).length, 0))} upFlows ${avg(n => n.upFlows.size)} held ${avg(n => [...n.tasks.values()].reduce((a, t) => a + t.count, 0))} seedUp ${seedNode.upFlows.size} seedSlots ${seedNode.serving.length} visible ${blobs.map(b => b.visible.length).join('/')}`)
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
    simSeconds: now
  }
}
