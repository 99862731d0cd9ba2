import { startDaemon } from '@damselfly/daemon'
import { parseFlags, parseInteger, UsageError } from '../args.js'
import { untilSignalled } from '../daemon-process.js'
import { CONFIG_OPTIONS, formatConfig, loadConfig } from '../config.js'
import { settingsHelp } from '../config-schema.js'
import { createLogWriter } from '../log.js'

const DAEMON_HELP = `Usage: damselfly daemon [--config FILE] [options]

Runs a Damselfly node: joins the swarm, serves pieces, and answers the local control API.

  --config FILE    YAML config file (default: $DAMSELFLY_CONFIG, else none)
  --print-config   print the effective configuration as YAML and exit

Settings come from a YAML config file, DAMSELFLY_* environment variables and flags: a flag
beats the environment, which beats the file. A DAMSELFLY_* variable that is not a setting is
ignored (with a warning when it looks like a misspelt one); an unknown key in the file is an error. Each is listed by its key in the file, its flags
(a --no- flag sets it to false) and its variable. A list's flag may be repeated; in the
environment a list is comma-separated. Times are milliseconds or 500ms, 5s, 2m; sizes are bytes
or 100MB, 1.5GiB. An editor checks a config file against config.schema.json (@damselfly/cli).

${settingsHelp()}
registry.hosts, for example:
  registry:
    hosts:
      ghcr.io: { endpoint: https://ghcr.io, username: bob, password: secret }
`

export async function daemonCommand (argv: string[]): Promise<number> {
  const { values } = parseFlags('daemon', argv, {
    ...CONFIG_OPTIONS,
    'print-config': { type: 'boolean' },
    'test-corrupt-uploads': { type: 'boolean' },
    'test-ranged-rest-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) {
    process.stdout.write(DAEMON_HELP)
    return 0
  }
  for (const flag of ['test-corrupt-uploads', 'test-ranged-rest-ms'] as const) {
    if (values[flag] != null && process.env.DAMSELFLY_TEST !== '1') throw new UsageError(`--${flag} is for tests only (set DAMSELFLY_TEST=1)`)
  }
  const rangedRestMs = values['test-ranged-rest-ms'] != null ? parseInteger(values['test-ranged-rest-ms'], '--test-ranged-rest-ms', 100, 3_600_000) : undefined
  const { config, init, warnings } = await loadConfig({ flags: values, env: process.env })
  const log = createLogWriter(config.logFormat, config.logLevel)
  for (const warning of warnings) log({ level: 'warn', msg: warning })
  if (values['print-config'] === true) {
    process.stdout.write(formatConfig(config))
    return 0
  }
  const daemon = await startDaemon({ ...init, onLog: log, corruptUploads: values['test-corrupt-uploads'] === true, rangedRestMs })
  const s = daemon.swarm
  // the lines above are for people and scripts; a log collector gets them as one entry
  if (config.logFormat === 'json') log({ level: 'info', msg: 'started', peer: s.peerId, role: config.seed ? 'seed' : 'node', listen: s.listenAddresses().join(' '), mirror: daemon.mirrorAddress, api: daemon.apiAddress })
  process.stdout.write(`damselfly daemon ${config.seed ? '(seed) ' : ''}peer ${s.peerId}\n`)
  for (const a of s.listenAddresses()) process.stdout.write(`listening on ${a}\n`)
  if (daemon.mirrorAddress != null) process.stdout.write(`registry mirror on http://${daemon.mirrorAddress}\n`)
  process.stdout.write(`control API on http://${daemon.apiAddress}\n`)
  await untilSignalled()
  process.stdout.write('stopping\n')
  log({ level: 'info', msg: 'stopping' })
  await daemon.stop()
  return 0
}
