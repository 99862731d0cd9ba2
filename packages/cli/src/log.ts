import type { LogLevel, OperatorLogEntry } from '@damselfly/daemon'

export type LogFormat = 'text' | 'json'

const SEVERITY: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 }

/** A value as a text log shows it: bare when it has no space or quote, else quoted. */
function shown (value: string | number | boolean): string {
  const s = String(value)
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s)
}

/**
 * The daemon's log as the operator reads it, one line per entry: `json`
 * for a log collector ({"time","level","msg",...facts}), `text` for a
 * person (`TIME LEVEL msg key=value ...`). Entries below `level` are dropped.
 */
export function createLogWriter (format: LogFormat, level: LogLevel, write: (line: string) => void = line => { process.stderr.write(line) }): (entry: OperatorLogEntry) => void {
  const least = SEVERITY[level]
  return entry => {
    if (SEVERITY[entry.level] < least) return
    const time = new Date().toISOString()
    const { level: entryLevel, msg, ...facts } = entry
    const known = Object.entries(facts).filter((kv): kv is [string, string | number | boolean] => kv[1] !== undefined)
    if (format === 'json') {
      write(JSON.stringify({ time, level: entryLevel, msg, ...Object.fromEntries(known) }) + '\n')
    } else {
      write(`${time} ${entryLevel.padEnd(5)} ${msg}${known.map(([k, v]) => ` ${k}=${shown(v)}`).join('')}\n`)
    }
  }
}
