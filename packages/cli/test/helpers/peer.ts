import { noise } from '@libp2p/noise'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createHash } from 'node:crypto'
import { Bitfield, blobCid, decodePieceFrame, decodeSeedResponse, encodeFrame, encodePieceDataFrame, encodePieceFrame, encodeSeedRequest, ErrorMessage, FrameDecoder, KAD_PROTOCOL, layoutFor, MAX_CHUNK_SIZE, MAX_PIECE_FRAME, MAX_SEED_FRAME, PIECE_PROTOCOL, pieceRange, SEED_PROTOCOL, signManifestPart } from '@damselfly/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import * as Digest from 'multiformats/hashes/digest'
import type { BlobDigest, PieceFrame, SeedAnswerMessage } from '@damselfly/protocol'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'

/**
 * A libp2p node with the daemon's transport stack and nothing else: a peer
 * the test scripts by hand, such as an attacker. It listens on TCP and
 * dials TCP and WebSockets addresses. With `swarmKeyFile` (the bytes of a
 * swarm key file, as js-libp2p's pnet takes them) it joins a private network.
 */
export async function bareLibp2p (options: { swarmKeyFile?: Uint8Array, privateKey?: PrivateKey } = {}): Promise<Libp2p> {
  return await createLibp2p({
    ...(options.privateKey != null ? { privateKey: options.privateKey } : {}),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [tls(), noise()],
    // the daemon's Yamux windows: the spec's 256 KiB to start, up to 2 MiB
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 2 * 1024 * 1024 } })],
    ...(options.swarmKeyFile != null ? { connectionProtector: preSharedKey({ psk: options.swarmKeyFile }) } : {})
  })
}

/** Asks the seed at `addr` to pull a blob, as a peer would, and returns its answer. */
export async function askSeed (node: Libp2p, addr: string, request: { digest: string, url: string, size?: number }): Promise<SeedAnswerMessage> {
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

/** Reads a protobuf varint at `at`; returns the value and where the next field starts. */
function varint (b: Uint8Array, at: number): [number, number] {
  let value = 0
  let shift = 0
  for (;;) {
    const byte = b[at++]!
    value += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return [value, at]
    shift += 7
  }
}

/** The length-delimited fields numbered `field` of a protobuf message. */
function bytesFields (b: Uint8Array, field: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let at = 0
  while (at < b.length) {
    const [key, next] = varint(b, at)
    at = next
    const wire = key & 7
    if (wire === 0) [, at] = varint(b, at)
    else if (wire === 2) {
      const [len, start] = varint(b, at)
      if ((key >>> 3) === field) out.push(b.subarray(start, start + len))
      at = start + len
    } else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else throw new Error(`wire type ${wire} in a kad message`)
  }
  return out
}

/**
 * One Kademlia GET_PROVIDERS to the node at `addr` alone (not a lookup
 * across the swarm): the peers that node names as holders of the blob, from
 * its own provider store. Encoded by hand, as the libp2p kad-dht spec has it.
 */
export async function providersNamedBy (node: Libp2p, addr: string, digest: string): Promise<string[]> {
  const key = blobCid(digest as BlobDigest).multihash.bytes
  // Message{type: GET_PROVIDERS (3), key}
  const request = Uint8Array.from([0x08, 0x03, 0x12, key.length, ...key])
  const stream = await node.dialProtocol(multiaddr(addr), KAD_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  stream.send(encodeFrame(request))
  const decoder = new FrameDecoder(1024 * 1024)
  for await (const chunk of stream) {
    for (const frame of decoder.push(chunk)) {
      await stream.close().catch(() => {})
      // providerPeers (9) of Peer{id (1)}
      return bytesFields(frame.subarray(), 9).flatMap(peer => bytesFields(peer, 1)).map(id => peerIdFromMultihash(Digest.decode(id)).toString())
    }
  }
  throw new Error('the node closed the stream without an answer')
}

export interface Forger {
  node: Libp2p
  /** Opens it was asked, and piece data it sent. */
  opens: number
  piecesSent: number
  stop(): Promise<void>
}

/**
 * A peer that claims to hold a blob and answers its piece streams with a
 * manifest part it signed itself, validly, over false hashes: those of
 * zeroed pieces. With `sendData` it serves those zeroed pieces (which match
 * its own hashes); without, it declines every request (BUSY).
 */
export async function startForger (blob: { digest: string, size: number }, options: { sendData: boolean }): Promise<Forger> {
  // its own key, to sign with
  const privateKey = await generateKeyPair('Ed25519')
  const node = await bareLibp2p({ privateKey })
  const layout = layoutFor(blob.size)
  const zeros = (i: number): Uint8Array => new Uint8Array(pieceRange(layout.size, layout.pieceSize, i).length)
  const hashes = Array.from({ length: layout.pieces }, (_, i) => new Uint8Array(createHash('sha256').update(zeros(i)).digest()))
  const body = { digest: blob.digest as BlobDigest, size: layout.size, pieceSize: layout.pieceSize, first: 0, hashes }
  const part = await signManifestPart(body, privateKey)
  const forger: Forger = { node, opens: 0, piecesSent: 0, stop: async () => { await node.stop() } }
  await node.handle(PIECE_PROTOCOL, stream => {
    void (async () => {
      const send = (frame: PieceFrame): void => { stream.send(encodeFrame(encodePieceFrame(frame))) }
      const decoder = new FrameDecoder(MAX_PIECE_FRAME)
      for await (const chunk of stream) {
        for (const raw of decoder.push(chunk)) {
          const frame = decodePieceFrame(raw)
          if (frame.type === 'open') {
            forger.opens++
            send({ type: 'manifest', manifest: [part] })
            const all = new Bitfield(layout.pieces)
            for (let i = 0; i < layout.pieces; i++) all.set(i)
            send({ type: 'bitfield', bitfield: { pieces: layout.pieces, bits: Uint8Array.from(all.bytes) } })
          } else if (frame.type === 'request') {
            const i = frame.request.piece
            if (!options.sendData) {
              send({ type: 'error', error: { code: ErrorMessage.Code.BUSY, message: 'busy', piece: i } })
              continue
            }
            const data = zeros(i)
            for (let at = 0; at < data.length; at += MAX_CHUNK_SIZE) {
              const end = Math.min(data.length, at + MAX_CHUNK_SIZE)
              if (!stream.send(encodePieceDataFrame(i, at, data.subarray(at, end), end === data.length))) await stream.onDrain()
            }
            forger.piecesSent++
          }
        }
      }
    })().catch(() => {})
  })
  return forger
}
