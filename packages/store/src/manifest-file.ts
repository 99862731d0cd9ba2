import { open, truncate } from 'node:fs/promises'
import { FrameDecoder, ManifestPart, MAX_PIECE_FRAME, MAX_PIECES, encodeFrame, verifyManifestPart } from '@damselfly/protocol'
import { isNotFound } from './file-io.js'
import type { BlobDigest, VerifiedManifestPart } from '@damselfly/protocol'

const READ_CHUNK = 64 * 1024

/** Manifest parts as the length-prefixed frames of a manifest file. */
export function encodeManifestFrames (parts: ManifestPart[]): Uint8Array {
  const frames = parts.map(part => encodeFrame(ManifestPart.encode(part)).subarray())
  return Buffer.concat(frames)
}

/**
 * The parts stored in a manifest file that still verify for `digest`. A
 * frame cut short by a crash is dropped and the file truncated before it, so
 * later appends start on a frame boundary. A missing file holds no parts.
 */
export async function readManifestFile (path: string, digest: BlobDigest): Promise<VerifiedManifestPart[]> {
  let file
  try {
    file = await open(path, 'r')
  } catch (err) {
    if (isNotFound(err)) return []
    throw err
  }
  const parts: VerifiedManifestPart[] = []
  const decoder = new FrameDecoder(MAX_PIECE_FRAME)
  let read = 0
  let wholeFrames = 0
  let size: number
  try {
    size = (await file.stat()).size
    const buffer = new Uint8Array(READ_CHUNK)
    decoding: while (read < size) {
      const { bytesRead } = await file.read(buffer, 0, buffer.byteLength, read)
      if (bytesRead === 0) break
      read += bytesRead
      try {
        // the decoder keeps what it is given, so hand it a copy of the reused buffer
        for (const frame of decoder.push(buffer.slice(0, bytesRead))) {
          wholeFrames = read - decoder.buffered
          const part = await decodePart(frame.subarray(), digest)
          if (part != null) parts.push(part)
        }
      } catch {
        // an unreadable frame header: nothing after it can be trusted
        break decoding
      }
    }
  } finally {
    await file.close()
  }
  if (wholeFrames < size) {
    await truncate(path, wholeFrames)
  }
  return parts
}

async function decodePart (bytes: Uint8Array, digest: BlobDigest): Promise<VerifiedManifestPart | undefined> {
  try {
    const part = ManifestPart.decode(bytes, { limits: { hashes: MAX_PIECES } })
    return await verifyManifestPart(part, { digest })
  } catch {
    // a damaged part is skipped; the pieces it covered are simply not known
    return undefined
  }
}
