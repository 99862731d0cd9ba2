import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs a command with this Node first on PATH (npm and npx then run on it)
 * and npm offline: the packages come from npm's cache, as the repository's
 * own npm ci left it, never from a registry.
 */
export async function run (command: string, args: string[], cwd: string, path: string[] = []): Promise<Run> {
  const env = { ...process.env, PATH: [...path, dirname(process.execPath), process.env.PATH].join(delimiter), npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
  return new Promise(resolve => {
    execFile(command, args, { cwd, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

/** Temporary directories, each made on asking and all removed by `removeAll` (an afterAll). */
export class TempDirs {
  readonly #dirs: string[] = []

  async make (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'damselfly-install-'))
    this.#dirs.push(dir)
    return dir
  }

  async removeAll (): Promise<void> {
    for (const dir of this.#dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  }
}
