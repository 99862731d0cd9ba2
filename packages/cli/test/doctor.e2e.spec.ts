import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, runCli } from './helpers/cluster.js'
import { CONTAINERD_BIN, startContainerd } from './helpers/containerd.js'
import { goTool } from './helpers/go-tools.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestContainerd } from './helpers/containerd.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024
/** crictl from the Go module proxy: the kubelet's way into containerd (CRI), which is what `--pull` tests. */
const CRICTL_VERSION = 'v1.37.0'

/**
 * `damselfly doctor` on a node whose containerd (real, CRI plugin on, pulls
 * by crictl as the kubelet's go) is configured wrong in the ways operators
 * get it wrong, then right: each time the doctor's verdict must match what
 * the mirror really saw.
 */
describe('damselfly doctor with a real containerd', () => {
  const cluster = new Cluster()
  let registry: TestRegistry
  let containerd: TestContainerd
  let crictl: string
  let node: DaemonProcess
  let hostsDir: string

  /** Runs the doctor against `node` and this containerd, with `args` after. */
  async function doctor (args: string[] = []): Promise<{ code: number | null, out: string, json: any }> {
    const base = [
      'doctor', '--api', node.api, '--runtime', 'containerd', '--registry', registry.host,
      '--containerd-config', containerd.configPath, '--containerd-hosts-dir', hostsDir, '--containerd-bin', CONTAINERD_BIN,
      '--crictl', crictl, '--cri-endpoint', containerd.criEndpoint, ...args
    ]
    const [text, json] = await Promise.all([runCli(base, 180_000), args.includes('--pull') ? undefined : runCli([...base, '--json'], 60_000)])
    if (process.env.DOCTOR_PRINT != null) console.log(text.stdout + text.stderr)
    return { code: text.code, out: text.stdout + text.stderr, json: json != null ? JSON.parse(json.stdout) : undefined }
  }

  /** What the node and the seed were doing, with their output: printed when a pull through them failed. */
  async function swarmState (): Promise<string> {
    return (await Promise.all(cluster.daemons.map(async d => {
      const tasks = await cluster.api(d, '/api/v1/tasks').then(t => JSON.stringify(t), (err: Error) => err.message)
      return `${d.peerId} tasks: ${tasks}\noutput: ${d.output.join('').slice(-3000)}`
    }))).join('\n')
  }

  /** Bytes and requests this node's mirror answered, from its status. */
  async function mirrorRequests (): Promise<number> {
    const status = await cluster.api(node, '/api/v1/status')
    return status.mirror.requests.manifest + status.mirror.requests.blob
  }

  beforeAll(async () => {
    const root = await cluster.root()
    hostsDir = join(root, 'certs.d')
    const names = ['first', 'second', 'third']
    let images: BuiltImage[]
    ;[registry, containerd, crictl, images] = await Promise.all([
      startRegistry(),
      // the CRI plugin on, and no config_path: containerd's defaults, the first mistake
      startContainerd({ cri: {} }),
      goTool('crictl', 'sigs.k8s.io/cri-tools/cmd/crictl', CRICTL_VERSION),
      Promise.all(names.map(async name => await buildImage(join(root, name), { layers: [1 * MiB, 1 * MiB], seed: `doctor-${name}` })))
    ])
    await Promise.all(names.map(async (name, i) => await registry.push(images[i]!.dir, `doctor/${name}:v1`)))
    const seed = await cluster.start('seed', ['--seed', '--insecure-registry', registry.host])
    node = await cluster.start('node', ['--listen', '/ip4/0.0.0.0/tcp/0', '--bootstrap', seed.addrs[0]!, '--insecure-registry', registry.host])
    const written = await runCli(['runtime-config', 'containerd', '--mirror', node.mirror!, '--registry', registry.host, '--dir', hostsDir])
    expect(written.code, written.stderr).toBe(0)
  }, 600_000)

  afterAll(async () => {
    await containerd?.close()
    await cluster.stop()
    await registry?.close()
  })

  it('names a containerd without config_path, and sees the test pull skip the mirror', async () => {
    const before = await mirrorRequests()
    const r = await doctor(['--pull', `${registry.host}/doctor/first:v1`])
    expect(r.code, r.out).toBe(1)
    expect(r.out).toMatch(/^FAIL\s+containerd\s+.*sets no config_path: containerd ignores every hosts.toml/m)
    expect(r.out).toContain(`config_path = "${hostsDir}"`)
    // containerd pulled the image from the registry itself, and the doctor says so
    expect(r.out).toMatch(/^FAIL\s+pull\s+crictl pull \S+ worked, but the mirror was not asked/m)
    expect(await mirrorRequests()).toBe(before)
    // the node itself is fine
    expect(r.out).toMatch(/^ok\s+daemon\s+up/m)
    expect(r.out).toMatch(/^ok\s+listen\s+other nodes can dial/m)
    expect(r.out).toMatch(/^ok\s+bootstrap\s+connected to/m)
    expect(r.out).toMatch(/^ok\s+peers\s+connected to 1 peer, 1 of them seed/m)
  })

  it('names a config changed after containerd started, then a hosts.toml that points at the wrong port', async () => {
    await containerd.writeConfig({ cri: { configPath: hostsDir } })
    let r = await doctor()
    expect(r.code, r.out).toBe(1)
    expect(r.out).toMatch(/^FAIL\s+containerd\s+.*changed at .*after containerd \(pid \d+\) started/m)
    expect(r.json.findings.filter((f: any) => f.verdict === 'fail').map((f: any) => f.check)).toEqual(['containerd'])

    await containerd.stop()
    await containerd.start()
    const [, port] = node.mirror!.split(':')
    const wrong = `127.0.0.1:${Number(port) === 65535 ? 65534 : Number(port) + 1}`
    const rewritten = await runCli(['runtime-config', 'containerd', '--mirror', wrong, '--registry', registry.host, '--dir', hostsDir, '--force'])
    expect(rewritten.code, rewritten.stderr).toBe(0)
    const before = await mirrorRequests()
    r = await doctor(['--pull', `${registry.host}/doctor/second:v1`])
    expect(r.code, r.out).toBe(1)
    expect(r.out).toMatch(new RegExp(`^FAIL\\s+hosts.toml\\s+\\S+ sends ${registry.host} pulls to http://${wrong}, but the mirror listens at http://${node.mirror}`, 'm'))
    expect(r.out).toMatch(/^FAIL\s+pull\s+/m)
    expect(await mirrorRequests()).toBe(before)
  })

  it('passes a node whose containerd sends pulls to the mirror, and the test pull is counted there', async () => {
    const rewritten = await runCli(['runtime-config', 'containerd', '--mirror', node.mirror!, '--registry', registry.host, '--dir', hostsDir, '--force'])
    expect(rewritten.code, rewritten.stderr).toBe(0)
    const before = await mirrorRequests()
    const r = await doctor(['--pull', `${registry.host}/doctor/third:v1`])
    expect(r.code, r.code === 0 ? r.out : `${r.out}\n${await swarmState()}`).toBe(0)
    expect(r.out).toMatch(new RegExp(`^ok\\s+hosts.toml\\s+${registry.host} pulls go to the mirror first`, 'm'))
    expect(r.out).toMatch(/^ok\s+pull\s+crictl pull \S+ went through the mirror \(\d+ manifest and [1-9]\d* blob requests?\)/m)
    expect(r.out).toContain('no problem found')
    // config and two layers at least, and the manifest
    expect(await mirrorRequests() - before).toBeGreaterThanOrEqual(4)
  })

  it('names a lone node on loopback, a CRI-O drop-in without insecure, and a daemon that is down', async () => {
    const lone = await cluster.start('lone', ['--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'])
    const conf = join(await cluster.root(), 'registries.conf')
    await writeFile(conf, `[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "${lone.mirror!}"\n`)
    let r = await runCli(['doctor', '--api', lone.api, '--runtime', 'crio', '--crio-registries', conf])
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout).toMatch(/^FAIL\s+listen\s+the node listens only on loopback/m)
    expect(r.stdout).toContain('--listen /ip4/0.0.0.0/tcp/4001')
    expect(r.stdout).toMatch(/^FAIL\s+bootstrap\s+not connected to \/ip4\/127.0.0.1\/tcp\/1\//m)
    expect(r.stdout).toMatch(/^FAIL\s+peers\s+connected to no peer/m)
    expect(r.stdout).toMatch(/^FAIL\s+crio\s+.*lacks insecure = true/m)

    // what runtime-config writes passes
    const written = await runCli(['runtime-config', 'crio', '--mirror', lone.mirror!, '--registry', 'docker.io', '--file', conf, '--force'])
    expect(written.code, written.stderr).toBe(0)
    r = await runCli(['doctor', '--api', lone.api, '--runtime', 'crio', '--crio-registries', conf, '--json'])
    const crio = JSON.parse(r.stdout).findings.filter((f: any) => f.check === 'crio')
    expect(crio).toEqual([expect.objectContaining({ verdict: 'ok', message: expect.stringContaining('docker.io pulls go to the mirror first') })])

    await cluster.kill(lone, 'SIGTERM')
    r = await runCli(['doctor', '--api', lone.api, '--runtime', 'crio', '--crio-registries', conf])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^FAIL\s+daemon\s+cannot reach the daemon/m)
    expect(r.stdout).toMatch(/^skip\s+crio\s+the mirror's address is unknown/m)
  })

  it('refuses bad flags with one line', async () => {
    const r = await runCli(['doctor', '--runtime', 'rkt'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual(['damselfly doctor: --runtime must be one of containerd, crio, docker, got "rkt"'])
    const s = await runCli(['doctor', '--pul', 'x'])
    expect(s.code).toBe(2)
    expect(s.stderr).toContain('did you mean --pull')
  })
})
