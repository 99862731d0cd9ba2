import { noise } from '@libp2p/noise'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { yamux } from '@libp2p/yamux'
import { decodePieceFrame, decodeSeedResponse, encodeFrame, encodePieceFrame, encodeSeedRequest, FrameDecoder, MAX_PIECE_FRAME, MAX_SEED_FRAME, PIECE_PROTOCOL, SEED_PROTOCOL } from '@damselfly/protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { PieceFrame, SeedResponse } from '@damselfly/protocol'
import type { Libp2p } from 'libp2p'

/**
 * A libp2p node with the daemon's transport stack and nothing else: a peer
 * the test scripts by hand, such as an attacker. With `swarmKeyFile` (the
 * bytes of a swarm key file, as js-libp2p's pnet takes them) it joins a
 * private network.
 */
export async function bareLibp2p (options: { swarmKeyFile?: Uint8Array } = {}): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [tls(), noise()],
    streamMuxers: [yamux()],
    ...(options.swarmKeyFile != null ? { connectionProtector: preSharedKey({ psk: options.swarmKeyFile }) } : {})
  })
}

/** Asks the seed at `addr` to pull a blob, as a peer would, and returns its answer. */
export async function askSeed (node: Libp2p, addr: string, request: { digest: string, url: string, size?: number }): Promise<SeedResponse> {
  const stream = await node.dialProtocol(multiaddr(addr), SEED_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  stream.send(encodeFrame(encodeSeedRequest({ digest: request.digest, url: request.url, size: request.size ?? 0 })))
  const decoder = new FrameDecoder(MAX_SEED_FRAME)
  for await (const chunk of stream) {
    for (const frame of decoder.push(chunk)) {
      await stream.close().catch(() => {})
      return decodeSeedResponse(frame.subarray())
    }
  }
  throw new Error('the seed closed the stream without an answer')
}

/** A piece stream opened by hand: every frame the responder sends lands in `frames`. */
export interface ScriptedPieceStream {
  frames: PieceFrame[]
  send(frame: PieceFrame): void
  /** Settles when the responder ends the stream. */
  ended: Promise<void>
  abort(): void
}

/** Opens /damselfly/piece/1.0.0 to `addr` and sends Open for `digest`. */
export async function openPieceStream (node: Libp2p, addr: string, digest: string, wantManifest = true): Promise<ScriptedPieceStream> {
  const stream = await node.dialProtocol(multiaddr(addr), PIECE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  const frames: PieceFrame[] = []
  const send = (frame: PieceFrame): void => { stream.send(encodeFrame(encodePieceFrame(frame))) }
  send({ type: 'open', open: { digest, wantManifest } })
  const ended = (async () => {
    const decoder = new FrameDecoder(MAX_PIECE_FRAME)
    for await (const chunk of stream) {
      for (const frame of decoder.push(chunk)) frames.push(decodePieceFrame(frame))
    }
  })().catch(() => {})
  return { frames, send, ended, abort: () => stream.abort(new Error('test over')) }
}
