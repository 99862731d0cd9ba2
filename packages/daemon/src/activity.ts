import type { BlobDigest } from '@damselfly/protocol'
import type { Swarm, SwarmEvent } from '@damselfly/swarm'

/** The node's counters at one moment: what the dashboard draws over time. */
export interface ActivitySample {
  /** ms since the epoch */
  t: number
  /** Verified bytes received from origins (registries). */
  fromOrigin: number
  /** Verified bytes received from peers, seeds included. */
  fromPeers: number
  /** The part of fromPeers that came from seeds. */
  fromSeeds: number
  /** Piece bytes sent to other peers. */
  uploaded: number
  /** Connected peers. */
  peers: number
}

/** A ban or a failed download, kept so a page opened later still shows it. */
export interface Incident {
  t: number
  kind: 'ban' | 'failed'
  digest?: string
  peer?: string
  reason: string
}

export interface ActivityRecorderInit {
  /** @default 1000 */
  intervalMs?: number
  /** Samples kept: ten minutes at the default interval. @default 600 */
  keepSamples?: number
  /** @default 50 */
  keepIncidents?: number
}

/**
 * Samples the swarm's counters once a second into a bounded history, and
 * keeps the latest bans and failures, so a status page shows the recent past
 * as well as what happens while it is open. Bytes from seeds are counted
 * from the parents of tasks that made progress since the last sample, so a
 * sample costs what changed, not every task the node ever ran.
 */
export class ActivityRecorder {
  readonly #swarm: Swarm
  readonly #keepSamples: number
  readonly #keepIncidents: number
  readonly #samples: ActivitySample[] = []
  readonly #incidents: Incident[] = []
  readonly #seedBytes = new Map<BlobDigest, number>()
  readonly #dirty = new Set<BlobDigest>()
  readonly #listeners = new Set<(sample: ActivitySample) => void>()
  readonly #timer: ReturnType<typeof setInterval>
  readonly #off: () => void
  #fromSeeds = 0

  constructor (swarm: Swarm, init: ActivityRecorderInit = {}) {
    this.#swarm = swarm
    this.#keepSamples = init.keepSamples ?? 600
    this.#keepIncidents = init.keepIncidents ?? 50
    this.#off = swarm.onEvent(event => { this.#onEvent(event) })
    this.#timer = setInterval(() => { this.#sample() }, init.intervalMs ?? 1000)
    this.#timer.unref()
    this.#sample()
  }

  samples (): ActivitySample[] {
    return [...this.#samples]
  }

  incidents (): Incident[] {
    return [...this.#incidents]
  }

  /** Called with every new sample; returns a function that stops listening. */
  onSample (listener: (sample: ActivitySample) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#off()
    this.#listeners.clear()
  }

  #onEvent (event: SwarmEvent): void {
    if (event.type === 'ban') {
      this.#incident({ t: Date.now(), kind: 'ban', peer: event.peer, digest: event.digest, reason: event.reason })
      return
    }
    this.#dirty.add(event.task.digest)
    if (event.type === 'done' && event.task.state === 'failed') {
      const e = event.task.error
      this.#incident({ t: Date.now(), kind: 'failed', digest: event.task.digest, reason: e != null ? `${e.where}: ${e.message}` : 'failed' })
    }
  }

  #incident (incident: Incident): void {
    this.#incidents.push(incident)
    if (this.#incidents.length > this.#keepIncidents) this.#incidents.shift()
  }

  #sample (): void {
    const peers = this.#swarm.peers()
    if (this.#dirty.size > 0) {
      const seeds = new Set(peers.filter(p => p.seed).map(p => p.peer))
      for (const digest of this.#dirty) {
        const parents = this.#swarm.task(digest)?.summary().parents ?? {}
        let bytes = 0
        for (const [peer, n] of Object.entries(parents)) if (seeds.has(peer)) bytes += n
        // a seed that went away stays counted: its bytes were from a seed
        bytes = Math.max(bytes, this.#seedBytes.get(digest) ?? 0)
        this.#fromSeeds += bytes - (this.#seedBytes.get(digest) ?? 0)
        this.#seedBytes.set(digest, bytes)
      }
      this.#dirty.clear()
    }
    const s = this.#swarm.stats
    const sample: ActivitySample = {
      t: Date.now(),
      fromOrigin: s.bytesFromOrigin,
      fromPeers: s.bytesFromPeers,
      fromSeeds: this.#fromSeeds,
      uploaded: s.bytesUploaded,
      peers: peers.length
    }
    this.#samples.push(sample)
    if (this.#samples.length > this.#keepSamples) this.#samples.shift()
    for (const l of this.#listeners) {
      try {
        l(sample)
      } catch {
        // a listener's failure (a client gone mid-write) is its own business
      }
    }
  }
}
