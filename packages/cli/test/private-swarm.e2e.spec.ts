import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseSwarmKey } from '@damselfly/protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { askSeed, bareLibp2p, openPieceStream } from './helpers/peer.js'
import type { DaemonProcess } from './helpers/cluster.js'

const MiB = 1024 * 1024

describe('a private swarm', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let root: string
  let keyA: string
  let keyB: string
  let seedA: DaemonProcess
  let nodeA: DaemonProcess
  let seedB: DaemonProcess
  let nodeB: DaemonProcess

  beforeAll(async () => {
    await origin.start()
    root = await cluster.root()
    keyA = join(root, 'a.key')
    keyB = join(root, 'b.key')
    for (const file of [keyA, keyB]) {
      const made = await runCli(['swarm-key', '-o', file])
      expect(made.code, made.stderr).toBe(0)
    }
    seedA = await cluster.start('seed-a', ['--seed', '--swarm-key', keyA])
    seedB = await cluster.start('seed-b', ['--seed', '--swarm-key', keyB])
    // each node is also told of the other swarm's seed: it must not get in
    nodeA = await cluster.start('node-a', ['--swarm-key', keyA, '--bootstrap', seedA.addrs[0]!, '--bootstrap', seedB.addrs[0]!])
    nodeB = await cluster.start('node-b', ['--swarm-key', keyB, '--bootstrap', seedB.addrs[0]!, '--bootstrap', seedA.addrs[0]!])
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('makes keys in the libp2p format, and never overwrites one', async () => {
    const a = await readFile(keyA, 'utf8')
    expect(a).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    expect(parseSwarmKey(a)).not.toEqual(parseSwarmKey(await readFile(keyB)))
    const again = await runCli(['swarm-key', '-o', keyA])
    expect(again.code).toBe(2)
    expect(await readFile(keyA, 'utf8')).toBe(a)
  })

  it('keeps two swarms with different keys apart on one loopback: each fetches from its own seed only', async () => {
    const blob = makeBlob('/shared.bin', 3 * MiB)
    origin.add(blob)
    const url = `${origin.url}${blob.path}`
    for (const node of [nodeA, nodeB]) {
      const r = await runCli(['get', url, '--digest', blob.digest, '-o', join(root, `${node.peerId}.bin`), '--api', node.api])
      expect(r.code, r.stderr).toBe(0)
      expect((await readFile(join(root, `${node.peerId}.bin`))).equals(blob.data)).toBe(true)
    }
    // each swarm's seed pulled it once: neither could get it from the other swarm
    expect(origin.bytesSent).toBe(2 * blob.data.length)
    const a = await cluster.api(nodeA, `/api/v1/tasks/${blob.digest}`)
    const b = await cluster.api(nodeB, `/api/v1/tasks/${blob.digest}`)
    expect(Object.keys(a.parents)).toEqual([seedA.peerId])
    expect(Object.keys(b.parents)).toEqual([seedB.peerId])
    for (const [node, members] of [[nodeA, [seedA.peerId]], [nodeB, [seedB.peerId]], [seedA, [nodeA.peerId]], [seedB, [nodeB.peerId]]] as const) {
      const peers = (await cluster.api(node, '/api/v1/peers') as Array<{ peer: string }>).map(p => p.peer)
      expect(peers.sort(), node.peerId).toEqual([...members].sort())
    }
  })

  it('refuses a libp2p peer without the key, and lets one with the key in', async () => {
    const blob = makeBlob('/held.bin', MiB)
    origin.add(blob)
    const got = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'held.bin'), '--api', seedA.api])
    expect(got.code, got.stderr).toBe(0)
    const requests = origin.requests

    const outsider = await bareLibp2p()
    try {
      await expect(outsider.dial(multiaddr(seedA.addrs[0]!), { signal: AbortSignal.timeout(10_000) })).rejects.toThrow()
      await expect(openPieceStream(outsider, seedA.addrs[0]!, blob.digest)).rejects.toThrow()
      await expect(askSeed(outsider, seedA.addrs[0]!, { digest: blob.digest, url: `${origin.url}/other` })).rejects.toThrow()
    } finally {
      await outsider.stop()
    }
    expect(origin.requests).toBe(requests)

    const member = await bareLibp2p({ swarmKeyFile: await readFile(keyA) })
    try {
      const stream = await openPieceStream(member, seedA.addrs[0]!, blob.digest)
      await eventually(async () => { expect(stream.frames.map(f => f.type)).toContain('bitfield') }, 10_000)
      stream.abort()
    } finally {
      await member.stop()
    }
  })

  it('refuses a peer outside the allow-list, with or without the key', async () => {
    const listed = await cluster.start('listed', ['--swarm-key', keyA, '--allow-peer', seedA.peerId, '--bootstrap', seedA.addrs[0]!])
    await eventually(async () => {
      const peers = (await cluster.api(listed, '/api/v1/peers') as Array<{ peer: string }>).map(p => p.peer)
      expect(peers).toContain(seedA.peerId)
    }, 15_000)
    const member = await bareLibp2p({ swarmKeyFile: await readFile(keyA) })
    try {
      await expect(openPieceStream(member, listed.addrs[0]!, `sha256:${'0'.repeat(64)}`)).rejects.toThrow()
    } finally {
      await member.stop()
    }
  })

  it('will not start with a key file that is not one', async () => {
    const bad = join(root, 'bad.key')
    await writeFile(bad, '/key/swarm/psk/1.0.0/\n/base16/\nnot-hex\n')
    const r = await runCli(['daemon', '--data-dir', join(root, 'bad'), '--swarm-key', bad], 30_000)
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('hex')
    expect(r.stderr).not.toContain('not-hex')
  })
})
