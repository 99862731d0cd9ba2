import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { goTool } from './helpers/go-tools.js'

const RUNNER = fileURLToPath(new URL('../../../examples/cluster-walkthrough.mjs', import.meta.url))
const MiB = 1024 * 1024
const root = process.getuid?.() === 0

interface NodeReport { fromOrigin: number, fromSeed: number, fromNodes: number, uploaded: number }

/**
 * The README's "A cluster, step by step", run as written by
 * examples/cluster-walkthrough.mjs on hosts made of network and mount
 * namespaces (root only: CI runs as root). What a user following it would
 * notice: every command works, the doctor finds nothing wrong, every node's
 * pull goes through its mirror, the registry sends the image once, and the
 * nodes feed each other rather than all hanging on the seed.
 */
describe.runIf(root && existsSync('/usr/bin/containerd') && existsSync('/usr/bin/docker-registry'))('the README\'s cluster walk-through', () => {
  it('runs as written: every pull works, the registry sends the image once, and every node gets pieces from another node', async () => {
    const crictl = await goTool('crictl', 'sigs.k8s.io/cri-tools/cmd/crictl', 'v1.37.0')
    const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => {
      execFile(process.execPath, [RUNNER, '--crictl', crictl, '--json'], { timeout: 240_000, maxBuffer: 16 * MiB }, (err: any, stdout, stderr) => {
        resolve({ code: err == null ? 0 : err.code ?? null, stdout, stderr })
      })
    })
    expect(code, stderr + stdout.slice(0, 4000)).toBe(0)
    const report = JSON.parse(stdout)
    const commands = report.steps.map((s: { command: string }) => s.command)
    expect(commands).toEqual(expect.arrayContaining([expect.stringMatching(/^damselfly doctor/), expect.stringMatching(/^crictl pull 10\.0\.0\.10:5000\/team\/app:v1$/)]))
    for (const s of report.steps.filter((s: { command: string }) => s.command.startsWith('damselfly doctor'))) {
      expect(s.output).toContain('no problem found')
    }
    const nodes = Object.entries(report.nodes) as Array<[string, NodeReport]>
    expect(nodes).toHaveLength(3)
    for (const [name, n] of nodes) {
      // the whole image came through the swarm, none of it from the registry directly
      expect(n.fromSeed + n.fromNodes, name).toBeGreaterThanOrEqual(report.image.bytes)
      expect(n.fromOrigin, name).toBe(0)
      expect(n.fromNodes, `${name} got every piece from the seed`).toBeGreaterThan(0)
    }
    // the registry sent each blob once, to the seed (the manifest and a HEAD or two besides)
    expect(report.registrySent).toBeLessThan(report.image.bytes * 1.05)
  }, 300_000)
})
