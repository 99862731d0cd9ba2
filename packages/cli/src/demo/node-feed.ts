import { setTimeout as delay } from 'node:timers/promises'
import type { ActivitySample, Incident, TaskView } from '@damselfly/daemon'

/** The `status` event of a daemon's /api/v1/events, as the dashboard reads it. */
export interface NodeStatus {
  peerId: string
  seed: boolean
  listenAddresses: string[]
  peers: Array<{ peer: string, seed: boolean }>
  tasks: TaskView[]
  stats: Record<string, number>
  bans: unknown[]
  mirror?: unknown
  samples: ActivitySample[]
  incidents: Incident[]
}

/** Samples kept per node: an hour at one a second. */
const KEEP_SAMPLES = 3600
const KEEP_INCIDENTS = 200
/** Reconnects after the stream broke, before the node counts as gone. */
const RECONNECTS = 5

/**
 * Follows one daemon's event stream for the demo's swarm page: passes every
 * event on, and keeps the daemon's state current (tasks, samples, incidents)
 * so a page opened later gets it in one `status` snapshot.
 */
export class NodeFeed {
  readonly name: string
  readonly api: string
  readonly #onEvent: (type: string, data: unknown) => void
  #status: NodeStatus | undefined
  readonly #tasks = new Map<string, TaskView>()
  connected = false

  constructor (name: string, api: string, onEvent: (type: string, data: unknown) => void) {
    this.name = name
    this.api = api
    this.#onEvent = onEvent
  }

  /** The daemon's state now, shaped as its `status` event; undefined before the first one. */
  snapshot (): NodeStatus | undefined {
    if (this.#status == null) return undefined
    return { ...this.#status, tasks: [...this.#tasks.values()] }
  }

  /** Reads the stream until `signal` aborts; a broken stream is reopened a few times. */
  async run (signal: AbortSignal): Promise<void> {
    for (let attempt = 0; attempt <= RECONNECTS && !signal.aborted; attempt++) {
      try {
        const res = await fetch(`http://${this.api}/api/v1/events`, { signal })
        if (!res.ok || res.body == null) throw new Error(`events answered ${res.status}`)
        await this.#read(res.body as AsyncIterable<Uint8Array>)
      } catch {
        // the daemon is stopping, or not up yet
      }
      if (this.connected) {
        this.connected = false
        this.#onEvent('disconnected', {})
      }
      if (signal.aborted) return
      await delay(1000, undefined, { signal }).catch(() => {})
    }
  }

  async #read (body: AsyncIterable<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let pending = ''
    for await (const chunk of body) {
      pending += decoder.decode(chunk, { stream: true })
      let end
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, end)
        pending = pending.slice(end + 2)
        let type = 'message'
        let data = ''
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) type = line.slice(7)
          else if (line.startsWith('data: ')) data += line.slice(6)
        }
        if (data === '') continue
        try {
          this.#apply(type, JSON.parse(data))
        } catch {
          // one bad event is skipped, not the stream
        }
      }
    }
  }

  #apply (type: string, data: any): void {
    switch (type) {
      case 'status':
        this.connected = true
        this.#status = data as NodeStatus
        this.#tasks.clear()
        for (const t of this.#status.tasks) this.#tasks.set(t.digest, t)
        break
      case 'progress':
      case 'done':
        this.#tasks.set(data.task.digest, data.task)
        if (type === 'done' && data.task.state === 'failed') {
          const e = data.task.error
          this.#incident({ t: Date.now(), kind: 'failed', digest: data.task.digest, reason: e != null ? `${e.where}: ${e.message}` : 'failed' })
        }
        break
      case 'ban':
        this.#incident({ t: Date.now(), kind: 'ban', peer: data.peer, digest: data.digest, reason: data.reason })
        break
      case 'sample': {
        if (this.#status == null) break
        const { peerList, mirror, ...sample } = data
        const samples = this.#status.samples
        samples.push(sample)
        if (samples.length > KEEP_SAMPLES) samples.splice(0, samples.length - KEEP_SAMPLES)
        this.#status.peers = peerList ?? this.#status.peers
        this.#status.stats = { ...this.#status.stats, bytesFromOrigin: sample.fromOrigin, bytesFromPeers: sample.fromPeers, bytesUploaded: sample.uploaded }
        if (mirror != null) this.#status.mirror = { ...(this.#status.mirror as object), bytes: mirror }
        break
      }
      default:
        return
    }
    this.#onEvent(type, data)
  }

  #incident (incident: Incident): void {
    if (this.#status == null) return
    const list = this.#status.incidents
    list.push(incident)
    if (list.length > KEEP_INCIDENTS) list.shift()
  }
}
