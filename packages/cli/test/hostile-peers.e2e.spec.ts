import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeFrame, encodePieceFrame, PIECE_PROTOCOL } from '@damselfly/protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { bareLibp2p, startForger } from './helpers/peer.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { Libp2p } from 'libp2p'

const MiB = 1024 * 1024

describe('a parent among hostile requesters', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let seed: DaemonProcess
  let root: string

  beforeAll(async () => {
    await origin.start()
    root = await cluster.root()
    seed = await cluster.start('seed', ['--seed'])
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  async function held (path: string, size: number): Promise<ReturnType<typeof makeBlob>> {
    const blob = makeBlob(path, size)
    origin.add(blob)
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, path.slice(1)), '--api', seed.api])
    expect(r.code, r.stderr).toBe(0)
    return blob
  }

  it('lets one peer hold a quarter of its upload slots at most, however many streams it opens, and serves others at once', async () => {
    const blob = await held('/crowded.bin', 16 * MiB)
    const attacker: Libp2p = await bareLibp2p()
    const streams: Array<{ status: string, remoteWriteStatus: string, abort: (err: Error) => void }> = []
    try {
      // 32 streams from one peer, each asking for 4 MiB of pieces
      for (let i = 0; i < 32; i++) {
        const stream = await attacker.dialProtocol(multiaddr(seed.addrs[0]!), PIECE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
        stream.send(encodeFrame(encodePieceFrame({ type: 'open', open: { digest: blob.digest, wantManifest: true } })))
        for (let p = 0; p < 4; p++) stream.send(encodeFrame(encodePieceFrame({ type: 'request', request: { piece: (4 * i + p) % 16 } })))
        streams.push(stream)
      }
      const uploads = async (): Promise<number> => metric(await cluster.api(seed, '/metrics'), 'damselfly_active_uploads') ?? 0
      await eventually(async () => {
        expect(await uploads()).toBeGreaterThan(0)
        // the rest were told to come back later, and the seed ended its side of their streams (the
        // attacker never ends its own, so they stay half open there; a stream the attacker could not
        // buffer, it reset itself)
        expect(streams.filter(s => s.status === 'open' && s.remoteWriteStatus !== 'closed').length).toBeLessThanOrEqual(4)
      }, 30_000)
      expect(await uploads()).toBeLessThanOrEqual(4)

      // an honest node gets the blob from the seed at once
      const started = Date.now()
      const honest = await cluster.start('honest', ['--bootstrap', seed.addrs[0]!, '--no-origin-fallback'])
      const requests = origin.requests
      const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'honest.bin'), '--api', honest.api], 60_000)
      expect(r.code, r.stderr).toBe(0)
      expect((await readFile(join(root, 'honest.bin'))).equals(blob.data)).toBe(true)
      expect(Date.now() - started).toBeLessThan(15_000)
      // the one request is the node's look at the origin (a few bytes, to vouch for the blob); the blob came from the seed
      expect(origin.requests - requests).toBeLessThanOrEqual(1)
      const task = await cluster.api(honest, `/api/v1/tasks/${blob.digest}`)
      expect(Object.keys(task.parents)).toEqual([seed.peerId])
    } finally {
      for (const s of streams) s.abort(new Error('test over'))
      await attacker.stop()
    }
  }, 120_000)

  // A peer that signs false hashes for a blob, validly. Before, the first hash seen for a piece won:
  // the honest parents' pieces then failed against it, and they were banned.
  describe('a forged manifest', () => {
    /** Pull `blob` on a seed of its own and stop it: it comes back later, holding the whole blob. */
    async function heldBySleepingSeed (name: string, blob: ReturnType<typeof makeBlob>): Promise<DaemonProcess> {
      const s = await cluster.start(name, ['--seed'])
      origin.add(blob)
      const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, `${name}.bin`), '--api', s.api])
      expect(r.code, r.stderr).toBe(0)
      await cluster.kill(s, 'SIGTERM')
      return s
    }

    /** A node that meets the forger first (its only peer): the forger's false hashes are the first it sees. */
    async function misledBy (forger: { node: Libp2p }, name: string): Promise<DaemonProcess> {
      return cluster.start(name, ['--bootstrap', forger.node.getMultiaddrs()[0]!.toString(), '--no-origin-fallback', '--seed-timeout', '60s'])
    }

    async function bans (d: DaemonProcess): Promise<Array<{ peer: string, reason: string }>> {
      return (await cluster.api(d, '/api/v1/status')).bans
    }

    /** The pull took every piece from the truthful seed; it is not banned, and the forger is, its word proved false. */
    async function expectServedByTruthfulOnly (d: DaemonProcess, digest: string, truthful: string, forger: string): Promise<void> {
      const task = await cluster.api(d, `/api/v1/tasks/${digest}`)
      expect(Object.keys(task.parents)).toEqual([truthful])
      const banned = await bans(d)
      expect(banned.map(b => b.peer)).not.toContain(truthful)
      expect(banned.find(b => b.peer === forger)?.reason).toMatch(/proved false/)
    }

    it('that comes first costs the honest parents nothing, and its signer is banned', async () => {
      const blob = makeBlob('/forged-first.bin', 8 * MiB)
      const sleeping = await heldBySleepingSeed('truthful-1', blob)
      const forger = await startForger({ digest: blob.digest, size: blob.data.length }, { sendData: false })
      try {
        const d = await misledBy(forger, 'misled-1')
        const getting = runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'misled-1.bin'), '--api', d.api], 90_000)
        await eventually(async () => { expect(forger.opens).toBeGreaterThan(0) }, 15_000)
        const truthful = await cluster.startIn(sleeping.dataDir, ['--seed', '--bootstrap', d.addrs[0]!])
        const r = await getting
        expect(r.code, r.stderr).toBe(0)
        expect((await readFile(join(root, 'misled-1.bin'))).equals(blob.data)).toBe(true)
        await expectServedByTruthfulOnly(d, blob.digest, truthful.peerId, forger.node.peerId.toString())
      } finally {
        await forger.stop()
      }
    }, 120_000)

    it('with data to match costs one failed pull at most, then the next one gets the blob', async () => {
      const blob = makeBlob('/forged-data.bin', 8 * MiB)
      const sleeping = await heldBySleepingSeed('truthful-2', blob)
      const forger = await startForger({ digest: blob.digest, size: blob.data.length }, { sendData: true })
      try {
        const d = await misledBy(forger, 'misled-2')
        const out = join(root, 'misled-2.bin')
        // every piece verifies against the forger's word: the client is refused as soon as the first
        // bytes differ from the origin's, and the download fails at the digest
        const first = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', out, '--api', d.api], 90_000)
        expect(first.code).toBe(1)
        expect(first.stderr).toMatch(/digest mismatch|does not serve/)
        expect(forger.piecesSent).toBeGreaterThan(0)
        await eventually(async () => {
          const failed = await cluster.api(d, `/api/v1/tasks/${blob.digest}`)
          expect(failed.state).toBe('failed')
          expect(failed.error.message).toMatch(/digest mismatch/)
        }, 30_000)
        const truthful = await cluster.startIn(sleeping.dataDir, ['--seed', '--bootstrap', d.addrs[0]!])
        const requests = origin.requests
        const second = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', out, '--api', d.api], 90_000)
        expect(second.code, second.stderr).toBe(0)
        expect((await readFile(out)).equals(blob.data)).toBe(true)
        // the blob came from the truthful seed; the origin was asked only to vouch for a few bytes
        expect(origin.requests - requests).toBeLessThanOrEqual(1)
        await expectServedByTruthfulOnly(d, blob.digest, truthful.peerId, forger.node.peerId.toString())
      } finally {
        await forger.stop()
      }
    }, 120_000)
  })
})
