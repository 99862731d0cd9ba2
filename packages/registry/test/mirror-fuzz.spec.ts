import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Mirror, OciError, parseRange, parseV2Path, RegistryClient } from '../src/index.js'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One raw request on its own socket; resolves with the status line's code, or 0 when the server closed without one. */
async function raw (port: number, request: string): Promise<{ status: number, text: string }> {
  const socket = connect({ host: '127.0.0.1', port })
  socket.setTimeout(5000, () => socket.destroy(new Error('the mirror did not answer within 5 s')))
  socket.write(request)
  let text = ''
  socket.setEncoding('latin1')
  try {
    for await (const chunk of socket) text += chunk as string
  } catch (err: any) {
    if (err.code !== 'ECONNRESET') throw err
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0), text }
}

const FUZZ = { seed: 0x6d1e2202, numRuns: 300 } as const

describe('fuzzing the registry mirror\'s requests', () => {
  let upstream: Server
  let upstreamHost: string
  let mirror: Mirror
  let server: Server
  let port: number
  let dir: string
  let upstreamRequests = 0

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'damselfly-mirror-fuzz-'))
    // the registry, on loopback: it knows nothing and wants credentials for private/*
    upstream = createServer((req, res) => {
      upstreamRequests++
      if (req.url?.includes('/private/') === true) res.writeHead(401, { 'www-authenticate': 'Basic realm="fuzz"' }).end()
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}')
    })
    upstream.listen(0, '127.0.0.1')
    await once(upstream, 'listening')
    upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`
    mirror = new Mirror({
      // nothing but the loopback registry is reachable: whatever ns a request names, no other host is contacted
      upstream: new RegistryClient({ defaultRegistry: upstreamHost, insecure: [upstreamHost] }),
      defaultRegistry: upstreamHost,
      blobs: { open: async () => { throw new OciError('BLOB_UNKNOWN', 'not held') } },
      manifestDir: join(dir, 'manifests')
    })
    server = mirror.createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => {
    server?.closeAllConnections()
    server?.close()
    upstream?.closeAllConnections()
    upstream?.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** Requests as containerd, a confused client or an attacker would send them: half well formed, half not. */
  function requests (): fc.Arbitrary<{ method: string, target: string, headers: string[] }> {
    const segment = fc.oneof(
      fc.stringMatching(/^[a-z0-9]{1,8}$/),
      fc.constantFrom('..', '.', '', '%2e%2e', '%2F', '%00', '%', '%zz', 'blobs', 'manifests', 'uploads', 'private', '_catalog', 'Upper'),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
      fc.string({ maxLength: 6 })
    )
    const reference = fc.oneof(
      fc.stringMatching(/^sha256:[0-9a-f]{64}$/),
      fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/),
      fc.constantFrom('sha256:', 'md5:00', 'sha512:' + '0'.repeat(128), 'latest', '')
    )
    const name = fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 3 }).map(n => n.join('/'))
    const wellFormed = fc.tuple(fc.constantFrom('', 'private/'), name, fc.constantFrom('blobs', 'manifests'), fc.stringMatching(/^sha256:[0-9a-f]{64}$/))
      .map(([p, n, kind, ref]) => `/v2/${p}${n}/${kind}/${ref}`)
    const path = fc.oneof(wellFormed, fc.tuple(fc.array(segment, { maxLength: 5 }), fc.constantFrom('blobs', 'manifests', 'x', ''), reference)
      .map(([n, kind, ref]) => `/v2/${n.join('/')}/${kind}/${ref}`))
    const ns = fc.oneof(fc.constant(''), fc.constantFrom(`?ns=${upstreamHost}`, '?ns=', '?ns=169.254.169.254', '?ns=http://evil/', '?ns=%zz', '?ns=docker.io&ns=x'), fc.string({ maxLength: 20 }).map(s => `?ns=${encodeURIComponent(s)}`))
    const header = fc.oneof(
      fc.constantFrom('Range: bytes=0-', 'Range: bytes=-5', 'Range: bytes=9-3', 'Range: bytes=a-b', 'Range: bytes=0-1,5-6', 'Accept: */*', 'Authorization: Basic Zm9vOmJhcg==', 'Authorization: Bearer x', 'Origin: https://evil.example', 'Sec-Fetch-Site: cross-site'),
      fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.stringMatching(/^[\x20-\x7e]{0,40}$/)).map(([k, v]) => `${k}: ${v}`)
    )
    const request = fc.record({
      method: fc.oneof(fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'OPTIONS'), fc.stringMatching(/^[A-Z]{1,8}$/)),
      target: fc.oneof(fc.tuple(path, ns).map(([p, q]) => p + q), fc.constantFrom('/v2/', '/v2', '/', '*', 'http://ghcr.io/v2/', '/v2/../x'), fc.string({ maxLength: 30 })),
      headers: fc.array(header, { maxLength: 4 })
    })
    return request
  }

  it('answers every request with a status and never falls over', async () => {
    const rssBefore = process.memoryUsage().rss
    const seen = new Set<number>()
    await fc.assert(fc.asyncProperty(requests(), async r => {
      const target = r.target.replace(/[\r\n ]/g, '')
      const answer = await raw(port, `${r.method} ${target === '' ? '/' : target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${r.headers.join('\r\n')}${r.headers.length > 0 ? '\r\n' : ''}Connection: close\r\n\r\n`)
      seen.add(answer.status)
      expect(answer.status, `${r.method} ${target}`).toBeGreaterThanOrEqual(200)
      expect(answer.status).toBeLessThan(600)
      if (answer.status >= 400 && !answer.text.startsWith('HTTP/1.1 431') && !/^HEAD /.test(r.method)) {
        const body = answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4)
        if (body !== '') expect(JSON.parse(body).errors[0].code).toMatch(/^[A-Z_]+$/)
      }
    }), FUZZ)
    // still serving, and it grew no state it keeps: the run fits in a few MiB
    expect((await raw(port, `GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).status).toBe(200)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024)
    // the generator reaches every kind of answer: served, malformed, the registry's challenge, unknown
    expect([...seen].sort()).toEqual(expect.arrayContaining([200, 400, 401, 404]))
    expect(upstreamRequests).toBeGreaterThan(0)
  }, 120_000)

  it('parses paths and ranges without throwing anything but OCI errors', () => {
    fc.assert(fc.property(fc.oneof(requests().map(r => r.target.split('?')[0]!), fc.string()), p => {
      try {
        parseV2Path(p)
      } catch (err: any) {
        expect(err.name).toBe('OciError')
      }
    }), { seed: FUZZ.seed, numRuns: 5000 })
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.nat(), (h, size) => {
      const r = parseRange(h, size)
      if (Array.isArray(r)) {
        expect(r[0]).toBeGreaterThanOrEqual(0)
        expect(r[1]).toBeLessThanOrEqual(size)
        expect(r[0]).toBeLessThan(r[1])
      }
    }), { seed: FUZZ.seed, numRuns: 5000 })
  })
})
