import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { toString } from 'uint8arrays/to-string'
import { MANIFEST_SIGNATURE_DOMAIN, MAX_PIECES } from './constants.js'
import { digestBytes, isDigest } from './digest.js'
import { InvalidManifestError, UntrustedSignerError } from './errors.js'
import { layoutFor } from './pieces.js'
import { sign, signatureCheck } from './signatures.js'
import type { BlobDigest } from './digest.js'
import type { ManifestPart } from './pb/messages.js'
import type { PrivateKey } from '@libp2p/interface'

/** The unsigned content of a manifest part. */
export interface ManifestPartBody {
  digest: BlobDigest
  size: number
  pieceSize: number
  first: number
  hashes: Uint8Array[]
}

/** A manifest part whose signature has been checked. */
export interface VerifiedManifestPart extends ManifestPartBody {
  /** Peer id (string) of the signer. */
  signer: string
  /** The part as received, to forward unchanged. */
  part: ManifestPart
}

/**
 * The bytes a signer signs: the domain string, then digest (32 raw bytes),
 * size (u64 BE), piece size (u32 BE), first (u32 BE), hash count (u32 BE),
 * then each 32-byte hash. A fixed layout, so every language signs the same bytes.
 */
export function manifestSigningBytes (body: ManifestPartBody): Uint8Array {
  const domain = new TextEncoder().encode(MANIFEST_SIGNATURE_DOMAIN)
  const out = new Uint8Array(domain.byteLength + 32 + 8 + 4 + 4 + 4 + body.hashes.length * 32)
  const view = new DataView(out.buffer)
  let o = 0
  out.set(domain, o); o += domain.byteLength
  out.set(digestBytes(body.digest), o); o += 32
  view.setBigUint64(o, BigInt(body.size)); o += 8
  view.setUint32(o, body.pieceSize); o += 4
  view.setUint32(o, body.first); o += 4
  view.setUint32(o, body.hashes.length); o += 4
  for (const h of body.hashes) {
    out.set(h, o); o += 32
  }
  return out
}

function checkBody (body: ManifestPartBody): void {
  if (!isDigest(body.digest)) {
    throw new InvalidManifestError('manifest part has an invalid digest')
  }
  let layout
  try {
    layout = layoutFor(body.size, body.pieceSize)
  } catch (err: any) {
    throw new InvalidManifestError(`manifest part has an invalid layout: ${err.message}`)
  }
  if (body.hashes.length === 0 && layout.pieces > 0) {
    throw new InvalidManifestError('manifest part covers no pieces')
  }
  if (body.hashes.length > MAX_PIECES || body.first + body.hashes.length > layout.pieces) {
    throw new InvalidManifestError(`manifest part covers pieces ${body.first}..${body.first + body.hashes.length - 1} of a ${layout.pieces}-piece blob`)
  }
  for (const h of body.hashes) {
    if (h.byteLength !== 32) {
      throw new InvalidManifestError('manifest part holds a piece hash that is not 32 bytes')
    }
  }
}

interface Signer {
  peerId: string
  verify(data: Uint8Array, signature: Uint8Array): Promise<boolean>
}

/** Signers seen lately, by their protobuf-encoded public key (hex). */
const signers = new Map<string, Signer>()
const MAX_CACHED_SIGNERS = 256

function signerOf (encoded: Uint8Array): Signer {
  const id = toString(encoded, 'base16')
  let signer = signers.get(id)
  if (signer != null) return signer
  const key = publicKeyFromProtobuf(encoded)
  signer = { peerId: peerIdFromPublicKey(key).toString(), verify: signatureCheck(key) }
  if (signers.size >= MAX_CACHED_SIGNERS) signers.clear()
  signers.set(id, signer)
  return signer
}

/** Sign a manifest part with a libp2p private key. */
export async function signManifestPart (body: ManifestPartBody, key: PrivateKey): Promise<ManifestPart> {
  checkBody(body)
  const signature = await sign(key, manifestSigningBytes(body))
  return {
    digest: body.digest,
    size: body.size,
    pieceSize: body.pieceSize,
    first: body.first,
    hashes: body.hashes.map(h => Uint8Array.from(h)),
    signer: Uint8Array.from(publicKeyToProtobuf(key.publicKey)),
    signature: Uint8Array.from(signature)
  }
}

export interface VerifyManifestOptions {
  /** Peer ids whose signatures are accepted; undefined accepts any signer. */
  trustedSigners?: ReadonlySet<string>
  /** The digest the part must describe. */
  digest?: BlobDigest
}

/** Check a received manifest part: shape, layout, signer trust and signature. */
export async function verifyManifestPart (part: ManifestPart, options: VerifyManifestOptions = {}): Promise<VerifiedManifestPart> {
  if (!Number.isSafeInteger(part.size) || part.size < 0) {
    throw new InvalidManifestError('manifest part size is too large')
  }
  const body: ManifestPartBody = {
    digest: part.digest as BlobDigest,
    size: part.size,
    pieceSize: part.pieceSize,
    first: part.first,
    hashes: part.hashes
  }
  checkBody(body)
  if (options.digest != null && body.digest !== options.digest) {
    throw new InvalidManifestError(`manifest part is for ${body.digest}, expected ${options.digest}`)
  }
  let signer: string
  let ok: boolean
  try {
    const known = signerOf(part.signer)
    signer = known.peerId
    ok = await known.verify(manifestSigningBytes(body), part.signature)
  } catch (err: any) {
    throw new InvalidManifestError(`manifest part signature could not be checked: ${err.message}`)
  }
  if (!ok) {
    throw new InvalidManifestError(`manifest part signature by ${signer} is invalid`)
  }
  if (options.trustedSigners != null && !options.trustedSigners.has(signer)) {
    throw new UntrustedSignerError(`manifest part is signed by ${signer}, who is not a trusted seed`)
  }
  return { ...body, signer, part }
}
