/**
 * The daemon's settings: a YAML file, then `DAMSELFLY_*` environment
 * variables, then flags, each overriding the one before. Everything is
 * checked before the daemon starts, and a mistake is one line that names the
 * key and where it was set, so a typo never passes silently.
 */
import { readFile } from 'node:fs/promises'
import { CONNECTION_ENCRYPTIONS, DEFAULT_ENCRYPTION, SWARM_DEFAULTS } from '@damselfly/daemon'
import { MAX_PIECE_SIZE, parseSwarmKey } from '@damselfly/protocol'
import { credentialsFromDockerConfig, isRegistryHost, parseOriginPattern } from '@damselfly/registry'
import { multiaddr } from '@multiformats/multiaddr'
import { isAlias, isMap, isScalar, LineCounter, parseDocument, stringify } from 'yaml'
import { parseBytes, parseHostPort, parseInteger, UsageError } from './args.js'
import type { ConnectionEncryption, DaemonInit, ListenAddress } from '@damselfly/daemon'
import type { RegistryHostConfig } from '@damselfly/registry'
import type { ParseArgsOptionsConfig } from 'node:util'

/** The effective settings, in the shape of the config file, with defaults filled in. */
export interface DaemonConfig {
  /** Where blobs and the node key live. */
  dataDir: string
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Multiaddrs to join through, /p2p/<peer id> optional. */
  bootstrap: string[]
  /** Connection encryptions offered to peers, most preferred first. */
  encryption: ConnectionEncryption[]
  /** Path of the private swarm's key file; null for an open swarm. */
  swarmKey: string | null
  /** Peer ids allowed to connect; empty for any. */
  allowPeers: string[]
  seed: boolean
  /** Peer ids whose manifests are accepted; empty accepts any signer. */
  trustedSeeds: string[]
  /** Origin patterns this node may read besides its registries. */
  allowOrigins: string[]
  originFallback: boolean
  /** Milliseconds. */
  seedTimeout: number
  /** Milliseconds. */
  originTimeout: number
  /** Bytes per second; 0 for no limit. */
  uploadRate: number
  /** Bytes per second; 0 for no limit. */
  downloadRate: number
  uploadSlots: number
  maxParents: number
  /** Bytes; null for the protocol's rule. */
  pieceSize: number | null
  superSeedCopies: number
  api: ListenAddress
  /** Path of a file holding the control API's bearer token; null for none. */
  apiTokenFile: string | null
  /** null when the mirror is off. */
  mirror: ListenAddress | null
  registry: {
    /** Upstream for mirror requests without ?ns=. */
    default: string
    /** Registries reached over plain HTTP. */
    insecure: string[]
    /** Path of a PEM file of extra CAs. */
    ca: string | null
    /** Path of a Docker config.json with credentials. */
    dockerConfig: string | null
    hosts: Record<string, RegistryHostConfig>
  }
  storage: {
    /** Bytes; 0 for no quota. */
    quota: number
    highWatermark: number
    lowWatermark: number
    /** Fraction of the file system above which no new blob is admitted; 1 for none. */
    diskGuard: number
  }
}

export interface LoadedConfig {
  config: DaemonConfig
  /** The same settings as `startDaemon` takes them, with the CA and credentials files read. */
  init: DaemonInit
}

/** Names the config file when --config does not. */
export const CONFIG_ENV = 'DAMSELFLY_CONFIG'
/** DAMSELFLY_* variables that are not settings. */
const OTHER_ENV = new Set([CONFIG_ENV, 'DAMSELFLY_TEST'])

/** The daemon's flags that are settings (parseArgs options). */
export const CONFIG_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  listen: { type: 'string', multiple: true },
  bootstrap: { type: 'string', multiple: true },
  encryption: { type: 'string', multiple: true },
  'swarm-key': { type: 'string' },
  'allow-peer': { type: 'string', multiple: true },
  seed: { type: 'boolean' },
  'trust-seed': { type: 'string', multiple: true },
  'allow-origin': { type: 'string', multiple: true },
  'no-origin-fallback': { type: 'boolean' },
  'seed-timeout': { type: 'string' },
  'origin-timeout': { type: 'string' },
  'upload-rate': { type: 'string' },
  'download-rate': { type: 'string' },
  'upload-slots': { type: 'string' },
  'max-parents': { type: 'string' },
  api: { type: 'string' },
  'api-token-file': { type: 'string' },
  mirror: { type: 'string' },
  'no-mirror': { type: 'boolean' },
  'default-registry': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  'registry-ca': { type: 'string' },
  'docker-config': { type: 'string' },
  'piece-size': { type: 'string' },
  'super-seed-copies': { type: 'string' },
  quota: { type: 'string' }
} as const satisfies ParseArgsOptionsConfig

type Options = typeof CONFIG_OPTIONS
/** Flag values as parseArgs returns them for CONFIG_OPTIONS. */
export type ConfigFlags = {
  [F in keyof Options]?: Options[F] extends { multiple: true } ? string[] : Options[F] extends { type: 'boolean' } ? boolean : string
}

export interface ConfigSources {
  /** Parsed flags; other flags in the object are ignored. */
  flags?: ConfigFlags
  /** @default process.env */
  env?: Record<string, string | undefined>
}

/** Every setting but registry.hosts, keyed by its path in the file. */
interface Settings {
  dataDir: string | undefined
  listen: string[]
  bootstrap: string[]
  encryption: ConnectionEncryption[]
  swarmKey: string | null
  allowPeers: string[]
  seed: boolean
  trustedSeeds: string[]
  allowOrigins: string[]
  originFallback: boolean
  seedTimeout: number
  originTimeout: number
  uploadRate: number
  downloadRate: number
  uploadSlots: number
  maxParents: number
  pieceSize: number | null
  superSeedCopies: number
  api: ListenAddress
  apiTokenFile: string | null
  mirror: ListenAddress | null
  'registry.default': string
  'registry.insecure': string[]
  'registry.ca': string | null
  'registry.dockerConfig': string | null
  'storage.quota': number
  'storage.highWatermark': number
  'storage.lowWatermark': number
  'storage.diskGuard': number
}
type Key = keyof Settings

/**
 * Reads a value from the file (typed by YAML) or from the environment or a
 * flag (strings; lists already split). `subject` starts any error message.
 */
type Parse<T> = (value: unknown, subject: string) => T

interface KeySpec<T> {
  default: T
  parse: Parse<T>
  /** A list: comma-separated in the environment. */
  list?: true
}

/** A value as set somewhere. */
interface Given {
  value: unknown
  /** `config file F:LINE`, `environment DAMSELFLY_X` or `flag --x`. */
  where: string
  /** How an error about it starts. */
  subject: string
}

function shown (value: unknown): string {
  const s = JSON.stringify(value) ?? String(value)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** Numbers from YAML and strings from anywhere, as the text the flag parsers read. */
function scalar (value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : shown(value)
}

function text (value: unknown, subject: string): string {
  if (typeof value === 'string' && value !== '') return value
  const hint = typeof value === 'number' || typeof value === 'boolean' ? ' (quote it)' : ''
  throw new UsageError(`${subject} must be a non-empty string, got ${shown(value)}${hint}`)
}

function optionalPath (value: unknown, subject: string): string | null {
  return value === null ? null : text(value, subject)
}

function boolean (value: unknown, subject: string): boolean {
  if (typeof value === 'boolean') return value
  if (value === 'true' || value === 'false') return value === 'true'
  throw new UsageError(`${subject} must be true or false, got ${shown(value)}`)
}

function list (value: unknown, subject: string): string[] {
  if (!Array.isArray(value)) throw new UsageError(`${subject} must be a list, got ${shown(value)}`)
  return value.map(item => text(item, subject))
}

function multiaddrs (value: unknown, subject: string): string[] {
  return list(value, subject).map(a => {
    try {
      multiaddr(a)
    } catch (err: any) {
      throw new UsageError(`${subject} ${JSON.stringify(a)} is not a multiaddr: ${err.message}`)
    }
    return a
  })
}

/** base58btc (12D3KooW..., Qm...) or a base32 CID (b...): catches a multiaddr or a stray character. */
const PEER_ID = /^(?:[1-9A-HJ-NP-Za-km-z]{40,}|b[a-z2-7]{50,})$/

function peerIds (value: unknown, subject: string): string[] {
  return list(value, subject).map(id => {
    if (!PEER_ID.test(id)) throw new UsageError(`${subject} ${JSON.stringify(id)} is not a peer id`)
    return id
  })
}

function originPatterns (value: unknown, subject: string): string[] {
  return list(value, subject).map(p => {
    try {
      parseOriginPattern(p)
    } catch (err: any) {
      throw new UsageError(`${subject} ${err.message}`)
    }
    return p
  })
}

function encryptions (value: unknown, subject: string): ConnectionEncryption[] {
  const names = list(value, subject)
  const known: readonly string[] = CONNECTION_ENCRYPTIONS
  if (names.length === 0) throw new UsageError(`${subject} must name at least one of ${known.join(', ')}`)
  return names.map((name, i) => {
    if (!known.includes(name)) throw new UsageError(`${subject} ${JSON.stringify(name)} is not a connection encryption: ${known.join(' or ')}`)
    if (names.indexOf(name) !== i) throw new UsageError(`${subject} names ${name} twice`)
    return name as ConnectionEncryption
  })
}

function registryHost (value: unknown, subject: string): string {
  const host = text(value, subject)
  if (!isRegistryHost(host)) throw new UsageError(`${subject} ${JSON.stringify(host)} is not a registry host (HOST or HOST:PORT, no scheme or path)`)
  return host
}

function registryHosts (value: unknown, subject: string): string[] {
  return list(value, subject).map(h => registryHost(h, subject))
}

function integer (min: number, max: number): Parse<number> {
  return (value, subject) => parseInteger(scalar(value), subject, min, max)
}

function size (value: unknown, subject: string): number {
  if (typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0)) {
    throw new UsageError(`${subject} must be a size like 500000, 100MB or 1GiB, got ${shown(value)}`)
  }
  return parseBytes(scalar(value), subject)
}

function pieceSize (value: unknown, subject: string): number | null {
  if (value === null || value === 'null') return null
  const n = size(value, subject)
  if (n < 64 * 1024 || n > MAX_PIECE_SIZE) throw new UsageError(`${subject} must be between 64KiB and ${MAX_PIECE_SIZE / 1048576}MiB, got ${shown(value)}`)
  return n
}

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function formatDuration (ms: number): string {
  for (const unit of ['h', 'm', 's']) {
    if (ms !== 0 && ms % TIME_UNITS[unit]! === 0) return `${ms / TIME_UNITS[unit]!}${unit}`
  }
  return `${ms}ms`
}

/** Milliseconds: a number, or `500ms`, `5s`, `2m`, `1h`. */
function duration (min: number, max: number): Parse<number> {
  return (value, subject) => {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(scalar(value).trim())
    if (m == null) throw new UsageError(`${subject} must be a duration like 500ms, 5s or 2m (a bare number is milliseconds), got ${shown(value)}`)
    const ms = Math.round(Number(m[1]) * TIME_UNITS[m[2] ?? 'ms']!)
    if (ms < min || ms > max) throw new UsageError(`${subject} must be between ${formatDuration(min)} and ${formatDuration(max)}, got ${shown(value)}`)
    return ms
  }
}

function listenAddress (value: unknown, subject: string): ListenAddress {
  if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`${subject} must be HOST:PORT, got ${shown(value)}`)
  return parseHostPort(String(value), subject)
}

function mirrorAddress (value: unknown, subject: string): ListenAddress | null {
  if (value === false || value === 'false') return null
  if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`${subject} must be HOST:PORT or false, got ${shown(value)}`)
  return parseHostPort(String(value), subject)
}

function fraction (value: unknown, subject: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*(?:\d+\.?\d*|\.\d+)\s*$/.test(value) ? Number(value) : NaN
  if (!(n > 0 && n <= 1)) throw new UsageError(`${subject} must be a number above 0 and at most 1, got ${shown(value)}`)
  return n
}

const KEYS: { [K in Key]: KeySpec<Settings[K]> } = {
  dataDir: { default: undefined, parse: text },
  listen: { default: ['/ip4/127.0.0.1/tcp/0'], parse: multiaddrs, list: true },
  bootstrap: { default: [], parse: multiaddrs, list: true },
  encryption: { default: [...DEFAULT_ENCRYPTION], parse: encryptions, list: true },
  swarmKey: { default: null, parse: optionalPath },
  allowPeers: { default: [], parse: peerIds, list: true },
  seed: { default: false, parse: boolean },
  trustedSeeds: { default: [], parse: peerIds, list: true },
  allowOrigins: { default: [], parse: originPatterns, list: true },
  originFallback: { default: true, parse: boolean },
  seedTimeout: { default: 5000, parse: duration(1, 600_000) },
  originTimeout: { default: 30_000, parse: duration(1, 3_600_000) },
  uploadRate: { default: 0, parse: size },
  downloadRate: { default: 0, parse: size },
  uploadSlots: { default: SWARM_DEFAULTS.uploadSlots, parse: integer(1, 1024) },
  maxParents: { default: SWARM_DEFAULTS.maxParents, parse: integer(1, 64) },
  pieceSize: { default: null, parse: pieceSize },
  superSeedCopies: { default: SWARM_DEFAULTS.superSeedCopies, parse: integer(0, 64) },
  api: { default: { host: '127.0.0.1', port: 65002 }, parse: listenAddress },
  apiTokenFile: { default: null, parse: optionalPath },
  mirror: { default: { host: '127.0.0.1', port: 65001 }, parse: mirrorAddress },
  'registry.default': { default: 'docker.io', parse: registryHost },
  'registry.insecure': { default: [], parse: registryHosts, list: true },
  'registry.ca': { default: null, parse: optionalPath },
  'registry.dockerConfig': { default: null, parse: optionalPath },
  'storage.quota': { default: 0, parse: size },
  'storage.highWatermark': { default: 0.9, parse: fraction },
  'storage.lowWatermark': { default: 0.8, parse: fraction },
  'storage.diskGuard': { default: 0.95, parse: fraction }
}

const SECTIONS = ['registry', 'storage']
const HOSTS = 'registry.hosts'
const HOST_FIELDS = ['endpoint', 'insecure', 'username', 'password']

function isKey (path: string): path is Key {
  return Object.hasOwn(KEYS, path)
}

/** `storage.highWatermark` → `DAMSELFLY_STORAGE_HIGH_WATERMARK` */
function envName (key: string): string {
  return `DAMSELFLY_${key.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`
}

const ENV_KEYS = new Map<string, Key>((Object.keys(KEYS) as Key[]).map(k => [envName(k), k]))

/** Flags that take a value, by the key they set. */
const FLAG_KEYS: Partial<Record<keyof ConfigFlags, Key>> = {
  'data-dir': 'dataDir',
  listen: 'listen',
  bootstrap: 'bootstrap',
  encryption: 'encryption',
  'swarm-key': 'swarmKey',
  'allow-peer': 'allowPeers',
  'trust-seed': 'trustedSeeds',
  'allow-origin': 'allowOrigins',
  'seed-timeout': 'seedTimeout',
  'origin-timeout': 'originTimeout',
  'upload-rate': 'uploadRate',
  'download-rate': 'downloadRate',
  'upload-slots': 'uploadSlots',
  'max-parents': 'maxParents',
  api: 'api',
  'api-token-file': 'apiTokenFile',
  mirror: 'mirror',
  'default-registry': 'registry.default',
  'insecure-registry': 'registry.insecure',
  'registry-ca': 'registry.ca',
  'docker-config': 'registry.dockerConfig',
  'piece-size': 'pieceSize',
  'super-seed-copies': 'superSeedCopies',
  quota: 'storage.quota'
}

/** Boolean flags, by the key they set and the value they set it to. */
const SWITCHES: Partial<Record<keyof ConfigFlags, [Key, boolean]>> = {
  seed: ['seed', true],
  'no-origin-fallback': ['originFallback', false],
  'no-mirror': ['mirror', false]
}

function editDistance (a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]!
}

/** `; did you mean X?` for a near miss, else nothing. */
function suggest (name: string, candidates: Iterable<string>): string {
  const plain = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')
  let best: string | undefined
  let bestDistance = 3
  for (const c of candidates) {
    const d = plain(c) === plain(name) ? 0 : editDistance(name, c)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best != null ? `; did you mean ${best}?` : ''
}

/** The settings a YAML file sets, into `given`; returns its registry.hosts. */
function readFileSettings (file: string, source: string, given: Map<Key, Given>): Record<string, RegistryHostConfig> {
  const lines = new LineCounter()
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false })
  const at = (offset: number | undefined): string => `config file ${file}:${lines.linePos(offset ?? 0).line}`
  const problem = doc.errors[0]
  if (problem != null) throw new UsageError(`${at(problem.pos[0])}: not valid YAML: ${problem.message.split('\n')[0]}`)

  interface Entry { name: string, path: string, node: unknown, where: string }
  const toJS = (e: Entry): unknown => {
    try {
      return e.node == null ? null : (e.node as { toJS: (d: typeof doc) => unknown }).toJS(doc)
    } catch (err: any) {
      throw new UsageError(`${e.where}: ${e.path}: ${err.message}`)
    }
  }
  /** The entries of a mapping; null (a key with nothing under it) has none. */
  const entries = (node: unknown, path: string, where: string): Entry[] => {
    const resolved = isAlias(node) ? node.resolve(doc) : node
    if (resolved == null || (isScalar(resolved) && resolved.value == null)) return []
    if (!isMap(resolved)) {
      const what = path === '' ? '' : ` ${path}:`
      throw new UsageError(`${where}:${what} must be a mapping of keys to values, got ${shown(toJS({ name: path, path, node: resolved, where }))}`)
    }
    return resolved.items.map(pair => {
      const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      const range = (pair.key as { range?: [number, number, number] } | null)?.range
      return { name, path: path === '' ? name : `${path}.${name}`, node: pair.value, where: at(range?.[0]) }
    })
  }
  const unknownKey = (e: Entry, candidates: string[]): UsageError => {
    const nested = e.name.includes('.') && isKey(e.path) ? ` (nest it under ${e.path.split('.')[0]}:)` : suggest(e.path, candidates)
    return new UsageError(`${e.where}: unknown key ${e.path}${nested}`)
  }
  const topLevel = [...Object.keys(KEYS), ...SECTIONS, HOSTS]
  let hosts: Record<string, RegistryHostConfig> = {}
  const set = (e: Entry): void => {
    if (!isKey(e.path) || e.name.includes('.')) throw unknownKey(e, topLevel)
    given.set(e.path, { value: toJS(e), where: e.where, subject: `${e.where}: ${e.path}:` })
  }
  for (const e of entries(doc.contents, '', at(0))) {
    if (!SECTIONS.includes(e.name)) {
      set(e)
      continue
    }
    for (const s of entries(e.node, e.path, e.where)) {
      if (s.path === HOSTS) hosts = readHosts(s)
      else set(s)
    }
  }
  return hosts

  function readHosts (section: Entry): Record<string, RegistryHostConfig> {
    const out: Record<string, RegistryHostConfig> = {}
    for (const h of entries(section.node, section.path, section.where)) {
      if (!isRegistryHost(h.name)) throw new UsageError(`${h.where}: ${section.path}: ${JSON.stringify(h.name)} is not a registry host (HOST or HOST:PORT, no scheme or path)`)
      const host: RegistryHostConfig = {}
      for (const f of entries(h.node, h.path, h.where)) {
        const subject = `${f.where}: ${f.path}:`
        if (f.name === 'endpoint') host.endpoint = endpoint(toJS(f), subject)
        else if (f.name === 'insecure') host.insecure = boolean(toJS(f), subject)
        else if (f.name === 'username') host.username = text(toJS(f), subject)
        else if (f.name === 'password') host.password = text(toJS(f), subject)
        else throw unknownKey(f, HOST_FIELDS.map(n => `${h.path}.${n}`))
      }
      if ((host.username == null) !== (host.password == null)) throw new UsageError(`${h.where}: ${h.path}: username and password go together`)
      out[h.name] = host
    }
    return out
  }
}

function endpoint (value: unknown, subject: string): string {
  const s = text(value, subject)
  if (!URL.canParse(s) || !['http:', 'https:'].includes(new URL(s).protocol)) throw new UsageError(`${subject} must be an http or https URL like https://ghcr.io, got ${shown(s)}`)
  return s
}

function readEnvSettings (env: Record<string, string | undefined>, given: Map<Key, Given>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('DAMSELFLY_') || value == null || OTHER_ENV.has(name)) continue
    const key = ENV_KEYS.get(name)
    const where = `environment ${name}`
    if (key == null) throw new UsageError(`${where}: unknown variable${suggest(name, [...ENV_KEYS.keys(), ...OTHER_ENV])}`)
    const parsed = KEYS[key].list === true ? value.split(',').map(s => s.trim()).filter(s => s !== '') : value
    given.set(key, { value: parsed, where, subject: `${where}: ${key}:` })
  }
}

function readFlagSettings (flags: ConfigFlags, given: Map<Key, Given>): void {
  if (flags.mirror != null && flags['no-mirror'] === true) throw new UsageError('--mirror and --no-mirror contradict each other')
  for (const flag of Object.keys(flags) as Array<keyof ConfigFlags>) {
    const value = flags[flag]
    const where = `flag --${flag}`
    const key = FLAG_KEYS[flag]
    const toggle = SWITCHES[flag]
    if (key != null && value != null) given.set(key, { value, where, subject: where })
    else if (toggle != null && value === true) given.set(toggle[0], { value: toggle[1], where, subject: where })
  }
}

async function readSourceFile (path: string, subject: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err: any) {
    throw new UsageError(`${subject} cannot read ${path}: ${err.message}`)
  }
}

/**
 * The settings from the config file (`flags.config`, else DAMSELFLY_CONFIG),
 * the environment and the flags, checked; a flag beats the environment,
 * which beats the file, which beats the default. The CA and Docker config
 * files are read and checked here too. Every mistake is a UsageError that
 * names the key and where it was set.
 */
export async function loadConfig (sources: ConfigSources = {}): Promise<LoadedConfig> {
  const flags = sources.flags ?? {}
  const env = sources.env ?? process.env
  const given = new Map<Key, Given>()
  let hosts: Record<string, RegistryHostConfig> = {}
  const file = flags.config ?? (env[CONFIG_ENV] !== '' ? env[CONFIG_ENV] : undefined)
  if (file != null) {
    let source: string
    try {
      source = await readFile(file, 'utf8')
    } catch (err: any) {
      throw new UsageError(`cannot read config file ${file}: ${err.message}`)
    }
    hosts = readFileSettings(file, source, given)
  }
  readEnvSettings(env, given)
  readFlagSettings(flags, given)

  const settings: Record<string, unknown> = {}
  for (const key of Object.keys(KEYS) as Key[]) {
    const g = given.get(key)
    settings[key] = g == null ? KEYS[key].default : KEYS[key].parse(g.value, g.subject)
  }
  const s = settings as unknown as Settings
  if (s.dataDir == null) throw new UsageError('--data-dir is required (or DAMSELFLY_DATA_DIR, or dataDir in a config file)')
  if (s['storage.lowWatermark'] >= s['storage.highWatermark']) {
    const from = (key: Key): string => given.get(key)?.where ?? 'the default'
    throw new UsageError(`storage.lowWatermark ${s['storage.lowWatermark']} (${from('storage.lowWatermark')}) must be below storage.highWatermark ${s['storage.highWatermark']} (${from('storage.highWatermark')})`)
  }
  const config: DaemonConfig = {
    dataDir: s.dataDir,
    listen: s.listen,
    bootstrap: s.bootstrap,
    encryption: s.encryption,
    swarmKey: s.swarmKey,
    allowPeers: s.allowPeers,
    seed: s.seed,
    trustedSeeds: s.trustedSeeds,
    allowOrigins: s.allowOrigins,
    originFallback: s.originFallback,
    seedTimeout: s.seedTimeout,
    originTimeout: s.originTimeout,
    uploadRate: s.uploadRate,
    downloadRate: s.downloadRate,
    uploadSlots: s.uploadSlots,
    maxParents: s.maxParents,
    pieceSize: s.pieceSize,
    superSeedCopies: s.superSeedCopies,
    api: s.api,
    apiTokenFile: s.apiTokenFile,
    mirror: s.mirror,
    registry: {
      default: s['registry.default'],
      insecure: s['registry.insecure'],
      ca: s['registry.ca'],
      dockerConfig: s['registry.dockerConfig'],
      hosts
    },
    storage: {
      quota: s['storage.quota'],
      highWatermark: s['storage.highWatermark'],
      lowWatermark: s['storage.lowWatermark'],
      diskGuard: s['storage.diskGuard']
    }
  }
  return { config, init: await daemonInit(config, key => given.get(key)!.subject) }
}

async function daemonInit (c: DaemonConfig, subjectOf: (key: Key) => string): Promise<DaemonInit> {
  let ca: string | undefined
  if (c.registry.ca != null) {
    const subject = subjectOf('registry.ca')
    ca = await readSourceFile(c.registry.ca, subject)
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${subject} ${c.registry.ca} holds no PEM certificate`)
  }
  let dockerCredentials
  if (c.registry.dockerConfig != null) {
    const subject = subjectOf('registry.dockerConfig')
    let parsed: unknown
    try {
      parsed = JSON.parse(await readSourceFile(c.registry.dockerConfig, subject))
    } catch (err: any) {
      if (err.name === 'UsageError') throw err
      throw new UsageError(`${subject} ${c.registry.dockerConfig} is not JSON: ${err.message}`)
    }
    const problems: string[] = []
    dockerCredentials = credentialsFromDockerConfig(parsed, problems)
    if (problems.length > 0) throw new UsageError(`${subject} ${c.registry.dockerConfig}: ${problems.join('; ')}`)
  }
  let swarmKey: Uint8Array | undefined
  if (c.swarmKey != null) {
    const subject = subjectOf('swarmKey')
    try {
      swarmKey = parseSwarmKey(await readFile(c.swarmKey))
    } catch (err: any) {
      throw new UsageError(`${subject} ${c.swarmKey}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
    }
  }
  let apiToken: string | undefined
  if (c.apiTokenFile != null) {
    const subject = subjectOf('apiTokenFile')
    apiToken = (await readSourceFile(c.apiTokenFile, subject)).trim()
    if (!/^[\x21-\x7e]{16,}$/.test(apiToken)) throw new UsageError(`${subject} ${c.apiTokenFile} must hold one token of at least 16 printable characters, no spaces`)
  }
  return {
    dataDir: c.dataDir,
    listen: c.listen,
    bootstrap: c.bootstrap,
    encryption: c.encryption,
    swarmKey,
    allowPeers: c.allowPeers,
    seed: c.seed,
    trustedSeeds: c.trustedSeeds,
    originFallback: c.originFallback,
    seedTimeoutMs: c.seedTimeout,
    originTimeoutMs: c.originTimeout,
    uploadRate: c.uploadRate,
    downloadRate: c.downloadRate,
    uploadSlots: c.uploadSlots,
    maxParents: c.maxParents,
    pieceSize: c.pieceSize ?? undefined,
    superSeedCopies: c.superSeedCopies,
    api: c.api,
    apiToken,
    mirror: c.mirror,
    registry: {
      defaultRegistry: c.registry.default,
      insecure: c.registry.insecure,
      registries: c.registry.hosts,
      allowOrigins: c.allowOrigins,
      ca,
      dockerCredentials
    },
    storage: {
      quotaBytes: c.storage.quota,
      highWatermark: c.storage.highWatermark,
      lowWatermark: c.storage.lowWatermark,
      diskGuard: c.storage.diskGuard
    }
  }
}

const SIZE_UNITS: Array<[string, number]> = [['GiB', 1024 ** 3], ['GB', 1e9], ['MiB', 1024 ** 2], ['MB', 1e6], ['KiB', 1024], ['kB', 1e3]]

function formatSize (n: number): number | string {
  for (const [unit, bytes] of SIZE_UNITS) if (n !== 0 && n % bytes === 0) return `${n / bytes}${unit}`
  return n
}

function formatHostPort (a: ListenAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`
}

/** The configuration as YAML in the file's schema, passwords redacted; loading it gives the same settings. */
export function formatConfig (c: DaemonConfig): string {
  return stringify({
    dataDir: c.dataDir,
    listen: c.listen,
    bootstrap: c.bootstrap,
    encryption: c.encryption,
    swarmKey: c.swarmKey,
    allowPeers: c.allowPeers,
    seed: c.seed,
    trustedSeeds: c.trustedSeeds,
    allowOrigins: c.allowOrigins,
    originFallback: c.originFallback,
    seedTimeout: formatDuration(c.seedTimeout),
    originTimeout: formatDuration(c.originTimeout),
    uploadRate: formatSize(c.uploadRate),
    downloadRate: formatSize(c.downloadRate),
    uploadSlots: c.uploadSlots,
    maxParents: c.maxParents,
    pieceSize: c.pieceSize == null ? null : formatSize(c.pieceSize),
    superSeedCopies: c.superSeedCopies,
    api: formatHostPort(c.api),
    apiTokenFile: c.apiTokenFile,
    mirror: c.mirror == null ? false : formatHostPort(c.mirror),
    registry: {
      default: c.registry.default,
      insecure: c.registry.insecure,
      ca: c.registry.ca,
      dockerConfig: c.registry.dockerConfig,
      hosts: Object.fromEntries(Object.entries(c.registry.hosts).map(([name, h]) => [name, { ...h, password: h.password != null ? '<redacted>' : undefined }]))
    },
    storage: {
      quota: formatSize(c.storage.quota),
      highWatermark: c.storage.highWatermark,
      lowWatermark: c.storage.lowWatermark,
      diskGuard: c.storage.diskGuard
    }
  })
}
