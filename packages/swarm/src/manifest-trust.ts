import type { VerifiedManifestPart } from '@damselfly/protocol'

/** What a parent said piece `index` must hash to, and who signed that. */
export interface Vouch {
  hash: Uint8Array
  signer: string
  part: VerifiedManifestPart
}

function same (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Whose piece hashes one download believes. Any peer can sign a manifest
 * part, and a false one must cost its signer, not the honest parents that
 * disagree with it. So each parent's pieces are checked against the hashes
 * that parent itself sent (a parent whose data does not match its own word
 * is faulty), and one signer is believed for the whole blob: the signer of
 * the first piece that verified (the pin). A parent that follows another
 * signer, whose hashes differ from the pin's, is neither used nor blamed;
 * its signer is in `conflicting`. The whole digest settles it: verified, the
 * conflicting signers signed false hashes; not verified, the pin did, and
 * the next attempt leaves it out (`excluded`). A signer who signs parts but
 * sends no piece never becomes the pin.
 */
export class ManifestTrust {
  /** Per parent, per piece: what it vouched for. */
  readonly #vouches = new Map<string, Vouch[]>()
  /** Per signer, per piece: its hash (from whichever parent forwarded it). */
  readonly #bySigner = new Map<string, Vouch[]>()
  readonly #excluded: ReadonlySet<string>
  readonly #conflicting = new Set<string>()
  #pin: string | undefined

  /** `excluded`: signers not believed for this blob (a digest proved them wrong lately). */
  constructor (excluded: ReadonlySet<string> = new Set()) {
    this.#excluded = excluded
  }

  /** The signer believed, once a piece verified. */
  get pin (): string | undefined {
    return this.#pin
  }

  /** Signers whose hashes differ from the pin's on some piece. */
  get conflicting (): ReadonlySet<string> {
    return this.#conflicting
  }

  /** True when parts by `signer` are not to be used at all. */
  excludes (signer: string): boolean {
    return this.#excluded.has(signer)
  }

  /**
   * A parent sent these verified parts. Returns the ones to remember in the
   * blob's manifest now: those of the pin (none before there is one).
   */
  vouch (parent: string, parts: VerifiedManifestPart[]): VerifiedManifestPart[] {
    let mine = this.#vouches.get(parent)
    if (mine == null) {
      mine = []
      this.#vouches.set(parent, mine)
    }
    const kept: VerifiedManifestPart[] = []
    for (const part of parts) {
      let signed = this.#bySigner.get(part.signer)
      if (signed == null) {
        signed = []
        this.#bySigner.set(part.signer, signed)
      }
      // an excluded signer's word is never taken, but still compared: a verified blob proves it false
      const excluded = this.#excluded.has(part.signer)
      part.hashes.forEach((hash, k) => {
        const v = { hash, signer: part.signer, part }
        if (!excluded) mine[part.first + k] = v
        signed[part.first + k] = v
      })
      this.#noteConflict(part)
      if (part.signer === this.#pin) kept.push(part)
    }
    return kept
  }

  /** What `parent` vouched for piece `index`. */
  vouched (parent: string, index: number): Vouch | undefined {
    return this.#vouches.get(parent)?.[index]
  }

  /** The pin's hash for the piece, if it has given one. */
  pinned (index: number): Uint8Array | undefined {
    return this.#pin != null ? this.#bySigner.get(this.#pin)?.[index]?.hash : undefined
  }

  /**
   * Whether a piece from `parent` can be taken: it vouched for it, and
   * either nothing is pinned yet, or its word is the pin's (its hash is the
   * pin's hash for that piece).
   */
  usable (parent: string, index: number): boolean {
    const v = this.vouched(parent, index)
    if (v == null) return false
    if (this.#pin == null) return true
    if (v.signer === this.#pin) return true
    const p = this.pinned(index)
    return p != null && same(p, v.hash)
  }

  /** usable(parent, ·) for one parent, for a scan over many pieces. */
  usableFrom (parent: string): (index: number) => boolean {
    const mine = this.#vouches.get(parent)
    if (mine == null) return () => false
    const pin = this.#pin
    if (pin == null) return index => mine[index] != null
    const pinned = this.#bySigner.get(pin)
    return index => {
      const v = mine[index]
      if (v == null) return false
      if (v.signer === pin) return true
      const p = pinned?.[index]?.hash
      return p != null && same(p, v.hash)
    }
  }

  /**
   * The piece `parent` vouched for has verified against its word: the
   * first such piece pins its signer. Returns the pin's parts seen so far,
   * to remember in the blob's manifest, when this call set the pin.
   */
  verified (parent: string, index: number): VerifiedManifestPart[] {
    if (this.#pin != null) return []
    const v = this.vouched(parent, index)
    if (v == null) return []
    this.#pin = v.signer
    const parts = new Set<VerifiedManifestPart>()
    for (const w of this.#bySigner.get(v.signer) ?? []) if (w != null) parts.add(w.part)
    for (const part of parts) this.#noteConflict(part)
    return [...parts]
  }

  /** Pins `signer` without a verified piece: the blob's manifest on disk already was that signer's. */
  resume (signer: string): void {
    this.#pin ??= signer
  }

  /** Notes every signer whose hashes differ from the pin's within the part's pieces. */
  #noteConflict (part: VerifiedManifestPart): void {
    const pin = this.#pin
    if (pin == null) return
    const pinned = this.#bySigner.get(pin)
    for (const [signer, hashes] of this.#bySigner) {
      if (signer === pin || this.#conflicting.has(signer)) continue
      for (let i = part.first; i < part.first + part.hashes.length; i++) {
        const a = pinned?.[i]?.hash
        const b = hashes[i]?.hash
        if (a != null && b != null && !same(a, b)) {
          this.#conflicting.add(signer)
          break
        }
      }
    }
  }
}
