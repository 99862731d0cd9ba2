import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, open, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar'

export interface ImageBlob {
  digest: string
  size: number
  mediaType: string
  /** 'config' or 'layer N' */
  role: string
  /** The blob's file in the layout. */
  path: string
}

/** An image in an OCI image layout: one manifest, a config and uncompressed tar layers. */
export interface DemoImage {
  /** The layout directory. */
  dir: string
  /** Repository name, e.g. 'demo/app'. */
  name: string
  tag: string
  manifest: { digest: string, size: number, mediaType: string, bytes: Buffer }
  config: ImageBlob
  layers: ImageBlob[]
  /** Config and layers, as a pull GETs them. */
  blobs: ImageBlob[]
  /** Bytes of config and layers: what one pull fetches besides the manifest. */
  totalBytes: number
}

export interface GenerateImageOptions {
  /** Bytes of content across all layers (each tar adds 1.5 KiB and padding). */
  size?: number
  /** Share of the size each layer gets, base layer first. @default [8, 4, 2, 1, 1] */
  weights?: number[]
  /** Bytes of content of each layer, instead of size and weights. */
  layers?: number[]
  /** @default 'demo/app' */
  name?: string
  /** @default 'latest' */
  tag?: string
  /** Same seed, same bytes and digests. @default 'damselfly-demo' */
  seed?: string
  signal?: AbortSignal
}

const BLOCK = 512
const CHUNK = 1024 * 1024

/** A ustar header for one regular file (mode 0644, owner root, mtime 0) with its checksum. */
function tarHeader (name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK)
  const octal = (offset: number, length: number, value: number): void => {
    h.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii')
  }
  h.write(name, 0, 100, 'utf8')
  octal(100, 8, 0o644)
  octal(108, 8, 0)
  octal(116, 8, 0)
  octal(124, 12, size)
  octal(136, 12, 0)
  h.write('        ', 148, 8, 'ascii')
  h.write('0', 156, 1, 'ascii')
  h.write('ustar\0' + '00', 257, 8, 'ascii')
  h.write('root', 265, 32, 'ascii')
  h.write('root', 297, 32, 'ascii')
  octal(329, 8, 0)
  octal(337, 8, 0)
  let sum = 0
  for (const byte of h) sum += byte
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
  return h
}

/**
 * Streams a layer into the layout, hashing on the way: a tar of one file of
 * `size` bytes that do not compress (AES-256-CTR keystream keyed by the seed
 * and the layer's index), so nothing along the way can shrink them.
 */
async function writeLayer (blobDir: string, index: number, size: number, seed: string, signal?: AbortSignal): Promise<{ digest: string, size: number, path: string }> {
  const key = createHash('sha256').update(`${seed}\0layer\0${index}`).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  const zeros = Buffer.alloc(CHUNK)
  const hash = createHash('sha256')
  const tmp = join(blobDir, `.tmp-${process.pid}-${index}`)
  const file = await open(tmp, 'w')
  let written = 0
  const put = async (data: Buffer): Promise<void> => {
    hash.update(data)
    written += data.length
    let offset = 0
    while (offset < data.length) offset += (await file.write(data, offset)).bytesWritten
  }
  try {
    await put(tarHeader(`opt/demo/layer-${index}.bin`, size))
    for (let left = size; left > 0; left -= CHUNK) {
      signal?.throwIfAborted()
      await put(cipher.update(zeros.subarray(0, Math.min(CHUNK, left))))
    }
    // padding to a whole block, then the two zero blocks that end an archive
    await put(Buffer.alloc((BLOCK - size % BLOCK) % BLOCK + 2 * BLOCK))
  } finally {
    await file.close()
  }
  const hex = hash.digest('hex')
  const path = join(blobDir, hex)
  await rename(tmp, path)
  return { digest: `sha256:${hex}`, size: written, path }
}

async function writeJsonBlob (blobDir: string, value: unknown): Promise<{ digest: string, size: number, path: string, bytes: Buffer }> {
  const bytes = Buffer.from(JSON.stringify(value))
  const hex = createHash('sha256').update(bytes).digest('hex')
  const path = join(blobDir, hex)
  await writeFile(path, bytes)
  return { digest: `sha256:${hex}`, size: bytes.length, path, bytes }
}

/** Split `size` bytes by `weights`, every part at least one byte. */
export function layerSizes (size: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0)
  const sizes = weights.map(w => Math.max(1, Math.floor(size * w / total)))
  sizes[0] = Math.max(1, sizes[0]! + size - sizes.reduce((a, b) => a + b, 0))
  return sizes
}

/**
 * Writes an OCI image layout at `dir` holding one linux/amd64 image: a
 * config and uncompressed tar layers of incompressible bytes, tagged.
 */
export async function generateImage (dir: string, options: GenerateImageOptions): Promise<DemoImage> {
  const seed = options.seed ?? 'damselfly-demo'
  const name = options.name ?? 'demo/app'
  const tag = options.tag ?? 'latest'
  const blobDir = join(dir, 'blobs', 'sha256')
  await mkdir(blobDir, { recursive: true })
  const layers: ImageBlob[] = []
  const sizes = options.layers ?? layerSizes(options.size ?? 0, options.weights ?? [8, 4, 2, 1, 1])
  for (const [i, size] of sizes.entries()) {
    layers.push({ ...await writeLayer(blobDir, i, size, seed, options.signal), mediaType: OCI_LAYER_TAR, role: `layer ${i}` })
  }
  const c = await writeJsonBlob(blobDir, {
    created: '1970-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/true'], Labels: { 'org.opencontainers.image.title': 'Damselfly demo image' } },
    rootfs: { type: 'layers', diff_ids: layers.map(l => l.digest) },
    history: layers.map((_, i) => ({ created: '1970-01-01T00:00:00Z', created_by: `damselfly demo layer ${i}` }))
  })
  const config: ImageBlob = { digest: c.digest, size: c.size, path: c.path, mediaType: OCI_CONFIG, role: 'config' }
  const m = await writeJsonBlob(blobDir, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map(l => ({ mediaType: OCI_LAYER_TAR, digest: l.digest, size: l.size }))
  })
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: OCI_MANIFEST, digest: m.digest, size: m.size, annotations: { 'org.opencontainers.image.ref.name': tag } }]
  }))
  const blobs = [config, ...layers]
  return {
    dir,
    name,
    tag,
    manifest: { digest: m.digest, size: m.size, mediaType: OCI_MANIFEST, bytes: m.bytes },
    config,
    layers,
    blobs,
    totalBytes: blobs.reduce((n, b) => n + b.size, 0)
  }
}
