import { describe, it, expect } from 'vitest'
import { Bitfield, MAX_PIECES } from '../src/index.js'

describe('Bitfield', () => {
  it('sets bits MSB first and counts them', () => {
    const b = new Bitfield(10)
    expect(b.bytes).toEqual(new Uint8Array(2))
    expect(b.count).toBe(0)
    expect(b.set(0)).toBe(true)
    expect(b.set(9)).toBe(true)
    expect(b.set(9)).toBe(false)
    expect(b.bytes).toEqual(Uint8Array.from([0x80, 0x40]))
    expect(b.has(0)).toBe(true)
    expect(b.has(1)).toBe(false)
    expect(b.has(9)).toBe(true)
    expect(b.count).toBe(2)
    expect([...b.indices()]).toEqual([0, 9])
    expect(b.complete).toBe(false)
  })

  it('is complete once every piece is set', () => {
    const b = new Bitfield(3)
    for (let i = 0; i < 3; i++) b.set(i)
    expect(b.complete).toBe(true)
    expect(b.bytes).toEqual(Uint8Array.from([0xe0]))
    expect(new Bitfield(0).complete).toBe(true)
    expect(new Bitfield(0).bytes).toHaveLength(0)
  })

  it('refuses to set pieces outside its length and reports them absent', () => {
    const b = new Bitfield(10)
    expect(() => b.set(10)).toThrow(RangeError)
    expect(() => b.set(-1)).toThrow(RangeError)
    expect(() => b.set(0.5)).toThrow(RangeError)
    expect(b.has(10)).toBe(false)
    expect(b.has(-1)).toBe(false)
    expect(b.count).toBe(0)
  })

  it('loads bytes and counts their bits', () => {
    const b = new Bitfield(10, Uint8Array.from([0xa5, 0xc0]))
    expect([...b.indices()]).toEqual([0, 2, 5, 7, 8, 9])
    expect(b.count).toBe(6)
    expect(new Bitfield(16, Uint8Array.from([0xff, 0xff])).complete).toBe(true)
  })

  it('copies the bytes it is given', () => {
    const bytes = Uint8Array.from([0x00])
    const b = new Bitfield(8, bytes)
    bytes[0] = 0xff
    expect(b.has(0)).toBe(false)
    b.set(1)
    expect(bytes[0]).toBe(0xff)
  })

  it('rejects bits set past the last piece', () => {
    expect(() => new Bitfield(10, Uint8Array.from([0xff, 0xe0]))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
    expect(() => new Bitfield(10, Uint8Array.from([0x00, 0x01]))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
  })

  it('rejects bytes of the wrong length', () => {
    expect(() => new Bitfield(10, Uint8Array.from([0xff]))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
    expect(() => new Bitfield(8, Uint8Array.from([0xff, 0x00]))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
    expect(() => new Bitfield(0, Uint8Array.from([0x00]))).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
  })

  it('rejects lengths outside 0..MAX_PIECES', () => {
    expect(new Bitfield(MAX_PIECES).bytes).toHaveLength(MAX_PIECES / 8)
    expect(() => new Bitfield(MAX_PIECES + 1)).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
    expect(() => new Bitfield(-1)).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
    expect(() => new Bitfield(2.5)).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
  })
})
