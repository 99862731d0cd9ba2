import { generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from 'uint8arrays/concat'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { describe, it, expect } from 'vitest'
import * as P from '../src/index.js'
import type { BlobDigest, ManifestPart } from '../src/index.js'
import type { Uint8ArrayList } from 'uint8arraylist'
import vectorsJson from '../../../interop/vectors/vectors.json' with { type: 'json' }

/**
 * interop/vectors/vectors.json is what other implementations test against;
 * these tests keep it and the code from drifting apart. If one fails after a
 * deliberate change, regenerate with interop/vectors/generate.mjs. Imported,
 * not read from disk, so the browser run checks them too.
 */
const vectors: any = vectorsJson

const BYTES_FIELDS = new Set(['hashes', 'signer', 'signature', 'bits', 'data', 'addrs'])
const U64_FIELDS = new Set(['size', 'upload_bps', 'start', 'length'])

function hex (b: Uint8Array | Uint8ArrayList): string {
  return toString(b.subarray(), 'base16')
}

function fromHex (s: string): Uint8Array {
  return fromString(s, 'base16')
}

/** JS message -> the vectors' JSON: proto field names, bytes as hex, uint64 fields as decimal strings. */
function toJson (v: unknown, key = ''): unknown {
  if (v instanceof Uint8Array) return hex(v)
  if (typeof v === 'bigint' || (typeof v === 'number' && U64_FIELDS.has(key))) return v.toString()
  if (Array.isArray(v)) return v.map(x => toJson(x, key))
  if (v != null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => {
      const name = k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`)
      return [name, toJson(x, name)]
    }))
  }
  return v
}

function fromJson (v: unknown, key = ''): any {
  if (Array.isArray(v)) return v.map(x => fromJson(x, key))
  if (typeof v === 'string' && BYTES_FIELDS.has(key)) return fromHex(v)
  if (typeof v === 'string' && U64_FIELDS.has(key)) return Number(v)
  if (v != null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), fromJson(x, k)]))
  }
  return v
}

const CODECS: Record<string, { encode(v: unknown): Uint8Array, decode(b: Uint8Array): unknown, maxFrame?: number }> = {
  PieceMessage: {
    encode: (v) => {
      const [type, body] = Object.entries(fromJson(v))[0]!
      return P.encodePieceFrame({ type, [type]: body } as any)
    },
    decode: (b) => {
      const f: any = P.decodePieceFrame(b)
      return { [f.type]: f[f.type] }
    },
    maxFrame: P.MAX_PIECE_FRAME
  },
  SeedRequest: { encode: (v) => P.encodeSeedRequest(fromJson(v)), decode: P.decodeSeedRequest, maxFrame: P.MAX_SEED_FRAME },
  SeedResponse: { encode: (v) => P.encodeSeedResponse(fromJson(v)), decode: P.decodeSeedResponse, maxFrame: P.MAX_SEED_FRAME },
  Announce: { encode: (v) => P.encodeAnnounce(fromJson(v)), decode: P.decodeAnnounce },
  Beacon: { encode: (v) => P.encodeBeacon(fromJson(v)), decode: P.decodeBeacon },
  AccessQuery: { encode: (v) => P.encodeAccessQuery(fromJson(v)), decode: P.decodeAccessQuery, maxFrame: P.MAX_ACCESS_FRAME },
  AccessAnswer: { encode: (v) => P.encodeAccessAnswer(fromJson(v)), decode: P.decodeAccessAnswer, maxFrame: P.MAX_ACCESS_FRAME }
}

interface MessageVector { name: string, type: string, protocol?: string, topic?: string, value: unknown, payload: string, frame?: string }

describe('interop vectors', () => {
  it('state the constants of the code', () => {
    for (const [name, value] of Object.entries(vectors.constants)) {
      const actual = (P as Record<string, unknown>)[name]
      expect(typeof actual === 'bigint' ? actual.toString() : actual, name).toBe(value)
    }
  })

  it('cover every message type', () => {
    const messages: MessageVector[] = vectors.messages
    const pieceTypes = new Set(messages.filter(m => m.type === 'PieceMessage').map(m => Object.keys(m.value as object)[0]))
    expect([...pieceTypes].sort()).toEqual(['bitfield', 'cancel', 'choke', 'data', 'error', 'have', 'manifest', 'open', 'request'])
    expect(new Set(messages.map(m => m.type))).toEqual(new Set(Object.keys(CODECS)))
  })

  describe.each((vectors.messages as MessageVector[]).map(m => [m.name, m] as const))('message %s', (_name, m) => {
    const codec = CODECS[m.type]!

    it('encodes to the checked-in bytes', () => {
      const payload = codec.encode(m.value)
      expect(hex(payload)).toBe(m.payload)
      if (m.frame != null) expect(hex(P.encodeFrame(payload))).toBe(m.frame)
    })

    it('decodes from the checked-in bytes', () => {
      let payload = fromHex(m.payload)
      if (m.frame != null) {
        const frames = [...new P.FrameDecoder(codec.maxFrame!).push(fromHex(m.frame))]
        expect(frames).toHaveLength(1)
        payload = frames[0]!.subarray()
      }
      expect(toJson(codec.decode(payload))).toEqual(m.value)
    })

    it('travels where the contract says', () => {
      if (m.type === 'Announce') expect(m.topic).toBe(P.blobTopic((m.value as any).digest))
      if (m.type === 'Beacon') expect(m.topic).toBe(P.BEACON_TOPIC)
      if (m.type === 'PieceMessage') expect(m.protocol).toBe(P.PIECE_PROTOCOL)
      if (m.type.startsWith('Seed')) expect(m.protocol).toBe(P.SEED_PROTOCOL)
      if (m.type.startsWith('Access')) expect(m.protocol).toBe(P.ACCESS_PROTOCOL)
    })
  })

  it('follow the piece size rule', () => {
    expect(vectors.piece_sizes.length).toBeGreaterThan(10)
    for (const v of vectors.piece_sizes) {
      const size = BigInt(v.size)
      expect(P.pieceSizeFor(size), v.size).toBe(v.piece_size)
      expect(P.pieceCount(size, v.piece_size), v.size).toBe(v.pieces)
      if (v.pieces > 0) expect(Number(size - BigInt(v.pieces - 1) * BigInt(v.piece_size))).toBe(v.last_piece_length)
    }
  })

  it('give each blob its DHT key and topic', () => {
    for (const v of vectors.blobs) {
      const cid = P.blobCid(v.digest)
      expect(cid.toString()).toBe(v.cid)
      expect(hex(cid.multihash.bytes)).toBe(v.multihash)
      expect(v.multihash).toBe('1220' + P.digestHex(v.digest))
      expect(P.blobTopic(v.digest)).toBe(v.topic)
    }
  })

  it('rank seeds the same way', () => {
    for (const v of vectors.rank_seeds) {
      expect(P.rankSeeds(v.digest, v.seeds)).toEqual(v.ranked)
      expect(P.rankSeeds(v.digest, [...v.seeds].reverse())).toEqual(v.ranked)
      for (const seed of v.seeds) {
        expect(hex(sha256(concat([P.digestBytes(v.digest), fromString(seed)])))).toBe(v.scores[seed])
      }
      const byScore = [...v.seeds].sort((a: string, b: string) => v.scores[b] > v.scores[a] ? 1 : -1)
      expect(byScore).toEqual(v.ranked)
    }
  })

  it('describe the example blob correctly', () => {
    const b = vectors.example_blob
    const content = Uint8Array.from({ length: Number(b.size) }, (_, i) => i % 251)
    expect(P.digestFromHash(sha256(content))).toBe(b.digest)
    expect(P.layoutFor(BigInt(b.size))).toEqual({ size: Number(b.size), pieceSize: b.piece_size, pieces: b.pieces })
    const hashes = Array.from({ length: b.pieces }, (_, i) => {
      const { offset, length } = P.pieceRange(Number(b.size), b.piece_size, i)
      return hex(sha256(content.subarray(offset, offset + length)))
    })
    expect(hashes).toEqual(b.piece_hashes)
  })

  it('sign manifest parts with the fixed key', async () => {
    const m = vectors.manifest
    const key = await generateKeyPairFromSeed('Ed25519', fromHex(m.key_seed))
    expect(hex(publicKeyToProtobuf(key.publicKey))).toBe(m.signer_public_key)
    expect(peerIdFromPrivateKey(key).toString()).toBe(m.signer_peer_id)
    expect(m.parts).toHaveLength(2)

    for (const v of m.parts) {
      const part: ManifestPart = fromJson(v.part)
      const body = { digest: part.digest as BlobDigest, size: Number(part.size), pieceSize: part.pieceSize, first: part.first, hashes: part.hashes }
      expect(hex(P.manifestSigningBytes(body))).toBe(v.signing_bytes)
      expect(hex(part.signer)).toBe(m.signer_public_key)
      expect(hex(part.signature)).toBe(v.signature)
      expect(toJson(await P.signManifestPart(body, key))).toEqual(v.part)
      const verified = await P.verifyManifestPart(part, { trustedSigners: new Set([m.signer_peer_id]), digest: vectors.example_blob.digest })
      expect(verified.signer).toBe(m.signer_peer_id)
      expect(part.hashes.map(h => hex(h))).toEqual(vectors.example_blob.piece_hashes.slice(part.first, part.first + part.hashes.length))
    }
  })

  it('use plain RFC 8032 Ed25519 over the signing bytes', async () => {
    const m = vectors.manifest
    // PKCS#8 wrapping of a raw Ed25519 seed, so the platform's WebCrypto signs without libp2p
    const pkcs8 = fromHex('302e020100300506032b657004220420' + m.key_seed)
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign'])
    for (const v of m.parts) {
      expect(hex(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, fromHex(v.signing_bytes))))).toBe(v.signature)
    }
  })
})
