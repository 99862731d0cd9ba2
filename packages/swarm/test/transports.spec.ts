import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { webRTCDirect } from '@libp2p/webrtc'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { formatSwarmKey } from '@damselfly/protocol'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { createNetwork } from '../src/network.js'
import { chooseTransports, dialTransport, listenTransport } from '../src/transports.js'
import type { SwarmNetwork } from '../src/network.js'
import type { Libp2p } from '@libp2p/interface'

const PEER = '12D3KooWAbWiQ2ApZ3fGDZ8grWdThKcaSKaPYGxXTdUnFVoTfMBa'
const CERTHASH = 'uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ'

describe('which transports a node uses', () => {
  it('reads the transport from each address', () => {
    expect(listenTransport('/ip4/0.0.0.0/tcp/4001')).toBe('tcp')
    expect(listenTransport('/ip6/::/tcp/4002/ws')).toBe('websockets')
    expect(listenTransport('/ip4/0.0.0.0/udp/4003/webrtc-direct')).toBe('webrtc-direct')
    expect(dialTransport(`/dns4/seed.example/tcp/4002/ws/p2p/${PEER}`)).toBe('websockets')
    expect(dialTransport(`/ip4/10.0.0.1/udp/4003/webrtc-direct/certhash/${CERTHASH}/p2p/${PEER}`)).toBe('webrtc-direct')
  })

  it('says what is wrong with an address it cannot use', () => {
    expect(() => listenTransport('/ip4/0.0.0.0/udp/4003/quic-v1')).toThrow(/"\/ip4\/0.0.0.0\/udp\/4003\/quic-v1" cannot be listened on: \/quic-v1 after \/udp is not a transport this node speaks/)
    expect(() => listenTransport('/ip4/0.0.0.0/tcp/443/tls/ws')).toThrow('secure WebSockets (wss) are not supported')
    expect(() => listenTransport('/ip4/0.0.0.0/tcp/1/ws/ws')).toThrow('/ws/ws after /tcp is not a transport')
    expect(() => listenTransport('/p2p-circuit')).toThrow('it must start with /ip4, /ip6')
    expect(() => dialTransport('/ip4/10.0.0.1/udp/4003/webrtc-direct')).toThrow('needs the listener\'s /certhash')
    expect(() => dialTransport(`/dns4/x.example/udp/4003/webrtc-direct/certhash/${CERTHASH}`)).toThrow('webrtc-direct is dialled at an IP address')
    expect(() => dialTransport('nonsense')).toThrow(/^"nonsense" is not a multiaddr/)
    for (const f of [() => listenTransport('/ip4/1.2.3.4/udp/1'), () => dialTransport('/ip4/1.2.3.4')]) {
      expect(f).toThrow(expect.objectContaining({ name: 'UnsupportedAddressError' }))
    }
  })

  it('dials what it is told to, and what its addresses name', () => {
    expect(chooseTransports({ dialled: ['tcp'], listen: ['/ip4/0.0.0.0/tcp/0'] })).toEqual(['tcp'])
    expect(chooseTransports({ dialled: ['tcp'], listen: ['/ip4/0.0.0.0/tcp/0/ws'] })).toEqual(['tcp', 'websockets'])
    expect(chooseTransports({ dialled: ['webrtc-direct', 'tcp'], listen: [] })).toEqual(['tcp', 'webrtc-direct'])
    expect(() => chooseTransports({ dialled: ['quic' as 'tcp'], listen: [] })).toThrow('unknown transport "quic"')
  })

  it('by default dials TCP and WebSockets; WebRTC-direct only when an address names it', () => {
    expect(chooseTransports({ listen: ['/ip4/0.0.0.0/tcp/0'] })).toEqual(['tcp', 'websockets'])
    expect(chooseTransports({ listen: ['/ip4/0.0.0.0/tcp/0/ws'] })).toEqual(['tcp', 'websockets'])
    expect(chooseTransports({ listen: ['/ip4/0.0.0.0/udp/0/webrtc-direct'] })).toEqual(['tcp', 'websockets', 'webrtc-direct'])
    expect(chooseTransports({ listen: [], dial: [`/ip4/10.0.0.1/udp/4003/webrtc-direct/certhash/${CERTHASH}`] })).toEqual(['tcp', 'websockets', 'webrtc-direct'])
  })

  it('a private swarm refuses WebRTC-direct, to listen on or to dial', () => {
    expect(chooseTransports({ listen: ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'], privateSwarm: true })).toEqual(['tcp', 'websockets'])
    const refused = expect.objectContaining({ name: 'TransportConfigError' })
    expect(() => chooseTransports({ listen: ['/ip4/0.0.0.0/udp/0/webrtc-direct'], privateSwarm: true })).toThrow(refused)
    expect(() => chooseTransports({ listen: [], dial: [`/ip4/10.0.0.1/udp/4003/webrtc-direct/certhash/${CERTHASH}`], privateSwarm: true })).toThrow(refused)
    expect(() => chooseTransports({ dialled: ['tcp', 'webrtc-direct'], listen: [], privateSwarm: true })).toThrow('a private swarm (swarm key) cannot use webrtc-direct')
  })
})

describe('the libp2p node', () => {
  const stops: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map(async stop => stop()))
  })

  /** A bare libp2p node, stopped after the test. */
  async function bare (init: Parameters<typeof createLibp2p>[0]): Promise<Libp2p> {
    const node = await createLibp2p({ connectionEncrypters: [noise()], streamMuxers: [yamux()], ...init })
    stops.push(async () => node.stop())
    return node
  }

  async function network (init: Omit<Parameters<typeof createNetwork>[0], 'privateKey'>): Promise<SwarmNetwork> {
    const net = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), ...init })
    stops.push(async () => net.stop())
    return net
  }

  it('with a swarm key, will not take WebRTC-direct even when its caller names it', async () => {
    await expect(network({ listen: ['/ip4/127.0.0.1/tcp/0'], transports: ['tcp', 'webrtc-direct'], swarmKey: new Uint8Array(32) }))
      .rejects.toThrow(expect.objectContaining({ name: 'TransportConfigError' }))
  })

  // why: if js-libp2p starts guarding WebRTC-direct with the swarm key, this
  // fails, and a private swarm may then be allowed to use it
  it('js-libp2p lets a peer without the swarm key in over WebRTC-direct, which is why a private swarm refuses it', async () => {
    const psk = new TextEncoder().encode(formatSwarmKey(new Uint8Array(32).fill(7)))
    const keyed = await bare({ addresses: { listen: ['/ip4/127.0.0.1/udp/0/webrtc-direct'] }, transports: [webRTCDirect()], connectionProtector: preSharedKey({ psk }) })
    const outsider = await bare({ transports: [webRTCDirect()] })
    const conn = await outsider.dial(keyed.getMultiaddrs(), { signal: AbortSignal.timeout(10_000) })
    expect(conn.status).toBe('open')
    expect(keyed.getPeers().map(String)).toContain(outsider.peerId.toString())
  })

  it('as a relay, keeps to its reservations and cuts a relayed connection at its data limit', async () => {
    const relay = await network({ listen: ['/ip4/127.0.0.1/tcp/0'], relay: { maxReservations: 1, dataBytes: 16 * 1024 } })
    const circuit = `${relay.listenAddresses()[0]!}/p2p-circuit`
    const reachable = async (): Promise<Libp2p> => bare({ addresses: { listen: [circuit] }, transports: [tcp(), circuitRelayTransport()], services: { identify: identify() } })
    const first = await reachable()
    const relayed = first.getMultiaddrs().find(a => a.toString().includes('/p2p-circuit'))
    expect(relayed, 'the first peer holds a reservation').toBeDefined()
    // the only reservation is taken
    await expect(reachable()).rejects.toThrow()

    await first.handle('/echo/1.0.0', async (stream) => {
      for await (const chunk of stream) {
        if (!stream.send(chunk)) await stream.onDrain()
      }
      await stream.close()
    }, { runOnLimitedConnection: true })
    const dialler = await bare({ transports: [tcp(), circuitRelayTransport()], services: { identify: identify() } })
    const echo = async (bytes: number): Promise<number> => {
      const stream = await dialler.dialProtocol(multiaddr(relayed!.toString()), '/echo/1.0.0', { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
      stream.send(new Uint8Array(bytes))
      await stream.close()
      let got = 0
      for await (const chunk of stream) got += chunk.byteLength
      return got
    }
    expect(await echo(1000), 'signalling-sized messages pass').toBe(1000)
    // the relay resets the connection once the limit is passed: the echo never comes back whole
    expect(await echo(64 * 1024).catch(() => 0), 'pieces do not').toBeLessThan(64 * 1024)
  })
})
