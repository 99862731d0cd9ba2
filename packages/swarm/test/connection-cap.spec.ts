import { describe, expect, it } from 'vitest'
import { CONNECTION_LOW_WATER, connectionsToClose, type HeldConnection } from '../src/connection-cap.js'

const GRACE = 30_000

/** `n` idle connections this node opened, the first the newest (ages 40 s, 41 s, ...). */
function opened (n: number, from = 0): HeldConnection[] {
  return Array.from({ length: n }, (_, i) => ({ peer: `p${from + i}`, outbound: true, ageMs: 40_000 + (from + i) * 1000, inUse: false, kept: false }))
}

describe('connectionsToClose', () => {
  it('closes nothing while the node has opened no more than the cap', () => {
    expect(connectionsToClose(opened(8), 8, GRACE)).toEqual([])
  })

  it('beyond the cap, closes idle connections down to the low water mark, newest first', () => {
    const closed = connectionsToClose(opened(9).reverse(), 8, GRACE)
    expect(closed).toEqual(['p0', 'p1', 'p2'])
    expect(9 - closed.length).toBe(Math.floor(8 * CONNECTION_LOW_WATER))
  })

  it('never closes a connection in use, kept, or still in its grace period', () => {
    const conns = opened(12).map((c, i) => ({ ...c, inUse: i === 0, kept: i === 1, ageMs: i === 2 ? GRACE - 1 : c.ageMs }))
    const closed = connectionsToClose(conns, 8, GRACE)
    expect(closed).not.toContain('p0')
    expect(closed).not.toContain('p1')
    expect(closed).not.toContain('p2')
    expect(closed).toEqual(['p3', 'p4', 'p5', 'p6', 'p7', 'p8'])
  })

  it('leaves the connections others opened to their openers, and does not count them', () => {
    const theirs = opened(20).map(c => ({ ...c, peer: `theirs-${c.peer}`, outbound: false }))
    expect(connectionsToClose([...theirs, ...opened(8)], 8, GRACE)).toEqual([])
    expect(connectionsToClose([...theirs, ...opened(10)], 8, GRACE)).toEqual(['p0', 'p1', 'p2', 'p3'])
  })

  it('names a peer once, however many of its connections are idle', () => {
    const conns = [...opened(10), { ...opened(1)[0]!, ageMs: 39_000 }]
    expect(connectionsToClose(conns, 8, GRACE)).toEqual(['p0', 'p1', 'p2', 'p3'])
  })

  it('closes what it can when too few are idle, and no more', () => {
    const conns = opened(10).map((c, i) => ({ ...c, inUse: i < 8 }))
    expect(connectionsToClose(conns, 8, GRACE)).toEqual(['p8', 'p9'])
  })
})
