import { once } from 'node:events'
import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { RegistryClient } from '../src/index.js'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Registries redirect blob reads to storage (S3, a CDN): the client follows, and its credentials stay with the registry. */
describe('RegistryClient and redirects to blob storage', () => {
  const servers: Server[] = []

  async function serve (handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler)
    servers.push(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return `127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections()
      s.close()
    }
  })

  it('follows the redirect with the credentials left behind', async () => {
    const seenByStorage: IncomingHttpHeaders[] = []
    const storage = await serve((req, res) => {
      seenByStorage.push(req.headers)
      res.writeHead(200, { 'content-length': 5 }).end('bytes')
    })
    const expected = `Basic ${Buffer.from('bob:secret').toString('base64')}`
    const registry = await serve((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end()
        return
      }
      res.writeHead(307, { location: `http://${storage}/bucket/blob?signature=abc` }).end()
    })
    const client = new RegistryClient({ insecure: [registry], registries: { [registry]: { username: 'bob', password: 'secret' } } })
    const res = await client.request(client.blobUrl(registry, 'demo/app', `sha256:${'a'.repeat(64)}`))
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    expect(res.statusCode).toBe(200)
    expect(Buffer.concat(chunks).toString()).toBe('bytes')
    expect(seenByStorage).toHaveLength(1)
    expect(seenByStorage[0]!.authorization).toBeUndefined()
  })

  it('sends credentials over plain HTTP only to a registry named insecure', async () => {
    const seen: Array<string | undefined> = []
    const registry = await serve((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end()
    })
    // configured with credentials and an explicit http:// endpoint, but not insecure: they are never sent
    const client = new RegistryClient({ registries: { [registry]: { endpoint: `http://${registry}`, username: 'bob', password: 'secret' } } })
    const res = await client.request(client.manifestUrl(registry, 'demo/app', 'v1'))
    res.resume()
    expect(res.statusCode).toBe(401)
    expect(seen).toEqual([undefined])
  })

  it('retries each of several requests sent at once, before the registry\'s challenge was known', async () => {
    const expected = `Basic ${Buffer.from('bob:secret').toString('base64')}`
    const seen: Array<string | undefined> = []
    const registry = await serve((req, res) => {
      seen.push(req.headers.authorization)
      if (req.headers.authorization !== expected) {
        // the answer comes late, so all three are refused before any challenge is known
        setTimeout(() => res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end(), 50)
        return
      }
      res.writeHead(200, { 'content-length': 2 }).end('ok')
    })
    const client = new RegistryClient({ insecure: [registry], registries: { [registry]: { username: 'bob', password: 'secret' } } })
    const statuses = await Promise.all([1, 2, 3].map(async i => {
      const res = await client.request(client.blobUrl(registry, 'demo/app', `sha256:${String(i).repeat(64)}`))
      res.resume()
      return res.statusCode
    }))
    expect(statuses).toEqual([200, 200, 200])
    expect(seen.filter(a => a == null)).toHaveLength(3)
    expect(seen.filter(a => a === expected)).toHaveLength(3)
  })
})
