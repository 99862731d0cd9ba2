import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface CachedManifest {
  digest: string
  mediaType: string
  bytes: Buffer
}

/** Manifests by digest are small: keep the recent ones in memory too. */
const MEMORY_ENTRIES = 256

/**
 * Manifests and image indexes by digest, on disk under `dir`
 * (`sha256/<hex>` and `sha256/<hex>.type`). Content-addressed, so an entry
 * never goes stale; every entry is verified before it is stored and again
 * when it is read back from disk.
 */
export class ManifestCache {
  readonly #dir: string
  readonly #memory = new Map<string, CachedManifest>()

  constructor (dir: string) {
    this.#dir = dir
  }

  async get (digest: string): Promise<CachedManifest | undefined> {
    const hit = this.#memory.get(digest)
    if (hit != null) {
      this.#memory.delete(digest)
      this.#memory.set(digest, hit)
      return hit
    }
    const hex = digest.slice('sha256:'.length)
    let bytes: Buffer, mediaType: string
    try {
      [bytes, mediaType] = await Promise.all([
        readFile(join(this.#dir, 'sha256', hex)),
        readFile(join(this.#dir, 'sha256', `${hex}.type`), 'utf8')
      ])
    } catch {
      return undefined
    }
    // a damaged file is a miss, never wrong bytes
    if (sha256(bytes) !== digest) return undefined
    const entry = { digest, mediaType, bytes }
    this.#remember(entry)
    return entry
  }

  /** Store `bytes` under their own digest; returns that digest. */
  async put (bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256(bytes)
    const hex = digest.slice('sha256:'.length)
    const dir = join(this.#dir, 'sha256')
    await mkdir(dir, { recursive: true })
    const tmp = `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    // the type first: a manifest file without its type is never read back
    await writeFile(join(dir, `${hex}.type${tmp}`), mediaType)
    await rename(join(dir, `${hex}.type${tmp}`), join(dir, `${hex}.type`))
    await writeFile(join(dir, `${hex}${tmp}`), bytes)
    await rename(join(dir, `${hex}${tmp}`), join(dir, hex))
    this.#remember({ digest, mediaType, bytes })
    return digest
  }

  #remember (entry: CachedManifest): void {
    this.#memory.set(entry.digest, entry)
    if (this.#memory.size > MEMORY_ENTRIES) this.#memory.delete(this.#memory.keys().next().value!)
  }
}

export function sha256 (bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}
