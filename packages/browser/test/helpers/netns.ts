import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'

/**
 * Names are PREFIX<pid of the test process>: a run can tell its own, and a
 * killed run's, from anyone else's. The root namespace's end of the veth is
 * the same name with an `h`.
 */
const PREFIX = 'dfff'
/** A /30 no other test or bench uses (bench's switched hosts are on 10.77.0.0/24). */
const SUBNET = '10.79.0'

/** Why a network namespace cannot be made here, or undefined when it can. */
export function netnsUnavailable (): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: it creates a network namespace and a veth pair'
  const r = spawnSync('ip', ['netns', 'list'], { stdio: 'ignore', timeout: 5000 })
  if (r.status !== 0) return 'needs `ip netns` (Debian package iproute2)'
  return undefined
}

function ip (args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 })
}

function quietly (fn: () => void): void {
  try {
    fn()
  } catch {
    // already gone
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** `ip netns exec` mounts the files here over /etc's: the namespace's own resolv.conf. */
const ETC = '/etc/netns'

/** Kills what still runs in namespace `ns` (only ever one this module made), then deletes it, its veth and its /etc files. */
function remove (ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 }).stdout ?? ''
  for (const pid of pids.split('\n').map(Number).filter(p => p > 1)) quietly(() => process.kill(pid, 'SIGKILL'))
  quietly(() => ip(['netns', 'del', ns]))
  // deleting the namespace takes its veth end, and the pair with it; this is for a half-made one
  quietly(() => ip(['link', 'del', `${ns}h`]))
  rmSync(`${ETC}/${ns}`, { recursive: true, force: true })
  // only when no one else's namespace has files there
  quietly(() => rmdirSync(ETC))
}

/** Removes the namespaces and veths a killed earlier run left behind (its pid is gone). */
function removeStale (): void {
  const names = [
    ...(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '').split('\n').map(l => l.split(' ')[0]),
    ...(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '').split('\n').map(l => l.split(':')[1]?.trim().split('@')[0]),
    ...(spawnSync('ls', [ETC], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '').split('\n')
  ]
  for (const name of names) {
    const pid = new RegExp(`^${PREFIX}(\\d+)h?$`).exec(name ?? '')?.[1]
    if (pid != null && (Number(pid) === process.pid || !alive(Number(pid)))) remove(`${PREFIX}${pid}`)
  }
}

export interface Netns {
  name: string
  /** The root namespace's end of the veth: where a daemon listens for the namespace. */
  hostAddress: string
  /** The namespace's end, its default route's address. */
  address: string
  /** Kills what still runs in the namespace, deletes it and the veth. */
  remove(): void
}

/**
 * A network namespace joined to the root namespace by a veth pair, its
 * default route through the root namespace's end. The root namespace forwards
 * nothing that comes from it: whatever the namespace sends reaches only its
 * own loopback or the root namespace's end of the veth. Its DNS resolver is
 * its own loopback (where nothing answers), so a name looked up there (Firefox
 * looks up Mozilla's) goes nowhere either; the veth has no IPv6 address.
 */
export function createNetns (): Netns {
  removeStale()
  const name = `${PREFIX}${process.pid}`
  const hostEnd = `${name}h`
  const hostAddress = `${SUBNET}.1`
  const address = `${SUBNET}.2`
  const netns = { name, hostAddress, address, remove: () => remove(name) }
  try {
    ip(['netns', 'add', name])
    mkdirSync(`${ETC}/${name}`, { recursive: true })
    writeFileSync(`${ETC}/${name}/resolv.conf`, 'nameserver 127.0.0.1\n')
    ip(['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', name])
    // no IPv6 link-local addresses: nothing on the veth but IPv4
    ip(['link', 'set', hostEnd, 'addrgenmode', 'none'])
    ip(['-n', name, 'link', 'set', 'veth0', 'addrgenmode', 'none'])
    // not a router: packets from the namespace to any other address end here
    writeFileSync(`/proc/sys/net/ipv4/conf/${hostEnd}/forwarding`, '0')
    ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostEnd])
    ip(['link', 'set', hostEnd, 'up'])
    ip(['-n', name, 'link', 'set', 'lo', 'up'])
    ip(['-n', name, 'addr', 'add', `${address}/30`, 'dev', 'veth0'])
    ip(['-n', name, 'link', 'set', 'veth0', 'up'])
    ip(['-n', name, 'route', 'add', 'default', 'via', hostAddress])
  } catch (err) {
    netns.remove()
    throw err
  }
  return netns
}

export interface InNetnsResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs `cmd args` inside namespace `ns` (ip execs it: the child's pid is
 * cmd's); kills it when it has not finished in timeoutMs or when `signal`
 * aborts.
 */
export async function runInNetns (ns: string, cmd: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<InNetnsResult> {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const kill = (): void => {
    if (child.pid != null && child.exitCode == null && child.signalCode == null) quietly(() => process.kill(child.pid!, 'SIGKILL'))
  }
  const timer = setTimeout(kill, timeoutMs)
  signal?.addEventListener('abort', kill, { once: true })
  try {
    // 'close': exited, and its output read to the end
    const [code, sig] = await once(child, 'close') as [number | null, NodeJS.Signals | null]
    return { code, signal: sig, stdout, stderr }
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', kill)
    kill()
  }
}
