import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, runCli } from './helpers/cluster.js'
import { makeBlob, TestOrigin } from './helpers/origin.js'
import { askSeed, bareLibp2p } from './helpers/peer.js'
import { buildImage, freePort, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'
import type { Libp2p } from 'libp2p'

const MiB = 1024 * 1024
const bob = { user: 'bob', password: 'builder' }
const basic = `Basic ${Buffer.from(`${bob.user}:${bob.password}`).toString('base64')}`

// A seed holds registry credentials and sits inside the network; any member
// of the swarm can ask it to pull. It must be no proxy to anything else.
describe('what a seed fetches for a peer', () => {
  const cluster = new Cluster()
  const internal = new TestOrigin()
  let registry: TestRegistry
  let image: BuiltImage
  let seed: DaemonProcess
  let node: DaemonProcess
  let attacker: Libp2p
  const secret = makeBlob('/secret', 16)

  beforeAll(async () => {
    internal.add(secret)
    await internal.start()
    const root = await cluster.root()
    registry = await startRegistry({ auth: bob })
    image = await buildImage(join(root, 'image'), { layers: [MiB], seed: 'origins' })
    await registry.push(image.dir, 'team/app:v1', bob)
    const dockerConfig = join(root, 'docker-config.json')
    await writeFile(dockerConfig, JSON.stringify({ auths: { [registry.host]: { username: bob.user, password: bob.password } } }))
    seed = await cluster.start('seed', ['--seed', '--insecure-registry', registry.host, '--docker-config', dockerConfig])
    node = await cluster.start('node', ['--bootstrap', seed.addrs[0]!, '--insecure-registry', registry.host])
    attacker = await bareLibp2p()
    registry.resetCounts()
  }, 120_000)

  afterAll(async () => {
    await attacker?.stop()
    await cluster.stop()
    await registry?.close()
    await internal.stop()
  })

  it('refuses an address it is not configured for with one answer that tells nothing, and reaches nothing', async () => {
    const refusals = []
    for (const url of [`${internal.url}${secret.path}`, `http://127.0.0.1:${await freePort()}/`, 'http://169.254.169.254/latest/meta-data/']) {
      const res = await askSeed(attacker, seed.addrs[0]!, { digest: secret.digest, url })
      expect(res.accepted, url).toBe(false)
      refusals.push(res.error)
    }
    expect(refusals[0]).toEqual({ code: 'BAD_REQUEST', message: 'this seed does not fetch from that origin' })
    // an open port, a closed one and an unroutable one: the same words, so the seed maps nothing
    expect(refusals[1]).toEqual(refusals[0])
    expect(refusals[2]).toEqual(refusals[0])
    expect(internal.requests).toBe(0)
  })

  it('reads from its registry only the blob a peer names, at its blob URL', async () => {
    const other = image.layers[0]!.digest
    const asks = [
      `${registry.url}/v2/team/app/manifests/v1`,
      `${registry.url}/v2/_catalog`,
      `${registry.url}/v2/team/app/blobs/${other}`
    ]
    for (const url of asks) {
      const res = await askSeed(attacker, seed.addrs[0]!, { digest: image.config.digest, url })
      expect(res.accepted, url).toBe(false)
      expect(res.error).toEqual({ code: 'BAD_REQUEST', message: 'this seed does not fetch from that origin' })
    }
    expect(registry.requests()).toEqual([])
  })

  it('does not let a request naming the wrong repository fail the right ones', async () => {
    const layer = image.layers[0]!
    // a member names a repository that lacks the blob: the registry says 404, and the member learns only that
    const wrong = await askSeed(attacker, seed.addrs[0]!, { digest: layer.digest, url: `${registry.url}/v2/team/nothing/blobs/${layer.digest}` })
    expect(wrong.accepted).toBe(false)
    expect(wrong.error).toEqual({ code: 'ORIGIN', message: 'the origin answered 404', status: 404 })
    // at once, a node pulls the same blob from the right repository through its mirror
    const res = await fetch(`http://${node.mirror!}/v2/team/app/blobs/${layer.digest}?ns=${registry.host}`, { headers: { authorization: basic }, signal: AbortSignal.timeout(60_000) })
    expect(res.status).toBe(200)
    const body = Buffer.from(await res.arrayBuffer())
    expect(body.byteLength).toBe(layer.size)
  })

  it('is matched by the node itself: neither its control API nor its mirror reach an origin it is not configured for', async () => {
    const before = internal.requests
    const api = await fetch(`http://${node.api}/api/v1/blobs/${secret.digest}?url=${encodeURIComponent(`${internal.url}${secret.path}`)}`)
    expect(api.status).toBe(403)
    expect(((await api.json()) as any).error.message).toMatch(/--allow-origin/)
    const got = await runCli(['get', `${internal.url}${secret.path}`, '--digest', secret.digest, '-o', join(await cluster.root(), 'secret.out'), '--api', node.api])
    expect(got.code).toBe(1)
    expect(got.stderr).toMatch(/not fetched/)
    const internalHost = new URL(internal.url).host
    const mirror = await fetch(`http://${node.mirror!}/v2/any/thing/blobs/${secret.digest}?ns=${internalHost}`)
    expect(mirror.status).toBe(403)
    expect(((await mirror.json()) as any).errors[0].code).toBe('DENIED')
    expect(internal.requests).toBe(before)
  })
})
