import { describe, expect, it } from 'vitest'
import { LocalParentRanker, localityShared, RandomParentRanker } from '../src/ranking.js'
import type { ParentCandidate } from '../src/ranking.js'

const MiB = 1024 * 1024

function candidate (peer: string, extra: Partial<ParentCandidate> = {}): ParentCandidate {
  return { peer, delivered: 0, failures: 0, ...extra }
}

const beacon = (uploadBps: number, activeUploads: number, freeUploadSlots: number, locality?: string): ParentCandidate['beacon'] =>
  ({ uploadBps, activeUploads, freeUploadSlots, seed: false, locality })

const order = (ranker: LocalParentRanker, candidates: ParentCandidate[]): string[] => ranker.rank(candidates).map(c => c.peer)

describe('the local parent ranking, on constructed cases', () => {
  const ranker = new LocalParentRanker('eu-1a/rack-3')

  it('puts a fast idle parent before a loaded one', () => {
    expect(order(ranker, [candidate('loaded', { beacon: beacon(40 * MiB, 7, 1) }), candidate('idle', { beacon: beacon(40 * MiB, 0, 8) })])).toEqual(['idle', 'loaded'])
  })

  it('puts a parent with free upload slots before a full one', () => {
    expect(order(ranker, [candidate('full', { beacon: beacon(40 * MiB, 4, 0) }), candidate('free', { beacon: beacon(40 * MiB, 4, 2) })])).toEqual(['free', 'full'])
  })

  it('puts what this download measured before what a beacon claims, and divides by failures', () => {
    const measured = candidate('measured', { observedBps: 30 * MiB, beacon: beacon(MiB, 0, 8) })
    const claimed = candidate('claimed', { beacon: beacon(20 * MiB, 0, 8) })
    expect(order(ranker, [claimed, measured])).toEqual(['measured', 'claimed'])
    expect(order(ranker, [{ ...measured, failures: 2 }, claimed])).toEqual(['claimed', 'measured'])
  })

  it('puts a demoted parent last, however fast it looks', () => {
    expect(order(ranker, [candidate('demoted', { observedBps: 100 * MiB, demoted: true }), candidate('slow', { observedBps: MiB })])).toEqual(['slow', 'demoted'])
  })

  it('breaks ties by locality: the same rack, then the same zone, then elsewhere or unsaid', () => {
    const alike = (peer: string, locality?: string): ParentCandidate => candidate(peer, { beacon: beacon(10 * MiB, 1, 4, locality) })
    expect(order(ranker, [alike('unsaid'), alike('other-zone', 'us-2b/rack-3'), alike('same-zone', 'eu-1a/rack-9'), alike('same-rack', 'eu-1a/rack-3')]))
      .toEqual(['same-rack', 'same-zone', 'unsaid', 'other-zone'])
    // only ties: a faster parent elsewhere still comes first
    expect(order(ranker, [alike('same-rack', 'eu-1a/rack-3'), candidate('faster', { beacon: beacon(20 * MiB, 1, 4, 'us-2b/rack-1') })])).toEqual(['faster', 'same-rack'])
    // a node that says no locality keeps the order it was given
    expect(order(new LocalParentRanker(), [alike('b', 'eu-1a/rack-3'), alike('a', 'us-2b')])).toEqual(['b', 'a'])
  })

  it('counts the leading parts two labels share', () => {
    expect(localityShared('eu-1a/rack-3', 'eu-1a/rack-3')).toBe(2)
    expect(localityShared('eu-1a/rack-3', 'eu-1a')).toBe(1)
    expect(localityShared('eu-1a/rack-3', 'eu-1b/rack-3')).toBe(0)
    expect(localityShared(undefined, 'eu-1a')).toBe(0)
  })
})

describe('no ranking (--parent-ranking random)', () => {
  it('gives every candidate once, in an order that does not follow their merits', () => {
    const candidates = ['a', 'b', 'c', 'd', 'e', 'f'].map((peer, i) => candidate(peer, { observedBps: (6 - i) * 1e6 }))
    const ranker = new RandomParentRanker()
    const orders = new Set<string>()
    for (let k = 0; k < 50; k++) {
      const order = ranker.rank(candidates).map(c => c.peer)
      expect([...order].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
      orders.add(order.join(''))
    }
    // 720 orders are possible: fifty draws give many, and the measured order is not forced
    expect(orders.size).toBeGreaterThan(20)
    expect(new LocalParentRanker().rank(candidates).map(c => c.peer).join('')).toBe('abcdef')
  })
})
