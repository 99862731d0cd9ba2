import { describe, expect, it } from 'vitest'
import { createRequestGuard, isLoopback } from '../src/request-guard.js'
import type { IncomingMessage } from 'node:http'

function request (method: string, url: string, headers: Record<string, string>): IncomingMessage {
  return { method, url, headers } as unknown as IncomingMessage
}

describe('the request guard of the local servers', () => {
  const guard = createRequestGuard()

  it('lets container runtimes and the CLI in: a Host that is an IP address or localhost, no Origin', () => {
    expect(guard(request('GET', '/v2/', { host: '127.0.0.1:65001' }))).toBeUndefined()
    expect(guard(request('GET', '/v2/', { host: '[::1]:65001' }))).toBeUndefined()
    expect(guard(request('GET', '/v2/', { host: 'localhost:65001' }))).toBeUndefined()
    expect(guard(request('GET', '/v2/', { host: '10.1.2.3' }))).toBeUndefined()
    // a client using the node as its HTTP proxy names the registry in Host
    expect(guard(request('GET', 'http://ghcr.io/v2/', { host: 'ghcr.io' }))).toBeUndefined()
  })

  it('refuses a page whose own name was rebound to this machine', () => {
    expect(guard(request('GET', '/api/v1/status', { host: 'evil.example:65002' }))?.status).toBe(403)
    expect(guard(request('GET', '/api/v1/status', { host: '127.0.0.1.nip.io:65002' }))?.status).toBe(403)
    expect(guard(request('GET', '/api/v1/status', {}))?.status).toBe(400)
    expect(guard(request('GET', '/api/v1/status', { host: 'a b' }))?.status).toBe(400)
  })

  it('refuses cross-site requests, and lets the status page talk to its own server', () => {
    expect(guard(request('GET', '/', { host: '127.0.0.1:65002', origin: 'https://evil.example' }))?.status).toBe(403)
    expect(guard(request('GET', '/', { host: '127.0.0.1:65002', origin: 'null' }))?.status).toBe(403)
    expect(guard(request('GET', '/', { host: '127.0.0.1:65002', 'sec-fetch-site': 'cross-site' }))?.status).toBe(403)
    expect(guard(request('GET', '/', { host: '127.0.0.1:65002', 'sec-fetch-site': 'same-site' }))?.status).toBe(403)
    expect(guard(request('POST', '/api/v1/tasks', { host: '127.0.0.1:65002', origin: 'http://127.0.0.1:65002', 'sec-fetch-site': 'same-origin' }))).toBeUndefined()
    expect(guard(request('GET', '/', { host: '127.0.0.1:65002', 'sec-fetch-site': 'none' }))).toBeUndefined()
  })

  it('wants JSON for writes when asked to: a form post cannot send it without a preflight', () => {
    const api = createRequestGuard({ jsonWrites: true })
    expect(api(request('POST', '/api/v1/tasks', { host: '127.0.0.1:65002', 'content-type': 'text/plain' }))?.status).toBe(415)
    expect(api(request('POST', '/api/v1/tasks', { host: '127.0.0.1:65002' }))?.status).toBe(415)
    expect(api(request('POST', '/api/v1/tasks', { host: '127.0.0.1:65002', 'content-type': 'application/json; charset=utf-8' }))).toBeUndefined()
    expect(api(request('GET', '/api/v1/tasks', { host: '127.0.0.1:65002' }))).toBeUndefined()
  })

  it('wants the bearer token everywhere but the open paths, and in the query only where allowed', () => {
    const token = 'a-token-of-some-length'
    const api = createRequestGuard({ token, isOpen: p => p === '/healthz', queryTokenPaths: ['/api/v1/events'] })
    const host = '127.0.0.1:65002'
    expect(api(request('GET', '/api/v1/status', { host }))?.status).toBe(401)
    expect(api(request('GET', '/api/v1/status', { host, authorization: 'Bearer wrong' }))?.status).toBe(401)
    expect(api(request('GET', '/api/v1/status', { host, authorization: `Basic ${token}` }))?.status).toBe(401)
    expect(api(request('GET', '/api/v1/status', { host, authorization: `Bearer ${token}` }))).toBeUndefined()
    expect(api(request('GET', '/healthz', { host }))).toBeUndefined()
    expect(api(request('GET', `/api/v1/status?access_token=${token}`, { host }))?.status).toBe(401)
    expect(api(request('GET', `/api/v1/events?access_token=${token}`, { host }))).toBeUndefined()
    // the page checks come first: a token does not let a foreign page in
    expect(api(request('GET', '/api/v1/status', { host: 'evil.example', authorization: `Bearer ${token}` }))?.status).toBe(403)
  })

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.org']) expect(isLoopback(h), h).toBe(false)
  })
})
