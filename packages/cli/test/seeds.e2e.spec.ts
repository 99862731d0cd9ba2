import { join } from 'node:path'
import { rankSeeds } from '@damselfly/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { BlobDigest } from '@damselfly/protocol'

const MiB = 1024 * 1024

describe('several seeds', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  const seeds: DaemonProcess[] = []
  const peers: DaemonProcess[] = []

  beforeAll(async () => {
    await origin.start()
    seeds.push(await cluster.start('seed-a', ['--seed']))
    seeds.push(await cluster.start('seed-b', ['--seed', '--bootstrap', seeds[0]!.addrs[0]!]))
    const boot = seeds.flatMap(s => ['--bootstrap', s.addrs[0]!])
    for (let i = 0; i < 3; i++) peers.push(await cluster.start(`peer${i}`, boot))
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('split the blobs by rendezvous hashing and the origin serves each blob once', async () => {
    const ids = seeds.map(s => s.peerId)
    const blobs = [0, 1, 2, 3, 4, 5].map(i => makeBlob(`/multi-${i}.bin`, 4 * MiB))
    // the seeds' ids are random: when every blob happens to rank the same seed
    // first (1 run in 32), swap in a blob the other seed ranks first, so that
    // both seeds have pulling to do
    for (let i = 6; new Set(blobs.map(b => rankSeeds(b.digest as BlobDigest, ids)[0])).size < 2 && i < 100; i++) {
      blobs[5] = makeBlob(`/multi-${i}.bin`, 4 * MiB)
    }
    for (const b of blobs) origin.add(b)
    const root = await cluster.root()
    for (const [j, b] of blobs.entries()) {
      const results = await Promise.all(peers.map(async (p, i) =>
        runCli(['get', `${origin.url}${b.path}`, '--digest', b.digest, '-o', join(root, `m${j}-${i}.bin`), '--api', p.api])))
      for (const r of results) expect(r.code, r.stderr).toBe(0)
    }
    expect(origin.bytesSent).toBe(blobs.reduce((n, b) => n + b.data.length, 0))
    const pulledBy = new Map<string, string>()
    for (const s of seeds) {
      const status = await cluster.api(s, '/api/v1/status')
      for (const t of status.tasks) if (t.bytesFromOrigin > 0) pulledBy.set(t.digest, s.peerId)
    }
    for (const b of blobs) {
      expect(pulledBy.get(b.digest), b.path).toBe(rankSeeds(b.digest as BlobDigest, ids)[0])
    }
    // both seeds did some of the pulling
    expect(new Set(pulledBy.values()).size).toBe(2)
  })
})
