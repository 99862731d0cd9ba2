// containerd of its own inside a host's network namespace (root, state and
// sockets under a temp dir, never the system's), and `ctr content fetch`,
// which resolves and downloads in the ctr process itself: it runs in the
// namespace too, so 127.0.0.1 is that host's daemon mirror.
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { containerdConfig, hostsToml } from '@damselfly/cli'
import { inNetns } from './netns.mjs'
import { capture, makeTempDir, removeTempDir, stopChild, track } from './processes.mjs'

export const CONTAINERD_BIN = '/usr/bin/containerd'
export const CTR_BIN = '/usr/bin/ctr'
/** The containerd namespace the pulls go to. */
const NAMESPACE = 'damselfly-bench'
const START_TIMEOUT_MS = 20_000

/** Starts a fresh containerd (an empty content store) in namespace `ns`; resolves once `ctr version` answers. */
export async function startContainerd (ns) {
  const root = await makeTempDir('damselfly-bench-containerd-')
  const socket = join(root, 'containerd.sock')
  await mkdir(join(root, 'tmp'), { recursive: true })
  await writeFile(join(root, 'config.toml'), containerdConfig(root, socket))
  const [cmd, args] = inNetns(ns, CONTAINERD_BIN, ['--config', join(root, 'config.toml')])
  const child = track(spawn(cmd, args, { cwd: root, stdio: 'ignore' }))
  child.once('error', () => {})
  const ctr = args => capture(CTR_BIN, ['--address', socket, '--namespace', NAMESPACE, ...args], { timeoutMs: 10_000 })
  const stop = async () => {
    await stopChild(child, 5000)
    await removeTempDir(root)
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  while (true) {
    if (child.exitCode != null || child.signalCode != null) throw new Error(`containerd in ${ns} exited at start (${child.exitCode ?? child.signalCode})`)
    if ((await ctr(['--timeout', '1s', 'version'])).code === 0) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`containerd in ${ns} did not answer within ${START_TIMEOUT_MS / 1000} s`)
    }
    await delay(100)
  }
  return {
    ns,
    pid: child.pid,
    /**
     * Writes the hosts.toml for `ctr content fetch REGISTRY/REF` through `via`
     * (host:port, plain HTTP) as the only host that may pull: the registry
     * itself when `via` is the registry, else a mirror, with the registry
     * left the push capability only, so a failing mirror fails the pull.
     * Resolves with `fetch(signal)`, which runs ctr in the namespace and
     * resolves with { code, stderr }; containerd checks every digest.
     */
    async prepareFetch (registry, ref, via) {
      const hostsDir = join(root, `hosts-${via.replace(/[^\w.-]/g, '_')}`)
      await mkdir(join(hostsDir, registry), { recursive: true })
      await writeFile(join(hostsDir, registry, 'hosts.toml'), via === registry
        ? hostsToml(registry, { server: `http://${registry}` })
        : hostsToml(via, { server: `http://${registry}`, pushOnly: true }))
      const [cmd, args] = inNetns(ns, CTR_BIN, ['--address', socket, '--namespace', NAMESPACE, 'content', 'fetch', '--hosts-dir', hostsDir, `${registry}/${ref}`])
      return async signal => {
        const { code, stderr } = await capture(cmd, args, { timeoutMs: 30 * 60_000, signal, stdout: false })
        return { code, stderr: stderr.trim().split('\n').slice(-3).join(' ') }
      }
    },
    /** The digests in its content store (`ctr content ls -q`). */
    async digests () {
      const { code, stdout, stderr } = await ctr(['content', 'ls', '-q'])
      if (code !== 0) throw new Error(`ctr content ls in ${ns}: ${stderr.trim()}`)
      return new Set(stdout.split('\n').map(s => s.trim()).filter(Boolean))
    },
    stop
  }
}
