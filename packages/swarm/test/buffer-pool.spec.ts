import { describe, expect, it } from 'vitest'
import { BufferPool } from '../src/buffer-pool.js'

describe('BufferPool', () => {
  it('lends a released buffer again, and never one still lent', () => {
    const pool = new BufferPool(1024)
    const a = pool.acquire(256)
    const b = pool.acquire(256)
    expect(b.buffer).not.toBe(a.buffer)
    pool.release(a)
    const c = pool.acquire(256, 100)
    expect(c.buffer).toBe(a.buffer)
    expect(c.byteLength).toBe(100)
    // b was never released: a new buffer, not b's
    const d = pool.acquire(256)
    expect([a.buffer, b.buffer]).not.toContain(d.buffer)
  })

  it('ignores a second release and buffers it never lent', () => {
    const pool = new BufferPool(1024)
    const a = pool.acquire(256)
    pool.release(a)
    pool.release(a)
    pool.release(new Uint8Array(256))
    expect(pool.freeBytes).toBe(256)
    const x = pool.acquire(256)
    const y = pool.acquire(256)
    // one buffer came back once, so only one of the two is reused
    expect(x.buffer).toBe(a.buffer)
    expect(y.buffer).not.toBe(a.buffer)
  })

  it('keeps at most its limit for reuse and lends by capacity', () => {
    const pool = new BufferPool(512)
    const lent = [pool.acquire(256), pool.acquire(256), pool.acquire(256)]
    for (const b of lent) pool.release(b)
    expect(pool.freeBytes).toBe(512)
    const small = pool.acquire(128)
    expect(lent.map(b => b.buffer)).not.toContain(small.buffer)
    expect(pool.freeBytes).toBe(512)
  })

  it('refuses a length beyond the capacity', () => {
    const pool = new BufferPool(1024)
    expect(() => pool.acquire(256, 257)).toThrow(RangeError)
    expect(() => pool.acquire(0)).toThrow(RangeError)
  })
})
