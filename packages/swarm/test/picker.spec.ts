import { describe, expect, it } from 'vitest'
import { pickPiece } from '../src/picker.js'
import type { PickerState } from '../src/picker.js'

function state (pieces: number, opts: { held?: number[], unknown?: number[], inflight?: Record<number, number>, availability?: Record<number, number> } = {}): PickerState {
  return {
    pieces,
    held: i => opts.held?.includes(i) ?? false,
    hashKnown: i => !(opts.unknown?.includes(i) ?? false),
    inflight: i => opts.inflight?.[i] ?? 0,
    availability: i => opts.availability?.[i] ?? 1
  }
}

const all = (): boolean => true
const fixed = (): number => 0.5

describe('pickPiece', () => {
  it('asks for the rarest piece the parent has', () => {
    const s = state(5, { availability: { 0: 3, 1: 3, 2: 1, 3: 2, 4: 3 } })
    expect(pickPiece(s, all, { random: fixed })).toBe(2)
  })

  it('never asks for a piece that is held, in flight, or whose hash is unknown', () => {
    const s = state(4, { held: [0], inflight: { 1: 1 }, unknown: [2] })
    expect(pickPiece(s, all, { random: fixed })).toBe(3)
    expect(pickPiece(state(2, { held: [0, 1] }), all)).toBeUndefined()
  })

  it('only asks a parent for pieces it has', () => {
    const s = state(4, { availability: { 0: 1, 1: 1, 2: 5, 3: 5 } })
    expect(pickPiece(s, i => i >= 2, { random: fixed })).toBe(2)
    expect(pickPiece(s, () => false)).toBeUndefined()
  })

  it('serves a streaming reader first: its next piece, then its window rarest first, beat rarer ones', () => {
    const s = state(10, { held: [0, 1], availability: { 2: 5, 3: 5, 9: 1 } })
    expect(pickPiece(s, all, { cursor: 2, window: 4, random: fixed })).toBe(2)
    // the reader's next piece already in flight: the rarest of the rest of its window
    const t = state(10, { held: [0, 1], inflight: { 2: 1 }, availability: { 3: 5, 4: 2, 5: 5, 9: 1 } })
    expect(pickPiece(t, all, { cursor: 2, window: 4, random: fixed })).toBe(4)
    // nothing wanted in the window: back to rarest first
    const u = state(10, { held: [0, 1, 2, 3, 4, 5], availability: { 6: 5, 7: 5, 8: 5, 9: 1 } })
    expect(pickPiece(u, all, { cursor: 2, window: 4, random: fixed })).toBe(9)
  })

  it('in endgame asks for pieces already in flight, fewest copies first, up to the limit', () => {
    const s = state(3, { held: [0], inflight: { 1: 2, 2: 1 } })
    expect(pickPiece(s, all)).toBeUndefined()
    expect(pickPiece(s, all, { endgame: true, maxDuplicates: 2 })).toBe(2)
    expect(pickPiece(state(2, { inflight: { 0: 2, 1: 2 } }), all, { endgame: true, maxDuplicates: 2 })).toBeUndefined()
  })

  it('spreads equally rare pieces across requesters', () => {
    const s = state(64)
    const seen = new Set<number>()
    for (let i = 0; i < 200; i++) seen.add(pickPiece(s, all)!)
    expect(seen.size).toBeGreaterThan(32)
  })

  it('given the candidates, looks at them only and picks as a scan of the whole blob would', () => {
    // a ranged download of a 100,000-piece blob wants three pieces
    const looked: number[] = []
    const base = state(100_000, { availability: { 70_001: 4, 70_002: 2, 99_999: 3 } })
    const big: PickerState = { ...base, held: i => { looked.push(i); return base.held(i) }, wanted: i => i === 70_001 || i === 70_002 || i === 99_999, candidates: [70_001, 70_002, 99_999] }
    expect(pickPiece(big, all, { random: fixed })).toBe(70_002)
    expect(looked).toEqual([70_001, 70_002, 99_999])
    // with the same random draws, the same picks as without them, a streaming window included
    const seeded = (seed: number) => () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    for (let run = 0; run < 20; run++) {
      const held = Array.from({ length: 200 }, (_, i) => i).filter(i => (i * 7 + run) % 3 === 0)
      const availability = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [i, 1 + ((i * 13 + run) % 5)]))
      const plain = state(200, { held, availability })
      const withList: PickerState = { ...plain, candidates: Array.from({ length: 200 }, (_, i) => i).filter(i => !held.includes(i)) }
      const has = (i: number): boolean => (i + run) % 4 !== 0
      for (const cursor of [undefined, 0, 57, 190]) {
        expect(pickPiece(withList, has, { cursor, random: seeded(run + 1) })).toBe(pickPiece(plain, has, { cursor, random: seeded(run + 1) }))
      }
    }
  })
})
