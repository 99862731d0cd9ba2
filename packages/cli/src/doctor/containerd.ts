import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { fail, ok, skip, warn } from './findings.js'
import { processesNamed, reachesMirror, run, urlHostPort } from './host.js'
import type { Finding } from './findings.js'
import type { HostPort } from './host.js'

/**
 * Does containerd really send pulls to the mirror? containerd reads the
 * per-registry hosts.toml files only from the directories its CRI config
 * names in `config_path`, reads that config only when it starts, refuses
 * `config_path` beside the older `registry.mirrors` tables, and from 2.1 on
 * pulls for Kubernetes through its transfer service, which takes
 * `config_path` as one directory (a list such as EKS's
 * "/etc/containerd/certs.d:/etc/docker/certs.d" then finds nothing:
 * containerd#12415, Spegel#1272). Each of these leaves a mirror that is
 * configured and never asked.
 */

export interface ContainerdCheck {
  configFile: string
  /** Where `damselfly runtime-config containerd` wrote (or would write) hosts.toml files. */
  hostsDir: string
  /** Where the mirror listens; undefined when the daemon could not be asked. */
  mirror?: HostPort
  /** Registries whose pulls must go through the mirror; empty: report those that do. */
  registries: string[]
  /** The containerd binary, for its version. */
  bin: string
}

export interface ContainerdVersion { major: number, minor: number, text: string }

/** `containerd github.com/containerd/containerd/v2 v2.1.4 ...` or `containerd containerd.io 1.7.27 ...`. */
export function parseContainerdVersion (output: string): ContainerdVersion | undefined {
  const m = /\bv?(\d+)\.(\d+)\.\d+\S*/.exec(output.split('\n')[0]?.split(' ').slice(2).join(' ') ?? '')
  return m == null ? undefined : { major: Number(m[1]), minor: Number(m[2]), text: m[0] }
}

/** CRI registry settings, wherever the config's version keeps them. */
interface RegistryConfig {
  configPath?: string
  mirrors: boolean
  useLocalImagePull?: boolean
  criDisabled: boolean
  /** Where config_path goes in this file, for the fix. */
  section: string
}

const CRI_V2 = 'io.containerd.grpc.v1.cri'
const CRI_V3_IMAGES = 'io.containerd.cri.v1.images'
/** containerd 2's value when the config sets none. */
const DEFAULT_CONFIG_PATH_V2 = '/etc/containerd/certs.d:/etc/docker/certs.d'

function table (value: unknown): Record<string, any> | undefined {
  return value != null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, any> : undefined
}

export function registryConfig (config: Record<string, any>): RegistryConfig {
  const version = typeof config.version === 'number' ? config.version : 1
  const plugins = table(config.plugins) ?? {}
  const disabled = Array.isArray(config.disabled_plugins) ? config.disabled_plugins as unknown[] : []
  // where each config version keeps the CRI image settings, and the names its plugin goes by
  const [name, quoted, names] = version >= 3
    ? [CRI_V3_IMAGES, `"${CRI_V3_IMAGES}"`, [CRI_V3_IMAGES, CRI_V2]]
    : version === 2 ? [CRI_V2, `"${CRI_V2}"`, [CRI_V2, 'cri']] : ['cri', 'cri', [CRI_V2, 'cri']]
  const cri = table(plugins[name]) ?? {}
  const registry = table(cri.registry) ?? {}
  return {
    configPath: typeof registry.config_path === 'string' ? registry.config_path : undefined,
    mirrors: table(registry.mirrors) != null && Object.keys(registry.mirrors).length > 0,
    useLocalImagePull: typeof cri.use_local_image_pull === 'boolean' ? cri.use_local_image_pull : undefined,
    criDisabled: names.some(n => disabled.includes(n)),
    section: `[plugins.${quoted}.registry]`
  }
}

/** A hosts.toml and the mirror hosts it sends pulls to. */
export interface HostsFile {
  registry: string
  path: string
  /** `[host."URL"]` entries that may pull and resolve, in order. */
  pullHosts: string[]
  /** The file's comment lines, which say who wrote it. */
  comment?: string
  error?: string
}

/** Every `<dir>/<registry>/hosts.toml` under one hosts directory. */
export async function readHostsDir (dir: string): Promise<HostsFile[]> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch {
    return []
  }
  const files: HostsFile[] = []
  for (const registry of entries.sort()) {
    const path = join(dir, registry, 'hosts.toml')
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch {
      continue
    }
    try {
      const hosts = table(table(parseToml(text))?.host) ?? {}
      const pullHosts = Object.entries(hosts)
        .filter(([, h]) => {
          const caps = table(h)?.capabilities
          // containerd gives a host every capability when the file names none
          return !Array.isArray(caps) || (caps.includes('pull') && caps.includes('resolve'))
        })
        .map(([url]) => url)
      const comment = text.split('\n').filter(l => l.trimStart().startsWith('#')).join('\n')
      files.push({ registry, path, pullHosts, comment, error: Object.keys(hosts).length === 0 ? 'it has no [host."..."] table, and containerd 1.6 rejects such a file as a whole' : undefined })
    } catch (err: any) {
      files.push({ registry, path, pullHosts: [], error: `it is not valid TOML (${String(err.message).split('\n')[0]}), and containerd ignores it` })
    }
  }
  return files
}

function mirrorUrl (mirror: HostPort | undefined): string {
  if (mirror == null) return 'http://127.0.0.1:65001'
  const host = mirror.host === '0.0.0.0' || mirror.host === '::' ? '127.0.0.1' : mirror.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${mirror.port}`
}

function runtimeConfigFix (registries: string[], dir: string, mirror: HostPort | undefined): string {
  const names = registries.length > 0 ? registries : ['_default']
  const target = mirrorUrl(mirror).slice('http://'.length)
  return `damselfly runtime-config containerd ${names.map(r => `--registry ${r}`).join(' ')} --dir ${dir}${target !== '127.0.0.1:65001' ? ` --mirror ${target}` : ''}`
}

export async function checkContainerd (opts: ContainerdCheck): Promise<Finding[]> {
  const findings: Finding[] = []
  const versionOut = await run(opts.bin, ['--version'], 10_000)
  const version = versionOut.code === 0 ? parseContainerdVersion(versionOut.stdout) : undefined
  const v2plus = version != null && version.major >= 2

  let text: string | undefined
  try {
    text = await readFile(opts.configFile, 'utf8')
  } catch (err: any) {
    if (err.code !== 'ENOENT') {
      findings.push(fail('containerd', `cannot read ${opts.configFile}: ${err.message}`, 'run damselfly doctor as root, or give --containerd-config FILE'))
      return findings
    }
  }
  let config: Record<string, any> = {}
  if (text != null) {
    try {
      config = parseToml(text) as Record<string, any>
    } catch (err: any) {
      findings.push(fail('containerd', `${opts.configFile} is not valid TOML: ${String(err.message).split('\n')[0]}`, 'fix the file; containerd will not start with it either'))
      return findings
    }
  }
  const reg = registryConfig(config)
  const where = text == null ? `containerd${version != null ? ` ${version.text}` : ''} (no ${opts.configFile}: its defaults)` : `containerd${version != null ? ` ${version.text}` : ''}, ${opts.configFile}`
  const configPathFix = `in ${opts.configFile}, set\n${reg.section}\n  config_path = "${opts.hostsDir}"\nthen restart containerd (systemctl restart containerd)`

  if (reg.criDisabled) {
    findings.push(warn('containerd', `${where} has its CRI plugin disabled: Kubernetes cannot pull through this containerd at all; only \`ctr --hosts-dir\` pulls read hosts.toml`))
  }
  let configPath = reg.configPath
  if (reg.mirrors && configPath != null && configPath !== '') {
    findings.push(fail('containerd', `${where} sets both registry.mirrors and config_path: containerd refuses that pair (1.x does not load its CRI plugin; 2.x keeps the mirrors and ignores config_path)`, `remove the registry.mirrors tables from ${opts.configFile} and restart containerd`))
    return findings
  }
  if (reg.mirrors) {
    findings.push(fail('containerd', `${where} uses the old registry.mirrors tables and no config_path: containerd never reads a hosts.toml, so the mirror is not asked`, `replace the registry.mirrors tables: ${configPathFix}`))
    return findings
  }
  if (configPath == null || configPath === '') {
    if (!v2plus) {
      findings.push(fail('containerd', `${where} sets no config_path: containerd ignores every hosts.toml, so the mirror is not asked`, configPathFix))
      return findings
    }
    configPath = DEFAULT_CONFIG_PATH_V2
  }
  const dirs = configPath.split(':').filter(d => d !== '').map(d => resolve(d))
  const transfer = version != null && (version.major > 2 || (version.major === 2 && version.minor >= 1)) && reg.useLocalImagePull !== true
  if (transfer && dirs.length > 1) {
    findings.push(fail('containerd', `${where}: config_path is a list ("${configPath}"), and containerd ${version.text} pulls for Kubernetes through its transfer service, which takes config_path as one directory: it finds no hosts.toml and never asks the mirror (containerd#12415)`,
      `in ${opts.configFile}, set config_path = "${dirs[0]}" (one directory), or use_local_image_pull = true under [plugins."${CRI_V3_IMAGES}"]; then restart containerd`))
  } else {
    findings.push(ok('containerd', `${where}: hosts.toml files are read from ${dirs.join(', ')}`))
  }

  // a config written after containerd started is not the one it runs with
  if (text != null) {
    const mtime = (await stat(opts.configFile)).mtime
    const running = (await processesNamed('containerd')).filter(p => resolve(configArg(p.args) ?? '/etc/containerd/config.toml') === resolve(opts.configFile))
    for (const p of running) {
      if (p.startedAt.getTime() + 1000 < mtime.getTime()) {
        findings.push(fail('containerd', `${opts.configFile} changed at ${mtime.toISOString()}, after containerd (pid ${p.pid}) started at ${p.startedAt.toISOString()}: containerd reads it only when it starts`, 'restart containerd (systemctl restart containerd)'))
      }
    }
  }

  findings.push(...await checkHostsFiles(opts, dirs))
  return findings
}

/** The `--config`/`-c` argument of a containerd command line. */
function configArg (args: string[]): string | undefined {
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!
    if (a === '--config' || a === '-c') return args[i + 1]
    if (a.startsWith('--config=')) return a.slice('--config='.length)
  }
  return undefined
}

async function checkHostsFiles (opts: ContainerdCheck, dirs: string[]): Promise<Finding[]> {
  const findings: Finding[] = []
  const read: HostsFile[] = []
  for (const dir of dirs) read.push(...await readHostsDir(dir))
  for (const f of read) {
    if (f.error != null) findings.push(fail('hosts.toml', `${f.path}: ${f.error}`, `rewrite it: ${runtimeConfigFix([f.registry], join(f.path, '..', '..'), opts.mirror)} --force`))
  }
  const toMirror = (f: HostsFile): boolean => opts.mirror != null && f.pullHosts.some(h => {
    const target = urlHostPort(h)
    return target != null && reachesMirror(target, opts.mirror!)
  })
  // containerd uses the first directory holding a registry's file, and _default for registries with none
  const effective = new Map<string, HostsFile>()
  for (const f of read) if (!effective.has(f.registry) && f.error == null) effective.set(f.registry, f)
  const viaMirror = [...effective.values()].filter(toMirror)

  /** Files already reported as pointing at another address. */
  const misdirected = new Set<string>()
  if (opts.mirror != null) {
    for (const f of effective.values()) {
      if (toMirror(f) || f.pullHosts.length === 0) continue
      const first = f.pullHosts[0]!
      const looksLikeOurs = /damselfly/i.test(f.path) || /damselfly/i.test(f.comment ?? '') || urlHostPort(first)?.port === opts.mirror.port
      if (looksLikeOurs) {
        misdirected.add(f.path)
        findings.push(fail('hosts.toml', `${f.path} sends ${f.registry} pulls to ${first}, but the mirror listens at ${mirrorUrl(opts.mirror)}`, `${runtimeConfigFix([f.registry], join(f.path, '..', '..'), opts.mirror)} --force`))
      }
    }
  }

  const wanted = opts.registries.map(r => r.toLowerCase())
  if (wanted.length > 0) {
    for (const r of wanted) {
      const file = effective.get(r) ?? (r !== '_default' ? effective.get('_default') : undefined)
      if (file != null && toMirror(file)) {
        findings.push(ok('hosts.toml', `${r} pulls go to the mirror first (${file.path})`))
      } else if (file != null) {
        if (misdirected.has(file.path)) continue
        findings.push(fail('hosts.toml', `${r} pulls follow ${file.path}, which does not name the mirror (${mirrorUrl(opts.mirror)})`, `${runtimeConfigFix([r], dirs[0]!, opts.mirror)} --force`))
      } else {
        findings.push(fail('hosts.toml', `no hosts.toml for ${r} (nor _default) in ${dirs.join(', ')}: containerd pulls it straight from the registry`, runtimeConfigFix([r], dirs[0]!, opts.mirror)))
      }
    }
  } else if (viaMirror.length > 0) {
    findings.push(ok('hosts.toml', `pulls from ${viaMirror.map(f => f.registry === '_default' ? '_default (every registry without its own file)' : f.registry).join(', ')} go to the mirror first`))
  } else if (opts.mirror != null) {
    findings.push(fail('hosts.toml', `no hosts.toml in ${dirs.join(', ')} sends pulls to the mirror (${mirrorUrl(opts.mirror)})`, runtimeConfigFix([], dirs[0]!, opts.mirror)))
  } else {
    findings.push(skip('hosts.toml', 'the mirror\'s address is unknown (the daemon did not answer): give --mirror HOST:PORT to check the hosts.toml files'))
  }

  // written where containerd does not look
  const resolvedHostsDir = resolve(opts.hostsDir)
  if (!dirs.includes(resolvedHostsDir)) {
    const stray = (await readHostsDir(resolvedHostsDir)).filter(toMirror)
    if (stray.length > 0) {
      findings.push(fail('hosts.toml', `${stray.map(f => f.path).join(', ')} name${stray.length === 1 ? 's' : ''} the mirror, but containerd reads hosts.toml only from ${dirs.join(', ')} (config_path)`, `set config_path = "${resolvedHostsDir}" in ${opts.configFile} and restart containerd, or write the files there: ${runtimeConfigFix(stray.map(f => f.registry), dirs[0]!, opts.mirror)}`))
    }
  }
  return findings
}
