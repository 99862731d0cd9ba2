import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { Cluster, metric } from './helpers/cluster.js'
import { startContainerd, writeHostsToml } from './helpers/containerd.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import { startTokenServer } from './helpers/token-server.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestContainerd } from './helpers/containerd.js'
import type { BuiltImage, Credentials, TestRegistry } from './helpers/registry.js'
import type { TokenServer } from './helpers/token-server.js'

const MiB = 1024 * 1024
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
const alice = { user: 'alice', password: 'wonderland' }
const bob = { user: 'bob', password: 'builder' }

function basic (c: Credentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** Bytes a daemon's mirror sent, all sources together. */
async function mirrorBytes (cluster: Cluster, d: DaemonProcess): Promise<number> {
  const text = await cluster.api(d, '/metrics')
  let n = 0
  for (const source of ['cache', 'peer', 'seed', 'upstream']) n += metric(text, 'damselfly_mirror_bytes_total', { source }) ?? 0
  return n
}

// Content-addressed is not public. A node whose peers hold every layer of a
// private image must still give them only to a client the registry would
// give them to, whatever the client names and however it asks.
describe('private images stay private (the registry with htpasswd)', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const decoy = new TestOrigin()
  let registry: TestRegistry
  let secret: BuiltImage
  let unpulled: BuiltImage
  let seed: DaemonProcess
  let holder: DaemonProcess
  let stranger: DaemonProcess
  let runtime: TestContainerd
  let root: string

  beforeAll(async () => {
    root = await cluster.root()
    await decoy.start()
    registry = await startRegistry({ auth: alice })
    ;[secret, unpulled] = await Promise.all([
      buildImage(join(root, 'secret'), { layers: [2 * MiB, 3 * MiB], seed: 'secret' }),
      buildImage(join(root, 'unpulled'), { layers: [MiB], seed: 'unpulled' })
    ])
    await registry.push(secret.dir, 'private/app:v1', alice)
    await registry.push(unpulled.dir, 'private/next:v1', alice)
    const dockerConfig = join(root, 'docker-config.json')
    await writeFile(dockerConfig, JSON.stringify({ auths: { [registry.host]: { username: alice.user, password: alice.password } } }))
    const insecure = ['--insecure-registry', registry.host]
    seed = await cluster.start('seed', ['--seed', ...insecure, '--docker-config', dockerConfig])
    holder = await cluster.start('holder', ['--bootstrap', seed.addrs[0]!, ...insecure])
    stranger = await cluster.start('stranger', ['--bootstrap', seed.addrs[0]!, '--bootstrap', holder.addrs[0]!, ...insecure])
    runtime = await startContainerd()
    // alice pulls the image through the holder: the seed and the holder then hold every layer
    const hostsDir = join(root, 'hosts-holder')
    await writeHostsToml(hostsDir, registry.host, holder.mirror!, { skipServer: true })
    const pull = await runtime.pull(`${registry.host}/private/app:v1`, { hostsDir, user: `${alice.user}:${alice.password}` })
    expect(pull.code, pull.output).toBe(0)
    await runtime.removeImage(`${registry.host}/private/app:v1`)
    registry.resetCounts()
  }, 180_000)

  afterAll(async () => {
    await runtime?.close()
    await cluster.stop()
    await registry?.close()
    await decoy.stop()
  })

  it('gives no layer its peers hold to a client without credentials, or with wrong ones', async () => {
    for (const layer of [secret.config, ...secret.layers]) {
      for (const authorization of [undefined, basic({ user: 'alice', password: 'guess' }), basic({ user: 'mallory', password: 'x' }), 'Bearer forged']) {
        const res = await fetch(`http://${stranger.mirror!}/v2/private/app/blobs/${layer.digest}?ns=${registry.host}`, { headers: authorization != null ? { authorization } : {} })
        expect(res.status, `${layer.digest} with ${authorization ?? 'nothing'}`).toBe(401)
        // the registry's own challenge, so the client can log in and ask again
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="damselfly-test"/)
        expect(res.headers.get('x-damselfly-source')).toBeNull()
      }
    }
    expect(await mirrorBytes(cluster, stranger)).toBe(0)
    expect(registry.blobGets()).toBe(0)
  })

  it('has nobody pull a layer nobody holds yet for an anonymous caller', async () => {
    const layer = unpulled.layers[0]!
    const res = await fetch(`http://${stranger.mirror!}/v2/private/next/blobs/${layer.digest}?ns=${registry.host}`)
    expect(res.status).toBe(401)
    // neither the node nor the seed (with its credentials) fetched it
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(registry.blobGets(layer.digest)).toBe(0)
    expect((await cluster.api(seed, '/api/v1/tasks') as Array<{ digest: string }>).map(t => t.digest)).not.toContain(layer.digest)
  })

  it('serves a held blob under no repository but one the registry has it in', async () => {
    const layer = secret.layers[0]!
    const other = await fetch(`http://${stranger.mirror!}/v2/some/other/repo/blobs/${layer.digest}?ns=${registry.host}`, { headers: { authorization: basic(alice) } })
    expect(other.status).toBe(404)
    expect(((await other.json()) as any).errors[0].code).toBe('BLOB_UNKNOWN')
    const right = await fetch(`http://${stranger.mirror!}/v2/private/app/blobs/${layer.digest}?ns=${registry.host}`, { headers: { authorization: basic(alice) } })
    expect(right.status).toBe(200)
    expect(right.headers.get('x-damselfly-source')).toMatch(/^(peer|seed)$/)
    expect(sha256(Buffer.from(await right.arrayBuffer()))).toBe(layer.digest)
    // from peers: the registry answered the checks and sent no blob
    expect(registry.blobGets()).toBe(0)
  })

  it('does not serve a manifest it cached to a client with wrong credentials', async () => {
    const url = `http://${stranger.mirror!}/v2/private/app/manifests/${secret.manifest.digest}?ns=${registry.host}`
    const first = await fetch(url, { headers: { accept: ACCEPT, authorization: basic(alice) } })
    expect(first.status).toBe(200)
    expect(sha256(Buffer.from(await first.arrayBuffer()))).toBe(secret.manifest.digest)
    for (const authorization of [undefined, basic({ user: 'alice', password: 'guess' })]) {
      const again = await fetch(url, { headers: { accept: ACCEPT, ...(authorization != null ? { authorization } : {}) } })
      expect(again.status, authorization ?? 'no credentials').toBe(401)
    }
    const cached = await fetch(url, { headers: { accept: ACCEPT, authorization: basic(alice) } })
    expect(cached.status).toBe(200)
    expect(cached.headers.get('x-damselfly-source')).toBe('cache')
  })

  it('reads no private blob out through the control API, by its registry URL or by a plain one', async () => {
    const layer = secret.layers[1]!
    const byRegistry = await fetch(`http://${stranger.api}/api/v1/blobs/${layer.digest}?url=${encodeURIComponent(`${registry.url}/v2/private/app/blobs/${layer.digest}`)}`)
    expect(byRegistry.status).toBe(401)
    // a plain URL the node may read, which serves something else: it cannot vouch for the blob
    const other = makeBlob('/decoy.bin', layer.size)
    decoy.add(other)
    const byDecoy = await fetch(`http://${stranger.api}/api/v1/blobs/${layer.digest}?url=${encodeURIComponent(`${decoy.url}${other.path}`)}`)
    expect(byDecoy.status).toBe(403)
    expect(((await byDecoy.json()) as any).error.message).toMatch(/does not serve/)
    expect(decoy.probes).toBe(1)
    const bare = await fetch(`http://${stranger.api}/api/v1/blobs/${layer.digest}`)
    expect(bare.status).toBe(400)
  })

  it('fails a credential-less containerd pull with the registry\'s 401, and a pull with credentials gets every layer from peers', async () => {
    const runtime2 = await startContainerd()
    try {
      const hostsDir = join(root, 'hosts-stranger')
      await writeHostsToml(hostsDir, registry.host, stranger.mirror!, { skipServer: true })
      const before = await mirrorBytes(cluster, stranger)
      const refused = await runtime2.pull(`${registry.host}/private/app:v1`, { hostsDir })
      expect(refused.code).not.toBe(0)
      expect(refused.output).toMatch(/401|unauthorized|authoriz/i)
      expect(await mirrorBytes(cluster, stranger)).toBe(before)

      registry.resetCounts()
      const pulled = await runtime2.pull(`${registry.host}/private/app:v1`, { hostsDir, user: `${alice.user}:${alice.password}` })
      expect(pulled.code, pulled.output).toBe(0)
      expect(await runtime2.contentDigests()).toEqual(expect.arrayContaining(secret.layers.map(l => l.digest)))
      // the registry sent no layer again, and the manifest it resolved taught the node every digest: no HEAD per blob
      expect(registry.blobGets()).toBe(0)
      expect(registry.requests().filter(r => r.method === 'HEAD' && r.uri.includes('/blobs/'))).toEqual([])
    } finally {
      await runtime2.close()
    }
  }, 180_000)
})

describe('private images stay private (the registry in token mode)', () => {
  const cluster = new Cluster()
  let tokens: TokenServer
  let registry: TestRegistry
  let open: BuiltImage
  let secret: BuiltImage
  let seed: DaemonProcess
  let node: DaemonProcess
  let runtime: TestContainerd
  let root: string

  beforeAll(async () => {
    root = await cluster.root()
    tokens = await startTokenServer([bob])
    registry = await startRegistry({ token: tokens })
    ;[open, secret] = await Promise.all([
      buildImage(join(root, 'open'), { layers: [MiB], seed: 'open-token' }),
      buildImage(join(root, 'secret'), { layers: [2 * MiB], seed: 'secret-token' })
    ])
    await registry.push(open.dir, 'library/app:v1', bob)
    await registry.push(secret.dir, 'private/app:v1', bob)
    const dockerConfig = join(root, 'docker-config.json')
    await writeFile(dockerConfig, JSON.stringify({ auths: { [registry.host]: { username: bob.user, password: bob.password } } }))
    seed = await cluster.start('seed', ['--seed', '--insecure-registry', registry.host, '--docker-config', dockerConfig])
    node = await cluster.start('node', ['--bootstrap', seed.addrs[0]!, '--insecure-registry', registry.host])
    runtime = await startContainerd()
    // bob's pull through the seed's own mirror leaves the seed holding the private image
    const hostsDir = join(root, 'hosts-seed')
    await writeHostsToml(hostsDir, registry.host, seed.mirror!, { skipServer: true })
    const pull = await runtime.pull(`${registry.host}/private/app:v1`, { hostsDir, user: `${bob.user}:${bob.password}` })
    expect(pull.code, pull.output).toBe(0)
    await runtime.removeImage(`${registry.host}/private/app:v1`)
    registry.resetCounts()
  }, 180_000)

  afterAll(async () => {
    await runtime?.close()
    await cluster.stop()
    await registry?.close()
    await tokens?.close()
  })

  it('answers an anonymous client with the registry\'s bearer challenge, and names no private blob under a public repository', async () => {
    const layer = secret.layers[0]!
    const anonymous = await fetch(`http://${node.mirror!}/v2/private/app/blobs/${layer.digest}?ns=${registry.host}`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toContain(`Bearer realm="${tokens.realm}"`)
    // anonymous clients may read library/app: that does not make the private layer theirs
    const aliased = await fetch(`http://${node.mirror!}/v2/library/app/blobs/${layer.digest}?ns=${registry.host}`)
    expect(aliased.status).toBe(404)
    expect(await mirrorBytes(cluster, node)).toBe(0)
  })

  it('pulls with containerd: the public image anonymously, the private one only with credentials, from the swarm', async () => {
    const hostsDir = join(root, 'hosts-node')
    await writeHostsToml(hostsDir, registry.host, node.mirror!, { skipServer: true })
    const publicPull = await runtime.pull(`${registry.host}/library/app:v1`, { hostsDir })
    expect(publicPull.code, publicPull.output).toBe(0)

    const refused = await runtime.pull(`${registry.host}/private/app:v1`, { hostsDir })
    expect(refused.code).not.toBe(0)
    const privateLayer = secret.layers[0]!
    const text = await cluster.api(node, '/metrics')
    expect(metric(text, 'damselfly_mirror_bytes_total', { source: 'peer' }) ?? 0).toBeLessThan(privateLayer.size)

    const before = registry.blobGets(privateLayer.digest)
    const pulled = await runtime.pull(`${registry.host}/private/app:v1`, { hostsDir, user: `${bob.user}:${bob.password}` })
    expect(pulled.code, pulled.output).toBe(0)
    expect(await runtime.contentDigests()).toContain(privateLayer.digest)
    expect(registry.blobGets(privateLayer.digest)).toBe(before)
  }, 180_000)
})
