import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { fail, ok, skip, warn } from './findings.js'
import { reachesMirror, run, urlHostPort } from './host.js'
import type { Finding } from './findings.js'
import type { HostPort } from './host.js'

/**
 * CRI-O (and podman: containers/image) read registries.conf and its drop-ins
 * at every pull; Docker reads daemon.json only when dockerd starts, and uses
 * registry-mirrors for Docker Hub alone.
 */

export interface CrioCheck {
  /** registries.conf; its drop-ins are read from `<file>.d/`. */
  file: string
  mirror?: HostPort
  /** Registries that must go through the mirror; empty: report those that do. */
  registries: string[]
}

interface CrioRegistry { location: string, mirrors: Array<{ location: string, insecure: boolean, digestOnly: boolean }>, file: string }

async function readCrioFiles (file: string): Promise<{ registries: CrioRegistry[], errors: Finding[] }> {
  const files = [file]
  try {
    files.push(...(await readdir(`${file}.d`)).filter(f => f.endsWith('.conf')).sort().map(f => join(`${file}.d`, f)))
  } catch {
    // no drop-in directory: the main file alone
  }
  const registries: CrioRegistry[] = []
  const errors: Finding[] = []
  for (const path of files) {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err: any) {
      if (err.code !== 'ENOENT') errors.push(fail('crio', `cannot read ${path}: ${err.message}`))
      continue
    }
    let parsed: Record<string, any>
    try {
      parsed = parseToml(text) as Record<string, any>
    } catch (err: any) {
      errors.push(fail('crio', `${path} is not valid TOML: ${String(err.message).split('\n')[0]}`, 'fix it: CRI-O and podman refuse to pull while it is broken'))
      continue
    }
    for (const r of Array.isArray(parsed.registry) ? parsed.registry : []) {
      const location = String(r.location ?? r.prefix ?? '')
      const mirrors = (Array.isArray(r.mirror) ? r.mirror : []).map((m: any) => ({
        location: String(m.location ?? ''),
        insecure: m.insecure === true,
        digestOnly: m['pull-from-mirror'] === 'digest-only'
      }))
      // a later file's entry for the same location replaces an earlier one
      const at = registries.findIndex(e => e.location === location)
      if (at >= 0) registries.splice(at, 1)
      registries.push({ location, mirrors, file: path })
    }
  }
  return { registries, errors }
}

export async function checkCrio (opts: CrioCheck): Promise<Finding[]> {
  const { registries, errors } = await readCrioFiles(opts.file)
  const findings = [...errors]
  if (opts.mirror == null) return [...findings, skip('crio', 'the mirror\'s address is unknown (the daemon did not answer): give --mirror HOST:PORT')]
  const mirror = opts.mirror
  const ours = (r: CrioRegistry): CrioRegistry['mirrors'][number] | undefined => r.mirrors.find(m => {
    const target = urlHostPort(m.location)
    return target != null && reachesMirror(target, mirror)
  })
  const fix = (names: string[]): string => `damselfly runtime-config crio ${names.map(n => `--registry ${n}`).join(' ')}`
  const check = (r: CrioRegistry): void => {
    const m = ours(r)!
    if (!m.insecure) findings.push(fail('crio', `${r.file}: the mirror for ${r.location} lacks insecure = true, and the mirror speaks plain HTTP: every pull through it fails over to the registry`, `${fix([r.location])} --force`))
    else if (m.digestOnly) findings.push(warn('crio', `${r.file}: pull-from-mirror = "digest-only" for ${r.location}: pulls by tag skip the mirror`, 'remove pull-from-mirror, or pull by digest'))
    else findings.push(ok('crio', `${r.location} pulls go to the mirror first (${r.file})`))
  }
  if (opts.registries.length > 0) {
    for (const name of opts.registries) {
      const r = registries.find(e => e.location === name)
      if (r != null && ours(r) != null) check(r)
      else findings.push(fail('crio', `no [[registry]] for ${name} in ${opts.file} or ${opts.file}.d/ lists the mirror: CRI-O pulls it straight from the registry`, fix([name])))
    }
  } else {
    const through = registries.filter(r => ours(r) != null)
    for (const r of through) check(r)
    if (through.length === 0) findings.push(fail('crio', `no [[registry]] in ${opts.file} or ${opts.file}.d/ lists the mirror (${mirror.host}:${mirror.port})`, fix(['docker.io'])))
  }
  return findings
}

export interface DockerCheck {
  file: string
  mirror?: HostPort
  /** The docker CLI, to ask the running dockerd; undefined: not installed. */
  bin?: string
}

export async function checkDocker (opts: DockerCheck): Promise<Finding[]> {
  if (opts.mirror == null) return [skip('docker', 'the mirror\'s address is unknown (the daemon did not answer): give --mirror HOST:PORT')]
  const mirror = opts.mirror
  const isOurs = (url: unknown): boolean => {
    const target = typeof url === 'string' ? urlHostPort(url) : undefined
    return target != null && reachesMirror(target, mirror)
  }
  const fix = 'damselfly runtime-config docker, then restart dockerd (systemctl restart docker)'
  let settings: Record<string, unknown>
  try {
    const text = await readFile(opts.file, 'utf8')
    settings = text.trim() === '' ? {} : JSON.parse(text)
  } catch (err: any) {
    if (err.code === 'ENOENT') return [fail('docker', `${opts.file} does not exist: Docker pulls go straight to the registry`, fix)]
    return [fail('docker', `cannot read ${opts.file}: ${err.message}`, 'fix the file; dockerd will not start with it either')]
  }
  const mirrors = Array.isArray(settings['registry-mirrors']) ? settings['registry-mirrors'] : []
  if (!mirrors.some(isOurs)) return [fail('docker', `${opts.file} has no registry-mirrors entry for the mirror (${mirror.host}:${mirror.port})`, fix)]
  const findings = [ok('docker', `${opts.file} lists the mirror in registry-mirrors (Docker uses mirrors for Docker Hub only)`)]
  if (opts.bin != null) {
    const info = await run(opts.bin, ['info', '--format', '{{json .RegistryConfig.Mirrors}}'], 15_000)
    if (info.code === 0) {
      let running: unknown
      try {
        running = JSON.parse(info.stdout)
      } catch {
        running = undefined
      }
      if (!Array.isArray(running) || !running.some(isOurs)) findings.push(fail('docker', `the running dockerd does not use the mirror (its mirrors: ${info.stdout.trim()}): it read ${opts.file} before the mirror was added`, 'restart dockerd (systemctl restart docker)'))
    }
  }
  return findings
}
