// Command-line flags of the bench scripts: --help prints the usage, and a
// flag that is unknown, lacks its value or has a bad one ends the script with
// one line saying which, then the usage, and exit code 2 (no stack trace).
import { parseArgs } from 'node:util'
import { MAX_PIECE_SIZE } from '@damselfly/protocol'
import { parseBytes, UsageError } from '@damselfly/cli'

/** A bad flag or flag value: the command line's own, so the bench and the daemon report alike. */
export { UsageError }

/**
 * `--piece-size KiB` of the bench scripts: bytes, or undefined when not
 * given. Refuses what the daemon's --piece-size refuses (64 KiB to the
 * protocol's largest piece), in whole KiB.
 */
export function pieceSizeFlag (text) {
  if (text == null) return undefined
  const kib = Number(text)
  if (!(Number.isInteger(kib) && kib >= 64 && kib <= MAX_PIECE_SIZE / 1024)) {
    throw new UsageError(`--piece-size ${text}: whole KiB from 64 to ${MAX_PIECE_SIZE / 1024}`)
  }
  return kib * 1024
}

/** A cap such as `--node-rate 4MB`, as the daemon's --download-rate reads it (its own parser), and positive. */
export function rateFlag (flag, text) {
  let bytesPerSecond = 0
  try {
    bytesPerSecond = parseBytes(text, flag)
  } catch {
    // unreadable: the same one line as a rate of 0
  }
  if (!(bytesPerSecond > 0)) throw new UsageError(`${flag} ${text}: use a positive rate such as 4MB`)
  return bytesPerSecond
}

/**
 * parseArgs with `help` (-h) added; `check(values)` may throw UsageError (or
 * any Error) for values that parse but make no sense. Returns what `check`
 * returns, or the values.
 */
export function benchArgs (name, usage, options, check = values => values) {
  const fail = message => {
    process.stderr.write(`${name}: ${message}\n\n${usage}`)
    process.exit(2)
  }
  let values
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h', default: false } } }))
  } catch (err) {
    fail(err.message)
  }
  if (values.help) {
    process.stdout.write(usage)
    process.exit(0)
  }
  try {
    return check(values)
  } catch (err) {
    fail(err.message)
  }
}
