import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { daemonStarted } from '../../src/daemon-process.js'
import { runCommand, trackChild } from './registry.js'
import type { CommandResult } from './registry.js'
import type { DaemonProcess } from '../../src/daemon-process.js'

export const PODMAN_BIN = 'podman'
/** deploy/image/build.mjs, which builds the daemon's image. */
export const IMAGE_BUILD_SCRIPT = fileURLToPath(new URL('../../../../deploy/image/build.mjs', import.meta.url))

/** Runs `podman ARGS` to completion. */
export async function podman (args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(PODMAN_BIN, args, timeoutMs)
}

/** The hard limit of `name` (as /proc/self/limits words it) of this process. */
async function hardLimit (name: string): Promise<number> {
  const line = (await readFile('/proc/self/limits', 'utf8')).split('\n').find(l => l.startsWith(name))
  const hard = line?.slice(name.length).trim().split(/\s+/)[1]
  return hard == null || hard === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(hard)
}

/**
 * `--ulimit` flags this machine lets runc apply. Rootful podman asks for
 * nofile 1048576 by default, and raising a hard limit needs CAP_SYS_RESOURCE,
 * which root lacks in this VM's bounding set: runc then fails with "error
 * setting rlimit type 7: operation not permitted". nproc fails the same way
 * above kernel.pid_max.
 */
export async function ulimitArgs (): Promise<string[]> {
  const nofile = Math.min(await hardLimit('Max open files'), 1_048_576)
  const pidMax = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8')).trim())
  const nproc = Math.min(await hardLimit('Max processes'), pidMax)
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`]
}

/** A daemon in a container: `output` is everything podman run printed, the daemon's and podman's own. */
export interface Container extends DaemonProcess {
  name: string
}

export interface RunContainerOptions {
  /** DAMSELFLY_* settings and any other variables. */
  env?: Record<string, string>
  /** podman run flags before the image. */
  podmanArgs?: string[]
  /** Arguments after the image (the entrypoint is the damselfly command). @default ['daemon'] */
  args?: string[]
  /** @default 60000 */
  timeoutMs?: number
}

/**
 * `podman run --rm --network host IMAGE daemon` in the foreground (the test
 * holds podman's process), resolved once the daemon inside printed its peer
 * id, addresses and control API, as a plain daemon does.
 */
export async function runContainer (image: string, opts: RunContainerOptions = {}): Promise<Container> {
  const name = `damselfly-e2e-${randomBytes(4).toString('hex')}`
  const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`])
  const child = spawn(PODMAN_BIN, ['run', '--rm', '--name', name, '--network', 'host', ...await ulimitArgs(), ...env, ...(opts.podmanArgs ?? []), image, ...(opts.args ?? ['daemon'])],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  trackChild(child)
  try {
    return { name, ...await daemonStarted(child, { what: `container ${name}`, timeoutMs: opts.timeoutMs ?? 60_000 }) }
  } catch (err) {
    await removeContainer(name)
    throw err
  }
}

/** `podman stop` (SIGTERM, SIGKILL after 5 s), then `podman rm -f` should --rm not have removed it. */
export async function removeContainer (name: string): Promise<void> {
  await podman(['stop', '--ignore', '--time', '5', name], 30_000)
  await podman(['rm', '--force', '--ignore', name], 30_000)
}
