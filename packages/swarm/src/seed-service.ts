import { decodeSeedRequest, decodeSeedResponse, encodeSeedRequest, encodeSeedResponse, ErrorMessage, MAX_SEED_FRAME, SEED_PROTOCOL } from '@damselfly/protocol'
import { isContentFault } from './errors.js'
import { answer, exchange, readRequest } from './request-response.js'
import type { TaskFault } from './errors.js'
import type { ByteStream, SwarmNetwork } from './network.js'
import type { PeerPenalties } from './penalties.js'
import type { BlobDigest, SeedAnswerMessage, SeedRequest } from '@damselfly/protocol'
import type { AbortOptions, Logger } from '@libp2p/interface'

/**
 * What a peer is told when this seed does not pull a blob for it: the kind
 * of failure, the origin's HTTP status, and what was wrong with the content.
 * The reason a connection failed (refused at some address, a host that does
 * not resolve) or which origins this seed reads would let any member map
 * the seed's network, so they stay in the seed's log.
 */
export function refusalFor (err: { name?: string, message?: string, where?: string, status?: number, fault?: string, shareable?: string }): { code: ErrorMessage.Code, message: string, status?: number } {
  if (err.name === 'OriginNotAllowedError') return { code: ErrorMessage.Code.BAD_REQUEST, message: 'this seed does not fetch from that origin' }
  // what the URL the peer named holds is no secret from it: the seed serves its pieces as they arrive
  if (isContentFault(err.fault as TaskFault | undefined)) return { code: ErrorMessage.Code.ORIGIN, message: err.message ?? 'the content was wrong' }
  if (err.where === 'origin' || err.name === 'OriginError') {
    const status = err.status
    return status != null
      ? { code: ErrorMessage.Code.ORIGIN, message: `the origin answered ${status}`, status }
      : { code: ErrorMessage.Code.ORIGIN, message: err.shareable ?? 'the origin could not be read' }
  }
  return { code: ErrorMessage.Code.INTERNAL, message: 'the seed failed' }
}

export interface SeedHandler {
  /** Start (or join) pulling the blob from its origin; resolves with its layout once the origin answered. */
  (request: SeedRequest, options: AbortOptions): Promise<{ size: number, pieceSize: number }>
}

/** Both sides of /damselfly/seed/1.0.0. */
export class SeedService {
  readonly #network: SwarmNetwork
  readonly #penalties: PeerPenalties
  readonly #log: Logger

  constructor (network: SwarmNetwork, penalties: PeerPenalties, log: Logger) {
    this.#network = network
    this.#penalties = penalties
    this.#log = log
  }

  /** Serve seed requests (only a node started with --seed does). */
  async serve (handler: SeedHandler, timeoutMs: number): Promise<void> {
    await this.#network.handle(SEED_PROTOCOL, (stream, peer) => {
      this.#answer(stream, peer, handler, timeoutMs).catch(err => {
        this.#log('seed request from %s failed: %s', peer, err.message)
        stream.abort(err)
      })
    }, { maxInboundStreams: 64, maxOutboundStreams: 64 })
  }

  async #answer (stream: ByteStream, peer: string, handler: SeedHandler, timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs)
    const req = await readRequest(stream, peer, this.#penalties, 'seed request', MAX_SEED_FRAME, decodeSeedRequest, { signal })
    if (req == null) return
    let res: Partial<SeedAnswerMessage>
    try {
      const { size, pieceSize } = await handler(req, { signal })
      res = { accepted: true, size, pieceSize }
    } catch (err: any) {
      this.#log('seed request from %s for %s refused: %s', peer, req.digest, err.message)
      res = { accepted: false, error: refusalFor(err) }
    }
    await answer(stream, encodeSeedResponse(res), { signal: AbortSignal.timeout(5000) })
  }

  /** Ask one seed to pull a blob: with `ranges` ([start, end) bytes), at least the pieces covering them, first. */
  async request (seed: string, digest: BlobDigest, url: string, size: number | undefined, ranges: Array<[number, number]> | undefined, options: AbortOptions): Promise<SeedAnswerMessage> {
    const byteRanges = (ranges ?? []).map(([start, end]) => ({ start, length: end - start }))
    return exchange(this.#network, seed, SEED_PROTOCOL, encodeSeedRequest({ digest, url, size: size ?? 0, ranges: byteRanges }), MAX_SEED_FRAME, decodeSeedResponse, options)
  }
}
