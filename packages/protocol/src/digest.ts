import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { BLOB_TOPIC_PREFIX } from './constants.js'
import { InvalidDigestError } from './errors.js'

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/
const RAW_CODEC = 0x55

/** A blob digest in OCI form, `sha256:<64 lowercase hex>`. */
export type BlobDigest = `sha256:${string}`

/** Validate and normalise an OCI digest; only sha256 is supported. */
export function parseDigest (input: string): BlobDigest {
  if (typeof input !== 'string' || !DIGEST_RE.test(input)) {
    throw new InvalidDigestError(`invalid digest ${JSON.stringify(String(input).slice(0, 100))}: expected sha256:<64 lowercase hex digits>`)
  }
  return input as BlobDigest
}

export function isDigest (input: unknown): input is BlobDigest {
  return typeof input === 'string' && DIGEST_RE.test(input)
}

/** The 32 raw bytes of a digest. */
export function digestBytes (digest: BlobDigest): Uint8Array {
  const hex = parseDigest(digest).slice(7)
  return fromString(hex, 'base16')
}

/** The hex part of a digest. */
export function digestHex (digest: BlobDigest): string {
  return parseDigest(digest).slice(7)
}

/** The digest of bytes already hashed with sha256. */
export function digestFromHash (hash: Uint8Array): BlobDigest {
  if (hash.byteLength !== 32) {
    throw new InvalidDigestError(`sha256 hash must be 32 bytes, got ${hash.byteLength}`)
  }
  return `sha256:${toString(hash, 'base16')}`
}

/**
 * The DHT key of a blob: a CIDv1 with the raw codec over the blob digest's
 * sha2-256 multihash. Providers of a blob are found under this key.
 */
export function blobCid (digest: BlobDigest): CID {
  return CID.createV1(RAW_CODEC, Digest.create(sha256.code, digestBytes(digest)))
}

/** The gossip topic on which holders of a blob announce the pieces they gain. */
export function blobTopic (digest: BlobDigest): string {
  return `${BLOB_TOPIC_PREFIX}${digestHex(digest)}`
}
