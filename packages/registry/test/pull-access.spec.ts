import { once } from 'node:events'
import { createServer } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PullAccess, referencedDigests, RegistryClient } from '../src/index.js'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const digest = (c: string): string => `sha256:${c.repeat(64)}`
const A = digest('a')
const B = digest('b')
const C = digest('c')
const ALICE = `Basic ${Buffer.from('alice:pw').toString('base64')}`

/**
 * A registry as far as access goes: `private/*` wants alice, `public/*` is
 * anyone's; each repository holds the digests listed. Counts every request.
 */
async function startRegistry (): Promise<{ host: string, requests: string[], down: boolean, close(): void, server: Server }> {
  const repos: Record<string, string[]> = { 'private/app': [A, B], 'public/app': [C] }
  const state = { host: '', requests: [] as string[], down: false, close: () => {}, server: undefined as unknown as Server }
  const server = createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`)
    if (state.down) {
      res.writeHead(503).end()
      return
    }
    const m = /^\/v2\/(.+)\/(blobs|manifests)\/(.+)$/.exec(req.url ?? '')
    const repo = m?.[1] ?? ''
    if (repo.startsWith('private/') && req.headers.authorization !== ALICE) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end()
      return
    }
    res.writeHead(repos[repo]?.includes(m?.[3] ?? '') === true ? 200 : 404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  state.server = server
  state.close = () => {
    server.closeAllConnections()
    server.close()
  }
  return state
}

describe('PullAccess: who may read a blob, as the registry says', () => {
  let registry: Awaited<ReturnType<typeof startRegistry>>
  let now: number
  let access: PullAccess
  let vouched: number

  beforeEach(async () => {
    registry = await startRegistry()
    now = 1_000_000
    vouched = 0
    access = new PullAccess({
      upstream: new RegistryClient({ insecure: [registry.host] }),
      now: () => now,
      vouch: async q => {
        vouched++
        return q.name === 'public/app'
      }
    })
  })

  afterEach(() => registry.close())

  const check = async (name: string, d: string, authorization?: string): Promise<string> => {
    try {
      await access.check({ registry: registry.host, name, digest: d, kind: 'blob', authorization })
      return 'ok'
    } catch (err: any) {
      return err.code
    }
  }

  it('asks the registry once per repository, identity and digest, and keeps only its yes', async () => {
    expect(await check('private/app', A)).toBe('UNAUTHORIZED')
    expect(await check('private/app', A)).toBe('UNAUTHORIZED')
    expect(registry.requests).toHaveLength(2)
    expect(await check('private/app', A, ALICE)).toBe('ok')
    expect(await check('private/app', A, ALICE)).toBe('ok')
    expect(registry.requests).toHaveLength(3)
    // another identity is asked about afresh, and a wrong one is refused
    expect(await check('private/app', A, 'Basic d3Jvbmc6cHc=')).toBe('UNAUTHORIZED')
    // a digest the repository lacks, under a name the client may read
    expect(await check('private/app', C, ALICE)).toBe('BLOB_UNKNOWN')
    // the yes lapses
    now += 300_001
    expect(await check('private/app', A, ALICE)).toBe('ok')
    expect(registry.requests).toHaveLength(6)
  })

  it('learns every digest a manifest names from the one fetch of it, so a pull costs no more round trips', async () => {
    const manifest = Buffer.from(JSON.stringify({ config: { digest: A }, layers: [{ digest: B }, { digest: 'md5:nope' }] }))
    access.learnManifest({ registry: registry.host, name: 'private/app', digest: digest('d'), authorization: ALICE }, manifest)
    expect(await check('private/app', A, ALICE)).toBe('ok')
    expect(await check('private/app', B, ALICE)).toBe('ok')
    expect(registry.requests).toEqual([])
    // learnt for alice, not for anyone else
    expect(await check('private/app', B)).toBe('UNAUTHORIZED')
    expect(referencedDigests(Buffer.from(JSON.stringify({ manifests: [{ digest: A }], subject: { digest: B } })))).toEqual([B, A])
    expect(referencedDigests(Buffer.from('not json'))).toEqual([])
  })

  it('lets anyone read a repository anonymous clients may read, whatever credentials they send', async () => {
    expect(await check('public/app', C)).toBe('ok')
    expect(await check('public/app', C, 'Basic bm9ib2R5Ong=')).toBe('ok')
    expect(registry.requests).toHaveLength(1)
    // but not a digest of another repository named under it
    expect(await check('public/app', A)).toBe('BLOB_UNKNOWN')
  })

  it('while the registry is down: its recent yes counts for an hour, then a member may vouch that it is public, else no', async () => {
    expect(await check('private/app', A, ALICE)).toBe('ok')
    registry.down = true
    now += 300_001
    expect(await check('private/app', A, ALICE)).toBe('ok')
    expect(vouched).toBe(0)
    now += 3_600_000
    expect(await check('private/app', A, ALICE)).toBe('UPSTREAM_UNAVAILABLE')
    expect(await check('public/app', C)).toBe('ok')
    expect(vouched).toBe(2)
    registry.close()
    expect(await check('private/app', B, ALICE)).toBe('UPSTREAM_UNAVAILABLE')
  })

  it('answers peers only from what its registry said, and keeps no client identity on disk', async () => {
    expect(await check('public/app', C)).toBe('ok')
    expect(await check('private/app', A, ALICE)).toBe('ok')
    expect(access.knowsPublic({ registry: registry.host, name: 'public/app', digest: C, kind: 'blob' })).toBe(true)
    expect(access.knowsPublic({ registry: registry.host, name: 'public/app', digest: A, kind: 'blob' })).toBe(false)
    expect(access.knowsPublic({ registry: registry.host, name: 'private/app', digest: A, kind: 'blob' })).toBe(false)
    const snapshot = JSON.parse(JSON.stringify(access.snapshot()))
    expect(JSON.stringify(snapshot)).not.toContain('client:')
    const again = new PullAccess({ upstream: new RegistryClient({ insecure: [registry.host] }), now: () => now })
    again.restore(snapshot)
    expect(again.knowsPublic({ registry: registry.host, name: 'public/app', digest: C, kind: 'blob' })).toBe(true)
    again.restore({ version: 1, members: [['x/y', 'not a digest', now + 1]], grants: [['x/y', 'client:abc', now + 1]] })
    again.restore('garbage')
    expect(again.snapshot().members).toHaveLength(2)
  })
})
