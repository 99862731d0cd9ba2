import { describe, expect, it } from 'vitest'
import { matchesOriginPattern, parseOriginPattern, RegistryClient } from '../src/index.js'

const D = `sha256:${'ab'.repeat(32)}`
const OTHER = `sha256:${'cd'.repeat(32)}`

function covers (pattern: string, url: string): boolean {
  return matchesOriginPattern(parseOriginPattern(pattern), new URL(url))
}

describe('--allow-origin patterns', () => {
  it('cover a scheme, a host (or its subdomains), a port and a path prefix', () => {
    expect(covers('https://downloads.example.org', 'https://downloads.example.org/a/b.tar')).toBe(true)
    expect(covers('https://downloads.example.org', 'http://downloads.example.org/a')).toBe(false)
    expect(covers('https://downloads.example.org', 'https://downloads.example.org:8443/a')).toBe(false)
    expect(covers('https://downloads.example.org:443/', 'https://downloads.example.org/a')).toBe(true)
    expect(covers('https://*.example.org', 'https://a.b.example.org/x')).toBe(true)
    expect(covers('https://*.example.org', 'https://example.org/x')).toBe(false)
    expect(covers('https://*.example.org', 'https://evilexample.org/x')).toBe(false)
    expect(covers('http://127.0.0.1:*', 'http://127.0.0.1:8080/x')).toBe(true)
    expect(covers('http://127.0.0.1:*', 'http://127.0.0.2:8080/x')).toBe(false)
    expect(covers('https://e.org/releases', 'https://e.org/releases/v1.tar')).toBe(true)
    expect(covers('https://e.org/releases/*', 'https://e.org/releases/v1.tar')).toBe(true)
    expect(covers('https://e.org/releases', 'https://e.org/releases-old/v1.tar')).toBe(false)
    expect(covers('https://*', 'https://anything.example/x')).toBe(true)
    expect(covers('http://[::1]:*', 'http://[::1]:5000/x')).toBe(true)
  })

  it('refuse what they cannot read, saying what a pattern looks like', () => {
    for (const bad of ['example.org', 'ftp://example.org', 'https://', 'https://ex ample.org', 'https://e.org/a*b', 'https://e.org:99999', 'https://e.org/?q=1', 'https://user@e.org']) {
      expect(() => parseOriginPattern(bad), bad).toThrow(/origin pattern|port|\*/)
    }
  })
})

describe('the origins a node reads', () => {
  const client = new RegistryClient({
    defaultRegistry: 'docker.io',
    insecure: ['registry.local:5000'],
    registries: { 'ghcr.io': { username: 'bot', password: 'x' } },
    allowOrigins: ['https://downloads.example.org/releases', 'https://quay.io']
  })
  const policy = client.policy

  it('are its registries, and registries whose API a pattern covers', () => {
    for (const r of ['docker.io', 'index.docker.io', 'registry.local:5000', 'ghcr.io', 'quay.io']) expect(policy.allowsRegistry(r), r).toBe(true)
    for (const r of ['gcr.io', '127.0.0.1:5000', '169.254.169.254', 'registry.local:5001']) expect(policy.allowsRegistry(r), r).toBe(false)
    expect(() => client.endpoint('169.254.169.254')).toThrow(/not a registry this node reaches/)
    expect(client.endpoint('ghcr.io').href).toBe('https://ghcr.io/')
  })

  it('read from a configured registry only the blob asked for: its credentials go with every request there', () => {
    expect(policy.refusal(new URL(`https://registry-1.docker.io/v2/library/nginx/blobs/${D}`), D)).toBeUndefined()
    expect(policy.refusal(new URL(`http://registry.local:5000/v2/team/app/blobs/${D}`), D)).toBeUndefined()
    expect(policy.refusal(new URL(`https://ghcr.io/v2/org/app/blobs/${OTHER}`), D)).toMatch(/names blob/)
    expect(policy.refusal(new URL('https://ghcr.io/v2/org/app/manifests/latest'), D)).toMatch(/only blob URLs/)
    expect(policy.refusal(new URL('https://ghcr.io/v2/_catalog'), D)).toMatch(/only blob URLs/)
    expect(policy.refusal(new URL(`https://ghcr.io/v2/org/app/blobs/${D}?x=1`), D)).toMatch(/only blob URLs/)
    expect(policy.refusal(new URL(`https://ghcr.io/v2/Not..A..Name/blobs/${D}`), D)).toMatch(/repository/)
    expect(policy.refusal(new URL('https://ghcr.io/token?scope=repository:org/app:pull'), D)).toMatch(/only blob URLs/)
  })

  it('read plain URLs only where a pattern allows, and never one carrying credentials', () => {
    expect(policy.refusal(new URL('https://downloads.example.org/releases/big.tar'), D)).toBeUndefined()
    expect(policy.refusal(new URL('https://downloads.example.org/private/big.tar'), D)).toMatch(/--allow-origin/)
    expect(policy.refusal(new URL('http://169.254.169.254/latest/meta-data/'), D)).toMatch(/--allow-origin/)
    expect(policy.refusal(new URL('http://127.0.0.1:47199/'), D)).toMatch(/--allow-origin/)
    expect(policy.refusal(new URL('https://u:p@downloads.example.org/releases/x'), D)).toMatch(/credentials/)
    expect(policy.refusal(new URL('file:///etc/passwd'), D)).toMatch(/not fetched/)
  })
})
