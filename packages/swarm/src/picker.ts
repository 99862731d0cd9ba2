/**
 * Chooses which piece to ask a parent for next. Rarest first spreads pieces
 * over the swarm so peers have something to trade; pieces just past a
 * streaming reader's position come first so a client can read from the front.
 */
export interface PickerState {
  /** Number of pieces in the blob. */
  pieces: number
  /** True when the piece is held (verified). */
  held(index: number): boolean
  /** True when the piece's hash is known, so a copy can be verified. */
  hashKnown(index: number): boolean
  /** How many requests are in flight for the piece. */
  inflight(index: number): number
  /** How many known parents hold the piece. */
  availability(index: number): number
  /** False for a piece a ranged download does not want (yet); every piece is wanted when absent. */
  wanted?(index: number): boolean
  /**
   * The pieces worth a look, ascending: every piece not held that is wanted.
   * A pick then scans these rather than the whole blob: a download picks
   * once per request for each parent, on every event, and a ranged one wants
   * a few pieces of hundreds. Absent, every piece is looked at.
   */
  candidates?: readonly number[]
}

/**
 * Pieces past a streaming reader's position that come before the rest of the
 * blob. 16 rather than 4 (bench:equal-links, five nodes on 100 Mbit/s
 * links): with 4, every node asked the seed for the same next pieces and
 * the seed sent 3.1 to 3.9 copies of each.
 */
export const STREAMING_WINDOW = 16

export interface PickOptions {
  /** First piece a streaming reader still needs; undefined when nobody streams. */
  cursor?: number
  /** How many pieces from the cursor on come first (STREAMING_WINDOW). */
  window?: number
  /** Pieces readers of a ranged download wait on next, each before the rest. */
  urgent?: number[]
  /** A ranged download may take pieces no reader wants, when none it wants is to be had (its prefetch). */
  rest?: boolean
  /** Endgame: allow a piece already in flight (up to maxDuplicates requests). */
  endgame?: boolean
  maxDuplicates?: number
  /** Tie-break source, injectable for tests. */
  random?: () => number
}

/** The next piece to request from a parent that holds `parentHas`, or undefined. */
export function pickPiece (state: PickerState, parentHas: (index: number) => boolean, options: PickOptions = {}): number | undefined {
  const maxInflight = options.endgame === true ? (options.maxDuplicates ?? 2) : 1
  const wanted = (i: number): boolean =>
    !state.held(i) && (state.wanted?.(i) ?? true) && state.hashKnown(i) && parentHas(i) && state.inflight(i) < maxInflight
  const anyPiece = (i: number): boolean =>
    !state.held(i) && state.hashKnown(i) && parentHas(i) && state.inflight(i) < maxInflight

  const random = options.random ?? Math.random
  /** Fewest copies in flight first (matters in endgame), then rarest, random tie-break. */
  const best = (from: number, to: number, ok = wanted): number | undefined => {
    let found: number | undefined
    let bestKey = Infinity
    const consider = (i: number): void => {
      if (!ok(i)) return
      const key = state.inflight(i) * 1e6 + state.availability(i) * 1e3 + random()
      if (key < bestKey) {
        bestKey = key
        found = i
      }
    }
    // the candidates are every piece `wanted` can pass, in the same order
    const list = ok === wanted ? state.candidates : undefined
    if (list == null) {
      for (let i = from; i < to; i++) consider(i)
    } else {
      for (let k = firstAtLeast(list, from); k < list.length && list[k]! < to; k++) consider(list[k]!)
    }
    return found
  }

  for (const i of options.urgent ?? []) {
    if (wanted(i) && state.inflight(i) === 0) return i
  }
  if (options.cursor != null) {
    // the reader's next piece, then the rest of its window rarest first: the
    // readers of one blob, all at about the same place, then ask for
    // different pieces and have something to trade
    const cursor = options.cursor
    if (cursor < state.pieces && wanted(cursor) && state.inflight(cursor) === 0) return cursor
    const near = best(cursor + 1, Math.min(state.pieces, cursor + (options.window ?? STREAMING_WINDOW)))
    if (near != null && state.inflight(near) === 0) return near
  }
  const found = best(0, state.pieces)
  if (found != null || options.rest !== true || state.wanted == null) return found
  return best(0, state.pieces, anyPiece)
}

/** The index of the first entry of ascending `list` that is `value` or more (its length when none is). */
function firstAtLeast (list: readonly number[], value: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
