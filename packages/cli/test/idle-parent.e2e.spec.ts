import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodePieceFrame, encodeFrame, encodePieceFrame, FrameDecoder, MAX_PIECE_FRAME } from '@damselfly/protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { bareLibp2p } from './helpers/peer.js'
import type { DaemonProcess, RunResult } from './helpers/cluster.js'
import type { PieceFrame } from '@damselfly/protocol'
import type { TestBlob } from './helpers/origin.js'

const MiB = 1024 * 1024

/** Pieces a daemon's download of `digest` holds; 0 before the download exists (the API answers 404). */
async function piecesHeld (cluster: Cluster, d: DaemonProcess, digest: string): Promise<number> {
  return (await cluster.api(d, `/api/v1/tasks/${digest}`)).piecesHeld ?? 0
}

/** The get succeeded, wrote exactly the blob, and the origin sent nothing for it. */
async function expectFetchedFromPeers (result: RunResult, file: string, blob: TestBlob, origin: TestOrigin, originBytesBefore: number): Promise<void> {
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  expect((await readFile(file)).equals(blob.data)).toBe(true)
  expect(origin.bytesSent).toBe(originBytesBefore)
}

const cluster = new Cluster(ALLOW_TEST_ORIGINS)
const origin = new TestOrigin()

beforeAll(async () => {
  await origin.start()
})

afterAll(async () => {
  await cluster.stop()
  await origin.stop()
})

/** A new random blob on the origin, its URL, and the cluster's scratch dir for output files. */
async function originBlob (path: string, size: number): Promise<{ blob: TestBlob, root: string, url: string }> {
  const blob = makeBlob(path, size)
  origin.add(blob)
  return { blob, root: await cluster.root(), url: `${origin.url}${blob.path}` }
}

// A download whose every parent place is taken by a peer that holds only part
// of the blob, and will never get more, must still finish once a peer that
// holds the rest turns up. Here the download has one parent place
// (--max-parents 1), so a single stuck peer fills them all, as eight peers
// stuck with the same few pieces would by default.
describe('a download whose parents have nothing more to give', () => {
  it('lets an idle parent go and finishes from a seed that turns up later', async () => {
    const { blob, root, url } = await originBlob('/partial.bin', 24 * MiB)

    // P holds part of the blob: it fetched from the seed while the seed pulled
    // slowly from the origin, and was killed part-way
    origin.rate = 2 * MiB
    const seed = await cluster.start('seed', ['--seed', '--piece-size', String(MiB)])
    let stuck = await cluster.start('stuck', ['--bootstrap', seed.addrs[0]!, '--no-origin-fallback'])
    const first = runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'stuck.bin'), '--api', stuck.api], 60_000)
    await eventually(async () => {
      expect(await piecesHeld(cluster, stuck, blob.digest)).toBeGreaterThanOrEqual(3)
    }, 30_000)
    await cluster.kill(stuck)
    expect((await first).code, 'the killed peer\'s get fails').not.toBe(0)

    // the seed finishes the blob, then goes away for now
    origin.rate = 0
    await eventually(async () => {
      const task = await cluster.api(seed, `/api/v1/tasks/${blob.digest}`)
      expect(task.state).toBe('complete')
    }, 30_000)
    await cluster.kill(seed, 'SIGTERM')

    // P comes back alone, with its verified pieces and nowhere to get more
    stuck = await cluster.startIn(stuck.dataDir, ['--no-origin-fallback'])
    const kept = await cluster.api(stuck, `/api/v1/tasks/${blob.digest}/pieces`)
    expect(kept.held, 'pieces P kept').toBeGreaterThanOrEqual(3)
    expect(kept.held, 'pieces P kept').toBeLessThan(kept.pieces)

    // X's only parent place goes to P, the one peer it knows
    const x = await cluster.start('x', ['--bootstrap', stuck.addrs[0]!, '--max-parents', '1', '--no-origin-fallback'])
    const originBytes = origin.bytesSent
    const get = runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'x.bin'), '--api', x.api], 90_000)
    await eventually(async () => {
      expect(await piecesHeld(cluster, x, blob.digest)).toBeGreaterThanOrEqual(3)
    }, 30_000)

    // the seed comes back, holding the whole blob
    const back = await cluster.startIn(seed.dataDir, ['--seed', '--bootstrap', x.addrs[0]!])
    // every byte came from the two peers, none from the origin
    await expectFetchedFromPeers(await get, join(root, 'x.bin'), blob, origin, originBytes)
    const task = await cluster.api(x, `/api/v1/tasks/${blob.digest}`)
    expect(Object.keys(task.parents).sort()).toEqual([back.peerId, stuck.peerId].sort())
  }, 180_000)

  it('gives up a parent that opens the piece stream and never answers, and finishes from a seed', async () => {
    const { blob, root, url } = await originBlob('/silent.bin', 8 * MiB)

    // the seed pulls the blob, then goes away for now
    const seed = await cluster.start('seed2', ['--seed'])
    const pulled = await runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'seed2.bin'), '--api', seed.api])
    expect(pulled.code, pulled.stderr).toBe(0)
    await cluster.kill(seed, 'SIGTERM')

    // a peer that takes the piece stream and never says a word on it
    const silent = await bareLibp2p()
    let opened = 0
    const held: Array<{ abort: (err: Error) => void }> = []
    await silent.handle('/damselfly/piece/1.0.0', stream => {
      opened++
      held.push(stream)
    })
    try {
      // X's only parent place goes to the silent peer, the one peer it knows
      const x = await cluster.start('x2', ['--bootstrap', silent.getMultiaddrs()[0]!.toString(), '--max-parents', '1', '--no-origin-fallback'])
      const originBytes = origin.bytesSent
      const get = runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'x2.bin'), '--api', x.api], 90_000)
      await eventually(async () => { expect(opened).toBeGreaterThanOrEqual(1) }, 30_000)

      // the seed comes back, holding the whole blob
      const back = await cluster.startIn(seed.dataDir, ['--seed', '--bootstrap', x.addrs[0]!])
      await expectFetchedFromPeers(await get, join(root, 'x2.bin'), blob, origin, originBytes)
      const task = await cluster.api(x, `/api/v1/tasks/${blob.digest}`)
      expect(Object.keys(task.parents)).toEqual([back.peerId])
    } finally {
      for (const stream of held) stream.abort(new Error('test over'))
      await silent.stop()
    }
  }, 180_000)
})

// The parent's side of the same rule: a requester that opened a piece stream
// and asks for nothing holds one of the parent's upload slots. With every slot
// so held, a peer that needs the blob was turned away again and again.
describe('a parent whose upload slots are held by requesters that ask for nothing', () => {
  it('gives the slot of an idle requester to one that asks, and tells the idle one to come back later', async () => {
    const { blob, root, url } = await originBlob('/slot.bin', 8 * MiB)

    // a seed with a single upload slot holds the blob
    const seed = await cluster.start('slot-seed', ['--seed', '--upload-slots', '1'])
    const pulled = await runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'slot-seed.bin'), '--api', seed.api])
    expect(pulled.code, pulled.stderr).toBe(0)

    // a requester opens the blob's piece stream, reads what the seed says and never asks for a piece
    const idle = await bareLibp2p()
    try {
      const stream = await idle.dialProtocol(multiaddr(seed.addrs[0]!), '/damselfly/piece/1.0.0')
      stream.send(encodeFrame(encodePieceFrame({ type: 'open', open: { digest: blob.digest, wantManifest: false } })))
      const frames: PieceFrame[] = []
      const reading = (async () => {
        const decoder = new FrameDecoder(MAX_PIECE_FRAME)
        for await (const chunk of stream) {
          for (const frame of decoder.push(chunk)) frames.push(decodePieceFrame(frame))
        }
      })()
      await eventually(async () => {
        expect(frames.map(f => f.type)).toContain('bitfield')
      }, 10_000)

      // X needs the blob and knows only the seed, whose one slot the idle requester holds
      const x = await cluster.start('slot-x', ['--bootstrap', seed.addrs[0]!, '--no-origin-fallback'])
      const originBytes = origin.bytesSent
      const get = await runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'slot-x.bin'), '--api', x.api], 60_000)
      await expectFetchedFromPeers(get, join(root, 'slot-x.bin'), blob, origin, originBytes)

      // the idle requester was told to come back later, and its stream ended
      await reading
      const choke = frames.find(f => f.type === 'choke')
      expect(choke, `frames the idle requester got: ${frames.map(f => f.type).join(', ')}`).toBeDefined()
      expect(choke?.type === 'choke' ? choke.choke.retryAfterMs : 0).toBe(10_000)
      expect(frames.some(f => f.type === 'data')).toBe(false)
    } finally {
      await idle.stop()
    }
  }, 120_000)
})
