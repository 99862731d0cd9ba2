import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, run, TempDirs } from './helpers/offline-npm.js'

describe('installing damselfly', () => {
  const dirs = new TempDirs()
  afterAll(async () => { await dirs.removeAll() })

  it('npm install -g of the packed tarball puts a working damselfly on PATH, without a registry', async () => {
    const dir = await dirs.make()
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
