/**
 * Every daemon setting, once: the kind of its value, its default, its flags
 * and what it is for. The config file's checks, the DAMSELFLY_* variables, the
 * flags, --help, --print-config, what startDaemon gets and config.schema.json
 * all come from this declaration.
 */
import { DEFAULT_DIALED, DEFAULT_ENCRYPTION, RandomParentRanker, RELAY_DEFAULTS, SWARM_DEFAULTS } from '@damselfly/daemon'
import { MAX_PIECE_SIZE } from '@damselfly/protocol'
import { z } from 'zod'
import { readApiToken, readCa, readDockerCredentials, readSwarmKey } from './config-files.js'
import * as kind from './config-values.js'
import type { DaemonInit } from '@damselfly/daemon'
import type { ParseArgsOptionsConfig } from 'node:util'

/** A part of what startDaemon takes. */
type InitPart = { [K in keyof DaemonInit]?: K extends 'registry' | 'storage' ? Partial<NonNullable<DaemonInit[K]>> : DaemonInit[K] }

interface SettingInfo {
  /** What it is for, as --help and the JSON Schema say it. */
  description: string
  /** Its flag and a name for the flag's value (`--upload-rate RATE`); a flag without one sets true. */
  flag?: `--${string}`
  /** A flag that sets it to false. */
  off?: `--no-${string}`
  /** What startDaemon takes for it, when not the same value at the same path; throws what is wrong with a file it names. */
  init?: (value: z.$output) => InitPart | Promise<InitPart>
}

const INFO = z.registry<SettingInfo>()

/** Settings under one key; each has a default, so the section may be left out. */
function section<S extends z.core.$ZodLooseShape> (shape: S) {
  return kind.mapping(shape).prefault({} as z.input<z.ZodObject<S>>)
}

export const configSchema = kind.mapping({
  dataDir: kind.text.optional().register(INFO, { flag: '--data-dir DIR', description: 'where blobs and the node key live; required' }),
  listen: kind.listenAddrs.prefault(['/ip4/127.0.0.1/tcp/0']).register(INFO, {
    flag: '--listen MULTIADDR',
    description: 'multiaddrs to listen on, each naming its transport: /ip4/HOST/tcp/PORT, /ip4/HOST/tcp/PORT/ws (WebSockets) or /ip4/HOST/udp/PORT/webrtc-direct (not in a private swarm)'
  }),
  bootstrap: kind.dialAddrs.prefault([]).register(INFO, { flag: '--bootstrap MULTIADDR', description: 'multiaddrs of peers to join through, as they print them; /p2p/<peer id> optional' }),
  schedulers: kind.dialAddrs.prefault([]).register(INFO, {
    flag: '--scheduler MULTIADDR',
    description: 'multiaddrs of schedulers (damselfly scheduler) that rank and suggest parents; each blob asks one, chosen by its digest, and never waits for its answer. The node sends them its load instead of gossiping it. Empty: parents are ranked locally'
  }),
  transports: kind.transports.prefault([...DEFAULT_DIALED]).register(INFO, {
    flag: '--transport NAME',
    description: 'transports this node dials peers over, whatever it listens on: tcp, websockets, webrtc-direct (loads a native WebRTC library; not in a private swarm). Each listen and bootstrap address adds its own'
  }),
  encryption: kind.encryptions.prefault([...DEFAULT_ENCRYPTION]).register(INFO, {
    flag: '--encryption NAME',
    description: 'connection encryptions offered to peers, most preferred first: tls, noise (go-libp2p speaks both)'
  }),
  swarmKey: kind.path.prefault(null).register(INFO, {
    flag: '--swarm-key FILE',
    description: "key file of a private swarm (damselfly swarm-key): only peers holding it can connect, either way (libp2p private network; go-libp2p's format); null for an open swarm",
    init: async file => ({ swarmKey: file == null ? undefined : await readSwarmKey(file) })
  }),
  allowPeers: kind.peerIds.prefault([]).register(INFO, { flag: '--allow-peer PEERID', description: 'peer ids this node connects with, either way; empty for any' }),
  seed: kind.boolean.prefault(false).register(INFO, { flag: '--seed', description: 'pull blobs from their origin when asked, and feed the swarm' }),
  locality: kind.locality.prefault(null).register(INFO, {
    flag: '--locality LABEL',
    description: 'where this node is, most general first: zone/rack (eu-west-1a/rack-12). Sent with its load; among parents otherwise alike, those sharing more of it come first. null: unsaid',
    init: locality => ({ locality: locality ?? undefined })
  }),
  parentRanking: kind.choice(['measured', 'random']).prefault('measured').register(INFO, {
    flag: '--parent-ranking NAME',
    description: 'how candidate parents are ordered where no scheduler advises: measured (delivery rates, then load and free slots, then locality) or random (no ranking: the baseline a ranking is compared with, as npm run bench:heterogeneous does)',
    init: ranking => ({ ranker: ranking === 'random' ? new RandomParentRanker() : undefined })
  }),
  relay: section({
    enabled: kind.booleanOrNull.prefault(null).register(INFO, {
      flag: '--relay',
      off: '--no-relay',
      description: 'run a circuit relay v2 server, so that peers that cannot listen (browsers) are reachable through this node to set up direct WebRTC connections; null: on for a seed',
      init: enabled => ({ relay: { enabled: enabled ?? undefined } })
    }),
    reservations: kind.integer(1, 100_000).prefault(RELAY_DEFAULTS.maxReservations).register(INFO, {
      description: 'peers that may hold a relay reservation (be reachable through this node) at once',
      init: maxReservations => ({ relay: { maxReservations } })
    }),
    duration: kind.duration(1000, 3_600_000).prefault(`${RELAY_DEFAULTS.durationMs / 60_000}m`).register(INFO, {
      description: 'how long one relayed connection may stay open',
      init: durationMs => ({ relay: { durationMs } })
    }),
    data: kind.sizeBetween(1024, 1024 ** 3).prefault(`${RELAY_DEFAULTS.dataBytes / 1024}KiB`).register(INFO, {
      description: 'bytes one relayed connection may carry, both ways together: enough to set up WebRTC, never pieces',
      init: dataBytes => ({ relay: { dataBytes } })
    })
  }),
  trustedSeeds: kind.peerIds.prefault([]).register(INFO, { flag: '--trust-seed PEERID', description: 'peer ids whose signed manifests are accepted; empty for any signer' }),
  allowOrigins: kind.originPatterns.prefault([]).register(INFO, {
    flag: '--allow-origin PATTERN',
    description: 'origins this node may read blobs from besides its registries: http(s)://HOST[:PORT][/PATH], HOST may be * or *.domain, PORT may be *. Nothing else is fetched, whoever asks',
    init: allowOrigins => ({ registry: { allowOrigins } })
  }),
  originFallback: kind.boolean.prefault(true).register(INFO, { off: '--no-origin-fallback', description: 'pull from the origin directly when no seed answers' }),
  prefetch: kind.choice(['none', 'background', 'full']).prefault('none').register(INFO, {
    flag: '--prefetch POLICY',
    description: 'what a node fetches of a blob a client reads by ranges (a lazy-loading runtime) beyond those ranges: none, the rest in the background once the reads are served, or full, the rest at once after the reads'
  }),
  seedTimeout: kind.duration(1, 600_000).prefault('5s').register(INFO, { flag: '--seed-timeout TIME', description: 'how long a seed may take to accept a request', init: ms => ({ seedTimeoutMs: ms }) }),
  originTimeout: kind.duration(1, 3_600_000).prefault('30s').register(INFO, { flag: '--origin-timeout TIME', description: 'origin response and idle deadline', init: ms => ({ originTimeoutMs: ms }) }),
  uploadRate: kind.size.prefault(0).register(INFO, { flag: '--upload-rate RATE', description: 'node-wide upload limit per second, e.g. 100MB; 0 for none' }),
  downloadRate: kind.size.prefault(0).register(INFO, { flag: '--download-rate RATE', description: 'node-wide download limit per second; 0 for none' }),
  uploadSlots: kind.integer(1, 1024).prefault(SWARM_DEFAULTS.uploadSlots).register(INFO, { flag: '--upload-slots N', description: 'upload sessions served at once' }),
  maxParents: kind.integer(1, 64).prefault(SWARM_DEFAULTS.maxParents).register(INFO, { flag: '--max-parents N', description: 'parents per download' }),
  maxConnections: kind.integer(1, 100_000).prefault(SWARM_DEFAULTS.maxConnections).register(INFO, {
    flag: '--max-connections N',
    description: 'connections this node keeps open that it opened itself: beyond it, the idle ones (no piece session, seed or scheduler request, open longer than connectionGrace) are closed, newest first, down to three quarters. Never those to a seed, scheduler or bootstrap peer, nor to the DHT\'s 20 closest peers (libp2p keeps those connected). Peers close the connections they opened'
  }),
  connectionGrace: kind.duration(0, 3_600_000).prefault(`${SWARM_DEFAULTS.connectionGraceMs / 1000}s`).register(INFO, {
    flag: '--connection-grace TIME',
    description: 'how long a new connection stays open before --max-connections may close it',
    init: ms => ({ connectionGraceMs: ms })
  }),
  pieceSize: kind.sizeOrNull(64 * 1024, MAX_PIECE_SIZE).prefault(null).register(INFO, {
    flag: '--piece-size BYTES',
    description: 'piece size of the blobs this node pulls from origins, for experiments; null: the size / 2048 rounded up to a power of two, 1MiB..64MiB',
    init: bytes => ({ pieceSize: bytes ?? undefined })
  }),
  superSeedCopies: kind.integer(0, 64).prefault(SWARM_DEFAULTS.superSeedCopies).register(INFO, {
    flag: '--super-seed-copies N',
    description: 'copies of a piece sent in quick succession before more requests for it are declined, so that peers spread it; 0 turns it off'
  }),
  api: kind.hostPort.prefault('127.0.0.1:65002').register(INFO, { flag: '--api HOST:PORT', description: 'control API address' }),
  apiTokenFile: kind.path.prefault(null).register(INFO, {
    flag: '--api-token-file FILE',
    description: "file holding the bearer token the control API wants of every request but /healthz and the status page's files; required when the API is off loopback",
    init: async file => ({ apiToken: file == null ? undefined : await readApiToken(file) })
  }),
  mirror: kind.hostPortOrFalse.prefault('127.0.0.1:65001').register(INFO, {
    flag: '--mirror HOST:PORT',
    off: '--no-mirror',
    description: 'registry-mirror address for containerd, CRI-O and Docker; false for none'
  }),
  logFormat: kind.choice(['text', 'json']).prefault('text').register(INFO, {
    flag: '--log-format FORMAT',
    description: 'how the log on standard error reads: text, one line per event, or json, one JSON object per line (time, level, msg and the facts)',
    init: () => ({})
  }),
  logLevel: kind.choice(['info', 'warn', 'error']).prefault('info').register(INFO, {
    flag: '--log-level LEVEL',
    description: 'the least severe events logged: info (requests served, downloads done and failed), warn or error',
    init: () => ({})
  }),
  registry: section({
    default: kind.registryHost.prefault('docker.io').register(INFO, {
      flag: '--default-registry HOST',
      description: 'upstream for mirror requests without ?ns= (CRI-O, Docker)',
      init: defaultRegistry => ({ registry: { defaultRegistry } })
    }),
    insecure: kind.list(kind.registryHost).prefault([]).register(INFO, { flag: '--insecure-registry HOST', description: "registries reached over plain HTTP, as Docker's --insecure-registry" }),
    ca: kind.path.prefault(null).register(INFO, {
      flag: '--registry-ca FILE',
      description: "PEM file of CA certificates trusted for registries, besides the system's",
      init: async file => ({ registry: { ca: file == null ? undefined : await readCa(file) } })
    }),
    dockerConfig: kind.path.prefault(null).register(INFO, {
      flag: '--docker-config FILE',
      description: 'Docker config.json whose "auths" hold registry credentials; they stay on this node',
      init: async file => ({ registry: { dockerCredentials: file == null ? undefined : await readDockerCredentials(file) } })
    }),
    hosts: kind.registryHosts.prefault({}).register(INFO, {
      description: 'settings by registry host (HOST or HOST:PORT): endpoint (an http or https URL), insecure, username and password',
      init: registries => ({ registry: { registries } })
    })
  }),
  storage: section({
    quota: kind.size.prefault(0).register(INFO, { flag: '--quota SIZE', description: 'disk quota of the blob store; 0 for none', init: quotaBytes => ({ storage: { quotaBytes } }) }),
    highWatermark: kind.fraction.prefault(0.9).register(INFO, { description: 'fraction of the quota that starts a collection of the least recently used blobs' }),
    lowWatermark: kind.fraction.prefault(0.8).register(INFO, { description: 'fraction of the quota a collection brings use down to' }),
    diskGuard: kind.fraction.prefault(0.95).register(INFO, {
      description: 'no new blob is fetched while the file system is fuller than this, or when it would not fit in what is free; 1 turns it off'
    })
  })
}).register(INFO, { description: 'The settings of a Damselfly daemon (damselfly daemon --config FILE)' })

type JSONSchema = z.core.JSONSchema.JSONSchema

/** The config file's schema, for editors: config.schema.json holds it. */
export const CONFIG_JSON_SCHEMA = z.toJSONSchema(configSchema, {
  io: 'input',
  metadata: INFO,
  override: ({ jsonSchema }) => {
    for (const cli of ['flag', 'off', 'init']) delete (jsonSchema as Record<string, unknown>)[cli]
  }
})

/** The text of config.schema.json. */
export function configJsonSchemaText (): string {
  return `${JSON.stringify(CONFIG_JSON_SCHEMA, null, 2)}\n`
}

/** The part of the JSON Schema for the value at `path` in the file; undefined where the file may hold nothing. */
export function jsonSchemaAt (path: readonly PropertyKey[]): JSONSchema | undefined {
  let node: JSONSchema | boolean | undefined = CONFIG_JSON_SCHEMA
  for (const name of path) {
    if (typeof node !== 'object') return undefined
    node = node.properties?.[String(name)] ?? node.additionalProperties
  }
  return typeof node === 'object' ? node : undefined
}

export interface Setting {
  /** Its path in the file: `storage.quota`. */
  key: string
  schema: z.ZodType
  info: z.core.$replace<SettingInfo, z.ZodType>
  /** Its value in the file: type, default and description. */
  json: JSONSchema
  /** DAMSELFLY_STORAGE_QUOTA; none for a mapping, which only a file holds. */
  env?: string
}

/** `storage.highWatermark` → `DAMSELFLY_STORAGE_HIGH_WATERMARK` */
function envName (key: string): string {
  return `DAMSELFLY_${key.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`
}

function settingsOf (shape: z.core.$ZodLooseShape, prefix = ''): Setting[] {
  return Object.entries(shape).flatMap(([name, schema]) => {
    const key = `${prefix}${name}`
    const info = INFO.get(schema)
    if (info == null) return settingsOf((schema as z.ZodPrefault<z.ZodObject>).unwrap().shape, `${key}.`)
    const json = jsonSchemaAt(key.split('.'))!
    return [{ key, schema: schema as z.ZodType, info, json, env: json.type === 'object' ? undefined : envName(key) }]
  })
}

/** Every setting, in the order of the declaration. */
export const SETTINGS = settingsOf(configSchema.shape)

/** Names the config file when --config does not. */
export const CONFIG_ENV = 'DAMSELFLY_CONFIG'

/** `--upload-rate RATE` → `upload-rate` */
export function flagName (flag: string | undefined): string | undefined {
  return flag?.slice(2).split(' ')[0]
}

/** The daemon's flags that are settings (parseArgs options). */
export const CONFIG_OPTIONS: ParseArgsOptionsConfig = {
  config: { type: 'string' },
  ...Object.fromEntries(SETTINGS.flatMap(({ info, json }) => [
    ...info.flag == null ? [] : [[flagName(info.flag), info.flag.includes(' ') ? { type: 'string', multiple: json.type === 'array' } : { type: 'boolean' }]],
    ...info.off == null ? [] : [[flagName(info.off), { type: 'boolean' }]]
  ]))
}

/** `words` in lines of at most `width` characters, each after `indent`. */
function wrap (words: string[], indent: string, width = 100): string {
  const lines = [indent]
  for (const word of words) {
    if (lines.at(-1)!.length + word.length >= width) lines.push(indent)
    lines[lines.length - 1] += `${lines.at(-1) === indent ? '' : ' '}${word}`
  }
  return lines.join('\n')
}

/** The settings as --help lists them: key, flags and variable, then what it is for and its default. */
export function settingsHelp (): string {
  return SETTINGS.map(({ key, info, json, env }) => {
    const names = [key, info.flag, info.off, env].filter(name => name != null).join(', ')
    const words = info.description.split(' ')
    if (json.default !== undefined) words.push(`(default ${typeof json.default === 'string' ? json.default : JSON.stringify(json.default)})`)
    return `  ${names}\n${wrap(words, '      ')}\n`
  }).join('')
}

/** A table cell: pipes escaped, no line breaks. */
function cell (text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/**
 * docs/configuration.md: every setting as the config file, the variables and
 * the flags name it, with its default and what it is for.
 */
export function configReferenceMarkdown (): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from packages/cli/src/config-schema.ts by `npm run config-schema`; a test fails when it is stale. -->',
    '',
    'Every daemon setting, as the YAML config file names it (`--config FILE`, or `$DAMSELFLY_CONFIG`), as a',
    '`DAMSELFLY_*` variable (over the file) and as a flag (over both). A list takes a YAML list in the',
    'file, commas in a variable and a repeated flag. Sizes take `KiB`, `MiB`, `GiB` (or `kB`, `MB`, `GB`);',
    'durations `ms`, `s`, `m`, `h` (a bare number is milliseconds). `damselfly daemon --print-config` shows the values a daemon would run with;',
    'editors check a file against [config.schema.json](../packages/cli/config.schema.json).',
    '',
    '| setting | flag | variable | default | what it is for |',
    '| --- | --- | --- | --- | --- |'
  ]
  for (const { key, info, json, env } of SETTINGS) {
    const flags = [info.flag, info.off].filter(f => f != null).map(f => `\`${f}\``).join(', ')
    const fallback = json.default === undefined ? '' : `\`${typeof json.default === 'string' ? json.default : JSON.stringify(json.default)}\``
    lines.push(`| \`${key}\` | ${cell(flags)} | ${env != null ? `\`${env}\`` : '(file only)'} | ${cell(fallback)} | ${cell(info.description)} |`)
  }
  return lines.join('\n') + '\n'
}
