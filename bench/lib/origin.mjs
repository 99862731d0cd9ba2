// The blob and the HTTP origin that serves it to the seed.
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'

/** Write `size` random bytes to DIR/blob; returns its path and sha256 digest. */
export async function createBlob (dir, size) {
  const path = join(dir, 'blob')
  const out = createWriteStream(path)
  const hash = createHash('sha256')
  const step = 4 * 1024 * 1024
  for (let written = 0; written < size; written += step) {
    const chunk = randomBytes(Math.min(step, size - written))
    hash.update(chunk)
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return { path, size, digest: `sha256:${hash.digest('hex')}` }
}

/**
 * A static origin for one file on 127.0.0.1: GET and HEAD with Content-Length,
 * and Range (`bytes=N-` so the seed can resume, `bytes=A-B`). Counts requests
 * and bytes so the bench can tell whether a peer went to the origin; a
 * closed range (a daemon asking the origin to vouch for a few bytes of a
 * blob it serves to a client) counts as a probe, not a request.
 */
export async function startOrigin (blob) {
  const counters = { requests: 0, bytesSent: 0, probes: 0 }
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    const start = range != null ? Number(range[1]) : 0
    const end = range != null && range[2] !== '' ? Math.min(Number(range[2]) + 1, blob.size) : blob.size
    if (range?.[2] !== '' && range != null) counters.probes++
    else counters.requests++
    if (start > blob.size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${blob.size}` }).end()
      return
    }
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(end - start) }
    if (range != null) headers['content-range'] = `bytes ${start}-${end - 1}/${blob.size}`
    res.writeHead(range != null ? 206 : 200, headers)
    if (req.method === 'HEAD' || start === end) {
      res.end()
      return
    }
    const file = createReadStream(blob.path, { start, end: end - 1, highWaterMark: 1024 * 1024 })
    file.on('data', chunk => { counters.bytesSent += chunk.byteLength })
    file.on('error', err => res.destroy(err))
    res.on('close', () => file.destroy())
    file.pipe(res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${server.address().port}/blob`,
    counters,
    close: () => new Promise(resolve => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
