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
  holders: Holder[]
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

        if (obj.holders != null && obj.holders.length > 0) {
          for (const value of obj.holders) {
            w.uint32(42)
            Holder.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: Code.UNKNOWN,
          message: '',
          holders: []
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
            case 5: {
              if (opts.limits?.holders != null && obj.holders.length === opts.limits.holders) {
                throw new MaxLengthError('Decode error - repeated field "holders" had too many elements')
              }

              obj.holders.push(Holder.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.holders$
              }))
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
          holders: 0
        }

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
            case 5: {
              if (opts.limits?.holders != null && obj.holders === opts.limits.holders) {
                throw new MaxLengthError('Streaming decode error - repeated field "holders" had too many elements')
              }

              for (const evt of Holder.codec().stream(reader, reader.uint32(), `${prefix}.holders[]`, {
                limits: opts.limits?.holders$
              })) {
                yield {
                  ...evt,
                  index: obj.holders
                }
              }

              obj.holders++

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

  export interface ErrorHoldersPeerFieldEvent {
    field: '$.holders[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ErrorHoldersAddrsFieldEvent {
    field: '$.holders[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Error>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Error.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Error>): Error {
    return decodeMessage(buf, Error.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Error>): Generator<ErrorCodeFieldEvent | ErrorMessageFieldEvent | ErrorPieceFieldEvent | ErrorStatusFieldEvent | ErrorHoldersPeerFieldEvent | ErrorHoldersAddrsFieldEvent> {
    return streamMessage(buf, Error.codec(), opts)
  }
}

export interface Holder {
  peer: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
}

export namespace Holder {
  let _codec: Codec<Holder>

  export const codec = (): Codec<Holder> => {
    if (_codec == null) {
      _codec = message<Holder>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peer != null && obj.peer.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peer)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peer: uint8ArrayAlloc(0),
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peer = reader.bytes()
              break
            }
            case 2: {
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
                field: `${prefix}.peer`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
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

  export interface HolderPeerFieldEvent {
    field: '$.peer'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HolderAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Holder>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Holder.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Holder>): Holder {
    return decodeMessage(buf, Holder.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Holder>): Generator<HolderPeerFieldEvent | HolderAddrsFieldEvent> {
    return streamMessage(buf, Holder.codec(), opts)
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

  export interface PieceMessageErrorHoldersPeerFieldEvent {
    field: '$.error.holders[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface PieceMessageErrorHoldersAddrsFieldEvent {
    field: '$.error.holders[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PieceMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PieceMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PieceMessage>): PieceMessage {
    return decodeMessage(buf, PieceMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PieceMessage>): Generator<PieceMessageOpenDigestFieldEvent | PieceMessageOpenWantManifestFieldEvent | PieceMessageManifestDigestFieldEvent | PieceMessageManifestSizeFieldEvent | PieceMessageManifestPieceSizeFieldEvent | PieceMessageManifestFirstFieldEvent | PieceMessageManifestHashesFieldEvent | PieceMessageManifestSignerFieldEvent | PieceMessageManifestSignatureFieldEvent | PieceMessageBitfieldPiecesFieldEvent | PieceMessageBitfieldBitsFieldEvent | PieceMessageHavePiecesFieldEvent | PieceMessageRequestPieceFieldEvent | PieceMessageCancelPieceFieldEvent | PieceMessageDataPieceFieldEvent | PieceMessageDataOffsetFieldEvent | PieceMessageDataDataFieldEvent | PieceMessageDataLastFieldEvent | PieceMessageChokeRetryAfterMsFieldEvent | PieceMessageErrorCodeFieldEvent | PieceMessageErrorMessageFieldEvent | PieceMessageErrorPieceFieldEvent | PieceMessageErrorStatusFieldEvent | PieceMessageErrorHoldersPeerFieldEvent | PieceMessageErrorHoldersAddrsFieldEvent> {
    return streamMessage(buf, PieceMessage.codec(), opts)
  }
}

export interface SeedRequest {
  digest: string
  url: string
  size: number
  ranges: ByteRange[]
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

        if (obj.ranges != null && obj.ranges.length > 0) {
          for (const value of obj.ranges) {
            w.uint32(34)
            ByteRange.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          url: '',
          size: 0,
          ranges: []
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
            case 4: {
              if (opts.limits?.ranges != null && obj.ranges.length === opts.limits.ranges) {
                throw new MaxLengthError('Decode error - repeated field "ranges" had too many elements')
              }

              obj.ranges.push(ByteRange.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ranges$
              }))
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
          ranges: 0
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
            case 4: {
              if (opts.limits?.ranges != null && obj.ranges === opts.limits.ranges) {
                throw new MaxLengthError('Streaming decode error - repeated field "ranges" had too many elements')
              }

              for (const evt of ByteRange.codec().stream(reader, reader.uint32(), `${prefix}.ranges[]`, {
                limits: opts.limits?.ranges$
              })) {
                yield {
                  ...evt,
                  index: obj.ranges
                }
              }

              obj.ranges++

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

  export interface SeedRequestRangesStartFieldEvent {
    field: '$.ranges[].start'
    value: number
    index: number
  }

  export interface SeedRequestRangesLengthFieldEvent {
    field: '$.ranges[].length'
    value: number
    index: number
  }

  export function encode (obj: Partial<SeedRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SeedRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedRequest>): SeedRequest {
    return decodeMessage(buf, SeedRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedRequest>): Generator<SeedRequestDigestFieldEvent | SeedRequestUrlFieldEvent | SeedRequestSizeFieldEvent | SeedRequestRangesStartFieldEvent | SeedRequestRangesLengthFieldEvent> {
    return streamMessage(buf, SeedRequest.codec(), opts)
  }
}

export interface ByteRange {
  start: number
  length: number
}

export namespace ByteRange {
  let _codec: Codec<ByteRange>

  export const codec = (): Codec<ByteRange> => {
    if (_codec == null) {
      _codec = message<ByteRange>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.start != null && obj.start !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.start)
        }

        if ((obj.length != null && obj.length !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.length)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          start: 0,
          length: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.start = reader.uint64Number()
              break
            }
            case 2: {
              obj.length = reader.uint64Number()
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
                field: `${prefix}.start`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.length`,
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

  export interface ByteRangeStartFieldEvent {
    field: '$.start'
    value: number
  }

  export interface ByteRangeLengthFieldEvent {
    field: '$.length'
    value: number
  }

  export function encode (obj: Partial<ByteRange>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ByteRange.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ByteRange>): ByteRange {
    return decodeMessage(buf, ByteRange.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ByteRange>): Generator<ByteRangeStartFieldEvent | ByteRangeLengthFieldEvent> {
    return streamMessage(buf, ByteRange.codec(), opts)
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

  export interface SeedResponseErrorHoldersPeerFieldEvent {
    field: '$.error.holders[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SeedResponseErrorHoldersAddrsFieldEvent {
    field: '$.error.holders[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SeedResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SeedResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedResponse>): SeedResponse {
    return decodeMessage(buf, SeedResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SeedResponse>): Generator<SeedResponseAcceptedFieldEvent | SeedResponseSizeFieldEvent | SeedResponsePieceSizeFieldEvent | SeedResponseErrorCodeFieldEvent | SeedResponseErrorMessageFieldEvent | SeedResponseErrorPieceFieldEvent | SeedResponseErrorStatusFieldEvent | SeedResponseErrorHoldersPeerFieldEvent | SeedResponseErrorHoldersAddrsFieldEvent> {
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
  locality: string
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

        if ((obj.locality != null && obj.locality !== '')) {
          w.uint32(50)
          w.string(obj.locality)
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
          addrs: [],
          locality: ''
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
            case 6: {
              obj.locality = reader.string()
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
            case 6: {
              yield {
                field: `${prefix}.locality`,
                value: reader.string()
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

  export interface BeaconLocalityFieldEvent {
    field: '$.locality'
    value: string
  }

  export function encode (obj: Partial<Beacon>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Beacon.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Beacon>): Beacon {
    return decodeMessage(buf, Beacon.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Beacon>): Generator<BeaconUploadBpsFieldEvent | BeaconActiveUploadsFieldEvent | BeaconFreeUploadSlotsFieldEvent | BeaconSeedFieldEvent | BeaconAddrsFieldEvent | BeaconLocalityFieldEvent> {
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

export interface ScheduleRequest {
  beacon?: Beacon
  rank?: RankRequest
  reports: ParentReport[]
  suggest?: SuggestRequest
  holding: string[]
  dropped: string[]
  questions: ScheduleQuestion[]
}

export namespace ScheduleRequest {
  let _codec: Codec<ScheduleRequest>

  export const codec = (): Codec<ScheduleRequest> => {
    if (_codec == null) {
      _codec = message<ScheduleRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.beacon != null) {
          w.uint32(10)
          Beacon.codec().encode(obj.beacon, w)
        }

        if (obj.rank != null) {
          w.uint32(18)
          RankRequest.codec().encode(obj.rank, w)
        }

        if (obj.reports != null && obj.reports.length > 0) {
          for (const value of obj.reports) {
            w.uint32(26)
            ParentReport.codec().encode(value, w)
          }
        }

        if (obj.suggest != null) {
          w.uint32(34)
          SuggestRequest.codec().encode(obj.suggest, w)
        }

        if (obj.holding != null && obj.holding.length > 0) {
          for (const value of obj.holding) {
            w.uint32(42)
            w.string(value)
          }
        }

        if (obj.dropped != null && obj.dropped.length > 0) {
          for (const value of obj.dropped) {
            w.uint32(50)
            w.string(value)
          }
        }

        if (obj.questions != null && obj.questions.length > 0) {
          for (const value of obj.questions) {
            w.uint32(58)
            ScheduleQuestion.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          reports: [],
          holding: [],
          dropped: [],
          questions: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.beacon = Beacon.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.beacon
              })
              break
            }
            case 2: {
              obj.rank = RankRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.rank
              })
              break
            }
            case 3: {
              if (opts.limits?.reports != null && obj.reports.length === opts.limits.reports) {
                throw new MaxLengthError('Decode error - repeated field "reports" had too many elements')
              }

              obj.reports.push(ParentReport.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.reports$
              }))
              break
            }
            case 4: {
              obj.suggest = SuggestRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.suggest
              })
              break
            }
            case 5: {
              if (opts.limits?.holding != null && obj.holding.length === opts.limits.holding) {
                throw new MaxLengthError('Decode error - repeated field "holding" had too many elements')
              }

              obj.holding.push(reader.string())
              break
            }
            case 6: {
              if (opts.limits?.dropped != null && obj.dropped.length === opts.limits.dropped) {
                throw new MaxLengthError('Decode error - repeated field "dropped" had too many elements')
              }

              obj.dropped.push(reader.string())
              break
            }
            case 7: {
              if (opts.limits?.questions != null && obj.questions.length === opts.limits.questions) {
                throw new MaxLengthError('Decode error - repeated field "questions" had too many elements')
              }

              obj.questions.push(ScheduleQuestion.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.questions$
              }))
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
          reports: 0,
          holding: 0,
          dropped: 0,
          questions: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Beacon.codec().stream(reader, reader.uint32(), `${prefix}.beacon`, {
                limits: opts.limits?.beacon
              })

              break
            }
            case 2: {
              yield * RankRequest.codec().stream(reader, reader.uint32(), `${prefix}.rank`, {
                limits: opts.limits?.rank
              })

              break
            }
            case 3: {
              if (opts.limits?.reports != null && obj.reports === opts.limits.reports) {
                throw new MaxLengthError('Streaming decode error - repeated field "reports" had too many elements')
              }

              for (const evt of ParentReport.codec().stream(reader, reader.uint32(), `${prefix}.reports[]`, {
                limits: opts.limits?.reports$
              })) {
                yield {
                  ...evt,
                  index: obj.reports
                }
              }

              obj.reports++

              break
            }
            case 4: {
              yield * SuggestRequest.codec().stream(reader, reader.uint32(), `${prefix}.suggest`, {
                limits: opts.limits?.suggest
              })

              break
            }
            case 5: {
              if (opts.limits?.holding != null && obj.holding === opts.limits.holding) {
                throw new MaxLengthError('Streaming decode error - repeated field "holding" had too many elements')
              }

              yield {
                field: `${prefix}.holding[]`,
                index: obj.holding,
                value: reader.string()
              }

              obj.holding++

              break
            }
            case 6: {
              if (opts.limits?.dropped != null && obj.dropped === opts.limits.dropped) {
                throw new MaxLengthError('Streaming decode error - repeated field "dropped" had too many elements')
              }

              yield {
                field: `${prefix}.dropped[]`,
                index: obj.dropped,
                value: reader.string()
              }

              obj.dropped++

              break
            }
            case 7: {
              if (opts.limits?.questions != null && obj.questions === opts.limits.questions) {
                throw new MaxLengthError('Streaming decode error - repeated field "questions" had too many elements')
              }

              for (const evt of ScheduleQuestion.codec().stream(reader, reader.uint32(), `${prefix}.questions[]`, {
                limits: opts.limits?.questions$
              })) {
                yield {
                  ...evt,
                  index: obj.questions
                }
              }

              obj.questions++

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

  export interface ScheduleRequestBeaconUploadBpsFieldEvent {
    field: '$.beacon.uploadBps'
    value: number
  }

  export interface ScheduleRequestBeaconActiveUploadsFieldEvent {
    field: '$.beacon.activeUploads'
    value: number
  }

  export interface ScheduleRequestBeaconFreeUploadSlotsFieldEvent {
    field: '$.beacon.freeUploadSlots'
    value: number
  }

  export interface ScheduleRequestBeaconSeedFieldEvent {
    field: '$.beacon.seed'
    value: boolean
  }

  export interface ScheduleRequestBeaconAddrsFieldEvent {
    field: '$.beacon.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleRequestBeaconLocalityFieldEvent {
    field: '$.beacon.locality'
    value: string
  }

  export interface ScheduleRequestRankDigestFieldEvent {
    field: '$.rank.digest'
    value: string
  }

  export interface ScheduleRequestRankCandidatesFieldEvent {
    field: '$.rank.candidates[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleRequestReportsDigestFieldEvent {
    field: '$.reports[].digest'
    value: string
    index: number
  }

  export interface ScheduleRequestReportsParentFieldEvent {
    field: '$.reports[].parent'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ScheduleRequestReportsOutcomeFieldEvent {
    field: '$.reports[].outcome'
    value: ParentReport.Outcome
    index: number
  }

  export interface ScheduleRequestReportsBytesFieldEvent {
    field: '$.reports[].bytes'
    value: number
    index: number
  }

  export interface ScheduleRequestReportsMsFieldEvent {
    field: '$.reports[].ms'
    value: number
    index: number
  }

  export interface ScheduleRequestSuggestDigestFieldEvent {
    field: '$.suggest.digest'
    value: string
  }

  export interface ScheduleRequestSuggestLimitFieldEvent {
    field: '$.suggest.limit'
    value: number
  }

  export interface ScheduleRequestSuggestExcludeFieldEvent {
    field: '$.suggest.exclude[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleRequestHoldingFieldEvent {
    field: '$.holding[]'
    index: number
    value: string
  }

  export interface ScheduleRequestDroppedFieldEvent {
    field: '$.dropped[]'
    index: number
    value: string
  }

  export interface ScheduleRequestQuestionsRankDigestFieldEvent {
    field: '$.questions[].rank.digest'
    value: string
    index: number
  }

  export interface ScheduleRequestQuestionsRankCandidatesFieldEvent {
    field: '$.questions[].rank.candidates[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleRequestQuestionsSuggestDigestFieldEvent {
    field: '$.questions[].suggest.digest'
    value: string
    index: number
  }

  export interface ScheduleRequestQuestionsSuggestLimitFieldEvent {
    field: '$.questions[].suggest.limit'
    value: number
    index: number
  }

  export interface ScheduleRequestQuestionsSuggestExcludeFieldEvent {
    field: '$.questions[].suggest.exclude[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ScheduleRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ScheduleRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleRequest>): ScheduleRequest {
    return decodeMessage(buf, ScheduleRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleRequest>): Generator<ScheduleRequestBeaconUploadBpsFieldEvent | ScheduleRequestBeaconActiveUploadsFieldEvent | ScheduleRequestBeaconFreeUploadSlotsFieldEvent | ScheduleRequestBeaconSeedFieldEvent | ScheduleRequestBeaconAddrsFieldEvent | ScheduleRequestBeaconLocalityFieldEvent | ScheduleRequestRankDigestFieldEvent | ScheduleRequestRankCandidatesFieldEvent | ScheduleRequestReportsDigestFieldEvent | ScheduleRequestReportsParentFieldEvent | ScheduleRequestReportsOutcomeFieldEvent | ScheduleRequestReportsBytesFieldEvent | ScheduleRequestReportsMsFieldEvent | ScheduleRequestSuggestDigestFieldEvent | ScheduleRequestSuggestLimitFieldEvent | ScheduleRequestSuggestExcludeFieldEvent | ScheduleRequestHoldingFieldEvent | ScheduleRequestDroppedFieldEvent | ScheduleRequestQuestionsRankDigestFieldEvent | ScheduleRequestQuestionsRankCandidatesFieldEvent | ScheduleRequestQuestionsSuggestDigestFieldEvent | ScheduleRequestQuestionsSuggestLimitFieldEvent | ScheduleRequestQuestionsSuggestExcludeFieldEvent> {
    return streamMessage(buf, ScheduleRequest.codec(), opts)
  }
}

export interface ScheduleQuestion {
  rank?: RankRequest
  suggest?: SuggestRequest
}

export namespace ScheduleQuestion {
  let _codec: Codec<ScheduleQuestion>

  export const codec = (): Codec<ScheduleQuestion> => {
    if (_codec == null) {
      _codec = message<ScheduleQuestion>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.rank != null) {
          w.uint32(10)
          RankRequest.codec().encode(obj.rank, w)
        }

        if (obj.suggest != null) {
          w.uint32(18)
          SuggestRequest.codec().encode(obj.suggest, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.rank = RankRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.rank
              })
              break
            }
            case 2: {
              obj.suggest = SuggestRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.suggest
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
              yield * RankRequest.codec().stream(reader, reader.uint32(), `${prefix}.rank`, {
                limits: opts.limits?.rank
              })

              break
            }
            case 2: {
              yield * SuggestRequest.codec().stream(reader, reader.uint32(), `${prefix}.suggest`, {
                limits: opts.limits?.suggest
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

  export interface ScheduleQuestionRankDigestFieldEvent {
    field: '$.rank.digest'
    value: string
  }

  export interface ScheduleQuestionRankCandidatesFieldEvent {
    field: '$.rank.candidates[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleQuestionSuggestDigestFieldEvent {
    field: '$.suggest.digest'
    value: string
  }

  export interface ScheduleQuestionSuggestLimitFieldEvent {
    field: '$.suggest.limit'
    value: number
  }

  export interface ScheduleQuestionSuggestExcludeFieldEvent {
    field: '$.suggest.exclude[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ScheduleQuestion>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ScheduleQuestion.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleQuestion>): ScheduleQuestion {
    return decodeMessage(buf, ScheduleQuestion.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleQuestion>): Generator<ScheduleQuestionRankDigestFieldEvent | ScheduleQuestionRankCandidatesFieldEvent | ScheduleQuestionSuggestDigestFieldEvent | ScheduleQuestionSuggestLimitFieldEvent | ScheduleQuestionSuggestExcludeFieldEvent> {
    return streamMessage(buf, ScheduleQuestion.codec(), opts)
  }
}

export interface RankRequest {
  digest: string
  candidates: Uint8Array<ArrayBuffer>[]
}

export namespace RankRequest {
  let _codec: Codec<RankRequest>

  export const codec = (): Codec<RankRequest> => {
    if (_codec == null) {
      _codec = message<RankRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if (obj.candidates != null && obj.candidates.length > 0) {
          for (const value of obj.candidates) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          candidates: []
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
              if (opts.limits?.candidates != null && obj.candidates.length === opts.limits.candidates) {
                throw new MaxLengthError('Decode error - repeated field "candidates" had too many elements')
              }

              obj.candidates.push(reader.bytes())
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
          candidates: 0
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
              if (opts.limits?.candidates != null && obj.candidates === opts.limits.candidates) {
                throw new MaxLengthError('Streaming decode error - repeated field "candidates" had too many elements')
              }

              yield {
                field: `${prefix}.candidates[]`,
                index: obj.candidates,
                value: reader.bytes()
              }

              obj.candidates++

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

  export interface RankRequestDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface RankRequestCandidatesFieldEvent {
    field: '$.candidates[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<RankRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RankRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RankRequest>): RankRequest {
    return decodeMessage(buf, RankRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RankRequest>): Generator<RankRequestDigestFieldEvent | RankRequestCandidatesFieldEvent> {
    return streamMessage(buf, RankRequest.codec(), opts)
  }
}

export interface SuggestRequest {
  digest: string
  limit: number
  exclude: Uint8Array<ArrayBuffer>[]
}

export namespace SuggestRequest {
  let _codec: Codec<SuggestRequest>

  export const codec = (): Codec<SuggestRequest> => {
    if (_codec == null) {
      _codec = message<SuggestRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.limit != null && obj.limit !== 0)) {
          w.uint32(16)
          w.uint32(obj.limit)
        }

        if (obj.exclude != null && obj.exclude.length > 0) {
          for (const value of obj.exclude) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          limit: 0,
          exclude: []
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
              obj.limit = reader.uint32()
              break
            }
            case 3: {
              if (opts.limits?.exclude != null && obj.exclude.length === opts.limits.exclude) {
                throw new MaxLengthError('Decode error - repeated field "exclude" had too many elements')
              }

              obj.exclude.push(reader.bytes())
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
          exclude: 0
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
                field: `${prefix}.limit`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              if (opts.limits?.exclude != null && obj.exclude === opts.limits.exclude) {
                throw new MaxLengthError('Streaming decode error - repeated field "exclude" had too many elements')
              }

              yield {
                field: `${prefix}.exclude[]`,
                index: obj.exclude,
                value: reader.bytes()
              }

              obj.exclude++

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

  export interface SuggestRequestDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface SuggestRequestLimitFieldEvent {
    field: '$.limit'
    value: number
  }

  export interface SuggestRequestExcludeFieldEvent {
    field: '$.exclude[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SuggestRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SuggestRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SuggestRequest>): SuggestRequest {
    return decodeMessage(buf, SuggestRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SuggestRequest>): Generator<SuggestRequestDigestFieldEvent | SuggestRequestLimitFieldEvent | SuggestRequestExcludeFieldEvent> {
    return streamMessage(buf, SuggestRequest.codec(), opts)
  }
}

export interface ParentReport {
  digest: string
  parent: Uint8Array<ArrayBuffer>
  outcome: ParentReport.Outcome
  bytes: number
  ms: number
}

export namespace ParentReport {
  export enum Outcome {
    PIECE = 'PIECE',
    FAILED = 'FAILED',
    CLOSED = 'CLOSED'
  }

  enum __OutcomeValues {
    PIECE = 0,
    FAILED = 1,
    CLOSED = 2
  }

  export namespace Outcome {
    export const codec = (): Codec<Outcome> => {
      return enumeration<Outcome>(__OutcomeValues)
    }
  }

  let _codec: Codec<ParentReport>

  export const codec = (): Codec<ParentReport> => {
    if (_codec == null) {
      _codec = message<ParentReport>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.parent != null && obj.parent.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.parent)
        }

        if (obj.outcome != null && __OutcomeValues[obj.outcome] !== 0) {
          w.uint32(24)
          ParentReport.Outcome.codec().encode(obj.outcome, w)
        }

        if ((obj.bytes != null && obj.bytes !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.bytes)
        }

        if ((obj.ms != null && obj.ms !== 0)) {
          w.uint32(40)
          w.uint32(obj.ms)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          parent: uint8ArrayAlloc(0),
          outcome: Outcome.PIECE,
          bytes: 0,
          ms: 0
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
              obj.parent = reader.bytes()
              break
            }
            case 3: {
              obj.outcome = ParentReport.Outcome.codec().decode(reader)
              break
            }
            case 4: {
              obj.bytes = reader.uint64Number()
              break
            }
            case 5: {
              obj.ms = reader.uint32()
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
                field: `${prefix}.parent`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.outcome`,
                value: ParentReport.Outcome.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.bytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.ms`,
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

  export interface ParentReportDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface ParentReportParentFieldEvent {
    field: '$.parent'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ParentReportOutcomeFieldEvent {
    field: '$.outcome'
    value: ParentReport.Outcome
  }

  export interface ParentReportBytesFieldEvent {
    field: '$.bytes'
    value: number
  }

  export interface ParentReportMsFieldEvent {
    field: '$.ms'
    value: number
  }

  export function encode (obj: Partial<ParentReport>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ParentReport.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ParentReport>): ParentReport {
    return decodeMessage(buf, ParentReport.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ParentReport>): Generator<ParentReportDigestFieldEvent | ParentReportParentFieldEvent | ParentReportOutcomeFieldEvent | ParentReportBytesFieldEvent | ParentReportMsFieldEvent> {
    return streamMessage(buf, ParentReport.codec(), opts)
  }
}

export interface ScheduleResponse {
  ranked: Uint8Array<ArrayBuffer>[]
  suggested: Suggestion[]
  answers: ScheduleAnswer[]
}

export namespace ScheduleResponse {
  let _codec: Codec<ScheduleResponse>

  export const codec = (): Codec<ScheduleResponse> => {
    if (_codec == null) {
      _codec = message<ScheduleResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.ranked != null && obj.ranked.length > 0) {
          for (const value of obj.ranked) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (obj.suggested != null && obj.suggested.length > 0) {
          for (const value of obj.suggested) {
            w.uint32(18)
            Suggestion.codec().encode(value, w)
          }
        }

        if (obj.answers != null && obj.answers.length > 0) {
          for (const value of obj.answers) {
            w.uint32(26)
            ScheduleAnswer.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ranked: [],
          suggested: [],
          answers: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.ranked != null && obj.ranked.length === opts.limits.ranked) {
                throw new MaxLengthError('Decode error - repeated field "ranked" had too many elements')
              }

              obj.ranked.push(reader.bytes())
              break
            }
            case 2: {
              if (opts.limits?.suggested != null && obj.suggested.length === opts.limits.suggested) {
                throw new MaxLengthError('Decode error - repeated field "suggested" had too many elements')
              }

              obj.suggested.push(Suggestion.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.suggested$
              }))
              break
            }
            case 3: {
              if (opts.limits?.answers != null && obj.answers.length === opts.limits.answers) {
                throw new MaxLengthError('Decode error - repeated field "answers" had too many elements')
              }

              obj.answers.push(ScheduleAnswer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.answers$
              }))
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
          ranked: 0,
          suggested: 0,
          answers: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.ranked != null && obj.ranked === opts.limits.ranked) {
                throw new MaxLengthError('Streaming decode error - repeated field "ranked" had too many elements')
              }

              yield {
                field: `${prefix}.ranked[]`,
                index: obj.ranked,
                value: reader.bytes()
              }

              obj.ranked++

              break
            }
            case 2: {
              if (opts.limits?.suggested != null && obj.suggested === opts.limits.suggested) {
                throw new MaxLengthError('Streaming decode error - repeated field "suggested" had too many elements')
              }

              for (const evt of Suggestion.codec().stream(reader, reader.uint32(), `${prefix}.suggested[]`, {
                limits: opts.limits?.suggested$
              })) {
                yield {
                  ...evt,
                  index: obj.suggested
                }
              }

              obj.suggested++

              break
            }
            case 3: {
              if (opts.limits?.answers != null && obj.answers === opts.limits.answers) {
                throw new MaxLengthError('Streaming decode error - repeated field "answers" had too many elements')
              }

              for (const evt of ScheduleAnswer.codec().stream(reader, reader.uint32(), `${prefix}.answers[]`, {
                limits: opts.limits?.answers$
              })) {
                yield {
                  ...evt,
                  index: obj.answers
                }
              }

              obj.answers++

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

  export interface ScheduleResponseRankedFieldEvent {
    field: '$.ranked[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleResponseSuggestedPeerFieldEvent {
    field: '$.suggested[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ScheduleResponseSuggestedAddrsFieldEvent {
    field: '$.suggested[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleResponseAnswersRankedFieldEvent {
    field: '$.answers[].ranked[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleResponseAnswersSuggestedPeerFieldEvent {
    field: '$.answers[].suggested[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ScheduleResponseAnswersSuggestedAddrsFieldEvent {
    field: '$.answers[].suggested[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ScheduleResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ScheduleResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleResponse>): ScheduleResponse {
    return decodeMessage(buf, ScheduleResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleResponse>): Generator<ScheduleResponseRankedFieldEvent | ScheduleResponseSuggestedPeerFieldEvent | ScheduleResponseSuggestedAddrsFieldEvent | ScheduleResponseAnswersRankedFieldEvent | ScheduleResponseAnswersSuggestedPeerFieldEvent | ScheduleResponseAnswersSuggestedAddrsFieldEvent> {
    return streamMessage(buf, ScheduleResponse.codec(), opts)
  }
}

export interface ScheduleAnswer {
  ranked: Uint8Array<ArrayBuffer>[]
  suggested: Suggestion[]
}

export namespace ScheduleAnswer {
  let _codec: Codec<ScheduleAnswer>

  export const codec = (): Codec<ScheduleAnswer> => {
    if (_codec == null) {
      _codec = message<ScheduleAnswer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.ranked != null && obj.ranked.length > 0) {
          for (const value of obj.ranked) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (obj.suggested != null && obj.suggested.length > 0) {
          for (const value of obj.suggested) {
            w.uint32(18)
            Suggestion.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ranked: [],
          suggested: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.ranked != null && obj.ranked.length === opts.limits.ranked) {
                throw new MaxLengthError('Decode error - repeated field "ranked" had too many elements')
              }

              obj.ranked.push(reader.bytes())
              break
            }
            case 2: {
              if (opts.limits?.suggested != null && obj.suggested.length === opts.limits.suggested) {
                throw new MaxLengthError('Decode error - repeated field "suggested" had too many elements')
              }

              obj.suggested.push(Suggestion.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.suggested$
              }))
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
          ranked: 0,
          suggested: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.ranked != null && obj.ranked === opts.limits.ranked) {
                throw new MaxLengthError('Streaming decode error - repeated field "ranked" had too many elements')
              }

              yield {
                field: `${prefix}.ranked[]`,
                index: obj.ranked,
                value: reader.bytes()
              }

              obj.ranked++

              break
            }
            case 2: {
              if (opts.limits?.suggested != null && obj.suggested === opts.limits.suggested) {
                throw new MaxLengthError('Streaming decode error - repeated field "suggested" had too many elements')
              }

              for (const evt of Suggestion.codec().stream(reader, reader.uint32(), `${prefix}.suggested[]`, {
                limits: opts.limits?.suggested$
              })) {
                yield {
                  ...evt,
                  index: obj.suggested
                }
              }

              obj.suggested++

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

  export interface ScheduleAnswerRankedFieldEvent {
    field: '$.ranked[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ScheduleAnswerSuggestedPeerFieldEvent {
    field: '$.suggested[].peer'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ScheduleAnswerSuggestedAddrsFieldEvent {
    field: '$.suggested[].addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ScheduleAnswer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ScheduleAnswer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleAnswer>): ScheduleAnswer {
    return decodeMessage(buf, ScheduleAnswer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleAnswer>): Generator<ScheduleAnswerRankedFieldEvent | ScheduleAnswerSuggestedPeerFieldEvent | ScheduleAnswerSuggestedAddrsFieldEvent> {
    return streamMessage(buf, ScheduleAnswer.codec(), opts)
  }
}

export interface Suggestion {
  peer: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
}

export namespace Suggestion {
  let _codec: Codec<Suggestion>

  export const codec = (): Codec<Suggestion> => {
    if (_codec == null) {
      _codec = message<Suggestion>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peer != null && obj.peer.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peer)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peer: uint8ArrayAlloc(0),
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peer = reader.bytes()
              break
            }
            case 2: {
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
                field: `${prefix}.peer`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
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

  export interface SuggestionPeerFieldEvent {
    field: '$.peer'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SuggestionAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Suggestion>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Suggestion.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Suggestion>): Suggestion {
    return decodeMessage(buf, Suggestion.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Suggestion>): Generator<SuggestionPeerFieldEvent | SuggestionAddrsFieldEvent> {
    return streamMessage(buf, Suggestion.codec(), opts)
  }
}
