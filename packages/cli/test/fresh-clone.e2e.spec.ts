import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs a command with this Node first on PATH (npm and npx then run on it)
 * and npm offline: the packages come from npm's cache, as the repository's
 * own npm ci left it, never from a registry.
 */
async function run (command: string, args: string[], cwd: string, path: string[] = []): Promise<Run> {
  const env = { ...process.env, PATH: [...path, dirname(process.execPath), process.env.PATH].join(delimiter), npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
  return new Promise(resolve => {
    execFile(command, args, { cwd, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

describe('running damselfly from a fresh clone', () => {
  const dirs: string[] = []
  const temp = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'damselfly-install-'))
    dirs.push(dir)
    return dir
  }

  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('npx damselfly works on a fresh clone right after npm ci: it says to build, then runs', async () => {
    const clone = join(await temp(), 'damselfly')
    expect((await run('git', ['clone', '--quiet', ROOT, clone], ROOT)).code).toBe(0)
    const ci = await run('npm', ['ci'], clone)
    expect(ci.code, ci.stderr).toBe(0)
    const before = await run('npx', ['--no-install', 'damselfly', '--version'], clone)
    expect(before.code).toBe(1)
    expect(before.stderr).toMatch(/^damselfly: not built yet: .*dist\/bin\.js is missing; run `npm run build` in the repository\n$/)
    expect((await run('npx', ['tsc', '-b'], clone)).code).toBe(0)
    const after = await run('npx', ['--no-install', 'damselfly', '--version'], clone)
    expect(after.stderr).toBe('')
    expect(after.stdout).toMatch(/^damselfly \d+\.\d+\.\d+ \(Node\.js v\d+/)
  })
})
