import { describe, expect, it } from 'vitest'
import { parseRange } from '../src/index.js'

describe('parseRange', () => {
  it('reads the three forms against the size, end exclusive', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual([0, 100])
    expect(parseRange('bytes=900-', 1000)).toEqual([900, 1000])
    expect(parseRange('bytes=-10', 1000)).toEqual([990, 1000])
    expect(parseRange('bytes=990-5000', 1000)).toEqual([990, 1000])
    expect(parseRange('bytes=-5000', 1000)).toEqual([0, 1000])
  })

  it('serves the whole blob for no header or forms it does not serve', () => {
    expect(parseRange(undefined, 10)).toBeUndefined()
    expect(parseRange('bytes=0-1,5-6', 10)).toBeUndefined()
    expect(parseRange('items=0-1', 10)).toBeUndefined()
    expect(parseRange('bytes=5-2', 10)).toBeUndefined()
  })

  it('calls ranges past the end unsatisfiable', () => {
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable')
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable')
  })
})
