import { access } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { runCommand } from './registry.js'
import type { CommandResult } from './registry.js'

/**
 * Tools the tests build from the Go module proxy (helm, crictl), kept
 * across runs outside the repo with Go's module and build caches: a first
 * build takes a minute or a few, a cached one nothing. Not a DAMSELFLY_*
 * variable: the daemons started by tests would read it as a setting.
 */
export const GO_TOOLS_CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'damselfly')
const GO_ENV = { GOCACHE: join(GO_TOOLS_CACHE, 'go', 'build'), GOMODCACHE: join(GO_TOOLS_CACHE, 'go', 'mod'), GOTOOLCHAIN: 'local' }

export async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

/** `go ARGS` with the cache's environment (and `-C cwd`: runCommand has no cwd). */
export async function go (args: string[], env: Record<string, string>, cwd?: string): Promise<CommandResult> {
  return runCommand('go', [...(cwd != null ? ['-C', cwd] : []), ...args], 15 * 60_000, { ...GO_ENV, ...env })
}

/** `go install PKG@VERSION` once into `<cache>/<name>-<version>/`; returns the binary's path. */
export async function goTool (name: string, pkg: string, version: string): Promise<string> {
  const dir = join(GO_TOOLS_CACHE, `${name}-${version}`)
  const bin = join(dir, name)
  if (await exists(bin)) return bin
  const started = Date.now()
  const r = await go(['install', `${pkg}@${version}`], { GOBIN: dir, GOFLAGS: '-mod=mod' })
  if (r.code !== 0) throw new Error(`go install ${pkg}@${version} failed:\n${r.stderr}`)
  console.log(`built ${name} ${version} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  return bin
}
