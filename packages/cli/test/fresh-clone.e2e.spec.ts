import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, run, TempDirs } from './helpers/offline-npm.js'

describe('running damselfly from a fresh clone', () => {
  const dirs = new TempDirs()
  afterAll(async () => { await dirs.removeAll() })

  it('npx damselfly works on a fresh clone right after npm ci: it says to build, then runs', async () => {
    const clone = join(await dirs.make(), 'damselfly')
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
