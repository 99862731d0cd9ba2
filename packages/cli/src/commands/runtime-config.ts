import { isIP } from 'node:net'
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { isRegistryHost, registryEndpoint } from '@damselfly/registry'
import { parseFlags, parseHostPort, UsageError } from '../args.js'
import { hostsToml } from '../containerd.js'

const RUNTIME_CONFIG_HELP = `Usage: damselfly runtime-config containerd|crio|docker|nydus [options]

Points a container runtime at this node's registry mirror: writes the
runtime's mirror configuration, or prints it with --print.

  --mirror HOST:PORT   the daemon's registry mirror (default 127.0.0.1:65001)
  --registry HOST      a registry whose pulls go through the mirror, repeatable
                       (containerd and crio: at least one; docker: docker.io only; nydus: none);
                       containerd also takes _default: every registry without its own hosts.toml
  --dir DIR            containerd's hosts directory (default /etc/containerd/certs.d)
  --file FILE          crio: the drop-in (default /etc/containers/registries.conf.d/damselfly.conf)
                       docker: daemon.json (default /etc/docker/daemon.json)
                       nydus: nydusd's config (default /etc/nydus/nydusd-config.fusedev.json)
  --force              replace a hosts.toml or crio file that says something else
  --print              write the configuration to stdout, touch no file

containerd  <dir>/<registry>/hosts.toml: the mirror first, the registry itself as fallback
crio        [[registry]] blocks with the mirror as an insecure (plain HTTP) [[registry.mirror]]
docker      adds http://HOST:PORT to "registry-mirrors", keeping every other key
nydus       sets the "proxy" of nydusd's registry backend to http://HOST:PORT, keeping every other key

CRI-O and Docker send no ?ns=: the daemon's --default-registry (default docker.io)
is the upstream of all their pulls through the mirror.
`

const RUNTIMES = ['containerd', 'crio', 'docker', 'nydus'] as const
type Runtime = typeof RUNTIMES[number]

const DEFAULT_MIRROR = '127.0.0.1:65001'
const DEFAULT_CONTAINERD_DIR = '/etc/containerd/certs.d'
const DEFAULT_CRIO_FILE = '/etc/containers/registries.conf.d/damselfly.conf'
const DEFAULT_DOCKER_FILE = '/etc/docker/daemon.json'
/** The config nydus-snapshotter starts each fusedev nydusd with. */
const DEFAULT_NYDUS_FILE = '/etc/nydus/nydusd-config.fusedev.json'
/** containerd's host namespace for registries that have no directory of their own. */
const CONTAINERD_FALLBACK = '_default'
/** Where a registry's API really is, when that is not https://<name> (as containerd resolves it). */

/** A file to write: its new content, and what is there now (undefined: nothing). */
interface PlannedFile {
  path: string
  content: string
  existing?: { text: string, mode: number }
}

/** `--mirror` as `host:port` (`[v6]:port`); refuses what a runtime cannot connect to. */
function mirrorAddress (value: string): string {
  const { host, port } = parseHostPort(value, '--mirror')
  if (port === 0) throw new UsageError(`--mirror port must be 1..65535, got ${JSON.stringify(value)}`)
  if (host === '0.0.0.0' || host === '::') throw new UsageError(`--mirror ${JSON.stringify(value)} is a listen address; give the one the runtime connects to, e.g. 127.0.0.1:${port}`)
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

function registryNames (values: string[] | undefined, runtime: Runtime): string[] {
  const names: string[] = []
  for (const value of values ?? []) {
    const name = value.toLowerCase()
    if (name === CONTAINERD_FALLBACK) {
      if (runtime !== 'containerd') throw new UsageError(`--registry ${CONTAINERD_FALLBACK} is containerd's fallback namespace; ${runtime} takes registry hosts`)
    } else if (!isRegistryHost(name)) {
      throw new UsageError(`--registry ${JSON.stringify(value)} is not a registry host (HOST or HOST:PORT, no scheme or path)`)
    }
    if (!names.includes(name)) names.push(name)
  }
  return names
}

async function readExisting (path: string): Promise<PlannedFile['existing']> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { text, mode: info.mode & 0o7777 }
  } catch (err: any) {
    if (err.code === 'ENOENT') return undefined
    throw new Error(`cannot read ${path}: ${err.message}`)
  }
}

function registryHostsToml (registry: string, mirror: string): string {
  const fallback = registry === CONTAINERD_FALLBACK
  return hostsToml(mirror, {
    comment: `Written by damselfly runtime-config: pulls go through the Damselfly mirror first, then to ${fallback ? "the image's own registry" : 'server'}.`,
    server: fallback ? undefined : registryEndpoint(registry)
  })
}

function crioDropIn (registries: string[], mirror: string): string {
  const blocks = registries.map(r => [
    '[[registry]]',
    `location = "${r}"`,
    '',
    '[[registry.mirror]]',
    `location = "${mirror}"`,
    'insecure = true',
    ''
  ].join('\n'))
  return ['# Written by damselfly runtime-config: pulls go through the Damselfly mirror first, then to the registry.', '', blocks.join('\n')].join('\n')
}

function isJsonObject (value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value)
}

/** The JSON object a config file holds; refuses anything else, so nothing is written over it. */
function parseJsonObject (path: string, text: string): Record<string, unknown> {
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (err: any) {
    throw new Error(`${path} is not valid JSON (${err.message}); fix it first, nothing was written`)
  }
  if (!isJsonObject(config)) throw new Error(`${path} is not a JSON object; fix it first, nothing was written`)
  return config
}

/** daemon.json with `http://<mirror>` in registry-mirrors; undefined when it is there already. */
function dockerConfig (path: string, existing: string | undefined, mirrorUrl: string): string | undefined {
  // dockerd itself accepts an empty daemon.json
  const settings = existing != null && existing.trim() !== '' ? parseJsonObject(path, existing) : {}
  const mirrors = settings['registry-mirrors'] ?? []
  if (!Array.isArray(mirrors) || mirrors.some(m => typeof m !== 'string')) throw new Error(`${path}: "registry-mirrors" is not a list of URLs; fix it first, nothing was written`)
  const same = (url: string): boolean => url.trim().replace(/\/+$/, '').toLowerCase() === mirrorUrl.toLowerCase()
  if (mirrors.some(same)) return undefined
  // mirrors are tried in order; the Damselfly mirror goes first, since it falls back upstream itself
  settings['registry-mirrors'] = [mirrorUrl, ...mirrors]
  return JSON.stringify(settings, null, 2) + '\n'
}

/** nydusd's proxy settings for the registry backend (ProxyConfig in nydus's api/src/config.rs). */
function nydusProxy (mirror: string): Record<string, unknown> {
  return {
    url: `http://${mirror}`,
    // the mirror answers GET /v2/ with 200, which is all nydusd's health check asks
    ping_url: `http://${mirror}/v2/`,
    // while the mirror is down, or answers 5xx, nydusd reads from the registry itself rather than failing reads
    fallback: true,
    check_interval: 5,
    // without it nydusd tunnels https:// registry URLs with CONNECT, which the mirror cannot read;
    // with it the mirror gets absolute-form http:// requests and still reaches the registry over https itself
    use_http: true
  }
}

/** The object at `keys` under `parent`, created where missing; refuses a key that holds something else. */
function jsonObjectAt (path: string, parent: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  let current = parent
  for (const [i, key] of keys.entries()) {
    const value = current[key] ?? {}
    if (!isJsonObject(value)) throw new Error(`${path}: "${keys.slice(0, i + 1).join('.')}" is not a JSON object; fix it first, nothing was written`)
    current[key] = value
    current = value
  }
  return current
}

/**
 * nydusd's config with the mirror as the registry backend's proxy, every other key kept;
 * undefined when it is there already. Without a config (or with an empty one) it is the
 * v1 config nydus-snapshotter ships: the snapshotter fills in each image's registry host,
 * repository, credentials and cache directory when it starts nydusd.
 */
function nydusConfig (path: string, existing: string | undefined, mirror: string): string | undefined {
  const proxy = nydusProxy(mirror)
  if (existing == null || existing.trim() === '') {
    const config = {
      device: {
        backend: { type: 'registry', config: { timeout: 5, connect_timeout: 5, retry_limit: 2, proxy } },
        cache: { type: 'blobcache' }
      },
      mode: 'direct',
      digest_validate: false,
      iostats_files: false,
      enable_xattr: true
    }
    return JSON.stringify(config, null, 2) + '\n'
  }
  const settings = parseJsonObject(path, existing)
  // nydusd reads a file with "version": 2 as the v2 format and anything else as v1, the format nydus-snapshotter ships
  const v2 = settings.version === 2
  const backendKeys = v2 ? ['backend'] : ['device', 'backend']
  const backend = jsonObjectAt(path, settings, backendKeys)
  let changed = false
  if (backend.type == null) {
    backend.type = 'registry'
    changed = true
  } else if (backend.type !== 'registry') {
    throw new Error(`${path}: "${backendKeys.join('.')}.type" is ${JSON.stringify(backend.type)}, and nydusd takes a proxy for the "registry" backend only; use a registry backend to pull through the mirror (nothing was written)`)
  }
  const registryKeys = [...backendKeys, v2 ? 'registry' : 'config']
  const registry = jsonObjectAt(path, settings, registryKeys)
  const current = registry.proxy ?? {}
  if (!isJsonObject(current)) throw new Error(`${path}: "${registryKeys.join('.')}.proxy" is not a JSON object; fix it first, nothing was written`)
  if (!changed && Object.entries(proxy).every(([key, value]) => current[key] === value)) return undefined
  // other proxy keys (check_pause_elapsed, say) stay; the ones the mirror needs are overridden
  registry.proxy = { ...current, ...proxy }
  return JSON.stringify(settings, null, 2) + '\n'
}

/** Writes next to the target, then renames over it: readers see the old file or the new one, never half. */
async function writeAtomically (path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    const file = await open(tmp, 'w')
    try {
      await file.writeFile(content)
      await file.sync()
    } finally {
      await file.close()
    }
    await chmod(tmp, mode)
    await rename(tmp, path)
  } catch (err: any) {
    await rm(tmp, { force: true })
    throw new Error(`cannot write ${path}: ${err.message}`)
  }
}

/** Refuses, in one line naming every such file, to replace files that say something else. */
function checkConflicts (files: PlannedFile[], force: boolean): void {
  const conflicts = files.filter(f => f.existing != null && f.existing.text !== f.content).map(f => f.path)
  if (conflicts.length > 0 && !force) {
    throw new Error(`${conflicts.join(', ')} ${conflicts.length === 1 ? 'exists and says' : 'exist and say'} something else; see the new content with --print, then rerun with --force to replace it (nothing was written)`)
  }
}

function usageFor (runtime: Runtime, values: { registry?: string[], dir?: string, file?: string, force?: boolean }): void {
  if (values.registry != null && runtime === 'nydus') throw new UsageError('--registry does not apply to nydus: its proxy carries the pulls of every registry; leave --registry out')
  if (values.dir != null && runtime !== 'containerd') throw new UsageError(`--dir is for containerd; ${runtime} takes --file`)
  if (values.file != null && runtime === 'containerd') throw new UsageError('--file is for crio, docker and nydus; containerd takes --dir')
  if (values.force === true && runtime === 'docker') throw new UsageError('--force does not apply to docker: daemon.json is merged, never replaced')
  if (values.force === true && runtime === 'nydus') throw new UsageError("--force does not apply to nydus: nydusd's config is merged, never replaced")
}

export async function runtimeConfigCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('runtime-config', argv, {
    mirror: { type: 'string' },
    registry: { type: 'string', multiple: true },
    dir: { type: 'string' },
    file: { type: 'string' },
    force: { type: 'boolean' },
    print: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  }, true)
  if (values.help === true) {
    process.stdout.write(RUNTIME_CONFIG_HELP)
    return 0
  }
  const [name, ...extra] = positionals
  if (name == null) throw new UsageError(`name the runtime: ${RUNTIMES.join(', ')}`)
  if (!(RUNTIMES as readonly string[]).includes(name)) throw new UsageError(`unknown runtime ${JSON.stringify(name)}; expected one of ${RUNTIMES.join(', ')}`)
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  const runtime = name as Runtime
  usageFor(runtime, values)
  const mirror = mirrorAddress(values.mirror ?? DEFAULT_MIRROR)
  const registries = registryNames(values.registry, runtime)
  const print = values.print === true
  // notes go to stderr, so --print output can be redirected into a file as it is
  const note = (line: string): void => { process.stderr.write(`${line}\n`) }
  const done = print ? note : (line: string): void => { process.stdout.write(`${line}\n`) }

  if (runtime === 'docker') {
    const other = registries.find(r => r !== 'docker.io')
    if (other != null) throw new UsageError(`docker uses registry mirrors for docker.io only, not ${other}; use containerd or crio to mirror other registries`)
    const path = resolve(values.file ?? DEFAULT_DOCKER_FILE)
    const mirrorUrl = `http://${mirror}`
    const existing = await readExisting(path)
    const content = dockerConfig(path, existing?.text, mirrorUrl)
    if (print) {
      process.stdout.write(content ?? existing?.text ?? '')
    } else if (content == null) {
      done(`unchanged ${path}: "registry-mirrors" already has ${mirrorUrl}`)
    } else {
      await writeAtomically(path, content, existing?.mode ?? 0o644)
      done(`wrote ${path}: "registry-mirrors" now starts with ${mirrorUrl}`)
    }
    note('note: Docker sends no ?ns=, so the daemon\'s --default-registry must be docker.io (its default)')
    done('next: restart dockerd (systemctl restart docker)')
    return 0
  }

  if (runtime === 'nydus') {
    const path = resolve(values.file ?? DEFAULT_NYDUS_FILE)
    const proxyUrl = `http://${mirror}`
    const existing = await readExisting(path)
    const content = nydusConfig(path, existing?.text, mirror)
    if (print) {
      process.stdout.write(content ?? existing?.text ?? '')
    } else if (content == null) {
      done(`unchanged ${path}: the registry backend's proxy is already ${proxyUrl}`)
    } else {
      await writeAtomically(path, content, existing?.mode ?? 0o644)
      done(`wrote ${path}: the registry backend's proxy is now ${proxyUrl}`)
    }
    note('note: use_http only changes what nydusd sends to the mirror; the daemon still reaches each registry over https, so list a registry with the daemon\'s --insecure-registry only when it really speaks plain HTTP')
    done('next: restart nydus-snapshotter (systemctl restart nydus-snapshotter); running nydusd instances keep their old config until their images are mounted again')
    return 0
  }

  if (registries.length === 0) throw new UsageError(`${runtime} needs at least one --registry HOST (e.g. --registry docker.io)`)
  const dir = resolve(values.dir ?? DEFAULT_CONTAINERD_DIR)
  let files: PlannedFile[]
  if (runtime === 'containerd') {
    files = await Promise.all(registries.map(async r => {
      const path = join(dir, r, 'hosts.toml')
      return { path, content: registryHostsToml(r, mirror), existing: await readExisting(path) }
    }))
  } else {
    const path = resolve(values.file ?? DEFAULT_CRIO_FILE)
    files = [{ path, content: crioDropIn(registries, mirror), existing: await readExisting(path) }]
  }

  if (print) {
    const single = files.length === 1 && runtime === 'crio'
    process.stdout.write(files.map(f => single ? f.content : `# ${f.path}\n${f.content}`).join('\n'))
  } else {
    checkConflicts(files, values.force === true)
    for (const f of files) {
      if (f.existing?.text === f.content) {
        done(`unchanged ${f.path}`)
      } else {
        await writeAtomically(f.path, f.content, f.existing?.mode ?? 0o644)
        done(`wrote ${f.path}`)
      }
    }
  }
  if (runtime === 'containerd') {
    done(`next: containerd reads these only with config_path = "${dir}" under [plugins."io.containerd.grpc.v1.cri".registry] in /etc/containerd/config.toml ([plugins."io.containerd.cri.v1.images".registry] in 2.x); set it if it is not, then restart containerd once (later hosts.toml changes need no restart)`)
  } else {
    if (registries.length === 1) {
      note(`note: CRI-O sends no ?ns=, so the mirror sends its pulls to the daemon's --default-registry: that must be ${registries[0]!}${registries[0] === 'docker.io' ? ' (its default)' : ''}`)
    } else {
      note(`warning: CRI-O sends no ?ns=, so one mirror port serves one registry: of ${registries.join(', ')} only the daemon's --default-registry (default docker.io) is served correctly; pulls from the others are asked of that registry instead, and fail or get a same-named image from it`)
    }
    done('next: restart CRI-O (systemctl restart crio)')
  }
  return 0
}
