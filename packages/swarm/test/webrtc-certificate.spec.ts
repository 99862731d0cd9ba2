import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CERTIFICATE_LIFETIME_MS, CERTIFICATE_RENEW_BEFORE_MS, loadWebRtcCertificate, WEBRTC_CERTIFICATE_FILE } from '../src/webrtc-certificate.js'

const DAY = 24 * 3600_000

describe('the WebRTC-direct certificate', () => {
  let dir: string

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'damselfly-cert-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('is made once, kept in the data directory, and the same (certhash and all) at the next start', async () => {
    const first = await loadWebRtcCertificate(dir)
    expect(first.renewed).toBe(false)
    expect(first.certhash).toMatch(/^u[\w-]{40,}$/)
    const cert = new X509Certificate(first.pem)
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(cert.checkPrivateKey(createPrivateKey(first.privateKey))).toBe(true)
    const again = await loadWebRtcCertificate(dir)
    expect(again).toEqual(first)
    expect((await stat(join(dir, WEBRTC_CERTIFICATE_FILE))).mode & 0o777).toBe(0o600)
  })

  it('is replaced when it is near its end, and then only', async () => {
    const now = Date.now()
    const first = await loadWebRtcCertificate(dir, now)
    const endsAt = now + CERTIFICATE_LIFETIME_MS
    expect((await loadWebRtcCertificate(dir, endsAt - CERTIFICATE_RENEW_BEFORE_MS - DAY)).certhash).toBe(first.certhash)
    const renewed = await loadWebRtcCertificate(dir, endsAt - CERTIFICATE_RENEW_BEFORE_MS + DAY)
    expect(renewed.renewed).toBe(true)
    expect(renewed.certhash).not.toBe(first.certhash)
  })

  it('is made anew when the file is not a certificate, rather than stopping the node', async () => {
    await writeFile(join(dir, WEBRTC_CERTIFICATE_FILE), 'garbage\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
    const made = await loadWebRtcCertificate(dir)
    expect(made.renewed).toBe(true)
    expect(await readFile(join(dir, WEBRTC_CERTIFICATE_FILE), 'utf8')).toContain(made.pem)
  })
})
