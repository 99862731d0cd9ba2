import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { bareLibp2p, openPieceStream } from './helpers/peer.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestBlob } from './helpers/origin.js'

const MiB = 1024 * 1024

const TCP = '/ip4/127.0.0.1/tcp/0'
const WS = '/ip4/127.0.0.1/tcp/0/ws'
const WEBRTC_DIRECT = '/ip4/127.0.0.1/udp/0/webrtc-direct'

/** The daemon's printed listen address of one transport. */
function addrOf (d: DaemonProcess, transport: 'tcp' | 'ws' | 'webrtc-direct'): string {
  const names = (a: string): string[] => multiaddr(a).getComponents().map(c => c.name)
  const found = d.addrs.find(a => {
    const n = names(a)
    if (transport === 'tcp') return n.includes('tcp') && !n.includes('ws')
    return n.includes(transport)
  })
  if (found == null) throw new Error(`no ${transport} address among ${d.addrs.join(' ')}`)
  return found
}

describe('transports', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let root: string

  beforeAll(async () => {
    await origin.start()
    root = await cluster.root()
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  /** `damselfly get` of the blob through a daemon; checks the bytes and returns the daemon's record of the task. */
  async function get (d: DaemonProcess, blob: TestBlob, name: string): Promise<any> {
    const out = join(root, name)
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', out, '--api', d.api])
    expect(r.code, r.stderr).toBe(0)
    expect((await readFile(out)).equals(blob.data), `${name} bytes`).toBe(true)
    return cluster.api(d, `/api/v1/tasks/${blob.digest}`)
  }

  async function peersOf (d: DaemonProcess): Promise<Array<{ peer: string, transport?: string, encryption?: string }>> {
    return cluster.api(d, '/api/v1/peers')
  }

  /** Waits until the daemon has published a provider record: others find what it holds through the DHT. */
  async function provided (d: DaemonProcess): Promise<void> {
    await eventually(async () => {
      expect(metric(await cluster.api(d, '/metrics'), 'damselfly_dht_queries_total', { kind: 'provide' })).toBeGreaterThanOrEqual(1)
    }, 30_000)
  }

  it('a node on TCP only and a node on WebSockets only find and feed each other through a node that speaks both', async () => {
    const bridge = await cluster.start('bridge', ['--listen', TCP, '--listen', WS])
    const tcpOnly = await cluster.start('tcp-only', ['--listen', TCP, '--bootstrap', addrOf(bridge, 'tcp')])
    const wsOnly = await cluster.start('ws-only', ['--listen', WS, '--bootstrap', addrOf(bridge, 'ws')])
    expect(tcpOnly.addrs.every(a => !a.includes('/ws'))).toBe(true)
    expect(wsOnly.addrs.every(a => a.includes('/ws'))).toBe(true)
    // neither was told of the other: they learn of each other from the bridge (its DHT)
    await eventually(async () => {
      expect((await peersOf(wsOnly)).map(p => p.peer)).toContain(tcpOnly.peerId)
    }, 30_000)
    const link = (await peersOf(wsOnly)).find(p => p.peer === tcpOnly.peerId)!
    expect(['tcp', 'websockets']).toContain(link.transport)
    expect((await peersOf(wsOnly)).find(p => p.peer === bridge.peerId)?.transport).toBe('websockets')
    expect((await peersOf(tcpOnly)).find(p => p.peer === bridge.peerId)?.transport).toBe('tcp')

    // one blob each way: the first holder pulls it from the origin, the other from that holder
    const one = makeBlob('/tcp-to-ws.bin', 8 * MiB)
    const two = makeBlob('/ws-to-tcp.bin', 8 * MiB)
    for (const b of [one, two]) origin.add(b)
    for (const [blob, holder, fetcher] of [[one, tcpOnly, wsOnly], [two, wsOnly, tcpOnly]] as const) {
      const first = await get(holder, blob, `${blob.path.slice(1)}-first`)
      expect(first.bytesFromOrigin).toBe(blob.data.length)
      await provided(holder)
      const sent = origin.bytesSent
      const task = await get(fetcher, blob, `${blob.path.slice(1)}-second`)
      expect(origin.bytesSent, 'the origin was not asked again').toBe(sent)
      expect(task.bytesFromPeers).toBe(blob.data.length)
      expect(task.parents).toEqual({ [holder.peerId]: blob.data.length })
    }
    const metrics = async (d: DaemonProcess): Promise<string> => cluster.api(d, '/metrics')
    for (const [d, blob] of [[wsOnly, one], [tcpOnly, two]] as const) {
      expect(metric(await metrics(d), 'damselfly_received_bytes_total', { source: 'peer' }), 'piece bytes from a peer').toBe(blob.data.length)
      expect(metric(await metrics(d), 'damselfly_uploaded_bytes_total'), 'piece bytes to a peer').toBeGreaterThanOrEqual(blob === one ? two.data.length : one.data.length)
    }
    // the bridge held neither blob: it only introduced them
    expect(metric(await metrics(bridge), 'damselfly_uploaded_bytes_total') ?? 0).toBe(0)
  })

  it('a node listening on WebRTC-direct serves a blob to a node that dials it there', async () => {
    const holder = await cluster.start('rtc-holder', ['--listen', WEBRTC_DIRECT])
    expect(holder.addrs).toHaveLength(1)
    expect(holder.addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/udp\/\d+\/webrtc-direct\/certhash\/u[\w-]+\/p2p\//)
    const blob = makeBlob('/over-webrtc.bin', 16 * MiB)
    origin.add(blob)
    await get(holder, blob, 'rtc-first')
    const fetcher = await cluster.start('rtc-fetcher', ['--listen', TCP, '--bootstrap', holder.addrs[0]!])
    await eventually(async () => {
      expect((await peersOf(fetcher)).find(p => p.peer === holder.peerId)).toMatchObject({ transport: 'webrtc-direct', encryption: 'native' })
    }, 30_000)
    const sent = origin.bytesSent
    const task = await get(fetcher, blob, 'rtc-second')
    expect(origin.bytesSent).toBe(sent)
    expect(task.parents).toEqual({ [holder.peerId]: blob.data.length })
    expect(metric(await cluster.api(fetcher, '/metrics'), 'damselfly_received_bytes_total', { source: 'peer' })).toBe(blob.data.length)
    expect((await peersOf(fetcher)).find(p => p.peer === holder.peerId)?.transport).toBe('webrtc-direct')
  })

  it('keeps its WebRTC-direct address across a restart: a node given the address from before gets in', async () => {
    const first = await cluster.start('rtc-restart', ['--listen', WEBRTC_DIRECT])
    const address = first.addrs[0]!
    const port = multiaddr(address).getComponents().find(c => c.name === 'udp')!.value!
    await cluster.kill(first, 'SIGTERM')
    const again = await cluster.startIn(first.dataDir, ['--listen', `/ip4/127.0.0.1/udp/${port}/webrtc-direct`])
    // the same certhash (and peer id): an address written into a config or a web page before still works
    expect(again.addrs).toEqual([address])
    const blob = makeBlob('/after-restart.bin', 4 * MiB)
    origin.add(blob)
    await get(again, blob, 'rtc-restart-first')
    const fetcher = await cluster.start('rtc-restart-fetcher', ['--listen', TCP, '--bootstrap', address])
    await eventually(async () => {
      expect((await peersOf(fetcher)).find(p => p.peer === again.peerId)?.transport).toBe('webrtc-direct')
    }, 30_000)
    const task = await get(fetcher, blob, 'rtc-restart-second')
    expect(task.parents).toEqual({ [again.peerId]: blob.data.length })
    // another node's data directory, another certificate
    const other = await cluster.start('rtc-other', ['--listen', WEBRTC_DIRECT])
    const certhash = (a: string): string | undefined => multiaddr(a).getComponents().find(c => c.name === 'certhash')?.value
    expect(certhash(other.addrs[0]!)).not.toBe(certhash(address))
  })

  it('seeds, and nodes started with --relay, run a circuit relay; other nodes do not', async () => {
    const runs = new Map([
      [await cluster.start('relay-seed', ['--seed']), true],
      [await cluster.start('relay-node', ['--relay']), true],
      [await cluster.start('no-relay-seed', ['--seed', '--no-relay']), false],
      [await cluster.start('plain-node'), false]
    ])
    const probe = await bareLibp2p()
    try {
      for (const [d, relays] of runs) {
        // a relay answers its hop protocol; a node without one refuses the stream
        const hop = probe.dialProtocol(multiaddr(d.addrs[0]!), '/libp2p/circuit/relay/0.2.0/hop', { signal: AbortSignal.timeout(10_000) })
        if (relays) (await hop).abort(new Error('probe over'))
        else await expect(hop, d.dataDir).rejects.toThrow(expect.objectContaining({ name: 'UnsupportedProtocolError' }))
      }
    } finally {
      await probe.stop()
    }
  })

  describe('in a private swarm', () => {
    let key: string

    beforeAll(async () => {
      key = join(root, 'swarm.key')
      const made = await runCli(['swarm-key', '-o', key])
      expect(made.code, made.stderr).toBe(0)
    })

    it('WebSockets carry the swarm key: a member joins over them, a peer without the key does not', async () => {
      const seed = await cluster.start('pnet-seed', ['--seed', '--swarm-key', key, '--listen', TCP, '--listen', WS])
      const member = await cluster.start('pnet-member', ['--swarm-key', key, '--listen', WS, '--bootstrap', addrOf(seed, 'ws')])
      const blob = makeBlob('/pnet-ws.bin', 2 * MiB)
      origin.add(blob)
      const task = await get(member, blob, 'pnet-ws')
      expect(task.parents).toEqual({ [seed.peerId]: blob.data.length })
      expect((await peersOf(member)).find(p => p.peer === seed.peerId)?.transport).toBe('websockets')

      const requests = origin.requests
      const outsider = await bareLibp2p()
      try {
        for (const addr of [addrOf(seed, 'ws'), addrOf(member, 'ws')]) {
          await expect(outsider.dial(multiaddr(addr), { signal: AbortSignal.timeout(10_000) }), addr).rejects.toThrow()
          await expect(openPieceStream(outsider, addr, blob.digest), addr).rejects.toThrow()
        }
      } finally {
        await outsider.stop()
      }
      expect(origin.requests).toBe(requests)
      for (const d of [seed, member]) {
        expect((await peersOf(d)).map(p => p.peer), 'the outsider is no peer').not.toContain(outsider.peerId.toString())
      }
      // a peer with the key gets in over the same address
      const insider = await bareLibp2p({ swarmKeyFile: await readFile(key) })
      try {
        const stream = await openPieceStream(insider, addrOf(seed, 'ws'), blob.digest)
        await eventually(async () => { expect(stream.frames.map(f => f.type)).toContain('bitfield') }, 10_000)
        stream.abort()
      } finally {
        await insider.stop()
      }
    })

    it('a node with a swarm key will not start on WebRTC-direct, which the key would not guard', async () => {
      const listen = await runCli(['daemon', '--data-dir', join(root, 'pnet-rtc'), '--swarm-key', key, '--listen', TCP, '--listen', WEBRTC_DIRECT], 30_000)
      expect(listen.code).toBe(2)
      expect(listen.stderr.trim().split('\n')).toHaveLength(1)
      expect(listen.stderr).toContain(`a private swarm (swarm key) cannot listen on ${WEBRTC_DIRECT}`)
      const certhash = '/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ'
      const dial = await runCli(['daemon', '--data-dir', join(root, 'pnet-rtc'), '--swarm-key', key, '--bootstrap', `/ip4/127.0.0.1/udp/9/webrtc-direct${certhash}`], 30_000)
      expect(dial.code).toBe(2)
      expect(dial.stderr).toContain('a private swarm (swarm key) cannot dial')
    })
  })
})
