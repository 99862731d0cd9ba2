import { describe, expect, it } from 'vitest'
import { credentialsFromDockerConfig, normalizeRegistryKey, parseChallenge, TokenCache } from '../src/index.js'

describe('parseChallenge', () => {
  it('reads a Docker Hub bearer challenge', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' }
    })
  })

  it('reads basic challenges, unquoted and escaped values, and spaces', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } })
    expect(parseChallenge('Bearer realm=https://x/t , service = "a\\"b"')).toEqual({ scheme: 'bearer', params: { realm: 'https://x/t', service: 'a"b' } })
  })

  it('returns undefined for nothing usable', () => {
    expect(parseChallenge(undefined)).toBeUndefined()
    expect(parseChallenge('')).toBeUndefined()
    expect(parseChallenge('"quoted"')).toBeUndefined()
  })
})

describe('credentialsFromDockerConfig', () => {
  it('reads auth and username/password entries and normalises Docker Hub keys', () => {
    const problems: string[] = []
    const creds = credentialsFromDockerConfig({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:s3cr:et').toString('base64') },
        'registry.local:5000': { username: 'u', password: 'p' },
        'helper-only.io': { identitytoken: 'x' }
      }
    }, problems)
    expect(problems).toEqual([])
    expect(creds.get('docker.io')).toEqual({ username: 'hub', password: 's3cr:et' })
    expect(creds.get('registry.local:5000')).toEqual({ username: 'u', password: 'p' })
    expect(creds.has('helper-only.io')).toBe(false)
  })

  it('reports unreadable entries instead of throwing', () => {
    const problems: string[] = []
    credentialsFromDockerConfig({ auths: { 'a.io': { auth: Buffer.from('nocolon').toString('base64') } } }, problems)
    credentialsFromDockerConfig({ auths: [] }, problems)
    expect(problems).toHaveLength(2)
    expect(problems[0]).toContain('a.io')
  })

  it('normalises keys', () => {
    expect(normalizeRegistryKey('https://ghcr.io/v2/')).toBe('ghcr.io')
    expect(normalizeRegistryKey('registry-1.docker.io')).toBe('docker.io')
  })
})

describe('TokenCache', () => {
  const challenge = { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg' } }

  it('fetches once per scope, sends credentials as basic auth, and reuses the token until it expires', async () => {
    const asked: Array<{ url: string, auth?: string }> = []
    let n = 0
    const cache = new TokenCache(async (url, headers) => {
      asked.push({ url: url.toString(), auth: headers.authorization })
      n++
      return { status: 200, body: JSON.stringify({ token: `t${n}`, expires_in: n === 1 ? 300 : 1 }) }
    })
    const [a, b] = await Promise.all([
      cache.token(challenge, 'repository:x:pull', { username: 'u', password: 'p' }),
      cache.token(challenge, 'repository:x:pull', { username: 'u', password: 'p' })
    ])
    expect([a, b]).toEqual(['t1', 't1'])
    expect(asked).toHaveLength(1)
    expect(asked[0]!.url).toBe('https://auth.example/token?service=reg&scope=repository%3Ax%3Apull')
    expect(asked[0]!.auth).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`)
    // another scope is another token; one that expires within the margin is not reused
    expect(await cache.token(challenge, 'repository:y:pull', undefined)).toBe('t2')
    expect(asked[1]!.auth).toBeUndefined()
    expect(cache.cached(challenge, 'repository:y:pull')).toBeUndefined()
    expect(cache.cached(challenge, 'repository:x:pull')).toBe('t1')
  })

  it('says clearly when the token server refuses', async () => {
    const cache = new TokenCache(async () => ({ status: 401, body: '' }))
    await expect(cache.token(challenge, 's', { username: 'bob', password: 'x' })).rejects.toThrow(/refused the credentials of bob/)
    const garbage = new TokenCache(async () => ({ status: 200, body: '<html>' }))
    await expect(garbage.token(challenge, 's', undefined)).rejects.toThrow(/not JSON/)
  })
})
