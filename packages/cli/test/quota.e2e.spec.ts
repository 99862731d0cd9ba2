import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric } from './helpers/cluster.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024

describe('disk quota', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let image: BuiltImage
  let seed: DaemonProcess
  let node: DaemonProcess
  let args: string[]

  /** The layer's file in the node's store, the way an operator would look. */
  const onDisk = (i: number): boolean => existsSync(join(node.dataDir, 'store', 'blobs', 'sha256', image.layers[i]!.digest.slice(7)))
  const blobUrl = (d: DaemonProcess, i: number): string => `http://${d.mirror!}/v2/demo/app/blobs/${image.layers[i]!.digest}?ns=${registry.host}`

  async function fetchLayer (d: DaemonProcess, i: number): Promise<string | null> {
    const res = await fetch(blobUrl(d, i), { signal: AbortSignal.timeout(60_000) })
    const body = Buffer.from(await res.arrayBuffer())
    expect(res.status).toBe(200)
    expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(image.layers[i]!.digest)
    return res.headers.get('x-damselfly-source')
  }

  /** Within 10 s, `check` holds (the file system, as an operator would look). */
  async function until (check: () => boolean, what: string): Promise<void> {
    await eventually(async () => { expect(check(), `timed out waiting until ${what}`).toBe(true) }, 10_000)
  }

  beforeAll(async () => {
    registry = await startRegistry()
    // five 24 MiB layers (each tar a little over 24 MiB): more than the socket buffers between
    // a stalled client and the daemon hold, so a stalled read really keeps the blob in use
    image = await buildImage(join(await cluster.root(), 'image'), { layers: [24, 24, 24, 24, 24].map(n => n * MiB), seed: 'quota' })
    await registry.push(image.dir, 'demo/app:v1')
    seed = await cluster.start('seed', ['--seed', '--insecure-registry', registry.host])
    // quota 96 MiB: a collection starts above 86.4 MiB (a fourth layer) and brings the store down to 76.8 MiB (three)
    args = ['--bootstrap', seed.addrs[0]!, '--insecure-registry', registry.host, '--quota', '96MiB']
    node = await cluster.start('node', args)
  }, 60_000)

  afterAll(async () => {
    await cluster.stop()
    await registry?.close()
  })

  const held = (): number[] => [0, 1, 2, 3, 4].filter(onDisk)
  const bytes = (layers: number[]): number => layers.reduce((n, i) => n + image.layers[i]!.size, 0)

  it('removes the least recently used blob when the store goes over its quota', async () => {
    for (const i of [0, 1, 2]) {
      await fetchLayer(node, i)
      // the response ends once the digest is verified; the blob moves into place a moment later
      await until(() => onDisk(i), `layer ${i} is stored`)
    }
    expect(held()).toEqual([0, 1, 2])
    expect(metric(await cluster.api(node, '/metrics'), 'damselfly_task_complete', { digest: image.layers[1]!.digest })).toBe(1)
    // layer 0 is read again: layer 1 is now the least recently used
    expect(await fetchLayer(node, 0)).toBe('cache')
    await fetchLayer(node, 3)
    await until(() => !onDisk(1), 'layer 1 is removed')
    expect(held()).toEqual([0, 2, 3])
    // the store stops counting a blob once the last of its files is gone, a moment after its data
    await eventually(async () => {
      expect(metric(await cluster.api(node, '/metrics'), 'damselfly_store_bytes')).toBe(bytes([0, 2, 3]))
    }, 10_000)
    // the removed blob's series go with it; the others' stay
    const text = await cluster.api(node, '/metrics')
    for (const name of ['damselfly_task_complete', 'damselfly_task_pieces_held', 'damselfly_task_parents']) {
      expect(metric(text, name, { digest: image.layers[1]!.digest }), name).toBeUndefined()
    }
    for (const i of [0, 2, 3]) expect(metric(text, 'damselfly_task_complete', { digest: image.layers[i]!.digest })).toBe(1)
  }, 60_000)

  it('never removes a blob while a client is still reading it', async () => {
    // layer 2 is the least recently used now: start reading it, and stall
    const res = await fetch(blobUrl(node, 2), { signal: AbortSignal.timeout(60_000) })
    expect(res.headers.get('x-damselfly-source')).toBe('cache')
    const reader = res.body!.getReader()
    const chunks: Uint8Array[] = [(await reader.read()).value!]
    // going over the quota again must take layer 0, the least recently used blob not in use
    await fetchLayer(node, 4)
    await until(() => !onDisk(0), 'layer 0 is removed')
    expect(held()).toEqual([2, 3, 4])
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
    }
    expect(`sha256:${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`).toBe(image.layers[2]!.digest)
    expect(held()).toEqual([2, 3, 4])
  }, 60_000)

  it('keeps its cache across a restart and advertises it again', async () => {
    await cluster.kill(node, 'SIGTERM')
    node = { ...await cluster.startIn(node.dataDir, args), dataDir: node.dataDir }
    expect(held()).toEqual([2, 3, 4])
    expect(metric(await cluster.api(node, '/metrics'), 'damselfly_store_bytes')).toBe(bytes([2, 3, 4]))
    expect(await fetchLayer(node, 4)).toBe('cache')
    // with the registry and the seed gone, only the restarted node can give layer 3 to a newcomer
    await registry.stop()
    await cluster.kill(seed, 'SIGTERM')
    const newcomer = await cluster.start('newcomer', ['--bootstrap', node.addrs[0]!, '--insecure-registry', registry.host])
    expect(await fetchLayer(newcomer, 3)).toBe('peer')
  }, 90_000)
})
