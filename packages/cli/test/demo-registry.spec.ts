import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateImage, layerSizes } from '../src/demo/image.js'
import { DemoRegistry } from '../src/demo/registry.js'
import { pullImage } from '../src/demo/pull.js'
import type { DemoImage } from '../src/demo/image.js'

const MiB = 1024 * 1024
const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

describe('the demo\'s image and registry', () => {
  let root: string
  let image: DemoImage
  let registry: DemoRegistry
  let host: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'damselfly-demo-registry-'))
    image = await generateImage(join(root, 'layout'), { size: 3 * MiB })
    registry = new DemoRegistry(image)
    host = await registry.listen()
  })

  afterAll(async () => {
    registry?.close()
    await rm(root, { recursive: true, force: true })
  })

  it('splits the size over five layers, base layer first, and the same seed gives the same digests', async () => {
    expect(layerSizes(16 * MiB, [8, 4, 2, 1, 1])).toEqual([8 * MiB, 4 * MiB, 2 * MiB, MiB, MiB])
    expect(layerSizes(3, [8, 4, 2, 1, 1]).every(n => n >= 1)).toBe(true)
    expect(image.layers).toHaveLength(5)
    const again = await generateImage(join(root, 'again'), { size: 3 * MiB })
    expect(again.manifest.digest).toBe(image.manifest.digest)
  })

  it('writes an OCI layout whose layers are tar archives and whose files match their digests', async () => {
    const index = JSON.parse(await readFile(join(image.dir, 'index.json'), 'utf8'))
    expect(index.manifests[0].digest).toBe(image.manifest.digest)
    for (const b of image.blobs) expect(sha256(await readFile(b.path))).toBe(b.digest)
    const { stdout } = await promisify(execFile)('tar', ['-tvf', image.layers[0]!.path])
    expect(stdout).toMatch(/opt\/demo\/layer-0\.bin/)
  })

  it('answers /v2/, manifests by tag and digest, blobs with Range, and counts what it sends', async () => {
    const base = `http://${host}/v2`
    expect((await fetch(`${base}/`)).status).toBe(200)
    const head = await fetch(`${base}/${image.name}/manifests/${image.tag}`, { method: 'HEAD' })
    expect(head.headers.get('docker-content-digest')).toBe(image.manifest.digest)
    expect(head.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(Number(head.headers.get('content-length'))).toBe(image.manifest.size)
    const byDigest = await fetch(`${base}/${image.name}/manifests/${image.manifest.digest}`)
    expect(sha256(new Uint8Array(await byDigest.arrayBuffer()))).toBe(image.manifest.digest)
    expect((await fetch(`${base}/${image.name}/manifests/v9`)).status).toBe(404)
    expect((await fetch(`${base}/other/app/manifests/${image.tag}`)).status).toBe(404)

    const layer = image.layers[1]!
    const ranged = await fetch(`${base}/${image.name}/blobs/${layer.digest}`, { headers: { range: 'bytes=100-199' } })
    expect(ranged.status).toBe(206)
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-199/${layer.size}`)
    const part = new Uint8Array(await ranged.arrayBuffer())
    expect(Buffer.from(part)).toEqual((await readFile(layer.path)).subarray(100, 200))
    expect((await fetch(`${base}/${image.name}/blobs/${layer.digest}`, { headers: { range: `bytes=${layer.size}-` } })).status).toBe(416)
    expect((await fetch(`${base}/${image.name}/blobs/sha256:${'0'.repeat(64)}`)).status).toBe(404)
    expect((await fetch(`${base}/${image.name}/blobs/${layer.digest}`, { method: 'DELETE' })).status).toBe(405)
    const counts = registry.counts()
    expect(counts.blobs[layer.digest]).toBe(100)
    expect(counts.manifestBytes).toBe(image.manifest.size)
  })

  it('pulls as containerd does, verifying every blob', async () => {
    const before = registry.counts().blobBytes
    // the registry itself stands in for a mirror: it ignores ?ns=
    const result = await pullImage({ mirror: host, registry: host, name: image.name, tag: image.tag, signal: AbortSignal.timeout(10_000) })
    expect(result.manifestDigest).toBe(image.manifest.digest)
    expect(result.bytes).toBe(image.totalBytes)
    expect(result.blobs.map(b => b.digest).sort()).toEqual(image.blobs.map(b => b.digest).sort())
    expect(registry.counts().blobBytes - before).toBe(image.totalBytes)
  })
})
