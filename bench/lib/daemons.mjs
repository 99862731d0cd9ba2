// Daemons a benchmark starts: loopback API and mirror on free ports, tracked
// for cleanup from the moment they exist, stderr passed through.
import { spawnDaemon } from '@damselfly/cli'
import { setTimeout as delay } from 'node:timers/promises'
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

/** Until every node lists the seed among its peers (GET /api/v1/status, peers[].seed), at most 20 s. */
export async function waitForSeed (nodes, seedId) {
  const deadline = Date.now() + 20_000
  const waiting = new Set(nodes)
  while (waiting.size > 0) {
    for (const node of [...waiting]) {
      try {
        const status = await (await fetch(`${node.api}/api/v1/status`, { signal: AbortSignal.timeout(2000) })).json()
        if (status.peers?.some(p => p.seed === true && p.peer === seedId)) waiting.delete(node)
      } catch {
        // not answering yet
      }
    }
    if (waiting.size === 0) return
    if (Date.now() > deadline) throw new Error(`${waiting.size} node(s) did not see the seed within 20 s`)
    await delay(200)
  }
}
