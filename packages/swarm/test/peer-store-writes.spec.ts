import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { skipUnchangedPeerWrites } from '../src/peer-store-writes.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

describe('skipUnchangedPeerWrites', () => {
  let node: Libp2p
  let peer: PeerId
  /** Merges that reached libp2p's peer store. */
  let written: number

  beforeEach(async () => {
    node = await createLibp2p({})
    peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const merge = node.peerStore.merge.bind(node.peerStore)
    written = 0
    node.peerStore.merge = async (id, data, options) => {
      written++
      return merge(id, data, options)
    }
    skipUnchangedPeerWrites(node.peerStore, node)
  })

  afterEach(async () => {
    await node.stop()
  })

  it('writes a protocol or an address the record lacks, and answers a merge that adds nothing from the record', async () => {
    await node.peerStore.merge(peer, { protocols: ['/a/1.0.0'] })
    await node.peerStore.merge(peer, { protocols: ['/a/1.0.0'] })
    expect(written).toBe(1)
    await node.peerStore.merge(peer, { protocols: ['/b/1.0.0'] })
    expect(written).toBe(2)
    await node.peerStore.merge(peer, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] })
    const same = await node.peerStore.merge(peer, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')], protocols: ['/b/1.0.0'] })
    expect(written).toBe(3)
    expect(same.protocols).toEqual(['/a/1.0.0', '/b/1.0.0'])
    expect((await node.peerStore.get(peer)).addresses.map(a => a.multiaddr.toString())).toEqual(['/ip4/127.0.0.1/tcp/4001'])
  })

  it('lets every other kind of merge through', async () => {
    await node.peerStore.merge(peer, { protocols: ['/a/1.0.0'] })
    await node.peerStore.merge(peer, { tags: { t: { value: 1 } } })
    await node.peerStore.merge(peer, { tags: { t: { value: 1 } } })
    expect(written).toBe(3)
  })

  it('knows a record that changed by other means: a protocol patched away is merged back', async () => {
    await node.peerStore.merge(peer, { protocols: ['/a/1.0.0', '/b/1.0.0'] })
    await node.peerStore.patch(peer, { protocols: ['/b/1.0.0'] })
    await node.peerStore.merge(peer, { protocols: ['/a/1.0.0'] })
    expect(written).toBe(2)
    expect((await node.peerStore.get(peer)).protocols).toEqual(['/a/1.0.0', '/b/1.0.0'])
  })
})
