import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'

const MiB = 1024 * 1024

/**
 * A seed that has just sent a blob's pieces to one node declines them to the
 * next one for a moment (super-seeding), so that node passes them on. The
 * next node may know nobody else: here it joined through the seed alone,
 * after the first node had announced the blob, and before that node provides
 * it in the DHT. The seed's BUSY answers name the peer the pieces went to, so
 * it fetches from that peer at once instead of waiting out the window.
 */
describe('a node the seed declines, knowing nobody else', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()

  beforeAll(async () => {
    await origin.start()
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('fetches from the peer the seed\'s BUSY answers name', async () => {
    const root = await cluster.root()
    const blob = makeBlob('/busy.bin', 32 * MiB)
    origin.add(blob)
    const url = `${origin.url}${blob.path}`
    const seed = await cluster.start('seed', ['--seed'])
    const first = await cluster.start('first', ['--bootstrap', seed.addrs[0]!])
    const r1 = await runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'first.bin'), '--api', first.api])
    expect(r1.code, r1.stderr).toBe(0)

    const next = await cluster.start('next', ['--bootstrap', seed.addrs[0]!])
    const r2 = await runCli(['get', url, '--digest', blob.digest, '-o', join(root, 'next.bin'), '--api', next.api])
    expect(r2.code, r2.stderr).toBe(0)
    expect((await readFile(join(root, 'next.bin'))).equals(blob.data)).toBe(true)
    const task = await cluster.api(next, `/api/v1/tasks/${blob.digest}`)
    // most of it came from the first node, not from the seed after its window
    expect(task.parents[first.peerId] ?? 0, JSON.stringify(task.parents)).toBeGreaterThanOrEqual(blob.data.length / 2)
    // and the seed's answers named it (the DHT or its routing table may name it too, later)
    expect(metric(await cluster.api(next, '/metrics'), 'damselfly_busy_holders_total')).toBeGreaterThan(0)
  })
})
