import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric, runCli } from './helpers/cluster.js'
import { startContainerd } from './helpers/containerd.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestContainerd } from './helpers/containerd.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024

/** The proxy nydusd needs for the mirror on 127.0.0.1:65001. */
const NYDUS_PROXY = { url: 'http://127.0.0.1:65001', ping_url: 'http://127.0.0.1:65001/v2/', fallback: true, check_interval: 5, use_http: true }

async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

/** Bytes the mirror served, whatever their source. */
function mirrorBytes (metrics: string): number {
  return ['cache', 'peer', 'seed', 'upstream'].reduce((sum, source) => sum + (metric(metrics, 'damselfly_mirror_bytes_total', { source }) ?? 0), 0)
}

describe('runtime-config containerd with a real containerd', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let containerd: TestContainerd
  let seed: DaemonProcess
  let app: BuiltImage
  let other: BuiltImage
  let root: string

  beforeAll(async () => {
    root = await cluster.root()
    ;[registry, containerd, app, other] = await Promise.all([
      startRegistry(),
      startContainerd(),
      buildImage(join(root, 'app'), { layers: [1 * MiB, 2 * MiB], seed: 'runtime-config-app' }),
      buildImage(join(root, 'other'), { layers: [1 * MiB], seed: 'runtime-config-other' })
    ])
    await Promise.all([registry.push(app.dir, 'demo/app:v1'), registry.push(other.dir, 'demo/other:v1')])
    seed = await cluster.start('seed', ['--seed', '--insecure-registry', registry.host])
  })

  afterAll(async () => {
    await containerd?.close()
    await cluster.stop()
    await registry?.close()
  })

  it('the hosts.toml it writes sends containerd pulls through the mirror', async () => {
    const hostsDir = join(root, 'certs.d')
    const r = await runCli(['runtime-config', 'containerd', '--mirror', seed.mirror!, '--registry', registry.host, '--dir', hostsDir])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`wrote ${join(hostsDir, registry.host, 'hosts.toml')}`)
    expect(r.stdout).toContain(`config_path = "${hostsDir}"`)

    const pull = await containerd.pull(`${registry.host}/demo/app:v1`, { hostsDir })
    expect(pull.code, pull.output).toBe(0)
    expect(await containerd.contentDigests()).toEqual(expect.arrayContaining([app.config.digest, ...app.layers.map(l => l.digest)]))
    // the generated server is https://<registry> and the registry speaks plain HTTP: only the mirror could have served this
    const metrics = await cluster.api(seed, '/metrics')
    expect(metric(metrics, 'damselfly_mirror_requests_total', { kind: 'blob' })).toBeGreaterThanOrEqual(app.layers.length + 1)
    expect(mirrorBytes(metrics)).toBeGreaterThanOrEqual(app.totalBytes)
  })

  it('_default sends pulls of a registry without its own hosts.toml through the mirror', async () => {
    const hostsDir = join(root, 'certs.d-default')
    const r = await runCli(['runtime-config', 'containerd', '--mirror', seed.mirror!, '--registry', '_default', '--dir', hostsDir])
    expect(r.code, r.stderr).toBe(0)
    const toml = await readFile(join(hostsDir, '_default', 'hosts.toml'), 'utf8')
    expect(toml).not.toMatch(/^server/m)
    expect(toml).toContain(`[host."http://${seed.mirror!}"]`)

    const before = mirrorBytes(await cluster.api(seed, '/metrics'))
    const pull = await containerd.pull(`${registry.host}/demo/other:v1`, { hostsDir })
    expect(pull.code, pull.output).toBe(0)
    // containerd would reach a loopback registry over plain HTTP by itself: the mirror's byte count is the proof
    expect(mirrorBytes(await cluster.api(seed, '/metrics')) - before).toBeGreaterThanOrEqual(other.totalBytes)
  })
})

describe('runtime-config files and bad input', () => {
  let root: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'damselfly-runtime-config-'))
  })

  afterAll(async () => {
    if (root != null) await rm(root, { recursive: true, force: true })
  })

  it('docker: keeps every other key of daemon.json and adds the mirror once', async () => {
    const file = join(root, 'docker', 'daemon.json')
    await mkdir(join(root, 'docker'))
    await writeFile(file, JSON.stringify({ 'log-driver': 'json-file', 'registry-mirrors': ['https://other'] }))
    const expected = { 'log-driver': 'json-file', 'registry-mirrors': ['http://127.0.0.1:65001', 'https://other'] }

    const first = await runCli(['runtime-config', 'docker', '--mirror', '127.0.0.1:65001', '--file', file])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`wrote ${file}`)
    expect(first.stdout).toMatch(/restart dockerd/)
    expect(await readFile(file, 'utf8')).toBe(JSON.stringify(expected, null, 2) + '\n')

    const second = await runCli(['runtime-config', 'docker', '--mirror', '127.0.0.1:65001', '--file', file])
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain(`unchanged ${file}`)
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(expected)
    expect(await readdir(join(root, 'docker'))).toEqual(['daemon.json'])
  })

  it('docker: a daemon.json that is not JSON, or not an object, is refused and left as it was', async () => {
    const cases = [['{"log-driver": "json-file",', /is not valid JSON/], ['["a"]', /is not a JSON object/]] as const
    await Promise.all(cases.map(async ([text, message], i) => {
      const dir = join(root, `docker-bad-${i}`)
      const file = join(dir, 'daemon.json')
      await mkdir(dir)
      await writeFile(file, text)
      const r = await runCli(['runtime-config', 'docker', '--mirror', '127.0.0.1:65001', '--file', file])
      expect(r.code).not.toBe(0)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(file)
      expect(r.stderr).toMatch(message)
      expect(await readFile(file, 'utf8')).toBe(text)
      expect(await readdir(dir)).toEqual(['daemon.json'])
    }))
  })

  it('crio: --print shows a [[registry]] block with an insecure mirror for each registry and writes nothing; without it the drop-in is written', async () => {
    const file = join(root, 'crio', 'damselfly.conf')
    const written = join(root, 'crio-single', 'damselfly.conf')
    const [r, single] = await Promise.all([
      runCli(['runtime-config', 'crio', '--mirror', '127.0.0.1:65001', '--registry', 'docker.io', '--registry', 'registry.local:5000', '--file', file, '--print']),
      runCli(['runtime-config', 'crio', '--registry', 'ghcr.io', '--file', written])
    ])
    expect(r.code, r.stderr).toBe(0)
    for (const registry of ['docker.io', 'registry.local:5000']) {
      expect(r.stdout).toContain(`[[registry]]\nlocation = "${registry}"\n\n[[registry.mirror]]\nlocation = "127.0.0.1:65001"\ninsecure = true\n`)
    }
    expect(r.stdout.match(/insecure = true/g)).toHaveLength(2)
    // CRI-O sends no ns: the user is told plainly that one mirror port serves one registry
    expect(r.stderr).toMatch(/one mirror port serves one registry/)
    expect(r.stderr).toMatch(/--default-registry/)
    expect(await exists(join(root, 'crio'))).toBe(false)

    // one registry, written: the note names the --default-registry the daemon needs
    expect(single.code, single.stderr).toBe(0)
    expect(single.stderr).toMatch(/--default-registry: that must be ghcr\.io/)
    expect(single.stdout).toMatch(/restart CRI-O/)
    expect(await readFile(written, 'utf8')).toContain('[[registry]]\nlocation = "ghcr.io"\n\n[[registry.mirror]]\nlocation = "127.0.0.1:65001"\ninsecure = true\n')
  })

  it('bad input: one clear line, a non-zero exit code, nothing written', async () => {
    const dir = join(root, 'bad')
    await mkdir(dir)
    const cases: Array<[string[], RegExp]> = [
      [['containerd', '--mirror', 'nonsense', '--registry', 'docker.io', '--dir', dir], /--mirror must be HOST:PORT/],
      [['containerd', '--registry', 'http://x/', '--dir', dir], /"http:\/\/x\/" is not a registry host/],
      [['podman', '--registry', 'docker.io', '--dir', dir], /unknown runtime "podman"; expected one of containerd, crio, docker, nydus$/m],
      [['docker', '--registry', 'ghcr.io', '--file', join(dir, 'daemon.json')], /docker uses registry mirrors for docker\.io only, not ghcr\.io/],
      [['nydus', '--registry', 'docker.io', '--file', join(dir, 'nydusd.json')], /--registry does not apply to nydus: its proxy carries the pulls of every registry/],
      [['nydus', '--force', '--file', join(dir, 'nydusd.json')], /--force does not apply to nydus/]
    ]
    const results = await Promise.all(cases.map(async ([args]) => runCli(['runtime-config', ...args])))
    for (const [i, r] of results.entries()) {
      expect(r.code, cases[i]![0].join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(cases[i]![1])
    }
    expect(await readdir(dir)).toEqual([])
  })

  it('nydus: --print shows a fresh v1 config with the mirror as the registry backend\'s proxy and writes nothing', async () => {
    const dir = join(root, 'nydus-print')
    const r = await runCli(['runtime-config', 'nydus', '--mirror', '127.0.0.1:65001', '--file', join(dir, 'nydusd-config.fusedev.json'), '--print'])
    expect(r.code, r.stderr).toBe(0)
    const config = JSON.parse(r.stdout)
    expect(config.device.backend).toEqual({ type: 'registry', config: { timeout: 5, connect_timeout: 5, retry_limit: 2, proxy: NYDUS_PROXY } })
    expect(config).toMatchObject({ device: { cache: { type: 'blobcache' } }, mode: 'direct' })
    // notes and the next step go to stderr, so the output can be redirected into the file as it is
    expect(r.stderr).toMatch(/--insecure-registry only when it really speaks plain HTTP/)
    expect(r.stderr).toMatch(/restart nydus-snapshotter/)
    expect(await exists(dir)).toBe(false)
  })

  it('nydus: merges the proxy into a v1 config, keeping every other key and the file mode, then says unchanged', async () => {
    const dir = join(root, 'nydus-v1')
    const file = join(dir, 'nydusd-config.fusedev.json')
    await mkdir(dir)
    const theirs = {
      device: {
        backend: { type: 'registry', config: { timeout: 9, proxy: { url: 'http://dfdaemon:65001', check_pause_elapsed: 300 } } },
        cache: { type: 'blobcache', config: { work_dir: '/var/lib/nydus/cache' } }
      },
      mode: 'cached',
      fs_prefetch: { enable: true, threads_count: 4 }
    }
    await writeFile(file, JSON.stringify(theirs))
    await chmod(file, 0o640)
    const expected = structuredClone(theirs)
    // their other proxy keys stay, the mirror's override theirs
    expected.device.backend.config.proxy = { ...theirs.device.backend.config.proxy, ...NYDUS_PROXY }

    const first = await runCli(['runtime-config', 'nydus', '--file', file])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`wrote ${file}`)
    expect(first.stdout).toMatch(/next: restart nydus-snapshotter \(systemctl restart nydus-snapshotter\)/)
    const written = await readFile(file, 'utf8')
    expect(JSON.parse(written)).toEqual(expected)
    expect((await stat(file)).mode & 0o7777).toBe(0o640)

    const second = await runCli(['runtime-config', 'nydus', '--file', file])
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain(`unchanged ${file}`)
    expect(await readFile(file, 'utf8')).toBe(written)
    expect(await readdir(dir)).toEqual(['nydusd-config.fusedev.json'])
  })

  it('nydus: a v2 config gets the proxy at backend.registry.proxy', async () => {
    const dir = join(root, 'nydus-v2')
    const file = join(dir, 'nydusd.json')
    await mkdir(dir)
    const theirs = { version: 2, id: 'node', backend: { type: 'registry', registry: { scheme: 'https', timeout: 5 } }, cache: { type: 'filecache', filecache: { work_dir: '/cache' } } }
    await writeFile(file, JSON.stringify(theirs))

    const r = await runCli(['runtime-config', 'nydus', '--mirror', '127.0.0.1:65001', '--file', file])
    expect(r.code, r.stderr).toBe(0)
    const config = JSON.parse(await readFile(file, 'utf8'))
    expect(config).toEqual({ ...theirs, backend: { type: 'registry', registry: { scheme: 'https', timeout: 5, proxy: NYDUS_PROXY } } })
  })

  it('nydus: a config that is not JSON, or whose backend is not a registry, is refused and left as it was', async () => {
    const cases = [
      ['{"device": {"backend": ', /is not valid JSON/],
      ['{"device": {"backend": {"type": "localfs", "config": {"dir": "/blobs"}}}, "mode": "direct"}', /"device\.backend\.type" is "localfs", and nydusd takes a proxy for the "registry" backend only/],
      ['{"version": 2, "backend": {"type": "oss", "oss": {"endpoint": "oss.example.com"}}}', /"backend\.type" is "oss", and nydusd takes a proxy for the "registry" backend only/]
    ] as const
    await Promise.all(cases.map(async ([text, message], i) => {
      const dir = join(root, `nydus-bad-${i}`)
      const file = join(dir, 'nydusd.json')
      await mkdir(dir)
      await writeFile(file, text)
      const r = await runCli(['runtime-config', 'nydus', '--file', file])
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(file)
      expect(r.stderr).toMatch(message)
      expect(await readFile(file, 'utf8')).toBe(text)
      expect(await readdir(dir)).toEqual(['nydusd.json'])
    }))
  })

  it('containerd: an existing hosts.toml that says something else is kept unless --force', async () => {
    const dir = join(root, 'certs.d')
    const theirs = join(dir, 'docker.io', 'hosts.toml')
    await mkdir(join(dir, 'docker.io'), { recursive: true })
    const text = 'server = "https://registry-1.docker.io"\n\n[host."https://mirror.example.com"]\n  capabilities = ["pull"]\n'
    await writeFile(theirs, text)

    const args = ['runtime-config', 'containerd', '--registry', 'ghcr.io', '--registry', 'docker.io', '--dir', dir]
    const refused = await runCli(args)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toContain(`${theirs} exists and says something else`)
    expect(refused.stderr).toMatch(/--force/)
    expect(await readFile(theirs, 'utf8')).toBe(text)
    // all or nothing: the registry without a conflict was not written either
    expect(await readdir(dir)).toEqual(['docker.io'])
    expect(await readdir(join(dir, 'docker.io'))).toEqual(['hosts.toml'])

    const forced = await runCli([...args, '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    const written = await readFile(theirs, 'utf8')
    expect(written).toContain('server = "https://registry-1.docker.io"\n\n[host."http://127.0.0.1:65001"]\n  capabilities = ["pull", "resolve"]\n')
    expect(written).not.toContain('mirror.example.com')
    expect(await readFile(join(dir, 'ghcr.io', 'hosts.toml'), 'utf8')).toContain('server = "https://ghcr.io"')

    // the same configuration again is no conflict
    const again = await runCli(args)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain(`unchanged ${theirs}`)
  })
})
