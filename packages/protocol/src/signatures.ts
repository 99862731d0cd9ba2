import { createPrivateKey, createPublicKey, sign as signBytes, verify as verifyBytes } from 'node:crypto'
import { toString } from 'uint8arrays/to-string'
import type { SignatureCheck } from './signatures.browser.js'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import type { KeyObject } from 'node:crypto'

/*
 * Node's half of a pair: package.json's "browser" field swaps in
 * signatures.browser.js, so bundles for the web never see node:crypto.
 *
 * A seed signs one part per piece it pulls, and every peer checks each part
 * it receives. libp2p's Ed25519 keys build a new KeyObject from JWK for every
 * signature and every check, which cost more than the signing itself: with
 * small pieces, a tenth of a cold start's CPU. Ed25519 keys are turned into
 * KeyObjects once here; other key types go through libp2p.
 */
const privateKeyObjects = new WeakMap<PrivateKey, KeyObject>()

function ed25519Jwk (publicKey: Uint8Array, privateKey?: Uint8Array): { format: 'jwk', key: Record<string, string> } {
  const b64 = (b: Uint8Array): string => toString(b, 'base64url')
  return { format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: b64(publicKey), ...(privateKey != null ? { d: b64(privateKey) } : {}) } }
}

/** Sign data with a libp2p private key. */
export async function sign (key: PrivateKey, data: Uint8Array): Promise<Uint8Array> {
  if (key.type !== 'Ed25519') return key.sign(data)
  let obj = privateKeyObjects.get(key)
  if (obj == null) {
    // raw is the 32-byte seed followed by the 32-byte public key
    obj = createPrivateKey(ed25519Jwk(key.raw.subarray(32), key.raw.subarray(0, 32)))
    privateKeyObjects.set(key, obj)
  }
  return signBytes(null, data, obj)
}

/** The check of one signer's signatures, built once and kept by the caller. */
export function signatureCheck (key: PublicKey): SignatureCheck {
  if (key.type !== 'Ed25519') return async (data, signature) => key.verify(data, signature)
  const obj = createPublicKey(ed25519Jwk(key.raw))
  return async (data, signature) => signature.byteLength === 64 && verifyBytes(null, data, obj, signature)
}
