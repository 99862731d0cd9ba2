import { equalBytes } from './file-io.js'
import type { ManifestPart, VerifiedManifestPart } from '@damselfly/protocol'

interface KeptPart {
  part: ManifestPart
  /** Hashes this part was the first to supply. */
  contributed: number
  /** Covers every piece and agrees with every hash known. */
  whole: boolean
}

/**
 * The piece hashes of one blob, gathered from manifest parts. The first hash
 * known for a piece wins; a later part that disagrees adds nothing.
 */
export class ManifestHashes {
  readonly #hashes: Array<Uint8Array | undefined>
  readonly #kept: KeptPart[] = []

  constructor (pieces: number) {
    this.#hashes = new Array<Uint8Array | undefined>(pieces)
  }

  get (index: number): Uint8Array | undefined {
    return this.#hashes[index]
  }

  /**
   * Learn the hashes of a part. `keep` says whether the part is worth
   * persisting and forwarding: it supplied a new hash, or it is the first
   * part that alone covers the whole blob.
   */
  add (part: VerifiedManifestPart): { added: number, keep: boolean } {
    let added = 0
    let agrees = true
    part.hashes.forEach((hash, i) => {
      const index = part.first + i
      const known = this.#hashes[index]
      if (known == null) {
        this.#hashes[index] = hash
        added++
      } else if (!equalBytes(known, hash)) {
        agrees = false
      }
    })
    const whole = agrees && part.first === 0 && part.hashes.length === this.#hashes.length
    const keep = added > 0 || (whole && !this.#kept.some(k => k.whole))
    if (keep) {
      this.#kept.push({ part: part.part, contributed: added, whole })
    }
    return { added, keep }
  }

  /** Parts that together cover every known hash: one whole part when there is one. */
  parts (): ManifestPart[] {
    const whole = this.#kept.find(k => k.whole)
    if (whole != null) return [whole.part]
    return this.#kept.filter(k => k.contributed > 0).map(k => k.part)
  }
}
