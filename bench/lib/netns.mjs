// Hosts in network namespaces of their own, all joined by one switch (a bridge
// in a namespace of its own), every host's link shaped with tc to the same rate
// both ways: a token bucket (tbf) on the egress of each end of its veth, the
// host's end capping what it sends and the switch's end what it receives.
// Nothing is added to the root namespace; the namespaces go on every exit
// path (processes.mjs' cleanups), and those of a run that was killed go at the
// next start.
import { execFileSync, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { capture, onCleanup, run, stopChild, track } from './processes.mjs'

/** Namespace names are PREFIX<pid of the bench>-<host>: a run can tell its own, and a dead run's, from anyone else's. */
const PREFIX = 'dfeq'
const THROUGHPUT = fileURLToPath(new URL('./netns-throughput.mjs', import.meta.url))
const GET = fileURLToPath(new URL('./netns-get.mjs', import.meta.url))
/**
 * The queue a link may build before tbf drops: 100 ms at its rate, about a
 * NIC's 1000 packets. A sender's own tbf drops what does not fit, where a NIC
 * would push back: with 10 ms it dropped 2% of a new flow's packets (TCP's
 * start-up bursts), with 25 ms docker-registry still had 5% of its segments
 * retransmitted in direct pulls; with 100 ms next to none. The queue that
 * stands is what the congestion control leaves: with BBR a round trip beside
 * a full link took about 5 ms (the link check measures it).
 */
const QUEUE_LATENCY = '100ms'

/** `[command, args]` that runs `cmd args` inside namespace `ns`; ip exec's it, so the pid is cmd's. */
export function inNetns (ns, cmd, args = []) {
  return ['ip', ['netns', 'exec', ns, cmd, ...args]]
}

const ip = args => run('ip', args, 10_000)

/** Why hosts in shaped network namespaces cannot be made here, or undefined when they can. */
export async function netnsUnavailable () {
  if (process.getuid?.() !== 0) return 'needs root: it creates network namespaces and shapes their links with tc'
  for (const [cmd, args] of [['ip', ['-V']], ['tc', ['-V']]]) {
    const { code } = await capture(cmd, args, { timeoutMs: 5000 })
    if (code !== 0) return `needs ${cmd} (Debian package iproute2): \`${cmd}\` did not run`
  }
  const probe = `${PREFIX}${process.pid}-probe`
  const added = await capture('ip', ['netns', 'add', probe], { timeoutMs: 5000 })
  await capture('ip', ['netns', 'del', probe], { timeoutMs: 5000 })
  if (added.code !== 0) return `cannot create a network namespace: ${added.stderr.trim().split('\n')[0]}`
  return undefined
}

const alive = pid => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

function deleteNamespace (ns) {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 })
  } catch {
    // already gone
  }
}

/**
 * Deletes the namespaces an earlier run left behind when it was killed (its
 * pid is gone), after killing what still runs in them (that run's daemons,
 * containerds, registry); returns their names.
 */
export async function removeStaleNamespaces () {
  const { stdout } = await capture('ip', ['netns', 'list'], { timeoutMs: 10_000 })
  const stale = stdout.split('\n').map(line => line.split(' ')[0]).filter(name => {
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name ?? '')?.[1]
    return pid != null && !alive(Number(pid))
  })
  for (const name of stale) {
    const { stdout: pids } = await capture('ip', ['netns', 'pids', name], { timeoutMs: 10_000 })
    for (const pid of pids.split('\n').map(Number).filter(p => p > 1)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone meanwhile
      }
    }
    deleteNamespace(name)
  }
  return stale
}

/** The tbf the links get: `bitsPerSecond`, a bucket of 1 ms at that rate (16 KiB at least), QUEUE_LATENCY of queue. */
export function shaping (bitsPerSecond) {
  const burst = Math.max(16 * 1024, Math.ceil(bitsPerSecond / 8 / 1000))
  return ['tbf', 'rate', `${bitsPerSecond}bit`, 'burst', String(burst), 'latency', QUEUE_LATENCY]
}

/**
 * Creates one namespace per name, each with `eth0` at `${subnet}.${10 + i}/24`
 * plugged into a bridge, and both ends of every link shaped to
 * `bitsPerSecond`. IPv6 is off (no neighbour discovery in the counters).
 * Resolves with the hosts, the shaping, the TCP congestion control the
 * namespaces use (the kernel's default) and `destroy()`, which cleanupAll also runs.
 */
export async function createSwitchedHosts (names, { bitsPerSecond, subnet = '10.77.0' }) {
  const tag = `${PREFIX}${process.pid}`
  const created = []
  // synchronous and untracked: it runs in the cleanup after Ctrl-C, when new tracked children are killed at birth
  const destroy = onCleanup(() => {
    for (const ns of created.reverse()) deleteNamespace(ns)
  })
  const qdisc = shaping(bitsPerSecond)
  const sw = `${tag}-sw`
  const hosts = []
  try {
    await ip(['netns', 'add', sw])
    created.push(sw)
    await ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge'])
    await ip(['-n', sw, 'link', 'set', 'br0', 'up'])
    for (const [i, name] of names.entries()) {
      const ns = `${tag}-${name}`
      await ip(['netns', 'add', ns])
      created.push(ns)
      await capture('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { timeoutMs: 5000 })
      const port = `v-${name}`.slice(0, 15)
      await ip(['-n', sw, 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      await ip(['-n', sw, 'link', 'set', port, 'master', 'br0', 'up'])
      const addr = `${subnet}.${10 + i}`
      await ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'])
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
      await ip(['-n', ns, 'link', 'set', 'lo', 'up'])
      await run('tc', ['-n', ns, 'qdisc', 'replace', 'dev', 'eth0', 'root', ...qdisc], 10_000)
      await run('tc', ['-n', sw, 'qdisc', 'replace', 'dev', port, 'root', ...qdisc], 10_000)
      hosts.push({ name, ns, addr, port })
    }
  } catch (err) {
    await destroy()
    throw err
  }
  const [cmd, args] = inNetns(hosts[0].ns, 'cat', ['/proc/sys/net/ipv4/tcp_congestion_control'])
  const congestionControl = (await capture(cmd, args, { timeoutMs: 5000 })).stdout.trim()
  return { hosts, switchNs: sw, qdisc: `tc qdisc add dev eth0 root ${qdisc.join(' ')} (on both ends of every host's veth)`, congestionControl, destroy }
}

/** TCP counters worth a look after a pull: segments retransmitted, resets sent, connections aborted. */
const TCP_COUNTERS = { Tcp: ['RetransSegs', 'OutRsts', 'EstabResets'], TcpExt: ['TCPAbortOnData', 'TCPAbortOnClose', 'TCPAbortOnTimeout', 'TCPAbortOnMemory'] }

/** Counters of `TCP_COUNTERS` from /proc/net/snmp and /proc/net/netstat text (header line, then values). */
function tcpCounters (text) {
  const out = {}
  const lines = text.split('\n')
  for (const [prefix, names] of Object.entries(TCP_COUNTERS)) {
    const rows = lines.filter(l => l.startsWith(`${prefix}: `))
    for (let i = 0; i + 1 < rows.length; i += 2) {
      const head = rows[i].split(' ').slice(1)
      const values = rows[i + 1].split(' ').slice(1).map(Number)
      for (const name of names) if (head.includes(name)) out[name] = values[head.indexOf(name)]
    }
  }
  return out
}

/**
 * Bytes each host's eth0 has sent and received so far, read inside its
 * namespace (/sys/class/net/eth0/statistics), and its TCP counters (the
 * namespace's /proc/net/snmp and netstat): { [name]: { tx, rx, tcp } }.
 */
export async function linkCounters (hosts) {
  const entries = await Promise.all(hosts.map(async h => {
    const [cmd, args] = inNetns(h.ns, 'cat', ['/sys/class/net/eth0/statistics/tx_bytes', '/sys/class/net/eth0/statistics/rx_bytes', '/proc/net/snmp', '/proc/net/netstat'])
    const { code, stdout, stderr } = await capture(cmd, args, { timeoutMs: 10_000 })
    if (code !== 0) throw new Error(`counters of ${h.name}: ${stderr.trim()}`)
    const [tx, rx] = stdout.split('\n', 2).map(Number)
    return [h.name, { tx, rx, tcp: tcpCounters(stdout) }]
  }))
  return Object.fromEntries(entries)
}

/**
 * The same counters seen from the switch, all hosts with one `ip` call (cheap
 * enough to sample during a pull): a host sends what its switch port receives.
 */
export async function switchCounters (switchNs, hosts) {
  const { code, stdout, stderr } = await capture('ip', ['-n', switchNs, '-s', '-j', 'link', 'show'], { timeoutMs: 10_000 })
  if (code !== 0) throw new Error(`switch counters: ${stderr.trim()}`)
  const byPort = new Map(JSON.parse(stdout).map(link => [link.ifname, link.stats64]))
  return Object.fromEntries(hosts.map(h => {
    const s = byPort.get(h.port)
    return [h.name, { tx: s?.rx?.bytes, rx: s?.tx?.bytes }]
  }))
}

/**
 * GET `url` from inside namespace `ns` (its loopback is not ours), retrying
 * for up to `waitMs` while it does not answer 2xx. Resolves with
 * { status, body } or { error }.
 */
export async function getInNetns (ns, url, { waitMs = 0 } = {}) {
  const [cmd, args] = inNetns(ns, process.execPath, [GET, url, String(waitMs)])
  const { code, stdout, stderr } = await capture(cmd, args, { timeoutMs: waitMs + 15_000 })
  if (code !== 0) return { error: `${code}: ${stderr.trim()}` }
  try {
    return JSON.parse(stdout)
  } catch {
    return { error: `unreadable answer: ${stdout.slice(0, 200)}` }
  }
}

/** The first line of a child's stdout that `test` accepts, within `ms`. */
function lineOf (child, test, ms) {
  return new Promise((resolve, reject) => {
    let pending = ''
    const timer = setTimeout(() => finish(new Error(`no answer within ${ms / 1000} s`)), ms)
    const onData = text => {
      const lines = (pending + text).split('\n')
      pending = lines.pop() ?? ''
      const line = lines.find(test)
      if (line != null) finish(undefined, line)
    }
    const onExit = code => finish(new Error(`exited with ${code}`))
    const finish = (err, line) => {
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      if (err != null) reject(err)
      else resolve(line)
    }
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
}

/**
 * Payload bits per second of flows ({ first, last, binMs, bins }, as the
 * receiver reports them) in all, over the whole bins in which every one of
 * them was sending: senders start a few ms apart, and a flow alone would
 * count for the pair.
 */
export function flowRate (flows) {
  const binMs = flows[0]?.binMs
  if (binMs == null) return 0
  // whole bins only: the first and last of the overlap are partly idle
  const from = Math.max(...flows.map(x => Math.floor(x.first / binMs))) + 1
  const to = Math.min(...flows.map(x => Math.floor(x.last / binMs))) - 1
  if (to < from) return 0
  let bytes = 0
  for (const x of flows) for (let b = from; b <= to; b++) bytes += x.bins[b] ?? 0
  return bytes * 8 / ((to - from + 1) * binMs / 1000)
}

/**
 * TCP from every sender to `receiver` at once for `seconds`: the flows
 * ({ bytes, first, last, bitsPerSecond }), their payload bits per second in
 * all (flowRate), and each handshake's time.
 */
export async function measureThroughput (senders, receiver, seconds, port = 5201) {
  const [cmd, args] = inNetns(receiver.ns, process.execPath, [THROUGHPUT, 'recv', receiver.addr, String(port), String(senders.length)])
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] }))
  try {
    await lineOf(child, line => line === 'ready', 10_000)
    const result = lineOf(child, line => line.startsWith('['), (seconds + 25) * 1000)
    result.catch(() => {})
    const sent = await Promise.all(senders.map(s => {
      const [c, a] = inNetns(s.ns, process.execPath, [THROUGHPUT, 'send', receiver.addr, String(port), String(seconds)])
      return capture(c, a, { timeoutMs: (seconds + 25) * 1000 })
    }))
    const failed = sent.find(s => s.code !== 0)
    if (failed != null) throw new Error(`throughput probe: a sender failed (${failed.code}): ${failed.stderr.trim()}`)
    const flows = JSON.parse(await result)
    return {
      from: senders.map(s => s.name),
      to: receiver.name,
      seconds,
      flows: flows.map(x => ({ ...x, bitsPerSecond: flowRate([x]) })),
      bitsPerSecond: flowRate(flows),
      connectMs: sent.map(s => JSON.parse(s.stdout).connectMs)
    }
  } finally {
    await stopChild(child, 1000)
  }
}

/**
 * `count` one-byte round trips from `client` to `server`, 50 ms apart:
 * resolves with their times in ms. Run beside a bulk transfer, it shows the
 * queueing delay the shaped links add under load.
 */
export async function measureRoundTrips (client, server, count, port = 5301) {
  const [cmd, args] = inNetns(server.ns, process.execPath, [THROUGHPUT, 'echo', server.addr, String(port), '30'])
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] }))
  try {
    await lineOf(child, line => line === 'ready', 10_000)
    const [c, a] = inNetns(client.ns, process.execPath, [THROUGHPUT, 'ping', server.addr, String(port), String(count)])
    const { code, stdout, stderr } = await capture(c, a, { timeoutMs: 40_000 })
    if (code !== 0) throw new Error(`round trips from ${client.name} to ${server.name} failed (${code}): ${stderr.trim()}`)
    return JSON.parse(stdout).rttMs
  } finally {
    await stopChild(child, 1000)
  }
}
