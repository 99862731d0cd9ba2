import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from 'uint8arrays/concat'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { describe, it, expect } from 'vitest'
import { digestFromHash, rankSeeds } from '../src/index.js'
import type { BlobDigest } from '../src/index.js'

const EMPTY_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const DIGEST: BlobDigest = `sha256:${EMPTY_HEX}`
const SEEDS = ['seed-a', 'seed-b', 'seed-c', 'seed-d']

function digestOf (n: number): BlobDigest {
  return digestFromHash(sha256(fromString(`blob ${n}`)))
}

/** The rule written out again: sha256(digest bytes || UTF-8 peer id) as a big-endian number, highest first. */
function score (digest: BlobDigest, seed: string): bigint {
  return BigInt('0x' + toString(sha256(concat([fromString(digest.slice(7), 'base16'), fromString(seed)])), 'base16'))
}

describe('rankSeeds', () => {
  it('orders seeds by rendezvous score, highest first', () => {
    expect(rankSeeds(DIGEST, SEEDS)).toEqual(['seed-c', 'seed-a', 'seed-b', 'seed-d'])
    for (let n = 0; n < 20; n++) {
      const d = digestOf(n)
      const expected = [...SEEDS].sort((a, b) => score(d, b) > score(d, a) ? 1 : -1)
      expect(rankSeeds(d, SEEDS)).toEqual(expected)
    }
  })

  it('gives the same order whatever the input order', () => {
    const ranked = rankSeeds(DIGEST, SEEDS)
    for (const input of [[...SEEDS].reverse(), ['seed-b', 'seed-d', 'seed-a', 'seed-c'], new Set(['seed-d', 'seed-c', 'seed-b', 'seed-a'])]) {
      expect(rankSeeds(DIGEST, input)).toEqual(ranked)
    }
  })

  it('drops duplicates and handles no seeds', () => {
    expect(rankSeeds(DIGEST, ['seed-a', 'seed-c', 'seed-a'])).toEqual(['seed-c', 'seed-a'])
    expect(rankSeeds(DIGEST, [])).toEqual([])
  })

  it('keeps the order of the others when a seed leaves', () => {
    for (let n = 0; n < 50; n++) {
      const d = digestOf(n)
      const all = rankSeeds(d, SEEDS)
      const gone = all[0]!
      expect(rankSeeds(d, SEEDS.filter(s => s !== gone))).toEqual(all.slice(1))
    }
  })

  it('spreads blobs evenly over seeds', () => {
    const seeds = ['12D3KooWseedOne', '12D3KooWseedTwo', '12D3KooWseedThree']
    const first = new Map<string, number>(seeds.map(s => [s, 0]))
    for (let n = 0; n < 1000; n++) {
      const top = rankSeeds(digestOf(n), seeds)[0]!
      first.set(top, first.get(top)! + 1)
    }
    for (const count of first.values()) {
      expect(count).toBeGreaterThanOrEqual(250)
      expect(count).toBeLessThanOrEqual(420)
    }
  })

  it('rejects an invalid digest', () => {
    expect(() => rankSeeds('sha256:nope' as BlobDigest, SEEDS)).toThrow(expect.objectContaining({ name: 'InvalidDigestError' }))
  })
})
