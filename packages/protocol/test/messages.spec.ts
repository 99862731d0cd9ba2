import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { describe, it, expect } from 'vitest'
import {
  AccessQuery, ErrorMessage, MAX_ACCESS_FRAME, MAX_ADDRS, MAX_BUSY_HOLDERS, MAX_CHUNK_SIZE, MAX_GOSSIP_MESSAGE, MAX_HAVE_BATCH, MAX_PIECE_FRAME, MAX_PIECES, MAX_SEED_FRAME, MAX_SEED_RANGES, MAX_URL_LENGTH,
  decodeAnnounce, decodeBeacon, decodePieceFrame, decodeSeedRequest, decodeSeedResponse,
  encodeAnnounce, encodeBeacon, encodeFrame, encodePieceFrame, encodeSeedRequest, encodeSeedResponse,
  decodeAccessAnswer, decodeAccessQuery, encodeAccessAnswer, encodeAccessQuery,
  decodeScheduleRequest, decodeScheduleResponse, encodeScheduleRequest, encodeScheduleResponse, MAX_SCHEDULE_QUESTIONS, MAX_SCHEDULE_SUGGESTIONS
} from '../src/index.js'
import type { PieceFrame } from '../src/index.js'

const DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

function hex (buf: Uint8Array): string {
  return toString(buf, 'base16')
}

function fromHex (s: string): Uint8Array {
  return fromString(s, 'base16')
}

function expectError (fn: () => unknown, name: string): void {
  expect(fn).toThrow(expect.objectContaining({ name }))
}

/** xorshift32, so the garbage is the same on every run. */
function prng (seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x100000000
  }
}

const frames: PieceFrame[] = [
  { type: 'open', open: { digest: DIGEST, wantManifest: true } },
  { type: 'open', open: { digest: DIGEST, wantManifest: false } },
  {
    type: 'manifest',
    manifest: [{
      digest: DIGEST,
      size: 3 * 1024 * 1024,
      pieceSize: 1024 * 1024,
      first: 1,
      hashes: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)],
      signer: Uint8Array.from([8, 1, 18, 32, ...new Uint8Array(32).fill(3)]),
      signature: new Uint8Array(64).fill(4)
    }]
  },
  { type: 'bitfield', bitfield: { pieces: 10, bits: Uint8Array.from([0xa5, 0xc0]) } },
  { type: 'bitfield', bitfield: { pieces: 0, bits: new Uint8Array() } },
  { type: 'have', have: { pieces: [0, 1, 300, MAX_PIECES - 1] } },
  { type: 'request', request: { piece: 0 } },
  { type: 'request', request: { piece: MAX_PIECES - 1 } },
  { type: 'cancel', cancel: { piece: 7 } },
  { type: 'data', data: { piece: 2, offset: 262144, data: Uint8Array.from([1, 2, 3]), last: true } },
  { type: 'data', data: { piece: 0, offset: 0, data: new Uint8Array(1000).fill(0xee), last: false } },
  { type: 'choke', choke: { retryAfterMs: 1500 } },
  { type: 'error', error: { code: ErrorMessage.Code.NOT_FOUND, message: 'no such blob' } },
  { type: 'error', error: { code: ErrorMessage.Code.UNKNOWN, message: '' } },
  { type: 'error', error: { code: ErrorMessage.Code.BUSY, message: 'just sent', piece: 7, holders: [{ peer: new Uint8Array([0, 36, 8, 1]), addrs: [new Uint8Array([4, 127, 0, 0, 1, 6, 15, 161])] }] } }
]

describe('piece frames', () => {
  it.each(frames.map(f => [f.type, f] as const))('round trips %s', (_type, frame) => {
    expect(decodePieceFrame(encodePieceFrame(frame))).toEqual(frame)
  })

  it('encodes to the protobuf bytes other implementations expect', () => {
    expect(hex(encodePieceFrame({ type: 'request', request: { piece: 0 } }))).toBe('2a00')
    expect(hex(encodePieceFrame({ type: 'request', request: { piece: 300 } }))).toBe('2a0308ac02')
    expect(hex(encodePieceFrame({ type: 'cancel', cancel: { piece: 5 } }))).toBe('32020805')
    expect(hex(encodePieceFrame({ type: 'choke', choke: { retryAfterMs: 0 } }))).toBe('4200')
    expect(hex(encodePieceFrame({ type: 'error', error: { code: ErrorMessage.Code.BUSY, message: 'x' } }))).toBe('4a0508031201' + '78')
    // repeated uint32 is written unpacked: one tag per index
    expect(hex(encodePieceFrame({ type: 'have', have: { pieces: [1, 2] } }))).toBe('220408010802')
  })

  it('skips fields it does not know, so new optional fields stay compatible', () => {
    // field 15 (varint 1) followed by Request{piece: 3}
    expect(decodePieceFrame(fromHex('78012a020803'))).toEqual({ type: 'request', request: { piece: 3 } })
    // Request with an unknown field 9 of type bytes
    expect(decodePieceFrame(fromHex('2a0508034a01ff'))).toEqual({ type: 'request', request: { piece: 3 } })
  })

  it('takes a BUSY answer naming at most MAX_BUSY_HOLDERS holders', () => {
    const holder = { peer: new Uint8Array([0, 36, 8, 1]), addrs: [] }
    const busy = (n: number): PieceFrame => ({ type: 'error', error: { code: ErrorMessage.Code.BUSY, message: '', piece: 1, holders: Array.from({ length: n }, () => holder) } })
    expect(decodePieceFrame(encodePieceFrame(busy(MAX_BUSY_HOLDERS)))).toEqual(busy(MAX_BUSY_HOLDERS))
    expectError(() => decodePieceFrame(encodePieceFrame(busy(MAX_BUSY_HOLDERS + 1))), 'MessageTooLargeError')
  })

  it('rejects a frame with no message', () => {
    expectError(() => decodePieceFrame(new Uint8Array()), 'MalformedMessageError')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'manifest', manifest: [] })), 'MalformedMessageError')
  })

  it('rejects a frame setting two messages', () => {
    const two = new Uint8Array([
      ...encodePieceFrame({ type: 'request', request: { piece: 1 } }),
      ...encodePieceFrame({ type: 'cancel', cancel: { piece: 1 } })
    ])
    expectError(() => decodePieceFrame(two), 'MalformedMessageError')
  })

  it('rejects random garbage with a protocol error, never anything else', () => {
    const random = prng(0x5eed)
    let rejected = 0
    for (let i = 0; i < 2000; i++) {
      const buf = new Uint8Array(1 + Math.floor(random() * 64))
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(random() * 256)
      try {
        const f = decodePieceFrame(buf)
        expect(['open', 'manifest', 'bitfield', 'have', 'request', 'cancel', 'data', 'choke', 'error']).toContain(f.type)
      } catch (err: any) {
        expect(['MalformedMessageError', 'MessageTooLargeError']).toContain(err.name)
        rejected++
      }
    }
    expect(rejected).toBeGreaterThan(1900)
  })

  it('rejects truncated and invalid protobuf', () => {
    expectError(() => decodePieceFrame(fromHex('2a')), 'MalformedMessageError')
    expectError(() => decodePieceFrame(fromHex('2a0508')), 'MalformedMessageError')
    expectError(() => decodePieceFrame(fromHex('ffffffffffffffffffff')), 'MalformedMessageError')
  })

  it('rejects a frame larger than MAX_PIECE_FRAME', () => {
    expectError(() => decodePieceFrame(new Uint8Array(MAX_PIECE_FRAME + 1)), 'MessageTooLargeError')
  })

  it('rejects a data chunk larger than MAX_CHUNK_SIZE', () => {
    const full = decodePieceFrame(encodePieceFrame({ type: 'data', data: { piece: 0, offset: 0, data: new Uint8Array(MAX_CHUNK_SIZE), last: false } }))
    expect(full.type === 'data' && full.data.data.byteLength).toBe(MAX_CHUNK_SIZE)
    const big = encodePieceFrame({ type: 'data', data: { piece: 0, offset: 0, data: new Uint8Array(MAX_CHUNK_SIZE + 1), last: true } })
    expectError(() => decodePieceFrame(big), 'MessageTooLargeError')
  })

  it('rejects piece indices at or past MAX_PIECES', () => {
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'request', request: { piece: MAX_PIECES } })), 'MalformedMessageError')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'cancel', cancel: { piece: MAX_PIECES } })), 'MalformedMessageError')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'have', have: { pieces: [1, MAX_PIECES] } })), 'MalformedMessageError')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'data', data: { piece: 0xffffffff, offset: 0, data: new Uint8Array(1), last: true } })), 'MalformedMessageError')
  })

  it('rejects a Have batch larger than MAX_HAVE_BATCH', () => {
    const pieces = Array.from({ length: MAX_HAVE_BATCH }, (_, i) => i)
    expect(decodePieceFrame(encodePieceFrame({ type: 'have', have: { pieces } }))).toEqual({ type: 'have', have: { pieces } })
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'have', have: { pieces: [...pieces, MAX_HAVE_BATCH] } })), 'MessageTooLargeError')
  })

  it('rejects more than 64 manifest parts in one frame', () => {
    const part = (frames[2] as Extract<PieceFrame, { type: 'manifest' }>).manifest[0]!
    expect(decodePieceFrame(encodePieceFrame({ type: 'manifest', manifest: Array(64).fill(part) })).type).toBe('manifest')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'manifest', manifest: Array(65).fill(part) })), 'MessageTooLargeError')
  })

  it('rejects a bitfield whose length does not match its piece count', () => {
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'bitfield', bitfield: { pieces: 10, bits: Uint8Array.from([0xff]) } })), 'MalformedMessageError')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'bitfield', bitfield: { pieces: 8, bits: Uint8Array.from([0xff, 0]) } })), 'MalformedMessageError')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'bitfield', bitfield: { pieces: MAX_PIECES + 8, bits: new Uint8Array(MAX_PIECES / 8 + 1) } })), 'MalformedMessageError')
  })

  it('rejects an Open naming an invalid digest', () => {
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'open', open: { digest: DIGEST.toUpperCase(), wantManifest: true } })), 'MalformedMessageError')
    expectError(() => decodePieceFrame(encodePieceFrame({ type: 'open', open: { digest: '', wantManifest: true } })), 'MalformedMessageError')
  })

  it('rejects an Error code it does not know', () => {
    // Error{code: 7}; see "Versioning" in docs/protocol.md
    expectError(() => decodePieceFrame(fromHex('4a020807')), 'MalformedMessageError')
  })
})

describe('seed messages', () => {
  const req = { digest: DIGEST, url: 'https://registry.example/v2/library/nginx/blobs/' + DIGEST, size: 1234 }

  it('round trips a request and a response', () => {
    expect(decodeSeedRequest(encodeSeedRequest(req))).toEqual({ ...req, ranges: [] })
    expect(decodeSeedRequest(encodeSeedRequest({ ...req, url: 'http://10.0.0.1:5000/x', size: 0 }))).toEqual({ ...req, url: 'http://10.0.0.1:5000/x', size: 0, ranges: [] })
    const ranged = { ...req, ranges: [{ start: 0, length: 17 }, { start: 1000, length: 234 }] }
    expect(decodeSeedRequest(encodeSeedRequest(ranged))).toEqual(ranged)
    const ok = { accepted: true, size: 1234, pieceSize: 1048576 }
    expect(decodeSeedResponse(encodeSeedResponse(ok))).toEqual(ok)
    const refused = { accepted: false, size: 0, pieceSize: 0, error: { code: ErrorMessage.Code.ORIGIN, message: 'upstream said 404' } }
    expect(decodeSeedResponse(encodeSeedResponse(refused))).toEqual(refused)
  })

  it('rejects an invalid digest', () => {
    expectError(() => decodeSeedRequest(encodeSeedRequest({ ...req, digest: 'sha512:00' })), 'MalformedMessageError')
  })

  it.each([
    ['an empty range', { start: 0, length: 0 }],
    ['a range past the size the request gives', { start: 1000, length: 235 }],
    ['a range past the largest blob', { start: 2 ** 52, length: 2 ** 52 }],
    ['a range whose end is not a safe integer', { start: 2 ** 53 - 2, length: 10 }]
  ])('rejects %s', (_what, range) => {
    expectError(() => decodeSeedRequest(encodeSeedRequest({ ...req, ranges: [range] })), 'MalformedMessageError')
  })

  it('rejects more than MAX_SEED_RANGES ranges', () => {
    const ranges = Array.from({ length: MAX_SEED_RANGES + 1 }, (_, i) => ({ start: i, length: 1 }))
    expect(decodeSeedRequest(encodeSeedRequest({ ...req, ranges: ranges.slice(0, MAX_SEED_RANGES) })).ranges).toHaveLength(MAX_SEED_RANGES)
    expectError(() => decodeSeedRequest(encodeSeedRequest({ ...req, ranges })), 'MessageTooLargeError')
  })

  it.each([
    ['not a URL', 'registry.example/v2/x'],
    ['an empty URL', ''],
    ['an ftp URL', 'ftp://registry.example/blob'],
    ['a file URL', 'file:///etc/passwd'],
    ['a data URL', 'data:text/plain,hello'],
    ['a URL with a user and password', 'https://user:secret@registry.example/blob'],
    ['a URL with a user', 'https://token@registry.example/blob']
  ])('rejects %s', (_what, url) => {
    expectError(() => decodeSeedRequest(encodeSeedRequest({ ...req, url })), 'MalformedMessageError')
  })

  it('rejects a URL longer than MAX_URL_LENGTH', () => {
    const base = 'https://registry.example/'
    const longest = base + 'a'.repeat(MAX_URL_LENGTH - base.length)
    expect(decodeSeedRequest(encodeSeedRequest({ ...req, url: longest })).url).toBe(longest)
    expectError(() => decodeSeedRequest(encodeSeedRequest({ ...req, url: longest + 'a' })), 'MessageTooLargeError')
  })

  it('rejects frames larger than MAX_SEED_FRAME', () => {
    expectError(() => decodeSeedRequest(new Uint8Array(MAX_SEED_FRAME + 1)), 'MessageTooLargeError')
    expectError(() => decodeSeedResponse(new Uint8Array(MAX_SEED_FRAME + 1)), 'MessageTooLargeError')
  })
})

describe('gossip messages', () => {
  const announce = { digest: DIGEST, pieces: 10, have: [0, 9], complete: false, addrs: [Uint8Array.from([4, 127, 0, 0, 1, 6, 0x0f, 0xa1])], withdrawn: false }
  const beacon = { uploadBps: 125_000_000, activeUploads: 3, freeUploadSlots: 5, seed: true, addrs: [Uint8Array.from([4, 10, 0, 0, 2, 6, 0x0f, 0xa1])] }

  it('round trips Announce and Beacon', () => {
    expect(decodeAnnounce(encodeAnnounce(announce))).toEqual(announce)
    expect(decodeBeacon(encodeBeacon(beacon))).toEqual(beacon)
  })

  it('rejects an Announce naming a piece past the blob', () => {
    expectError(() => decodeAnnounce(encodeAnnounce({ ...announce, have: [10] })), 'MalformedMessageError')
    expectError(() => decodeAnnounce(encodeAnnounce({ ...announce, pieces: MAX_PIECES + 1, have: [] })), 'MalformedMessageError')
  })

  it('rejects an Announce with an invalid digest', () => {
    expectError(() => decodeAnnounce(encodeAnnounce({ ...announce, digest: 'sha256:xyz' })), 'MalformedMessageError')
  })

  it('rejects too many addresses or pieces', () => {
    const addrs = Array(MAX_ADDRS + 1).fill(announce.addrs[0])
    expectError(() => decodeAnnounce(encodeAnnounce({ ...announce, addrs })), 'MessageTooLargeError')
    expectError(() => decodeBeacon(encodeBeacon({ ...beacon, addrs })), 'MessageTooLargeError')
    const have = Array.from({ length: MAX_HAVE_BATCH + 1 }, (_, i) => i)
    expectError(() => decodeAnnounce(encodeAnnounce({ ...announce, pieces: MAX_PIECES, have })), 'MessageTooLargeError')
  })

  it('rejects gossip larger than MAX_GOSSIP_MESSAGE', () => {
    expectError(() => decodeAnnounce(new Uint8Array(MAX_GOSSIP_MESSAGE + 1)), 'MessageTooLargeError')
    expectError(() => decodeBeacon(new Uint8Array(MAX_GOSSIP_MESSAGE + 1)), 'MessageTooLargeError')
  })
})

describe('piece data frames built without copying', () => {
  it('decode to the same message as the protobuf encoding, in one buffer or split anywhere', async () => {
    const { encodePieceDataFrame, FrameDecoder, MAX_PIECE_FRAME } = await import('../src/index.js')
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
    for (const [piece, offset, last] of [[0, 0, false], [7, 262144, true], [65535, 1, false]] as const) {
      const frame = encodePieceDataFrame(piece, offset, data, last).subarray()
      const viaProtobuf = encodeFrame(encodePieceFrame({ type: 'data', data: { piece, offset, data, last } }))
      for (const bytes of [frame, viaProtobuf.subarray()]) {
        for (const split of [1, 3, 17, 500, bytes.byteLength]) {
          const decoder = new FrameDecoder(MAX_PIECE_FRAME)
          const frames = []
          for (let i = 0; i < bytes.byteLength; i += split) frames.push(...decoder.push(bytes.subarray(i, i + split)))
          expect(frames).toHaveLength(1)
          const f = decodePieceFrame(frames[0]!)
          expect(f.type).toBe('data')
          if (f.type !== 'data') return
          expect(f.data.piece).toBe(piece)
          expect(f.data.offset).toBe(offset)
          expect(f.data.last).toBe(last)
          const got = f.data.data instanceof Uint8Array ? f.data.data : f.data.data.subarray()
          expect(equals(got, data)).toBe(true)
        }
      }
    }
  })

  it('still enforces the chunk limit and the piece limit', async () => {
    const { encodePieceDataFrame, MAX_PIECES: maxPieces } = await import('../src/index.js')
    const big = encodePieceDataFrame(1, 0, new Uint8Array(MAX_CHUNK_SIZE + 1), true).subarray()
    expectError(() => decodePieceFrame(stripLength(big)), 'MessageTooLargeError')
    const far = encodePieceDataFrame(maxPieces, 0, new Uint8Array(8), true).subarray()
    expectError(() => decodePieceFrame(stripLength(far)), 'MalformedMessageError')
  })
})

/** The frame body without its varint length prefix. */
function stripLength (frame: Uint8Array): Uint8Array {
  let i = 0
  while ((frame[i]! & 0x80) !== 0) i++
  return frame.subarray(i + 1)
}

describe('parseOriginUrl', () => {
  it('accepts http and https URLs and says what is wrong with others', async () => {
    const { parseOriginUrl } = await import('../src/index.js')
    expect(parseOriginUrl('https://registry.example:5000/v2/x/blobs/sha256:00').host).toBe('registry.example:5000')
    expect(parseOriginUrl('http://127.0.0.1/blob').protocol).toBe('http:')
    expect(() => parseOriginUrl('registry.example/x')).toThrow(/is not a URL/)
    expect(() => parseOriginUrl('ftp://registry.example/x')).toThrow(/scheme ftp: is not http or https/)
    expect(() => parseOriginUrl('https://user:secret@registry.example/x')).toThrow(/must not carry credentials/)
    expectError(() => parseOriginUrl('https://token@registry.example/x'), 'InvalidUrlError')
  })
})

describe('64-bit sizes', () => {
  // protons-runtime 7.1.2 wrote uint64 values in [2^31, 2^32) as garbage: a 2 GiB blob's
  // SeedResponse decoded to size 0 and the peer gave up on its seed
  const sizes = [2 ** 31 - 1, 2 ** 31, 3_000_000_000, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]

  it('survive a round trip in every message that carries one', () => {
    for (const size of sizes) {
      expect(decodeSeedResponse(encodeSeedResponse({ accepted: true, size, pieceSize: 1 << 20 })).size, String(size)).toBe(size)
      expect(decodeSeedRequest(encodeSeedRequest({ digest: DIGEST, url: 'http://x/', size })).size, String(size)).toBe(size)
      expect(decodeBeacon(encodeBeacon({ uploadBps: size, activeUploads: 0, freeUploadSlots: 0, seed: false, addrs: [] })).uploadBps, String(size)).toBe(size)
    }
  })

  describe('access protocol', () => {
    const query = { registry: 'docker.io', repository: 'library/nginx', digest: DIGEST, kind: AccessQuery.Kind.BLOB }

    it('round trips a query and an answer', () => {
      expect(decodeAccessQuery(encodeAccessQuery(query))).toEqual(query)
      expect(decodeAccessAnswer(encodeAccessAnswer({ public: true }))).toEqual({ public: true })
    })

    it('rejects a query with a bad digest, an empty or overlong name, or too many bytes', () => {
      expectError(() => decodeAccessQuery(encodeAccessQuery({ ...query, digest: 'sha256:xyz' })), 'MalformedMessageError')
      expectError(() => decodeAccessQuery(encodeAccessQuery({ ...query, registry: '' })), 'MalformedMessageError')
      expectError(() => decodeAccessQuery(encodeAccessQuery({ ...query, repository: 'a'.repeat(256) })), 'MalformedMessageError')
      expectError(() => decodeAccessQuery(new Uint8Array(MAX_ACCESS_FRAME + 1)), 'MessageTooLargeError')
      expectError(() => decodeAccessQuery(Uint8Array.from([0xff, 0xff])), 'MalformedMessageError')
    })
  })
})

describe('schedule messages', () => {
  const OTHER = `sha256:${'ab'.repeat(32)}`
  const question = { suggest: { digest: OTHER, limit: 8, exclude: [] } }

  it('round trip a request carrying further questions, and an answer to each', () => {
    const req = decodeScheduleRequest(encodeScheduleRequest({ suggest: { digest: DIGEST, limit: 8, exclude: [] }, questions: [question, { rank: { digest: OTHER, candidates: [Uint8Array.of(1, 2)] } }] }))
    expect(req.suggest?.digest).toBe(DIGEST)
    expect(req.questions.map(q => [q.suggest?.digest, q.rank?.digest])).toEqual([[OTHER, undefined], [undefined, OTHER]])
    const res = decodeScheduleResponse(encodeScheduleResponse({ ranked: [], suggested: [], answers: [{ ranked: [Uint8Array.of(1, 2)], suggested: [] }] }))
    expect(res.answers).toHaveLength(1)
    expect(res.answers[0]!.ranked).toEqual([Uint8Array.of(1, 2)])
  })

  it('reject more than MAX_SCHEDULE_QUESTIONS questions or answers, and a question with a bad digest or too large a limit', () => {
    expectError(() => decodeScheduleRequest(encodeScheduleRequest({ questions: Array(MAX_SCHEDULE_QUESTIONS + 1).fill(question) })), 'MessageTooLargeError')
    expect(decodeScheduleRequest(encodeScheduleRequest({ questions: Array(MAX_SCHEDULE_QUESTIONS).fill(question) })).questions).toHaveLength(MAX_SCHEDULE_QUESTIONS)
    expectError(() => decodeScheduleRequest(encodeScheduleRequest({ questions: [{ rank: { digest: 'sha256:xyz', candidates: [] } }] })), 'MalformedMessageError')
    expectError(() => decodeScheduleRequest(encodeScheduleRequest({ questions: [{ suggest: { digest: OTHER, limit: MAX_SCHEDULE_SUGGESTIONS + 1, exclude: [] } }] })), 'MalformedMessageError')
    expectError(() => decodeScheduleResponse(encodeScheduleResponse({ answers: Array(MAX_SCHEDULE_QUESTIONS + 1).fill({ ranked: [], suggested: [] }) })), 'MessageTooLargeError')
  })
})
