import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric, runCli } from './helpers/cluster.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024
/** The pieces of a blob first pulled by range, up to 512 MiB (rangedPieceSizeFor). */
const PIECE = 256 * 1024

interface RangeRead { start: number, end: number }

/**
 * A client that reads a blob as nydusd does: byte ranges, several at once,
 * each answered 206 with exactly those bytes. Resolves with the bytes and
 * with what the registry had sent of the blob when the 206 came.
 */
async function readRange (mirror: string, name: string, digest: string, r: RangeRead, registrySent: () => number): Promise<{ bytes: Buffer, sentAtHeaders: number }> {
  const res = await fetch(`http://${mirror}/v2/${name}/blobs/${digest}`, { headers: { range: `bytes=${r.start}-${r.end - 1}` }, signal: AbortSignal.timeout(60_000) })
  const sentAtHeaders = registrySent()
  if (res.status !== 206) throw new Error(`bytes ${r.start}-${r.end - 1}: ${res.status} ${await res.text()}`)
  return { bytes: Buffer.from(await res.arrayBuffer()), sentAtHeaders }
}

/** Pieces covering the ranges, each once. */
function coveringPieces (ranges: RangeRead[]): Set<number> {
  const pieces = new Set<number>()
  for (const r of ranges) for (let i = Math.floor(r.start / PIECE); i * PIECE < r.end; i++) pieces.add(i)
  return pieces
}

/**
 * Lazy loading through the swarm: clients read scattered ranges of a blob
 * nobody holds, from several nodes at once. The seed pulls from the
 * registry only the pieces that cover them, each once, by HTTP Range; the
 * rest of the blob never leaves the registry.
 */
describe('ranged reads of cold blobs', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let image: BuiltImage
  let seed: DaemonProcess
  const nodes: DaemonProcess[] = []
  let prefetching: DaemonProcess
  let resting: DaemonProcess
  let layer: Buffer
  let digest: string
  let sentByRegistry: () => number

  beforeAll(async () => {
    const root = await cluster.root()
    registry = await startRegistry()
    image = await buildImage(join(root, 'image'), { layers: [40 * MiB, 24 * MiB, 16 * MiB, 8 * MiB, 8 * MiB], seed: 'ranged' })
    await registry.push(image.dir, 'lazy/app:v1')
    registry.resetCounts()
    digest = image.layers[0]!.digest
    layer = await readFile(join(image.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)))
    sentByRegistry = () => registry.blobBytes(digest)
    const upstream = ['--insecure-registry', registry.host, '--default-registry', registry.host]
    seed = await cluster.start('seed', ['--seed', ...upstream])
    for (let i = 0; i < 3; i++) nodes.push(await cluster.start(`node${i}`, ['--bootstrap', seed.addrs[0]!, ...upstream]))
    prefetching = await cluster.start('prefetching', ['--bootstrap', seed.addrs[0]!, ...upstream, '--prefetch', 'background'])
    // lets a resting ranged download go after 300 ms instead of a minute
    resting = await cluster.start('resting', ['--bootstrap', seed.addrs[0]!, ...upstream, '--test-ranged-rest-ms', '300'], { DAMSELFLY_TEST: '1' })
  }, 120_000)

  afterAll(async () => {
    await cluster.stop()
    await registry?.close()
  })

  it('serves scattered ranges from three nodes at once while the registry sends only the pieces that cover them, each once', async () => {
    // 1 MiB-aligned reads at scattered offsets, a few smaller ones inside
    // pieces, a read across a piece boundary, and pieces two nodes read both
    const reads: RangeRead[][] = [
      [{ start: 3 * MiB, end: 4 * MiB }, { start: 17 * MiB + 5, end: 17 * MiB + 22 }, { start: 30 * MiB, end: 31 * MiB }, { start: 8 * MiB - 100, end: 8 * MiB + 100 }],
      [{ start: 30 * MiB, end: 31 * MiB }, { start: 12 * MiB, end: 13 * MiB }, { start: 3 * MiB + 4096, end: 3 * MiB + 8192 }],
      [{ start: 39 * MiB, end: layer.byteLength }, { start: 21 * MiB, end: 22 * MiB }, { start: 12 * MiB, end: 13 * MiB }]
    ]
    const results = await Promise.all(nodes.map(async (node, n) => Promise.all(reads[n]!.map(async r => ({ r, ...await readRange(node.mirror!, 'lazy/app', digest, r, sentByRegistry) })))))
    for (const result of results.flat()) {
      expect(result.bytes.equals(layer.subarray(result.r.start, result.r.end)), `bytes ${result.r.start}-${result.r.end - 1}`).toBe(true)
    }
    const covering = coveringPieces(reads.flat())
    const coveringBytes = [...covering].reduce((n, i) => n + Math.min(PIECE, layer.byteLength - i * PIECE), 0)
    await registry.waitFor(() => registry.blobBytes(digest) >= coveringBytes, 2000)
    // each covering piece left the registry once, and nothing else of the blob did
    expect(registry.blobBytes(digest)).toBe(coveringBytes)
    expect(coveringBytes).toBeLessThan(layer.byteLength / 2)
    // a 206 went out as soon as its pieces were there, not once the blob was
    for (const result of results.flat()) expect(result.sentAtHeaders).toBeLessThanOrEqual(coveringBytes)

    // a piece already read on one node reaches another from the swarm: the registry sends nothing more
    const again = await readRange(nodes[2]!.mirror!, 'lazy/app', digest, { start: 3 * MiB, end: 4 * MiB }, sentByRegistry)
    expect(again.bytes.equals(layer.subarray(3 * MiB, 4 * MiB))).toBe(true)
    expect(registry.blobBytes(digest)).toBe(coveringBytes)

    // at rest: each node holds what it read and fetches nothing more, and says so
    await eventually(async () => {
      const task = await cluster.api(nodes[0]!, `/api/v1/tasks/${digest}`)
      expect(task).toMatchObject({ state: 'downloading', ranged: true, fetching: false })
      expect(task.piecesHeld).toBeLessThan(task.pieces)
    }, 10_000)
    const status = await runCli(['status', '--api', nodes[0]!.api])
    expect(status.stdout).toMatch(new RegExp(`${digest.slice(0, 19)} +partial +\\d+%`))
  }, 120_000)

  it('a read of the whole blob after ranged reads gets every byte, checked against its digest, and the registry sends the rest once', async () => {
    const res = await fetch(`http://${nodes[0]!.mirror!}/v2/lazy/app/blobs/${digest}`, { signal: AbortSignal.timeout(60_000) })
    expect(res.status).toBe(200)
    const body = Buffer.from(await res.arrayBuffer())
    expect(body.equals(layer)).toBe(true)
    await registry.waitFor(() => registry.blobBytes(digest) >= layer.byteLength, 2000)
    expect(registry.blobBytes(digest)).toBe(layer.byteLength)
  }, 120_000)

  it('a range past the end of a cold blob gets 416, and does not spoil the blob for the next client', async () => {
    const other = image.layers[1]!
    const past = await fetch(`http://${nodes[1]!.mirror!}/v2/lazy/app/blobs/${other.digest}`, { headers: { range: `bytes=${other.size + 10}-${other.size + 20}` }, signal: AbortSignal.timeout(60_000) })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${other.size}`)
    const blob = await readFile(join(image.dir, 'blobs', 'sha256', other.digest.slice('sha256:'.length)))
    const right = await readRange(nodes[2]!.mirror!, 'lazy/app', other.digest, { start: 5 * MiB, end: 6 * MiB }, () => registry.blobBytes(other.digest))
    expect(right.bytes.equals(blob.subarray(5 * MiB, 6 * MiB))).toBe(true)
  }, 120_000)

  it('a HEAD of a cold blob gives its size and costs the registry at most its first piece', async () => {
    const third = image.layers[2]!
    const head = await fetch(`http://${nodes[0]!.mirror!}/v2/lazy/app/blobs/${third.digest}`, { method: 'HEAD', signal: AbortSignal.timeout(60_000) })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(third.size))
    // the swarm fetches what was asked for, the first byte's piece, and stops there
    await new Promise(resolve => setTimeout(resolve, 2000))
    expect(registry.blobBytes(third.digest)).toBeLessThanOrEqual(PIECE)
  }, 120_000)

  it('a node with --prefetch background serves the range at once, then fetches the rest of the blob, which leaves the registry once', async () => {
    const fourth = image.layers[3]!
    const blob = await readFile(join(image.dir, 'blobs', 'sha256', fourth.digest.slice('sha256:'.length)))
    const read = await readRange(prefetching.mirror!, 'lazy/app', fourth.digest, { start: MiB, end: MiB + 100 }, () => registry.blobBytes(fourth.digest))
    expect(read.bytes.equals(blob.subarray(MiB, MiB + 100))).toBe(true)
    // the range was answered before the rest of the blob came
    expect(read.sentAtHeaders).toBeLessThan(fourth.size)
    await eventually(async () => {
      const tasks = await cluster.api(prefetching, '/api/v1/tasks')
      expect(tasks.find((t: any) => t.digest === fourth.digest)?.state).toBe('complete')
    }, 60_000)
    await registry.waitFor(() => registry.blobBytes(fourth.digest) >= fourth.size, 2000)
    expect(registry.blobBytes(fourth.digest)).toBe(fourth.size)
  }, 120_000)

  it('a ranged download at rest is let go; the pieces read stay, and the next read fetches only what it lacks', async () => {
    const fifth = image.layers[4]!
    const blob = await readFile(join(image.dir, 'blobs', 'sha256', fifth.digest.slice('sha256:'.length)))
    const sent = (): number => registry.blobBytes(fifth.digest)
    const received = async (): Promise<number> => metric(await cluster.api(resting, '/metrics'), 'damselfly_received_bytes_total', { source: 'peer' }) ?? 0
    const first = await readRange(resting.mirror!, 'lazy/app', fifth.digest, { start: MiB, end: MiB + 4096 }, sent)
    expect(first.bytes.equals(blob.subarray(MiB, MiB + 4096))).toBe(true)
    await eventually(async () => {
      const tasks = await cluster.api(resting, '/api/v1/tasks')
      expect(tasks.find((t: any) => t.digest === fifth.digest), 'the download, let go').toBeUndefined()
    }, 30_000)
    const before = { registry: sent(), received: await received() }
    expect(before.registry).toBe(PIECE)

    // the same bytes again: from what the node holds, nobody asked
    const again = await readRange(resting.mirror!, 'lazy/app', fifth.digest, { start: MiB, end: MiB + 4096 }, sent)
    expect(again.bytes.equals(blob.subarray(MiB, MiB + 4096))).toBe(true)
    expect(await received()).toBe(before.received)
    // other bytes: a new download takes up the piece held and fetches the one it lacks
    const other = await readRange(resting.mirror!, 'lazy/app', fifth.digest, { start: 5 * MiB, end: 5 * MiB + 10 }, sent)
    expect(other.bytes.equals(blob.subarray(5 * MiB, 5 * MiB + 10))).toBe(true)
    expect(await received()).toBe(before.received + PIECE)
    await registry.waitFor(() => sent() >= 2 * PIECE, 2000)
    expect(sent()).toBe(2 * PIECE)
    const task = await cluster.api(resting, `/api/v1/tasks/${fifth.digest}`)
    expect(task).toMatchObject({ ranged: true, piecesHeld: 2 })
  }, 120_000)
})
