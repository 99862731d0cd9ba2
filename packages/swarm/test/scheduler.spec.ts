import { describe, expect, it } from 'vitest'
import { backoffMs, NOT_FOUND_RETRY_MS, pipelineDepth, planRequests, requestBudget, RETRY_MAX_MS, retryDelay } from '../src/scheduler.js'
import type { ParentQueue } from '../src/scheduler.js'
import type { PickerState } from '../src/picker.js'

const MiB = 1024 * 1024

/** A blob of `pieces` pieces nobody holds yet; in-flight counts follow the requests made. */
function blob (pieces: number, availability: (i: number) => number = () => 1): { state: PickerState, inflight: number[] } {
  const inflight = new Array<number>(pieces).fill(0)
  return {
    inflight,
    state: { pieces, held: () => false, hashKnown: () => true, inflight: i => inflight[i]!, availability }
  }
}

interface Parent extends ParentQueue { name: string, asked: number[] }

function parent (name: string, has: (i: number) => boolean, opts: { seed?: boolean, depth?: number } = {}): Parent {
  const p: Parent = { name, asked: [], outstanding: 0, depth: opts.depth ?? 4, seed: opts.seed ?? false, canServe: i => has(i) && !p.asked.includes(i) }
  return p
}

function plan (parents: Parent[], b: ReturnType<typeof blob>, opts: { budget?: number, requested?: number, own?: number } = {}): Array<[string, number]> {
  const made: Array<[string, number]> = []
  planRequests(parents, { state: b.state, pieceSize: MiB, budgetBytes: opts.budget ?? Infinity, requestedBytes: opts.requested ?? 0, ownRequestedBytes: opts.own ?? 0, random: () => 0.5 }, (p, i) => {
    p.asked.push(i)
    b.inflight[i]!++
    made.push([p.name, i])
  })
  return made
}

describe('planRequests', () => {
  it('spreads requests over parents, emptiest queue first, and asks the seed only for what peers lack', () => {
    // the seed holds all 8 pieces, two peers the first 4 (rarest first sees that)
    const b = blob(8, i => (i < 4 ? 3 : 1))
    const seed = parent('seed', () => true, { seed: true })
    const peerA = parent('a', i => i < 4)
    const peerB = parent('b', i => i < 4)
    const made = plan([seed, peerA, peerB], b)
    // the peers get the pieces they hold; the seed the rest
    expect(made.filter(([p]) => p === 'a').length).toBe(2)
    expect(made.filter(([p]) => p === 'b').length).toBe(2)
    expect(made.filter(([p]) => p === 'seed').map(([, i]) => i).sort()).toEqual([4, 5, 6, 7])
    // every piece asked once: no speculative duplicates
    expect(b.inflight).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
  })

  it('on equal queues asks a peer before the seed', () => {
    const b = blob(3)
    const seed = parent('seed', () => true, { seed: true })
    const peer = parent('p', () => true)
    const made = plan([seed, peer], b)
    expect(made[0]![0]).toBe('p')
    expect(made.filter(([p]) => p === 'seed')).toHaveLength(1)
  })

  it('stops at the node-wide budget, yet a blob with nothing in flight may ask for one piece', () => {
    const b = blob(8)
    const p = parent('a', () => true)
    expect(plan([p], b, { budget: 2 * MiB, requested: 2 * MiB, own: 1 })).toEqual([])
    expect(plan([p], b, { budget: 2 * MiB, requested: 2 * MiB, own: 0 }).length).toBe(1)
    const c = blob(8)
    expect(plan([parent('x', () => true)], c, { budget: 3 * MiB }).length).toBe(3)
  })

  it('keeps each parent within its depth', () => {
    const b = blob(16)
    const slow = parent('slow', () => true, { depth: 2 })
    const fast = parent('fast', () => true, { depth: 8 })
    const made = plan([slow, fast], b)
    expect(made.filter(([p]) => p === 'slow').length).toBe(2)
    expect(made.filter(([p]) => p === 'fast').length).toBe(8)
  })
})

describe('pipelineDepth and requestBudget', () => {
  it('gives a parent about two seconds of its measured rate, two requests at least', () => {
    expect(pipelineDepth(MiB, 0)).toBe(4)
    expect(pipelineDepth(MiB, 0.25 * MiB)).toBe(2)
    expect(pipelineDepth(MiB, 1.5 * MiB)).toBe(3)
    expect(pipelineDepth(MiB, 1000 * MiB)).toBe(4)
    expect(pipelineDepth(16 * MiB, 0)).toBe(2)
  })

  it('is unbounded without a download limit and two seconds of it otherwise', () => {
    expect(requestBudget(MiB, 0)).toBe(Infinity)
    expect(requestBudget(MiB, 4e6)).toBe(8e6)
    expect(requestBudget(4 * MiB, 1e6)).toBe(8 * MiB)
  })
})

describe('retryDelay', () => {
  const middle = (): number => 0.5

  it('backs off a parent that keeps turning us away, up to a cap', () => {
    const waits = [1, 2, 3, 4, 5, 6, 10].map(n => retryDelay('choke', 500, n, middle))
    expect(waits.slice(0, 5)).toEqual([500, 1000, 2000, 4000, 8000])
    expect(waits[5]).toBe(RETRY_MAX_MS)
    expect(waits[6]).toBe(RETRY_MAX_MS)
  })

  it('waits at least as long as the parent asked', () => {
    expect(retryDelay('choke', 3000, 1, middle)).toBe(3000)
  })

  it('does not ask a peer without the blob again soon', () => {
    expect(retryDelay('not-found', undefined, 1, middle)).toBe(NOT_FOUND_RETRY_MS)
  })

  it('doubles from the first wait to the cap, whatever the count', () => {
    expect([0, 1, 2, 3, 7, 8, 1000].map(n => backoffMs(n, 1000, 60_000))).toEqual([1000, 1000, 2000, 4000, 60_000, 60_000, 60_000])
  })

  it('spreads the children it turned away over time', () => {
    expect(retryDelay('error', undefined, 3, () => 0)).toBe(1500)
    expect(retryDelay('error', undefined, 3, () => 0.999999)).toBeCloseTo(2500, 0)
  })
})
