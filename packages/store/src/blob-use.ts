import type { BlobDigest } from '@damselfly/protocol'

/** Which blobs are in use and when each was last used: what a store's collect() goes by. */
export class BlobUse {
  readonly #holds = new Map<BlobDigest, number>()
  readonly lastUsed = new Map<BlobDigest, number>()

  /** Marks the blob in use until the returned function is called; `ended` runs then. Holds nest. */
  hold (digest: BlobDigest, ended: () => void): () => void {
    this.#holds.set(digest, (this.#holds.get(digest) ?? 0) + 1)
    // last use is when a use ends: a blob read for a long time stays where it was in the order meanwhile
    let released = false
    return () => {
      if (released) return
      released = true
      const n = (this.#holds.get(digest) ?? 1) - 1
      if (n > 0) this.#holds.set(digest, n)
      else this.#holds.delete(digest)
      ended()
    }
  }

  inUse (digest: BlobDigest): boolean {
    return (this.#holds.get(digest) ?? 0) > 0
  }

  /**
   * Removes blobs not in use, least recently used first, until `total` is
   * at most `maxBytes`; returns what was removed.
   */
  async collect (blobs: Array<{ digest: BlobDigest, size: number }>, total: number, maxBytes: number, remove: (digest: BlobDigest) => Promise<boolean>): Promise<BlobDigest[]> {
    const removed: BlobDigest[] = []
    if (total <= maxBytes) return removed
    const candidates = blobs
      .filter(b => !this.inUse(b.digest))
      .sort((a, b) => (this.lastUsed.get(a.digest) ?? 0) - (this.lastUsed.get(b.digest) ?? 0))
    for (const b of candidates) {
      if (total <= maxBytes) break
      // taken up again while earlier removals ran
      if (this.inUse(b.digest) || !await remove(b.digest)) continue
      total -= b.size
      removed.push(b.digest)
    }
    return removed
  }
}
