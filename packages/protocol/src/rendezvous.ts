import { createHash } from 'node:crypto'
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
    .map(seed => ({ seed, score: createHash('sha256').update(d).update(seed, 'utf8').digest('hex') }))
    .sort((a, b) => a.score < b.score ? 1 : a.score > b.score ? -1 : 0)
    .map(s => s.seed)
}
