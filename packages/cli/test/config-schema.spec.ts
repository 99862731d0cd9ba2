import { mkdtempSync, rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { parse, stringify } from 'yaml'
import { daemonCommand } from '../src/commands/daemon.js'
import { configJsonSchemaText, configReferenceMarkdown, SETTINGS } from '../src/config-schema.js'
import { CONFIG_OPTIONS, loadConfig } from '../src/config.js'
import type { ConfigFlags } from '../src/config.js'

const FLAGS = [
  'config', 'data-dir', 'listen', 'bootstrap', 'scheduler', 'transport', 'encryption', 'swarm-key', 'allow-peer', 'seed', 'locality', 'parent-ranking', 'relay', 'no-relay', 'trust-seed', 'allow-origin',
  'no-origin-fallback', 'prefetch', 'seed-timeout', 'origin-timeout', 'upload-rate', 'download-rate', 'upload-slots', 'max-parents', 'max-connections', 'connection-grace', 'api',
  'api-token-file', 'mirror', 'no-mirror', 'default-registry', 'insecure-registry', 'registry-ca', 'docker-config', 'piece-size',
  'super-seed-copies', 'quota', 'log-format', 'log-level'
]

/** `storage.highWatermark` → `DAMSELFLY_STORAGE_HIGH_WATERMARK`, as the help says. */
function envName (key: string): string {
  return `DAMSELFLY_${key.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`
}

/** `{ storage: { quota: value } }` for `storage.quota`. */
function nested (key: string, value: unknown): Record<string, unknown> {
  return key.split('.').reduceRight<any>((inner, name) => ({ [name]: inner }), value)
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** The settings the committed JSON Schema describes: every property with a description; the rest are sections. */
function settingKeys (schema: any, prefix = ''): string[] {
  return Object.entries<any>(schema.properties).flatMap(([name, s]) => s.description != null ? [`${prefix}${name}`] : settingKeys(s, `${prefix}${name}.`))
}

describe('the config schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-config-schema-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  let files = 0

  /** A config file holding `values`. */
  async function file (values: unknown): Promise<string> {
    const path = join(dir, `${files++}.yml`)
    await writeFile(path, stringify(values))
    return path
  }

  async function failure (env: Record<string, string>, flags: ConfigFlags): Promise<string> {
    const err = await loadConfig({ env, flags }).then(() => undefined, (err: Error) => err)
    expect(err?.name).toBe('UsageError')
    expect(err!.message.split('\n')).toHaveLength(1)
    return err!.message
  }

  it('docs/configuration.md is what the schema generates now, and names every setting (npm run config-schema writes it)', async () => {
    const committed = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8')
    expect(committed, 'docs/configuration.md is stale: run npm run config-schema').toBe(configReferenceMarkdown())
    for (const { key } of SETTINGS) expect(committed).toContain(`| \`${key}\` |`)
  })

  it('config.schema.json is what the schema generates now (npm run config-schema writes it)', async () => {
    const committed = await readFile(new URL('../config.schema.json', import.meta.url), 'utf8')
    expect(committed, 'config.schema.json is stale: run npm run config-schema').toBe(configJsonSchemaText())
  })

  it('the flags and variables keep their names', () => {
    expect(Object.keys(CONFIG_OPTIONS).sort()).toEqual([...FLAGS].sort())
    expect(SETTINGS.map(s => s.env)).toEqual(SETTINGS.map(s => s.key === 'registry.hosts' ? undefined : envName(s.key)))
  })

  it('damselfly daemon --help lists every setting with its variable and its default, and each default loads as the default', async () => {
    let help = ''
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(text => {
      help += String(text)
      return true
    })
    try {
      expect(await daemonCommand(['--help'])).toBe(0)
    } finally {
      write.mockRestore()
    }
    const keys = settingKeys(JSON.parse(await readFile(new URL('../config.schema.json', import.meta.url), 'utf8')))
    expect(keys).toHaveLength(SETTINGS.length)
    const defaults = await loadConfig({ env: {}, flags: { 'data-dir': '/d' } })
    for (const key of keys) {
      const entry = new RegExp(`^  ${escape(key)}(?:, .*)?\\n((?: {6}.*\\n)+)`, 'm').exec(help)
      expect(entry, key).not.toBeNull()
      if (key !== 'registry.hosts') expect(entry![0], key).toContain(envName(key))
      if (key === 'dataDir') continue
      const shown = /\(default (.*)\)$/.exec(entry![1]!.replace(/\s+/g, ' ').trim())
      expect(shown, key).not.toBeNull()
      const loaded = await loadConfig({ env: {}, flags: { 'data-dir': '/d', config: await file(nested(key, parse(shown![1]!))) } })
      expect(loaded.config, key).toEqual(defaults.config)
    }
  })

  it('a bad value of any setting, in the file, a variable or a flag, is one line that names the key and where it was set', async () => {
    for (const { key, env, info } of SETTINGS) {
      // dataDir takes any path but an empty one; every other setting refuses this
      const bad = key === 'dataDir' ? '' : 'x y'
      const yaml = await file({ dataDir: '/d', ...nested(key, bad) })
      expect(await failure({}, { config: yaml }), key).toMatch(new RegExp(`^config file ${escape(yaml)}:\\d+: ${escape(key)}: \\S`))
      if (env != null) expect(await failure({ DAMSELFLY_DATA_DIR: '/d', [env]: bad }, {}), key).toMatch(new RegExp(`^environment ${env}: ${escape(key)}: \\S`))
      const flag = info.flag?.split(' ')
      if (flag?.[1] == null) continue
      const name = flag[0]!.slice(2)
      const value = CONFIG_OPTIONS[name]?.multiple === true ? [bad] : bad
      expect(await failure({}, { 'data-dir': '/d', [name]: value }), key).toMatch(new RegExp(`^flag --${name} \\S`))
    }
  })
})
