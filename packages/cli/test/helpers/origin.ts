import { createServer } from 'node:http'
import { once } from 'node:events'
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Server, ServerResponse } from 'node:http'

/** The --allow-origin pattern that covers every TestOrigin: plain HTTP on loopback, any port. */
export const TEST_ORIGINS = 'http://127.0.0.1:*'

/** Daemon flags that let a daemon read from TestOrigins. */
export const ALLOW_TEST_ORIGINS = ['--allow-origin', TEST_ORIGINS]

export interface TestBlob {
  path: string
  data: Buffer
  digest: string
}

export function makeBlob (path: string, size: number): TestBlob {
  const data = randomBytes(size)
  return { path, data, digest: `sha256:${createHash('sha256').update(data).digest('hex')}` }
}

/**
 * A plain HTTP origin that serves blobs (with Range) and counts every body
 * byte it sends, so tests can check how often the origin served a blob.
 */
export class TestOrigin {
  readonly blobs = new Map<string, TestBlob>()
  /** Body bytes of whole reads and resumed ones (`Range: bytes=N-`): a blob leaving the origin. */
  bytesSent = 0
  /** Body bytes of closed-range reads (`Range: bytes=A-B`): a daemon asking the origin to vouch for a few bytes. */
  probeBytes = 0
  probes = 0
  requests = 0
  /** Per path: status to answer instead, or 'hang' to never answer. */
  readonly faults = new Map<string, number | 'hang'>()
  /** Per path: break the connection once after sending this many body bytes. */
  readonly breakOnce = new Map<string, number>()
  /** Range headers received, in order. */
  readonly ranges: string[] = []
  /** Bytes per second per response; 0 for unlimited. */
  rate = 0
  #server: Server | undefined
  url = ''

  add (blob: TestBlob): void {
    this.blobs.set(blob.path, blob)
  }

  async start (): Promise<void> {
    this.#server = createServer((req, res) => {
      this.requests++
      const path = new URL(req.url ?? '/', 'http://x').pathname
      const fault = this.faults.get(path)
      if (fault === 'hang') return
      if (typeof fault === 'number') {
        res.writeHead(fault).end('fault injected')
        return
      }
      const blob = this.blobs.get(path)
      if (blob == null) {
        res.writeHead(404).end('not found')
        return
      }
      if (req.headers.range != null) this.ranges.push(req.headers.range)
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' }
      const closed = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
      if (closed != null) {
        const from = Number(closed[1])
        const to = Math.min(Number(closed[2]), blob.data.length - 1)
        const part = blob.data.subarray(from, to + 1)
        this.probes++
        this.probeBytes += part.length
        res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${to}/${blob.data.length}`, 'content-length': String(part.length) })
        res.end(part)
        return
      }
      let start = 0
      let status = 200
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
      if (range != null) {
        start = Number(range[1])
        status = 206
        headers['content-range'] = `bytes ${start}-${blob.data.length - 1}/${blob.data.length}`
      }
      headers['content-length'] = String(blob.data.length - start)
      res.writeHead(status, headers)
      const cut = this.breakOnce.get(path)
      if (cut != null && cut > start) {
        this.breakOnce.delete(path)
        this.bytesSent += cut - start
        res.write(blob.data.subarray(start, cut), () => res.destroy())
        return
      }
      this.#send(res, blob.data.subarray(start))
    })
    this.#server.listen(0, '127.0.0.1')
    await once(this.#server, 'listening')
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  #send (res: ServerResponse, data: Buffer): void {
    const chunk = 64 * 1024
    let offset = 0
    const pump = (): void => {
      while (offset < data.length) {
        const part = data.subarray(offset, offset + chunk)
        offset += part.length
        this.bytesSent += part.length
        const more = res.write(part)
        if (this.rate > 0) {
          setTimeout(pump, part.length / this.rate * 1000)
          return
        }
        if (!more) {
          res.once('drain', pump)
          return
        }
      }
      res.end()
    }
    res.on('error', () => {})
    pump()
  }

  async stop (): Promise<void> {
    this.#server?.closeAllConnections()
    this.#server?.close()
  }
}
