/**
 * Ranking of candidate parents. The swarm ranks locally by default; the
 * optional scheduler (a later package) implements the same interface.
 */
export interface ParentCandidate {
  peer: string
  /** Observed delivery rate from this parent, bytes/s, when measured. */
  observedBps?: number
  /** The parent's last load beacon, when heard. */
  beacon?: { uploadBps: number, activeUploads: number, freeUploadSlots: number, seed: boolean, locality?: string }
  /** Verified pieces this parent has delivered to us. */
  delivered: number
  /** Failures (timeouts, chokes) seen from this parent recently. */
  failures: number
  /** Its pieces took far longer than the download's others (the bad-parent rule): ranked last. */
  demoted?: boolean
}

export interface ParentRanker {
  /** Best first. Must not throw; must return every candidate once. */
  rank(candidates: ParentCandidate[]): ParentCandidate[]
}

/**
 * How near two locality labels are: the leading '/'-separated parts they
 * share (`eu-1a/rack-3` and `eu-1a/rack-7` share 1). Unsaid is near nothing.
 */
export function localityShared (a: string | undefined, b: string | undefined): number {
  if (a == null || b == null || a === '' || b === '') return 0
  const x = a.split('/')
  const y = b.split('/')
  let n = 0
  while (n < x.length && n < y.length && x[n] === y[n]) n++
  return n
}

/**
 * No ranking: candidates in a random order. What a swarm does that knows
 * nothing of its parents, the baseline a ranking is measured against
 * (`--parent-ranking random`).
 */
export class RandomParentRanker implements ParentRanker {
  readonly #random: () => number

  constructor (random: () => number = Math.random) {
    this.#random = random
  }

  rank (candidates: ParentCandidate[]): ParentCandidate[] {
    const out = [...candidates]
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1))
      ;[out[i], out[j]] = [out[j]!, out[i]!]
    }
    return out
  }
}

/** Local scores: measured throughput, then spare upload capacity; seeds last so peers offload them; nearer locality breaks ties. */
export class LocalParentRanker implements ParentRanker {
  readonly #locality: string | undefined

  /** `locality`: this node's label (`zone/rack`), to prefer parents that share more of it when all else is equal. */
  constructor (locality?: string) {
    this.#locality = locality
  }

  rank (candidates: ParentCandidate[]): ParentCandidate[] {
    const score = (c: ParentCandidate): number => {
      let s = c.observedBps ?? 0
      if (c.observedBps == null && c.beacon != null) {
        s = c.beacon.freeUploadSlots > 0 ? c.beacon.uploadBps / (1 + c.beacon.activeUploads) : 0
      }
      if (c.beacon?.freeUploadSlots === 0) s *= 0.5
      if (c.beacon?.seed === true) s *= 0.8
      return s / (1 + c.failures)
    }
    const near = (c: ParentCandidate): number => localityShared(this.#locality, c.beacon?.locality)
    return [...candidates].sort((a, b) => Number(a.demoted === true) - Number(b.demoted === true) || score(b) - score(a) || near(b) - near(a))
  }
}
