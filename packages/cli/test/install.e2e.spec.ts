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

describe('installing damselfly', () => {
  const dirs: string[] = []
  const temp = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'damselfly-install-'))
    dirs.push(dir)
    return dir
  }

  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('npm install -g of the packed tarball puts a working damselfly on PATH, without a registry', async () => {
    const dir = await temp()
    const packed = await run(process.execPath, [join(ROOT, 'scripts', 'pack-cli.mjs'), '--out', dir], ROOT)
    expect(packed.code, packed.stderr).toBe(0)
    const tarball = packed.stdout.trim()
    const prefix = join(dir, 'prefix')
    const install = await run('npm', ['install', '--global', '--prefix', prefix, tarball], dir)
    expect(install.code, install.stderr).toBe(0)
    const bin = join(prefix, 'bin')
    const version = await run('damselfly', ['--version'], dir, [bin])
    expect(version.stdout).toMatch(/^damselfly \d+\.\d+\.\d+ /)
    // the daemon's settings load: the bundled packages and their dependencies are all there
    const config = await run('damselfly', ['daemon', '--data-dir', join(dir, 'data'), '--print-config'], dir, [bin])
    expect(config.code, config.stderr).toBe(0)
    expect(config.stdout).toContain(`dataDir: ${join(dir, 'data')}`)
    const key = await run('damselfly', ['swarm-key'], dir, [bin])
    expect(key.stdout).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n/)
  })
})
