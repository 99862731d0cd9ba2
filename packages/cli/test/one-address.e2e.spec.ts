import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { bareLibp2p, openPieceStream } from './helpers/peer.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { Libp2p } from 'libp2p'

describe('peers behind one address', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  const peers: Libp2p[] = []
  let seed: DaemonProcess

  beforeAll(async () => {
    await origin.start()
    seed = await cluster.start('seed', ['--seed'])
  })

  afterAll(async () => {
    await Promise.all(peers.map(async p => p.stop()))
    await cluster.stop()
    await origin.stop()
  })

  it('all get in when they dial a daemon in the same second, and are served', async () => {
    // a cold start behind a NAT or on one host: every member dials the seed at once
    for (let i = 0; i < 8; i++) peers.push(await bareLibp2p())
    const dials = await Promise.allSettled(peers.map(async p => p.dial(multiaddr(seed.addrs[0]!), { signal: AbortSignal.timeout(10_000) })))
    expect(dials.filter(d => d.status === 'rejected').map(d => String((d as PromiseRejectedResult).reason))).toEqual([])

    // and each is answered on the piece protocol (here: the seed holds no such blob)
    const blob = makeBlob('/none.bin', 1024)
    const streams = await Promise.all(peers.map(async p => openPieceStream(p, seed.addrs[0]!, blob.digest)))
    await eventually(async () => {
      for (const s of streams) expect(s.frames.map(f => f.type)).toEqual(['error'])
    }, 10_000)
  })
})
