import fc from 'fast-check'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric } from './helpers/cluster.js'
import { startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestRegistry } from './helpers/registry.js'

/** One raw request on its own socket; resolves with the status line's code, or 0 when the server closed without one. */
async function raw (address: string, request: string): Promise<{ status: number, text: string }> {
  const socket = connect({ host: '127.0.0.1', port: Number(address.slice(address.lastIndexOf(':') + 1)) })
  socket.setTimeout(10_000, () => socket.destroy(new Error('the mirror did not answer within 10 s')))
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

// A daemon's registry mirror before the real distribution registry (it wants a password for
// everything): whatever containerd, a confused client or an attacker sends, it answers, stays up,
// and keeps no state that grows with what it was sent. Seeded and bounded.
describe('fuzzing a daemon\'s registry mirror', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let daemon: DaemonProcess

  beforeAll(async () => {
    registry = await startRegistry({ auth: { user: 'alice', password: 'wonderland' } })
    // nothing but the loopback registry is reachable: whatever ns a request names, no other host is contacted
    daemon = await cluster.start('fuzzed', ['--insecure-registry', registry.host, '--default-registry', registry.host])
  }, 60_000)

  afterAll(async () => {
    await cluster.stop()
    await registry?.close()
  })

  /** Requests as containerd, a confused client or an attacker would send them: half well formed, half not. */
  function requests (upstreamHost: string): fc.Arbitrary<{ method: string, target: string, headers: string[] }> {
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

  it('answers every request with a status, and falls over for none', async () => {
    const rss = async (): Promise<number> => metric(await cluster.api(daemon, '/metrics'), 'damselfly_process_memory_bytes', { kind: 'rss' }) ?? 0
    const rssBefore = await rss()
    const seen = new Set<number>()
    let challenges = 0
    const m = daemon.mirror!
    await fc.assert(fc.asyncProperty(requests(registry.host), async r => {
      const target = r.target.replace(/[\r\n ]/g, '')
      const answer = await raw(m, `${r.method} ${target === '' ? '/' : target} HTTP/1.1\r\nHost: ${m}\r\n${r.headers.join('\r\n')}${r.headers.length > 0 ? '\r\n' : ''}Connection: close\r\n\r\n`)
      seen.add(answer.status)
      // the registry's own challenge, relayed: the request went as far as the registry
      if (/^www-authenticate: Basic realm="damselfly-test"/mi.test(answer.text)) challenges++
      expect(answer.status, `${r.method} ${target}`).toBeGreaterThanOrEqual(200)
      expect(answer.status).toBeLessThan(600)
      if (answer.status >= 400 && !answer.text.startsWith('HTTP/1.1 431') && !/^HEAD /.test(r.method)) {
        const body = answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4)
        if (body !== '') expect(JSON.parse(body).errors[0].code).toMatch(/^[A-Z_]+$/)
      }
    }), FUZZ)
    // the generator reaches every kind of answer: served, malformed, the registry's challenge, unknown
    expect([...seen].sort()).toEqual(expect.arrayContaining([200, 400, 401, 404]))
    expect(challenges).toBeGreaterThan(0)
    // still up and serving, and it grew no state it keeps: the run fits in a few MiB
    expect(daemon.child.exitCode).toBeNull()
    expect((await raw(m, `GET /v2/ HTTP/1.1\r\nHost: ${m}\r\nConnection: close\r\n\r\n`)).status).toBe(200)
    expect((await fetch(`http://${daemon.api}/healthz`)).status).toBe(200)
    expect(await rss() - rssBefore).toBeLessThan(100 * 1024 * 1024)
  }, 180_000)
})
