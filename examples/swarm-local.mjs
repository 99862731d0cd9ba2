// A local swarm on loopback: an HTTP origin serving a random blob, one seed
// and N peers as separate `damselfly daemon` processes. Every peer fetches the
// blob at once with `damselfly get`; the summary shows where the bytes came from.
//
//   npm run example:swarm                     4 peers, 64 MiB
//   npm run example:swarm -- --peers 8 --size 256
//   npm run example:swarm -- --piece-size 4194304      the seed cuts pieces of 4 MiB instead of the rule's size
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DAMSELFLY_BIN, parseFlags, parseInteger, spawnDaemon } from '@damselfly/cli'

const USAGE = `Usage: npm run example:swarm -- [--peers N] [--size MIB] [--piece-size BYTES]

A seed and N peers on loopback, each a damselfly daemon; every peer fetches one blob at once.

  --peers N           peers besides the seed, 1..32 (default 4)
  --size MIB          the blob's size in MiB, 1..2048 (default 64)
  --piece-size BYTES  the piece size the seed cuts (default: the protocol's rule)
`
let values
try {
  values = parseFlags('example:swarm', process.argv.slice(2), { peers: { type: 'string' }, size: { type: 'string' }, 'piece-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } }).values
  if (values.help === true) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  values.peers = parseInteger(values.peers ?? '4', '--peers', 1, 32)
  values.size = parseInteger(values.size ?? '64', '--size', 1, 2048)
} catch (err) {
  if (err.name !== 'UsageError') throw err
  process.stderr.write(`example:swarm: ${err.message.replace('damselfly example:swarm --help', 'npm run example:swarm -- --help')}\n${USAGE}`)
  process.exit(2)
}
const peersWanted = values.peers
const sizeMiB = values.size

const root = await mkdtemp(join(tmpdir(), 'damselfly-example-'))
const children = new Set()
let originBytes = 0
const blob = randomBytes(sizeMiB * 1024 * 1024)
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`
// Range as any web server has it: a seed resumes with `bytes=N-`, and a daemon serving a client
// first compares a few bytes with the origin's (`bytes=A-B`)
const origin = createServer((req, res) => {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
  const start = range != null ? Math.min(Number(range[1]), blob.length) : 0
  const end = range != null && range[2] !== '' ? Math.min(Number(range[2]) + 1, blob.length) : blob.length
  const body = blob.subarray(start, Math.max(start, end))
  res.writeHead(range != null ? 206 : 200, {
    'content-type': 'application/octet-stream',
    'content-length': body.length,
    ...(range != null ? { 'content-range': `bytes ${start}-${start + body.length - 1}/${blob.length}` } : {})
  })
  originBytes += body.length
  res.end(body)
})
await new Promise(resolve => origin.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${origin.address().port}/blob`

async function cleanup () {
  for (const c of children) c.kill('SIGTERM')
  origin.close()
  await new Promise(resolve => setTimeout(resolve, 500))
  for (const c of children) c.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
}
process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)) })

async function startDaemon (name, args) {
  const d = await spawnDaemon(['--data-dir', join(root, name), '--api', '127.0.0.1:0', '--mirror', '127.0.0.1:0', ...args], {
    stderr: 'inherit',
    onSpawn: child => {
      children.add(child)
      child.once('exit', () => children.delete(child))
    }
  })
  return { ...d, name }
}

function get (d) {
  return new Promise(resolve => {
    const started = performance.now()
    const child = spawn(process.execPath, [DAMSELFLY_BIN, 'get', url, '--digest', digest, '-o', join(root, `${d.name}.out`), '--api', d.api, '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('exit', code => resolve({ code, seconds: (performance.now() - started) / 1000 }))
  })
}

try {
  console.log(`blob ${digest} (${sizeMiB} MiB) at ${url}`)
  // daemons read only the origins they are told they may
  const allowed = ['--allow-origin', `${new URL(url).origin}/`]
  const seed = await startDaemon('seed', ['--seed', ...allowed, ...(values['piece-size'] != null ? ['--piece-size', values['piece-size']] : [])])
  const peers = []
  for (let i = 0; i < peersWanted; i++) peers.push(await startDaemon(`peer${i}`, ['--bootstrap', seed.addrs[0], ...allowed]))
  console.log(`started a seed and ${peers.length} peers; all peers fetch at once`)
  const results = await Promise.all(peers.map(get))
  const mib = n => (n / 1048576).toFixed(1)
  console.log('\nnode      time   from origin  from peers  uploaded  parents')
  let failed = 0
  for (const [i, d] of [seed, ...peers].entries()) {
    const s = await (await fetch(`http://${d.api}/api/v1/status`)).json()
    const task = s.tasks.find(t => t.digest === digest)
    const r = i === 0 ? undefined : results[i - 1]
    if (r != null && r.code !== 0) failed++
    console.log(`${d.name.padEnd(8)} ${r == null ? '     -' : r.code === 0 ? `${r.seconds.toFixed(1).padStart(5)}s` : ' FAIL '}  ${mib(s.stats.bytesFromOrigin).padStart(8)} MiB  ${mib(s.stats.bytesFromPeers).padStart(7)} MiB  ${mib(s.stats.bytesUploaded).padStart(5)} MiB  ${Object.keys(task?.parents ?? {}).length}`)
  }
  const times = results.filter(r => r.code === 0).map(r => r.seconds).sort((a, b) => a - b)
  if (times.length > 0) console.log(`\ncompletion: median ${times[Math.floor(times.length / 2)].toFixed(1)} s, slowest ${times[times.length - 1].toFixed(1)} s`)
  console.log(`the origin sent ${mib(originBytes)} MiB for ${peers.length} copies of ${sizeMiB} MiB (${(originBytes / blob.length).toFixed(2)}x the blob; direct pulls would send ${peers.length}x)`)
  process.exitCode = failed > 0 ? 1 : 0
} finally {
  await cleanup()
}
