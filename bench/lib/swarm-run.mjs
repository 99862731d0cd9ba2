// One swarm pull for a benchmark: a fresh seed and N fresh daemons (with a
// damselfly scheduler, when asked) pull one image through their mirrors at
// once; each daemon's control-traffic counters and CPU are read before and
// after the pull.
import { spawn } from 'node:child_process'
import { setPriority } from 'node:os'
import { join } from 'node:path'
import { DAMSELFLY_BIN, pullImage } from '@damselfly/cli'
import { startBenchDaemon, waitForSeed } from './daemons.mjs'
import { cpuSecondsOf, makeTempDir, removeTempDir, stopChild, track, withDeadline } from './processes.mjs'
import { busyFraction, controlCounters, controlDelta, controlMessages, machineCpu } from './report.mjs'

/** The scheduler's nice value, where the bench may set it. */
export const SCHEDULER_PRIORITY = -5

/** `damselfly scheduler` on loopback; resolves with its child and address once it printed them. */
export async function startScheduler () {
  const child = spawn(process.execPath, [DAMSELFLY_BIN, 'scheduler', '--listen', '/ip4/127.0.0.1/tcp/0', '--stats-every', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  track(child)
  // on a fleet a scheduler has a host of its own; here it shares the cores
  // with every daemon, and at N=30 it got too little of them to answer in
  // time (the nodes then counted it silent and went back to gossip). Ahead
  // of the daemons where the bench may say so (root); as they are elsewhere
  let priority = 0
  try {
    setPriority(child.pid, SCHEDULER_PRIORITY)
    priority = SCHEDULER_PRIORITY
  } catch {
    // not permitted: the result says so (priority 0)
  }
  return await new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => reject(new Error(`the scheduler did not start: ${text}`)), 30_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', chunk => {
      text += chunk
      const addr = /^listening on (\S+)$/m.exec(text)?.[1]
      if (addr != null) {
        clearTimeout(timer)
        resolve({ child, addr, priority })
      }
    })
    child.once('exit', code => reject(new Error(`the scheduler exited (${code}): ${text}`)))
  })
}

async function countersOf (daemon) {
  const res = await fetch(`${daemon.api}/metrics`, { signal: AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`${daemon.name}: /metrics ${res.status}`)
  return controlCounters(await res.text())
}

/**
 * A seed and `n` nodes, all fresh: every node pulls the image at once.
 * `ranking`: 'scheduler' (one damselfly scheduler, every daemon given it),
 * 'measured' (the daemons' own ranking) or 'random' (--parent-ranking random).
 * `rates(i)`: node i's --download-rate and --upload-rate (i from 0); the
 * seed's are `seedRate`. Resolves with each node's pull seconds and each
 * daemon's figures.
 */
export async function swarmPull ({ n, ranking, image, registry, seedRate, rates, label }) {
  const root = await makeTempDir('damselfly-bench-swarm-')
  const daemons = []
  let scheduler
  try {
    scheduler = ranking === 'scheduler' ? await startScheduler() : undefined
    const common = [...(scheduler != null ? ['--scheduler', scheduler.addr] : []), ...(ranking === 'random' ? ['--parent-ranking', 'random'] : [])]
    const start = async (name, role, { down, up }, args) => {
      const d = { ...await startBenchDaemon(join(root, name), ['--insecure-registry', registry.host, '--download-rate', down, '--upload-rate', up, ...common, ...args], { timeoutMs: 60_000 }), name, role, up }
      daemons.push(d)
      return d
    }
    const seed = await start('seed', 'seed', { down: seedRate, up: seedRate }, ['--seed'])
    const nodes = []
    // a few at a time: each start costs a CPU second or two
    for (let i = 0; i < n; i += 4) {
      nodes.push(...await Promise.all(Array.from({ length: Math.min(4, n - i) }, (_, k) => start(`node${i + k + 1}`, 'node', rates(i + k), ['--bootstrap', seed.addrs[0], '--seed-timeout', '60s']))))
    }
    await waitForSeed(nodes, seed.peerId)
    const before = new Map(await Promise.all(daemons.map(async d => [d, { counters: await countersOf(d), cpu: await cpuSecondsOf(d.child.pid) }])))
    const schedulerCpu0 = scheduler != null ? await cpuSecondsOf(scheduler.child.pid) : undefined
    const cpu0 = await machineCpu()
    const t0 = performance.now()
    const seconds = await withDeadline(10 * 60_000, `pulls (${label})`, signal => Promise.all(nodes.map(async node => {
      await pullImage({ mirror: node.mirror, registry: registry.host, name: image.name, tag: image.tag, signal })
      return (performance.now() - t0) / 1000
    })))
    const machineCpuBusy = busyFraction(cpu0, await machineCpu())
    const schedulerCpu1 = scheduler != null ? await cpuSecondsOf(scheduler.child.pid) : undefined
    const schedulerFigures = scheduler != null ? { priority: scheduler.priority, pullCpuSeconds: schedulerCpu0 != null && schedulerCpu1 != null ? schedulerCpu1 - schedulerCpu0 : undefined } : undefined
    const perDaemon = await Promise.all(daemons.map(async d => {
      const b = before.get(d)
      const cpu = await cpuSecondsOf(d.child.pid)
      const delta = controlDelta(b.counters, await countersOf(d))
      return { name: d.name, role: d.role, uploadRate: d.up, pullCpuSeconds: cpu != null && b.cpu != null ? cpu - b.cpu : undefined, ...delta, controlMessages: controlMessages(delta) }
    }))
    return { seconds, machineCpuBusy, daemons: perDaemon, ...(schedulerFigures != null ? { scheduler: schedulerFigures } : {}) }
  } finally {
    await Promise.all(daemons.map(d => stopChild(d.child)))
    if (scheduler != null) await stopChild(scheduler.child)
    await removeTempDir(root)
  }
}
