// Runs the README's cluster walk-through as written, on hosts made of Linux
// namespaces: a registry, a seed and N nodes, each with a network namespace of
// its own (one shaped link into a switch, the addresses the README uses) and
// a mount namespace of its own in which /etc (copy-on-write), /var/lib and
// /run are that host's alone, so the README's paths and every default (the
// mirror on 127.0.0.1:65001, containerd's socket and config, crictl's
// endpoint) mean what they mean on a real machine. Each node also runs a
// containerd whose config names /etc/containerd/certs.d, as the README asks.
//
//   node examples/cluster-walkthrough.mjs --crictl PATH [--nodes 3] [--size 48] [--json]
//
// Root only (namespaces, mounts, tc), with containerd, docker-registry and
// skopeo installed and crictl built (the test builds it from the Go module
// proxy). Prints what every node did; with --json, one JSON object.
import { spawn } from 'node:child_process'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { containerdConfig, DAMSELFLY_BIN, daemonStarted, generateImage } from '@damselfly/cli'
import { startDistributionRegistry } from '../bench/lib/distribution-registry.mjs'
import { createSwitchedHosts, getInNetns, netnsUnavailable, removeStaleNamespaces } from '../bench/lib/netns.mjs'
import { capture, cleanupAll, cleanupOnSignals, makeTempDir, track } from '../bench/lib/processes.mjs'

const README = new URL('../README.md', import.meta.url)
const MiB = 1024 * 1024
/** The README's addresses: the registry at .10, the seed at .11, the nodes from .12 (createSwitchedHosts numbers hosts from .10). */
const SUBNET = '10.0.0'
const LINK_BITS = 100e6

const { values: opts } = parseArgs({
  options: {
    crictl: { type: 'string' },
    nodes: { type: 'string', default: '3' },
    size: { type: 'string', default: '48' },
    json: { type: 'boolean', default: false }
  }
})

/**
 * The walk-through's shell block: between the walkthrough markers, a list of
 * sections, each a `# on ...` comment naming where its commands run ("the
 * seed", "every node"), then commands (a trailing `&` runs one in the
 * background; a `\` continues a line).
 */
export function parseWalkthrough (markdown) {
  const m = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(markdown)
  if (m == null) throw new Error('README.md has no walkthrough block')
  const steps = []
  let where
  for (const line of m[1].replace(/\\\n\s*/g, ' ').split('\n').map(l => l.trim()).filter(Boolean)) {
    const on = /^# on (the seed|every node)\b/.exec(line)
    if (on != null) {
      where = on[1] === 'the seed' ? 'seed' : 'node'
      continue
    }
    if (line.startsWith('#')) continue
    if (where == null) throw new Error(`walkthrough: "${line}" comes before any "# on ..." line`)
    const background = line.endsWith('&')
    const words = line.replace(/&$/, '').trim().split(/\s+/)
    steps.push({ where, words, background })
  }
  return steps
}

/**
 * A host's mount namespace: a process that holds it (sleep), with /etc
 * overlaid on a directory of its own and /var/lib and /run bound to empty
 * ones. Commands run in it, and in the host's network namespace, through
 * nsenter.
 */
async function startHostRoot (host, root) {
  for (const d of ['etc-upper', 'etc-work', 'var-lib', 'run']) await mkdir(join(root, d), { recursive: true })
  const setup = [
    `mount --bind ${root}/var-lib /var/lib`,
    `mount --bind ${root}/run /run`,
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${root}/etc-upper,workdir=${root}/etc-work /etc`,
    'echo ready',
    'exec sleep infinity'
  ].join(' && ')
  const holder = track(spawn('ip', ['netns', 'exec', host.ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup], { stdio: ['ignore', 'pipe', 'pipe'] }))
  let err = ''
  holder.stderr.on('data', d => { err += d })
  await new Promise((resolve, reject) => {
    holder.stdout.once('data', resolve)
    holder.once('exit', code => reject(new Error(`${host.name}: cannot make its mount namespace (${code}): ${err}`)))
  })
  return { ...host, root, pid: holder.pid, prefix: ['nsenter', '-t', String(holder.pid), '-m', '-n', '--'] }
}

/** The command a README line names, as this machine runs it. */
function commandOf (words, crictl) {
  const [name, ...args] = words
  if (name === 'damselfly') return [process.execPath, [DAMSELFLY_BIN, ...args]]
  if (name === 'crictl') return [crictl, args]
  throw new Error(`walkthrough: no way to run "${name}" here`)
}

async function runOn (host, words, crictl, timeoutMs = 120_000) {
  const [cmd, args] = commandOf(words, crictl)
  const [prefix, ...rest] = host.prefix
  const r = await capture(prefix, [...rest, cmd, ...args], { timeoutMs })
  return { ...r, command: words.join(' ') }
}

async function startBackground (host, words) {
  const [name, sub, ...args] = words
  if (name !== 'damselfly' || sub !== 'daemon') throw new Error(`walkthrough: only "damselfly daemon" runs in the background, not "${words.join(' ')}"`)
  const [prefix, ...rest] = host.prefix
  const child = track(spawn(prefix, [...rest, process.execPath, DAMSELFLY_BIN, 'daemon', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }))
  return await daemonStarted(child, { what: `the daemon on ${host.name}`, timeoutMs: 60_000 })
}

/** containerd as the README wants it on a node: its defaults, and config_path naming /etc/containerd/certs.d. */
async function startContainerd (host) {
  const config = containerdConfig('/var/lib/containerd', '/run/containerd/containerd.sock', { cri: { configPath: '/etc/containerd/certs.d' } })
  await mkdir(join(host.root, 'etc-upper', 'containerd'), { recursive: true })
  await mkdir(join(host.root, 'var-lib', 'containerd', 'tmp'), { recursive: true })
  await writeFile(join(host.root, 'etc-upper', 'containerd', 'config.toml'), config)
  const [prefix, ...rest] = host.prefix
  const child = track(spawn(prefix, [...rest, 'containerd'], { stdio: 'ignore' }))
  for (let i = 0; i < 200; i++) {
    if ((await capture(prefix, [...rest, 'ctr', '--timeout', '1s', 'version'], { timeoutMs: 5000 })).code === 0) return child
    if (child.exitCode != null) throw new Error(`containerd on ${host.name} exited (${child.exitCode})`)
    await delay(100)
  }
  throw new Error(`containerd on ${host.name} did not answer within 20 s`)
}

async function main () {
  if (opts.crictl == null) throw new Error('--crictl PATH is needed (go install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0)')
  const why = await netnsUnavailable()
  if (why != null) throw new Error(why)
  await removeStaleNamespaces()
  const nodes = Number(opts.nodes)
  const steps = parseWalkthrough(await readFile(README, 'utf8'))
  const work = await makeTempDir('damselfly-walkthrough-')

  const names = ['registry', 'seed', ...Array.from({ length: nodes }, (_, i) => `node${i + 1}`)]
  const { hosts } = await createSwitchedHosts(names, { bitsPerSecond: LINK_BITS, subnet: SUBNET })
  const registryHost = hosts[0]
  const registry = await startDistributionRegistry({ netns: registryHost.ns, address: registryHost.addr, accessLog: true })
  const image = await generateImage(join(work, 'image'), { size: Number(opts.size) * MiB, name: 'team/app', tag: 'v1', seed: 'damselfly-walkthrough' })
  await registry.push(image.dir, image.tag, `${image.name}:${image.tag}`)
  registry.reset()

  const seed = await startHostRoot(hosts[1], join(work, 'seed'))
  const nodeHosts = await Promise.all(hosts.slice(2).map(h => startHostRoot(h, join(work, h.name))))
  await Promise.all(nodeHosts.map(startContainerd))

  const report = { image: { ref: `${registry.host}/${image.name}:${image.tag}`, bytes: image.totalBytes }, steps: [], nodes: {} }
  const daemons = new Map()
  for (const step of steps) {
    const targets = step.where === 'seed' ? [seed] : nodeHosts
    const done = await Promise.all(targets.map(async host => {
      if (step.background) {
        const d = await startBackground(host, step.words)
        daemons.set(host.name, d)
        return { host: host.name, command: step.words.join(' '), code: 0 }
      }
      let r = await runOn(host, step.words, opts.crictl)
      // the doctor right after a start may find the bootstrap dial still under way; an operator would run it again
      for (let tries = 0; step.words[1] === 'doctor' && r.code !== 0 && tries < 20; tries++) {
        await delay(1000)
        r = await runOn(host, step.words, opts.crictl)
      }
      return { host: host.name, command: r.command, code: r.code, output: (r.stdout + r.stderr).trim() }
    }))
    report.steps.push(...done)
    const failed = done.find(d => d.code !== 0)
    if (failed != null) throw Object.assign(new Error(`on ${failed.host}: \`${failed.command}\` exited ${failed.code}:\n${failed.output}`), { report })
    // the key made on the seed goes to every node, as the README says
    if (step.where === 'seed' && step.words[1] === 'swarm-key') {
      const key = join(work, 'swarm.key')
      await copyFile(join(seed.root, 'etc-upper', step.words[step.words.indexOf('-o') + 1].replace(/^\/etc\//, '')), key)
      await Promise.all(nodeHosts.map(h => runOnShell(h, `mkdir -p /etc/damselfly && cp ${key} /etc/damselfly/swarm.key && chmod 600 /etc/damselfly/swarm.key`)))
    }
  }

  const seedId = daemons.get('seed')?.peerId
  for (const h of nodeHosts) {
    const status = await getInNetns(h.ns, 'http://127.0.0.1:65002/api/v1/status')
    if (status.error != null) throw new Error(`${h.name}: status: ${status.error}`)
    const s = JSON.parse(status.body)
    let fromSeed = 0
    let fromNodes = 0
    for (const t of s.tasks) {
      for (const [peer, bytes] of Object.entries(t.parents ?? {})) {
        if (peer === seedId) fromSeed += bytes
        else fromNodes += bytes
      }
    }
    report.nodes[h.name] = { fromOrigin: s.stats.bytesFromOrigin, fromSeed, fromNodes, uploaded: s.stats.bytesUploaded, mirror: s.mirror?.requests }
  }
  report.registrySent = registry.served().bytes
  return report
}

async function runOnShell (host, script) {
  const [prefix, ...rest] = host.prefix
  const r = await capture(prefix, [...rest, 'sh', '-c', script], { timeoutMs: 10_000 })
  if (r.code !== 0) throw new Error(`${host.name}: ${script}: ${r.stderr}`)
}

cleanupOnSignals()
let code = 0
try {
  const report = await main()
  if (opts.json) process.stdout.write(JSON.stringify(report) + '\n')
  else {
    for (const s of report.steps) process.stdout.write(`${s.host.padEnd(8)} $ ${s.command}\n${s.output != null && s.output !== '' ? s.output.replace(/^/gm, '           ') + '\n' : ''}`)
    const mib = b => (b / MiB).toFixed(1)
    process.stdout.write(`\nimage ${report.image.ref}, ${mib(report.image.bytes)} MiB; the registry sent ${mib(report.registrySent)} MiB\n`)
    for (const [name, n] of Object.entries(report.nodes)) process.stdout.write(`${name}: ${mib(n.fromSeed)} MiB from the seed, ${mib(n.fromNodes)} MiB from other nodes, ${mib(n.fromOrigin)} MiB from the registry, sent ${mib(n.uploaded)} MiB\n`)
  }
} catch (err) {
  process.stderr.write(`cluster-walkthrough: ${err.message}\n`)
  if (opts.json && err.report != null) process.stdout.write(JSON.stringify(err.report) + '\n')
  code = 1
} finally {
  await cleanupAll()
}
process.exit(code)
