import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { createServer } from 'node:http'
import { parseRange, parseV2Path } from '@damselfly/registry'
import type { DemoImage, ImageBlob } from './image.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the registry has sent so far. */
export interface RegistryCounts {
  /** Body bytes of blob responses, by digest. */
  blobs: Record<string, number>
  /** Sum of `blobs`. */
  blobBytes: number
  /** Body bytes of manifest responses. */
  manifestBytes: number
  /** Blob GETs answered (200 or 206). */
  blobRequests: number
}

/**
 * A small upstream registry for the demo: the read side of the OCI
 * distribution API over plain HTTP, serving one image from an OCI layout
 * (`GET|HEAD /v2/`, manifests by tag and by digest, blobs with Range), and
 * counting every body byte it sends, so the demo can say what the swarm
 * saved and check it against the daemons' own counters.
 */
export class DemoRegistry {
  readonly #image: DemoImage
  readonly #blobs: Map<string, ImageBlob>
  readonly #server: Server
  readonly #sent = new Map<string, number>()
  #manifestBytes = 0
  #blobRequests = 0

  constructor (image: DemoImage) {
    this.#image = image
    this.#blobs = new Map(image.blobs.map(b => [b.digest, b]))
    this.#server = createServer((req, res) => { this.#handle(req, res) })
  }

  /** Listens on `host`, a free port; resolves with host:port. */
  async listen (host = '127.0.0.1'): Promise<string> {
    this.#server.listen(0, host)
    await once(this.#server, 'listening')
    return `${host}:${(this.#server.address() as AddressInfo).port}`
  }

  counts (): RegistryCounts {
    const blobs = Object.fromEntries(this.#sent)
    return {
      blobs,
      blobBytes: Object.values(blobs).reduce((a, b) => a + b, 0),
      manifestBytes: this.#manifestBytes,
      blobRequests: this.#blobRequests
    }
  }

  close (): void {
    this.#server.closeAllConnections()
    this.#server.close()
  }

  #handle (req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET'
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    let route
    try {
      route = parseV2Path(decodeURIComponent(path))
    } catch {
      route = undefined
    }
    if (route == null) return this.#error(res, 404, 'UNSUPPORTED', `no such endpoint: ${path.slice(0, 200)}`)
    if (method !== 'GET' && method !== 'HEAD') return this.#error(res, 405, 'UNSUPPORTED', 'this registry is read-only', { allow: 'GET, HEAD' })
    const head = method === 'HEAD'
    if (route.kind === 'base') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, 'docker-distribution-api-version': 'registry/2.0' })
      res.end(head ? undefined : '{}')
      return
    }
    if (route.name !== this.#image.name) return this.#error(res, 404, 'NAME_UNKNOWN', `repository ${route.name.slice(0, 200)} is not known`)
    if (route.kind === 'manifest') {
      const m = this.#image.manifest
      if (route.reference !== this.#image.tag && route.reference !== m.digest) {
        return this.#error(res, 404, 'MANIFEST_UNKNOWN', `manifest ${route.reference.slice(0, 200)} is not known`)
      }
      res.writeHead(200, { 'content-type': m.mediaType, 'content-length': m.size, 'docker-content-digest': m.digest, 'docker-distribution-api-version': 'registry/2.0' })
      if (head) {
        res.end()
        return
      }
      this.#manifestBytes += m.size
      res.end(m.bytes)
      return
    }
    const blob = this.#blobs.get(route.digest)
    if (blob == null) return this.#error(res, 404, 'BLOB_UNKNOWN', `blob ${route.digest} is not known`)
    const range = parseRange(req.headers.range, blob.size)
    if (range === 'unsatisfiable') return this.#error(res, 416, 'RANGE_INVALID', 'the range is outside the blob', { 'content-range': `bytes */${blob.size}` })
    const [start, end] = range ?? [0, blob.size]
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': end - start,
      'docker-content-digest': blob.digest,
      'docker-distribution-api-version': 'registry/2.0',
      'accept-ranges': 'bytes'
    }
    if (range != null) headers['content-range'] = `bytes ${start}-${end - 1}/${blob.size}`
    res.writeHead(range != null ? 206 : 200, headers)
    if (head || end === start) {
      res.end()
      return
    }
    this.#blobRequests++
    const file = createReadStream(blob.path, { start, end: end - 1, highWaterMark: 256 * 1024 })
    // counted as handed to the socket: a client that goes away stops the count
    file.on('data', chunk => { this.#sent.set(blob.digest, (this.#sent.get(blob.digest) ?? 0) + chunk.length) })
    file.on('error', err => res.destroy(err))
    res.on('close', () => file.destroy())
    file.pipe(res)
  }

  #error (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
    const body = JSON.stringify({ errors: [{ code, message }] })
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'docker-distribution-api-version': 'registry/2.0' })
    res.end(body)
  }
}
