import { describe, expect, it } from 'vitest'
import { ManifestTrust } from '../src/manifest-trust.js'
import type { VerifiedManifestPart } from '@damselfly/protocol'

const h = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const D = `sha256:${'a'.repeat(64)}` as const

function part (signer: string, first: number, hashes: Uint8Array[]): VerifiedManifestPart {
  return { digest: D, size: 4 * 1024 * 1024, pieceSize: 1024 * 1024, first, hashes, signer, part: {} as any }
}

describe('ManifestTrust: whose hashes a download believes', () => {
  const honest = [h(1), h(2), h(3), h(4)]
  const forged = [h(9), h(9), h(9), h(9)]

  it('believes no one before a piece verifies: a signer who sends parts and no data never pins', () => {
    const t = new ManifestTrust()
    expect(t.vouch('forger', [part('forger', 0, forged)])).toEqual([])
    expect(t.vouch('seed', [part('seed', 0, honest)])).toEqual([])
    expect(t.pin).toBeUndefined()
    // both may be asked until then, each piece checked against its own parent's word
    expect(t.usable('forger', 0)).toBe(true)
    expect(t.usable('seed', 0)).toBe(true)
    expect(t.vouched('seed', 2)?.hash).toEqual(h(3))
    // the seed's piece verifies first: the seed is believed, the forger is not, and is noted
    expect(t.verified('seed', 0).map(p => p.signer)).toEqual(['seed'])
    expect(t.pin).toBe('seed')
    expect(t.usable('forger', 1)).toBe(false)
    expect(t.usable('seed', 1)).toBe(true)
    expect([...t.conflicting]).toEqual(['forger'])
  })

  it('takes pieces from a parent that forwards the pin\'s parts, or agrees with them, and not one that has no word for it', () => {
    const t = new ManifestTrust()
    t.vouch('seed', [part('seed', 0, honest.slice(0, 2))])
    t.verified('seed', 0)
    t.vouch('relay', [part('seed', 0, honest.slice(0, 2))])
    t.vouch('other-seed', [part('other-seed', 0, honest)])
    expect(t.usable('relay', 1)).toBe(true)
    expect(t.usable('other-seed', 1)).toBe(true)
    // the pin has not said what pieces 2 and 3 hash to: another signer alone is not enough
    expect(t.usable('other-seed', 2)).toBe(false)
    expect(t.usable('nobody', 0)).toBe(false)
    expect(t.conflicting.size).toBe(0)
  })

  it('notes a conflict whichever comes first, the pin\'s part or the other', () => {
    const t = new ManifestTrust()
    t.vouch('seed', [part('seed', 0, honest.slice(0, 1))])
    t.verified('seed', 0)
    t.vouch('late-forger', [part('late-forger', 2, forged.slice(2))])
    expect(t.conflicting.size).toBe(0)
    // the pin's word on pieces 2 and 3 arrives later and contradicts it
    expect(t.vouch('seed', [part('seed', 2, honest.slice(2))]).map(p => p.first)).toEqual([2])
    expect([...t.conflicting]).toEqual(['late-forger'])
  })

  it('leaves out signers a digest proved wrong lately, still noting what they say, and resumes the pin of a blob on disk', () => {
    const t = new ManifestTrust(new Set(['forger']))
    t.vouch('forger', [part('forger', 0, forged)])
    expect(t.usable('forger', 0)).toBe(false)
    expect(t.excludes('forger')).toBe(true)
    t.vouch('seed', [part('seed', 0, honest)])
    t.verified('seed', 0)
    expect([...t.conflicting]).toEqual(['forger'])
    const r = new ManifestTrust()
    r.resume('seed')
    expect(r.pin).toBe('seed')
  })
})
