import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DAMSELFLY_BIN, spawnDaemon } from '@damselfly/cli'
import type { DaemonProcess as SpawnedDaemon } from '@damselfly/cli'

export interface DaemonProcess extends SpawnedDaemon {
  dataDir: string
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Polls `check` (every 200 ms, up to timeoutMs) until it returns no error; throws the last one. */
export async function eventually (check: () => Promise<void>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
    }
    await sleep(200)
  }
}

/** Runs the damselfly CLI to completion (bounded by timeoutMs). */
export async function runCli (args: string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [DAMSELFLY_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Temp dirs and daemons of one test file, all cleaned up by stop(). */
export class Cluster {
  readonly daemons: DaemonProcess[] = []
  #root: string | undefined
  readonly #args: string[]

  /** `args` go to every daemon this cluster starts, before each start's own. */
  constructor (args: string[] = []) {
    this.#args = args
  }

  async root (): Promise<string> {
    this.#root ??= await mkdtemp(join(tmpdir(), 'damselfly-e2e-'))
    return this.#root
  }

  async start (name: string, args: string[] = [], env: Record<string, string> = {}): Promise<DaemonProcess> {
    const dataDir = join(await this.root(), name)
    return this.startIn(dataDir, args, env)
  }

  async startIn (dataDir: string, args: string[] = [], env: Record<string, string> = {}): Promise<DaemonProcess> {
    const daemon = { ...await spawnDaemon(['--data-dir', dataDir, '--api', '127.0.0.1:0', '--mirror', '127.0.0.1:0', ...this.#args, ...args], { env }), dataDir }
    this.daemons.push(daemon)
    return daemon
  }

  async api (d: DaemonProcess, path: string): Promise<any> {
    const res = await fetch(`http://${d.api}${path}`, { signal: AbortSignal.timeout(10_000) })
    return path === '/metrics' ? res.text() : res.json()
  }

  /**
   * What the daemons were doing, for the message of a pull that failed: the
   * downloads of the first (its /api/v1/tasks) and each one's last output,
   * under the names given.
   */
  async explain (daemons: Record<string, DaemonProcess>): Promise<string> {
    const entries = Object.entries(daemons)
    const [name, first] = entries[0]!
    const tasks = await this.api(first, '/api/v1/tasks').then(t => JSON.stringify(t), (err: Error) => err.message)
    return [`${name} tasks: ${tasks}`, ...entries.map(([n, d]) => `${n} output: ${d.output.join('').slice(-4000)}`)].join('\n')
  }

  /** Bytes the daemon's registry mirror sent to its clients, all sources together. */
  async mirrorBytes (d: DaemonProcess): Promise<number> {
    const text = await this.api(d, '/metrics')
    let n = 0
    for (const source of ['cache', 'peer', 'seed', 'upstream']) n += metric(text, 'damselfly_mirror_bytes_total', { source }) ?? 0
    return n
  }

  async kill (d: DaemonProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (d.child.exitCode != null || d.child.signalCode != null) return
    const exited = new Promise(resolve => d.child.once('exit', resolve))
    d.child.kill(signal)
    await exited
  }

  async stop (): Promise<void> {
    await Promise.all(this.daemons.map(async d => {
      const timer = setTimeout(() => d.child.kill('SIGKILL'), 5000)
      await this.kill(d, 'SIGTERM')
      clearTimeout(timer)
    }))
    if (this.#root != null) await rm(this.#root, { recursive: true, force: true })
  }
}

/** Value of a Prometheus sample, e.g. metric(text, 'damselfly_received_bytes_total', { source: 'peer' }). */
export function metric (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (m == null || m[1] !== name) continue
    const have = (m[2] ?? '').split(',').filter(Boolean)
    if (want.every(w => have.includes(w))) return Number(m[3])
  }
  return undefined
}
