import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { appendFile, mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ManifestPart, digestFromHash, layoutFor, signManifestPart, verifyManifestPart } from '@damselfly/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPieceStore } from '../src/index.js'
import type { BlobHandle, PieceStore } from '../src/index.js'
import type { BlobDigest, BlobLayout, VerifiedManifestPart } from '@damselfly/protocol'
import type { PrivateKey } from '@libp2p/interface'

const here = dirname(fileURLToPath(import.meta.url))

interface TestBlob {
  bytes: Uint8Array
  digest: BlobDigest
  hex: string
  layout: BlobLayout
  pieces: Uint8Array[]
  hashes: Uint8Array[]
}

function sha256 (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

function testBlob (size: number, pieceSize: number, bytes: Uint8Array = new Uint8Array(randomBytes(size))): TestBlob {
  const layout = layoutFor(size, pieceSize)
  const pieces: Uint8Array[] = []
  for (let i = 0; i < layout.pieces; i++) {
    pieces.push(bytes.slice(i * pieceSize, Math.min(size, (i + 1) * pieceSize)))
  }
  const digest = digestFromHash(sha256(bytes))
  return { bytes, digest, hex: digest.slice(7), layout, pieces, hashes: pieces.map(sha256) }
}

let key: PrivateKey

/** A signed and verified manifest part over `hashes` (by default the blob's own). */
async function manifestPart (blob: TestBlob, first = 0, count = blob.layout.pieces - first, hashes = blob.hashes): Promise<VerifiedManifestPart> {
  const part = await signManifestPart({
    digest: blob.digest,
    size: blob.layout.size,
    pieceSize: blob.layout.pieceSize,
    first,
    hashes: hashes.slice(first, first + count)
  }, key)
  return verifyManifestPart(part, { digest: blob.digest })
}

async function writeAll (handle: BlobHandle, blob: TestBlob): Promise<void> {
  await Promise.all(blob.pieces.map(async (piece, i) => { await handle.writePiece(i, piece) }))
}

async function rejection (promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('piece store', () => {
  let dataDir: string
  const stores: PieceStore[] = []

  async function newStore (): Promise<PieceStore> {
    const store = await createPieceStore({ dataDir })
    stores.push(store)
    return store
  }

  beforeEach(async () => {
    key ??= await generateKeyPair('Ed25519')
    dataDir = await mkdtemp(join(tmpdir(), 'damselfly-store-'))
  })

  afterEach(async () => {
    await Promise.all(stores.splice(0).map(async store => { await store.close() }))
    await rm(dataDir, { recursive: true, force: true })
  })

  it('writes pieces in any order and reads them back, the last one short', async () => {
    const blob = testBlob(5 * 1024 + 300, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    expect(handle.complete).toBe(false)
    expect(await handle.addManifestParts([await manifestPart(blob)])).toBe(6)

    const events: number[] = []
    handle.addEventListener('piece', (evt) => { events.push((evt as CustomEvent<number>).detail) })

    await Promise.all([5, 2, 0, 4].map(async i => { await handle.writePiece(i, blob.pieces[i]!) }))
    const split = new Uint8ArrayList(blob.pieces[1]!.subarray(0, 100), blob.pieces[1]!.subarray(100))
    await handle.writePiece(1, split)
    await handle.writePiece(3, blob.pieces[3]!)

    expect(events.sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect(handle.bitfield.complete).toBe(true)
    for (let i = 0; i < blob.layout.pieces; i++) {
      expect(await handle.readPiece(i)).toEqual(blob.pieces[i])
    }
    expect((await handle.readPiece(5)).byteLength).toBe(300)
    expect(await handle.read(1000, 3000)).toEqual(blob.bytes.slice(1000, 4000))
    expect(await handle.read(0, blob.layout.size)).toEqual(blob.bytes)
    expect(store.list()).toEqual([{ digest: blob.digest, layout: blob.layout, held: 6, complete: false, lastUsed: expect.any(Number), inUse: false }])

    // writing a held piece again changes nothing
    await handle.writePiece(0, blob.pieces[0]!)
    expect(await handle.readPiece(0)).toEqual(blob.pieces[0])
  })

  it('rejects a piece whose bytes do not match the manifest and does not hold it', async () => {
    const blob = testBlob(4096, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    await handle.addManifestParts([await manifestPart(blob)])

    const bad = Uint8Array.from(blob.pieces[2]!)
    bad[7] = bad[7]! ^ 0xff
    const err = await rejection(handle.writePiece(2, bad))
    expect(err.name).toBe('PieceVerificationError')
    expect(err.message).toContain('piece 2')
    expect(err.message).toContain(Buffer.from(blob.hashes[2]!).toString('hex'))
    expect(err.message).toContain(createHash('sha256').update(bad).digest('hex'))

    expect((await rejection(handle.writePiece(2, blob.pieces[2]!.subarray(1)))).name).toBe('PieceVerificationError')
    expect(handle.bitfield.has(2)).toBe(false)
    expect((await rejection(handle.readPiece(2))).name).toBe('PieceNotHeldError')
    expect((await rejection(handle.read(1000, 100))).name).toBe('PieceNotHeldError')

    // the good bytes are accepted afterwards
    await handle.writePiece(2, blob.pieces[2]!)
    expect(await handle.readPiece(2)).toEqual(blob.pieces[2])
  })

  it('rejects a piece no manifest part covers yet', async () => {
    const blob = testBlob(4096, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    await handle.addManifestParts([await manifestPart(blob, 0, 2)])

    await handle.writePiece(1, blob.pieces[1]!)
    expect((await rejection(handle.writePiece(3, blob.pieces[3]!))).name).toBe('MissingPieceHashError')
    expect(handle.bitfield.has(3)).toBe(false)

    expect(await handle.addManifestParts([await manifestPart(blob, 2, 2)])).toBe(2)
    await handle.writePiece(3, blob.pieces[3]!)
    expect(handle.bitfield.has(3)).toBe(true)
  })

  it('finalizes a blob, and a restarted store serves it as complete', async () => {
    const blob = testBlob(10_000, 2048)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    const part = await manifestPart(blob)
    await handle.addManifestParts([part])
    await writeAll(handle, blob)

    let completed = 0
    handle.addEventListener('complete', () => { completed++ })
    await handle.finalize()
    expect(handle.complete).toBe(true)
    expect(completed).toBe(1)
    await handle.finalize()
    expect(completed).toBe(1)

    expect(await readFile(join(dataDir, 'blobs', 'sha256', blob.hex))).toEqual(Buffer.from(blob.bytes))
    expect(existsSync(join(dataDir, 'blobs', 'sha256', `${blob.hex}.manifest`))).toBe(true)
    expect(await readdir(join(dataDir, 'partial'))).toEqual([])
    expect(await handle.read(0, blob.layout.size)).toEqual(blob.bytes)

    await store.close()
    const restarted = await newStore()
    expect(restarted.list()).toEqual([{ digest: blob.digest, layout: blob.layout, held: 5, complete: true, lastUsed: expect.any(Number), inUse: false }])
    const again = restarted.get(blob.digest)!
    expect(again.complete).toBe(true)
    expect(await again.read(0, blob.layout.size)).toEqual(blob.bytes)
    expect(await again.readPiece(4)).toEqual(blob.pieces[4])
    expect(again.pieceHash(3)).toEqual(blob.hashes[3])
    expect(again.manifestParts().map(p => ManifestPart.encode(p))).toEqual([ManifestPart.encode(part.part)])
    await again.waitForPiece(2)

    expect(await restarted.open(blob.digest, blob.layout)).toBe(again)
    expect((await rejection(restarted.open(blob.digest, layoutFor(blob.layout.size, 4096)))).name).toBe('LayoutMismatchError')
  })

  it('checks the whole digest over pieces written out of order and across a restart', async () => {
    const blob = testBlob(20_000, 2048)
    const order = [3, 0, 1, 2, 9, 5, 4, 8, 6, 7]
    let store = await newStore()
    let handle = await store.open(blob.digest, blob.layout)
    await handle.addManifestParts([await manifestPart(blob)])
    // one at a time: some land next in line, some ahead of a gap
    for (const i of order.slice(0, 6)) await handle.writePiece(i, blob.pieces[i]!)
    await store.close()
    store = await newStore()
    handle = store.get(blob.digest)!
    expect(handle.bitfield.count).toBe(6)
    for (const i of order.slice(6)) await handle.writePiece(i, blob.pieces[i]!)
    await handle.finalize()
    expect(handle.complete).toBe(true)
    expect(await readFile(join(dataDir, 'blobs', 'sha256', blob.hex))).toEqual(Buffer.from(blob.bytes))
  })

  it('removes a blob whose content does not match its digest at finalize', async () => {
    const blob = testBlob(3000, 1024)
    const other = testBlob(3000, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    // a manifest signed over the wrong content: every piece verifies, the whole blob does not
    await handle.addManifestParts([await manifestPart(blob, 0, 3, other.hashes)])
    await writeAll(handle, other)

    const err = await rejection(handle.finalize())
    expect(err.name).toBe('DigestMismatchError')
    expect(err.actual).toBe(other.digest)
    expect(err.message).toBe(`blob content is ${other.digest}, expected ${blob.digest}`)

    expect(store.get(blob.digest)).toBeUndefined()
    expect(store.list()).toEqual([])
    expect(await readdir(join(dataDir, 'partial'))).toEqual([])
    expect(await readdir(join(dataDir, 'blobs', 'sha256'))).toEqual([])
    expect((await rejection(handle.readPiece(0))).name).toBe('BlobRemovedError')
  })

  it('after a crash, holds only the pieces whose bytes re-verify', async () => {
    const blob = testBlob(8 * 1024, 1024)
    const crashed = await newStore()
    const handle = await crashed.open(blob.digest, blob.layout)
    await handle.addManifestParts([await manifestPart(blob, 0, 7)])
    await Promise.all([0, 1, 2, 3].map(async i => { await handle.writePiece(i, blob.pieces[i]!) }))
    await handle.writeOriginPiece(7, blob.pieces[7]!)
    expect(handle.bitfield.count).toBe(5)

    // damage piece 1 on disk, and mark piece 5, never written, as held
    const partial = join(dataDir, 'partial', blob.hex)
    const data = await open(join(partial, 'data'), 'r+')
    await data.write(new Uint8Array(16).fill(0xaa), 0, 16, 1024 + 100)
    await data.close()
    const bits = await readFile(join(partial, 'bitfield'))
    bits[0] = bits[0]! | (1 << (7 - 5))
    await writeFile(join(partial, 'bitfield'), bits)

    // a second store over the same directory, the first never closed, as after SIGKILL
    const restarted = await newStore()
    const resumed = restarted.get(blob.digest)!
    expect([...resumed.bitfield.indices()]).toEqual([0, 2, 3])
    expect(restarted.list()).toEqual([{ digest: blob.digest, layout: blob.layout, held: 3, complete: false, lastUsed: expect.any(Number), inUse: false }])
    // the origin piece 7 had no signed hash, so it is not trusted either
    expect(resumed.pieceHash(7)).toBeUndefined()
    expect((await rejection(resumed.readPiece(1))).name).toBe('PieceNotHeldError')
    expect((await rejection(resumed.readPiece(5))).name).toBe('PieceNotHeldError')
    expect(await resumed.readPiece(2)).toEqual(blob.pieces[2])
    // the corrected bitfield is on disk
    expect([...await readFile(join(partial, 'bitfield'))]).toEqual([0b10110000])

    await resumed.addManifestParts([await manifestPart(blob, 7, 1)])
    for (const i of [1, 4, 5, 6, 7]) {
      await resumed.writePiece(i, blob.pieces[i]!)
    }
    await resumed.finalize()
    expect(await resumed.read(0, blob.layout.size)).toEqual(blob.bytes)
  })

  it('resumes after the writing process is killed with SIGKILL', async () => {
    const dist = join(here, '..', 'dist', 'index.js')
    expect(existsSync(dist), 'build the store first (npx tsc -b packages/store)').toBe(true)
    const blob = testBlob(2048 * 4096 - 1000, 4096)
    const source = join(dataDir, 'source')
    await writeFile(source, blob.bytes)
    const setup = await createPieceStore({ dataDir: join(dataDir, 'store') })
    const handle = await setup.open(blob.digest, blob.layout)
    await handle.addManifestParts([await manifestPart(blob)])
    await setup.close()

    const child = spawn(process.execPath, [join(here, 'fixtures', 'write-pieces.mjs'), join(dataDir, 'store'), blob.digest, source], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => { stderr += String(chunk) })
    const reported = await new Promise<number[]>((resolve, reject) => {
      const written: number[] = []
      let buffered = ''
      child.stdout.on('data', (chunk) => {
        buffered += String(chunk)
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) {
          if (line === 'done') continue
          written.push(Number(line))
        }
        if (written.length >= 64 && child.exitCode == null && !child.killed) {
          child.kill('SIGKILL')
        }
      })
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve(written)
        else reject(new Error(`writer exited with ${code}: ${stderr}`))
      })
    })

    const store = await createPieceStore({ dataDir: join(dataDir, 'store') })
    stores.push(store)
    const resumed = store.get(blob.digest)!
    const held = [...resumed.bitfield.indices()]
    for (const index of reported) {
      expect(resumed.bitfield.has(index)).toBe(true)
    }
    expect(held.length).toBeLessThan(blob.layout.pieces)
    for (const index of held) {
      expect(await resumed.readPiece(index)).toEqual(blob.pieces[index])
    }

    await Promise.all(blob.pieces.map(async (piece, i) => { await resumed.writePiece(i, piece) }))
    await resumed.finalize()
    expect(resumed.complete).toBe(true)
  })

  it('removes leftovers and unreadable partial blobs when it starts', async () => {
    const good = testBlob(3000, 1024)
    const broken = testBlob(3000, 1024)
    const store = await newStore()
    const handle = await store.open(good.digest, good.layout)
    await handle.addManifestParts([await manifestPart(good, 0, 2)])
    await handle.writePiece(0, good.pieces[0]!)
    await store.open(broken.digest, broken.layout)
    await store.close()

    const partial = join(dataDir, 'partial')
    const complete = join(dataDir, 'blobs', 'sha256')
    await writeFile(join(partial, broken.hex, 'layout.json'), '{"size": "not a number"')
    await mkdir(join(partial, `.tmp-${good.hex}-left-over`))
    await writeFile(join(complete, `.tmp-${good.hex}.manifest`), 'half written')
    await writeFile(join(complete, `${broken.hex}.manifest`), 'orphan')
    // a manifest frame cut short by the crash
    await appendFile(join(partial, good.hex, 'manifest'), Uint8Array.of(0xff, 0x01, 0x0a))

    const restarted = await newStore()
    expect(restarted.list().map(b => b.digest)).toEqual([good.digest])
    expect(await readdir(partial)).toEqual([good.hex])
    expect(await readdir(complete)).toEqual([])

    const resumed = restarted.get(good.digest)!
    expect([...resumed.bitfield.indices()]).toEqual([0])
    expect(resumed.pieceHash(1)).toEqual(good.hashes[1])
    // new parts are appended after the last whole frame and survive another restart
    await resumed.addManifestParts([await manifestPart(good, 2, 1)])
    await restarted.close()
    const third = await newStore()
    expect(third.get(good.digest)!.pieceHash(2)).toEqual(good.hashes[2])
    expect(third.get(good.digest)!.manifestParts()).toHaveLength(2)
  })

  it('keeps the first hash for a piece and forwards a small set of parts', async () => {
    const blob = testBlob(6 * 1024, 1024)
    const forged = testBlob(6 * 1024, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    const first = await manifestPart(blob, 0, 3)
    const second = await manifestPart(blob, 3, 3)
    expect(await handle.addManifestParts([first])).toBe(3)
    expect(await handle.addManifestParts([await manifestPart(blob, 0, 3, forged.hashes)])).toBe(0)
    expect(handle.pieceHash(1)).toEqual(blob.hashes[1])
    expect(await handle.addManifestParts([second, first])).toBe(3)
    expect(handle.manifestParts().map(p => p.first)).toEqual([0, 3])

    const whole = await manifestPart(blob)
    expect(await handle.addManifestParts([whole])).toBe(0)
    expect(handle.manifestParts()).toEqual([whole.part])

    const otherLayout = await manifestPart(testBlob(6 * 1024, 2048))
    expect((await rejection(handle.addManifestParts([otherLayout]))).name).toBe('InvalidManifestError')

    await store.close()
    const restarted = await newStore()
    const again = restarted.get(blob.digest)!
    expect(again.manifestParts().map(p => ManifestPart.encode(p))).toEqual([ManifestPart.encode(whole.part)])
    expect(again.pieceHash(5)).toEqual(blob.hashes[5])
  })

  it('names the part to forward with a piece: the one that supplied its hash, then the whole manifest', async () => {
    const blob = testBlob(6 * 1024, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    const first = await manifestPart(blob, 0, 3)
    const second = await manifestPart(blob, 3, 3)
    expect(handle.manifestPartFor(4)).toBeUndefined()
    await handle.addManifestParts([first, second])
    expect(handle.manifestPartFor(1)).toBe(first.part)
    expect(handle.manifestPartFor(4)).toBe(second.part)
    const whole = await manifestPart(blob)
    await handle.addManifestParts([whole])
    expect(handle.manifestPartFor(1)).toBe(whole.part)
    expect(handle.manifestPartFor(4)).toBe(whole.part)
    await store.close()
  })

  it('returns the hash of an origin piece and holds it', async () => {
    const blob = testBlob(2500, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    const hashes: Uint8Array[] = []
    for (let i = 0; i < blob.layout.pieces; i++) {
      hashes.push(await handle.writeOriginPiece(i, blob.pieces[i]!))
    }
    expect(hashes).toEqual(blob.hashes)
    expect(handle.bitfield.complete).toBe(true)
    expect(handle.pieceHash(0)).toBeUndefined()
    expect(await handle.readPiece(2)).toEqual(blob.pieces[2])

    await handle.addManifestParts([await manifestPart(blob, 0, 3, hashes)])
    await handle.finalize()
    expect(handle.complete).toBe(true)
  })

  it('wakes waiters when a piece lands, and fails them on abort or removal', async () => {
    const blob = testBlob(3000, 1024)
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    await handle.addManifestParts([await manifestPart(blob)])

    const landed = handle.waitForPiece(1)
    await handle.writePiece(1, blob.pieces[1]!)
    await landed
    await handle.waitForPiece(1)

    const controller = new AbortController()
    const aborted = handle.waitForPiece(0, { signal: controller.signal })
    const reason = new Error('gave up')
    controller.abort(reason)
    expect(await rejection(aborted)).toBe(reason)

    const removed = rejection(handle.waitForPiece(2))
    await store.remove(blob.digest)
    expect((await removed).name).toBe('BlobRemovedError')
    expect(store.get(blob.digest)).toBeUndefined()
    expect(await readdir(join(dataDir, 'partial'))).toEqual([])
    expect((await rejection(handle.writePiece(0, blob.pieces[0]!))).name).toBe('BlobRemovedError')
  })

  it('opens one handle per digest and refuses another layout', async () => {
    const blob = testBlob(3000, 1024)
    const store = await newStore()
    const [a, b, c] = await Promise.all([
      store.open(blob.digest, blob.layout),
      store.open(blob.digest, blob.layout),
      store.open(blob.digest, blob.layout)
    ])
    expect(a).toBe(b)
    expect(b).toBe(c)
    expect(store.get(blob.digest)).toBe(a)
    expect(store.list()).toHaveLength(1)
    expect((await rejection(store.open(blob.digest, layoutFor(3000, 512)))).name).toBe('LayoutMismatchError')
    expect((await rejection(store.open(blob.digest, layoutFor(3001, 1024)))).name).toBe('LayoutMismatchError')
  })

  it('stores an empty blob', async () => {
    const blob = testBlob(0, 1024)
    expect(blob.digest).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    const store = await newStore()
    const handle = await store.open(blob.digest, blob.layout)
    expect(handle.layout.pieces).toBe(0)
    await handle.addManifestParts([await manifestPart(blob)])
    await handle.finalize()
    expect(handle.complete).toBe(true)
    expect(await handle.read(0, 0)).toEqual(new Uint8Array(0))

    await store.close()
    const restarted = await newStore()
    expect(restarted.list()).toEqual([{ digest: blob.digest, layout: blob.layout, held: 0, complete: true, lastUsed: expect.any(Number), inUse: false }])
  })
})
