import { createHash } from 'node:crypto'

/** What containerd asks for when it resolves a tag. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  '*/*'
].join(', ')

/** containerd's default `max_concurrent_downloads`. */
export const CONCURRENT_DOWNLOADS = 3

export interface PullRequest {
  /** host:port of the registry mirror to pull through. */
  mirror: string
  /** Upstream registry host:port, sent as `?ns=` the way containerd does. */
  registry: string
  name: string
  tag: string
  signal: AbortSignal
  /** Called as blob bytes arrive (verified or not yet), with the running total. */
  onBytes?(received: number): void
}

export interface PulledBlob {
  digest: string
  size: number
  /** X-Damselfly-Source of the response. */
  source: string
  ms: number
}

export interface PullResult {
  manifestDigest: string
  blobs: PulledBlob[]
  /** Bytes of config and layers received, every one verified. */
  bytes: number
  ms: number
}

interface Descriptor {
  mediaType?: string
  digest: string
  size: number
}

function sha256 (data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/** An error and its causes, each with its code: "terminated: Body Timeout Error (UND_ERR_BODY_TIMEOUT)". */
function describe (err: unknown): string {
  const parts: string[] = []
  for (let e: unknown = err; e != null && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: string }).code
    parts.push(`${e instanceof Error ? e.message : String(e)}${code != null ? ` (${code})` : ''}`)
  }
  return parts.join(': ')
}

async function check (res: Response, what: string): Promise<void> {
  if (res.ok) return
  let detail = ''
  try {
    detail = `: ${(await res.text()).slice(0, 300)}`
  } catch {
    // the status says enough
  }
  throw new Error(`${what} answered ${res.status}${detail}`)
}

/**
 * Pulls an image through a registry mirror as containerd does: HEAD the
 * manifest by tag to resolve its digest, GET the manifest by digest, then
 * the config and the layers, a few at a time. Every blob and the manifest
 * are hashed as they arrive and must match their digest, else the pull
 * fails. Bytes are hashed and dropped: nothing is written to disk.
 */
export async function pullImage (request: PullRequest): Promise<PullResult> {
  const started = performance.now()
  const base = `http://${request.mirror}/v2/${request.name}`
  const ns = `ns=${encodeURIComponent(request.registry)}`
  // the first blob that fails stops the others
  const failed = new AbortController()
  const signal = AbortSignal.any([request.signal, failed.signal])
  const head = await fetch(`${base}/manifests/${request.tag}?${ns}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT }, signal })
  await check(head, `HEAD manifest ${request.tag}`)
  const digest = head.headers.get('docker-content-digest')
  if (digest == null) throw new Error(`HEAD manifest ${request.tag} sent no Docker-Content-Digest`)
  const res = await fetch(`${base}/manifests/${digest}?${ns}`, { headers: { accept: MANIFEST_ACCEPT }, signal })
  await check(res, `GET manifest ${digest}`)
  const body = new Uint8Array(await res.arrayBuffer())
  if (sha256(body) !== digest) throw new Error(`the manifest's digest is ${sha256(body)}, not ${digest}`)
  const manifest = JSON.parse(Buffer.from(body).toString('utf8')) as { config?: Descriptor, layers?: Descriptor[] }
  if (manifest.config == null || !Array.isArray(manifest.layers)) throw new Error(`${digest} is not an image manifest`)
  const wanted = [manifest.config, ...manifest.layers]
  let received = 0
  const blobs: PulledBlob[] = []
  const fetchBlob = async (d: Descriptor): Promise<void> => {
    const t0 = performance.now()
    // fetch says only "fetch failed" or "terminated"; the cause chain says why (socket closed, body timeout)
    const broke = (what: string, err: unknown): Error =>
      new Error(`GET blob ${d.digest} ${what}, ${Math.round(performance.now() - t0)} ms: ${describe(err)}`, { cause: err })
    let r: Response
    try {
      r = await fetch(`${base}/blobs/${d.digest}?${ns}`, { signal })
    } catch (err) {
      throw broke('got no answer', err)
    }
    await check(r, `GET blob ${d.digest}`)
    const hash = createHash('sha256')
    let size = 0
    try {
      for await (const chunk of r.body as AsyncIterable<Uint8Array>) {
        hash.update(chunk)
        size += chunk.byteLength
        received += chunk.byteLength
        request.onBytes?.(received)
      }
    } catch (err) {
      throw broke(`broke after ${size} of ${d.size} bytes`, err)
    }
    const got = `sha256:${hash.digest('hex')}`
    if (size !== d.size || got !== d.digest) throw new Error(`blob ${d.digest}: received ${size} bytes hashing to ${got}, expected ${d.size} bytes`)
    blobs.push({ digest: d.digest, size, source: r.headers.get('x-damselfly-source') ?? 'unknown', ms: performance.now() - t0 })
  }
  // a few downloads at once, the next starting as one finishes
  const queue = [...wanted]
  const worker = async (): Promise<void> => {
    try {
      for (let d = queue.shift(); d != null; d = queue.shift()) await fetchBlob(d)
    } catch (err) {
      failed.abort(err)
      throw err
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_DOWNLOADS, queue.length) }, worker))
  return { manifestDigest: digest, blobs, bytes: received, ms: performance.now() - started }
}
