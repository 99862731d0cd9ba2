import { generateKeyPair } from '@libp2p/crypto/keys'
import { PIECE_PROTOCOL } from '@damselfly/protocol'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { connectionsToClose } from '../src/connection-cap.js'
import { createNetwork } from '../src/network.js'
import type { ByteStream, SwarmNetwork } from '../src/network.js'

const PEERS = 24
/** kad-dht keeps its 20 closest peers connected (its ClosestPeers set). */
const DHT_CLOSEST = 20

/**
 * The connection cap on real libp2p nodes, in one process: a node that
 * dialled more peers than the DHT keeps close. What the network reports is
 * what the cap decides on, and what it closes stays closed.
 */
describe('a node that opened more connections than its cap', () => {
  let node: SwarmNetwork
  const peers: SwarmNetwork[] = []
  const held: ByteStream[] = []

  beforeAll(async () => {
    const start = async (): Promise<SwarmNetwork> => createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    node = await start()
    for (let i = 0; i < PEERS; i++) {
      const peer = await start()
      // a piece session stays open until the test ends
      await peer.handle(PIECE_PROTOCOL, stream => { held.push(stream) }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
      peers.push(peer)
    }
    for (const p of peers) await node.dial(p.listenAddresses()[0]!, { signal: AbortSignal.timeout(10_000) })
  }, 60_000)

  afterAll(async () => {
    for (const s of held) s.abort(new Error('test over'))
    await Promise.all([node, ...peers].map(async n => n?.stop()))
  })

  it('closes the idle ones it opened, not those in use or that the DHT keeps close, and they stay closed', async () => {
    const ids = peers.map(p => p.peerId)
    // the DHT tags its closest peers once it has pinged them, every 5 s
    await vi.waitFor(async () => { expect((await node.keptAlive(ids)).size).toBe(DHT_CLOSEST) }, { timeout: 20_000, interval: 200 })
    const alive = await node.keptAlive(ids)
    const far = ids.filter(id => !alive.has(id))
    expect(far).toHaveLength(PEERS - DHT_CLOSEST)

    const busy = far[0]!
    const stream = await node.open(busy, PIECE_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    stream.send(new Uint8Array([0]))
    const open = node.connections([PIECE_PROTOCOL])
    expect(open.filter(c => c.outbound).map(c => c.peer).sort()).toEqual([...ids].sort())
    expect(open.find(c => c.peer === busy)?.inUse).toBe(true)
    expect(open.filter(c => c.inUse)).toHaveLength(1)

    const close = connectionsToClose(open.map(c => ({ ...c, kept: alive.has(c.peer) })), 2, 0)
    expect(close.sort()).toEqual(far.slice(1).sort())
    expect(await Promise.all(close.map(async p => node.closeOpened(p, [PIECE_PROTOCOL])))).toEqual(close.map(() => 1))
    // a connection in use is not closed here either
    expect(await node.closeOpened(busy, [PIECE_PROTOCOL])).toBe(0)
    expect(close.every(p => !node.isConnected(p))).toBe(true)
    expect(node.isConnected(busy)).toBe(true)

    // past the DHT's next tagging round, this node dialled none of them again
    // (a peer whose DHT keeps this node close may dial it: that one is the peer's)
    await sleep(6000)
    const opened = node.connections([PIECE_PROTOCOL]).filter(c => c.outbound).map(c => c.peer)
    expect(close.filter(p => opened.includes(p))).toEqual([])
    expect(opened).toHaveLength(PEERS - close.length)
    stream.abort(new Error('test over'))
  }, 60_000)
})
