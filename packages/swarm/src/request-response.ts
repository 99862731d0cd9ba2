import { encodeFrame, FrameDecoder } from '@damselfly/protocol'
import type { ByteStream, SwarmNetwork } from './network.js'
import type { PeerPenalties } from './penalties.js'
import type { AbortOptions } from '@libp2p/interface'

/**
 * The protocols of one request and one answer (seed, access): each side
 * sends one length-prefixed frame, then both close.
 */

/**
 * The first frame of a stream (at most `maxLength` bytes). The stream is
 * aborted when `options.signal` fires first.
 */
export async function readOneFrame (stream: ByteStream, maxLength: number, options: AbortOptions): Promise<Uint8Array> {
  const decoder = new FrameDecoder(maxLength)
  const onAbort = (): void => stream.abort(new Error('timed out waiting for a frame'))
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const chunk of stream) {
      for (const frame of decoder.push(chunk)) return frame.subarray()
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
  throw new Error('stream ended before a whole frame arrived')
}

/**
 * The request on a stream a peer opened, decoded; undefined when there is
 * none (the stream is then aborted). An oversized or malformed request is
 * the sender's doing and bans it (`what` names it in the reason); a
 * timeout, a reset or a stream that ended is a busy or impatient peer, not
 * a bad one.
 */
export async function readRequest<T> (stream: ByteStream, peer: string, penalties: PeerPenalties, what: string, maxLength: number, decode: (b: Uint8Array) => T, options: AbortOptions): Promise<T | undefined> {
  try {
    return decode(await readOneFrame(stream, maxLength, options))
  } catch (err: any) {
    if (err.name === 'MessageTooLargeError' || err.name === 'MalformedMessageError') penalties.ban(peer, `bad ${what}: ${err.message}`)
    stream.abort(err)
    return undefined
  }
}

/** Sends the answer and closes. */
export async function answer (stream: ByteStream, encoded: Uint8Array, options: AbortOptions): Promise<void> {
  stream.send(encodeFrame(encoded))
  await stream.close(options)
}

/** Opens `protocol` to `peer`, sends one request and returns the decoded answer. */
export async function exchange<T> (network: SwarmNetwork, peer: string, protocol: string, request: Uint8Array, maxLength: number, decode: (b: Uint8Array) => T, options: AbortOptions): Promise<T> {
  const stream = await network.open(peer, protocol, options)
  try {
    stream.send(encodeFrame(request))
    const res = decode(await readOneFrame(stream, maxLength, options))
    await stream.close(options).catch(() => {})
    return res
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
