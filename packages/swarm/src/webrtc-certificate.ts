import { randomBytes, X509Certificate } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { base64url } from 'multiformats/bases/base64'
import { sha256 } from 'multiformats/hashes/sha2'

/**
 * The WebRTC-direct listener's certificate, as @libp2p/webrtc takes it. Its
 * hash is part of the node's WebRTC-direct address (`/certhash/...`), which
 * browsers dial: a certificate made afresh at every start (libp2p's default
 * without a keychain) makes every such address stale after a restart.
 */
export interface WebRtcCertificate {
  /** PKCS #8 PEM */
  privateKey: string
  pem: string
  /** The multibase (base64url) sha2-256 multihash of the certificate's DER bytes. */
  certhash: string
}

/** The file in the data directory: the private key's PEM, then the certificate's. */
export const WEBRTC_CERTIFICATE_FILE = 'webrtc-direct.pem'
/** How long a certificate this node makes is valid. */
export const CERTIFICATE_LIFETIME_MS = 365 * 24 * 3600_000
/** A certificate with less than this left is replaced at start (its certhash changes then, and only then). */
export const CERTIFICATE_RENEW_BEFORE_MS = 30 * 24 * 3600_000

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g

/**
 * The certificate kept in `dataDir`, or a new one (ECDSA P-256, the curve
 * Chromium, Firefox and go-libp2p's Pion accept) written there when there is
 * none, it does not parse, or it is within CERTIFICATE_RENEW_BEFORE_MS of
 * expiring. `renewed` says a new one was made where one was kept.
 */
export async function loadWebRtcCertificate (dataDir: string, now = Date.now()): Promise<WebRtcCertificate & { renewed: boolean }> {
  const file = join(dataDir, WEBRTC_CERTIFICATE_FILE)
  let text: string | undefined
  try {
    text = await readFile(file, 'utf8')
  } catch (err: any) {
    if (err.code !== 'ENOENT') throw new Error(`cannot read the WebRTC-direct certificate ${file}: ${err.message}`)
  }
  if (text != null) {
    const kept = await parse(text, now)
    if (kept != null) return { ...kept, renewed: false }
  }
  const made = await makeCertificate(now)
  // written whole or not at all: a crash mid-write leaves the old file
  await writeFile(`${file}.tmp`, `${made.privateKey}\n${made.pem}\n`, { mode: 0o600 })
  await rename(`${file}.tmp`, file)
  return { ...made, renewed: text != null }
}

async function parse (text: string, now: number): Promise<WebRtcCertificate | undefined> {
  const blocks = text.match(PEM_BLOCK) ?? []
  const privateKey = blocks.find(b => b.startsWith('-----BEGIN PRIVATE KEY-----'))
  const pem = blocks.find(b => b.startsWith('-----BEGIN CERTIFICATE-----'))
  if (privateKey == null || pem == null) return undefined
  let cert: X509Certificate
  try {
    cert = new X509Certificate(pem)
  } catch {
    return undefined
  }
  if (Date.parse(cert.validTo) - now < CERTIFICATE_RENEW_BEFORE_MS) return undefined
  return { privateKey, pem, certhash: await certhashOf(cert.raw) }
}

async function makeCertificate (now: number): Promise<WebRtcCertificate> {
  // loaded only to make one (rarely): @peculiar/x509 needs the reflect-metadata polyfill first
  await import('reflect-metadata')
  const { BasicConstraintsExtension, X509CertificateGenerator } = await import('@peculiar/x509')
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  // whole seconds: X.509 times have no milliseconds
  const notBefore = new Date(Math.floor(now / 1000) * 1000)
  const notAfter = new Date(notBefore.getTime() + CERTIFICATE_LIFETIME_MS)
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=damselfly',
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new BasicConstraintsExtension(false, undefined, true)]
  }, crypto)
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  const privateKey = ['-----BEGIN PRIVATE KEY-----', ...pkcs8.toString('base64').match(/.{1,64}/g)!, '-----END PRIVATE KEY-----'].join('\n')
  return { privateKey, pem: cert.toString('pem'), certhash: await certhashOf(new Uint8Array(cert.rawData)) }
}

async function certhashOf (der: Uint8Array): Promise<string> {
  return base64url.encode((await sha256.digest(der)).bytes)
}
