// The CNCF distribution registry (Debian's docker-registry) on 127.0.0.1 (or in a network namespace) with
// filesystem storage in a temp dir, and skopeo to push an OCI layout into it.
// The same setup as packages/cli/test/helpers/registry.ts, reduced to what the bench needs.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { getInNetns, inNetns } from './netns.mjs'
import { makeTempDir, run, stopChild, track } from './processes.mjs'

export const REGISTRY_BIN = '/usr/bin/docker-registry'
export const SKOPEO_BIN = '/usr/bin/skopeo'

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

/** One access-log line of docker-registry (combined log format): client, method, path, status, body bytes. */
const ACCESS_LINE = /^(\S+) \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-)/

/**
 * Starts docker-registry; resolves once GET /v2/ answers 200 (within 15 s).
 * With `netns`, it runs in that network namespace on port 5000 of every
 * address there: clients in other namespaces reach it at `host`
 * (`address:5000`), and the readiness probe and the push go over the
 * namespace's loopback. With `accessLog`, `served()` sums the response bodies
 * it sent since `reset()`, by client address.
 */
export async function startDistributionRegistry ({ netns, address, accessLog = false } = {}) {
  const root = await makeTempDir('damselfly-bench-registry-')
  const local = netns != null ? '127.0.0.1:5000' : `127.0.0.1:${await freePort()}`
  const host = netns != null ? `${address}:5000` : local
  const config = join(root, 'config.yml')
  await writeFile(config, [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  formatter: json',
    '  accesslog:',
    `    disabled: ${!accessLog}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(root, 'storage'))}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${netns != null ? ':5000' : host}`,
    '  secret: damselfly-bench-secret',
    'health:',
    '  storagedriver:',
    '    enabled: false'
  ].join('\n') + '\n')
  const [cmd, args] = netns != null ? inNetns(netns, REGISTRY_BIN, ['serve', config]) : [REGISTRY_BIN, ['serve', config]]
  const child = track(spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }))
  let output = ''
  let spawnError
  let served = { bytes: 0, requests: 0, byClient: {} }
  let pending = ''
  const count = line => {
    const m = ACCESS_LINE.exec(line)
    if (m == null || m[2] === 'PUT' || m[2] === 'PATCH' || m[2] === 'POST') return
    const bytes = m[5] === '-' ? 0 : Number(m[5])
    served.bytes += bytes
    served.requests++
    served.byClient[m[1]] = (served.byClient[m[1]] ?? 0) + bytes
  }
  // a missing binary is an 'error' event, which unheard takes the whole bench down
  child.once('error', err => { spawnError = err })
  child.stdout.on('data', d => {
    output = (output + d).slice(-20000)
    if (!accessLog) return
    const lines = (pending + d).split('\n')
    pending = lines.pop() ?? ''
    lines.forEach(count)
  })
  child.stderr.on('data', d => { output = (output + d).slice(-20000) })
  const deadline = Date.now() + 15_000
  while (true) {
    if (spawnError != null) throw new Error(`cannot start ${REGISTRY_BIN} (${spawnError.code ?? spawnError.message}): install it with \`node scripts/test-tools.mjs docker-registry skopeo\` (apt-get install -y docker-registry skopeo)`)
    if (child.exitCode != null || child.signalCode != null) throw new Error(`docker-registry exited during start:\n${output}`)
    if (netns != null) {
      if ((await getInNetns(netns, `http://${local}/v2/`, { waitMs: 1000 })).status === 200) break
    } else {
      try {
        const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) })
        await res.arrayBuffer()
        if (res.status === 200) break
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) {
      await stopChild(child, 1000)
      throw new Error(`docker-registry on ${host} not ready within 15 s:\n${output}`)
    }
    await delay(100)
  }
  return {
    host,
    pid: child.pid,
    output: () => output,
    /** skopeo copy oci:LAYOUT:TAG docker://HOST/REF, keeping digests. */
    async push (layoutDir, tag, ref) {
      const policy = join(root, 'policy.json')
      await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }))
      await mkdir(join(root, 'skopeo-tmp'), { recursive: true })
      const skopeo = ['--policy', policy, '--tmpdir', join(root, 'skopeo-tmp'), 'copy', '--quiet', '--preserve-digests',
        '--dest-tls-verify=false', `oci:${layoutDir}:${tag}`, `docker://${local}/${ref}`]
      await run(...(netns != null ? inNetns(netns, SKOPEO_BIN, skopeo) : [SKOPEO_BIN, skopeo]), 120_000)
    },
    /** Response bodies sent since the last reset (reads and HEADs; pushes are not counted): { bytes, requests, byClient }. */
    served: () => structuredClone(served),
    reset: () => { served = { bytes: 0, requests: 0, byClient: {} } },
    stop: () => stopChild(child)
  }
}
