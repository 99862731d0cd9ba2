import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hostsToml } from '../src/containerd.js'
import { checkContainerd, parseContainerdVersion, registryConfig } from '../src/doctor/containerd.js'
import { reachesMirror } from '../src/doctor/host.js'
import { imageRepository } from '../src/doctor/pull.js'
import type { Finding } from '../src/doctor/findings.js'

/**
 * The containerd configurations the doctor must see through without a
 * containerd of that version at hand: the tests' containerd is Debian's 1.6
 * (doctor.e2e.spec.ts runs it); 2.x's behaviour (config version 3, the
 * transfer service, the default config_path) is read from the config here,
 * with a `containerd --version` that prints what 2.1 prints.
 */
describe('doctor: containerd configuration', () => {
  let dir: string
  let hostsDir: string
  const mirror = { host: '127.0.0.1', port: 65001 }

  /** A stand-in for the containerd binary that only answers --version, as that version does. */
  async function containerdPrinting (version: string): Promise<string> {
    const bin = join(dir, `containerd-${version}`)
    await writeFile(bin, `#!/bin/sh\necho "containerd github.com/containerd/containerd/v2 v${version} 75cb2b7193e4e490e9fbdc236c0e811ccaba3376"\n`)
    await chmod(bin, 0o755)
    return bin
  }

  async function check (config: string, version: string, registries = ['docker.io']): Promise<Finding[]> {
    const configFile = join(dir, `config-${Math.random().toString(16).slice(2)}.toml`)
    await writeFile(configFile, config)
    return await checkContainerd({ configFile, hostsDir, mirror, registries, bin: await containerdPrinting(version) })
  }

  const failures = (findings: Finding[]): string[] => findings.filter(f => f.verdict === 'fail').map(f => f.message)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'damselfly-doctor-'))
    hostsDir = join(dir, 'certs.d')
    await mkdir(join(hostsDir, 'docker.io'), { recursive: true })
    await writeFile(join(hostsDir, 'docker.io', 'hosts.toml'), hostsToml('127.0.0.1:65001', { server: 'https://registry-1.docker.io' }))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads the version containerd prints', () => {
    expect(parseContainerdVersion('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3')).toMatchObject({ major: 1, minor: 6 })
    expect(parseContainerdVersion('containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7')).toMatchObject({ major: 2, minor: 1 })
    expect(parseContainerdVersion('containerd containerd.io 1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da')).toMatchObject({ major: 1, minor: 7 })
  })

  it('finds config_path where each config version keeps it', () => {
    expect(registryConfig({ version: 2, plugins: { 'io.containerd.grpc.v1.cri': { registry: { config_path: '/a' } } } }).configPath).toBe('/a')
    expect(registryConfig({ version: 3, plugins: { 'io.containerd.cri.v1.images': { registry: { config_path: '/b' }, use_local_image_pull: true } } })).toMatchObject({ configPath: '/b', useLocalImagePull: true })
    expect(registryConfig({ plugins: { cri: { registry: { config_path: '/c' } } } }).configPath).toBe('/c')
    expect(registryConfig({ version: 2, disabled_plugins: ['io.containerd.grpc.v1.cri'] }).criDisabled).toBe(true)
  })

  it('names containerd 2.1\'s transfer service with a config_path list (EKS\'s default), and passes one directory', async () => {
    const list = `version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '${hostsDir}:/etc/docker/certs.d'\n`
    const found = await check(list, '2.1.4')
    expect(failures(found)).toEqual([expect.stringMatching(/config_path is a list .* transfer service, which takes config_path as one directory/)])
    expect(found.find(f => f.verdict === 'fail')?.fix).toMatch(/use_local_image_pull = true/)

    // the same list through the local pull path, or one directory, works
    expect(failures(await check(list + `[plugins.'io.containerd.cri.v1.images']\n  use_local_image_pull = true\n`, '2.1.4'))).toEqual([])
    expect(failures(await check(`version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '${hostsDir}'\n`, '2.1.4'))).toEqual([])
    // containerd 2.0 had no transfer service in CRI pulls
    expect(failures(await check(list, '2.0.5'))).toEqual([])
  })

  it('names the old mirrors tables, alone or beside config_path', async () => {
    const mirrors = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["https://mirror.gcr.io"]\n'
    expect(failures(await check(mirrors, '1.7.27'))).toEqual([expect.stringContaining('uses the old registry.mirrors tables and no config_path')])
    const both = mirrors + `[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${hostsDir}"\n`
    expect(failures(await check(both, '1.7.27'))).toEqual([expect.stringContaining('sets both registry.mirrors and config_path')])
  })

  it('takes containerd 2\'s default config_path when the file sets none', async () => {
    const found = await check('version = 3\n', '2.2.0', [])
    // the default is a list, which the 2.2 transfer service reads as one directory
    expect(failures(found)).toEqual(expect.arrayContaining([expect.stringContaining('"/etc/containerd/certs.d:/etc/docker/certs.d"')]))
  })

  it('names hosts.toml files written where config_path does not point', async () => {
    const elsewhere = join(dir, 'other.d')
    await mkdir(elsewhere, { recursive: true })
    const found = await check(`version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${elsewhere}"\n`, '1.7.27')
    expect(failures(found)).toEqual([
      expect.stringContaining(`no hosts.toml for docker.io (nor _default) in ${elsewhere}`),
      expect.stringContaining(`${join(hostsDir, 'docker.io', 'hosts.toml')} names the mirror, but containerd reads hosts.toml only from ${elsewhere}`)
    ])
  })

  it('names a broken hosts.toml, which containerd ignores as a whole', async () => {
    const broken = join(dir, 'broken.d')
    await mkdir(join(broken, 'quay.io'), { recursive: true })
    await writeFile(join(broken, 'quay.io', 'hosts.toml'), '[host."http://127.0.0.1:65001"\n')
    const found = await check(`version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${broken}"\n`, '1.7.27', ['quay.io'])
    expect(failures(found)[0]).toMatch(/quay.io\/hosts.toml: it is not valid TOML/)
  })
})

describe('doctor: addresses and images', () => {
  it('matches a runtime\'s target with where the mirror listens', () => {
    expect(reachesMirror({ host: '127.0.0.1', port: 65001 }, { host: '127.0.0.1', port: 65001 })).toBe(true)
    expect(reachesMirror({ host: 'localhost', port: 65001 }, { host: '127.0.0.1', port: 65001 })).toBe(true)
    expect(reachesMirror({ host: '127.0.0.1', port: 65001 }, { host: '0.0.0.0', port: 65001 })).toBe(true)
    expect(reachesMirror({ host: '127.0.0.1', port: 65002 }, { host: '127.0.0.1', port: 65001 })).toBe(false)
    expect(reachesMirror({ host: '10.9.9.9', port: 65001 }, { host: '127.0.0.1', port: 65001 })).toBe(false)
  })

  it('names an image\'s repository as the runtimes do', () => {
    expect(imageRepository('nginx')).toEqual({ registry: 'docker.io', name: 'library/nginx' })
    expect(imageRepository('nginx:1.27')).toEqual({ registry: 'docker.io', name: 'library/nginx' })
    expect(imageRepository('bitnami/redis@sha256:abc')).toEqual({ registry: 'docker.io', name: 'bitnami/redis' })
    expect(imageRepository('127.0.0.1:5000/demo/app:v1')).toEqual({ registry: '127.0.0.1:5000', name: 'demo/app' })
    expect(imageRepository('localhost/app')).toEqual({ registry: 'localhost', name: 'app' })
  })
})
