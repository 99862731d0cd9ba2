/**
 * The daemon's settings: a YAML file, then `DAMSELFLY_*` environment
 * variables, then flags, each overriding the one before, checked against
 * config-schema.ts before the daemon starts. A mistake is one line that names
 * the key and where it was set, so a typo never passes silently; only a
 * variable that is no setting is let pass, with a warning when it looks like one.
 */
import { readFile } from 'node:fs/promises'
import { isAlias, isMap, isScalar, LineCounter, parseDocument, stringify } from 'yaml'
import { z } from 'zod'
import { UsageError } from './args.js'
import { didYouMean } from './did-you-mean.js'
import { CONFIG_ENV, configSchema, flagName, jsonSchemaAt, SETTINGS } from './config-schema.js'
import type { Setting } from './config-schema.js'
import type { DaemonInit } from '@damselfly/daemon'

export { CONFIG_ENV, CONFIG_OPTIONS } from './config-schema.js'

/** The effective settings, in the shape of the config file, with defaults filled in. */
export type DaemonConfig = z.output<typeof configSchema> & { dataDir: string }

export interface LoadedConfig {
  config: DaemonConfig
  /** The same settings as `startDaemon` takes them, with the files they name read. */
  init: DaemonInit
  /** What was ignored and may be a mistake: a DAMSELFLY_* variable that is no setting but looks like one. */
  warnings: string[]
}

/** Flag values as parseArgs returns them for CONFIG_OPTIONS. */
export type ConfigFlags = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>

export interface ConfigSources {
  /** Parsed flags; other flags in the object are ignored. */
  flags?: ConfigFlags
  /** @default process.env */
  env?: Record<string, string | undefined>
}

/** DAMSELFLY_* variables that are not settings. */
const OTHER_ENV = new Set([CONFIG_ENV, 'DAMSELFLY_TEST'])
const BY_ENV = new Map(SETTINGS.filter(s => s.env != null).map(s => [s.env!, s]))
const BY_KEY = new Map(SETTINGS.map(s => [s.key, s]))

type Values = Record<string, unknown>

function isMapping (value: unknown): value is Values {
  return typeof value === 'object' && value != null && !Array.isArray(value)
}

function valueAt (values: object, key: string): unknown {
  return key.split('.').reduce<unknown>((node, name) => isMapping(node) ? node[name] : undefined, values)
}

/** Sets `key`, unless something on its path is not a mapping (that mistake is reported instead). */
function setAt (values: Values, key: string, value: unknown): void {
  const names = key.split('.')
  const last = names.pop()!
  let node: unknown = values
  for (const name of names) node = isMapping(node) ? (node[name] ??= {}) : undefined
  if (isMapping(node)) node[last] = value
}

/** The part of a path that names keys: a list's item is reported as the list. */
function keyOf (path: readonly PropertyKey[]): string[] {
  const end = path.findIndex(name => typeof name !== 'string')
  return (end === -1 ? path : path.slice(0, end)) as string[]
}

/** A key with nothing under it, where a mapping goes, is an empty mapping. */
function emptyMappings (value: unknown, path: PropertyKey[] = []): unknown {
  if (value == null) return jsonSchemaAt(path)?.type === 'object' ? {} : value
  if (!isMapping(value)) return value
  return Object.fromEntries(Object.entries(value).map(([name, v]) => [name, emptyMappings(v, [...path, name])]))
}

/**
 * The file's settings, and the line of the key at a path, or of the nearest key above it that
 * the file holds (in a list, the list's key).
 */
async function readConfigFile (file: string) {
  let source: string
  try {
    source = await readFile(file, 'utf8')
  } catch (err: any) {
    throw new UsageError(`cannot read config file ${file}: ${err.message}`)
  }
  const lines = new LineCounter()
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, logLevel: 'error' })
  const at = (line: number): string => `config file ${file}:${line}`
  const problem = doc.errors[0]
  if (problem != null) throw new UsageError(`${at(lines.linePos(problem.pos[0]).line)}: not valid YAML: ${problem.message.split('\n')[0]}`)
  let values: unknown
  try {
    values = emptyMappings(doc.toJS())
  } catch (err: any) {
    throw new UsageError(`${at(1)}: not valid YAML: ${err.message}`)
  }
  const line = (path: readonly PropertyKey[]): number => {
    let node: unknown = doc.contents
    let offset = 0
    for (const name of keyOf(path)) {
      if (isAlias(node)) node = node.resolve(doc)
      // named as toJS names keys
      const pair = isMap(node) ? node.items.find(p => (isScalar(p.key) ? p.key.value ?? '' : p.key)?.toString() === name) : undefined
      if (pair == null) break
      offset = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? offset
      node = pair.value
    }
    return lines.linePos(offset).line
  }
  return { values: values as Values, at, line }
}

/** How an error about a setting starts; a flag's reads on from the flag: `flag --quota must be ...`. */
function subject (where: string, key: string): string {
  if (where.startsWith('flag ')) return where
  return key === '' ? `${where}:` : `${where}: ${key}:`
}

/**
 * The variables Kubernetes gives every pod for a Service named damselfly or
 * damselfly-* (DAMSELFLY_SERVICE_HOST, DAMSELFLY_PORT_65001_TCP_ADDR,
 * DAMSELFLY_SEED_SERVICE_PORT, ...): not settings, and no sign of a mistake.
 */
const SERVICE_ENV = /^DAMSELFLY_(?:[A-Z0-9]+_)*(?:SERVICE_(?:HOST|PORT(?:_\w+)?)|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_PROTO|_PORT|_ADDR)?)?)$/

/**
 * The settings the environment holds. A DAMSELFLY_* variable that is no
 * setting is ignored: the environment is shared with whatever else runs (a
 * Service's variables above); one that looks like a misspelt setting is a warning.
 */
function readEnv (env: Record<string, string | undefined>, set: (s: Setting, value: unknown, where: string) => void, warn: (warning: string) => void): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('DAMSELFLY_') || value == null || OTHER_ENV.has(name)) continue
    const setting = BY_ENV.get(name)
    const where = `environment ${name}`
    if (setting == null) {
      const near = didYouMean(name, [...BY_ENV.keys(), ...OTHER_ENV])
      if (near !== '' || !SERVICE_ENV.test(name)) warn(`${where} is not a setting, ignored${near}`)
      continue
    }
    set(setting, setting.json.type === 'array' ? value.split(',').map(s => s.trim()).filter(s => s !== '') : value, where)
  }
}

function readFlags (flags: ConfigFlags, set: (s: Setting, value: unknown, where: string) => void): void {
  for (const setting of SETTINGS) {
    const on = flagName(setting.info.flag)
    const off = flagName(setting.info.off)
    const value = on != null ? flags[on] : undefined
    const turnedOff = off != null && flags[off] === true
    if (value != null && turnedOff) throw new UsageError(`--${on} and --${off} contradict each other`)
    if (value != null && value !== false) set(setting, value, `flag --${on}`)
    else if (turnedOff) set(setting, false, `flag --${off}`)
  }
}

/** The one-line error for an issue zod found in the merged settings. */
function usageError (issue: z.core.$ZodIssue, whereOf: (path: readonly PropertyKey[]) => string): UsageError {
  if (issue.code === 'unrecognized_keys') {
    const path = [...issue.path, issue.keys[0]!]
    const key = path.join('.')
    const nest = path.length === 1 && key.includes('.') && BY_KEY.has(key) ? ` (nest it under ${key.split('.')[0]}:)` : undefined
    const known = Object.keys(jsonSchemaAt(issue.path)?.properties ?? {}).map(name => [...issue.path, name].join('.'))
    return new UsageError(`${whereOf(path)}: unknown key ${key}${nest ?? didYouMean(key, known)}`)
  }
  // a bad key of a mapping (a registry host) is the mapping's issue
  const key = keyOf(issue.code === 'invalid_key' ? issue.path.slice(0, -1) : issue.path).join('.')
  const message = issue.code === 'invalid_key' ? issue.issues[0]?.message : issue.message
  return new UsageError(`${subject(whereOf(issue.path), key)} ${message}`)
}

/**
 * The settings from the config file (`flags.config`, else DAMSELFLY_CONFIG),
 * the environment and the flags, checked; a flag beats the environment,
 * which beats the file, which beats the default. The files the settings
 * name are read and checked here too. Every mistake is a UsageError that
 * names the key and where it was set.
 */
export async function loadConfig (sources: ConfigSources = {}): Promise<LoadedConfig> {
  const flags = sources.flags ?? {}
  const env = sources.env ?? process.env
  const name = typeof flags.config === 'string' ? flags.config : env[CONFIG_ENV] !== '' ? env[CONFIG_ENV] : undefined
  const file = name == null ? undefined : await readConfigFile(name)
  const values = file?.values ?? {}
  /** Where the environment or a flag set a key, by the key's path. */
  const given = new Map<string, string>()
  const set = (s: Setting, value: unknown, where: string): void => {
    setAt(values, s.key, value)
    given.set(JSON.stringify(s.key.split('.')), where)
  }
  const warnings: string[] = []
  readEnv(env, set, warning => warnings.push(warning))
  readFlags(flags, set)
  const whereOf = (path: readonly PropertyKey[]): string => given.get(JSON.stringify(keyOf(path))) ?? (file != null ? file.at(file.line(path)) : 'the default')

  const parsed = configSchema.safeParse(values)
  if (!parsed.success) {
    // an unknown key first, the first in the file: it may be why a value is missing
    const unknownAt = (i: z.core.$ZodIssue): number => i.code === 'unrecognized_keys' ? file!.line([...i.path, i.keys[0]!]) : Infinity
    throw usageError(parsed.error.issues.sort((a, b) => unknownAt(a) - unknownAt(b))[0]!, whereOf)
  }
  const config = parsed.data
  if (config.dataDir == null) throw new UsageError('--data-dir is required (or DAMSELFLY_DATA_DIR, or dataDir in a config file)')
  const { lowWatermark, highWatermark } = config.storage
  if (lowWatermark >= highWatermark) {
    const from = (key: string): string => valueAt(values, key) === undefined ? 'the default' : whereOf(key.split('.'))
    throw new UsageError(`storage.lowWatermark ${lowWatermark} (${from('storage.lowWatermark')}) must be below storage.highWatermark ${highWatermark} (${from('storage.highWatermark')})`)
  }
  const loaded = config as DaemonConfig
  return { config: loaded, init: await daemonInit(loaded, key => subject(whereOf(key.split('.')), key)), warnings }
}

/** What startDaemon takes: each setting's value at its own path, or what its `init` makes of it. */
async function daemonInit (config: DaemonConfig, subjectOf: (key: string) => string): Promise<DaemonInit> {
  const init: Values = {}
  for (const { key, info } of SETTINGS) {
    const value = valueAt(config, key)
    let part: Values = {}
    try {
      if (info.init != null) part = await info.init(value)
      else setAt(part, key, value)
    } catch (err: any) {
      throw new UsageError(`${subjectOf(key)} ${err.message}`)
    }
    for (const [name, v] of Object.entries(part)) init[name] = isMapping(init[name]) && isMapping(v) ? { ...init[name], ...v } : v
  }
  return init as unknown as DaemonInit
}

/** The configuration as YAML in the file's schema, passwords redacted; loading it gives the same settings. */
export function formatConfig (config: DaemonConfig): string {
  const hosts = Object.fromEntries(Object.entries(config.registry.hosts).map(([name, h]) => [name, { ...h, password: h.password != null ? '<redacted>' : undefined }]))
  const redacted = { ...config, registry: { ...config.registry, hosts } }
  const shown: Values = {}
  for (const { key, schema } of SETTINGS) setAt(shown, key, z.encode(schema, valueAt(redacted, key)))
  return stringify(shown)
}
