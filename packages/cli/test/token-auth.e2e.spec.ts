import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, metric } from './helpers/cluster.js'
import { startContainerd, writeHostsToml } from './helpers/containerd.js'
import { buildImage, startRegistry } from './helpers/registry.js'
import { startTokenServer } from './helpers/token-server.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestContainerd } from './helpers/containerd.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'
import type { TokenServer } from './helpers/token-server.js'

const MiB = 1024 * 1024
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
const bob = { user: 'bob', password: 'builder' }

describe('a registry that wants bearer tokens (the distribution registry in token mode)', () => {
  const cluster = new Cluster()
  let tokens: TokenServer
  let registry: TestRegistry
  let runtime: TestContainerd
  let seed: DaemonProcess
  let node: DaemonProcess
  let open: BuiltImage
  let secret: BuiltImage
  let root: string

  beforeAll(async () => {
    root = await cluster.root()
    tokens = await startTokenServer([bob])
    registry = await startRegistry({ token: tokens })
    ;[open, secret] = await Promise.all([
      buildImage(join(root, 'open'), { layers: [2 * MiB, 3 * MiB], seed: 'open' }),
      buildImage(join(root, 'secret'), { layers: [2 * MiB, 1 * MiB], seed: 'secret' })
    ])
    await registry.push(open.dir, 'library/app:v1', bob)
    await registry.push(secret.dir, 'private/app:v1', bob)
    tokens.issued.clear()
    const dockerConfig = join(root, 'docker-config.json')
    await writeFile(dockerConfig, JSON.stringify({ auths: { [registry.host]: { username: bob.user, password: bob.password } } }))
    seed = await cluster.start('seed', ['--seed', '--insecure-registry', registry.host, '--docker-config', dockerConfig])
    node = await cluster.start('node', ['--bootstrap', seed.addrs[0]!, '--insecure-registry', registry.host])
    runtime = await startContainerd()
  }, 120_000)

  afterAll(async () => {
    await runtime?.close()
    await cluster.stop()
    await registry?.close()
    await tokens?.close()
  })

  it('a public image pulls through a node without credentials, with anonymous tokens', async () => {
    const hostsDir = join(root, 'hosts-open')
    await writeHostsToml(hostsDir, registry.host, node.mirror!, { skipServer: true })
    const pull = await runtime.pull(`${registry.host}/library/app:v1`, { hostsDir })
    expect(pull.code, pull.output).toBe(0)
    expect(await runtime.contentDigests()).toEqual(expect.arrayContaining(open.layers.map(l => l.digest)))
    expect(tokens.issued.get('') ?? 0).toBeGreaterThan(0)
    const text = await cluster.api(node, '/metrics')
    expect((metric(text, 'damselfly_mirror_bytes_total', { source: 'seed' }) ?? 0) + (metric(text, 'damselfly_mirror_bytes_total', { source: 'peer' }) ?? 0)).toBe(open.totalBytes)
  }, 120_000)

  it('a private image pulls through the seed, whose credentials buy one token for the whole pull', async () => {
    const hostsDir = join(root, 'hosts-secret')
    await writeHostsToml(hostsDir, registry.host, seed.mirror!, { skipServer: true })
    const before = tokens.issued.get('bob') ?? 0
    const pull = await runtime.pull(`${registry.host}/private/app:v1`, { hostsDir })
    expect(pull.code, pull.output).toBe(0)
    expect(await runtime.contentDigests()).toEqual(expect.arrayContaining(secret.layers.map(l => l.digest)))
    // manifest, config and two layers, all with one cached token for repository:private/app:pull
    expect((tokens.issued.get('bob') ?? 0) - before).toBe(1)
  }, 120_000)

  it('a node without credentials answers the registry\'s own bearer challenge for the private image', async () => {
    const res = await fetch(`http://${node.mirror!}/v2/private/app/manifests/v1?ns=${registry.host}`, { headers: { accept: ACCEPT } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain(`Bearer realm="${tokens.realm}"`)
    const body = await res.json() as { errors: Array<{ code: string }> }
    expect(body.errors[0]!.code).toBe('UNAUTHORIZED')
  }, 60_000)
})
