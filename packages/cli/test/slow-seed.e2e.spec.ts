import { join } from 'node:path'
import { pullImage } from '@damselfly/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from './helpers/cluster.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024
const NODES = 10

/**
 * The seed of a flash crowd is the busiest host in it. Here it is stopped
 * and continued on a duty cycle (SIGSTOP/SIGCONT) while ten nodes pull one
 * image through their mirrors at once: it answers late, its streams stall,
 * and nodes that gave up on it for the registry would each pull what the
 * seed is pulling already.
 */
describe('a slow seed and ten nodes pulling one image at once', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let image: BuiltImage
  let seed: DaemonProcess
  const nodes: DaemonProcess[] = []

  beforeAll(async () => {
    const root = await cluster.root()
    registry = await startRegistry()
    image = await buildImage(join(root, 'image'), { layers: [4 * MiB, 8 * MiB, 12 * MiB], seed: 'slow-seed' })
    await registry.push(image.dir, 'crowd/app:v1')
    const upstream = ['--insecure-registry', registry.host, '--default-registry', registry.host]
    seed = await cluster.start('seed', ['--seed', ...upstream])
    for (let i = 0; i < NODES; i++) nodes.push(await cluster.start(`node${i}`, ['--bootstrap', seed.addrs[0]!, ...upstream]))
  }, 120_000)

  afterAll(async () => {
    if (seed?.child.exitCode == null) seed?.child.kill('SIGCONT')
    await cluster.stop()
    await registry?.close()
  })

  it('gets every pull verified while the registry sends the image about once', async () => {
    // the seed runs 1 s in every 7: it answers some asks and sends some pieces, late
    let second = 0
    const duty = setInterval(() => {
      second++
      seed.child.kill(second % 7 === 0 ? 'SIGCONT' : 'SIGSTOP')
    }, 1000)
    try {
      const pulls = await Promise.all(nodes.map(async n => pullImage({
        mirror: n.mirror!,
        registry: registry.host,
        name: 'crowd/app',
        tag: 'v1',
        signal: AbortSignal.timeout(240_000)
      })))
      for (const p of pulls) {
        expect(p.manifestDigest).toBe(image.manifest.digest)
        // pullImage checks every blob against its digest as it reads it
        expect(p.bytes).toBe(image.totalBytes)
      }
    } finally {
      clearInterval(duty)
      seed.child.kill('SIGCONT')
    }
    const egress = registry.blobBytes()
    expect(egress, `registry sent ${(egress / image.totalBytes).toFixed(2)}x the image`).toBeLessThanOrEqual(1.1 * image.totalBytes)
  }, 300_000)
})
