import fc from 'fast-check'
import { concat } from 'uint8arrays/concat'
import { describe, expect, it } from 'vitest'
import {
  decodeAccessAnswer, decodeAccessQuery, decodeAnnounce, decodeBeacon, decodePieceFrame, decodeSeedRequest, decodeSeedResponse,
  encodeFrame, encodePieceFrame, FrameDecoder, MAX_PIECE_FRAME, parseSwarmKey
} from '../src/index.js'
import type { PieceFrame } from '../src/index.js'

/**
 * Everything a peer sends is parsed by these. Fed anything, each returns a
 * value or throws one of the errors a caller knows how to answer (the peer
 * is then reset and banned); nothing else escapes, nothing hangs. Seeded
 * and bounded, so a run is repeatable and takes a second or two.
 */
const FUZZ = { seed: 0x0da5e1f1, numRuns: 2000 } as const
const PEER_ERRORS = new Set(['MalformedMessageError', 'MessageTooLargeError'])

function peerError (fn: () => unknown): void {
  try {
    fn()
  } catch (err: any) {
    if (!PEER_ERRORS.has(err?.name)) throw err
  }
}

const digest = fc.stringMatching(/^sha256:[0-9a-f]{64}$/)
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 })
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max })

/** Frames as a well-meaning or confused peer would build them, then possibly cut or flipped. */
const frame: fc.Arbitrary<PieceFrame> = fc.oneof(
  fc.record({ type: fc.constant('open' as const), open: fc.record({ digest: fc.oneof(digest, fc.string()), wantManifest: fc.boolean() }) }),
  fc.record({ type: fc.constant('bitfield' as const), bitfield: fc.record({ pieces: u32, bits: bytes(64) }) }),
  fc.record({ type: fc.constant('have' as const), have: fc.record({ pieces: fc.array(u32, { maxLength: 32 }) }) }),
  fc.record({ type: fc.constant('request' as const), request: fc.record({ piece: u32 }) }),
  fc.record({ type: fc.constant('cancel' as const), cancel: fc.record({ piece: u32 }) }),
  fc.record({ type: fc.constant('choke' as const), choke: fc.record({ retryAfterMs: u32 }) }),
  fc.record({ type: fc.constant('data' as const), data: fc.record({ piece: u32, offset: u32, data: bytes(512), last: fc.boolean() }) })
) as fc.Arbitrary<PieceFrame>

describe('fuzzing what peers send', () => {
  it('piece frames: any bytes decode or fail with a peer error', () => {
    fc.assert(fc.property(bytes(2048), b => { peerError(() => decodePieceFrame(b)) }), FUZZ)
  })

  it('piece frames: real frames, mangled, still only decode or fail with a peer error', () => {
    fc.assert(fc.property(frame, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (f, at, value, cut) => {
      let encoded: Uint8Array
      try {
        encoded = encodePieceFrame(f)
      } catch {
        return
      }
      const b = Uint8Array.from(encoded)
      if (b.length > 0) b[at % b.length] = value
      peerError(() => decodePieceFrame(cut ? b.subarray(0, at % (b.length + 1)) : b))
    }), FUZZ)
  })

  it('the frame decoder splits any stream, in any chunks, and never buffers past its limit', () => {
    fc.assert(fc.property(fc.array(bytes(300), { maxLength: 20 }), chunks => {
      const decoder = new FrameDecoder(1024)
      peerError(() => {
        for (const chunk of chunks) {
          for (const f of decoder.push(chunk)) expect(f.byteLength).toBeLessThanOrEqual(1024)
          expect(decoder.buffered).toBeLessThanOrEqual(1024 + 5)
        }
      })
    }), FUZZ)
  })

  it('whole frames come back whole, however the stream is cut', () => {
    fc.assert(fc.property(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (frames, cuts) => {
      const encoded = frames.flatMap(f => { try { return [encodeFrame(encodePieceFrame(f)).subarray()] } catch { return [] } })
      const stream = concat(encoded)
      const points = [...new Set(cuts.map(c => c % (stream.length + 1)))].sort((a, b) => a - b)
      const decoder = new FrameDecoder(MAX_PIECE_FRAME)
      let got = 0
      let last = 0
      for (const p of [...points, stream.length]) {
        got += [...decoder.push(stream.subarray(last, p))].length
        last = p
      }
      expect(got).toBe(encoded.length)
    }), FUZZ)
  })

  it('seed, access and gossip messages: any bytes decode or fail with a peer error', () => {
    const decoders: Array<(b: Uint8Array) => unknown> = [decodeSeedRequest, decodeSeedResponse, decodeAccessQuery, decodeAccessAnswer, decodeAnnounce, decodeBeacon]
    fc.assert(fc.property(bytes(1024), fc.nat(decoders.length - 1), (b, i) => { peerError(() => decoders[i]!(b)) }), FUZZ)
  })

  it('swarm key files: any text parses or fails with InvalidSwarmKeyError', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.constant('/key/swarm/psk/1.0.0/\n/base16/\n').chain(h => fc.string().map(s => h + s))), text => {
      try {
        expect(parseSwarmKey(text)).toHaveLength(32)
      } catch (err: any) {
        expect(err.name).toBe('InvalidSwarmKeyError')
      }
    }), FUZZ)
  })
})
