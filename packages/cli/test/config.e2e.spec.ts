import { once } from 'node:events'
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnDaemon } from '@damselfly/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { runCli } from './helpers/cluster.js'
import { freePort } from './helpers/registry.js'
import type { DaemonProcess } from '@damselfly/cli'

describe('damselfly daemon --config', () => {
  let root: string
  let daemon: DaemonProcess | undefined

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'damselfly-config-e2e-'))
  })

  afterAll(async () => {
    if (daemon != null && daemon.child.exitCode == null && daemon.child.signalCode == null) daemon.child.kill('SIGKILL')
    await rm(root, { recursive: true, force: true })
  })

  it('--print-config prints the file, environment and flags merged, and starts nothing', async () => {
    const file = join(root, 'print.yml')
    await writeFile(file, `
dataDir: ${join(root, 'print')}
uploadRate: 1MB
downloadRate: 2MB
seedTimeout: 2000
registry:
  hosts:
    ghcr.io: { username: bob, password: hunter2 }
`)
    const r = await runCli(['daemon', '--config', file, '--print-config', '--upload-rate', '3MiB'], 20_000, { DAMSELFLY_DOWNLOAD_RATE: '4MB', DAMSELFLY_MIRROR: 'false' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).not.toContain('hunter2')
    expect(parse(r.stdout)).toMatchObject({
      dataDir: join(root, 'print'),
      uploadRate: '3MiB',
      downloadRate: '4MB',
      seedTimeout: '2s',
      originTimeout: '30s',
      api: '127.0.0.1:65002',
      mirror: false,
      registry: { default: 'docker.io', hosts: { 'ghcr.io': { username: 'bob', password: '<redacted>' } } },
      storage: { quota: 0, highWatermark: 0.9, lowWatermark: 0.8 }
    })
    // no daemon ran: it would have created its data dir
    await expect(access(join(root, 'print'))).rejects.toThrow(/ENOENT/)
  })

  it('a bad key in the config file stops the daemon with exit 2 and one line naming it', async () => {
    const file = join(root, 'bad.yml')
    await writeFile(file, `dataDir: ${join(root, 'bad')}\nstorage:\n  quotta: 10GiB\n`)
    const r = await runCli(['daemon', '--config', file], 20_000)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(`config file ${file}:3: unknown key storage.quotta`)
  })

  it('a daemon started with --config listens where the file says', async () => {
    const [api, mirror] = [await freePort(), await freePort()]
    const file = join(root, 'real.yml')
    await writeFile(file, `dataDir: ${join(root, 'real')}\napi: 127.0.0.1:${api}\nmirror: 127.0.0.1:${mirror}\n`)
    daemon = await spawnDaemon(['--config', file])
    expect(daemon.api).toBe(`127.0.0.1:${api}`)
    expect(daemon.mirror).toBe(`127.0.0.1:${mirror}`)
    expect((await fetch(`http://127.0.0.1:${api}/healthz`)).status).toBe(200)
    const v2 = await fetch(`http://127.0.0.1:${mirror}/v2/`)
    expect(v2.status).toBe(200)
    const exited = once(daemon.child, 'exit')
    daemon.child.kill('SIGTERM')
    expect((await exited)[0]).toBe(0)
  })
})
