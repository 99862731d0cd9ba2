import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from './helpers/cluster.js'
import { buildImage, selfSignedCert, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'

describe('a registry on HTTPS with its own CA', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let image: BuiltImage
  let trusting: DaemonProcess
  let plain: DaemonProcess

  beforeAll(async () => {
    const root = await cluster.root()
    const cert = await selfSignedCert(join(root, 'tls'))
    registry = await startRegistry({ tls: cert })
    image = await buildImage(join(root, 'image'), { layers: [2 * MiB], seed: 'tls' })
    await registry.push(image.dir, 'demo/app:v1')
    // one seed trusts the registry's CA; the other node knows only the system's CAs. Both may
    // reach the registry: it is not among their configured ones, so its API is allowed by pattern
    const allowed = ['--allow-origin', `https://${registry.host}`]
    trusting = await cluster.start('trusting', ['--seed', '--registry-ca', cert.certPath, ...allowed])
    plain = await cluster.start('plain', allowed)
  }, 60_000)

  afterAll(async () => {
    await cluster.stop()
    await registry?.close()
  })

  it('is reached over HTTPS by a daemon given --registry-ca', async () => {
    const manifest = await fetch(`http://${trusting.mirror!}/v2/demo/app/manifests/v1?ns=${registry.host}`, { headers: { accept: ACCEPT } })
    expect(manifest.status).toBe(200)
    expect(manifest.headers.get('docker-content-digest')).toBe(image.manifest.digest)
    const layer = image.layers[0]!
    const blob = await fetch(`http://${trusting.mirror!}/v2/demo/app/blobs/${layer.digest}?ns=${registry.host}`)
    expect(blob.status).toBe(200)
    expect(`sha256:${createHash('sha256').update(Buffer.from(await blob.arrayBuffer())).digest('hex')}`).toBe(layer.digest)
    // it came from the registry, over HTTPS, exactly once (the log line lands just after the body)
    expect(await registry.waitFor(() => registry.blobGets(layer.digest) === 1)).toBe(true)
    expect(registry.blobGets(layer.digest)).toBe(1)
  }, 60_000)

  it('is refused, with a clear OCI error, by a daemon that does not trust its certificate', async () => {
    const res = await fetch(`http://${plain.mirror!}/v2/demo/app/manifests/v1?ns=${registry.host}`, { headers: { accept: ACCEPT } })
    expect(res.status).toBe(502)
    const body = await res.json() as { errors: Array<{ code: string, message: string }> }
    expect(body.errors[0]!.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(body.errors[0]!.message).toMatch(/certificate/i)
  }, 60_000)
})
