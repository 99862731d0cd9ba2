import { MAX_ACCESS_FRAME, MAX_ADDRS, MAX_BUSY_HOLDERS, MAX_SCHEDULE_CANDIDATES, MAX_SCHEDULE_DIGESTS, MAX_SCHEDULE_FRAME, MAX_SCHEDULE_QUESTIONS, MAX_SCHEDULE_REPORTS, MAX_SCHEDULE_SUGGESTIONS, MAX_PARTS_PER_FRAME, MAX_CHUNK_SIZE, MAX_GOSSIP_MESSAGE, MAX_HAVE_BATCH, MAX_PIECES, MAX_SEED_FRAME, MAX_SEED_RANGES, MAX_URL_LENGTH, MAX_PIECE_FRAME, MAX_BLOB_SIZE } from './constants.js'
import { isDigest } from './digest.js'
import { MalformedMessageError, MessageTooLargeError } from './errors.js'
import { encodeVarint, readVarint } from './framing.js'
import { parseOriginUrl } from './origin-url.js'
import { AccessAnswer, AccessQuery, Announce, Beacon, PieceMessage, ScheduleRequest, ScheduleResponse, SeedRequest, SeedResponse } from './pb/messages.js'
import type { Bitfield as BitfieldMessage, Cancel, Choke, Error as ErrorMessage, Have, ManifestPart, Open, PieceData, Request } from './pb/messages.js'
import { Uint8ArrayList } from 'uint8arraylist'

/** A decoded piece-protocol frame, discriminated by `type`. */
export type PieceFrame =
  | { type: 'open', open: Open }
  | { type: 'manifest', manifest: ManifestPart[] }
  | { type: 'bitfield', bitfield: BitfieldMessage }
  | { type: 'have', have: Have }
  | { type: 'request', request: Request }
  | { type: 'cancel', cancel: Cancel }
  | { type: 'data', data: PieceDataFrame }
  | { type: 'choke', choke: Choke }
  | { type: 'error', error: ErrorFields }

/** An Error as callers write it: `holders` only on a BUSY that names them. */
export type ErrorFields = Omit<ErrorMessage, 'holders'> & Partial<Pick<ErrorMessage, 'holders'>>

/**
 * Piece data as decoded: the bytes may stay a list of the buffers they
 * arrived in, so a 256 KiB chunk is never copied just to be parsed.
 */
export interface PieceDataFrame extends Omit<PieceData, 'data'> {
  data: Uint8Array | Uint8ArrayList
}

const LIMITS = {
  manifest: MAX_PARTS_PER_FRAME,
  manifest$: { hashes: MAX_PIECES },
  have: { pieces: MAX_HAVE_BATCH },
  error: { holders: MAX_BUSY_HOLDERS },
  error$: { holders$: { addrs: MAX_ADDRS } }
}

function decodeWith<T> (what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err: any) {
    if (err.name === 'MalformedMessageError' || err.name === 'MessageTooLargeError') throw err
    if (err.name === 'MaxLengthError') throw new MessageTooLargeError(`${what}: ${err.message}`)
    throw new MalformedMessageError(`${what} could not be decoded: ${err.message}`)
  }
}

function checkPiece (n: number, what: string): void {
  if (n >= MAX_PIECES) throw new MalformedMessageError(`${what} names piece ${n}, past the ${MAX_PIECES} piece limit`)
}

export function encodePieceFrame (frame: PieceFrame): Uint8Array {
  const message: Partial<PieceMessage> = {}
  switch (frame.type) {
    case 'open': message.open = frame.open; break
    case 'manifest': message.manifest = frame.manifest; break
    case 'bitfield': message.bitfield = frame.bitfield; break
    case 'have': message.have = frame.have; break
    case 'request': message.request = frame.request; break
    case 'cancel': message.cancel = frame.cancel; break
    case 'data': message.data = { ...frame.data, data: (frame.data.data instanceof Uint8Array ? frame.data.data : frame.data.data.subarray()) as Uint8Array<ArrayBuffer> }; break
    case 'choke': message.choke = frame.choke; break
    case 'error': message.error = { ...frame.error, holders: frame.error.holders ?? [] }; break
  }
  return PieceMessage.encode(message)
}

/** Decode and validate one piece-protocol frame (exactly one field set). */
export function decodePieceFrame (buf: Uint8Array | Uint8ArrayList): PieceFrame {
  if (buf.byteLength > MAX_PIECE_FRAME) {
    throw new MessageTooLargeError(`piece frame of ${buf.byteLength} bytes exceeds ${MAX_PIECE_FRAME}`)
  }
  const fast = decodeDataFast(buf)
  if (fast != null) {
    checkPiece(fast.piece, 'data')
    if (fast.data.byteLength > MAX_CHUNK_SIZE) {
      throw new MessageTooLargeError(`data chunk of ${fast.data.byteLength} bytes exceeds ${MAX_CHUNK_SIZE}`)
    }
    return { type: 'data', data: fast }
  }
  const m = decodeWith('piece frame', () => PieceMessage.decode(buf, { limits: LIMITS as any }))
  const frames: PieceFrame[] = []
  if (m.open != null) frames.push({ type: 'open', open: m.open })
  if (m.manifest.length > 0) frames.push({ type: 'manifest', manifest: m.manifest })
  if (m.bitfield != null) frames.push({ type: 'bitfield', bitfield: m.bitfield })
  if (m.have != null) frames.push({ type: 'have', have: m.have })
  if (m.request != null) frames.push({ type: 'request', request: m.request })
  if (m.cancel != null) frames.push({ type: 'cancel', cancel: m.cancel })
  if (m.data != null) frames.push({ type: 'data', data: m.data })
  if (m.choke != null) frames.push({ type: 'choke', choke: m.choke })
  if (m.error != null) {
    // holders come only with a BUSY that names them; an Error without them reads as written
    const { holders, ...error } = m.error
    frames.push({ type: 'error', error: holders.length > 0 ? { ...error, holders } : error })
  }
  if (frames.length !== 1) {
    throw new MalformedMessageError(`piece frame must set exactly one message, it set ${frames.length}`)
  }
  const f = frames[0]!
  switch (f.type) {
    case 'open':
      if (!isDigest(f.open.digest)) throw new MalformedMessageError('open names an invalid digest')
      break
    case 'bitfield':
      if (f.bitfield.pieces > MAX_PIECES || f.bitfield.bits.byteLength !== Math.ceil(f.bitfield.pieces / 8)) {
        throw new MalformedMessageError('bitfield length does not match its piece count')
      }
      break
    case 'have':
      for (const p of f.have.pieces) checkPiece(p, 'have')
      break
    case 'request':
      checkPiece(f.request.piece, 'request')
      break
    case 'cancel':
      checkPiece(f.cancel.piece, 'cancel')
      break
    case 'data':
      checkPiece(f.data.piece, 'data')
      if (f.data.data.byteLength > MAX_CHUNK_SIZE) {
        throw new MessageTooLargeError(`data chunk of ${f.data.data.byteLength} bytes exceeds ${MAX_CHUNK_SIZE}`)
      }
      break
    default:
      break
  }
  return f
}

const DATA_TAG = (7 << 3) | 2

/**
 * A whole piece-protocol frame carrying piece data, built around `data`
 * without copying it: the length prefix and protobuf header, then the bytes.
 * Decoders see an ordinary PieceMessage{data}; the data field comes last.
 */
export function encodePieceDataFrame (piece: number, offset: number, data: Uint8Array, last: boolean): Uint8ArrayList {
  const inner: number[] = []
  if (piece !== 0) inner.push(0x08, ...encodeVarint(piece))
  if (offset !== 0) inner.push(0x10, ...encodeVarint(offset))
  if (last) inner.push(0x20, 0x01)
  inner.push(0x1a, ...encodeVarint(data.byteLength))
  const innerLength = inner.length + data.byteLength
  const outer = [DATA_TAG, ...encodeVarint(innerLength)]
  const header = [...encodeVarint(outer.length + innerLength), ...outer, ...inner]
  return new Uint8ArrayList(Uint8Array.from(header), data)
}

/**
 * Parse a frame that holds only PieceMessage{data} without copying the
 * bytes; undefined for anything else (which then takes the general path).
 */
function decodeDataFast (buf: Uint8Array | Uint8ArrayList): PieceDataFrame | undefined {
  const list = buf instanceof Uint8ArrayList ? buf : new Uint8ArrayList(buf)
  let pos = 0
  const varint = (): number | undefined => {
    const v = readVarint(list, pos)
    if (v != null) pos += v.bytes
    return v?.value
  }
  if (list.byteLength < 2 || list.get(0) !== DATA_TAG) return undefined
  pos = 1
  const innerLength = varint()
  if (innerLength == null || pos + innerLength !== list.byteLength) return undefined
  const frame: PieceDataFrame = { piece: 0, offset: 0, last: false, data: new Uint8Array(0) }
  let sawData = false
  while (pos < list.byteLength) {
    const tag = varint()
    if (tag === 0x08 || tag === 0x10 || tag === 0x20) {
      const v = varint()
      if (v == null) return undefined
      if (tag === 0x08) frame.piece = v
      else if (tag === 0x10) frame.offset = v
      else frame.last = v !== 0
    } else if (tag === 0x1a && !sawData) {
      const length = varint()
      if (length == null || pos + length > list.byteLength) return undefined
      const bytes = list.sublist(pos, pos + length)
      // one underlying buffer: hand out a view of it; several: keep the list
      const chunks = bytes[Symbol.iterator]()
      chunks.next()
      frame.data = chunks.next().done === true ? bytes.subarray() : bytes
      pos += length
      sawData = true
    } else {
      return undefined
    }
  }
  return frame
}

export function encodeSeedRequest (req: Omit<SeedRequest, 'ranges'> & { ranges?: SeedRequest['ranges'] }): Uint8Array {
  return SeedRequest.encode({ ...req, ranges: req.ranges ?? [] })
}

export function decodeSeedRequest (buf: Uint8Array | Uint8ArrayList): SeedRequest {
  if (buf.byteLength > MAX_SEED_FRAME) throw new MessageTooLargeError(`seed request of ${buf.byteLength} bytes exceeds ${MAX_SEED_FRAME}`)
  const req = decodeWith('seed request', () => SeedRequest.decode(buf, { limits: { ranges: MAX_SEED_RANGES } }))
  if (!isDigest(req.digest)) throw new MalformedMessageError('seed request names an invalid digest')
  for (const r of req.ranges) {
    // a range is a request for pieces: it must name some, inside a blob that can exist (and inside this one, when its size is given)
    const end = r.start + r.length
    if (r.length <= 0 || !Number.isSafeInteger(end) || BigInt(end) > MAX_BLOB_SIZE || (req.size > 0 && end > req.size)) {
      throw new MalformedMessageError(`seed request names an invalid range (${r.start} + ${r.length} bytes)`)
    }
  }
  if (req.url.length > MAX_URL_LENGTH) throw new MessageTooLargeError(`seed request URL is longer than ${MAX_URL_LENGTH}`)
  try {
    parseOriginUrl(req.url)
  } catch (err: any) {
    throw new MalformedMessageError(`seed request ${err.message}`)
  }
  return req
}

export function encodeSeedResponse (res: Partial<SeedAnswerMessage>): Uint8Array {
  return SeedResponse.encode({ ...res, error: res.error != null ? { ...res.error, holders: res.error.holders ?? [] } : undefined })
}

/** A seed's answer as decoded: its error without the holders only a piece-protocol BUSY carries. */
export type SeedAnswerMessage = Omit<SeedResponse, 'error'> & { error?: ErrorFields }

export function decodeSeedResponse (buf: Uint8Array | Uint8ArrayList): SeedAnswerMessage {
  if (buf.byteLength > MAX_SEED_FRAME) throw new MessageTooLargeError(`seed response of ${buf.byteLength} bytes exceeds ${MAX_SEED_FRAME}`)
  const res = decodeWith('seed response', () => SeedResponse.decode(buf, { limits: { error$: { holders: MAX_BUSY_HOLDERS } } as any }))
  if (res.error == null) return res
  const error: ErrorFields = { ...res.error }
  delete error.holders
  return { ...res, error }
}

export function encodeAnnounce (a: Partial<Announce>): Uint8Array {
  return Announce.encode(a)
}

export function decodeAnnounce (buf: Uint8Array): Announce {
  if (buf.byteLength > MAX_GOSSIP_MESSAGE) throw new MessageTooLargeError(`announce of ${buf.byteLength} bytes exceeds ${MAX_GOSSIP_MESSAGE}`)
  const a = decodeWith('announce', () => Announce.decode(buf, { limits: { have: MAX_HAVE_BATCH, addrs: MAX_ADDRS } }))
  if (!isDigest(a.digest)) throw new MalformedMessageError('announce names an invalid digest')
  if (a.pieces > MAX_PIECES) throw new MalformedMessageError('announce piece count is too large')
  for (const p of a.have) {
    if (p >= a.pieces) throw new MalformedMessageError(`announce names piece ${p} of a ${a.pieces}-piece blob`)
  }
  return a
}

export function encodeBeacon (b: Partial<Beacon>): Uint8Array {
  return Beacon.encode(b)
}

/** A beacon as decoded: `locality` only when the peer said one. */
export type BeaconFields = Omit<Beacon, 'locality'> & { locality?: string }

export function decodeBeacon (buf: Uint8Array): BeaconFields {
  if (buf.byteLength > MAX_GOSSIP_MESSAGE) throw new MessageTooLargeError(`beacon of ${buf.byteLength} bytes exceeds ${MAX_GOSSIP_MESSAGE}`)
  const b: BeaconFields = decodeWith('beacon', () => Beacon.decode(buf, { limits: { addrs: MAX_ADDRS } }))
  if (b.locality === '') delete b.locality
  return b
}

/** Longest registry host or repository name in an access query (the distribution registry's bounds). */
const MAX_ACCESS_NAME = 255

export function encodeAccessQuery (q: AccessQuery): Uint8Array {
  return AccessQuery.encode(q)
}

export function decodeAccessQuery (buf: Uint8Array | Uint8ArrayList): AccessQuery {
  if (buf.byteLength > MAX_ACCESS_FRAME) throw new MessageTooLargeError(`access query of ${buf.byteLength} bytes exceeds ${MAX_ACCESS_FRAME}`)
  const q = decodeWith('access query', () => AccessQuery.decode(buf))
  if (!isDigest(q.digest)) throw new MalformedMessageError('access query names an invalid digest')
  if (q.registry === '' || q.registry.length > MAX_ACCESS_NAME || q.repository === '' || q.repository.length > MAX_ACCESS_NAME) {
    throw new MalformedMessageError(`access query registry and repository are 1 to ${MAX_ACCESS_NAME} characters`)
  }
  return q
}

export function encodeAccessAnswer (a: AccessAnswer): Uint8Array {
  return AccessAnswer.encode(a)
}

export function decodeAccessAnswer (buf: Uint8Array | Uint8ArrayList): AccessAnswer {
  if (buf.byteLength > MAX_ACCESS_FRAME) throw new MessageTooLargeError(`access answer of ${buf.byteLength} bytes exceeds ${MAX_ACCESS_FRAME}`)
  return decodeWith('access answer', () => AccessAnswer.decode(buf))
}

export function encodeScheduleRequest (r: Partial<ScheduleRequest>): Uint8Array {
  return ScheduleRequest.encode(r)
}

export function decodeScheduleRequest (buf: Uint8Array | Uint8ArrayList): ScheduleRequest {
  if (buf.byteLength > MAX_SCHEDULE_FRAME) throw new MessageTooLargeError(`schedule request of ${buf.byteLength} bytes exceeds ${MAX_SCHEDULE_FRAME}`)
  const r = decodeWith('schedule request', () => ScheduleRequest.decode(buf, {
    limits: {
      reports: MAX_SCHEDULE_REPORTS,
      holding: MAX_SCHEDULE_DIGESTS,
      dropped: MAX_SCHEDULE_DIGESTS,
      beacon$: { addrs: MAX_ADDRS },
      rank$: { candidates: MAX_SCHEDULE_CANDIDATES },
      suggest$: { exclude: MAX_SCHEDULE_CANDIDATES },
      questions: MAX_SCHEDULE_QUESTIONS,
      questions$: { rank$: { candidates: MAX_SCHEDULE_CANDIDATES }, suggest$: { exclude: MAX_SCHEDULE_CANDIDATES } }
    }
  }))
  const asked = [r, ...r.questions]
  const digests = [...r.holding, ...r.dropped, ...r.reports.map(x => x.digest), ...asked.flatMap(q => [q.rank?.digest, q.suggest?.digest]).filter(d => d != null)]
  for (const d of digests) if (!isDigest(d)) throw new MalformedMessageError('schedule request names an invalid digest')
  if (asked.some(q => q.suggest != null && q.suggest.limit > MAX_SCHEDULE_SUGGESTIONS)) throw new MalformedMessageError(`schedule request asks for more than ${MAX_SCHEDULE_SUGGESTIONS} suggestions`)
  return r
}

export function encodeScheduleResponse (r: Partial<ScheduleResponse>): Uint8Array {
  return ScheduleResponse.encode(r)
}

export function decodeScheduleResponse (buf: Uint8Array | Uint8ArrayList): ScheduleResponse {
  if (buf.byteLength > MAX_SCHEDULE_FRAME) throw new MessageTooLargeError(`schedule answer of ${buf.byteLength} bytes exceeds ${MAX_SCHEDULE_FRAME}`)
  return decodeWith('schedule answer', () => ScheduleResponse.decode(buf, {
    limits: {
      ranked: MAX_SCHEDULE_CANDIDATES,
      suggested: MAX_SCHEDULE_SUGGESTIONS,
      suggested$: { addrs: MAX_ADDRS },
      answers: MAX_SCHEDULE_QUESTIONS,
      answers$: { ranked: MAX_SCHEDULE_CANDIDATES, suggested: MAX_SCHEDULE_SUGGESTIONS, suggested$: { addrs: MAX_ADDRS } }
    }
  }))
}
