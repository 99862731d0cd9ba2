import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { containerdConfig, hostsToml } from '../../src/containerd.js'
import { runCommand, stopChild, trackChild } from './registry.js'
import type { ChildProcess } from 'node:child_process'
import type { CommandResult } from './registry.js'

export const CONTAINERD_BIN = '/usr/bin/containerd'
export const CTR_BIN = '/usr/bin/ctr'

/**
 * Writes `<hostsDir>/<registryHost>/hosts.toml` so containerd pulls of
 * `<registryHost>/...` go to `http://<mirror>` first (pull, resolve), then
 * fall back to `server = "http://<registryHost>"`.
 *
 * With skipServer the server keeps only the push capability, so pulls never
 * fall back to the registry: the mirror is the only route. (Leaving the
 * server line out does not do that: containerd then defaults to
 * <registryHost> itself, and for a loopback host it tries plain HTTP too.
 * A hosts.toml with no [host] table is rejected ("invalid `host` tree") and
 * ignored as a whole, so there always is one.)
 * Returns the path of the file.
 */
export async function writeHostsToml (hostsDir: string, registryHost: string, mirror: string, opts: { skipServer?: boolean } = {}): Promise<string> {
  const dir = join(hostsDir, registryHost)
  await mkdir(dir, { recursive: true })
  const file = join(dir, 'hosts.toml')
  await writeFile(file, hostsToml(mirror, { server: `http://${registryHost}`, pushOnly: opts.skipServer }))
  return file
}

export interface PullOptions {
  /** Directory of `<host>/hosts.toml` files (see writeHostsToml). */
  hostsDir: string
  /** e.g. 'linux/amd64'; default: this machine's platform. */
  platform?: string
  /** 'user:password' for the registry (ctr --user). */
  user?: string
  /** Default 120 s; then ctr is SIGKILLed and code is -1. */
  timeoutMs?: number
  /** More ctr `images pull` flags, e.g. ['--max-concurrent-downloads', '1']. */
  args?: string[]
}

export interface PullResult {
  /** ctr's exit code; -1 if it was killed (timeout). */
  code: number
  /** stdout and stderr of ctr. */
  output: string
  ms: number
}

/**
 * A containerd 1.6 daemon with its own root, state and sockets in a temp
 * dir (never the system's /run/containerd), driven with ctr.
 * Snapshotter overlayfs; ctr 1.6 `images pull` always unpacks.
 */
export class TestContainerd {
  readonly root: string
  readonly socket: string
  /** The namespace all ctr commands of this instance use. */
  readonly namespace: string
  #child: ChildProcess | undefined
  #output = ''

  constructor (root: string, namespace: string) {
    this.root = root
    this.socket = join(root, 'containerd.sock')
    this.namespace = namespace
  }

  get configPath (): string {
    return join(this.root, 'config.toml')
  }

  /** PID of the running daemon, if any. */
  get pid (): number | undefined {
    const child = this.#child
    return child != null && child.exitCode == null && child.signalCode == null ? child.pid : undefined
  }

  /** The CRI socket, as crictl names it. */
  get criEndpoint (): string {
    return `unix://${this.socket}`
  }

  /**
   * Writes config.toml (the one the demo's containerd uses, with the CRI
   * plugin when `cri` is given). startContainerd() calls it; calling it again
   * and restarting gives containerd another config.
   */
  async writeConfig (options: { cri?: { configPath?: string } } = {}): Promise<void> {
    await mkdir(join(this.root, 'tmp'), { recursive: true })
    await writeFile(this.configPath, containerdConfig(this.root, this.socket, options))
  }

  /** Starts the daemon and waits until `ctr version` answers; throws with its output if it does not within timeoutMs. */
  async start (timeoutMs = 15_000): Promise<void> {
    if (this.pid != null) return
    const child = spawn(CONTAINERD_BIN, ['--config', this.configPath], { cwd: this.root, stdio: ['ignore', 'pipe', 'pipe'] })
    trackChild(child)
    this.#child = child
    const collect = (d: Buffer): void => {
      this.#output += d.toString()
      if (this.#output.length > 4 * 1024 * 1024) this.#output = this.#output.slice(-4 * 1024 * 1024)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    let spawnError: Error | undefined
    child.once('error', err => { spawnError = err })
    const deadline = Date.now() + timeoutMs
    while (true) {
      if (spawnError != null || child.exitCode != null || child.signalCode != null) {
        throw new Error(`containerd exited during start (${spawnError?.message ?? child.exitCode ?? child.signalCode}):\n${this.#output}`)
      }
      const r = await runCommand(CTR_BIN, ['--address', this.socket, '--timeout', '1s', 'version'], 5000)
      if (r.code === 0) return
      if (Date.now() > deadline) {
        await stopChild(child, 1000, 'SIGKILL')
        throw new Error(`containerd not ready after ${timeoutMs} ms:\n${r.stderr}\n${this.#output}`)
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  /** Runs `ctr --address SOCK --namespace NS <args>`, bounded by timeoutMs. */
  async ctr (args: string[], timeoutMs = 60_000): Promise<CommandResult> {
    return runCommand(CTR_BIN, ['--address', this.socket, '--namespace', this.namespace, ...args], timeoutMs)
  }

  /**
   * `ctr images pull --hosts-dir DIR REF`: fetches all blobs and unpacks
   * them into the overlayfs snapshotter. Plain HTTP vs HTTPS comes from
   * the hosts.toml URLs. Never throws for a failed pull; look at code.
   */
  async pull (ref: string, opts: PullOptions): Promise<PullResult> {
    const args = ['images', 'pull', '--hosts-dir', opts.hostsDir]
    if (opts.platform != null) args.push('--platform', opts.platform)
    if (opts.user != null) args.push('--user', opts.user)
    args.push(...opts.args ?? [], ref)
    const r = await this.ctr(args, opts.timeoutMs ?? 120_000)
    return { code: r.code ?? -1, output: r.stdout + r.stderr + (r.timedOut ? '\n(ctr timed out and was killed)' : ''), ms: r.ms }
  }

  /** Digests of all blobs in this namespace's content store (`ctr content ls -q`). */
  async contentDigests (): Promise<string[]> {
    const r = await this.ctr(['content', 'ls', '-q'], 30_000)
    if (r.code !== 0) throw new Error(`ctr content ls failed: ${r.stderr}`)
    return r.stdout.split('\n').map(s => s.trim()).filter(s => s.startsWith('sha256:')).sort()
  }

  /** Image names in this namespace (`ctr images ls -q`). */
  async images (): Promise<string[]> {
    const r = await this.ctr(['images', 'ls', '-q'], 30_000)
    if (r.code !== 0) throw new Error(`ctr images ls failed: ${r.stderr}`)
    return r.stdout.split('\n').map(s => s.trim()).filter(Boolean)
  }

  /**
   * Removes an image and synchronously garbage-collects its content and
   * snapshots, so a later pull of it fetches every blob again.
   */
  async removeImage (ref: string): Promise<void> {
    const r = await this.ctr(['images', 'rm', '--sync', ref], 60_000)
    if (r.code !== 0) throw new Error(`ctr images rm ${ref} failed: ${r.stderr}${r.stdout}`)
  }

  /** Everything containerd printed, for error messages. */
  output (): string {
    return this.#output
  }

  /** Stops the daemon (SIGTERM, SIGKILL after 5 s). Its root stays; start() serves it again. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.#child != null) await stopChild(this.#child, 5000, signal)
  }

  /** Stops the daemon, unmounts anything left under its temp dir and removes it. */
  async close (): Promise<void> {
    await this.stop()
    // unpacked snapshots are directories, but a crashed unpack could leave an overlay mount behind
    const r = await runCommand('/usr/bin/findmnt', ['-rn', '-o', 'TARGET'], 5000)
    const mounts = r.stdout.split('\n').filter(m => m.startsWith(this.root + '/')).sort().reverse()
    for (const m of mounts) await runCommand('/usr/bin/umount', ['-l', m], 5000)
    await rm(this.root, { recursive: true, force: true })
  }
}

/** Starts a containerd on private sockets in a fresh temp dir. Call close() when done. */
export async function startContainerd (opts: { namespace?: string, timeoutMs?: number, cri?: { configPath?: string } } = {}): Promise<TestContainerd> {
  const root = await mkdtemp(join(tmpdir(), 'damselfly-containerd-'))
  const c = new TestContainerd(root, opts.namespace ?? `damselfly-test-${randomBytes(4).toString('hex')}`)
  try {
    await c.writeConfig({ cri: opts.cri })
    await c.start(opts.timeoutMs)
  } catch (err) {
    await c.close()
    throw err
  }
  return c
}
