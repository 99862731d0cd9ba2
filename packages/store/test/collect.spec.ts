import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { digestFromHash, layoutFor, signManifestPart, verifyManifestPart } from '@damselfly/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPieceStore } from '../src/index.js'
import type { PieceStore } from '../src/index.js'
import type { BlobDigest } from '@damselfly/protocol'

const KiB = 1024
const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest())

/** Put a complete, verified blob of `size` random bytes into the store. */
async function putBlob (store: PieceStore, size: number): Promise<BlobDigest> {
  const pieceSize = 64 * KiB
  const bytes = new Uint8Array(randomBytes(size))
  const layout = layoutFor(size, pieceSize)
  const pieces = Array.from({ length: layout.pieces }, (_, i) => bytes.subarray(i * pieceSize, Math.min(size, (i + 1) * pieceSize)))
  const digest = digestFromHash(sha256(bytes))
  const key = await generateKeyPair('Ed25519')
  const part = await signManifestPart({ digest, size, pieceSize, first: 0, hashes: pieces.map(sha256) }, key)
  const handle = await store.open(digest, layout)
  await handle.addManifestParts([await verifyManifestPart(part, { digest })])
  for (const [i, p] of pieces.entries()) await handle.writePiece(i, p)
  await handle.finalize()
  return digest
}

describe('disk quota collection', () => {
  let dataDir: string
  let store: PieceStore

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'damselfly-collect-'))
    store = await createPieceStore({ dataDir })
  })

  afterEach(async () => {
    await store.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('removes least recently used blobs first, down to the target, and never one in use', async () => {
    const a = await putBlob(store, 256 * KiB)
    const b = await putBlob(store, 256 * KiB)
    const c = await putBlob(store, 256 * KiB)
    expect(store.usage()).toBe(768 * KiB)
    // a was read last; b, the least recently used, is being served: c is the one to go
    await new Promise(resolve => setTimeout(resolve, 5))
    store.hold(a)()
    const release = store.hold(b)
    expect(await store.collect(600 * KiB)).toEqual([c])
    expect(store.get(c)).toBeUndefined()
    expect(existsSync(join(dataDir, 'blobs', 'sha256', c.slice(7)))).toBe(false)
    // below the target already: nothing to do
    expect(await store.collect(600 * KiB)).toEqual([])
    // b is in use: only a can go, and the store says it is still over
    expect(await store.collect(0)).toEqual([a])
    expect(store.usage()).toBe(256 * KiB)
    release()
    expect(await store.collect(0)).toEqual([b])
    expect(store.usage()).toBe(0)
  })

  it('remembers the order of use across a restart', async () => {
    const a = await putBlob(store, 128 * KiB)
    const b = await putBlob(store, 128 * KiB)
    await new Promise(resolve => setTimeout(resolve, 20))
    store.hold(a)() // a used after b
    await new Promise(resolve => setTimeout(resolve, 50))
    await store.close()
    store = await createPieceStore({ dataDir })
    expect(store.list().map(x => x.digest).sort()).toEqual([a, b].sort())
    expect(await store.collect(128 * KiB)).toEqual([b])
    expect(store.get(a)?.complete).toBe(true)
  })
})
