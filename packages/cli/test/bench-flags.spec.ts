import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Run a bench script with `args`; a bad flag must end it before it starts any server. */
async function bench (script: string, args: string[]): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [join(ROOT, 'bench', script), ...args], { cwd: ROOT, timeout: 20_000 }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

const SCRIPTS = [
  { script: 'cold-start.mjs', name: 'bench', bad: ['--nodes', '0'], says: '--nodes 0: whole numbers 1 to 50, separated by commas' },
  { script: 'pair.mjs', name: 'bench:pair', bad: ['--runs', 'many'], says: '--runs must be an integer 1..20' },
  { script: 'mirror.mjs', name: 'bench:mirror', bad: ['--size', '0'], says: '--size must be an integer 1..8192' },
  { script: 'sim/run.mjs', name: 'bench:sim', bad: ['--only', 'everything'], says: '--only everything: everything is not one of validation, pods, scale' },
  { script: 'equal-links.mjs', name: 'bench:equal-links', bad: ['--rate', '0'], says: '--rate 0: Mbit/s from 1 to 10000' },
  { script: 'heterogeneous.mjs', name: 'bench:heterogeneous', bad: ['--nodes', '2'], says: '--nodes 2: a whole number from 3 to 30' },
  { script: 'control.mjs', name: 'bench:control', bad: ['--modes', 'central'], says: '--modes central: local, scheduler or both, separated by commas' },
  { script: 'sim/control.mjs', name: 'bench:sim-control', bad: ['--nodes', '1'], says: '--nodes 1: whole numbers 2 to 100000, separated by commas' },
  { script: 'lazy.mjs', name: 'bench:lazy', bad: ['--via', 'tunnel'], says: '--via tunnel: proxy or host' }
]

describe('bench scripts: flags', () => {
  for (const { script, name, bad, says } of SCRIPTS) {
    it(`${script}: an unknown flag or a bad value is one line and the usage, exit 2; --help is the usage`, async () => {
      const unknown = await bench(script, ['--no-such-flag'])
      expect(unknown.code).toBe(2)
      expect(unknown.stderr.split('\n')[0]).toMatch(new RegExp(`^${name}: Unknown option '--no-such-flag'`))
      expect(unknown.stderr).toContain('Usage: npm run ')
      expect(unknown.stderr).not.toMatch(/^\s+at /m)

      const value = await bench(script, bad)
      expect(value.code).toBe(2)
      expect(value.stderr.split('\n')[0]).toBe(`${name}: ${says}`)
      expect(value.stderr).not.toMatch(/^\s+at /m)

      const help = await bench(script, ['--help'])
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(/^Usage: npm run /)
    })
  }

  for (const [script, name] of [['sim/run.mjs', 'bench:sim'], ['cold-start.mjs', 'bench']] as const) {
    it(`${script}: a piece size the daemon would refuse is refused`, async () => {
      const run = await bench(script, ['--piece-size', '32'])
      expect(run.code).toBe(2)
      expect(run.stderr.split('\n')[0]).toBe(`${name}: --piece-size 32: whole KiB from 64 to 65536`)
    })
  }

  it('sim/run.mjs: an image divisor, node count or beacon mode it cannot use is refused', async () => {
    const divisor = await bench('sim/run.mjs', ['--divisor', '0'])
    expect(divisor.code).toBe(2)
    expect(divisor.stderr.split('\n')[0]).toBe('bench:sim: --divisor 0: a whole number from 1 to 64')
    const nodes = await bench('sim/run.mjs', ['--scale-nodes', '100,lots'])
    expect(nodes.code).toBe(2)
    expect(nodes.stderr.split('\n')[0]).toBe('bench:sim: --scale-nodes 100,lots: whole numbers 1 to 100000, separated by commas')
    const beacons = await bench('sim/run.mjs', ['--beacons', 'sometimes'])
    expect(beacons.code).toBe(2)
    expect(beacons.stderr.split('\n')[0]).toBe('bench:sim: --beacons sometimes: modelled, fresh, none, or whole seconds from 1 to 3600')
  })

  it('cold-start.mjs: an empty --out is refused before anything starts', async () => {
    const run = await bench('cold-start.mjs', ['--out', ''])
    expect(run.code).toBe(2)
    expect(run.stderr.split('\n')[0]).toBe('bench: --out: a directory')
  })

  it('cold-start.mjs: a rate it cannot read names the flag', async () => {
    const run = await bench('cold-start.mjs', ['--seed-rate', 'fast'])
    expect(run.code).toBe(2)
    expect(run.stderr.split('\n')[0]).toBe('bench: --seed-rate fast: use a positive rate such as 4MB')
  })
})
