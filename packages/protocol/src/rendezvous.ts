import { sha256 } from '@noble/hashes/sha2.js'
import { compare } from 'uint8arrays/compare'
import { fromString } from 'uint8arrays/from-string'
import { digestBytes } from './digest.js'
import type { BlobDigest } from './digest.js'

/**
 * Highest-random-weight (rendezvous) order of seeds for a blob: score each
 * seed by sha256(digest bytes || peer id string) read as a big-endian number,
 * highest first. Every peer computes the same order, so the first seed alive
 * in it pulls the blob and the origin serves it once.
 */
export function rankSeeds (digest: BlobDigest, seeds: Iterable<string>): string[] {
  const d = digestBytes(digest)
  return [...new Set(seeds)]
    .map(seed => ({ seed, score: sha256.create().update(d).update(fromString(seed, 'utf8')).digest() }))
    .sort((a, b) => compare(b.score, a.score))
    .map(s => s.seed)
}
