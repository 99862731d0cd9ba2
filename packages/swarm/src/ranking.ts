/**
 * Ranking of candidate parents. The swarm ranks locally by default; the
 * optional scheduler (a later package) implements the same interface.
 */
export interface ParentCandidate {
  peer: string
  /** Observed delivery rate from this parent, bytes/s, when measured. */
  observedBps?: number
  /** The parent's last load beacon, when heard. */
  beacon?: { uploadBps: number, activeUploads: number, freeUploadSlots: number, seed: boolean }
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

/** Local scores: measured throughput, then spare upload capacity; seeds last so peers offload them. */
export class LocalParentRanker implements ParentRanker {
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
    return [...candidates].sort((a, b) => Number(a.demoted === true) - Number(b.demoted === true) || score(b) - score(a))
  }
}
