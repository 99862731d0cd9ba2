import type { PrivateKey, PublicKey } from '@libp2p/interface'

/*
 * The web's half of a pair (signatures.ts is Node's, chosen by package.json's
 * "browser" field): libp2p's keys sign and verify through WebCrypto or
 * @noble/curves, nothing to cache.
 */

/** Whether a signature over data is valid. */
export type SignatureCheck = (data: Uint8Array, signature: Uint8Array) => Promise<boolean>

/** Sign data with a libp2p private key. */
export async function sign (key: PrivateKey, data: Uint8Array): Promise<Uint8Array> {
  return key.sign(data)
}

/** The check of one signer's signatures, built once and kept by the caller. */
export function signatureCheck (key: PublicKey): SignatureCheck {
  // as Node's check does, so both answer a malformed signature alike
  if (key.type === 'Ed25519') return async (data, signature) => signature.byteLength === 64 && key.verify(data, signature)
  return async (data, signature) => key.verify(data, signature)
}
