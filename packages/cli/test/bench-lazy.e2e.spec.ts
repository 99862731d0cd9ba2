import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { which } from '../src/doctor/host.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** Real nydusd needs the binaries (built from Nydus's source: no package here), /dev/fuse and root to mount. */
const NYDUS = (await which('nydusd')) != null && (await which('nydus-image')) != null && process.getuid?.() === 0

interface Run { code: number | null, stdout: string, stderr: string }

async function lazyBench (args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 300_000): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [join(ROOT, 'bench', 'lazy.mjs'), ...args], { cwd: ROOT, timeout, env }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

describe('the lazy-start benchmark (npm run bench:lazy)', () => {
  const outs: string[] = []
  afterAll(async () => {
    await Promise.all(outs.map(async out => rm(out, { recursive: true, force: true })))
  })

  it('says in one line what it needs when nydusd and nydus-image are not on PATH, and starts nothing', async () => {
    const run = await lazyBench(['--quick'], { ...process.env, PATH: dirname(process.execPath) }, 30_000)
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toBe('bench:lazy: nydusd and nydus-image not on PATH: Nydus ships no Debian package; build nydusd and nydus-image from its source (README, "Lazy-loaded images") and put them on PATH')
    expect(run.stdout).toBe('')
  })

  // real nydusd mounts the image through two daemons, as a forward proxy and as its registry host
  for (const via of ['proxy', 'host'] as const) {
    it.skipIf(!NYDUS)(`real nydusd reading through two daemons (via ${via}): every file read right, the registry sends only the pieces that cover the reads`, async () => {
      const out = await mkdtemp(join(tmpdir(), 'damselfly-lazy-test-'))
      outs.push(out)
      const run = await lazyBench(['--nodes', '2', '--size', '32', '--via', via, '--out', out])
      // the bench checks every byte read through each mount against the file it wrote, and fails otherwise
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const result = JSON.parse(await readFile(join(out, 'lazy-custom.json'), 'utf8'))
      expect(result.complete).toBe(true)
      expect(result.via).toBe(via)
      const [r] = result.runs
      expect(r.nodes).toBe(2)
      // the reads are a small part of the blob, and through the swarm the registry sends the pieces covering them, each once
      expect(r.unionRead.inPiecesBytes).toBeLessThan(result.nydusBlobBytes / 2)
      expect(r.damselfly.registryBytes).toBeGreaterThan(0)
      expect(r.damselfly.registryBytes).toBeLessThanOrEqual(1.1 * r.unionRead.inPiecesBytes)
      // a full pull through the swarm sends the image about once
      expect(r.oci.registryBytes).toBeLessThanOrEqual(1.1 * result.ociBytes)
      expect(r.damselfly.seconds).toHaveLength(2)
    }, 600_000)
  }
})
