import { createHash, randomBytes } from 'node:crypto'
import { digestFromHash, layoutFor, signManifestPart, verifyManifestPart } from '@damselfly/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Uint8ArrayList } from 'uint8arraylist'
import { beforeAll, describe, expect, it } from 'vitest'
import { createMemoryPieceStore } from '../src/memory.js'
import type { BlobDigest, BlobLayout, VerifiedManifestPart } from '@damselfly/protocol'
import type { PrivateKey } from '@libp2p/interface'

interface TestBlob {
  bytes: Uint8Array
  digest: BlobDigest
  layout: BlobLayout
  pieces: Uint8Array[]
}

function sha256 (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

function testBlob (size: number, pieceSize: number, bytes: Uint8Array = new Uint8Array(randomBytes(size))): TestBlob {
  const layout = layoutFor(size, pieceSize)
  const pieces: Uint8Array[] = []
  for (let i = 0; i < layout.pieces; i++) pieces.push(bytes.slice(i * pieceSize, Math.min(size, (i + 1) * pieceSize)))
  return { bytes, digest: digestFromHash(sha256(bytes)), layout, pieces }
}

let key: PrivateKey

async function manifest (blob: TestBlob, hashes = blob.pieces.map(sha256)): Promise<VerifiedManifestPart> {
  const part = await signManifestPart({ digest: blob.digest, size: blob.layout.size, pieceSize: blob.layout.pieceSize, first: 0, hashes }, key)
  return verifyManifestPart(part, { digest: blob.digest })
}

describe('the in-memory piece store', () => {
  beforeAll(async () => {
    key = await generateKeyPair('Ed25519')
  })

  it('holds verified pieces, checks the whole digest, and serves the blob', async () => {
    const store = createMemoryPieceStore()
    const blob = testBlob(10_000, 4096)
    const handle = await store.open(blob.digest, blob.layout)
    await handle.addManifestParts([await manifest(blob)])
    const waited = handle.waitForPiece(2)
    await handle.writePiece(2, blob.pieces[2]!)
    await waited
    await handle.writePiece(0, new Uint8ArrayList(blob.pieces[0]!.subarray(0, 100), blob.pieces[0]!.subarray(100)))
    await handle.writePiece(1, blob.pieces[1]!)
    let verified = false
    await handle.finalize({ onVerified: () => { verified = true } })
    expect(verified).toBe(true)
    expect(handle.complete).toBe(true)
    expect(await handle.read(0, blob.layout.size)).toEqual(blob.bytes)
    const streamed = new Uint8ArrayList()
    for await (const chunk of handle.stream(10, 9000)) streamed.append(chunk)
    expect(streamed.subarray()).toEqual(blob.bytes.subarray(10, 9000))
    // what a reader changes is its own copy, not what is served to others
    const piece = await handle.readPiece(1)
    piece[0] = (piece[0] ?? 0) ^ 0xff
    expect(await handle.readPiece(1)).toEqual(blob.pieces[1])
    expect(store.list()).toMatchObject([{ digest: blob.digest, held: 3, complete: true }])
  })

  it('refuses a piece that does not hash to its manifest, and holds nothing of it', async () => {
    const store = createMemoryPieceStore()
    const blob = testBlob(8192, 4096)
    const handle = await store.open(blob.digest, blob.layout)
    await expect(handle.writePiece(0, blob.pieces[0]!)).rejects.toMatchObject({ name: 'MissingPieceHashError' })
    await handle.addManifestParts([await manifest(blob)])
    const bad = blob.pieces[0]!.slice()
    bad[7] = (bad[7] ?? 0) ^ 1
    await expect(handle.writePiece(0, bad)).rejects.toMatchObject({ name: 'PieceVerificationError' })
    await expect(handle.writePiece(0, blob.pieces[0]!.subarray(1))).rejects.toMatchObject({ name: 'PieceVerificationError' })
    expect(handle.bitfield.has(0)).toBe(false)
    await expect(handle.readPiece(0)).rejects.toMatchObject({ name: 'PieceNotHeldError' })
  })

  it('removes a blob whose pieces match a forged manifest but whose digest does not', async () => {
    const store = createMemoryPieceStore()
    const blob = testBlob(8192, 4096)
    const other = testBlob(8192, 4096)
    const handle = await store.open(blob.digest, blob.layout)
    // a signer vouching for another blob's pieces under this digest
    await handle.addManifestParts([await manifest(blob, other.pieces.map(sha256))])
    await handle.writePiece(0, other.pieces[0]!)
    await handle.writePiece(1, other.pieces[1]!)
    await expect(handle.finalize()).rejects.toMatchObject({ name: 'DigestMismatchError', actual: other.digest })
    expect(handle.complete).toBe(false)
    await expect(handle.read(0, 10)).rejects.toMatchObject({ name: 'BlobRemovedError' })
  })

  it('stays within its size, dropping the least recently used blob nobody holds', async () => {
    const store = createMemoryPieceStore({ maxBytes: 20_000 })
    const a = testBlob(8000, 4096)
    const b = testBlob(8000, 4096)
    const c = testBlob(8000, 4096)
    await store.open(a.digest, a.layout)
    const holdB = store.hold(b.digest)
    await store.open(b.digest, b.layout)
    await store.open(c.digest, c.layout)
    expect(store.list().map(x => x.digest).sort()).toEqual([b.digest, c.digest].sort())
    const holdC = store.hold(c.digest)
    await expect(store.open(a.digest, a.layout)).rejects.toMatchObject({ name: 'DiskFullError' })
    await expect(store.open(testBlob(30_000, 4096).digest, layoutFor(30_000, 4096))).rejects.toMatchObject({ name: 'DiskFullError' })
    holdB()
    holdC()
    await store.open(a.digest, a.layout)
    expect(store.usage()).toBeLessThanOrEqual(20_000)
  })
})
