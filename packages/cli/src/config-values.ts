/**
 * The kinds of value the daemon's settings take, as zod schemas. Each reads
 * what a YAML file holds, or the text of a flag or environment variable, into
 * what startDaemon takes, and a codec writes it back as a person would
 * (`5s`, `100MB`) for --print-config. An issue's message is the end of the
 * one-line error: `must be ..., got "x"`.
 */
import { CONNECTION_ENCRYPTIONS, dialTransport, listenTransport, TRANSPORTS } from '@damselfly/daemon'
import { isRegistryHost, parseOriginPattern } from '@damselfly/registry'
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { parseBytes, parseHostPort, parseInteger } from './args.js'
import type { ListenAddress } from '@damselfly/daemon'

/** A value as an error quotes it. */
function shown (value: unknown): string {
  const s = JSON.stringify(value) ?? String(value)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** `must be ${what}, got X`: as zod's error for a schema, and as `says` for a decoder. */
function expecting (what: string, got = shown) {
  const says = (value: unknown): string => `must be ${what}, got ${got(value)}`
  return { error: (issue: { input?: unknown }) => says(issue.input), says }
}

/** A decoder around `read`, which throws the problem with a value. */
function reading<I, O> (read: (value: I) => O) {
  return (value: I, ctx: z.core.ParsePayload<I>): O => {
    try {
      return read(value)
    } catch (err: any) {
      ctx.issues.push({ code: 'custom', message: err.message, input: value })
      return z.NEVER
    }
  }
}

/** A check that `test` throws nothing; what it throws, after `prefix`, is the issue. */
function passes<T> (test: (value: T) => unknown, prefix?: (value: T) => string) {
  return (value: T, ctx: z.RefinementCtx<T>): void => {
    try {
      test(value)
    } catch (err: any) {
      ctx.addIssue({ code: 'custom', message: `${prefix?.(value) ?? ''}${err.message}`, input: value })
    }
  }
}

const quoteIt = (v: unknown): string => `${shown(v)}${typeof v === 'number' || typeof v === 'boolean' ? ' (quote it)' : ''}`
const TEXT = expecting('a non-empty string', quoteIt)
export const text = z.string(TEXT).min(1, TEXT)

/** A file's path; null for none. */
export const path = text.nullable()

/** `zone/rack`: parts of letters, digits, '.', '_' and '-', most general first; null for none. */
export const locality = text.max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, { error: issue => `${JSON.stringify(issue.input)} is not a locality: parts of letters, digits, '.', '_' and '-' separated by '/', e.g. eu-west-1a/rack-12` })
  .nullable()

const BOOLEAN = expecting('true or false')
export const boolean = z.codec(z.union([z.boolean(), z.enum(['true', 'false'], BOOLEAN)], BOOLEAN), z.boolean(), {
  decode: v => v === true || v === 'true',
  encode: v => v
})

const BOOLEAN_OR_NULL = expecting('true, false or null')
/** true, false, or null for the default that depends on other settings. */
export const booleanOrNull = z.codec(z.union([z.boolean(), z.null(), z.enum(['true', 'false', 'null'], BOOLEAN_OR_NULL)], BOOLEAN_OR_NULL), z.boolean().nullable(), {
  decode: v => v === 'null' || v === null ? null : v === true || v === 'true',
  encode: v => v
})

/** A list: repeated flags, comma-separated in the environment. */
export function list<T extends z.ZodType> (item: T): z.ZodArray<T> {
  return z.array(item, expecting('a list'))
}

export const multiaddrs = list(text.superRefine(passes(a => multiaddr(a), a => `${JSON.stringify(a)} is not a multiaddr: `)))

/** Multiaddrs a node listens on, each of a transport it speaks (tcp, tcp/ws, udp/webrtc-direct). */
export const listenAddrs = list(text.superRefine(passes(listenTransport)))

/** Multiaddrs a node dials, each of a transport it speaks. */
export const dialAddrs = list(text.superRefine(passes(dialTransport)))

/** base58btc (12D3KooW..., Qm...) or a base32 CID (b...): catches a multiaddr or a stray character. */
const PEER_ID = /^(?:[1-9A-HJ-NP-Za-km-z]{40,}|b[a-z2-7]{50,})$/
export const peerIds = list(text.regex(PEER_ID, { error: issue => `${JSON.stringify(issue.input)} is not a peer id` }))

export const originPatterns = list(text.superRefine(passes(parseOriginPattern)))

const KNOWN = CONNECTION_ENCRYPTIONS
export const encryptions = list(z.enum(KNOWN, { error: issue => `${shown(issue.input)} is not a connection encryption: ${KNOWN.join(' or ')}` }))
  .min(1, `must name at least one of ${KNOWN.join(', ')}`)
  .superRefine((names, ctx) => {
    const twice = names.find((name, i) => names.indexOf(name) !== i)
    if (twice != null) ctx.addIssue({ code: 'custom', message: `names ${twice} twice`, input: names })
  })

export const transports = list(z.enum(TRANSPORTS, { error: issue => `${shown(issue.input)} is not a transport: ${TRANSPORTS.join(', ')}` }))

const REGISTRY_HOST = { error: (issue: { input?: unknown }) => `${JSON.stringify(issue.input)} is not a registry host (HOST or HOST:PORT, no scheme or path)` }
/** HOST or HOST:PORT, as image references name registries. */
export const registryHost = text.refine(isRegistryHost, REGISTRY_HOST)

const ENDPOINT = expecting('an http or https URL like https://ghcr.io')
export const endpoint = text.refine(s => URL.canParse(s) && ['http:', 'https:'].includes(new URL(s).protocol), ENDPOINT)

/** A value as the text a flag would have held, quoted, as the flag parsers in args.ts show it. */
const asFlag = (v: unknown): string => JSON.stringify(typeof v === 'string' ? v : shown(v))

export function integer (min: number, max: number) {
  const e = expecting(`an integer in ${min}..${max}`, asFlag)
  return z.codec(z.union([z.int().min(min, e).max(max, e), z.string(e).regex(/^\d+$/, e)], e), z.int(), {
    decode: reading(v => parseInteger(String(v), '', min, max)),
    encode: n => n
  })
}

const SIZE_UNITS: Array<[string, number]> = [['GiB', 1024 ** 3], ['GB', 1e9], ['MiB', 1024 ** 2], ['MB', 1e6], ['KiB', 1024], ['kB', 1e3]]

function formatSize (n: number): number | string {
  for (const [unit, bytes] of SIZE_UNITS) if (n !== 0 && n % bytes === 0) return `${n / bytes}${unit}`
  return n
}

const SIZE = expecting('a size like 500000, 100MB or 1GiB', v => typeof v === 'number' ? shown(v) : asFlag(v))
const sizeInput = [z.int().min(0, SIZE), z.string(SIZE)] as const

function readSize (value: number | string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : parseBytes(value, '')
  if (n < min || n > max) throw new Error(`must be between ${formatSize(min)} and ${formatSize(max)}, got ${shown(value)}`)
  return n
}

/** Bytes in `min..max`: a number, or `100MB`, `1.5GiB`. */
export function sizeBetween (min: number, max: number) {
  return z.codec(z.union(sizeInput, SIZE), z.int(), {
    decode: reading(v => readSize(v, min, max)),
    encode: formatSize
  })
}

/** Bytes, or bytes per second: a number, or `100MB`, `1.5GiB`. */
export const size = sizeBetween(0, Number.MAX_SAFE_INTEGER)

/** A size in `min..max`, or null (`null` in a flag or variable). */
export function sizeOrNull (min: number, max: number) {
  return z.codec(z.union([z.null(), ...sizeInput], SIZE), z.int().nullable(), {
    decode: reading(v => v === null || v === 'null' ? null : readSize(v, min, max)),
    encode: n => n == null ? null : formatSize(n)
  })
}

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/

function formatDuration (ms: number): string {
  for (const unit of ['h', 'm', 's']) {
    if (ms !== 0 && ms % TIME_UNITS[unit]! === 0) return `${ms / TIME_UNITS[unit]!}${unit}`
  }
  return `${ms}ms`
}

/** Milliseconds in `min..max`: a number, or `500ms`, `5s`, `2m`, `1h`. */
export function duration (min: number, max: number) {
  const e = expecting('a duration like 500ms, 5s or 2m (a bare number is milliseconds)')
  return z.codec(z.union([z.number().min(0, e), z.string(e).regex(DURATION, e)], e), z.int(), {
    decode: reading(v => {
      const m = DURATION.exec(String(v))
      if (m == null) throw new Error(e.says(v))
      const ms = Math.round(Number(m[1]) * TIME_UNITS[m[2] ?? 'ms']!)
      if (ms < min || ms > max) throw new Error(`must be between ${formatDuration(min)} and ${formatDuration(max)}, got ${shown(v)}`)
      return ms
    }),
    encode: formatDuration
  })
}

const listenAddress = z.object({ host: z.string(), port: z.int() })

function formatHostPort (a: ListenAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`
}

const PORT = { error: (issue: { input?: unknown }) => `port must be 0..65535, got ${JSON.stringify(String(issue.input))}` }
const port = z.int(PORT).min(0, PORT).max(65535, PORT)

const HOST_PORT = expecting('HOST:PORT')
/** `HOST:PORT`, `[v6]:PORT`, or `PORT` (loopback). */
export const hostPort = z.codec(z.union([z.string(HOST_PORT), port], HOST_PORT), listenAddress, {
  decode: reading(v => parseHostPort(String(v), '')),
  encode: formatHostPort
})

const HOST_PORT_OR_FALSE = expecting('HOST:PORT or false')
/** A HOST:PORT, or false (null to startDaemon) for none. */
export const hostPortOrFalse = z.codec(z.union([z.literal(false), z.string(), port], HOST_PORT_OR_FALSE), listenAddress.nullable(), {
  decode: reading(v => v === false || v === 'false' ? null : parseHostPort(String(v), '')),
  encode: a => a == null ? false : formatHostPort(a)
})

const FRACTION = expecting('a number above 0 and at most 1')
export const fraction = z.codec(z.union([z.number().gt(0, FRACTION).lte(1, FRACTION), z.string(FRACTION).regex(/^\s*(?:\d+\.?\d*|\.\d+)\s*$/, FRACTION)], FRACTION), z.number(), {
  decode: reading(v => {
    const n = Number(v)
    if (!(n > 0 && n <= 1)) throw new Error(FRACTION.says(v))
    return n
  }),
  encode: n => n
})

/** One of a few words. */
export function choice<const T extends readonly [string, ...string[]]> (names: T) {
  return z.enum(names, expecting(names.join(' or ')))
}

const MAPPING = expecting('a mapping of keys to values')
/** A mapping whose every key is known. */
export function mapping<S extends z.core.$ZodLooseShape> (shape: S) {
  return z.strictObject(shape, MAPPING)
}

const registryHostConfig = mapping({
  endpoint: endpoint.optional(),
  insecure: boolean.optional(),
  username: text.optional(),
  password: text.optional()
}).refine(h => (h.username == null) === (h.password == null), 'username and password go together')

export const registryHosts = z.record(z.string().refine(isRegistryHost, REGISTRY_HOST), registryHostConfig, MAPPING)
