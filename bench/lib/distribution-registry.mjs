// The CNCF distribution registry (Debian's docker-registry) on 127.0.0.1 with
// filesystem storage in a temp dir, and skopeo to push an OCI layout into it.
// The same setup as packages/cli/test/helpers/registry.ts, reduced to what the bench needs.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { makeTempDir, stopChild, track } from './processes.mjs'

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

/** Runs a command to completion (SIGKILL after timeoutMs); rejects with its output unless it exits 0. */
export async function run (cmd, args, timeoutMs) {
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
  let out = ''
  child.stdout.on('data', d => { out = (out + d).slice(-20000) })
  child.stderr.on('data', d => { out = (out + d).slice(-20000) })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code, signal] = await once(child, 'close')
  clearTimeout(timer)
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}):\n${out}`)
  return out
}

/** Starts docker-registry; resolves once GET /v2/ answers 200 (within 15 s). */
export async function startDistributionRegistry () {
  const root = await makeTempDir('damselfly-bench-registry-')
  const host = `127.0.0.1:${await freePort()}`
  const config = join(root, 'config.yml')
  await writeFile(config, [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  formatter: json',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(root, 'storage'))}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${host}`,
    '  secret: damselfly-bench-secret',
    'health:',
    '  storagedriver:',
    '    enabled: false'
  ].join('\n') + '\n')
  const child = track(spawn(REGISTRY_BIN, ['serve', config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }))
  let output = ''
  let spawnError
  // a missing binary is an 'error' event, which unheard takes the whole bench down
  child.once('error', err => { spawnError = err })
  child.stdout.on('data', d => { output = (output + d).slice(-20000) })
  child.stderr.on('data', d => { output = (output + d).slice(-20000) })
  const deadline = Date.now() + 15_000
  while (true) {
    if (spawnError != null) throw new Error(`cannot start ${REGISTRY_BIN} (${spawnError.code ?? spawnError.message}): install it with \`node scripts/test-tools.mjs docker-registry skopeo\` (apt-get install -y docker-registry skopeo)`)
    if (child.exitCode != null || child.signalCode != null) throw new Error(`docker-registry exited during start:\n${output}`)
    try {
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.status === 200) break
    } catch {
      // not listening yet
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
      await run(SKOPEO_BIN, ['--policy', policy, '--tmpdir', join(root, 'skopeo-tmp'), 'copy', '--quiet', '--preserve-digests',
        '--dest-tls-verify=false', `oci:${layoutDir}:${tag}`, `docker://${host}/${ref}`], 120_000)
    },
    stop: () => stopChild(child)
  }
}
