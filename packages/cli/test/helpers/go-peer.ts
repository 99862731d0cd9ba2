import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ChildProcess } from 'node:child_process'
import { GO_TOOLS_CACHE } from './go-tools.js'

/** interop/go: the Go peer's module. */
export const GO_PEER_DIR = fileURLToPath(new URL('../../../../interop/go/', import.meta.url))

/** The wire contract's test vectors. */
export const VECTORS = fileURLToPath(new URL('../../../../interop/vectors/vectors.json', import.meta.url))

/**
 * How long building the Go peer may take: on a clean machine `go build`
 * downloads its modules from the Go module proxy (and, with a Go older than
 * go.mod names, the toolchain) and compiles go-libp2p, about a minute on two cores.
 */
export const GO_BUILD_TIMEOUT_MS = 8 * 60_000

/**
 * Builds interop/go into interop/go/.build/damselfly-go and returns its path.
 * Go's build cache is kept beside it (a rebuild takes seconds); modules go to
 * Go's usual module cache, checked against go.sum.
 */
export async function buildGoPeer (): Promise<string> {
  const out = join(GO_PEER_DIR, '.build', 'damselfly-go')
  try {
    await promisify(execFile)('go', ['build', '-o', out, '.'], {
      cwd: GO_PEER_DIR,
      timeout: GO_BUILD_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
      // the build cache the tests' Go tools keep outside the repo: a second run on a machine links, it does not compile
      env: { ...process.env, GOCACHE: join(GO_TOOLS_CACHE, 'go', 'build'), GOFLAGS: '-mod=readonly -buildvcs=false' }
    })
  } catch (err: any) {
    if (err.code === 'ENOENT') throw new Error('building interop/go needs Go 1.21 or later on PATH (https://go.dev/dl/)')
    throw new Error(`go build in interop/go failed${err.killed === true ? ` (killed after ${GO_BUILD_TIMEOUT_MS} ms)` : ''}: ${err.stderr ?? err.message}`)
  }
  return out
}

/** Runs the Go peer to completion. */
export async function runGoPeer (bin: string, args: string[], timeoutMs = 60_000): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(bin, args, { timeout: timeoutMs })
    return { code: 0, stdout, stderr }
  } catch (err: any) {
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message }
  }
}

/** One line the Go peer printed: `{"event": ..., "at": ms, ...}`. */
export interface GoEvent {
  event: string
  at: number
  [field: string]: any
}

/** A running Go peer and every event it has printed so far. */
export class GoPeer {
  readonly child: ChildProcess
  readonly events: GoEvent[] = []
  stderr = ''
  readonly exited: Promise<number | null>
  #listeners: Array<() => void> = []

  constructor (bin: string, args: string[]) {
    this.child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stderr!.on('data', d => { this.stderr += d })
    createInterface({ input: this.child.stdout! }).on('line', line => {
      try {
        this.events.push(JSON.parse(line))
      } catch {
        this.events.push({ event: 'unparsed', at: Date.now(), line })
      }
      for (const l of this.#listeners) l()
    })
    this.exited = new Promise(resolve => this.child.on('exit', code => {
      resolve(code)
      for (const l of this.#listeners) l()
    }))
  }

  /** The first event named `event` that `match` accepts; waits for it up to timeoutMs. */
  async next (event: string, timeoutMs = 60_000, match: (e: GoEvent) => boolean = () => true): Promise<GoEvent> {
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.find(e => e.event === event && match(e))
        const failed = this.events.find(e => e.event === 'error')
        if (found == null && failed == null && this.child.exitCode == null && this.child.signalCode == null) return
        clearTimeout(timer)
        this.#listeners = this.#listeners.filter(l => l !== check)
        if (found != null) resolve(found)
        else reject(new Error(`the Go peer ${failed != null ? `failed: ${failed.message}` : 'exited'} before "${event}"; stderr: ${this.stderr.slice(-2000)}`))
      }
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter(l => l !== check)
        reject(new Error(`no "${event}" from the Go peer within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`))
      }, timeoutMs)
      this.#listeners.push(check)
      check()
    })
  }

  /** Events named `event`. */
  all (event: string): GoEvent[] {
    return this.events.filter(e => e.event === event)
  }

  async stop (): Promise<void> {
    if (this.child.exitCode != null || this.child.signalCode != null) return
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    this.child.kill('SIGTERM')
    await this.exited
    clearTimeout(timer)
  }
}
