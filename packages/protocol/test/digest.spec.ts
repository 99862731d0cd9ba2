import { sha256 } from '@noble/hashes/sha2.js'
import { CID } from 'multiformats/cid'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { describe, it, expect } from 'vitest'
import { blobCid, blobTopic, digestBytes, digestFromHash, digestHex, isDigest, parseDigest } from '../src/index.js'

const EMPTY_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const EMPTY = `sha256:${EMPTY_HEX}` as const

function sha256Digest (text: string): `sha256:${string}` {
  return `sha256:${toString(sha256(fromString(text)), 'base16')}`
}

describe('parseDigest', () => {
  it('accepts sha256 with 64 lowercase hex digits', () => {
    expect(parseDigest(EMPTY)).toBe(EMPTY)
    expect(isDigest(EMPTY)).toBe(true)
  })

  it.each([
    ['uppercase hex', `sha256:${EMPTY_HEX.toUpperCase()}`],
    ['uppercase algorithm', `SHA256:${EMPTY_HEX}`],
    ['63 digits', `sha256:${EMPTY_HEX.slice(1)}`],
    ['65 digits', `sha256:${EMPTY_HEX}0`],
    ['no algorithm', EMPTY_HEX],
    ['non-hex digit', `sha256:${EMPTY_HEX.slice(1)}g`],
    ['sha512', `sha512:${EMPTY_HEX}${EMPTY_HEX}`],
    ['sha384', `sha384:${'ab'.repeat(48)}`],
    ['blake3', `blake3:${EMPTY_HEX}`],
    ['surrounding space', ` ${EMPTY} `],
    ['trailing newline', `${EMPTY}\n`],
    ['empty', '']
  ])('rejects %s', (_what, input) => {
    expect(() => parseDigest(input)).toThrow(expect.objectContaining({ name: 'InvalidDigestError' }))
    expect(isDigest(input)).toBe(false)
  })

  it('rejects values that are not strings', () => {
    expect(() => parseDigest(42 as any)).toThrow(expect.objectContaining({ name: 'InvalidDigestError' }))
    expect(isDigest(undefined)).toBe(false)
  })
})

describe('digest bytes', () => {
  it('converts between digest strings and raw hashes', () => {
    const bytes = digestBytes(EMPTY)
    expect(bytes).toHaveLength(32)
    expect(bytes[0]).toBe(0xe3)
    expect(bytes[31]).toBe(0x55)
    expect(digestHex(EMPTY)).toBe(EMPTY_HEX)
    expect(digestFromHash(bytes)).toBe(EMPTY)
    expect(() => digestFromHash(new Uint8Array(31))).toThrow(expect.objectContaining({ name: 'InvalidDigestError' }))
  })
})

describe('blobCid', () => {
  it('is a CIDv1 with the raw codec over the sha2-256 multihash of the digest', () => {
    const cid = blobCid(EMPTY)
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(cid.multihash.size).toBe(32)
    expect(cid.multihash.digest).toEqual(digestBytes(EMPTY))
    expect(toString(cid.multihash.bytes, 'base16')).toBe(`1220${EMPTY_HEX}`)
  })

  it('has a stable string form', () => {
    // the well-known CID of the empty raw block
    expect(blobCid(EMPTY).toString()).toBe('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    expect(blobCid(sha256Digest('hello world')).toString()).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
    expect(CID.parse(blobCid(sha256Digest('hello world')).toString()).equals(blobCid(sha256Digest('hello world')))).toBe(true)
  })

  it('rejects an invalid digest', () => {
    expect(() => blobCid('sha256:abc' as any)).toThrow(expect.objectContaining({ name: 'InvalidDigestError' }))
  })
})

describe('blobTopic', () => {
  it('appends the hex digest to the blob topic prefix', () => {
    expect(blobTopic(EMPTY)).toBe(`/damselfly/blob/1.0.0/${EMPTY_HEX}`)
  })
})
