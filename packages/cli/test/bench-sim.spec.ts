import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MiB = 1024 * 1024

interface SimResult {
  completionSeconds: number[]
  unfinished: number
  registryBytes: number
  registryPeakBytesPerSecond: number
}

/** bench/sim/model.mjs, the simulator `npm run bench:sim` runs, driving the daemon's built code. */
async function simulate (scenario: Record<string, unknown>): Promise<SimResult> {
  const model = await import(pathToFileURL(join(ROOT, 'bench', 'sim', 'model.mjs')).href)
  return model.simulate(scenario)
}

describe('the simulator (npm run bench:sim)', () => {
  // 32 MiB: the registry is busy for about 4 s at 8 MB/s, so whole 1 s windows run at its cap
  const blobs = [24 * MiB, 8 * MiB]
  const size = blobs.reduce((a, b) => a + b, 0)
  const caps = { nodeDown: 4e6, nodeUp: 4e6, registry: 8e6, seedRate: 8e6, rttS: 0.001, seed: 1 }

  for (const nodes of [1, 20]) {
    it(`${nodes} node(s): every node finishes, the registry sends each byte once and never above its cap`, async () => {
      const r = await simulate({ nodes, blobs, ...caps })
      expect(r.unfinished).toBe(0)
      expect(r.completionSeconds).toHaveLength(nodes)
      expect(r.registryBytes).toBe(size)
      // the peak is counted as the real runs' capped proxy counts it: bytes per 1 s window
      expect(r.registryPeakBytesPerSecond).toBeLessThanOrEqual(caps.registry * 1.001)
      expect(r.registryPeakBytesPerSecond).toBeGreaterThan(caps.registry * 0.9)
      // nobody beats its own download cap
      expect(Math.min(...r.completionSeconds)).toBeGreaterThanOrEqual(size / caps.nodeDown)
    })
  }
})
