import { UsageError } from './args.js'
import { DAEMON_HELP, daemonCommand } from './commands/daemon.js'
import { DEMO_HELP, demoCommand } from './commands/demo.js'
import { GET_HELP, getCommand } from './commands/get.js'
import { RUNTIME_CONFIG_HELP, runtimeConfigCommand } from './commands/runtime-config.js'
import { STATUS_HELP, statusCommand } from './commands/status.js'

const HELP = `Usage: damselfly <command> [options]

Commands:
  daemon          run a node (see damselfly daemon --help)
  demo            a local swarm with a live dashboard: a registry, a seed and N nodes pull one image
  get             fetch a blob through the swarm into a file
  runtime-config  point containerd, CRI-O or Docker at the registry mirror
  status          show the local daemon's state

Run damselfly <command> --help for a command's options.
`

const COMMANDS: Record<string, { run(argv: string[]): Promise<number>, help: string }> = {
  daemon: { run: daemonCommand, help: DAEMON_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  get: { run: getCommand, help: GET_HELP },
  'runtime-config': { run: runtimeConfigCommand, help: RUNTIME_CONFIG_HELP },
  status: { run: statusCommand, help: STATUS_HELP }
}

/** Run the CLI; returns the exit code. Errors become one line on stderr. */
export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name == null || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP)
    return name == null ? 2 : 0
  }
  const command = COMMANDS[name]
  if (command == null) {
    process.stderr.write(`damselfly: unknown command ${JSON.stringify(name)}\n${HELP}`)
    return 2
  }
  try {
    return await command.run(rest)
  } catch (err: any) {
    const usage = err.name === 'UsageError' || (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))
    process.stderr.write(`damselfly ${name}: ${err.message}\n`)
    return usage ? 2 : 1
  }
}

export { UsageError }
