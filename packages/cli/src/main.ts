import { readFileSync } from 'node:fs'
import { enableCompileCache } from 'node:module'
import { UsageError } from './args.js'
import { didYouMean } from './did-you-mean.js'

const HELP = `Usage: damselfly <command> [options]

Commands:
  daemon          run a node (see damselfly daemon --help)
  demo            a local swarm with a live dashboard: a registry, a seed and N nodes pull one image
  doctor          check that this node and its container runtime really use the swarm
  get             fetch a blob through the swarm into a file
  runtime-config  point containerd, CRI-O or Docker at the registry mirror
  scheduler       the optional scheduler: ranks and suggests parents for the nodes that use it
  status          show the local daemon's state
  swarm-key       make a key for a private swarm (--swarm-key)

Run damselfly <command> --help for a command's options; damselfly --version for the version.
`

/**
 * The daemon's and the demo's modules (all of libp2p) are compiled from
 * V8's code cache when an earlier run left one, in Node's own directory
 * (NODE_COMPILE_CACHE, else under the OS temp dir; entries are checked
 * against each file's contents): a daemon starts on about 10% less CPU.
 * Not for the short commands: for them the cache's bookkeeping at exit
 * cost more wall time (0.2-0.3 s instead of 0.1) than it saved.
 */
function withCompileCache<T> (load: () => Promise<T>): () => Promise<T> {
  return async () => {
    // a directory it cannot use leaves the command as it was
    enableCompileCache()
    return await load()
  }
}

/**
 * Each command's module, loaded when it runs: `daemon` and `demo` bring all
 * of libp2p with them, which `get`, `status` and `runtime-config` (run from
 * scripts, often many times) have no use for.
 */
const COMMANDS = new Map<string, () => Promise<(argv: string[]) => Promise<number>>>([
  ['daemon', withCompileCache(async () => (await import('./commands/daemon.js')).daemonCommand)],
  ['demo', withCompileCache(async () => (await import('./commands/demo.js')).demoCommand)],
  ['doctor', async () => (await import('./commands/doctor.js')).doctorCommand],
  ['get', async () => (await import('./commands/get.js')).getCommand],
  ['runtime-config', async () => (await import('./commands/runtime-config.js')).runtimeConfigCommand],
  ['scheduler', withCompileCache(async () => (await import('./commands/scheduler.js')).schedulerCommand)],
  ['status', async () => (await import('./commands/status.js')).statusCommand],
  ['swarm-key', async () => (await import('./commands/swarm-key.js')).swarmKeyCommand]
])

/** `damselfly 0.1.0 (Node.js v24.1.0)`: the version of the package this file was installed with. */
export function versionLine (): string {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return `damselfly ${version} (Node.js ${process.version})`
}

/** Run the CLI; returns the exit code. Errors become one line on stderr. */
export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name == null || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP)
    return name == null ? 2 : 0
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`${versionLine()}\n`)
    return 0
  }
  const load = COMMANDS.get(name)
  if (load == null) {
    const what = name.startsWith('-') ? 'unknown flag' : 'unknown command'
    const known = name.startsWith('-') ? ['--help', '--version'] : [...COMMANDS.keys()]
    process.stderr.write(`damselfly: ${what} ${JSON.stringify(name)}${didYouMean(name, known)}\n${HELP}`)
    return 2
  }
  try {
    const run = await load()
    return await run(rest)
  } catch (err: any) {
    const usage = err.name === 'UsageError' || err.name === 'DaemonConfigError' || (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))
    process.stderr.write(`damselfly ${name}: ${err.message}\n`)
    return usage ? 2 : 1
  }
}

export { UsageError }
