import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { get as httpsGet } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcryptjs'
import { stopChild } from '../../src/daemon-process.js'
import { generateImage } from '../../src/demo/image.js'
import type { ChildProcess } from 'node:child_process'
import type { AddressInfo } from 'node:net'

export const REGISTRY_BIN = '/usr/bin/docker-registry'
export const SKOPEO_BIN = '/usr/bin/skopeo'

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar'

// ---------------------------------------------------------------------------
// Processes: every child started here is tracked, and SIGKILLed if the test
// process exits without stopping it.

const live = new Set<ChildProcess>()
let exitHooked = false

/** Remembers a child so it is SIGKILLed (by PID) should this process exit first. */
export function trackChild (child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (!exitHooked) {
    exitHooked = true
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL')
    })
  }
}

export interface CommandResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
  /** Wall time in milliseconds. */
  ms: number
}

/** Runs a command to completion; SIGKILLs it after timeoutMs. Never throws for a failing command. */
export async function runCommand (cmd: string, args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CommandResult> {
  const started = Date.now()
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  trackChild(child)
  let stdout = ''
  let stderr = ''
  let timedOut = false
  child.stdout.on('data', d => { stdout = keepTail(stdout + String(d)) })
  child.stderr.on('data', d => { stderr = keepTail(stderr + String(d)) })
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => {
    child.once('error', err => {
      stderr += String(err)
      resolve([null, null])
    })
    child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s]))
  })
  clearTimeout(timer)
  return { code, signal, stdout, stderr, timedOut, ms: Date.now() - started }
}

const MAX_OUTPUT = 4 * 1024 * 1024

/** Caps captured output, keeping the end (where the errors are). */
function keepTail (text: string): string {
  return text.length > MAX_OUTPUT ? text.slice(text.length - MAX_OUTPUT) : text
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

export { stopChild }

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

// ---------------------------------------------------------------------------
// OCI image layouts

export interface BlobRef {
  digest: string
  size: number
}

export interface BuiltImage {
  /** The OCI image layout directory. */
  dir: string
  /** The tag in the layout (annotation org.opencontainers.image.ref.name). */
  tag: string
  manifest: BlobRef & { mediaType: string, bytes: Buffer }
  config: BlobRef
  /** Uncompressed tar layers, in order; each diff_id equals its digest. */
  layers: BlobRef[]
  /** Bytes of all blobs a pull GETs from /v2/<name>/blobs/: config plus layers (the manifest is not counted). */
  totalBytes: number
}

export interface BuildImageOptions {
  /** Size in bytes of the single file in each layer (the tar blob is 1.5 KiB + padding larger). */
  layers: number[]
  /** Content of layer i is derived from (seed, i); same seed, same digests. Default 'damselfly'. */
  seed?: string
  /** Default 'latest'. */
  tag?: string
}

/** An OCI image layout with uncompressed tar layers of the given content sizes: the demo's generator, with the tests' names. */
export async function buildImage (dir: string, opts: BuildImageOptions): Promise<BuiltImage> {
  const image = await generateImage(dir, { layers: opts.layers, seed: opts.seed ?? 'damselfly', tag: opts.tag })
  const ref = (b: { digest: string, size: number }): BlobRef => ({ digest: b.digest, size: b.size })
  return { dir, tag: image.tag, manifest: image.manifest, config: ref(image.config), layers: image.layers.map(ref), totalBytes: image.totalBytes }
}

// ---------------------------------------------------------------------------
// Registry

export interface Credentials {
  user: string
  password: string
}

export interface StartRegistryOptions {
  /** Require HTTP basic auth (htpasswd, bcrypt) for everything. */
  auth?: Credentials
  /** Serve HTTPS with this certificate and key (see selfSignedCert). */
  tls?: { certPath: string, keyPath: string }
  /** Require bearer tokens from this token server (the registry's `auth: token` mode). */
  token?: { realm: string, service: string, issuer: string, certPath: string }
  /** Max wait for /v2/ to answer, per start. Default 15 s. */
  readyTimeoutMs?: number
}

/** One completed request, from the registry's "response completed" log entry. */
export interface RegistryRequest {
  method: string
  uri: string
  status: number
  /** Body bytes the registry wrote (less than the blob when the client went away). */
  written: number
}

const BLOB_URI = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})(?:\?.*)?$/

/**
 * A CNCF distribution registry (docker-registry 2.8) on 127.0.0.1, with
 * its own temp storage. It can be stopped and started again on the same
 * port and storage; requests are counted from its JSON log across restarts.
 */
export class TestRegistry {
  readonly host: string
  readonly url: string
  readonly root: string
  readonly auth: Credentials | undefined
  readonly token: StartRegistryOptions['token']
  readonly tls: StartRegistryOptions['tls']
  #readyTimeoutMs: number
  #child: ChildProcess | undefined
  #output = ''
  #requests: RegistryRequest[] = []

  constructor (root: string, port: number, opts: StartRegistryOptions) {
    this.root = root
    this.host = `127.0.0.1:${port}`
    this.url = `${opts.tls != null ? 'https' : 'http'}://${this.host}`
    this.tls = opts.tls
    this.auth = opts.auth
    this.token = opts.token
    this.#readyTimeoutMs = opts.readyTimeoutMs ?? 15_000
  }

  get configPath (): string {
    return join(this.root, 'config.yml')
  }

  /** Writes config.yml (and htpasswd with auth). Called once by startRegistry(). */
  async writeConfig (): Promise<void> {
    const lines = [
      'version: 0.1',
      'log:',
      '  level: info',
      '  formatter: json',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(join(this.root, 'storage'))}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: ${this.host}`,
      ...(this.tls != null ? ['  tls:', `    certificate: ${JSON.stringify(this.tls.certPath)}`, `    key: ${JSON.stringify(this.tls.keyPath)}`] : []),
      '  secret: damselfly-test-secret',
      'health:',
      '  storagedriver:',
      '    enabled: false'
    ]
    if (this.auth != null) {
      const htpasswd = join(this.root, 'htpasswd')
      await writeFile(htpasswd, `${this.auth.user}:${bcrypt.hashSync(this.auth.password, 10)}\n`)
      lines.push('auth:', '  htpasswd:', '    realm: damselfly-test', `    path: ${JSON.stringify(htpasswd)}`)
    } else if (this.token != null) {
      lines.push('auth:', '  token:', `    realm: ${JSON.stringify(this.token.realm)}`, `    service: ${JSON.stringify(this.token.service)}`,
        `    issuer: ${JSON.stringify(this.token.issuer)}`, `    rootcertbundle: ${JSON.stringify(this.token.certPath)}`)
    }
    await writeFile(this.configPath, lines.join('\n') + '\n')
  }

  /** PID of the running registry, if any. */
  get pid (): number | undefined {
    const child = this.#child
    return child != null && child.exitCode == null && child.signalCode == null ? child.pid : undefined
  }

  /** Starts the registry (again) and waits until /v2/ answers; throws with its output if it does not in time. */
  async start (): Promise<void> {
    if (this.pid != null) return
    const child = spawn(REGISTRY_BIN, ['serve', this.configPath], { cwd: this.root, stdio: ['ignore', 'pipe', 'pipe'] })
    trackChild(child)
    this.#child = child
    this.#collect(child.stdout!)
    this.#collect(child.stderr!)
    let spawnError: Error | undefined
    child.once('error', err => { spawnError = err })
    const deadline = Date.now() + this.#readyTimeoutMs
    while (true) {
      if (spawnError != null || child.exitCode != null || child.signalCode != null) {
        throw new Error(`registry exited during start (${spawnError?.message ?? child.exitCode ?? child.signalCode}):\n${this.#output}`)
      }
      try {
        const status = this.tls != null ? await httpsStatus(`${this.url}/v2/`, await readFile(this.tls.certPath, 'utf8')) : await httpStatus(`${this.url}/v2/`)
        if (status === 200 || (status === 401 && (this.auth != null || this.token != null))) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await stopChild(child, 1000, 'SIGKILL')
        throw new Error(`registry on ${this.host} not ready after ${this.#readyTimeoutMs} ms:\n${this.#output}`)
      }
      await sleep(100)
    }
  }

  /** Splits one stream into lines; keeps them for output() and parses request entries. */
  #collect (stream: NodeJS.ReadableStream): void {
    let partial = ''
    stream.on('data', (d: Buffer) => {
      const text = partial + d.toString()
      const lines = text.split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) this.#line(line)
    })
    stream.on('end', () => {
      if (partial !== '') this.#line(partial)
      partial = ''
    })
  }

  #line (line: string): void {
    this.#output = keepTail(this.#output + line + '\n')
    if (!line.startsWith('{')) return
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line)
    } catch {
      return
    }
    // 'response completed' or 'response completed with error'; one per request, after the body was written
    if (typeof entry.msg !== 'string' || !entry.msg.startsWith('response completed')) return
    const method = entry['http.request.method']
    const uri = entry['http.request.uri']
    const status = entry['http.response.status']
    if (typeof method !== 'string' || typeof uri !== 'string' || typeof status !== 'number') return
    const written = entry['http.response.written']
    this.#requests.push({ method, uri, status, written: typeof written === 'number' ? written : 0 })
  }

  /** Completed requests seen in the log since start or resetCounts(), in order. */
  requests (): RegistryRequest[] {
    return [...this.#requests]
  }

  /**
   * Per digest: successful (2xx, so 206 too) GETs of /v2/<name>/blobs/<digest>.
   * HEADs and failures do not count, nor do GETs cut off by stop(): the
   * registry logs a request only when its handler returns.
   */
  blobRequests (): Map<string, number> {
    const counts = new Map<string, number>()
    for (const r of this.#requests) {
      if (r.method !== 'GET' || r.status < 200 || r.status > 299) continue
      const m = BLOB_URI.exec(r.uri)
      if (m != null) counts.set(m[2]!, (counts.get(m[2]!) ?? 0) + 1)
    }
    return counts
  }

  /** Successful blob GETs of one digest, or of all digests together. */
  blobGets (digest?: string): number {
    const counts = this.blobRequests()
    if (digest != null) return counts.get(digest) ?? 0
    let total = 0
    for (const n of counts.values()) total += n
    return total
  }

  /** Body bytes written by successful blob GETs (all digests, or one). */
  blobBytes (digest?: string): number {
    let total = 0
    for (const r of this.#requests) {
      if (r.method !== 'GET' || r.status < 200 || r.status > 299) continue
      const m = BLOB_URI.exec(r.uri)
      if (m != null && (digest == null || m[2] === digest)) total += r.written
    }
    return total
  }

  /**
   * Polls (every 50 ms, up to timeoutMs) until check() is true; returns its last value.
   * The registry logs a request just after the client got the body, so give counts a moment.
   */
  async waitFor (check: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) return false
      await sleep(50)
    }
    return true
  }

  /** Forgets the requests counted so far. */
  resetCounts (): void {
    this.#requests = []
  }

  /** Everything the registry printed (all runs), for error messages. */
  output (): string {
    return this.#output
  }

  /**
   * Pushes the image tagged `tag` (default: the layout's only tag, 'latest')
   * of an OCI layout to `ref` ('repo/name:tag') with skopeo, keeping digests.
   */
  async push (layoutDir: string, ref: string, creds?: Credentials, opts: { tag?: string, timeoutMs?: number } = {}): Promise<void> {
    const policy = join(this.root, 'policy.json')
    await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }))
    const args = [
      '--policy', policy,
      '--tmpdir', join(this.root, 'skopeo-tmp'),
      'copy', '--quiet', '--preserve-digests',
      '--dest-tls-verify=false',
      '--dest-authfile', join(this.root, 'auth.json'),
      '--src-authfile', join(this.root, 'auth.json')
    ]
    await mkdir(join(this.root, 'skopeo-tmp'), { recursive: true })
    if (creds != null) args.push('--dest-creds', `${creds.user}:${creds.password}`)
    args.push(`oci:${layoutDir}:${opts.tag ?? 'latest'}`, `docker://${this.host}/${ref}`)
    const r = await runCommand(SKOPEO_BIN, args, opts.timeoutMs ?? 120_000)
    if (r.code !== 0) {
      throw new Error(`skopeo copy to ${this.host}/${ref} failed (${r.timedOut ? 'timed out' : `code ${r.code}`}):\n${r.stderr}${r.stdout}`)
    }
  }

  /**
   * Stops the registry (SIGTERM, SIGKILL after 5 s). With no drain timeout
   * configured it exits at once, cutting in-flight downloads.
   * Storage stays; start() serves it again on the same port.
   */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.#child != null) await stopChild(this.#child, 5000, signal)
  }

  /** Stops the registry and removes its temp dir. */
  async close (): Promise<void> {
    await this.stop()
    await rm(this.root, { recursive: true, force: true })
  }
}

/** Starts a registry on a free loopback port with fresh temp storage. Call close() when done. */
export async function startRegistry (opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'damselfly-registry-'))
  const registry = new TestRegistry(root, await freePort(), opts)
  try {
    await registry.writeConfig()
    await registry.start()
  } catch (err) {
    await registry.close()
    throw err
  }
  return registry
}

async function httpStatus (url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
  await res.arrayBuffer()
  return res.status
}

/** Status of a GET over HTTPS that trusts only `ca`. */
async function httpsStatus (url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca, timeout: 1000 }, res => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

/** A self-signed certificate for 127.0.0.1 (CN and subjectAltName), made with openssl. */
export async function selfSignedCert (dir: string): Promise<{ certPath: string, keyPath: string, pem: string }> {
  await mkdir(dir, { recursive: true })
  const certPath = join(dir, 'cert.pem')
  const keyPath = join(dir, 'key.pem')
  const r = await runCommand('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath,
    '-out', certPath, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], 15_000)
  if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`)
  return { certPath, keyPath, pem: await readFile(certPath, 'utf8') }
}
