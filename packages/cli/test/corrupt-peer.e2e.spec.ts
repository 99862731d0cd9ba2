import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'

const MiB = 1024 * 1024

describe('a peer that serves corrupt pieces', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()

  beforeAll(async () => { await origin.start() })
  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('is banned at its first bad piece and everyone else still gets the right bytes', async () => {
    const blob = makeBlob('/corrupt-test.bin', 32 * MiB)
    origin.add(blob)
    const root = await cluster.root()
    const url = `${origin.url}${blob.path}`
    const seed = await cluster.start('seed', ['--seed'])
    const liar = await cluster.start('liar', ['--bootstrap', seed.addrs[0]!, '--test-corrupt-uploads'], { DAMSELFLY_TEST: '1' })
    const honest = await cluster.start('honest', ['--bootstrap', seed.addrs[0]!])
    for (const d of [liar, honest]) {
      const r = await runCli(['get', url, '--digest', blob.digest, '-o', join(root, `${d.dataDir.split('/').pop()}.bin`), '--api', d.api])
      expect(r.code, r.stderr).toBe(0)
    }
    // with the seed gone the liar and one honest peer are the only sources,
    // so every downloader asks the liar for some pieces
    await cluster.kill(seed)
    const peers = []
    for (let i = 0; i < 3; i++) peers.push(await cluster.start(`peer${i}`, ['--bootstrap', honest.addrs[0]!, '--bootstrap', liar.addrs[0]!]))
    const results = await Promise.all(peers.map(async (p, i) =>
      runCli(['get', url, '--digest', blob.digest, '-o', join(root, `out-${i}.bin`), '--api', p.api], 180_000)))
    let detected = 0
    for (const [i, p] of peers.entries()) {
      expect(results[i]!.stderr, `peer ${i}`).toBe('')
      expect(results[i]!.code, `peer ${i}`).toBe(0)
      expect((await readFile(join(root, `out-${i}.bin`))).equals(blob.data), `peer ${i} bytes`).toBe(true)
      const text: string = await cluster.api(p, '/metrics')
      const rejected = metric(text, 'damselfly_pieces_rejected_total') ?? 0
      // banned at the first bad piece: nothing else from the liar is even looked at
      expect(rejected, `peer ${i} rejected pieces`).toBeLessThanOrEqual(1)
      if (rejected === 1) {
        detected++
        expect(metric(text, 'damselfly_bans_total')).toBeGreaterThanOrEqual(1)
        const status = await cluster.api(p, '/api/v1/status')
        const task = status.tasks.find((t: any) => t.digest === blob.digest)
        expect(task.parents[liar.peerId], 'no bytes from the liar were kept').toBeUndefined()
      }
    }
    expect(detected, 'peers that caught the liar').toBeGreaterThanOrEqual(2)
    // the origin served the blob once, to the seed, before it went away
    expect(origin.bytesSent).toBe(blob.data.length)
  })
})
