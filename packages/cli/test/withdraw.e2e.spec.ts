import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { bareLibp2p, providersNamedBy } from './helpers/peer.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { Libp2p } from 'libp2p'

const MiB = 1024 * 1024

describe('a blob a node collects', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let seed: DaemonProcess
  let node: DaemonProcess
  let asker: Libp2p

  beforeAll(async () => {
    await origin.start()
    seed = await cluster.start('seed', ['--seed'])
    // room for one 8 MiB blob: a second one makes it collect the first
    node = await cluster.start('node', ['--bootstrap', seed.addrs[0]!, '--quota', '12MiB'])
    asker = await bareLibp2p()
  })

  afterAll(async () => {
    await asker?.stop()
    await cluster.stop()
    await origin.stop()
  })

  async function get (blob: ReturnType<typeof makeBlob>): Promise<void> {
    origin.add(blob)
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(await cluster.root(), blob.path.slice(1)), '--api', node.api])
    expect(r.code, r.stderr).toBe(0)
  }

  it('is no longer named by its DHT records once it is gone', async () => {
    const first = makeBlob('/first.bin', 8 * MiB)
    await get(first)
    // the node provides what it holds once its downloads are over
    await eventually(async () => {
      expect(await providersNamedBy(asker, node.addrs[0]!, first.digest)).toContain(node.peerId)
    }, 45_000)

    const second = makeBlob('/second.bin', 8 * MiB)
    await get(second)
    await eventually(async () => {
      const tasks = await cluster.api(node, '/api/v1/tasks') as Array<{ digest: string }>
      expect(tasks.map(t => t.digest)).not.toContain(first.digest)
    }, 10_000)
    // its own record went with the blob, and it is not renewed
    expect(await providersNamedBy(asker, node.addrs[0]!, first.digest)).not.toContain(node.peerId)
    await eventually(async () => {
      expect(await providersNamedBy(asker, node.addrs[0]!, second.digest)).toContain(node.peerId)
    }, 45_000)
    expect(await providersNamedBy(asker, node.addrs[0]!, first.digest)).not.toContain(node.peerId)
  }, 120_000)
})
