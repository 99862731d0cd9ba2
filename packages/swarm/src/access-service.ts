import { ACCESS_PROTOCOL, decodeAccessAnswer, decodeAccessQuery, encodeAccessAnswer, encodeAccessQuery, MAX_ACCESS_FRAME } from '@damselfly/protocol'
import { answer, exchange, readRequest } from './request-response.js'
import type { SwarmNetwork } from './network.js'
import type { PeerPenalties } from './penalties.js'
import type { AccessQuery } from '@damselfly/protocol'
import type { AbortOptions, Logger } from '@libp2p/interface'

/** What this node knows of a registry repository: does the registry let anyone read it? Never asks the registry. */
export type PublicAccessAnswer = (query: AccessQuery) => boolean

/** Peers asked about one blob, at most. */
const ASKED = 8
/** How long the peers may take to say yes, all told; a node that has just started meets its first peers within it. */
const ANSWER_TIMEOUT_MS = 3000
/** How often the peers at hand are looked at again, for ones not asked yet. */
const RECHECK_MS = 200

/**
 * Both sides of /damselfly/access/1.0.0. A node whose registry cannot be
 * reached asks a few peers whether the registry lets anyone read a blob or
 * manifest; a peer says yes only when its registry told it so lately. The
 * swarm trusts its members' checks: private images need the registry
 * itself, or a yes from the registry that this node got for that client.
 */
export class AccessService {
  readonly #network: SwarmNetwork
  readonly #penalties: PeerPenalties
  readonly #log: Logger

  constructor (network: SwarmNetwork, penalties: PeerPenalties, log: Logger) {
    this.#network = network
    this.#penalties = penalties
    this.#log = log
  }

  async serve (known: PublicAccessAnswer): Promise<void> {
    await this.#network.handle(ACCESS_PROTOCOL, (stream, peer) => {
      void (async () => {
        const signal = AbortSignal.timeout(ANSWER_TIMEOUT_MS)
        const query = await readRequest(stream, peer, this.#penalties, 'access query', MAX_ACCESS_FRAME, decodeAccessQuery, { signal })
        if (query == null) return
        let yes = false
        try {
          yes = known(query)
        } catch (err: any) {
          this.#log.error('answering an access query failed: %e', err)
        }
        await answer(stream, encodeAccessAnswer({ public: yes }), { signal })
      })().catch(err => {
        this.#log('access query from %s failed: %s', peer, err.message)
        stream.abort(err)
      })
    }, { maxInboundStreams: 32, maxOutboundStreams: ASKED })
  }

  /**
   * True at the first peer that says yes. `peers()` names the peers at
   * hand; those met while waiting are asked too, up to a few in all. False
   * when none says yes in time.
   */
  async ask (peers: () => string[], query: AccessQuery, options: AbortOptions = {}): Promise<boolean> {
    const signal = AbortSignal.any([AbortSignal.timeout(ANSWER_TIMEOUT_MS), ...(options.signal != null ? [options.signal] : [])])
    const asked = new Set<string>()
    const { promise: yes, resolve } = Promise.withResolvers<boolean>()
    let pending = 0
    const askNew = (): void => {
      for (const peer of [...peers()].sort(() => Math.random() - 0.5)) {
        if (asked.size >= ASKED) return
        if (asked.has(peer)) continue
        asked.add(peer)
        pending++
        this.#askOne(peer, query, signal).then(answer => { if (answer) resolve(true) }, () => {}).finally(() => { pending-- })
      }
    }
    const timer = setInterval(() => {
      askNew()
      // everyone there is to ask said no
      if (pending === 0 && asked.size >= ASKED) resolve(false)
    }, RECHECK_MS)
    const onAbort = (): void => resolve(false)
    signal.addEventListener('abort', onAbort, { once: true })
    askNew()
    try {
      return await yes
    } finally {
      clearInterval(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  async #askOne (peer: string, query: AccessQuery, signal: AbortSignal): Promise<boolean> {
    return (await exchange(this.#network, peer, ACCESS_PROTOCOL, encodeAccessQuery(query), MAX_ACCESS_FRAME, decodeAccessAnswer, { signal })).public
  }
}
