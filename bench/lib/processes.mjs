// Child processes and temp dirs the benchmark owns, so that every exit path
// (success, a failed measurement, Ctrl-C) stops the former and removes the latter.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const children = new Set()
/** Kernel clock ticks per second, the unit of /proc/PID/stat's CPU times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100

/**
 * Peak resident memory (VmHWM) of process `pid` since it started, in bytes,
 * from /proc/PID/status; undefined where there is no /proc.
 */
export async function peakRssOf (pid) {
  let status
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]
  return kib != null ? Number(kib) * 1024 : undefined
}

/**
 * CPU seconds (user + system) process `pid` has used so far, from
 * /proc/PID/stat; undefined where there is no /proc (not Linux).
 */
export async function cpuSecondsOf (pid) {
  let stat
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // the command name in field 2 may hold spaces: count fields after its ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/**
 * CPU seconds (user + system) of this process's children that have ended and
 * been waited for (cutime + cstime of /proc/self/stat): what short-lived
 * commands cost, read before and after them. Undefined where there is no /proc.
 */
export async function endedChildrenCpuSeconds () {
  let stat
  try {
    stat = await readFile('/proc/self/stat', 'utf8')
  } catch {
    return undefined
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS
}

/**
 * CPU seconds (user + system) and command name of every process running now,
 * from /proc/PID/stat: Map pid -> { comm, seconds }. Empty where there is no /proc.
 */
export async function allProcessesCpu () {
  const out = new Map()
  let pids
  try {
    pids = (await readdir('/proc')).filter(name => /^\d+$/.test(name))
  } catch {
    return out
  }
  await Promise.all(pids.map(async pid => {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(pid), { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS })
    } catch {
      // ended meanwhile
    }
  }))
  return out
}

/**
 * CPU seconds by thread kind of process `pid`: the JS main thread, V8's
 * helpers (GC and compiler workers), libuv's pool (fs, crypto, zlib) and the
 * rest; from /proc/PID/task/TID/stat. Undefined where there is no /proc.
 */
export async function threadCpuOf (pid) {
  let tids
  try {
    tids = await readdir(`/proc/${pid}/task`)
  } catch {
    return undefined
  }
  const out = { main: 0, v8: 0, libuv: 0, other: 0 }
  for (const tid of tids) {
    let stat
    try {
      stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      continue // the thread ended meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
    const kind = tid === String(pid) ? 'main' : /^V8/.test(comm) ? 'v8' : /^libuv-worker/.test(comm) ? 'libuv' : 'other'
    out[kind] += seconds
  }
  return out
}

const tempDirs = new Set()

/**
 * Start `node args...` with the running Node (process.execPath: Node 24 under npm).
 * `ipc` adds a message channel; children use it to report and to notice the parent is gone.
 */
export function spawnNode (args, { ipc = false, stdout = 'inherit' } = {}) {
  return track(spawn(process.execPath, args, { stdio: ['ignore', stdout, 'inherit', ...(ipc ? ['ipc'] : [])] }))
}

/** Runs a command to completion (SIGKILL after timeoutMs); rejects with its output unless it exits 0. */
export async function run (cmd, args, timeoutMs) {
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
  let out = ''
  child.stdout.on('data', d => { out = (out + d).slice(-20000) })
  child.stderr.on('data', d => { out = (out + d).slice(-20000) })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code, signal] = await once(child, 'close')
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}):\n${out}`)
  return out
}

/**
 * Runs a command to completion and resolves with its exit code (or signal
 * name), stdout and the tail of stderr; never rejects for a failure of the
 * command. SIGKILL after `timeoutMs` or when `signal` aborts. With
 * `stdout: false` its stdout is not read at all (a progress display).
 */
export async function capture (cmd, args, { timeoutMs = 60_000, signal, stdout: keepStdout = true } = {}) {
  const child = track(spawn(cmd, args, { stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'] }))
  const stdout = []
  let stderr = ''
  child.stdout?.on('data', d => stdout.push(d))
  child.stderr.on('data', d => { stderr = (stderr + d).slice(-4000) })
  const kill = () => child.kill('SIGKILL')
  const timer = setTimeout(kill, timeoutMs)
  signal?.addEventListener('abort', kill, { once: true })
  if (signal?.aborted === true) kill()
  try {
    const [code, sig] = await once(child, 'close')
    return { code: code ?? sig, stdout: Buffer.concat(stdout).toString('utf8'), stderr }
  } catch (err) {
    return { code: err.code ?? 'error', stdout: '', stderr: err.message }
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', kill)
  }
}

/** Own a child started elsewhere: it is stopped by cleanupAll (at once, when Ctrl-C came before it). */
export function track (child) {
  if (interrupted) child.kill('SIGKILL')
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

function exited (child) {
  return child.exitCode != null || child.signalCode != null
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild (child, graceMs = 5000) {
  if (child == null || exited(child)) return
  const gone = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await gone
  clearTimeout(timer)
}

/** Resolves with the child's exit code (or signal name), waiting at most `ms`. */
export async function waitExit (child, ms) {
  if (exited(child)) return child.exitCode ?? child.signalCode
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  const [code, signal] = await once(child, 'exit')
  clearTimeout(timer)
  return code ?? signal
}

/**
 * The next IPC message of `type` from a child. Rejects if the child exits
 * first or `signal` aborts, so a crashed or hung peer cannot stall the bench.
 */
export function nextMessage (child, type, signal) {
  return new Promise((resolve, reject) => {
    const done = () => {
      child.off('message', onMessage)
      child.off('exit', onExit)
      signal?.removeEventListener('abort', onAbort)
    }
    const onMessage = msg => {
      if (msg?.type === 'error') {
        done()
        reject(new Error(msg.message))
      } else if (msg?.type === type) {
        done()
        resolve(msg)
      }
    }
    const onExit = (code, sig) => {
      done()
      reject(new Error(`child ${child.pid} exited with ${code ?? sig} before sending "${type}"`))
    }
    const onAbort = () => {
      done()
      reject(signal.reason)
    }
    if (exited(child)) {
      reject(new Error(`child ${child.pid} has already exited`))
      return
    }
    if (signal?.aborted === true) {
      reject(signal.reason)
      return
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export async function makeTempDir (prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

export async function removeTempDir (dir) {
  tempDirs.delete(dir)
  await rm(dir, { recursive: true, force: true })
}

const cleanups = new Set()

/**
 * Run `fn` in cleanupAll, after every child has stopped (network namespaces
 * go once nothing runs in them). Returns a function that runs it now, once.
 */
export function onCleanup (fn) {
  let ran
  const once = () => {
    cleanups.delete(once)
    ran ??= Promise.resolve().then(fn)
    return ran
  }
  cleanups.add(once)
  return once
}

let cleaning

// a daemon under --cpu-prof writes its profile as it exits: 31 of them on 2 cores take longer than 3 s, and a SIGKILL loses it
const STOP_GRACE_MS = process.env.BENCH_DAEMON_NODE_ARGS?.includes('--cpu-prof') === true ? 120_000 : 3000

/**
 * Stop every child still running, run the cleanups onCleanup registered, and
 * remove every temp dir. A call while one is under way (Ctrl-C during the
 * bench's own cleanup) waits for that one.
 */
export function cleanupAll () {
  cleaning ??= (async () => {
    await Promise.allSettled([...children].map(c => stopChild(c, STOP_GRACE_MS)))
    await Promise.allSettled([...cleanups].map(fn => fn()))
    await Promise.allSettled([...tempDirs].map(removeTempDir))
  })().finally(() => { cleaning = undefined })
  return cleaning
}

let interrupted = false

/** True once Ctrl-C or SIGTERM arrived: failures after that are the cleanup's doing. */
export function wasInterrupted () {
  return interrupted
}

/** On Ctrl-C or SIGTERM: clean up, then exit with 128 + signal number. */
export function cleanupOnSignals () {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
    process.on(sig, () => {
      if (interrupted) return
      interrupted = true
      process.stderr.write(`\n${sig}: stopping child processes and removing temp dirs\n`)
      cleanupAll().finally(() => process.exit(code))
    })
  }
}

/**
 * Run `fn(signal)` with a deadline: `signal` aborts after `ms` and the
 * returned promise rejects then even if `fn` ignores the signal.
 */
export async function withDeadline (ms, label, fn) {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error(`${label}: no result within ${ms / 1000} s`)), ms)
  const aborted = new Promise((resolve, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
  })
  aborted.catch(() => {})
  try {
    return await Promise.race([fn(controller.signal), aborted])
  } finally {
    clearTimeout(timer)
    controller.abort(new Error(`${label}: finished`))
  }
}

/**
 * Rejects when the child reports an error or exits with a non-zero code;
 * never resolves. Race it against what the other side of a pair reports.
 */
export function failureOf (child) {
  const failed = new Promise((resolve, reject) => {
    child.on('message', msg => { if (msg?.type === 'error') reject(new Error(msg.message)) })
    child.once('exit', (code, sig) => { if (code !== 0) reject(new Error(`child ${child.pid} exited with ${code ?? sig}`)) })
  })
  failed.catch(() => {})
  return failed
}
