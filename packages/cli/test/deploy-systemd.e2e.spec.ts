import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DAMSELFLY_BIN, spawnDaemon, stopChild } from '@damselfly/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCommand } from './helpers/registry.js'
import { startSchedulerProcess } from './helpers/scheduler.js'

const UNIT = fileURLToPath(new URL('../../../deploy/systemd/damselfly.service', import.meta.url))
const CONFIG = fileURLToPath(new URL('../../../deploy/systemd/config.yaml', import.meta.url))
const SCHEDULER_UNIT = fileURLToPath(new URL('../../../deploy/systemd/damselfly-scheduler.service', import.meta.url))

/** `Key=value` lines of the unit (comments and sections left out), in order. */
function directives (text: string): Array<[string, string]> {
  return text.split('\n').filter(l => /^[A-Za-z]+=/.test(l)).map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
}

/**
 * A copy of `file` in `root` whose ExecStart runs `damselfly <command>`
 * through a shim: systemd-analyze verify wants ExecStart's program to exist,
 * so where `npm install -g` puts the command the workspace's own (run by
 * this Node) stands in; nothing else of the unit changes.
 */
async function withShim (file: string, root: string, command: string): Promise<{ unit: string, shim: string }> {
  const shim = join(root, 'damselfly')
  await writeFile(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(DAMSELFLY_BIN)} "$@"\n`)
  await chmod(shim, 0o755)
  const text = await readFile(file, 'utf8')
  expect(text).toMatch(new RegExp(`^ExecStart=/usr/local/bin/damselfly ${command} `, 'm'))
  const unit = join(root, basename(file))
  await writeFile(unit, text.replace(/^ExecStart=\/usr\/local\/bin\/damselfly /m, `ExecStart=${shim} `))
  return { unit, shim }
}

describe('deploy/systemd/damselfly.service', () => {
  let root: string
  let unit: string
  let shim: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'damselfly-systemd-'))
    ;({ unit, shim } = await withShim(UNIT, root, 'daemon'))
  })

  afterAll(async () => {
    if (root != null) await rm(root, { recursive: true, force: true })
  })

  it('passes systemd-analyze verify without a word', async () => {
    const r = await runCommand('systemd-analyze', ['verify', '--man=no', unit], 60_000)
    expect(r.stdout + r.stderr).toBe('')
    expect(r.code).toBe(0)
    // verify does see mistakes: a misspelt setting and a bad value in the same file are reported
    const bad = join(root, 'bad', 'damselfly.service')
    await rm(join(root, 'bad'), { recursive: true, force: true })
    await mkdir(join(root, 'bad'))
    await writeFile(bad, (await readFile(unit, 'utf8')).replace('ProtectSystem=strict', 'ProtectSystm=strict').replace('Restart=on-failure', 'Restart=on-failur'))
    const r2 = await runCommand('systemd-analyze', ['verify', '--man=no', bad], 60_000)
    expect(r2.stdout + r2.stderr).toMatch(/Unknown key 'ProtectSystm'/)
    expect(r2.stdout + r2.stderr).toMatch(/Failed to parse service restart specifier/)
  })

  it('is hardened: a user of its own, read-only system, no privileges, restarts on failure', async () => {
    const d = new Map(directives(await readFile(UNIT, 'utf8')))
    expect(d.get('DynamicUser')).toBe('yes')
    expect(d.get('StateDirectory')).toBe('damselfly')
    expect(d.get('ProtectSystem')).toBe('strict')
    expect(d.get('NoNewPrivileges')).toBe('yes')
    expect(d.get('CapabilityBoundingSet')).toBe('')
    expect(d.get('Restart')).toBe('on-failure')
    // systemd's own score of the sandbox: 0 is the best, 10 none at all; "OK" is under 2
    const r = await runCommand('systemd-analyze', ['security', '--offline=true', unit], 60_000)
    expect(r.code, r.stderr).toBe(0)
    const exposure = /Overall exposure level for damselfly\.service: ([\d.]+) (\w+)/.exec(r.stdout)
    expect(exposure, r.stdout).not.toBeNull()
    expect(Number(exposure![1])).toBeLessThan(2)
    expect(exposure![2]).toBe('OK')
  })

  it('its ExecStart, environment and the example config start a daemon', async () => {
    const d = directives(await readFile(unit, 'utf8'))
    const [program, ...args] = d.find(([k]) => k === 'ExecStart')![1].split(' ')
    expect(args).toEqual(['daemon', '--config', '/etc/damselfly/config.yaml'])
    const env = Object.fromEntries(d.filter(([k]) => k === 'Environment').map(([, v]) => v.replace('%S', join(root, 'state')).split('=') as [string, string]))
    expect(Object.keys(env)).toEqual(['DAMSELFLY_DATA_DIR'])
    // the example config as /etc/damselfly/config.yaml; only the addresses are moved to loopback, by flags
    const daemon = await spawnDaemon(['--config', CONFIG, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--mirror', '127.0.0.1:0'], { env })
    try {
      expect(program).toBe(shim)
      const res = await fetch(`http://${daemon.api}/healthz`)
      expect(res.status).toBe(200)
      const printed = await runCommand(process.execPath, [DAMSELFLY_BIN, 'daemon', '--config', CONFIG, '--print-config'], 30_000, env)
      expect(printed.code, printed.stderr).toBe(0)
      expect(printed.stdout).toContain(`dataDir: ${join(root, 'state', 'damselfly')}`)
      expect(printed.stdout).toMatch(/quota: 20 ?GiB/)
    } finally {
      await stopChild(daemon.child)
    }
  })
})

describe('deploy/systemd/damselfly-scheduler.service', () => {
  let root: string
  let unit: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'damselfly-systemd-scheduler-'))
    ;({ unit } = await withShim(SCHEDULER_UNIT, root, 'scheduler'))
  })

  afterAll(async () => {
    if (root != null) await rm(root, { recursive: true, force: true })
  })

  it('passes systemd-analyze verify without a word, and is hardened as the daemon\'s', async () => {
    const r = await runCommand('systemd-analyze', ['verify', '--man=no', unit], 60_000)
    expect(r.stdout + r.stderr).toBe('')
    expect(r.code).toBe(0)
    const d = new Map(directives(await readFile(SCHEDULER_UNIT, 'utf8')))
    expect(d.get('DynamicUser')).toBe('yes')
    expect(d.get('ProtectSystem')).toBe('strict')
    expect(d.get('Restart')).toBe('on-failure')
    const s = await runCommand('systemd-analyze', ['security', '--offline=true', unit], 60_000)
    const exposure = /Overall exposure level for damselfly-scheduler\.service: ([\d.]+) (\w+)/.exec(s.stdout)
    expect(exposure, s.stdout).not.toBeNull()
    expect(Number(exposure![1])).toBeLessThan(2)
  })

  it('its ExecStart starts a scheduler that keeps its peer id across a restart', async () => {
    const args = directives(await readFile(SCHEDULER_UNIT, 'utf8')).find(([k]) => k === 'ExecStart')![1].split(' ').slice(1)
    expect(args.slice(0, 3)).toEqual(['scheduler', '--listen', '/ip4/0.0.0.0/tcp/4010'])
    // on loopback at a free port, its state directory under this test's root
    const local = args.map(a => a === '/ip4/0.0.0.0/tcp/4010' ? '/ip4/127.0.0.1/tcp/0' : a.replace('%S', join(root, 'state')))
    const start = async (): Promise<string> => {
      const scheduler = await startSchedulerProcess([...local, '--stats-every', '0'])
      scheduler.child.kill('SIGKILL')
      await new Promise(resolve => scheduler.child.once('exit', resolve))
      return scheduler.peerId
    }
    const first = await start()
    expect(await start()).toBe(first)
  })
})
