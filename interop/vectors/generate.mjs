// Writes interop/vectors/vectors.json: encoded examples of the Damselfly wire
// contract for implementations in other languages.
//
//   npx tsc -b packages/protocol && npx node interop/vectors/generate.mjs
//
// Everything here is deterministic (Ed25519 signatures included), so running
// it again must not change the file; packages/protocol/test/vectors.spec.ts
// checks the checked-in file against the code.

import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as P from '../../packages/protocol/dist/index.js'

const OUT = new URL('./vectors.json', import.meta.url)

const BYTES_FIELDS = new Set(['hashes', 'signer', 'signature', 'bits', 'data', 'addrs'])
const U64_FIELDS = new Set(['size', 'upload_bps', 'start', 'length'])

const hex = (b) => Buffer.from(b instanceof Uint8Array ? b : b.subarray()).toString('hex')
const fromHex = (s) => Uint8Array.from(Buffer.from(s, 'hex'))
const sha256 = (b) => Uint8Array.from(createHash('sha256').update(b).digest())
const snake = (k) => k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`)
const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

/** JS message object -> JSON: proto field names, bytes as hex, uint64 as decimal strings. */
function toJson (v, key) {
  if (v instanceof Uint8Array) return hex(v)
  if (typeof v === 'bigint' || (typeof v === 'number' && U64_FIELDS.has(key))) return v.toString()
  if (Array.isArray(v)) return v.map(x => toJson(x, key))
  if (v != null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [snake(k), toJson(x, snake(k))]))
  }
  return v
}

/** The inverse of toJson. */
function fromJson (v, key) {
  if (Array.isArray(v)) return v.map(x => fromJson(x, key))
  if (typeof v === 'string' && BYTES_FIELDS.has(key)) return fromHex(v)
  if (typeof v === 'string' && U64_FIELDS.has(key)) return Number(v)
  if (v != null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), fromJson(x, k)]))
  }
  return v
}

const CODECS = {
  PieceMessage: {
    encode: (v) => {
      const [type, body] = Object.entries(fromJson(v))[0]
      return P.encodePieceFrame({ type, [type]: body })
    },
    decode: (b) => {
      const f = P.decodePieceFrame(b)
      return { [f.type]: f[f.type] }
    }
  },
  SeedRequest: { encode: (v) => P.encodeSeedRequest(fromJson(v)), decode: P.decodeSeedRequest },
  SeedResponse: { encode: (v) => P.encodeSeedResponse(fromJson(v)), decode: P.decodeSeedResponse },
  Announce: { encode: (v) => P.encodeAnnounce(fromJson(v)), decode: P.decodeAnnounce },
  Beacon: { encode: (v) => P.encodeBeacon(fromJson(v)), decode: P.decodeBeacon },
  AccessQuery: { encode: (v) => P.encodeAccessQuery(fromJson(v)), decode: P.decodeAccessQuery },
  AccessAnswer: { encode: (v) => P.encodeAccessAnswer(fromJson(v)), decode: P.decodeAccessAnswer }
}

// The example blob: byte i is i mod 251; 3 pieces of 1 MiB, the last one short.
const BLOB_SIZE = 2 * 1024 * 1024 + 512 * 1024 + 3
const blob = Uint8Array.from({ length: BLOB_SIZE }, (_, i) => i % 251)
const DIGEST = P.digestFromHash(sha256(blob))
const LAYOUT = P.layoutFor(BLOB_SIZE)
const pieceHashes = Array.from({ length: LAYOUT.pieces }, (_, i) => {
  const { offset, length } = P.pieceRange(BLOB_SIZE, LAYOUT.pieceSize, i)
  return sha256(blob.subarray(offset, offset + length))
})
const EMPTY_DIGEST = P.digestFromHash(sha256(new Uint8Array()))
const HELLO_DIGEST = P.digestFromHash(sha256(new TextEncoder().encode('hello world')))

// The signer: Ed25519 from the fixed seed 00 01 02 ... 1f.
const KEY_SEED = Uint8Array.from({ length: 32 }, (_, i) => i)
const key = await generateKeyPairFromSeed('Ed25519', KEY_SEED)

async function manifestVector (first, count) {
  const body = { digest: DIGEST, size: BLOB_SIZE, pieceSize: LAYOUT.pieceSize, first, hashes: pieceHashes.slice(first, first + count) }
  const part = await P.signManifestPart(body, key)
  await P.verifyManifestPart(part, { trustedSigners: new Set([peerIdFromPrivateKey(key).toString()]) })
  return {
    part: toJson(part),
    signing_bytes: hex(P.manifestSigningBytes(body)),
    signature: hex(part.signature)
  }
}

const fullPart = await manifestVector(0, LAYOUT.pieces)
const lastPiecePart = await manifestVector(LAYOUT.pieces - 1, 1)

const ADDR_10_0_0_2 = '040a000002060fa1' // /ip4/10.0.0.2/tcp/4001
const lastChunkOffset = 2 * P.MAX_CHUNK_SIZE
const lastPiece = P.pieceRange(BLOB_SIZE, LAYOUT.pieceSize, LAYOUT.pieces - 1)

const messageExamples = [
  ['open', 'PieceMessage', { open: { digest: DIGEST, want_manifest: true } }],
  ['manifest', 'PieceMessage', { manifest: [fullPart.part] }],
  ['manifest (one-piece part, as a seed sends while it pulls)', 'PieceMessage', { manifest: [lastPiecePart.part] }],
  ['bitfield', 'PieceMessage', { bitfield: { pieces: 3, bits: 'a0' } }],
  ['bitfield (empty blob)', 'PieceMessage', { bitfield: { pieces: 0, bits: '' } }],
  ['have', 'PieceMessage', { have: { pieces: [1] } }],
  ['have (several, unpacked)', 'PieceMessage', { have: { pieces: [0, 300, 65535] } }],
  ['request (piece 0: an empty Request is still present)', 'PieceMessage', { request: { piece: 0 } }],
  ['request', 'PieceMessage', { request: { piece: 2 } }],
  ['cancel', 'PieceMessage', { cancel: { piece: 2 } }],
  ['data (last chunk of the last piece)', 'PieceMessage', {
    data: { piece: 2, offset: lastChunkOffset, data: hex(blob.subarray(lastPiece.offset + lastChunkOffset)), last: true }
  }],
  ['data (first chunk, 8 bytes shown)', 'PieceMessage', { data: { piece: 0, offset: 0, data: hex(blob.subarray(0, 8)), last: false } }],
  ['choke', 'PieceMessage', { choke: { retry_after_ms: 2000 } }],
  ['error NOT_FOUND', 'PieceMessage', { error: { code: 'NOT_FOUND', message: 'blob not found' } }],
  ['error UNKNOWN with no message', 'PieceMessage', { error: { code: 'UNKNOWN', message: '' } }],
  ['seed request', 'SeedRequest', { digest: DIGEST, url: `https://registry.example/v2/library/demo/blobs/${DIGEST}`, size: String(BLOB_SIZE), ranges: [] }],
  ['seed request (size unknown)', 'SeedRequest', { digest: DIGEST, url: `http://10.0.0.9:5000/v2/demo/blobs/${DIGEST}`, size: '0', ranges: [] }],
  ['seed request (ranges: the pieces covering them first)', 'SeedRequest', { digest: DIGEST, url: `http://10.0.0.9:5000/v2/demo/blobs/${DIGEST}`, size: '0', ranges: [{ start: '0', length: '17' }, { start: '3000000000', length: '1048576' }] }],
  ['seed response (accepted)', 'SeedResponse', { accepted: true, size: String(BLOB_SIZE), piece_size: LAYOUT.pieceSize }],
  // sizes in [2^31, 2^32) are where a 32-bit slip in a varint writer shows (protons-runtime 7.1.2 had one)
  ['seed response (3 GB blob)', 'SeedResponse', { accepted: true, size: '3000000000', piece_size: P.pieceSizeFor(3_000_000_000) }],
  ['seed request (2 GiB blob)', 'SeedRequest', { digest: DIGEST, url: `https://registry.example/v2/library/demo/blobs/${DIGEST}`, size: String(2 ** 31), ranges: [] }],
  ['seed response (refused)', 'SeedResponse', { accepted: false, size: '0', piece_size: 0, error: { code: 'ORIGIN', message: 'upstream returned 404' } }],
  ['seed response (the origin answered 404)', 'SeedResponse', { accepted: false, size: '0', piece_size: 0, error: { code: 'ORIGIN', message: 'the origin answered 404', status: 404 } }],
  ['seed response (an origin the seed does not fetch from)', 'SeedResponse', { accepted: false, size: '0', piece_size: 0, error: { code: 'BAD_REQUEST', message: 'this seed does not fetch from that origin' } }],
  ['announce', 'Announce', { digest: DIGEST, pieces: 3, have: [0, 2], complete: false, addrs: [ADDR_10_0_0_2], withdrawn: false }],
  ['announce (complete)', 'Announce', { digest: DIGEST, pieces: 3, have: [1], complete: true, addrs: [ADDR_10_0_0_2], withdrawn: false }],
  ['announce (withdrawn: the blob was collected)', 'Announce', { digest: DIGEST, pieces: 3, have: [], complete: false, addrs: [ADDR_10_0_0_2], withdrawn: true }],
  ['access query (a blob)', 'AccessQuery', { registry: 'docker.io', repository: 'library/nginx', digest: DIGEST, kind: 'BLOB' }],
  ['access query (a manifest, a registry with a port)', 'AccessQuery', { registry: 'registry.local:5000', repository: 'team/app', digest: DIGEST, kind: 'MANIFEST' }],
  ['access answer (public)', 'AccessAnswer', { public: true }],
  ['access answer (not known to be public: an empty message)', 'AccessAnswer', { public: false }],
  ['beacon', 'Beacon', { upload_bps: '125000000', active_uploads: 3, free_upload_slots: 5, seed: true, addrs: [ADDR_10_0_0_2] }]
]

const WHERE = {
  PieceMessage: { protocol: P.PIECE_PROTOCOL },
  SeedRequest: { protocol: P.SEED_PROTOCOL },
  SeedResponse: { protocol: P.SEED_PROTOCOL },
  Announce: { topic: P.blobTopic(DIGEST) },
  Beacon: { topic: P.BEACON_TOPIC },
  AccessQuery: { protocol: P.ACCESS_PROTOCOL },
  AccessAnswer: { protocol: P.ACCESS_PROTOCOL }
}

/** JSON with object keys sorted, so field order does not count. */
const canonical = v => JSON.stringify(v, (_k, x) => x != null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x)

const messages = messageExamples.map(([name, type, value]) => {
  const payload = CODECS[type].encode(value)
  const decoded = toJson(CODECS[type].decode(payload))
  if (canonical(decoded) !== canonical(toJson(value))) {
    throw new Error(`${name}: decodes to ${JSON.stringify(decoded)}, not ${JSON.stringify(value)}`)
  }
  const framed = 'protocol' in WHERE[type]
  return {
    name,
    type,
    ...WHERE[type],
    value,
    payload: hex(payload),
    ...(framed ? { frame: hex(P.encodeFrame(payload)) } : {})
  }
})

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const pieceSizes = [0, 1, MiB, MiB + 1, BLOB_SIZE, 512 * MiB, 512 * MiB + 1, GiB, GiB + 1, 2 * GiB, 2 * GiB + 1, 3_000_000_000, 32 * GiB, 32 * GiB + 1, 128 * GiB + 1, 1024 * GiB]
  .map(BigInt)
  .concat([P.MAX_BLOB_SIZE])
  .map(size => {
    const pieceSize = P.pieceSizeFor(size)
    const pieces = P.pieceCount(size, pieceSize)
    const last = pieces === 0 ? 0 : Number(size - BigInt(pieces - 1) * BigInt(pieceSize))
    return { size: size.toString(), piece_size: pieceSize, pieces, last_piece_length: last }
  })

const blobs = [EMPTY_DIGEST, HELLO_DIGEST, DIGEST].map(digest => ({
  digest,
  multihash: hex(P.blobCid(digest).multihash.bytes),
  cid: P.blobCid(digest).toString(),
  topic: P.blobTopic(digest)
}))

const seedPeers = await Promise.all([1, 2, 3].map(async n => peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(n))).toString()))
const rankSeeds = [EMPTY_DIGEST, HELLO_DIGEST, DIGEST].map(digest => ({
  digest,
  seeds: seedPeers,
  scores: Object.fromEntries(seedPeers.map(s => [s, createHash('sha256').update(P.digestBytes(digest)).update(s, 'utf8').digest('hex')])),
  ranked: P.rankSeeds(digest, seedPeers)
}))

const vectors = {
  about: 'Damselfly wire contract test vectors, generated by interop/vectors/generate.mjs; docs/protocol.md is normative.',
  conventions: {
    field_names: 'protobuf field names of packages/protocol/src/pb/messages.proto',
    bytes: 'lowercase hex',
    uint64: 'decimal string',
    enum: 'value name (Error.Code: UNKNOWN=0 NOT_FOUND=1 BAD_REQUEST=2 BUSY=3 INTERNAL=4 ORIGIN=5 CANCELLED=6; AccessQuery.Kind: BLOB=0 MANIFEST=1)',
    payload: 'the protobuf encoding; for gossip messages this is the gossipsub message data',
    frame: 'unsigned LEB128 varint of the payload length, then the payload (stream protocols only)',
    defaults: 'proto3 fields at their default value are omitted from the encoding; an unset PieceMessage field is absent, a set but empty one is encoded as a zero-length message'
  },
  constants: {
    PIECE_PROTOCOL: P.PIECE_PROTOCOL,
    SEED_PROTOCOL: P.SEED_PROTOCOL,
    ACCESS_PROTOCOL: P.ACCESS_PROTOCOL,
    KAD_PROTOCOL: P.KAD_PROTOCOL,
    BEACON_TOPIC: P.BEACON_TOPIC,
    BLOB_TOPIC_PREFIX: P.BLOB_TOPIC_PREFIX,
    MIN_PIECE_SIZE: P.MIN_PIECE_SIZE,
    MAX_PIECE_SIZE: P.MAX_PIECE_SIZE,
    TARGET_PIECES: P.TARGET_PIECES,
    MAX_PIECES: P.MAX_PIECES,
    MAX_BLOB_SIZE: P.MAX_BLOB_SIZE.toString(),
    MAX_CHUNK_SIZE: P.MAX_CHUNK_SIZE,
    MAX_PIECE_FRAME: P.MAX_PIECE_FRAME,
    MAX_SEED_FRAME: P.MAX_SEED_FRAME,
    MAX_ACCESS_FRAME: P.MAX_ACCESS_FRAME,
    MAX_GOSSIP_MESSAGE: P.MAX_GOSSIP_MESSAGE,
    MAX_PARTS_PER_FRAME: P.MAX_PARTS_PER_FRAME,
    MAX_HAVE_BATCH: P.MAX_HAVE_BATCH,
    MAX_ADDRS: P.MAX_ADDRS,
    MAX_URL_LENGTH: P.MAX_URL_LENGTH,
    MANIFEST_SIGNATURE_DOMAIN: P.MANIFEST_SIGNATURE_DOMAIN
  },
  example_blob: {
    description: `${BLOB_SIZE} bytes; byte i is i mod 251`,
    size: String(BLOB_SIZE),
    digest: DIGEST,
    piece_size: LAYOUT.pieceSize,
    pieces: LAYOUT.pieces,
    piece_hashes: pieceHashes.map(hex)
  },
  messages,
  piece_sizes: pieceSizes,
  blobs,
  rank_seeds: rankSeeds,
  manifest: {
    key_type: 'Ed25519',
    key_seed: hex(KEY_SEED),
    signer_public_key: hex(publicKeyToProtobuf(key.publicKey)),
    signer_peer_id: peerIdFromPrivateKey(key).toString(),
    parts: [fullPart, lastPiecePart]
  }
}

writeFileSync(OUT, JSON.stringify(vectors, null, 2) + '\n')
console.log(`wrote ${messages.length} messages, ${pieceSizes.length} piece sizes, ${blobs.length} blobs, ${rankSeeds.length} seed rankings, ${vectors.manifest.parts.length} manifest parts to ${OUT.pathname}`)
