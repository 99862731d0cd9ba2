import { randomUUID } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Bitfield, digestHex, layoutFor, parseDigest, pieceRange } from '@damselfly/protocol'
import { HEX_NAME, TEMP_PREFIX } from './constants.js'
import { DiskFullError, LayoutMismatchError } from './errors.js'
import { BlobUse } from './blob-use.js'
import { equalBytes } from './bytes.js'
import { hashRange, isNotFound, readFully, writeFully } from './file-io.js'
import { readManifestFile } from './manifest-file.js'
import { ManifestHashes } from './manifest-hashes.js'
import { blobPaths, storeDirs } from './paths.js'
import { StoredBlob } from './stored-blob.js'
import type { BlobHandle, BlobSummary, PieceStore, PieceStoreInit } from './index.js'
import type { StoreDirs } from './paths.js'
import type { BlobDigest, BlobLayout, VerifiedManifestPart } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { FileHandle } from 'node:fs/promises'

/**
 * Open the store in `dataDir`: complete blobs are listed as they are, every
 * partial blob is re-verified piece by piece, and leftovers of interrupted
 * work are removed.
 */
export async function createPieceStore (init: PieceStoreInit): Promise<PieceStore> {
  const store = new DiskPieceStore(storeDirs(init.dataDir), init.diskGuard ?? 0.95)
  await store.load()
  return store
}

class DiskPieceStore implements PieceStore {
  readonly #dirs: StoreDirs
  readonly #blobs = new Map<BlobDigest, StoredBlob>()
  /** Creation and removal of one digest happen one at a time. */
  readonly #locks = new Map<BlobDigest, Promise<void>>()
  /** Holds and last use per digest (ms since the epoch; loaded from the data files' mtimes). */
  readonly #use = new BlobUse()
  #closed = false
  readonly #diskGuard: number

  constructor (dirs: StoreDirs, diskGuard: number) {
    this.#dirs = dirs
    this.#diskGuard = diskGuard
  }

  /** Throws DiskFullError when the file system is fuller than the guard, or `bytes` would not fit in what is free. */
  async #checkRoom (digest: BlobDigest, bytes: number): Promise<void> {
    if (this.#diskGuard >= 1) return
    const fs = await statfs(this.#dirs.partial)
    const total = fs.blocks * fs.bsize
    const free = fs.bavail * fs.bsize
    if (total <= 0) return
    const used = 1 - free / total
    if (used > this.#diskGuard) {
      throw new DiskFullError(`not fetching ${digest}: the file system of ${this.#dirs.partial} is ${Math.round(used * 100)}% full, above the ${Math.round(this.#diskGuard * 100)}% this node stops at; free space or set a quota (--quota)`)
    }
    // partial blobs are sparse files: what they have yet to write is spoken for
    let promised = 0
    for (const blob of this.#blobs.values()) {
      if (!blob.complete) promised += Math.max(0, blob.layout.size - blob.bitfield.count * blob.layout.pieceSize)
    }
    if (bytes > free - promised) {
      throw new DiskFullError(`not fetching ${digest}: it is ${bytes} bytes and the file system of ${this.#dirs.partial} has ${free} free, ${promised} of them for blobs being fetched`)
    }
  }

  async load (): Promise<void> {
    await mkdir(this.#dirs.partial, { recursive: true })
    await mkdir(this.#dirs.complete, { recursive: true })

    const completeNames = new Set(await readdir(this.#dirs.complete))
    for (const name of completeNames) {
      if (name.startsWith(TEMP_PREFIX)) {
        await rm(join(this.#dirs.complete, name), { recursive: true, force: true })
      } else if (HEX_NAME.test(name)) {
        await this.#loadComplete(name)
      } else if (name.endsWith('.manifest') && !completeNames.has(name.slice(0, -'.manifest'.length))) {
        // written just before a finalize that did not get to move the data
        await rm(join(this.#dirs.complete, name), { force: true })
      }
    }

    for (const entry of await readdir(this.#dirs.partial, { withFileTypes: true })) {
      const path = join(this.#dirs.partial, entry.name)
      if (entry.name.startsWith(TEMP_PREFIX)) {
        await rm(path, { recursive: true, force: true })
      } else if (HEX_NAME.test(entry.name)) {
        const digest: BlobDigest = `sha256:${entry.name}`
        if (this.#blobs.has(digest)) {
          // finalize moved the data but did not get to remove the rest
          await rm(path, { recursive: true, force: true })
          continue
        }
        try {
          this.#blobs.set(digest, await this.#loadPartial(digest))
        } catch {
          // unreadable: start that blob again rather than trust any of it
          await rm(path, { recursive: true, force: true })
        }
      }
    }
  }

  list (): BlobSummary[] {
    return [...this.#blobs.values()].map(blob => ({
      digest: blob.digest,
      layout: blob.layout,
      held: blob.bitfield.count,
      complete: blob.complete,
      lastUsed: this.#use.lastUsed.get(blob.digest) ?? 0,
      inUse: this.#use.inUse(blob.digest)
    }))
  }

  hold (digest: BlobDigest): () => void {
    return this.#use.hold(digest, () => { this.#used(digest) })
  }

  usage (): number {
    let total = 0
    for (const blob of this.#blobs.values()) total += blob.layout.size
    return total
  }

  async collect (maxBytes: number): Promise<BlobDigest[]> {
    const blobs = this.list().map(b => ({ digest: b.digest, size: b.layout.size }))
    return this.#use.collect(blobs, this.usage(), maxBytes, async digest => {
      if (this.#blobs.get(digest) == null) return false
      await this.remove(digest)
      return true
    })
  }

  /** Record a use now, in memory and (so it survives a restart) as the data file's mtime. */
  #used (digest: BlobDigest): void {
    const now = Date.now()
    this.#use.lastUsed.set(digest, now)
    const blob = this.#blobs.get(digest)
    if (blob == null) return
    const paths = blobPaths(this.#dirs, digestHex(digest))
    const file = blob.complete ? paths.completeData : paths.partialData
    utimes(file, now / 1000, now / 1000).catch(() => {
      // gone meanwhile, or a read-only disk: the in-memory time still orders this run
    })
  }

  get (digest: BlobDigest): BlobHandle | undefined {
    return this.#blobs.get(digest)
  }

  async open (digest: BlobDigest, layout: BlobLayout, options: AbortOptions = {}): Promise<BlobHandle> {
    this.#checkOpen()
    parseDigest(digest)
    options.signal?.throwIfAborted()
    const wanted = layoutFor(layout.size, layout.pieceSize)
    if (wanted.pieces !== layout.pieces) {
      throw new LayoutMismatchError(`a blob of ${layout.size} bytes in pieces of ${layout.pieceSize} has ${wanted.pieces} pieces, not ${layout.pieces}`)
    }
    const existing = this.#blobs.get(digest)
    if (existing != null) return sameLayout(existing, wanted)
    return this.#withLock(digest, async () => {
      const current = this.#blobs.get(digest)
      if (current != null) return sameLayout(current, wanted)
      this.#checkOpen()
      await this.#checkRoom(digest, wanted.size)
      const blob = await this.#createPartial(digest, wanted)
      this.#blobs.set(digest, blob)
      this.#use.lastUsed.set(digest, Date.now())
      return blob
    })
  }

  async remove (digest: BlobDigest): Promise<void> {
    this.#checkOpen()
    const hex = digestHex(digest)
    await this.#withLock(digest, async () => {
      const blob = this.#blobs.get(digest)
      if (blob != null) {
        await blob.remove()
        return
      }
      const paths = blobPaths(this.#dirs, hex)
      await rm(paths.partialDir, { recursive: true, force: true })
      await rm(paths.completeData, { force: true })
      await rm(paths.completeManifest, { force: true })
    })
  }

  async close (): Promise<void> {
    this.#closed = true
    const blobs = [...this.#blobs.values()]
    this.#blobs.clear()
    await Promise.all(blobs.map(async blob => { await blob.close() }))
  }

  async #createPartial (digest: BlobDigest, layout: BlobLayout): Promise<StoredBlob> {
    const hex = digestHex(digest)
    const paths = blobPaths(this.#dirs, hex)
    // built under a temporary name and renamed, so a crash never leaves half a blob directory
    const temp = join(this.#dirs.partial, `${TEMP_PREFIX}${hex}-${randomUUID()}`)
    let data: FileHandle | undefined
    let bitfield: FileHandle | undefined
    try {
      await mkdir(temp)
      // files created and filled at once, not one after another: a task
      // waits for them before it asks for its first piece
      const files = await Promise.allSettled([open(join(temp, 'data'), 'w+'), open(join(temp, 'bitfield'), 'w+')])
      data = files[0].status === 'fulfilled' ? files[0].value : undefined
      bitfield = files[1].status === 'fulfilled' ? files[1].value : undefined
      if (data == null || bitfield == null) throw (files.find(r => r.status === 'rejected') as PromiseRejectedResult).reason
      const written = await Promise.allSettled([
        writeFile(join(temp, 'layout.json'), JSON.stringify({ size: layout.size, pieceSize: layout.pieceSize })),
        writeFile(join(temp, 'manifest'), new Uint8Array(0)),
        data.truncate(layout.size),
        writeFully(bitfield, [new Uint8Array(Math.ceil(layout.pieces / 8))], 0)
      ])
      for (const r of written) if (r.status === 'rejected') throw r.reason
      // no fsync of the directory: a partial blob lost to a power cut is
      // fetched again, and one that survives has its pieces re-hashed on load
      await rename(temp, paths.partialDir)
    } catch (err) {
      await Promise.allSettled([data?.close(), bitfield?.close()])
      await rm(temp, { recursive: true, force: true })
      throw err
    }
    return new StoredBlob({
      digest,
      layout,
      paths,
      hashes: new ManifestHashes(layout.pieces),
      bitfield: new Bitfield(layout.pieces),
      files: { data, bitfield },
      onRemoved: blob => { this.#forget(blob) }
    })
  }

  async #loadComplete (hex: string): Promise<void> {
    const digest: BlobDigest = `sha256:${hex}`
    const paths = blobPaths(this.#dirs, hex)
    try {
      const info = await stat(paths.completeData)
      if (!info.isFile()) return
      this.#use.lastUsed.set(digest, info.mtimeMs)
      const parts = await readManifestFile(paths.completeManifest, digest)
      // the manifest carries the piece size; without one, the protocol's rule gives it
      const described = parts.find(part => part.size === info.size)
      const layout = layoutFor(info.size, described?.pieceSize)
      this.#blobs.set(digest, new StoredBlob({
        digest,
        layout,
        paths,
        hashes: hashesFrom(layout, parts),
        onRemoved: blob => { this.#forget(blob) }
      }))
    } catch {
      // left on disk untouched, just not served
    }
  }

  async #loadPartial (digest: BlobDigest): Promise<StoredBlob> {
    const paths = blobPaths(this.#dirs, digestHex(digest))
    const saved = JSON.parse(await readFile(paths.partialLayout, 'utf8'))
    if (typeof saved?.size !== 'number' || typeof saved?.pieceSize !== 'number') {
      throw new Error(`${paths.partialLayout} does not describe a layout`)
    }
    const layout = layoutFor(saved.size, saved.pieceSize)
    const hashes = hashesFrom(layout, await readManifestFile(paths.partialManifest, digest))

    const data = await open(paths.partialData, 'r+')
    let bitfieldFile: FileHandle | undefined
    try {
      this.#use.lastUsed.set(digest, (await data.stat()).mtimeMs)
      if ((await data.stat()).size !== layout.size) {
        await data.truncate(layout.size)
      }
      const { file, marked } = await openBitfield(paths.partialBitfield, layout.pieces)
      bitfieldFile = file

      // a bit may have reached the disk while its bytes did not, or the bytes
      // may have been damaged since: only pieces that hash right count as held
      const held = new Bitfield(layout.pieces)
      for (const index of marked?.indices() ?? []) {
        const expected = hashes.get(index)
        if (expected == null) continue
        const { offset, length } = pieceRange(layout.size, layout.pieceSize, index)
        if (equalBytes(await hashRange(data, offset, length), expected)) {
          held.set(index)
        }
      }
      if (marked == null || held.count !== marked.count) {
        await writeFully(bitfieldFile, [held.bytes], 0)
      }
      return new StoredBlob({
        digest,
        layout,
        paths,
        hashes,
        bitfield: held,
        files: { data, bitfield: bitfieldFile },
        onRemoved: blob => { this.#forget(blob) }
      })
    } catch (err) {
      await Promise.allSettled([data.close(), bitfieldFile?.close()])
      throw err
    }
  }

  #forget (blob: StoredBlob): void {
    if (this.#blobs.get(blob.digest) === blob) {
      this.#blobs.delete(blob.digest)
      this.#use.lastUsed.delete(blob.digest)
    }
  }

  async #withLock<T> (digest: BlobDigest, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(digest) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>(resolve => { release = resolve })
    this.#locks.set(digest, current)
    await previous
    try {
      return await fn()
    } finally {
      release()
      if (this.#locks.get(digest) === current) this.#locks.delete(digest)
    }
  }

  #checkOpen (): void {
    if (this.#closed) throw new Error('the piece store is closed')
  }
}

function sameLayout (blob: StoredBlob, layout: BlobLayout): StoredBlob {
  if (blob.layout.size !== layout.size || blob.layout.pieceSize !== layout.pieceSize) {
    throw new LayoutMismatchError(`${blob.digest} is stored as ${blob.layout.size} bytes in pieces of ${blob.layout.pieceSize}, not ${layout.size} bytes in pieces of ${layout.pieceSize}`)
  }
  return blob
}

function hashesFrom (layout: BlobLayout, parts: VerifiedManifestPart[]): ManifestHashes {
  const hashes = new ManifestHashes(layout.pieces)
  for (const part of parts) {
    if (part.size === layout.size && part.pieceSize === layout.pieceSize) {
      hashes.add(part)
    }
  }
  return hashes
}

/**
 * Open a partial blob's bitfield file for in-place updates. `marked` is what
 * it says, or undefined when it is missing or malformed (then it is resized
 * and every piece counts as missing).
 */
async function openBitfield (path: string, pieces: number): Promise<{ file: FileHandle, marked?: Bitfield }> {
  let file: FileHandle
  try {
    file = await open(path, 'r+')
  } catch (err) {
    if (!isNotFound(err)) throw err
    file = await open(path, 'w+')
  }
  try {
    const byteLength = Math.ceil(pieces / 8)
    if ((await file.stat()).size === byteLength) {
      const bytes = new Uint8Array(byteLength)
      await readFully(file, bytes, 0)
      try {
        return { file, marked: new Bitfield(pieces, bytes) }
      } catch {
        // bits set past the last piece: the file is not trusted
      }
    }
    await file.truncate(byteLength)
    return { file }
  } catch (err) {
    await file.close()
    throw err
  }
}
