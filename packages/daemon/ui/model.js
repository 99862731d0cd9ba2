// What a page knows about one daemon, built from its /api/v1/events stream:
// a `status` snapshot, then `progress`, `done`, `ban` and `sample` events.
// The node page keeps one; the demo's swarm page keeps one per daemon.

/** Samples kept per node: an hour at one a second. */
const KEEP_SAMPLES = 3600
const KEEP_INCIDENTS = 200

export function decodeBitfield (b64) {
  if (b64 == null) return undefined
  const bin = atob(b64)
  const bits = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bits[i] = bin.charCodeAt(i)
  return bits
}

export function hasPiece (bits, i) {
  return bits != null && ((bits[i >> 3] >> (7 - (i & 7))) & 1) === 1
}

/** Verified bytes of a task: complete pieces, the last one at its real size. */
export function heldBytes (task) {
  if (task.state === 'complete') return task.size ?? 0
  if (task.pieces == null || task.pieceSize == null || task.size == null) return 0
  let n = task.piecesHeld * task.pieceSize
  const last = task.pieces - 1
  if (hasPiece(task.bits, last)) n -= task.pieceSize - (task.size - last * task.pieceSize)
  return Math.max(0, Math.min(n, task.size))
}

function toTask (t) {
  return { ...t, bits: decodeBitfield(t.bitfield) }
}

export class NodeModel {
  constructor () {
    this.peerId = undefined
    this.seed = false
    this.listenAddresses = []
    this.peers = []
    this.tasks = new Map()
    this.samples = []
    this.incidents = []
    this.stats = undefined
    this.mirror = undefined
    this.connected = false
  }

  /** Apply one event; returns true when something changed. */
  apply (type, data) {
    switch (type) {
      case 'status':
        this.connected = true
        this.peerId = data.peerId
        this.seed = data.seed === true
        this.listenAddresses = data.listenAddresses ?? []
        this.peers = data.peers ?? []
        this.stats = data.stats
        this.mirror = data.mirror?.bytes
        this.tasks = new Map((data.tasks ?? []).map(t => [t.digest, toTask(t)]))
        this.samples = (data.samples ?? []).slice(-KEEP_SAMPLES)
        this.incidents = (data.incidents ?? []).slice(-KEEP_INCIDENTS)
        return true
      case 'progress':
      case 'done': {
        const task = toTask(data.task)
        this.tasks.set(task.digest, task)
        if (type === 'done' && task.state === 'failed') {
          const e = task.error
          this.#incident({ t: Date.now(), kind: 'failed', digest: task.digest, reason: e != null ? `${e.where}: ${e.message}` : 'failed' })
        }
        return true
      }
      case 'ban':
        this.#incident({ t: Date.now(), kind: 'ban', peer: data.peer, digest: data.digest, reason: data.reason })
        return true
      case 'sample': {
        const { peerList, mirror, ...sample } = data
        this.samples.push(sample)
        if (this.samples.length > KEEP_SAMPLES) this.samples.splice(0, this.samples.length - KEEP_SAMPLES)
        if (peerList != null) this.peers = peerList
        if (mirror != null) this.mirror = mirror
        return true
      }
      default:
        return false
    }
  }

  #incident (incident) {
    this.incidents.push(incident)
    if (this.incidents.length > KEEP_INCIDENTS) this.incidents.shift()
  }

  get latest () {
    return this.samples[this.samples.length - 1]
  }

  /** Bytes received, node-wide, by source: origin (registries), seeds, other peers. */
  bytesBySource () {
    const s = this.latest
    if (s == null) return { origin: this.stats?.bytesFromOrigin ?? 0, seeds: 0, peers: this.stats?.bytesFromPeers ?? 0 }
    return { origin: s.fromOrigin, seeds: s.fromSeeds, peers: Math.max(0, s.fromPeers - s.fromSeeds) }
  }

  /** Bytes per second received and uploaded over the last `seconds`. */
  rate (seconds = 3) {
    return rateOf(this.samples, this.samples.length - 1, seconds)
  }

  /** Bytes per second received and uploaded at each of the last `count` samples. */
  rateHistory (count = 60) {
    const out = []
    for (let i = Math.max(1, this.samples.length - count); i < this.samples.length; i++) out.push(rateOf(this.samples, i, 1))
    return out
  }

  /** Verified bytes received from each parent, over these tasks (all by default). */
  parents (digests) {
    const out = new Map()
    for (const t of this.#pick(digests)) {
      for (const [peer, n] of Object.entries(t.parents ?? {})) out.set(peer, (out.get(peer) ?? 0) + n)
    }
    return out
  }

  /** Received bytes by source over these tasks: origin, from the given seed peer ids, from other peers. */
  taskBytes (digests, seedIds) {
    let origin = 0
    let seeds = 0
    let peers = 0
    for (const t of this.#pick(digests)) {
      origin += t.bytesFromOrigin ?? 0
      let fromSeeds = 0
      for (const [peer, n] of Object.entries(t.parents ?? {})) if (seedIds.has(peer)) fromSeeds += n
      seeds += fromSeeds
      peers += Math.max(0, (t.bytesFromPeers ?? 0) - fromSeeds)
    }
    return { origin, seeds, peers }
  }

  /** Verified bytes held of these blobs (sizes given, since a blob may have no task yet). */
  progress (blobs) {
    let held = 0
    let total = 0
    let complete = 0
    for (const b of blobs) {
      const t = this.tasks.get(b.digest)
      total += b.size
      if (t == null) continue
      held += heldBytes(t)
      if (t.state === 'complete') complete++
    }
    return { held, total, complete: complete === blobs.length && blobs.length > 0 }
  }

  #pick (digests) {
    if (digests == null) return [...this.tasks.values()]
    return digests.map(d => this.tasks.get(d)).filter(t => t != null)
  }
}

function rateOf (samples, i, seconds) {
  const b = samples[i]
  if (b == null) return { down: 0, up: 0 }
  let j = i
  while (j > 0 && b.t - samples[j - 1].t <= seconds * 1000 + 500) j--
  const a = samples[j]
  const dt = (b.t - a.t) / 1000
  if (a === b || dt <= 0) return { down: 0, up: 0 }
  return { down: (b.fromOrigin + b.fromPeers - a.fromOrigin - a.fromPeers) / dt, up: (b.uploaded - a.uploaded) / dt }
}

/**
 * Opens an EventSource and hands every named event to `onEvent(type, data)`;
 * `onState(connected)` says when the stream is up or down (EventSource
 * reconnects by itself).
 */
export function subscribe (url, types, onEvent, onState) {
  // a control API that wants a token gets it from the page's fragment (#token=...), which never leaves the browser
  const token = new URLSearchParams(location.hash.slice(1)).get('token')
  const source = new EventSource(token != null && token !== '' ? `${url}?access_token=${encodeURIComponent(token)}` : url)
  for (const type of types) {
    source.addEventListener(type, e => {
      let data
      try {
        data = JSON.parse(e.data)
      } catch {
        return
      }
      onEvent(type, data)
    })
  }
  source.addEventListener('open', () => onState?.(true))
  source.addEventListener('error', () => onState?.(false))
  return source
}

/** Calls `render` at most every `ms`, only after `invalidate()`. */
export function throttle (render, ms = 250) {
  let dirty = false
  let timer
  return function invalidate () {
    dirty = true
    if (timer != null) return
    timer = setTimeout(() => {
      timer = undefined
      if (!dirty) return
      dirty = false
      render()
    }, ms)
  }
}
