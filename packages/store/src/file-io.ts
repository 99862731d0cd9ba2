import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { HASH_CHUNK_SIZE } from './constants.js'
import type { AbortOptions } from '@libp2p/interface'
import type { Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'

/** Fill `into` from the file at `position`; a short file is an error. */
export async function readFully (file: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < into.byteLength) {
    const { bytesRead } = await file.read(into, done, into.byteLength - done, position + done)
    if (bytesRead === 0) {
      throw new Error(`file ends at byte ${position + done}, ${into.byteLength - done} bytes short`)
    }
    done += bytesRead
  }
}

/** Write chunks one after another from `position` with positional writes. */
/** Write chunks back to back at `position`: one writev where the kernel takes it all. */
export async function writeFully (file: FileHandle, chunks: Iterable<Uint8Array>, position: number): Promise<void> {
  let pending = [...chunks].filter(c => c.byteLength > 0)
  let at = position
  while (pending.length > 0) {
    const { bytesWritten } = await file.writev(pending, at)
    at += bytesWritten
    let skip = bytesWritten
    const rest: Uint8Array[] = []
    for (const c of pending) {
      if (skip >= c.byteLength) {
        skip -= c.byteLength
      } else {
        rest.push(skip > 0 ? c.subarray(skip) : c)
        skip = 0
      }
    }
    pending = rest
  }
}

export function sha256 (chunks: Iterable<Uint8Array>): Uint8Array {
  const hash = createHash('sha256')
  for (const chunk of chunks) {
    hash.update(chunk)
  }
  return toPlain(hash.digest())
}

/** The sha256 of a byte range of a file, read in fixed-size chunks. */
export async function hashRange (file: FileHandle, offset: number, length: number, options: AbortOptions = {}): Promise<Uint8Array> {
  const hash = createHash('sha256')
  await hashInto(hash, file, offset, length, options)
  return toPlain(hash.digest())
}

export interface HashIntoOptions extends AbortOptions {
  /** Read into this (any size but 0) rather than a new buffer: a caller hashing range after range reuses one. */
  buffer?: Uint8Array
}

/** Feed a byte range of a file to `hash`, read in fixed-size chunks. */
export async function hashInto (hash: Hash, file: FileHandle, offset: number, length: number, options: HashIntoOptions = {}): Promise<void> {
  const buffer = options.buffer ?? new Uint8Array(Math.min(HASH_CHUNK_SIZE, length))
  let done = 0
  while (done < length) {
    options.signal?.throwIfAborted()
    const view = buffer.subarray(0, Math.min(buffer.byteLength, length - done))
    await readFully(file, view, offset + done)
    hash.update(view)
    done += view.byteLength
  }
}

/** Make a rename or creation in `dir` durable. */
export async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export function isNotFound (err: any): boolean {
  return err?.code === 'ENOENT'
}

/** A Buffer seen as a plain Uint8Array, so callers compare like with like. */
export function toPlain (buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}
