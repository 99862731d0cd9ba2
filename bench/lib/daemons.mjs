// Daemons a benchmark starts: loopback API and mirror on free ports, tracked
// for cleanup from the moment they exist, stderr passed through.
import { spawnDaemon } from '@damselfly/cli'
import { track } from './processes.mjs'

/**
 * `damselfly daemon --data-dir DIR --api 127.0.0.1:0 --mirror 127.0.0.1:0 --log-level warn ARGS`
 * (a benchmark's output keeps its daemons' warnings and errors, not a line per request);
 * resolves once it printed its addresses, with `api` as a base URL.
 * `prefix` runs it under a command, e.g. `['ip', 'netns', 'exec', NS]`: its
 * loopback is then the namespace's.
 * BENCH_DAEMON_NODE_ARGS="--cpu-prof ..." passes Node options to every daemon.
 */
export async function startBenchDaemon (dataDir, args, { signal, onSpawn, execArgv, timeoutMs, prefix } = {}) {
  const d = await spawnDaemon(['--data-dir', dataDir, '--api', '127.0.0.1:0', '--mirror', '127.0.0.1:0', '--log-level', 'warn', ...args], {
    execArgv: execArgv ?? process.env.BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean),
    prefix,
    stderr: 'inherit',
    signal,
    timeoutMs,
    onSpawn: child => {
      track(child)
      onSpawn?.(child)
    }
  })
  return { ...d, api: `http://${d.api}` }
}
