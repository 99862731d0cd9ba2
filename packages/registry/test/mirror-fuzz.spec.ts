import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRange, parseV2Path } from '../src/index.js'

const FUZZ = { seed: 0x6d1e2202, numRuns: 5000 } as const

// The mirror's pure parsers, fuzzed; the mirror itself, serving, is fuzzed in packages/cli/test/mirror-fuzz.e2e.spec.ts.
describe('fuzzing the registry mirror\'s parsers', () => {
  it('parses any path, throwing nothing but OCI errors', () => {
    const segment = fc.oneof(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.constantFrom('..', '.', '', '%2e%2e', '%2F', '%', 'blobs', 'manifests', 'uploads', 'Upper'), fc.string({ maxLength: 8 }))
    const path = fc.tuple(fc.array(segment, { maxLength: 5 }), fc.constantFrom('blobs', 'manifests', 'x', ''), fc.oneof(fc.stringMatching(/^sha256:[0-9a-f]{64}$/), fc.string({ maxLength: 20 })))
      .map(([n, kind, ref]) => `/v2/${n.join('/')}/${kind}/${ref}`)
    fc.assert(fc.property(fc.oneof(path, fc.string()), p => {
      try {
        parseV2Path(p)
      } catch (err: any) {
        expect(err.name).toBe('OciError')
      }
    }), FUZZ)
  })

  it('parses any Range header into a range inside the blob, or none', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.nat(), (h, size) => {
      const r = parseRange(h, size)
      if (Array.isArray(r)) {
        expect(r[0]).toBeGreaterThanOrEqual(0)
        expect(r[1]).toBeLessThanOrEqual(size)
        expect(r[0]).toBeLessThan(r[1])
      }
    }), FUZZ)
  })
})
