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
}

export interface PickOptions {
  /** First piece a streaming reader still needs; undefined when nobody streams. */
  cursor?: number
  /** How many pieces after the cursor are treated as urgent. */
  window?: number
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
    !state.held(i) && state.hashKnown(i) && parentHas(i) && state.inflight(i) < maxInflight

  if (options.cursor != null) {
    const end = Math.min(state.pieces, options.cursor + (options.window ?? 4))
    for (let i = options.cursor; i < end; i++) {
      if (wanted(i) && state.inflight(i) === 0) return i
    }
  }

  const random = options.random ?? Math.random
  let best: number | undefined
  let bestKey = Infinity
  for (let i = 0; i < state.pieces; i++) {
    if (!wanted(i)) continue
    // fewest copies in flight first (matters in endgame), then rarest, random tie-break
    const key = state.inflight(i) * 1e6 + state.availability(i) * 1e3 + random()
    if (key < bestKey) {
      bestKey = key
      best = i
    }
  }
  return best
}
