import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import { Cluster } from './helpers/cluster.js'
import { startContainerd, writeHostsToml } from './helpers/containerd.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestContainerd } from './helpers/containerd.js'
import type { BuiltImage, Credentials, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
const alice = { user: 'alice', password: 'wonderland' }

function basic (c: Credentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

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
    // ctr gives up in 60 s, so a pull that hangs says where (once in a CI run one stopped at 1 of a layer's 2 MiB for 120 s)
    const pull = await runtime.pull(`${registry.host}/private/app:v1`, { hostsDir, user: `${alice.user}:${alice.password}`, timeoutMs: 60_000 })
    if (pull.code !== 0) expect(pull.code, `${pull.output.slice(-2000)}\n${await cluster.explain({ holder, seed })}`).toBe(0)
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
    expect(await cluster.mirrorBytes(stranger)).toBe(0)
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
      const before = await cluster.mirrorBytes(stranger)
      const refused = await runtime2.pull(`${registry.host}/private/app:v1`, { hostsDir })
      expect(refused.code).not.toBe(0)
      expect(refused.output).toMatch(/401|unauthorized|authoriz/i)
      expect(await cluster.mirrorBytes(stranger)).toBe(before)

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
