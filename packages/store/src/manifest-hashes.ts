import { equalBytes } from './bytes.js'
import type { ManifestPart, VerifiedManifestPart } from '@damselfly/protocol'

interface KeptPart {
  part: ManifestPart
  /** Hashes this part was the first to supply. */
  contributed: number
}

/**
 * The piece hashes of one blob, gathered from manifest parts. The first hash
 * known for a piece wins; a later part that disagrees adds nothing.
 */
export class ManifestHashes {
  readonly #hashes: Array<Uint8Array | undefined>
  /** The part that supplied each hash. */
  readonly #supplier: Array<ManifestPart | undefined>
  readonly #kept: KeptPart[] = []
  /** Signers of the parts that supplied hashes. */
  readonly #signers = new Set<string>()
  #whole: ManifestPart | undefined

  constructor (pieces: number) {
    this.#hashes = new Array<Uint8Array | undefined>(pieces)
    this.#supplier = new Array<ManifestPart | undefined>(pieces)
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
        this.#supplier[index] = part.part
        added++
      } else if (!equalBytes(known, hash)) {
        agrees = false
      }
    })
    const whole = agrees && part.first === 0 && part.hashes.length === this.#hashes.length
    const keep = added > 0 || (whole && this.#whole == null)
    if (keep) {
      this.#kept.push({ part: part.part, contributed: added })
    }
    if (added > 0) this.#signers.add(part.signer)
    // the first part that covers every piece and agrees with every hash known
    if (whole) this.#whole ??= part.part
    return { added, keep }
  }

  /** A part to send along with a piece: the whole manifest when known, else the part that supplied its hash. */
  partFor (index: number): ManifestPart | undefined {
    if (this.#hashes[index] == null) return undefined
    return this.#whole ?? this.#supplier[index]
  }

  /** Peer ids of the signers whose parts supplied hashes. */
  signers (): string[] {
    return [...this.#signers]
  }

  /** Parts that together cover every known hash: one whole part when there is one. */
  parts (): ManifestPart[] {
    if (this.#whole != null) return [this.#whole]
    return this.#kept.filter(k => k.contributed > 0).map(k => k.part)
  }
}
