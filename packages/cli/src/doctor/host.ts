import { execFile } from 'node:child_process'
import { readdir, readFile, stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'

/**
 * What the doctor learns about the machine it runs on: processes, commands
 * on PATH, addresses. Linux only, as the runtimes it checks are.
 */

/** `host:port` a runtime is pointed at, compared with where the mirror listens. */
export interface HostPort { host: string, port: number }

/** The host and port of an `http(s)://` URL or of a bare `host:port`, with the scheme's port when none is given. */
export function urlHostPort (value: string): HostPort | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`)
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
    return { host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port }
  } catch {
    return undefined
  }
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

/**
 * Whether a runtime connecting to `target` reaches a mirror listening on
 * `listen`: the same port, and the same host, or any of this machine's own
 * addresses when the mirror listens on all of them.
 */
export function reachesMirror (target: HostPort, listen: HostPort): boolean {
  if (target.port !== listen.port) return false
  if (target.host === listen.host) return true
  if (isLoopback(target.host) && isLoopback(listen.host)) return target.host === 'localhost' || listen.host === 'localhost'
  if (listen.host === '0.0.0.0' || listen.host === '::') {
    if (isLoopback(target.host)) return true
    const own = Object.values(networkInterfaces()).flat().map(i => i?.address.toLowerCase())
    return isIP(target.host) !== 0 && own.includes(target.host)
  }
  return false
}

export function isLoopbackMultiaddr (addr: string): boolean {
  return /^\/ip4\/127\./.test(addr) || /^\/ip6\/::1\//.test(addr) || /^\/dns[46]?\/localhost\//.test(addr)
}

export interface CommandOutput { code: number | null, stdout: string, stderr: string, error?: string }

/** Runs a command without a shell, bounded in time; never throws. */
export async function run (file: string, args: string[], timeoutMs: number): Promise<CommandOutput> {
  return await new Promise(resolve => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' }, (err: any, stdout, stderr) => {
      if (err == null) return resolve({ code: 0, stdout, stderr })
      if (err.code === 'ENOENT') return resolve({ code: null, stdout, stderr, error: `${file} not found` })
      if (err.killed === true) return resolve({ code: null, stdout, stderr, error: `${file} did not finish within ${Math.round(timeoutMs / 1000)} s` })
      resolve({ code: typeof err.code === 'number' ? err.code : null, stdout, stderr, error: err.message })
    })
  })
}

/** A command found on PATH (or the path given, when it exists), else undefined. */
export async function which (name: string): Promise<string | undefined> {
  const dirs = name.includes('/') ? [''] : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').concat('/usr/local/sbin', '/usr/sbin', '/sbin')
  for (const dir of dirs) {
    const path = dir === '' ? name : `${dir}/${name}`
    try {
      if ((await stat(path)).isFile()) return path
    } catch {
      // not in this directory
    }
  }
  return undefined
}

export interface ProcessInfo { pid: number, args: string[], startedAt: Date }

/** Running processes whose program is named `name` (by the basename of argv[0]). */
export async function processesNamed (name: string): Promise<ProcessInfo[]> {
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return []
  }
  const boot = await bootTime()
  if (boot == null) return []
  const found: ProcessInfo[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(a => a !== '')
      if (args.length === 0 || args[0]!.split('/').pop() !== name) continue
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      // fields after the command name, which is in parentheses and may hold spaces
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // starttime is field 22 of the whole line, in clock ticks (USER_HZ, 100 on Linux) since boot
      const ticks = Number(fields[19])
      found.push({ pid: Number(entry), args, startedAt: new Date(boot + ticks * 10) })
    } catch {
      // the process ended while it was read
    }
  }
  return found
}

/** When the machine booted, in ms since the epoch; undefined when /proc/stat does not say. */
async function bootTime (): Promise<number | undefined> {
  try {
    const m = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))
    return m != null ? Number(m[1]) * 1000 : undefined
  } catch {
    return undefined
  }
}
