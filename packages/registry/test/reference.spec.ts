import { describe, expect, it } from 'vitest'
import { checkDigest, checkName, isRegistryHost, isTag, OciError, parseV2Path } from '../src/index.js'

const D = `sha256:${'ab'.repeat(32)}`

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof OciError ? err.code : `not an OciError: ${String(err)}`
  }
  return undefined
}

describe('repository names', () => {
  it('accepts what registries accept', () => {
    for (const n of ['library/nginx', 'a', 'my-org/my_app', 'a/b/c/d', 'x.y__z/a-b--c', '0/1']) expect(checkName(n)).toBe(n)
  })

  it('refuses traversal, uppercase, empty components and overlong names with NAME_INVALID', () => {
    for (const n of ['../etc/passwd', 'a/../b', 'A/b', 'a//b', '/a', 'a/', '.a', 'a.', 'a b', 'a%2fb', 'a\u0000b', '', 'a/'.repeat(200) + 'a']) {
      expect(codeOf(() => checkName(n)), n).toBe('NAME_INVALID')
    }
  })
})

describe('digests and tags', () => {
  it('accepts sha256 only, lowercase hex of the right length', () => {
    expect(checkDigest(D)).toBe(D)
    expect(codeOf(() => checkDigest(D.toUpperCase()))).toBe('DIGEST_INVALID')
    expect(codeOf(() => checkDigest(D.slice(0, -1)))).toBe('DIGEST_INVALID')
    expect(codeOf(() => checkDigest(`sha512:${'ab'.repeat(64)}`))).toBe('DIGEST_INVALID')
    expect(codeOf(() => checkDigest('sha256:../../etc'))).toBe('DIGEST_INVALID')
  })

  it('tells tags from digests', () => {
    expect(isTag('latest')).toBe(true)
    expect(isTag('v1.2.3-rc_1')).toBe(true)
    expect(isTag('.hidden')).toBe(false)
    expect(isTag('a'.repeat(129))).toBe(false)
    expect(isTag(D)).toBe(false)
  })
})

describe('registry hosts (ns and --insecure-registry)', () => {
  it('accepts host names, IPv4, bracketed IPv6, with ports', () => {
    for (const h of ['docker.io', 'registry-1.docker.io', '127.0.0.1:5000', '[::1]:5000', 'localhost', 'a.b.c:65535']) expect(isRegistryHost(h), h).toBe(true)
  })

  it('refuses schemes, paths, credentials and bad ports', () => {
    for (const h of ['http://docker.io', 'docker.io/library', 'user@docker.io', 'a:99999', 'a:', '-a.com', 'a..b', '', 'a b']) expect(isRegistryHost(h), h).toBe(false)
  })
})

describe('parseV2Path', () => {
  it('routes the read API', () => {
    expect(parseV2Path('/v2/')).toEqual({ kind: 'base' })
    expect(parseV2Path('/v2/library/nginx/manifests/latest')).toEqual({ kind: 'manifest', name: 'library/nginx', reference: 'latest' })
    expect(parseV2Path(`/v2/a/b/manifests/${D}`)).toEqual({ kind: 'manifest', name: 'a/b', reference: D })
    expect(parseV2Path(`/v2/a/blobs/${D}`)).toEqual({ kind: 'blob', name: 'a', digest: D })
  })

  it('leaves unknown paths unrouted and rejects bad names and digests with their codes', () => {
    expect(parseV2Path('/v2/a/tags/list')).toBeUndefined()
    expect(parseV2Path('/v2/a/blobs/uploads/')).toBeUndefined()
    expect(parseV2Path('/etc/passwd')).toBeUndefined()
    expect(codeOf(() => parseV2Path(`/v2/../x/blobs/${D}`))).toBe('NAME_INVALID')
    expect(codeOf(() => parseV2Path('/v2/a/blobs/sha256:nothex'))).toBe('DIGEST_INVALID')
    expect(codeOf(() => parseV2Path('/v2/a/manifests/sha256:x'))).toBe('DIGEST_INVALID')
  })
})
