import { pickPiece } from './picker.js'
import type { PickerState } from './picker.js'

/**
 * Which parent is asked for which piece: the request policy of a download,
 * free of sessions and sockets so the simulator in bench/sim drives the very
 * same code.
 */

/** Requests per parent when its rate is unknown: the configured count, PIPELINE_BYTES of small pieces, at most MAX_INFLIGHT_BYTES of big ones. */
const PIPELINE_BYTES = 4 * 1024 * 1024
const MAX_INFLIGHT_BYTES = 8 * 1024 * 1024
/** A parent whose measured rate is known gets about this many seconds of requests. */
export const PARENT_QUEUE_SECONDS = 2
/**
 * Under a download limit, a node keeps at most this many seconds of its
 * downlink requested (at least one piece per blob): a request queued behind
 * many others is pinned to a parent long after a closer copy turned up.
 */
export const REQUEST_QUEUE_SECONDS = 2

/** Requests kept outstanding with a parent whose measured rate is `rateBps` (0: not measured yet). */
export function pipelineDepth (pieceSize: number, rateBps: number, configured = 4): number {
  const most = Math.min(16, Math.max(2, Math.min(configured, Math.floor(MAX_INFLIGHT_BYTES / pieceSize)), Math.ceil(PIPELINE_BYTES / pieceSize)))
  if (!(rateBps > 0)) return most
  return Math.min(most, Math.max(2, Math.ceil(rateBps * PARENT_QUEUE_SECONDS / pieceSize)))
}

/** Bytes a node may have requested and not yet received: unbounded without a download limit. */
export function requestBudget (pieceSize: number, downloadLimitBps: number): number {
  return downloadLimitBps > 0 ? Math.max(2 * pieceSize, downloadLimitBps * REQUEST_QUEUE_SECONDS) : Infinity
}

export interface ParentQueue {
  /** Requests outstanding with this parent. */
  outstanding: number
  /** How many it may have (pipelineDepth). */
  depth: number
  /** A seed: asked only when no peer's queue is emptier. */
  seed: boolean
  /** The parent may be asked for this piece: it holds it, has not declined it, is not already asked for it. */
  canServe(index: number): boolean
}

export interface PlanOptions {
  state: PickerState
  /** First piece a streaming reader still needs. */
  cursor?: number
  /** Pieces readers of a ranged download wait on next. */
  urgent?: number[]
  /** A ranged download may take pieces no reader wants (its prefetch). */
  rest?: boolean
  pieceSize: number
  /** requestBudget() of the node. */
  budgetBytes: number
  /** Bytes the whole node has requested and not received, this blob included. */
  requestedBytes: number
  /** Bytes this blob has requested and not received: a blob with none may always ask for one piece. */
  ownRequestedBytes: number
  random?: () => number
}

/**
 * Plans requests one at a time, each to the parent with the emptiest queue
 * (seeds last on ties), its piece chosen by pickPiece: rarest first, so what
 * the seed is asked for is mostly what no peer holds yet, and its uplink,
 * the scarcest in the swarm, is not spent on copies peers can give. No
 * speculative duplicates: a piece in flight is not asked for again here (a
 * late one is hedged by the caller). Calls `request(parent, index)` for each
 * and updates `outstanding` and the picker's view through the caller.
 */
export function planRequests<P extends ParentQueue> (parents: P[], options: PlanOptions, request: (parent: P, index: number) => void): number {
  const open = [...parents]
  let requested = options.requestedBytes
  let own = options.ownRequestedBytes
  let made = 0
  while (open.length > 0) {
    if (requested + options.pieceSize > options.budgetBytes && own > 0) break
    let best = -1
    for (let k = 0; k < open.length; k++) {
      const o = open[k]!
      if (o.outstanding >= o.depth) continue
      const b = open[best]
      if (b == null) {
        best = k
        continue
      }
      const lo = o.outstanding / o.depth
      const lb = b.outstanding / b.depth
      if (lo < lb || (lo === lb && b.seed && !o.seed)) best = k
    }
    if (best < 0) break
    const parent = open[best]!
    const index = pickPiece(options.state, i => parent.canServe(i), { cursor: options.cursor, urgent: options.urgent, rest: options.rest, random: options.random })
    if (index == null) {
      open.splice(best, 1)
      continue
    }
    request(parent, index)
    parent.outstanding++
    requested += options.pieceSize
    own += options.pieceSize
    made++
  }
  return made
}

/** A parent that refused (full, or without the blob) is asked again after this, doubling, at most. */
export const RETRY_MIN_MS = 500
export const RETRY_MAX_MS = 8000
/**
 * A parent that said it does not hold the blob is asked again only after
 * this, unless news comes that it does (a Have, a provider record): asked on
 * a short timer, every peer probed at the start of a flash crowd would be
 * asked again and again, each time a stream at both ends.
 */
export const NOT_FOUND_RETRY_MS = 10_000

/**
 * When to try a parent again after a session ended for `kind` (a choke
 * may name its own wait), the `failures`-th in a row: backing off
 * exponentially, jittered so that the children a full parent turned away
 * do not all come back at once.
 */
export function retryDelay (kind: 'choke' | 'not-found' | 'error', retryAfterMs: number | undefined, failures: number, random: () => number = Math.random): number {
  const base = kind === 'not-found'
    ? NOT_FOUND_RETRY_MS
    : Math.max(retryAfterMs ?? 0, backoffMs(failures, RETRY_MIN_MS, RETRY_MAX_MS))
  return base * (0.75 + 0.5 * random())
}

/** After the `failures`-th failure in a row: `minMs`, doubling each time, at most `maxMs`. */
export function backoffMs (failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, failures - 1), 30))
}
