import { Uint8ArrayList } from 'uint8arraylist'
import { toString } from 'uint8arrays/to-string'
import { describe, it, expect } from 'vitest'
import { FrameDecoder, encodeFrame } from '../src/index.js'

function hex (buf: Uint8Array | Uint8ArrayList): string {
  return toString(buf.subarray(), 'base16')
}

function bytes (length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill)
}

function concat (...parts: Array<Uint8Array | Uint8ArrayList>): Uint8Array {
  return new Uint8ArrayList(...parts).subarray()
}

describe('encodeFrame', () => {
  it('prefixes an unsigned LEB128 varint length', () => {
    expect(hex(encodeFrame(new Uint8Array()))).toBe('00')
    expect(hex(encodeFrame(Uint8Array.from([0xab])))).toBe('01ab')
    expect(hex(encodeFrame(bytes(127, 0)).sublist(0, 1))).toBe('7f')
    expect(hex(encodeFrame(bytes(128, 0)).sublist(0, 2))).toBe('8001')
    expect(hex(encodeFrame(bytes(300, 0)).sublist(0, 2))).toBe('ac02')
    expect(hex(encodeFrame(bytes(4 * 1024 * 1024, 0)).sublist(0, 4))).toBe('80808002')
    expect(encodeFrame(bytes(300, 0)).byteLength).toBe(302)
  })
})

describe('FrameDecoder', () => {
  const payloads = [new Uint8Array(), Uint8Array.from([1]), bytes(300, 7), bytes(128, 9)]
  const stream = concat(...payloads.map(p => encodeFrame(p)))

  it('reassembles frames pushed one byte at a time', () => {
    const decoder = new FrameDecoder(1000)
    const frames: string[] = []
    for (let i = 0; i < stream.byteLength; i++) {
      for (const f of decoder.push(stream.subarray(i, i + 1))) frames.push(hex(f))
    }
    expect(frames).toEqual(payloads.map(p => hex(p)))
    expect(decoder.buffered).toBe(0)
  })

  it('yields several frames from one chunk', () => {
    const decoder = new FrameDecoder(1000)
    expect([...decoder.push(stream)].map(f => hex(f))).toEqual(payloads.map(p => hex(p)))
    expect(decoder.buffered).toBe(0)
  })

  it('keeps a partial frame until the rest arrives', () => {
    const decoder = new FrameDecoder(1000)
    const frame = encodeFrame(bytes(300, 7)).subarray()
    expect([...decoder.push(frame.subarray(0, 100))]).toEqual([])
    expect(decoder.buffered).toBe(100)
    expect([...decoder.push(new Uint8ArrayList(frame.subarray(100)))].map(f => f.byteLength)).toEqual([300])
    expect(decoder.buffered).toBe(0)
  })

  it('accepts a frame of exactly the limit', () => {
    const decoder = new FrameDecoder(300)
    expect([...decoder.push(encodeFrame(bytes(300, 1)))].map(f => f.byteLength)).toEqual([300])
  })

  it('refuses an oversized declared length before the body arrives', () => {
    const decoder = new FrameDecoder(300)
    const header = encodeFrame(bytes(301, 0)).sublist(0, 2).subarray()
    expect(() => [...decoder.push(header)]).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
    expect(decoder.buffered).toBe(2)
  })

  it('refuses a 5 byte varint declaring 4 GiB without waiting for it', () => {
    const decoder = new FrameDecoder(4 * 1024 * 1024)
    expect(() => [...decoder.push(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]))]).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
  })

  it('rejects a length varint longer than 5 bytes', () => {
    const decoder = new FrameDecoder(1000)
    expect(() => [...decoder.push(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))]).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
  })

  it('rejects a long varint even when it arrives byte by byte', () => {
    const decoder = new FrameDecoder(1000)
    for (let i = 0; i < 4; i++) expect([...decoder.push(Uint8Array.from([0x80]))]).toEqual([])
    expect(() => [...decoder.push(Uint8Array.from([0x80]))]).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }))
  })
})
