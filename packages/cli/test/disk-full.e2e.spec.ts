import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { runCommand } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'

const MiB = 1024 * 1024
const root = process.getuid?.() === 0

// A small file system of its own (tmpfs, which needs root, as containerd does), so the disk can really fill up.
describe.skipIf(!root)('a node whose disk fills up', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let disk: string
  let out: string
  let node: DaemonProcess

  beforeAll(async () => {
    await origin.start()
    disk = join(await cluster.root(), 'disk')
    out = join(await cluster.root(), 'out')
    await mkdir(disk)
    await mkdir(out)
    const mounted = await runCommand('/usr/bin/mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', disk], 10_000)
    expect(mounted.code, mounted.stderr).toBe(0)
    // alone, no seed: it pulls from the origin itself, soon
    node = await cluster.startIn(join(disk, 'node'), ['--seed-timeout', '300ms'])
  })

  afterAll(async () => {
    // the daemons stop first, the file system goes, then the cluster's directory with the mount point in it
    await cluster.stop().catch(() => {})
    await runCommand('/usr/bin/umount', ['-l', disk], 10_000)
    await rm(dirname(disk), { recursive: true, force: true })
    await origin.stop()
  })

  const get = async (blob: ReturnType<typeof makeBlob>): Promise<{ code: number | null, stderr: string }> =>
    runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(out, blob.path.slice(1)), '--api', node.api], 60_000)

  const partials = async (): Promise<string[]> => (await readdir(join(disk, 'node', 'store', 'partial')).catch(() => [])).filter(n => !n.startsWith('.'))

  it('removes the partial blob of a pull that ran out of space, so the space comes back', async () => {
    await writeFile(join(disk, 'filler-1'), Buffer.alloc(16 * MiB))
    const a = makeBlob('/a.bin', 16 * MiB)
    origin.add(a)
    origin.rate = 8 * MiB
    try {
      const pulling = get(a)
      // while it pulls, something else takes the room it needs
      await eventually(async () => {
        const task = await cluster.api(node, `/api/v1/tasks/${a.digest}`)
        expect(task.piecesHeld).toBeGreaterThanOrEqual(2)
      }, 20_000)
      await writeFile(join(disk, 'filler-2'), Buffer.alloc(8 * MiB))
      const failed = await pulling
      expect(failed.code).toBe(1)
      expect(failed.stderr).toMatch(/ENOSPC|no space/i)
    } finally {
      origin.rate = 0
    }
    await rm(join(disk, 'filler-2'), { force: true })
    expect(await partials()).toEqual([])
    // 24 MiB free again: a 20 MiB blob fits, as it would not beside a forgotten partial
    const b = makeBlob('/b.bin', 20 * MiB)
    origin.add(b)
    const got = await get(b)
    expect(got.code, got.stderr).toBe(0)
  }, 120_000)

  it('refuses at once, and takes nothing of it, a blob that cannot fit', async () => {
    const c = makeBlob('/c.bin', 12 * MiB)
    origin.add(c)
    const requests = origin.requests
    const r = await get(c)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/not fetching .* free/)
    // the origin said how big it is, and nothing more was taken from it
    expect(origin.requests - requests).toBeLessThanOrEqual(1)
    const task = await cluster.api(node, `/api/v1/tasks/${c.digest}`)
    expect(task.state).toBe('failed')
    expect(task.bytesFromOrigin).toBe(0)
    expect(await partials()).toEqual([])
  }, 60_000)
})
