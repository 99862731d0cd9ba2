import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ManifestPart {
  digest: string
  size: number
  pieceSize: number
  first: number
  hashes: Uint8Array<ArrayBuffer>[]
  signer: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace ManifestPart {
  let _codec: Codec<ManifestPart>

  export const codec = (): Codec<ManifestPart> => {
    if (_codec == null) {
      _codec = message<ManifestPart>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.size)
        }

        if ((obj.pieceSize != null && obj.pieceSize !== 0)) {
          w.uint32(24)
          w.uint32(obj.pieceSize)
        }

        if ((obj.first != null && obj.first !== 0)) {
          w.uint32(32)
          w.uint32(obj.first)
        }

        if (obj.hashes != null && obj.hashes.length > 0) {
          for (const value of obj.hashes) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if ((obj.signer != null && obj.signer.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.signer)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          size: 0,
          pieceSize: 0,
          first: 0,
          hashes: [],
          signer: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.string()
              break
            }
            case 2: {
              obj.size = reader.uint64Number()
              break
            }
            case 3: {
              obj.pieceSize = reader.uint32()
              break
            }
            case 4: {
              obj.first = reader.uint32()
              break
            }
            case 5: {
              if (opts.limits?.hashes != null && obj.hashes.length === opts.limits.hashes) {
                throw new MaxLengthError('Decode error - repeated field "hashes" had too many elements')
              }

              obj.hashes.push(reader.bytes())
              break
            }
            case 6: {
              obj.signer = reader.bytes()
              break
            }
            case 7: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          hashes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.digest`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.pieceSize`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.first`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              if (opts.limits?.hashes != null && obj.hashes === opts.limits.hashes) {
                throw new MaxLengthError('Streaming decode error - repeated field "hashes" had too many elements')
              }

              yield {
                field: `${prefix}.hashes[]`,
                index: obj.hashes,
                value: reader.bytes()
              }

              obj.hashes++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.signer`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ManifestPartDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface ManifestPartSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface ManifestPartPieceSizeFieldEvent {
    field: '$.pieceSize'
    value: number
  }

  export interface ManifestPartFirstFieldEvent {
    field: '$.first'
    value: number
  }

  export interface ManifestPartHashesFieldEvent {
    field: '$.hashes[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ManifestPartSignerFieldEvent {
    field: '$.signer'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ManifestPartSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ManifestPart>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ManifestPart.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ManifestPart>): ManifestPart {
    return decodeMessage(buf, ManifestPart.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ManifestPart>): Generator<ManifestPartDigestFieldEvent | ManifestPartSizeFieldEvent | ManifestPartPieceSizeFieldEvent | ManifestPartFirstFieldEvent | ManifestPartHashesFieldEvent | ManifestPartSignerFieldEvent | ManifestPartSignatureFieldEvent> {
    return streamMessage(buf, ManifestPart.codec(), opts)
  }
}

export interface Open {
  digest: string
  wantManifest: boolean
}

export namespace Open {
  let _codec: Codec<Open>

  export const codec = (): Codec<Open> => {
    if (_codec == null) {
      _codec = message<Open>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.wantManifest != null && obj.wantManifest !== false)) {
          w.uint32(16)
          w.bool(obj.wantManifest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          wantManifest: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.string()
              break
            }
            case 2: {
              obj.wantManifest = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.digest`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.wantManifest`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface OpenDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface OpenWantManifestFieldEvent {
    field: '$.wantManifest'
    value: boolean
  }

  export function encode (obj: Partial<Open>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Open.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Open>): Open {
    return decodeMessage(buf, Open.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Open>): Generator<OpenDigestFieldEvent | OpenWantManifestFieldEvent> {
    return streamMessage(buf, Open.codec(), opts)
  }
}

export interface Bitfield {
  pieces: number
  bits: Uint8Array<ArrayBuffer>
}

export namespace Bitfield {
  let _codec: Codec<Bitfield>

  export const codec = (): Codec<Bitfield> => {
    if (_codec == null) {
      _codec = message<Bitfield>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.pieces != null && obj.pieces !== 0)) {
          w.uint32(8)
          w.uint32(obj.pieces)
        }

        if ((obj.bits != null && obj.bits.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.bits)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pieces: 0,
          bits: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.pieces = reader.uint32()
              break
            }
            case 2: {
              obj.bits = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.pieces`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.bits`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BitfieldPiecesFieldEvent {
    field: '$.pieces'
    value: number
  }

  export interface BitfieldBitsFieldEvent {
    field: '$.bits'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Bitfield>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Bitfield.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bitfield>): Bitfield {
    return decodeMessage(buf, Bitfield.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Bitfield>): Generator<BitfieldPiecesFieldEvent | BitfieldBitsFieldEvent> {
    return streamMessage(buf, Bitfield.codec(), opts)
  }
}

export interface Have {
  pieces: number[]
}

export namespace Have {
  let _codec: Codec<Have>

  export const codec = (): Codec<Have> => {
    if (_codec == null) {
      _codec = message<Have>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.pieces != null && obj.pieces.length > 0) {
          for (const value of obj.pieces) {
            w.uint32(8)
            w.uint32(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pieces: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.pieces != null && obj.pieces.length === opts.limits.pieces) {
                throw new MaxLengthError('Decode error - repeated field "pieces" had too many elements')
              }

              obj.pieces.push(reader.uint32())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          pieces: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.pieces != null && obj.pieces === opts.limits.pieces) {
                throw new MaxLengthError('Streaming decode error - repeated field "pieces" had too many elements')
              }

              yield {
                field: `${prefix}.pieces[]`,
                index: obj.pieces,
                value: reader.uint32()
              }

              obj.pieces++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HavePiecesFieldEvent {
    field: '$.pieces[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<Have>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Have.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Have {
    return decodeMessage(buf, Have.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Generator<HavePiecesFieldEvent> {
    return streamMessage(buf, Have.codec(), opts)
  }
}

export interface Request {
  piece: number
}

export namespace Request {
  let _codec: Codec<Request>

  export const codec = (): Codec<Request> => {
    if (_codec == null) {
      _codec = message<Request>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.piece != null && obj.piece !== 0)) {
          w.uint32(8)
          w.uint32(obj.piece)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          piece: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.piece = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.piece`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RequestPieceFieldEvent {
    field: '$.piece'
    value: number
  }

  export function encode (obj: Partial<Request>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Request.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Request {
    return decodeMessage(buf, Request.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Generator<RequestPieceFieldEvent> {
    return streamMessage(buf, Request.codec(), opts)
  }
}

export interface Cancel {
  piece: number
}

export namespace Cancel {
  let _codec: Codec<Cancel>

  export const codec = (): Codec<Cancel> => {
    if (_codec == null) {
      _codec = message<Cancel>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.piece != null && obj.piece !== 0)) {
          w.uint32(8)
          w.uint32(obj.piece)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          piece: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.piece = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.piece`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CancelPieceFieldEvent {
    field: '$.piece'
    value: number
  }

  export function encode (obj: Partial<Cancel>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Cancel.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Cancel>): Cancel {
    return decodeMessage(buf, Cancel.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Cancel>): Generator<CancelPieceFieldEvent> {
    return streamMessage(buf, Cancel.codec(), opts)
  }
}

export interface PieceData {
  piece: number
  offset: number
  data: Uint8Array<ArrayBuffer>
  last: boolean
}

export namespace PieceData {
  let _codec: Codec<PieceData>

  export const codec = (): Codec<PieceData> => {
    if (_codec == null) {
      _codec = message<PieceData>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.piece != null && obj.piece !== 0)) {
          w.uint32(8)
          w.uint32(obj.piece)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(16)
          w.uint32(obj.offset)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.data)
        }

        if ((obj.last != null && obj.last !== false)) {
          w.uint32(32)
          w.bool(obj.last)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          piece: 0,
          offset: 0,
          data: uint8ArrayAlloc(0),
          last: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.piece = reader.uint32()
              break
            }
            case 2: {
              obj.offset = reader.uint32()
              break
            }
            case 3: {
              obj.data = reader.bytes()
              break
            }
            case 4: {
              obj.last = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.piece`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.last`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PieceDataPieceFieldEvent {
    field: '$.piece'
    value: number
  }

  export interface PieceDataOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export interface PieceDataDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PieceDataLastFieldEvent {
    field: '$.last'
    value: boolean
  }

  export function encode (obj: Partial<PieceData>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PieceData.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PieceData>): PieceData {
    return decodeMessage(buf, PieceData.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PieceData>): Generator<PieceDataPieceFieldEvent | PieceDataOffsetFieldEvent | PieceDataDataFieldEvent | PieceDataLastFieldEvent> {
    return streamMessage(buf, PieceData.codec(), opts)
  }
}

export interface Choke {
  retryAfterMs: number
}

export namespace Choke {
  let _codec: Codec<Choke>

  export const codec = (): Codec<Choke> => {
    if (_codec == null) {
      _codec = message<Choke>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.retryAfterMs != null && obj.retryAfterMs !== 0)) {
          w.uint32(8)
          w.uint32(obj.retryAfterMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          retryAfterMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.retryAfterMs = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.retryAfterMs`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ChokeRetryAfterMsFieldEvent {
    field: '$.retryAfterMs'
    value: number
  }

  export function encode (obj: Partial<Choke>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Choke.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Choke>): Choke {
    return decodeMessage(buf, Choke.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Choke>): Generator<ChokeRetryAfterMsFieldEvent> {
    return streamMessage(buf, Choke.codec(), opts)
  }
}

export interface Error {
  code: Error.Code
  message: string
  piece?: number
  status?: number
}

export namespace Error {
  export enum Code {
    UNKNOWN = 'UNKNOWN',
    NOT_FOUND = 'NOT_FOUND',
    BAD_REQUEST = 'BAD_REQUEST',
    BUSY = 'BUSY',
    INTERNAL = 'INTERNAL',
    ORIGIN = 'ORIGIN',
    CANCELLED = 'CANCELLED'
  }

  enum __CodeValues {
    UNKNOWN = 0,
    NOT_FOUND = 1,
    BAD_REQUEST = 2,
    BUSY = 3,
    INTERNAL = 4,
    ORIGIN = 5,
    CANCELLED = 6
  }

  export namespace Code {
    export const codec = (): Codec<Code> => {
      return enumeration<Code>(__CodeValues)
    }
  }

  let _codec: Codec<Error>

  export const codec = (): Codec<Error> => {
    if (_codec == null) {
      _codec = message<Error>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.code != null && __CodeValues[obj.code] !== 0) {
          w.uint32(8)
          Error.Code.codec().encode(obj.code, w)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (obj.piece != null) {
          w.uint32(24)
          w.uint32(obj.piece)
        }

        if (obj.status != null) {
          w.uint32(32)
          w.uint32(obj.status)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: Code.UNKNOWN,
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = Error.Code.codec().decode(reader)
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            case 3: {
              obj.piece = reader.uint32()
              break
            }
            case 4: {
              obj.status = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.code`,
                value: Error.Code.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.piece`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.status`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ErrorCodeFieldEvent {
    field: '$.code'
    value: Error.Code
  }

  export interface ErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface ErrorPieceFieldEvent {
    field: '$.piece'
    value: number
  }

  export interface ErrorStatusFieldEvent {
    field: '$.status'
    value: number
  }

  export function encode (obj: Partial<Error>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Error.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Error>): Error {
    return decodeMessage(buf, Error.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Error>): Generator<ErrorCodeFieldEvent | ErrorMessageFieldEvent | ErrorPieceFieldEvent | ErrorStatusFieldEvent> {
    return streamMessage(buf, Error.codec(), opts)
  }
}

export interface PieceMessage {
  open?: Open
  manifest: ManifestPart[]
  bitfield?: Bitfield
  have?: Have
  request?: Request
  cancel?: Cancel
  data?: PieceData
  choke?: Choke
  error?: Error
}

export namespace PieceMessage {
  let _codec: Codec<PieceMessage>

  export const codec = (): Codec<PieceMessage> => {
    if (_codec == null) {
      _codec = message<PieceMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.open != null) {
          w.uint32(10)
          Open.codec().encode(obj.open, w)
        }

        if (obj.manifest != null && obj.manifest.length > 0) {
          for (const value of obj.manifest) {
            w.uint32(18)
            ManifestPart.codec().encode(value, w)
          }
        }

        if (obj.bitfield != null) {
          w.uint32(26)
          Bitfield.codec().encode(obj.bitfield, w)
        }

        if (obj.have != null) {
          w.uint32(34)
          Have.codec().encode(obj.have, w)
        }

        if (obj.request != null) {
          w.uint32(42)
          Request.codec().encode(obj.request, w)
        }

        if (obj.cancel != null) {
          w.uint32(50)
          Cancel.codec().encode(obj.cancel, w)
        }

        if (obj.data != null) {
          w.uint32(58)
          PieceData.codec().encode(obj.data, w)
        }

        if (obj.choke != null) {
          w.uint32(66)
          Choke.codec().encode(obj.choke, w)
        }

        if (obj.error != null) {
          w.uint32(74)
          Error.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          manifest: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.open = Open.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.open
              })
              break
            }
            case 2: {
              if (opts.limits?.manifest != null && obj.manifest.length === opts.limits.manifest) {
                throw new MaxLengthError('Decode error - repeated field "manifest" had too many elements')
              }

              obj.manifest.push(ManifestPart.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.manifest$
              }))
              break
            }
            case 3: {
              obj.bitfield = Bitfield.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.bitfield
              })
              break
            }
            case 4: {
              obj.have = Have.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.have
              })
              break
            }
            case 5: {
              obj.request = Request.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.request
              })
              break
            }
            case 6: {
              obj.cancel = Cancel.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.cancel
              })
              break
            }
            case 7: {
              obj.data = PieceData.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.data
              })
              break
            }
            case 8: {
              obj.choke = Choke.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.choke
              })
              break
            }
            case 9: {
              obj.error = Error.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          manifest: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Open.codec().stream(reader, reader.uint32(), `${prefix}.open`, {
                limits: opts.limits?.open
              })

              break
            }
            case 2: {
              if (opts.limits?.manifest != null && obj.manifest === opts.limits.manifest) {
                throw new MaxLengthError('Streaming decode error - repeated field "manifest" had too many elements')
              }

              for (const evt of ManifestPart.codec().stream(reader, reader.uint32(), `${prefix}.manifest[]`, {
                limits: opts.limits?.manifest$
              })) {
                yield {
                  ...evt,
                  index: obj.manifest
                }
              }

              obj.manifest++

              break
            }
            case 3: {
              yield * Bitfield.codec().stream(reader, reader.uint32(), `${prefix}.bitfield`, {
                limits: opts.limits?.bitfield
              })

              break
            }
            case 4: {
              yield * Have.codec().stream(reader, reader.uint32(), `${prefix}.have`, {
                limits: opts.limits?.have
              })

              break
            }
            case 5: {
              yield * Request.codec().stream(reader, reader.uint32(), `${prefix}.request`, {
                limits: opts.limits?.request
              })

              break
            }
            case 6: {
              yield * Cancel.codec().stream(reader, reader.uint32(), `${prefix}.cancel`, {
                limits: opts.limits?.cancel
              })

              break
            }
            case 7: {
              yield * PieceData.codec().stream(reader, reader.uint32(), `${prefix}.data`, {
                limits: opts.limits?.data
              })

              break
            }
            case 8: {
              yield * Choke.codec().stream(reader, reader.uint32(), `${prefix}.choke`, {
                limits: opts.limits?.choke
              })

              break
            }
            case 9: {
              yield * Error.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PieceMessageOpenDigestFieldEvent {
    field: '$.open.digest'
    value: string
  }

  export interface PieceMessageOpenWantManifestFieldEvent {
    field: '$.open.wantManifest'
    value: boolean
  }

  export interface PieceMessageManifestDigestFieldEvent {
    field: '$.manifest[].digest'
    value: string
    index: number
  }

  export interface PieceMessageManifestSizeFieldEvent {
    field: '$.manifest[].size'
    value: number
    index: number
  }

  export interface PieceMessageManifestPieceSizeFieldEvent {
    field: '$.manifest[].pieceSize'
    value: number
    index: number
  }

  export interface PieceMessageManifestFirstFieldEvent {
    field: '$.manifest[].first'
    value: number
    index: number
  }

  export interface PieceMessageManifestHashesFieldEvent {
    field: '$.manifest[].hashes[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PieceMessageManifestSignerFieldEvent {
    field: '$.manifest[].signer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface PieceMessageManifestSignatureFieldEvent {
    field: '$.manifest[].signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface PieceMessageBitfieldPiecesFieldEvent {
    field: '$.bitfield.pieces'
    value: number
  }

  export interface PieceMessageBitfieldBitsFieldEvent {
    field: '$.bitfield.bits'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PieceMessageHavePiecesFieldEvent {
    field: '$.have.pieces[]'
    index: number
    value: number
  }

  export interface PieceMessageRequestPieceFieldEvent {
    field: '$.request.piece'
    value: number
  }

  export interface PieceMessageCancelPieceFieldEvent {
    field: '$.cancel.piece'
    value: number
  }

  export interface PieceMessageDataPieceFieldEvent {
    field: '$.data.piece'
    value: number
  }

  export interface PieceMessageDataOffsetFieldEvent {
    field: '$.data.offset'
    value: number
  }

  export interface PieceMessageDataDataFieldEvent {
    field: '$.data.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PieceMessageDataLastFieldEvent {
    field: '$.data.last'
    value: boolean
  }

  export interface PieceMessageChokeRetryAfterMsFieldEvent {
    field: '$.choke.retryAfterMs'
    value: number
  }

  export interface PieceMessageErrorCodeFieldEvent {
    field: '$.error.code'
    value: Error.Code
  }

  export interface PieceMessageErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface PieceMessageErrorPieceFieldEvent {
    field: '$.error.piece'
    value: number
  }

  export interface PieceMessageErrorStatusFieldEvent {
    field: '$.error.status'
    value: number
  }

  export function encode (obj: Partial<PieceMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PieceMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PieceMessage>): PieceMessage {
    return decodeMessage(buf, PieceMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PieceMessage>): Generator<PieceMessageOpenDigestFieldEvent | PieceMessageOpenWantManifestFieldEvent | PieceMessageManifestDigestFieldEvent | PieceMessageManifestSizeFieldEvent | PieceMessageManifestPieceSizeFieldEvent | PieceMessageManifestFirstFieldEvent | PieceMessageManifestHashesFieldEvent | PieceMessageManifestSignerFieldEvent | PieceMessageManifestSignatureFieldEvent | PieceMessageBitfieldPiecesFieldEvent | PieceMessageBitfieldBitsFieldEvent | PieceMessageHavePiecesFieldEvent | PieceMessageRequestPieceFieldEvent | PieceMessageCancelPieceFieldEvent | PieceMessageDataPieceFieldEvent | PieceMessageDataOffsetFieldEvent | PieceMessageDataDataFieldEvent | PieceMessageDataLastFieldEvent | PieceMessageChokeRetryAfterMsFieldEvent | PieceMessageErrorCodeFieldEvent | PieceMessageErrorMessageFieldEvent | PieceMessageErrorPieceFieldEvent | PieceMessageErrorStatusFieldEvent> {
    return streamMessage(buf, PieceMessage.codec(), opts)
  }
}

export interface SeedRequest {
  digest: string
  url: string
  size: number
}

export namespace SeedRequest {
  let _codec: Codec<SeedRequest>

  export const codec = (): Codec<SeedRequest> => {
    if (_codec == null) {
      _codec = message<SeedRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.url != null && obj.url !== '')) {
          w.uint32(18)
          w.string(obj.url)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.size)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          url: '',
          size: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.string()
              break
            }
            case 2: {
              obj.url = reader.string()
              break
            }
            case 3: {
              obj.size = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.digest`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.url`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SeedRequestDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface SeedRequestUrlFieldEvent {
    field: '$.url'
    value: string
  }

  export interface SeedRequestSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export function encode (obj: Partial<SeedRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SeedRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedRequest>): SeedRequest {
    return decodeMessage(buf, SeedRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedRequest>): Generator<SeedRequestDigestFieldEvent | SeedRequestUrlFieldEvent | SeedRequestSizeFieldEvent> {
    return streamMessage(buf, SeedRequest.codec(), opts)
  }
}

export interface SeedResponse {
  accepted: boolean
  size: number
  pieceSize: number
  error?: Error
}

export namespace SeedResponse {
  let _codec: Codec<SeedResponse>

  export const codec = (): Codec<SeedResponse> => {
    if (_codec == null) {
      _codec = message<SeedResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.accepted != null && obj.accepted !== false)) {
          w.uint32(8)
          w.bool(obj.accepted)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.size)
        }

        if ((obj.pieceSize != null && obj.pieceSize !== 0)) {
          w.uint32(24)
          w.uint32(obj.pieceSize)
        }

        if (obj.error != null) {
          w.uint32(34)
          Error.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          accepted: false,
          size: 0,
          pieceSize: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.accepted = reader.bool()
              break
            }
            case 2: {
              obj.size = reader.uint64Number()
              break
            }
            case 3: {
              obj.pieceSize = reader.uint32()
              break
            }
            case 4: {
              obj.error = Error.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.accepted`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.pieceSize`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield * Error.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SeedResponseAcceptedFieldEvent {
    field: '$.accepted'
    value: boolean
  }

  export interface SeedResponseSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface SeedResponsePieceSizeFieldEvent {
    field: '$.pieceSize'
    value: number
  }

  export interface SeedResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: Error.Code
  }

  export interface SeedResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface SeedResponseErrorPieceFieldEvent {
    field: '$.error.piece'
    value: number
  }

  export interface SeedResponseErrorStatusFieldEvent {
    field: '$.error.status'
    value: number
  }

  export function encode (obj: Partial<SeedResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SeedResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedResponse>): SeedResponse {
    return decodeMessage(buf, SeedResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedResponse>): Generator<SeedResponseAcceptedFieldEvent | SeedResponseSizeFieldEvent | SeedResponsePieceSizeFieldEvent | SeedResponseErrorCodeFieldEvent | SeedResponseErrorMessageFieldEvent | SeedResponseErrorPieceFieldEvent | SeedResponseErrorStatusFieldEvent> {
    return streamMessage(buf, SeedResponse.codec(), opts)
  }
}

export interface Announce {
  digest: string
  pieces: number
  have: number[]
  complete: boolean
  addrs: Uint8Array<ArrayBuffer>[]
  withdrawn: boolean
}

export namespace Announce {
  let _codec: Codec<Announce>

  export const codec = (): Codec<Announce> => {
    if (_codec == null) {
      _codec = message<Announce>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.pieces != null && obj.pieces !== 0)) {
          w.uint32(16)
          w.uint32(obj.pieces)
        }

        if (obj.have != null && obj.have.length > 0) {
          for (const value of obj.have) {
            w.uint32(24)
            w.uint32(value)
          }
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(32)
          w.bool(obj.complete)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if ((obj.withdrawn != null && obj.withdrawn !== false)) {
          w.uint32(48)
          w.bool(obj.withdrawn)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          pieces: 0,
          have: [],
          complete: false,
          addrs: [],
          withdrawn: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.string()
              break
            }
            case 2: {
              obj.pieces = reader.uint32()
              break
            }
            case 3: {
              if (opts.limits?.have != null && obj.have.length === opts.limits.have) {
                throw new MaxLengthError('Decode error - repeated field "have" had too many elements')
              }

              obj.have.push(reader.uint32())
              break
            }
            case 4: {
              obj.complete = reader.bool()
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 6: {
              obj.withdrawn = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          have: 0,
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.digest`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.pieces`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              if (opts.limits?.have != null && obj.have === opts.limits.have) {
                throw new MaxLengthError('Streaming decode error - repeated field "have" had too many elements')
              }

              yield {
                field: `${prefix}.have[]`,
                index: obj.have,
                value: reader.uint32()
              }

              obj.have++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.withdrawn`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AnnounceDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface AnnouncePiecesFieldEvent {
    field: '$.pieces'
    value: number
  }

  export interface AnnounceHaveFieldEvent {
    field: '$.have[]'
    index: number
    value: number
  }

  export interface AnnounceCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface AnnounceAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface AnnounceWithdrawnFieldEvent {
    field: '$.withdrawn'
    value: boolean
  }

  export function encode (obj: Partial<Announce>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Announce.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Announce {
    return decodeMessage(buf, Announce.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Generator<AnnounceDigestFieldEvent | AnnouncePiecesFieldEvent | AnnounceHaveFieldEvent | AnnounceCompleteFieldEvent | AnnounceAddrsFieldEvent | AnnounceWithdrawnFieldEvent> {
    return streamMessage(buf, Announce.codec(), opts)
  }
}

export interface Beacon {
  uploadBps: number
  activeUploads: number
  freeUploadSlots: number
  seed: boolean
  addrs: Uint8Array<ArrayBuffer>[]
}

export namespace Beacon {
  let _codec: Codec<Beacon>

  export const codec = (): Codec<Beacon> => {
    if (_codec == null) {
      _codec = message<Beacon>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.uploadBps != null && obj.uploadBps !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.uploadBps)
        }

        if ((obj.activeUploads != null && obj.activeUploads !== 0)) {
          w.uint32(16)
          w.uint32(obj.activeUploads)
        }

        if ((obj.freeUploadSlots != null && obj.freeUploadSlots !== 0)) {
          w.uint32(24)
          w.uint32(obj.freeUploadSlots)
        }

        if ((obj.seed != null && obj.seed !== false)) {
          w.uint32(32)
          w.bool(obj.seed)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          uploadBps: 0,
          activeUploads: 0,
          freeUploadSlots: 0,
          seed: false,
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.uploadBps = reader.uint64Number()
              break
            }
            case 2: {
              obj.activeUploads = reader.uint32()
              break
            }
            case 3: {
              obj.freeUploadSlots = reader.uint32()
              break
            }
            case 4: {
              obj.seed = reader.bool()
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.uploadBps`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.activeUploads`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.freeUploadSlots`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.seed`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface BeaconUploadBpsFieldEvent {
    field: '$.uploadBps'
    value: number
  }

  export interface BeaconActiveUploadsFieldEvent {
    field: '$.activeUploads'
    value: number
  }

  export interface BeaconFreeUploadSlotsFieldEvent {
    field: '$.freeUploadSlots'
    value: number
  }

  export interface BeaconSeedFieldEvent {
    field: '$.seed'
    value: boolean
  }

  export interface BeaconAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Beacon>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Beacon.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Beacon>): Beacon {
    return decodeMessage(buf, Beacon.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Beacon>): Generator<BeaconUploadBpsFieldEvent | BeaconActiveUploadsFieldEvent | BeaconFreeUploadSlotsFieldEvent | BeaconSeedFieldEvent | BeaconAddrsFieldEvent> {
    return streamMessage(buf, Beacon.codec(), opts)
  }
}

export interface AccessQuery {
  registry: string
  repository: string
  digest: string
  kind: AccessQuery.Kind
}

export namespace AccessQuery {
  export enum Kind {
    BLOB = 'BLOB',
    MANIFEST = 'MANIFEST'
  }

  enum __KindValues {
    BLOB = 0,
    MANIFEST = 1
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<AccessQuery>

  export const codec = (): Codec<AccessQuery> => {
    if (_codec == null) {
      _codec = message<AccessQuery>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.registry != null && obj.registry !== '')) {
          w.uint32(10)
          w.string(obj.registry)
        }

        if ((obj.repository != null && obj.repository !== '')) {
          w.uint32(18)
          w.string(obj.repository)
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(26)
          w.string(obj.digest)
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(32)
          AccessQuery.Kind.codec().encode(obj.kind, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          registry: '',
          repository: '',
          digest: '',
          kind: Kind.BLOB
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.registry = reader.string()
              break
            }
            case 2: {
              obj.repository = reader.string()
              break
            }
            case 3: {
              obj.digest = reader.string()
              break
            }
            case 4: {
              obj.kind = AccessQuery.Kind.codec().decode(reader)
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.registry`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.repository`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.digest`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.kind`,
                value: AccessQuery.Kind.codec().decode(reader)
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AccessQueryRegistryFieldEvent {
    field: '$.registry'
    value: string
  }

  export interface AccessQueryRepositoryFieldEvent {
    field: '$.repository'
    value: string
  }

  export interface AccessQueryDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface AccessQueryKindFieldEvent {
    field: '$.kind'
    value: AccessQuery.Kind
  }

  export function encode (obj: Partial<AccessQuery>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AccessQuery.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AccessQuery>): AccessQuery {
    return decodeMessage(buf, AccessQuery.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AccessQuery>): Generator<AccessQueryRegistryFieldEvent | AccessQueryRepositoryFieldEvent | AccessQueryDigestFieldEvent | AccessQueryKindFieldEvent> {
    return streamMessage(buf, AccessQuery.codec(), opts)
  }
}

export interface AccessAnswer {
  public: boolean
}

export namespace AccessAnswer {
  let _codec: Codec<AccessAnswer>

  export const codec = (): Codec<AccessAnswer> => {
    if (_codec == null) {
      _codec = message<AccessAnswer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.public != null && obj.public !== false)) {
          w.uint32(8)
          w.bool(obj.public)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          public: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.public = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.public`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AccessAnswerPublicFieldEvent {
    field: '$.public'
    value: boolean
  }

  export function encode (obj: Partial<AccessAnswer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AccessAnswer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AccessAnswer>): AccessAnswer {
    return decodeMessage(buf, AccessAnswer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AccessAnswer>): Generator<AccessAnswerPublicFieldEvent> {
    return streamMessage(buf, AccessAnswer.codec(), opts)
  }
}
