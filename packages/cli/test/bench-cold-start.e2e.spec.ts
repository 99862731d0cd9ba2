import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MiB = 1024 * 1024
/** The bench's default node cap (--node-rate 4MB). */
const NODE_RATE = 4e6

/**
 * `npm run bench` itself, small: the real distribution registry behind the
 * capped proxy, a seed and 3 daemons pulling a 4 MiB image through their
 * mirrors, and the same 3 pulls directly. What is checked is what a reader of
 * bench/results relies on: the figures are there and mean what they say.
 */
describe('the cold-start benchmark (npm run bench)', () => {
  let out: string | undefined
  afterAll(async () => {
    if (out != null) await rm(out, { recursive: true, force: true })
  })

  it('3 nodes, a 4 MiB image: each run\'s figures, per-daemon CPU and RSS, tables and charts, in the --out directory', async () => {
    out = await mkdtemp(join(tmpdir(), 'damselfly-bench-test-'))
    const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => {
      execFile(process.execPath, [join(ROOT, 'bench', 'cold-start.mjs'), '--nodes', '3', '--size', '4', '--out', out!], { cwd: ROOT, timeout: 180_000 }, (err: any, stdout, stderr) => {
        resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
      })
    })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    // a run other than the published one writes files of its own, where it was told
    expect(run.stdout).toContain(`wrote ${join(out, 'cold-start-custom')}.json`)

    const result = JSON.parse(await readFile(join(out, 'cold-start-custom.json'), 'utf8'))
    expect(result.complete).toBe(true)
    expect(result.nodes).toBe(3)
    expect(result.imageBytes).toBeGreaterThanOrEqual(4 * MiB)
    // the registry: once through the swarm, N times for direct pulls
    expect(result.registryEgressBytes / result.imageBytes).toBeLessThanOrEqual(1.1)
    expect(result.directRegistryEgressBytes / result.imageBytes).toBeGreaterThanOrEqual(3)
    expect(result.p2pMaxSeconds).toBeGreaterThan(0)
    expect(result.directMaxSeconds).toBeGreaterThan(0)
    // T_lb counts at least the image at one node's download cap
    expect(result.lowerBoundSeconds).toBeGreaterThanOrEqual(result.imageBytes / NODE_RATE)

    const r = result.images[0].runs[0]
    expect(r.p2p.seconds).toHaveLength(3)
    expect(r.direct.seconds).toHaveLength(3)
    // the caps hold: no node, through the swarm or directly, beats its download cap
    // (the daemon's rate limiter lets a quarter of a second's bytes through at once)
    for (const t of [...r.p2p.seconds, ...r.direct.seconds]) expect(t).toBeGreaterThanOrEqual((result.imageBytes - NODE_RATE / 4) / NODE_RATE)
    expect(r.p2p.registry.peakBytesPerSecond).toBeGreaterThan(0)
    expect(r.p2p.daemons.map((d: any) => d.role).sort()).toEqual(['node', 'node', 'node', 'seed'])
    for (const d of r.p2p.daemons) {
      expect(d.pullCpuSeconds).toBeGreaterThan(0)
      expect(d.peakRssBytes).toBeGreaterThan(32 * MiB)
    }
    // every node got the whole image, from the seed or from its peers, none from the registry
    for (const d of r.p2p.daemons.filter((d: any) => d.role === 'node')) {
      expect(d.fromRegistry).toBe(0)
      expect(d.fromSeed + d.fromPeers).toBeGreaterThanOrEqual(result.imageBytes - 1024 * 1024)
    }

    // the summary carries the same per-daemon figures as the markdown's second table
    expect(result.images[0].summary[0].p2p.maxNodePeakRssBytes).toBe(Math.max(...r.p2p.daemons.filter((d: any) => d.role === 'node').map((d: any) => d.peakRssBytes)))

    const md = await readFile(join(out, 'cold-start-custom.md'), 'utf8')
    expect(md).toMatch(/^\| 3 \| p2p \|/m)
    expect(md).toMatch(/^\| 3 \| direct \|/m)
    expect(md).toMatch(/^\| 3 \| 1 seed, 3 nodes \| \d+\.\d\d \|/m)
    for (const svg of ['cold-start-custom-cdf-nginx-like.svg', 'cold-start-custom-egress.svg']) {
      expect(await readFile(join(out, svg), 'utf8')).toMatch(/^<svg /)
    }
  })
})
