import { request } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, runCli } from './helpers/cluster.js'
import { makeBlob, TestOrigin } from './helpers/origin.js'
import type { DaemonProcess } from './helpers/cluster.js'

interface Answer {
  status: number
  body: string
}

/** One request with exactly these headers (Host included) to 127.0.0.1:port. */
async function send (address: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1))
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 10_000 }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', d => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

describe('no web page can drive a daemon', () => {
  const cluster = new Cluster()
  const origin = new TestOrigin()
  let node: DaemonProcess

  beforeAll(async () => {
    await origin.start()
    node = await cluster.start('node', ['--allow-origin', `${origin.url}/*`])
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('refuses the cross-site form post that once started a download, and fetches nothing', async () => {
    const blob = makeBlob('/page-post', 4096)
    origin.add(blob)
    const body = JSON.stringify({ digest: blob.digest, url: `${origin.url}${blob.path}` })
    const port = node.api.slice(node.api.lastIndexOf(':') + 1)
    // what a page on another site can send without a preflight: text/plain, its own Origin, and (rebound) its own Host
    const attacks: Array<Record<string, string>> = [
      { host: `evil.example:${port}`, origin: 'http://evil.example', 'content-type': 'text/plain' },
      { host: node.api, origin: 'http://evil.example', 'content-type': 'text/plain' },
      { host: node.api, 'content-type': 'text/plain' },
      { host: node.api, origin: 'http://evil.example', 'content-type': 'application/json' },
      { host: node.api, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }
    ]
    for (const headers of attacks) {
      const answer = await send(node.api, 'POST', '/api/v1/tasks', headers, body)
      expect(answer.status, JSON.stringify(headers)).toBeGreaterThanOrEqual(400)
      expect(JSON.parse(answer.body).error.where).toBe('request')
    }
    const tasks = await cluster.api(node, '/api/v1/tasks') as unknown[]
    expect(tasks).toEqual([])
    expect(origin.requests).toBe(0)
    // the CLI's own request still works
    const ok = await send(node.api, 'POST', '/api/v1/tasks', { host: node.api, 'content-type': 'application/json' }, body)
    expect(ok.status).toBe(202)
  })

  it('answers no page that rebinds its name to this machine, on the API or the mirror', async () => {
    const apiPort = node.api.slice(node.api.lastIndexOf(':') + 1)
    const mirrorPort = node.mirror!.slice(node.mirror!.lastIndexOf(':') + 1)
    expect((await send(node.api, 'GET', '/api/v1/status', { host: `rebound.example:${apiPort}` })).status).toBe(403)
    expect((await send(node.api, 'GET', '/api/v1/events', { host: `rebound.example:${apiPort}` })).status).toBe(403)
    expect((await send(node.mirror!, 'GET', '/v2/', { host: `rebound.example:${mirrorPort}` })).status).toBe(403)
    expect((await send(node.mirror!, 'GET', '/v2/', { host: node.mirror!, origin: 'https://evil.example' })).status).toBe(403)
    expect((await send(node.mirror!, 'GET', '/v2/', { host: node.mirror! })).status).toBe(200)
    expect((await send(node.api, 'GET', '/api/v1/status', { host: `localhost:${apiPort}` })).status).toBe(200)
  })
})

describe('a control API off loopback', () => {
  const cluster = new Cluster()

  afterAll(async () => {
    await cluster.stop()
  })

  it('does not start without a token', async () => {
    const dir = join(await cluster.root(), 'open')
    const r = await runCli(['daemon', '--data-dir', dir, '--api', '0.0.0.0:0', '--no-mirror'], 30_000)
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('--api-token-file')
  })

  it('wants the token from every client but the liveness probe and the page files', async () => {
    const root = await cluster.root()
    const tokenFile = join(root, 'api-token')
    const token = 'b3f1c0ffee-damselfly-token-1234'
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 })
    const node = await cluster.start('guarded', ['--api', '0.0.0.0:0', '--api-token-file', tokenFile])
    const api = `127.0.0.1:${node.api.slice(node.api.lastIndexOf(':') + 1)}`
    expect((await send(api, 'GET', '/api/v1/status', { host: api })).status).toBe(401)
    expect((await send(api, 'GET', '/api/v1/status', { host: api, authorization: 'Bearer not-the-token-at-all' })).status).toBe(401)
    expect((await send(api, 'GET', '/metrics', { host: api })).status).toBe(401)
    expect((await send(api, 'GET', '/api/v1/status', { host: api, authorization: `Bearer ${token}` })).status).toBe(200)
    expect((await send(api, 'GET', '/healthz', { host: api })).status).toBe(200)
    expect((await send(api, 'GET', '/', { host: api })).status).toBe(200)
    const denied = await runCli(['status', '--api', api])
    expect(denied.code).toBe(1)
    expect(denied.stderr).toContain('bearer token')
    const status = await runCli(['status', '--api', api, '--api-token-file', tokenFile, '--json'])
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout).peerId).toBe(node.peerId)
    // EventSource cannot send headers: the events stream takes the token in its query
    const events = await fetch(`http://${api}/api/v1/events?access_token=${token}`, { signal: AbortSignal.timeout(10_000) })
    expect(events.status).toBe(200)
    await events.body?.cancel()
  })
})
