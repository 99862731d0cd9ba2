import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import { containerdConfig, hostsToml } from '../containerd.js'
import type { NodePuller } from './demo.js'
import type { ChildProcess } from 'node:child_process'

const run = promisify(execFile)

export const CONTAINERD_BIN = '/usr/bin/containerd'
export const CTR_BIN = '/usr/bin/ctr'
const NAMESPACE = 'damselfly-demo'
const START_TIMEOUT_MS = 20_000

/** Why real containerd cannot run here, or undefined when it can. */
export function containerdUnavailable (): string | undefined {
  if (!existsSync(CONTAINERD_BIN) || !existsSync(CTR_BIN)) return `${CONTAINERD_BIN} and ${CTR_BIN} are needed (Debian package containerd)`
  if (process.getuid?.() !== 0) return 'containerd needs root'
  return undefined
}

/** One containerd per node, on private sockets under `root`, never the system's. */
export class DemoContainerd {
  readonly root: string
  readonly socket: string

  constructor (root: string) {
    this.root = root
    this.socket = join(root, 'containerd.sock')
  }

  /** Starts it and waits until `ctr version` answers. */
  async start (track: (child: ChildProcess) => void, signal: AbortSignal): Promise<void> {
    await mkdir(join(this.root, 'tmp'), { recursive: true })
    await writeFile(join(this.root, 'config.toml'), containerdConfig(this.root, this.socket))
    const child = spawn(CONTAINERD_BIN, ['--config', join(this.root, 'config.toml')], { cwd: this.root, stdio: 'ignore' })
    track(child)
    const deadline = Date.now() + START_TIMEOUT_MS
    while (true) {
      signal.throwIfAborted()
      if (child.exitCode != null || child.signalCode != null) throw new Error(`containerd exited at start (${child.exitCode ?? child.signalCode})`)
      try {
        await run(CTR_BIN, ['--address', this.socket, '--timeout', '1s', 'version'], { timeout: 5000, signal })
        return
      } catch {
        if (Date.now() > deadline) throw new Error(`containerd in ${this.root} did not answer within ${START_TIMEOUT_MS / 1000} s`)
      }
      await delay(100, undefined, { signal })
    }
  }

  /**
   * `ctr images pull` of `registry/name:tag` with the node's mirror as the
   * only route (the registry itself keeps only the push capability, so a
   * failing mirror fails the pull instead of hiding behind the registry).
   * containerd checks every blob's digest and unpacks the layers.
   */
  async pull (registry: string, mirror: string, ref: string, signal: AbortSignal): Promise<void> {
    const hostsDir = join(this.root, 'hosts')
    await mkdir(join(hostsDir, registry), { recursive: true })
    await writeFile(join(hostsDir, registry, 'hosts.toml'), hostsToml(mirror, { server: `http://${registry}`, pushOnly: true }))
    try {
      await run(CTR_BIN, ['--address', this.socket, '--namespace', NAMESPACE, 'images', 'pull', '--hosts-dir', hostsDir, ref], { signal, maxBuffer: 16 * 1024 * 1024 })
    } catch (err: any) {
      throw new Error(`ctr images pull failed: ${String(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' ')}`)
    }
  }

  /** Lazy unmounts of anything containerd left mounted under its root (an unpack cut short). */
  async unmountLeftovers (): Promise<void> {
    try {
      const { stdout } = await run('findmnt', ['-rn', '-o', 'TARGET'], { timeout: 5000 })
      for (const m of stdout.split('\n').filter(m => m.startsWith(this.root + '/')).sort().reverse()) {
        await run('umount', ['-l', m], { timeout: 5000 }).catch(() => {})
      }
    } catch {
      // no findmnt: nothing was found
    }
  }
}

/**
 * Pulls with real containerd, one per node: each pull's progress is the
 * node's mirror counters, read from its control API.
 */
export function containerdPuller (runtimes: Map<string, { containerd: DemoContainerd, api: string }>): NodePuller {
  return async ({ node, mirror, registry, image, signal, onBytes }) => {
    const rt = runtimes.get(node)
    if (rt == null) throw new Error(`no containerd for ${node}`)
    const started = performance.now()
    const timer = setInterval(() => {
      fetch(`http://${rt.api}/api/v1/status`, { signal: AbortSignal.timeout(2000) })
        .then(async r => await r.json() as { mirror?: { bytes: Record<string, number> } })
        .then(s => { onBytes(Math.max(0, Object.values(s.mirror?.bytes ?? {}).reduce((a, b) => a + b, 0) - image.manifest.size)) })
        .catch(() => {})
    }, 500)
    try {
      await rt.containerd.pull(registry, mirror, `${registry}/${image.name}:${image.tag}`, signal)
    } finally {
      clearInterval(timer)
    }
    return {
      manifestDigest: image.manifest.digest,
      blobs: image.blobs.map(b => ({ digest: b.digest, size: b.size, source: 'containerd', ms: 0 })),
      bytes: image.totalBytes,
      ms: performance.now() - started
    }
  }
}
