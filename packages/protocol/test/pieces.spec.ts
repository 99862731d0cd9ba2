import { describe, it, expect } from 'vitest'
import { MAX_BLOB_SIZE, MAX_PIECE_SIZE, MAX_PIECES, MIN_PIECE_SIZE, layoutFor, pieceCount, pieceRange, pieceSizeFor, rangedPieceSizeFor } from '../src/index.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

describe('pieceSizeFor', () => {
  it('uses the smallest piece for blobs up to 2 GiB', () => {
    expect(pieceSizeFor(0)).toBe(MiB)
    expect(pieceSizeFor(1)).toBe(MiB)
    expect(pieceSizeFor(MiB)).toBe(MiB)
    expect(pieceSizeFor(512 * MiB + 1)).toBe(MiB)
    expect(pieceSizeFor(2 * GiB)).toBe(MiB)
  })

  it('doubles the piece as soon as 2,048 pieces are not enough', () => {
    expect(pieceSizeFor(2 * GiB + 1)).toBe(2 * MiB)
    expect(pieceSizeFor(3_000_000_000)).toBe(2 * MiB)
    expect(pieceSizeFor(4 * GiB)).toBe(2 * MiB)
    expect(pieceSizeFor(4 * GiB + 1)).toBe(4 * MiB)
    expect(pieceSizeFor(64 * GiB)).toBe(32 * MiB)
    expect(pieceSizeFor(64 * GiB + 1)).toBe(64 * MiB)
  })

  it('clamps to the largest piece for huge blobs', () => {
    expect(pieceSizeFor(128 * GiB)).toBe(MAX_PIECE_SIZE)
    expect(pieceSizeFor(128 * GiB + 1)).toBe(MAX_PIECE_SIZE)
    expect(pieceSizeFor(1024 * GiB)).toBe(MAX_PIECE_SIZE)
    expect(pieceSizeFor(MAX_BLOB_SIZE)).toBe(MAX_PIECE_SIZE)
  })

  it('cuts a blob first pulled by range in pieces of 256 KiB up to 512 MiB, and as the rule does from 2 GiB', () => {
    expect(rangedPieceSizeFor(1)).toBe(256 * KiB)
    expect(rangedPieceSizeFor(512 * MiB)).toBe(256 * KiB)
    expect(rangedPieceSizeFor(512 * MiB + 1)).toBe(512 * KiB)
    expect(rangedPieceSizeFor(GiB + 1)).toBe(MiB)
    for (const size of [2 * GiB, 2 * GiB + 1, 3_000_000_000, 128 * GiB + 1]) expect(rangedPieceSizeFor(size)).toBe(pieceSizeFor(size))
  })

  it('gives the same answer for number and bigint sizes', () => {
    for (const size of [0, 1, 512 * MiB, 512 * MiB + 1, 3_000_000_000, 32 * GiB + 1]) {
      expect(pieceSizeFor(BigInt(size))).toBe(pieceSizeFor(size))
    }
  })

  it('rejects negative sizes and sizes past the protocol maximum', () => {
    expect(MAX_BLOB_SIZE).toBe(4n * 1024n ** 4n)
    expect(() => pieceSizeFor(-1)).toThrow(RangeError)
    expect(() => pieceSizeFor(MAX_BLOB_SIZE + 1n)).toThrow(expect.objectContaining({ name: 'BlobTooLargeError' }))
  })
})

describe('pieceCount', () => {
  it('rounds up and gives an empty blob no pieces', () => {
    expect(pieceCount(0, MiB)).toBe(0)
    expect(pieceCount(1, MiB)).toBe(1)
    expect(pieceCount(MiB, MiB)).toBe(1)
    expect(pieceCount(MiB + 1, MiB)).toBe(2)
    expect(pieceCount(512 * MiB, MiB)).toBe(512)
    expect(pieceCount(512 * MiB + 1, 2 * MiB)).toBe(257)
    expect(pieceCount(3_000_000_000, 8 * MiB)).toBe(358)
  })

  it('allows exactly MAX_PIECES pieces and no more', () => {
    expect(pieceCount(MAX_BLOB_SIZE, MAX_PIECE_SIZE)).toBe(MAX_PIECES)
    expect(pieceCount(MAX_PIECES * MIN_PIECE_SIZE, MIN_PIECE_SIZE)).toBe(MAX_PIECES)
    expect(() => pieceCount(MAX_PIECES * MIN_PIECE_SIZE + 1, MIN_PIECE_SIZE)).toThrow(expect.objectContaining({ name: 'BlobTooLargeError' }))
  })
})

describe('pieceRange', () => {
  const size = 2 * MiB + 512 * KiB

  it('gives full pieces and a short last piece', () => {
    expect(pieceRange(size, MiB, 0)).toEqual({ offset: 0, length: MiB })
    expect(pieceRange(size, MiB, 1)).toEqual({ offset: MiB, length: MiB })
    expect(pieceRange(size, MiB, 2)).toEqual({ offset: 2 * MiB, length: 512 * KiB })
    expect(pieceRange(2 * MiB, MiB, 1)).toEqual({ offset: MiB, length: MiB })
  })

  it('covers every byte exactly once', () => {
    for (const s of [1, MiB - 1, MiB, MiB + 1, 7 * MiB + 3]) {
      const n = pieceCount(s, MiB)
      let next = 0
      for (let i = 0; i < n; i++) {
        const r = pieceRange(s, MiB, i)
        expect(r.offset).toBe(next)
        expect(r.length).toBeGreaterThan(0)
        next += r.length
      }
      expect(next).toBe(s)
    }
  })

  it('rejects pieces outside the blob', () => {
    expect(() => pieceRange(size, MiB, 3)).toThrow(RangeError)
    expect(() => pieceRange(size, MiB, -1)).toThrow(RangeError)
    expect(() => pieceRange(size, MiB, 1.5)).toThrow(RangeError)
    expect(() => pieceRange(0, MiB, 0)).toThrow(RangeError)
  })
})

describe('layoutFor', () => {
  it('derives the piece size when none is given', () => {
    expect(layoutFor(3_000_000_000)).toEqual({ size: 3_000_000_000, pieceSize: 2 * MiB, pieces: 1431 })
    expect(layoutFor(0n)).toEqual({ size: 0, pieceSize: MiB, pieces: 0 })
  })

  it('accepts an explicit piece size within bounds and rejects others', () => {
    expect(layoutFor(10, 4)).toEqual({ size: 10, pieceSize: 4, pieces: 3 })
    expect(() => layoutFor(10, 0)).toThrow(RangeError)
    expect(() => layoutFor(10, MAX_PIECE_SIZE + 1)).toThrow(RangeError)
    expect(() => layoutFor(10, 1.5)).toThrow(RangeError)
    expect(() => layoutFor(MAX_PIECES + 1, 1)).toThrow(expect.objectContaining({ name: 'BlobTooLargeError' }))
  })
})
