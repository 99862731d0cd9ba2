import { createHash } from 'node:crypto'
import { open, readFile, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric } from './helpers/cluster.js'
import { startContainerd, writeHostsToml } from './helpers/containerd.js'
import { buildImage, runCommand, SKOPEO_BIN, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestContainerd } from './helpers/containerd.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'

/** One raw HTTP/1.1 request on a socket, so nothing normalises the path first; resolves with status and body. */
async function rawRequest (hostPort: string, head: string): Promise<{ status: number, body: string }> {
  const [host, port] = hostPort.split(':') as [string, string]
  const socket = connect({ host, port: Number(port) })
  socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')))
  // write, not end: a half-closed request is one Node's server may drop before it answers
  socket.write(head)
  let text = ''
  socket.setEncoding('utf8')
  for await (const chunk of socket) text += chunk as string
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) }
}

async function ociError (res: Response): Promise<string | undefined> {
  const body = await res.json() as { errors?: Array<{ code: string }> }
  return body.errors?.[0]?.code
}

describe('registry mirror against the CNCF distribution registry', () => {
  const cluster = new Cluster()
  const nodes: DaemonProcess[] = []
  const runtimes: TestContainerd[] = []
  let registry: TestRegistry
  let secured: TestRegistry
  let seed: DaemonProcess
  let image: BuiltImage
  let other: BuiltImage
  let secret: BuiltImage
  let root: string

  beforeAll(async () => {
    root = await cluster.root()
    ;[registry, secured] = await Promise.all([startRegistry(), startRegistry({ auth: { user: 'alice', password: 'wonderland' } })])
    ;[image, other, secret] = await Promise.all([
      buildImage(join(root, 'image'), { layers: [3 * MiB, 9 * MiB, 20 * MiB], seed: 'app' }),
      buildImage(join(root, 'other'), { layers: [2 * MiB], seed: 'other' }),
      buildImage(join(root, 'secret'), { layers: [1 * MiB, 2 * MiB], seed: 'secret' })
    ])
    await registry.push(image.dir, 'demo/app:v1')
    await registry.push(other.dir, 'demo/other:v1')
    await secured.push(secret.dir, 'private/app:v1', { user: 'alice', password: 'wonderland' })
    registry.resetCounts()
    secured.resetCounts()

    const dockerConfig = join(root, 'docker-config.json')
    await writeFile(dockerConfig, JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('alice:wonderland').toString('base64') } } }))
    const insecure = ['--insecure-registry', registry.host, '--insecure-registry', secured.host]
    seed = await cluster.start('seed', ['--seed', ...insecure, '--docker-config', dockerConfig, '--default-registry', secured.host])
    for (let i = 0; i < 3; i++) {
      nodes.push(await cluster.start(`node${i}`, ['--bootstrap', seed.addrs[0]!, ...insecure, '--default-registry', registry.host]))
    }
    for (let i = 0; i < 3; i++) runtimes.push(await startContainerd())
  }, 120_000)

  afterAll(async () => {
    await Promise.all(runtimes.map(async r => r.close()))
    await cluster.stop()
    await Promise.all([registry?.close(), secured?.close()])
  })

  it('three containerd pull one image through three daemons at once, and the registry sends each blob once', async () => {
    const pulls = await Promise.all(nodes.map(async (node, i) => {
      const hostsDir = join(root, `hosts-${i}`)
      // the mirror is containerd's only route: a failing mirror fails the pull instead of hiding behind the registry
      await writeHostsToml(hostsDir, registry.host, node.mirror!, { skipServer: true })
      return runtimes[i]!.pull(`${registry.host}/demo/app:v1`, { hostsDir })
    }))
    for (const p of pulls) expect(p.code, p.output).toBe(0)
    for (const r of runtimes) {
      expect(await r.contentDigests()).toEqual(expect.arrayContaining([image.manifest.digest, image.config.digest, ...image.layers.map(l => l.digest)]))
    }
    // each blob left the registry exactly once, whoever asked for it
    const blobs = [image.config, ...image.layers]
    expect(await registry.waitFor(() => registry.blobGets() >= blobs.length)).toBe(true)
    for (const b of blobs) expect(registry.blobGets(b.digest), b.digest).toBe(1)
    expect(registry.blobBytes()).toBe(image.totalBytes)

    // the mirrors say where the bytes came from: the seed pulled, the nodes got theirs through the swarm
    let fromSwarm = 0
    for (const node of nodes) {
      const text = await cluster.api(node, '/metrics')
      fromSwarm += (metric(text, 'damselfly_mirror_bytes_total', { source: 'seed' }) ?? 0) + (metric(text, 'damselfly_mirror_bytes_total', { source: 'peer' }) ?? 0)
      expect(metric(text, 'damselfly_mirror_bytes_total', { source: 'upstream' })).toBe(0)
    }
    expect(fromSwarm).toBe(3 * image.totalBytes)
  }, 180_000)

  it('skopeo copies the image through the mirror, and a Range request returns the right bytes', async () => {
    const node = nodes[0]!
    const dest = join(root, 'copied')
    // no ns parameter here: the daemon's --default-registry names the upstream, as CRI-O and Docker need
    const policy = join(root, 'policy.json')
    await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }))
    const r = await runCommand(SKOPEO_BIN, ['--policy', policy, '--tmpdir', root, 'copy', '--quiet', '--preserve-digests', '--src-tls-verify=false',
      `docker://${node.mirror!}/demo/app:v1`, `oci:${dest}:v1`], 120_000)
    expect(r.code, r.stderr).toBe(0)
    for (const l of image.layers) {
      const copied = await readFile(join(dest, 'blobs', 'sha256', l.digest.slice(7)))
      expect(`sha256:${createHash('sha256').update(copied).digest('hex')}`).toBe(l.digest)
    }

    const layer = image.layers[1]!
    const res = await fetch(`http://${node.mirror!}/v2/demo/app/blobs/${layer.digest}`, { headers: { range: 'bytes=1000000-1999999' } })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`bytes 1000000-1999999/${layer.size}`)
    expect(res.headers.get('docker-content-digest')).toBe(layer.digest)
    const got = Buffer.from(await res.arrayBuffer())
    const want = Buffer.alloc(1_000_000)
    const fh = await open(join(image.dir, 'blobs', 'sha256', layer.digest.slice(7)))
    await fh.read(want, 0, want.length, 1_000_000)
    await fh.close()
    expect(got.equals(want)).toBe(true)

    const head = await fetch(`http://${node.mirror!}/v2/demo/app/manifests/v1`, { method: 'HEAD', headers: { accept: ACCEPT } })
    expect(head.status).toBe(200)
    expect(head.headers.get('docker-content-digest')).toBe(image.manifest.digest)
    expect(head.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(Number(head.headers.get('content-length'))).toBe(image.manifest.size)
  }, 180_000)

  it('a protected repository pulls through the seed that holds the credentials; a node without them gets a 401', async () => {
    const hostsDir = join(root, 'hosts-secret')
    await writeHostsToml(hostsDir, secured.host, seed.mirror!, { skipServer: true })
    const pull = await runtimes[0]!.pull(`${secured.host}/private/app:v1`, { hostsDir })
    expect(pull.code, pull.output).toBe(0)
    expect(await runtimes[0]!.contentDigests()).toEqual(expect.arrayContaining(secret.layers.map(l => l.digest)))

    const url = `http://${nodes[1]!.mirror!}/v2/private/app/manifests/v1?ns=${secured.host}`
    const refused = await fetch(url, { headers: { accept: ACCEPT } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /)
    expect(await ociError(refused)).toBe('UNAUTHORIZED')
    // the client's own credentials are passed upstream: the registry decides, as it would without a mirror
    const allowed = await fetch(url, { headers: { accept: ACCEPT, authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` } })
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('docker-content-digest')).toBe(secret.manifest.digest)
    const wrong = await fetch(url, { headers: { accept: ACCEPT, authorization: `Basic ${Buffer.from('alice:guess').toString('base64')}` } })
    expect(wrong.status).toBe(401)
  }, 180_000)

  it('with the registry stopped, blobs already in the swarm still serve and new ones fail with a clear OCI error', async () => {
    await registry.stop()
    try {
      // asked the moment it starts, before it has met any peer: it must wait for the swarm rather than fail on the dead
      // registry. It cannot ask the registry who may read the layer: a node that pulled the image says anyone may
      const late = await cluster.start('late', ['--bootstrap', seed.addrs[0]!, '--bootstrap', nodes[0]!.addrs[0]!, '--insecure-registry', registry.host])
      const layer = image.layers[2]!
      const res = await fetch(`http://${late.mirror!}/v2/demo/app/blobs/${layer.digest}?ns=${registry.host}`)
      expect(res.status, res.status !== 200 ? await res.text() : '').toBe(200)
      expect(res.headers.get('x-damselfly-source')).toMatch(/^(peer|seed)$/)
      const body = Buffer.from(await res.arrayBuffer())
      expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(layer.digest)

      const started = Date.now()
      const missing = await fetch(`http://${late.mirror!}/v2/demo/other/blobs/${other.layers[0]!.digest}?ns=${registry.host}`, { signal: AbortSignal.timeout(60_000) })
      expect(missing.status).toBe(502)
      const err = await missing.json() as { errors: Array<{ code: string, message: string }> }
      expect(err.errors[0]!.code).toBe('UPSTREAM_UNAVAILABLE')
      expect(err.errors[0]!.message).toMatch(/could not be (reached|fetched)|ECONNREFUSED/)
      expect(Date.now() - started).toBeLessThan(30_000)

      const tag = await fetch(`http://${late.mirror!}/v2/demo/other/manifests/v1?ns=${registry.host}`, { headers: { accept: ACCEPT } })
      expect(tag.status).toBe(502)
      expect(await ociError(tag)).toBe('UPSTREAM_UNAVAILABLE')
    } finally {
      await registry.start()
    }
  }, 120_000)

  it('answers bad requests with the right OCI error and keeps serving', async () => {
    const node = nodes[2]!
    const m = node.mirror!
    const D = image.layers[0]!.digest
    const ns = `ns=${registry.host}`
    const cases: Array<[string, number, string]> = [
      [`GET /v2/../../etc/passwd/blobs/${D}?${ns} HTTP/1.1`, 400, 'NAME_INVALID'],
      [`GET /v2/a%2F..%2F..%2Fb/blobs/${D}?${ns} HTTP/1.1`, 400, 'NAME_INVALID'],
      [`GET /v2/Upper/Case/blobs/${D}?${ns} HTTP/1.1`, 400, 'NAME_INVALID'],
      [`GET /v2/demo/app/blobs/sha256:1234?${ns} HTTP/1.1`, 400, 'DIGEST_INVALID'],
      [`GET /v2/demo/app/blobs/md5:0123456789abcdef0123456789abcdef?${ns} HTTP/1.1`, 400, 'DIGEST_INVALID'],
      [`GET /v2/demo/app/manifests/sha256:nope?${ns} HTTP/1.1`, 400, 'DIGEST_INVALID'],
      [`GET /v2/demo/app/blobs/sha256:${'0'.repeat(64)}?${ns} HTTP/1.1`, 404, 'BLOB_UNKNOWN'],
      [`GET /v2/demo/app/manifests/nosuchtag?${ns} HTTP/1.1`, 404, 'MANIFEST_UNKNOWN'],
      [`GET /v2/demo/app/blobs/${D}?ns=http://evil/ HTTP/1.1`, 400, 'NAME_INVALID'],
      [`PUT /v2/demo/app/manifests/v1?${ns} HTTP/1.1`, 405, 'UNSUPPORTED'],
      [`GET /v2/demo/app/blobs/${D}?${ns} HTTP/1.1\r\nx-big: ${'a'.repeat(40_000)}`, 431, 'UNSUPPORTED']
    ]
    for (const [line, status, code] of cases) {
      const r = await rawRequest(m, `${line}\r\nhost: ${m}\r\naccept: ${ACCEPT}\r\nconnection: close\r\n\r\n`)
      expect(r.status, line.slice(0, 80)).toBe(status)
      expect(JSON.parse(r.body).errors[0].code, line.slice(0, 80)).toBe(code)
    }
    const range = await fetch(`http://${m}/v2/demo/app/blobs/${D}?${ns}`, { headers: { range: `bytes=${image.layers[0]!.size}-` } })
    expect(range.status).toBe(416)
    expect(range.headers.get('content-range')).toBe(`bytes */${image.layers[0]!.size}`)
    // still alive and serving
    expect((await fetch(`http://${node.api}/healthz`)).status).toBe(200)
    expect((await fetch(`http://${m}/v2/`)).status).toBe(200)
  }, 60_000)
})
