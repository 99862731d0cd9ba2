import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MiB = 1024 * 1024
const NODES = 3
const RATE_MBIT = 200

/**
 * `npm run bench:equal-links` itself, small: every host in a network
 * namespace of its own behind a 200 Mbit/s link, a seed and 3 daemons, real
 * containerd pulling a 12 MiB image through each daemon's mirror, then
 * straight from the registry. What is checked is what a reader of
 * bench/results relies on: the pulls were verified, the registry and per-host
 * figures are there and add up, the caps held, and nothing is left behind.
 * Root only: it creates network namespaces and shapes them with tc.
 */
describe('the equal-links benchmark (npm run bench:equal-links)', () => {
  let out: string | undefined
  afterAll(async () => {
    if (out != null) await rm(out, { recursive: true, force: true })
  })

  it.skipIf(process.getuid?.() !== 0)('3 nodes, a 12 MiB image, 200 Mbit/s links: verified pulls, registry egress, bytes sent per host, the table', async () => {
    out = await mkdtemp(join(tmpdir(), 'damselfly-bench-equal-test-'))
    let pid: number | undefined
    const run = await new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => {
      const child = execFile(process.execPath, [join(ROOT, 'bench', 'equal-links.mjs'), '--nodes', String(NODES), '--size', '12', '--rate', String(RATE_MBIT), '--out', out!], { cwd: ROOT, timeout: 120_000 }, (err: any, stdout, stderr) => {
        resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
      })
      pid = child.pid
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`wrote ${join(out, 'equal-links-custom')}.json`)
    // its namespaces are gone (they are named after the bench's pid)
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`dfeq${pid}-`)

    const result = JSON.parse(await readFile(join(out, 'equal-links-custom.json'), 'utf8'))
    expect(result.complete).toBe(true)
    const S = result.image.bytes
    expect(S).toBeGreaterThanOrEqual(12 * MiB)
    expect(result.image.blobs).toHaveLength(4)
    // the links carry what a 200 Mbit/s Ethernet link carries, and no more
    const link = result.setup.links
    expect(link.oneFlow.bitsPerSecond / link.expectedPayloadBitsPerSecond).toBeGreaterThan(0.85)
    expect(link.oneFlow.bitsPerSecond / link.expectedPayloadBitsPerSecond).toBeLessThan(1.02)

    expect(result.runs).toHaveLength(1)
    const r = result.runs[0]
    expect(r.nodes).toBe(NODES)
    expect(r.lowerBound.seconds).toBeCloseTo(S / (RATE_MBIT * 1e6 / 8), 6)
    for (const [mode, copies] of [['p2p', 1], ['direct', NODES]] as const) {
      const x = r[mode]
      expect(x.pulls).toHaveLength(NODES)
      for (const p of x.pulls) {
        expect(p.exitCode, `${mode} ${p.host}: ${p.error}`).toBe(0)
        expect(p.verified).toBe(true)
        // no node gets the image faster than its link allows
        expect(p.seconds).toBeGreaterThanOrEqual(r.lowerBound.seconds)
      }
      expect(x.allVerified).toBe(true)
      expect(x.max).toBe(Math.max(...x.pulls.map((p: any) => p.seconds)))
      // the registry: one copy through the swarm, N for direct pulls (manifests add a few hundred bytes)
      expect(x.registry.images).toBeGreaterThanOrEqual(copies)
      expect(x.registry.images).toBeLessThan(copies + 0.01)

      const hosts = new Map<string, any>(x.hosts.map((h: any) => [h.host, h]))
      expect([...hosts.keys()].sort()).toEqual(mode === 'p2p' ? ['node1', 'node2', 'node3', 'registry', 'seed'] : ['node1', 'node2', 'node3', 'registry'])
      // on the wire the registry sends at least what its access log says, plus headers
      expect(hosts.get('registry').sentBytes).toBeGreaterThanOrEqual(x.registry.bodyBytes)
      expect(hosts.get('registry').sentImages).toBeLessThan(copies * 1.1)
      // every node received the image at least once; what all sent, all received (but for drops at the links)
      const nodes = [...hosts.values()].filter(h => h.role === 'node')
      for (const h of nodes) expect(h.receivedBytes).toBeGreaterThanOrEqual(S)
      expect(nodes.reduce((a, h) => a + h.receivedBytes, 0)).toBeGreaterThanOrEqual(NODES * S)
      const sent = [...hosts.values()].reduce((a, h) => a + h.sentBytes, 0)
      const received = [...hosts.values()].reduce((a, h) => a + h.receivedBytes, 0)
      expect(received / sent).toBeGreaterThan(0.9)
      expect(received / sent).toBeLessThan(1.001)
    }
    // the seed fed the swarm: it sent at least an image, the nodes got nothing from the registry
    expect(r.p2p.hosts.find((h: any) => h.host === 'seed').sentImages).toBeGreaterThanOrEqual(1)
    expect(Object.keys(r.p2p.registry.byClient)).toContain('seed')
    for (const d of r.p2p.daemons.filter((d: any) => d.role === 'node')) {
      expect(d.fromRegistry).toBe(0)
      expect(d.fromSeed + d.fromPeers).toBeGreaterThanOrEqual(S - MiB)
      // libp2p listens on the host's address in its namespace, nowhere else
      expect(d.addrs.every((a: string) => a.startsWith('/ip4/10.77.0.'))).toBe(true)
    }
    expect(r.targets.met).toHaveProperty('seedSentImages')

    const md = await readFile(join(out, 'equal-links-custom.md'), 'utf8')
    expect(md).toMatch(/^\| 3 \| 1 \| \d+\.\d\d \| \d+\.\d\d \|/m)
    expect(md).toMatch(/^\| P2P \| \d+\.\d\d \|/m)
    expect(md).toMatch(/^\| direct \| \d+\.\d\d \|/m)
    for (const host of ['registry', 'seed', 'node1', 'node2', 'node3']) expect(md).toMatch(new RegExp(`^\\| ${host} \\| \\d+\\.\\d\\d \\| \\d+\\.\\d\\d \\|`, 'm'))
    expect(md).toContain('T_lb = S/B')
    expect(await readFile(join(out, 'equal-links-custom-sent-n3.svg'), 'utf8')).toMatch(/^<svg /)
  })
})
