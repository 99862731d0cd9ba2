import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import { didYouMean } from './did-you-mean.js'
import type { ParseArgsOptionsConfig } from 'node:util'

/** A wrong flag or value: printed as one line, exit code 2. */
export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
}

/** `flag`'s value is wrong; with no flag, `problem` alone, for a caller that says where the value came from. */
function wrong (flag: string, problem: string): UsageError {
  return new UsageError(flag === '' ? problem : `${flag} ${problem}`)
}

/** `HOST:PORT`, `[v6]:PORT`, or `PORT` (loopback). */
export function parseHostPort (value: string, flag: string): { host: string, port: number } {
  let host = '127.0.0.1'
  let port: string
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(value)
  if (v6 != null) {
    host = v6[1]!
    port = v6[2]!
  } else if (/^\d+$/.test(value)) {
    port = value
  } else {
    const i = value.lastIndexOf(':')
    if (i <= 0) throw wrong(flag, `must be HOST:PORT, got ${JSON.stringify(value)}`)
    host = value.slice(0, i)
    port = value.slice(i + 1)
  }
  const n = Number(port)
  if (!/^\d+$/.test(port) || n < 0 || n > 65535) throw wrong(flag, `port must be 0..65535, got ${JSON.stringify(port)}`)
  if (host !== 'localhost' && isIP(host) === 0) throw wrong(flag, `host must be an IP address or localhost, got ${JSON.stringify(host)}`)
  return { host, port: n }
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 }

/** A byte count or rate such as `0`, `500000`, `100MB`, `1.5GiB`, `50MiB/s`. */
export function parseBytes (value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)(?:\/s)?$/i.exec(value.trim())
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()]
  if (m == null || unit == null) throw wrong(flag, `must be a size like 500000, 100MB or 1GiB, got ${JSON.stringify(value)}`)
  return Math.round(Number(m[1]) * unit)
}

export function parseInteger (value: string, flag: string, min: number, max: number): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw wrong(flag, `must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`)
  return n
}

export function apiBase (api: string | undefined): string {
  const { host, port } = parseHostPort(api ?? process.env.DAMSELFLY_API ?? '127.0.0.1:65002', '--api')
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** The headers a request to the control API carries: its bearer token when `--api-token-file` (or DAMSELFLY_API_TOKEN_FILE) names one. */
export async function apiHeaders (tokenFile: string | undefined): Promise<Record<string, string>> {
  const file = tokenFile ?? process.env.DAMSELFLY_API_TOKEN_FILE
  if (file == null || file === '') return {}
  let token: string
  try {
    token = (await readFile(file, 'utf8')).trim()
  } catch (err: any) {
    throw new UsageError(`--api-token-file: cannot read ${file}: ${err.message}`)
  }
  if (token === '') throw new UsageError(`--api-token-file: ${file} is empty`)
  return { authorization: `Bearer ${token}` }
}

export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

type Flags = ParseArgsOptionsConfig

/**
 * A command's flags, as `parseArgs` reads them, with every mistake one line
 * in the same words for every command: an unknown flag (with the nearest
 * known one), a flag without its value, a value for a flag that takes none,
 * an argument the command does not take.
 */
export function parseFlags<T extends Flags, P extends boolean = false> (command: string, argv: string[], options: T, allowPositionals?: P) {
  const help = `damselfly ${command} --help`
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true })
  const known = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short != null ? [`-${o.short}`] : [])])
  for (const t of tokens) {
    if (t.kind === 'positional') {
      if (allowPositionals !== true) throw new UsageError(`unexpected argument ${JSON.stringify(t.value)} (${help} lists what it takes)`)
      continue
    }
    if (t.kind !== 'option') continue
    const option = Object.hasOwn(options, t.name) ? options[t.name] : undefined
    if (option == null) throw new UsageError(`unknown flag ${t.rawName}${didYouMean(t.rawName, known)} (${help} lists them)`)
    if (option.type === 'string' && t.value == null) throw new UsageError(`${t.rawName} needs a value`)
    if (option.type === 'boolean' && t.inlineValue === true) throw new UsageError(`${t.rawName} takes no value`)
  }
  return parseArgs({ args: argv, options, strict: true, allowPositionals: allowPositionals ?? false as P })
}
