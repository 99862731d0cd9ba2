import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { sha256 } from '@noble/hashes/sha2.js'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { describe, it, expect, beforeAll } from 'vitest'
import { MANIFEST_SIGNATURE_DOMAIN, decodePieceFrame, encodePieceFrame, manifestSigningBytes, signManifestPart, verifyManifestPart } from '../src/index.js'
import type { BlobDigest, ManifestPart, ManifestPartBody } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

const MiB = 1024 * 1024
const EMPTY_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const DIGEST: BlobDigest = `sha256:${EMPTY_HEX}`

function hash (n: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(sha256(fromString(`piece ${n}`)))
}

/** A 3-piece blob: pieces 0 and 1 are 1 MiB, piece 2 is 512 KiB. */
const body: ManifestPartBody = { digest: DIGEST, size: 2.5 * MiB, pieceSize: MiB, first: 0, hashes: [hash(0), hash(1), hash(2)] }

async function expectInvalid (promise: Promise<unknown>, message?: RegExp): Promise<void> {
  const err: any = await promise.then(() => undefined, (e: unknown) => e)
  expect(err?.name).toBe('InvalidManifestError')
  if (message != null) expect(err.message).toMatch(message)
}

function clone (part: ManifestPart): ManifestPart {
  return { ...part, hashes: part.hashes.map(h => Uint8Array.from(h)), signer: Uint8Array.from(part.signer), signature: Uint8Array.from(part.signature) }
}

describe('manifestSigningBytes', () => {
  it('lays out domain, digest, size, piece size, first, count and hashes big-endian', () => {
    const bytes = manifestSigningBytes({
      digest: DIGEST,
      size: 0x01_0203_0405,
      pieceSize: MiB,
      first: 16,
      hashes: [new Uint8Array(32).fill(0xaa), new Uint8Array(32).fill(0xbb)]
    })
    expect(MANIFEST_SIGNATURE_DOMAIN).toBe('damselfly-manifest-part-v1:')
    expect(toString(bytes, 'base16')).toBe(
      toString(fromString('damselfly-manifest-part-v1:'), 'base16') +
      EMPTY_HEX +
      '0000000102030405' +
      '00100000' +
      '00000010' +
      '00000002' +
      'aa'.repeat(32) +
      'bb'.repeat(32)
    )
    expect(bytes).toHaveLength(27 + 32 + 8 + 4 + 4 + 4 + 64)
  })
})

describe('manifest parts', () => {
  let key: PrivateKey
  let other: PrivateKey
  let signer: string
  let part: ManifestPart

  beforeAll(async () => {
    key = await generateKeyPair('Ed25519')
    other = await generateKeyPair('Ed25519')
    signer = peerIdFromPrivateKey(key).toString()
    part = await signManifestPart(body, key)
  })

  it('signs a part that verifies and names its signer', async () => {
    expect(part.size).toBe(2.5 * MiB)
    expect(part.signature).toHaveLength(64)
    expect(await key.publicKey.verify(manifestSigningBytes(body), part.signature)).toBe(true)
    const verified = await verifyManifestPart(part)
    expect(verified.signer).toBe(signer)
    expect(verified).toMatchObject({ digest: DIGEST, size: 2.5 * MiB, pieceSize: MiB, first: 0, hashes: body.hashes })
    expect(verified.part).toBe(part)
  })

  it('survives a trip through a piece frame', async () => {
    const frame = decodePieceFrame(encodePieceFrame({ type: 'manifest', manifest: [part] }))
    expect(frame.type).toBe('manifest')
    if (frame.type !== 'manifest') return
    expect((await verifyManifestPart(frame.manifest[0]!)).signer).toBe(signer)
  })

  it('accepts a trusted signer and the expected digest', async () => {
    const verified = await verifyManifestPart(part, { trustedSigners: new Set([signer]), digest: DIGEST })
    expect(verified.signer).toBe(signer)
  })

  it('rejects a signer that is not trusted, as an error of its own (the sender broke no rule)', async () => {
    for (const trustedSigners of [new Set([peerIdFromPrivateKey(other).toString()]), new Set<string>()]) {
      const err: any = await verifyManifestPart(part, { trustedSigners }).then(() => undefined, (e: unknown) => e)
      expect(err?.name).toBe('UntrustedSignerError')
      expect(err.message).toMatch(/not a trusted seed/)
    }
  })

  it('rejects a part for another digest than expected', async () => {
    await expectInvalid(verifyManifestPart(part, { digest: `sha256:${'0'.repeat(64)}` }), /expected/)
  })

  it('rejects a tampered hash', async () => {
    const bad = clone(part)
    bad.hashes[1]![0]! ^= 1
    await expectInvalid(verifyManifestPart(bad), /invalid/)
  })

  it('rejects a tampered size, first index or signature', async () => {
    await expectInvalid(verifyManifestPart({ ...clone(part), size: 2.5 * MiB + 1 }), /invalid/)
    const shorter = await signManifestPart({ ...body, hashes: [hash(0), hash(1)] }, key)
    await expectInvalid(verifyManifestPart({ ...clone(shorter), first: 1 }), /invalid/)
    const badSig = clone(part)
    badSig.signature[0]! ^= 1
    await expectInvalid(verifyManifestPart(badSig), /invalid/)
  })

  it('rejects a signature made by a key other than the named signer', async () => {
    const forged = { ...clone(part), signature: Uint8Array.from(await other.sign(manifestSigningBytes(body))) }
    await expectInvalid(verifyManifestPart(forged), /invalid/)
  })

  it('rejects a signer field that is not a public key', async () => {
    await expectInvalid(verifyManifestPart({ ...clone(part), signer: Uint8Array.from([1, 2, 3]) }), /could not be checked/)
  })

  it('refuses to sign a part that covers pieces past the last one', async () => {
    await expectInvalid(signManifestPart({ ...body, first: 2, hashes: [hash(2), hash(3)] }, key), /covers pieces 2\.\.3 of a 3-piece blob/)
  })

  it('rejects a signed part that covers pieces past the last one', async () => {
    const hashes = [hash(1), hash(2), hash(3)]
    const forged: ManifestPart = {
      ...part,
      first: 1,
      hashes,
      signature: Uint8Array.from(await key.sign(manifestSigningBytes({ ...body, first: 1, hashes })))
    }
    await expectInvalid(verifyManifestPart(forged), /covers pieces 1\.\.3 of a 3-piece blob/)
  })

  it('rejects malformed bodies', async () => {
    await expectInvalid(signManifestPart({ ...body, hashes: [] }, key), /covers no pieces/)
    await expectInvalid(signManifestPart({ ...body, hashes: [new Uint8Array(31)] }, key), /not 32 bytes/)
    await expectInvalid(signManifestPart({ ...body, digest: 'sha256:abc' as BlobDigest }, key), /invalid digest/)
    await expectInvalid(signManifestPart({ ...body, pieceSize: 0 }, key), /invalid layout/)
    await expectInvalid(signManifestPart({ ...body, size: 2 ** 40, pieceSize: 1 }, key), /invalid layout/)
    await expectInvalid(verifyManifestPart({ ...clone(part), size: 2 ** 60 }), /too large/)
  })

  it('signs and verifies the manifest of an empty blob', async () => {
    const empty = await signManifestPart({ digest: DIGEST, size: 0, pieceSize: MiB, first: 0, hashes: [] }, key)
    expect((await verifyManifestPart(empty)).hashes).toEqual([])
  })

  it('signs one-piece parts as a seed does while it pulls', async () => {
    const last = await signManifestPart({ ...body, first: 2, hashes: [hash(2)] }, key)
    expect(await verifyManifestPart(last)).toMatchObject({ first: 2, hashes: [hash(2)], signer })
  })

  it('accepts secp256k1 signers too', async () => {
    const k = await generateKeyPair('secp256k1')
    const verified = await verifyManifestPart(await signManifestPart(body, k), { trustedSigners: new Set([peerIdFromPrivateKey(k).toString()]) })
    expect(verified.signer).toBe(peerIdFromPrivateKey(k).toString())
  })
})
