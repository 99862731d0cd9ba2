import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric } from './helpers/cluster.js'
import { startContainerd, writeHostsToml } from './helpers/containerd.js'
import { IMAGE_BUILD_SCRIPT, podman, removeContainer, runContainer } from './helpers/podman.js'
import { buildImage, freePort, runCommand, startRegistry } from './helpers/registry.js'
import type { DaemonProcess } from './helpers/cluster.js'
import type { TestContainerd } from './helpers/containerd.js'
import type { Container } from './helpers/podman.js'
import type { BuiltImage, TestRegistry } from './helpers/registry.js'

const MiB = 1024 * 1024

/** Bytes the mirror served, whatever their source. */
function mirrorBytes (metrics: string): number {
  return ['cache', 'peer', 'seed', 'upstream'].reduce((sum, source) => sum + (metric(metrics, 'damselfly_mirror_bytes_total', { source }) ?? 0), 0)
}

async function get (url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  return res.text()
}

// Host networking, every address on 127.0.0.1: the containers' traffic stays on loopback.
describe('the container image, run with podman beside a plain daemon', () => {
  const tag = `localhost/damselfly:e2e-${randomBytes(4).toString('hex')}`
  const cluster = new Cluster()
  const containers: Container[] = []
  let registry: TestRegistry
  let containerd: TestContainerd
  let app: BuiltImage
  let seed: Container
  let node: Container
  let plain: DaemonProcess

  /** A daemon in a container, with its own ports on loopback and the test registry reached over plain HTTP. */
  async function start (env: Record<string, string>): Promise<Container> {
    const c = await runContainer(tag, {
      env: {
        DAMSELFLY_LISTEN: '/ip4/127.0.0.1/tcp/0',
        // a fixed port, so that the image's health check (which reads DAMSELFLY_API) finds it
        DAMSELFLY_API: `127.0.0.1:${await freePort()}`,
        DAMSELFLY_MIRROR: `127.0.0.1:${await freePort()}`,
        DAMSELFLY_REGISTRY_INSECURE: registry.host,
        ...env
      }
    })
    containers.push(c)
    return c
  }

  beforeAll(async () => {
    const root = await cluster.root()
    const build = await runCommand(process.execPath, [IMAGE_BUILD_SCRIPT, '--tag', tag], 600_000)
    expect(build.code, build.stderr + build.stdout).toBe(0)
    console.log(build.stdout.trim().split('\n').at(-1))
    ;[registry, containerd, app] = await Promise.all([
      startRegistry(),
      startContainerd(),
      buildImage(join(root, 'app'), { layers: [6 * MiB, 2 * MiB], seed: 'container-image-app' })
    ])
    await registry.push(app.dir, 'demo/app:v1')
    seed = await start({ DAMSELFLY_SEED: 'true' })
    plain = await cluster.start('plain', ['--bootstrap', seed.addrs[0]!, '--insecure-registry', registry.host])
    node = await start({ DAMSELFLY_BOOTSTRAP: [seed.addrs[0]!, plain.addrs[0]!].join(',') })
  }, 900_000)

  afterAll(async () => {
    await Promise.all(containers.map(async c => removeContainer(c.name)))
    await podman(['rmi', '--force', '--ignore', tag], 120_000)
    await containerd?.close()
    await cluster.stop()
    await registry?.close()
  })

  it('runs one process as a non-root user, and its health check asks the daemon', async () => {
    const inspect = await podman(['image', 'inspect', tag, '--format', '{{.Config.User}}|{{json .Config.Healthcheck.Test}}'])
    expect(inspect.code, inspect.stderr).toBe(0)
    const [user, healthcheck] = inspect.stdout.trim().split('|')
    expect(user).toBe('65532:65532')
    expect(JSON.parse(healthcheck!)).toEqual(['CMD', '/usr/local/bin/node', '/app/healthcheck.mjs'])

    const top = await podman(['top', node.name, 'user', 'pid', 'args'])
    expect(top.code, top.stderr).toBe(0)
    const processes = top.stdout.trim().split('\n').slice(1)
    expect(processes, top.stdout).toHaveLength(1)
    expect(processes[0]).toMatch(/^damselfly\s+1\s+\/usr\/local\/bin\/node .*\/app\/packages\/cli\/dist\/bin\.js daemon$/)

    const healthy = await podman(['healthcheck', 'run', node.name])
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0)
    expect((await podman(['inspect', node.name, '--format', '{{.State.Health.Status}}'])).stdout.trim()).toBe('healthy')
    // the same check against a port where no daemon answers fails: it is not a check that always passes
    const closed = await podman(['exec', '--env', `DAMSELFLY_API=127.0.0.1:${await freePort()}`, node.name, '/usr/local/bin/node', '/app/healthcheck.mjs'])
    expect(closed.code).toBe(1)
    expect(closed.stderr).toMatch(/damselfly health check: http:\/\/127\.0\.0\.1:\d+\/healthz/)
    // with no DAMSELFLY_API, as in the Helm chart's pods, it reads `api` from the config file
    const api = /^control API on http:\/\/(\S+)/m.exec(node.output.join(''))![1]!
    const write = await podman(['exec', node.name, '/usr/local/bin/node', '-e', `require('fs').writeFileSync('/tmp/api.yaml', 'api: 0.0.0.0:${api.split(':')[1]}\\n')`])
    expect(write.code, write.stderr).toBe(0)
    const fromFile = await podman(['exec', '--env', 'DAMSELFLY_API=', '--env', 'DAMSELFLY_CONFIG=/tmp/api.yaml', node.name, '/usr/local/bin/node', '/app/healthcheck.mjs'])
    expect(fromFile.code, fromFile.stderr).toBe(0)
  })

  it('joins the swarm of the seed container and the plain daemon', async () => {
    await eventually(async () => {
      const peers = (await (await fetch(`http://${node.api}/api/v1/peers`)).json()) as Array<{ peerId?: string, id?: string }>
      const ids = JSON.stringify(peers)
      expect(ids).toContain(seed.peerId)
      expect(ids).toContain(plain.peerId)
    }, 20_000)
  })

  it('real containerd pulls an image through the containerized mirror; the registry serves each blob once', async () => {
    const hostsDir = join(await cluster.root(), 'certs.d')
    // no fallback to the registry: the mirror is containerd's only route
    await writeHostsToml(hostsDir, registry.host, node.mirror!, { skipServer: true })
    const pull = await containerd.pull(`${registry.host}/demo/app:v1`, { hostsDir })
    if (pull.code !== 0) {
      // what the containerized node was doing, for the failure message
      const tasks = await get(`http://${node.api}/api/v1/tasks`).catch((err: Error) => err.message)
      expect(pull.code, `${pull.output.slice(-2000)}\nnode tasks: ${tasks}\nnode output: ${node.output.join('').slice(-4000)}`).toBe(0)
    }
    expect(await containerd.contentDigests()).toEqual(expect.arrayContaining([app.config.digest, ...app.layers.map(l => l.digest)]))
    expect(mirrorBytes(await get(`http://${node.api}/metrics`))).toBeGreaterThanOrEqual(app.totalBytes)
    // the seed container pulled each blob from the registry, once
    for (const blob of [app.config, ...app.layers]) expect(registry.blobGets(blob.digest), blob.digest).toBe(1)

    // the plain daemon then gets the layers from the containers, not from the registry
    for (const layer of app.layers) {
      const res = await fetch(`http://${plain.mirror!}/v2/demo/app/blobs/${layer.digest}?ns=${registry.host}`, { signal: AbortSignal.timeout(60_000) })
      expect(res.status).toBe(200)
      expect(`sha256:${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`).toBe(layer.digest)
      expect(registry.blobGets(layer.digest), layer.digest).toBe(1)
    }
    const fromPeers = metric(await cluster.api(plain, '/metrics'), 'damselfly_received_bytes_total', { source: 'peer' }) ?? 0
    expect(fromPeers).toBeGreaterThanOrEqual(app.layers.reduce((n, l) => n + l.size, 0))
  })

  it('podman stop ends the daemon cleanly within its grace period', async () => {
    const exited = new Promise<number | null>(resolve => node.child.once('exit', resolve))
    const started = Date.now()
    const stop = await podman(['stop', '--time', '10', node.name], 30_000)
    expect(stop.code, stop.stderr).toBe(0)
    expect(await exited).toBe(0)
    expect(Date.now() - started).toBeLessThan(8000)
    expect(node.output.join('')).toMatch(/^stopping$/m)
  })
})
