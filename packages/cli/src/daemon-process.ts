import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

/**
 * V8 options a daemon runs with (the bin script's shebang carries the same).
 *
 * A 2 MiB semi-space: piece buffers die young and are freed by frequent small
 * scavenges, instead of a young generation that grows to 64 MiB and keeps
 * them; bench:mirror measured 20-30 MiB less peak RSS and no loss of throughput.
 *
 * A 64 MiB old generation before the first full collection: V8 counts the
 * bytes of old ArrayBuffers (piece buffers, TLS records) toward the old
 * generation, and a daemon's heap is small (about 26 MiB), so its own limit
 * let a few MiB of them start a mark-compact. Serving a 256 MiB blob then
 * took 17-27 of them in some runs and none in others, and those runs moved
 * 25-35% less. With this floor, 7 runs out of 7 had none: the serving
 * daemon spent 0.8 CPU-s instead of 1.9-2.6, the fetching one 1.9 instead
 * of 2.6-2.8, at the same peak RSS.
 */
export const DAEMON_NODE_OPTIONS = ['--max-semi-space-size=2', '--initial-old-space-size=64']

/** The `damselfly` entry point that `spawnDaemon` runs. */
export const DAMSELFLY_BIN = fileURLToPath(new URL('./bin.js', import.meta.url))

export interface DaemonProcess {
  child: ChildProcess
  peerId: string
  /** Listen multiaddrs, with /p2p/<peer id>. */
  addrs: string[]
  /** host:port of the control API. */
  api: string
  /** host:port of the registry mirror, unless started with --no-mirror. */
  mirror?: string
  /** Everything it wrote so far, stdout and (when piped) stderr. */
  output: string[]
}

export interface SpawnDaemonOptions {
  env?: Record<string, string>
  /** Node options for the child, e.g. `['--cpu-prof', '--cpu-prof-dir', DIR]`. */
  execArgv?: string[]
  /**
   * A command the daemon runs under, which ends by exec'ing it (so the child's
   * pid is the daemon's), e.g. `['ip', 'netns', 'exec', 'NS']`. @default []
   */
  prefix?: string[]
  /** stderr piped into `output`, or passed through to this process. @default 'pipe' */
  stderr?: 'pipe' | 'inherit'
  /** Called with the child as soon as it exists, so a caller can track it for cleanup. */
  onSpawn?(child: ChildProcess): void
  /** @default 30000 */
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * Run `damselfly daemon ARGS` as a child process and resolve once it has
 * printed its peer id, listen addresses and control API address. A daemon
 * that exits, times out or is aborted before that is stopped, and the
 * promise rejects with what it printed.
 */
export async function spawnDaemon (args: string[], options: SpawnDaemonOptions = {}): Promise<DaemonProcess> {
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(command!, [...prefixArgs, ...DAEMON_NODE_OPTIONS, ...(options.execArgv ?? []), DAMSELFLY_BIN, 'daemon', ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', options.stderr ?? 'pipe']
  })
  options.onSpawn?.(child)
  try {
    return await daemonStarted(child, { what: 'damselfly daemon', timeoutMs: options.timeoutMs, signal: options.signal })
  } catch (err) {
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
    throw err
  }
}

/**
 * Reads a starting daemon's stdout (for its whole life: unread, its writes
 * would block) and its stderr when piped, and resolves once it has printed
 * its peer id, listen addresses, mirror and control API. `what` names it in
 * errors: it did not start within `timeoutMs`, or exited first.
 */
export async function daemonStarted (child: ChildProcess, options: { what: string, timeoutMs?: number, signal?: AbortSignal }): Promise<DaemonProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const output: string[] = []
  const d: { peerId?: string, addrs: string[], api?: string, mirror?: string } = { addrs: [] }
  child.stderr?.on('data', b => output.push(String(b)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.what} did not start within ${timeoutMs} ms: ${output.join('')}`)), timeoutMs)
    const onAbort = (): void => reject(options.signal?.reason)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    const done = (): void => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    let pending = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (text: string) => {
      output.push(text)
      const lines = (pending + text).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const peer = / peer (\S+)$/.exec(line)
        if (peer != null) d.peerId = peer[1]
        const addr = /^listening on (\S+)/.exec(line)
        if (addr != null) d.addrs.push(addr[1]!)
        const mirror = /^registry mirror on http:\/\/(\S+)/.exec(line)
        if (mirror != null) d.mirror = mirror[1]
        const api = /^control API on http:\/\/(\S+)/.exec(line)
        if (api != null) {
          d.api = api[1]
          done()
          resolve()
        }
      }
    })
    child.once('exit', code => {
      done()
      reject(new Error(`${options.what} exited with ${code} before its API was up: ${output.join('')}`))
    })
  })
  return { child, peerId: d.peerId!, addrs: d.addrs, api: d.api!, mirror: d.mirror, output }
}

/** SIGTERM (or `signal`) to a child, SIGKILL after `graceMs`, and wait until it is gone. */
export async function stopChild (child: ChildProcess, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Resolves at the first SIGINT or SIGTERM: a long-running command's cue to stop cleanly. */
export async function untilSignalled (): Promise<void> {
  await new Promise<void>(resolve => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
