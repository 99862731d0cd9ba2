import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DAMSELFLY_BIN } from '@damselfly/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { exists, go, goTool, GO_TOOLS_CACHE } from './helpers/go-tools.js'
import { runCommand } from './helpers/registry.js'
import { startSchedulerProcess } from './helpers/scheduler.js'
import type { CommandResult } from './helpers/registry.js'

const CHART = fileURLToPath(new URL('../../../deploy/helm/damselfly', import.meta.url))
const CHECK = fileURLToPath(new URL('../../../deploy/helm/check', import.meta.url))
const HELM_VERSION = 'v3.21.4'
// helm built from source knows no Kubernetes version of its own (it says 1.20, below the chart's floor)
const KUBE_VERSION = '1.33.0'

/** helm from the Go module proxy, built once into the cache. */
async function helmBinary (): Promise<string> {
  return await goTool('helm', 'helm.sh/helm/v3/cmd/helm', HELM_VERSION)
}

/** deploy/helm/check, built once per version of its source into the cache. */
async function checkBinary (): Promise<string> {
  const hash = createHash('sha256')
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(join(CHECK, file)))
  const bin = join(GO_TOOLS_CACHE, `k8s-check-${hash.digest('hex').slice(0, 16)}`)
  if (await exists(bin)) return bin
  const started = Date.now()
  const r = await go(['build', '-o', bin, '.'], { GOFLAGS: '-mod=readonly' }, CHECK)
  if (r.code !== 0) throw new Error(`go build deploy/helm/check failed:\n${r.stderr}`)
  console.log(`built deploy/helm/check in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  return bin
}

/** Runs `bin` with `input` on its standard input. */
async function pipeInto (bin: string, input: string, dir: string): Promise<CommandResult> {
  const file = join(dir, 'rendered.yaml')
  await writeFile(file, input)
  return runCommand('sh', ['-c', '"$0" < "$1"', bin, file], 60_000)
}

interface K8sObject {
  kind: string
  metadata: { name: string }
  data?: Record<string, string>
  spec?: any
}

const CASES = [
  { name: 'defaults', values: [] as string[], kinds: ['ConfigMap', 'DaemonSet', 'PodDisruptionBudget', 'Service', 'StatefulSet'] },
  { name: 'seeds only', values: ['ci/seeds-only-values.yaml'], kinds: ['ConfigMap', 'Service', 'StatefulSet'] },
  {
    name: 'private swarm with credentials',
    values: ['ci/private-swarm-values.yaml'],
    kinds: ['ConfigMap', 'DaemonSet', 'PodDisruptionBudget', 'Secret', 'Secret', 'Service', 'Service', 'ServiceMonitor', 'StatefulSet']
  },
  { name: 'schedulers', values: ['ci/scheduler-values.yaml'], kinds: ['ConfigMap', 'DaemonSet', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'StatefulSet', 'StatefulSet'] }
]

describe('the Helm chart', () => {
  let helm: string
  let check: string
  let root: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'damselfly-helm-'))
    await mkdir(GO_TOOLS_CACHE, { recursive: true })
    // one at a time: both compile much of the same Kubernetes code, on a machine of 2 cores
    helm = await helmBinary()
    check = await checkBinary()
  }, 30 * 60_000)

  afterAll(async () => {
    if (root != null) await rm(root, { recursive: true, force: true })
  })

  async function render (values: string[], set: string[] = []): Promise<CommandResult> {
    return runCommand(helm, ['template', 'rel', CHART, '--namespace', 'ns', '--kube-version', KUBE_VERSION,
      ...values.flatMap(v => ['--values', join(CHART, v)]), ...set.flatMap(s => ['--set', s])], 60_000)
  }

  for (const c of CASES) {
    describe(c.name, () => {
      let rendered: string
      let objects: K8sObject[]
      let dir: string

      beforeAll(async () => {
        dir = join(root, c.name.replace(/\W+/g, '-'))
        await mkdir(dir)
        const r = await render(c.values)
        expect(r.code, r.stderr).toBe(0)
        rendered = r.stdout
        objects = parseAllDocuments(rendered).map(d => d.toJS()).filter(o => o != null)
      })

      it('passes helm lint --strict', async () => {
        const r = await runCommand(helm, ['lint', CHART, '--strict', '--kube-version', KUBE_VERSION, ...c.values.flatMap(v => ['--values', join(CHART, v)])], 60_000)
        expect(r.code, r.stdout + r.stderr).toBe(0)
        expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed')
      })

      it('renders objects that decode strictly against the Kubernetes API types', async () => {
        expect(objects.map(o => o.kind).sort()).toEqual(c.kinds)
        const r = await pipeInto(check, rendered, dir)
        expect(r.code, r.stdout + r.stderr).toBe(0)
        expect(r.stdout).toContain(`${objects.length} objects decoded strictly`)
      })

      it('renders config files the daemon accepts, with the secrets it mounts', async () => {
        const configMap = objects.find(o => o.kind === 'ConfigMap')!
        const secrets = objects.filter(o => o.kind === 'Secret')
        const secretFile = async (key: string): Promise<string | undefined> => {
          const value = secrets.map(s => s.data?.[key]).find(v => v != null)
          if (value == null) return undefined
          const file = join(dir, key)
          await writeFile(file, Buffer.from(value, 'base64'))
          return file
        }
        // the pods' mounts are not here: the same files, from the rendered Secrets, by variable
        const env: Record<string, string> = {}
        const swarmKey = await secretFile('swarm.key')
        const dockerConfig = await secretFile('config.json')
        const apiToken = await secretFile('api-token')
        if (swarmKey != null) env.DAMSELFLY_SWARM_KEY = swarmKey
        if (apiToken != null) env.DAMSELFLY_API_TOKEN_FILE = apiToken
        const files = Object.keys(configMap.data ?? {}).sort()
        expect(files).toEqual(c.name === 'seeds only' ? ['seed.yaml'] : ['node.yaml', 'seed.yaml'])
        for (const name of files) {
          const file = join(dir, name)
          await writeFile(file, configMap.data![name]!)
          const seedEnv: Record<string, string> = name === 'seed.yaml' && dockerConfig != null ? { DAMSELFLY_REGISTRY_DOCKER_CONFIG: dockerConfig } : {}
          const r = await runCommand(process.execPath, [DAMSELFLY_BIN, 'daemon', '--config', file, '--print-config'], 30_000, { ...env, ...seedEnv })
          expect(r.code, `${name}: ${r.stderr}`).toBe(0)
          expect(r.stdout).toMatch(name === 'seed.yaml' ? /^seed: true$/m : /^mirror: 127\.0\.0\.1:65001$/m)
          expect(r.stdout).toContain('/ip4/0.0.0.0/tcp/4001')
          // every daemon joins the swarm through the seeds' stable names (and any peer of the user's)
          expect(r.stdout).toContain('- /dns4/rel-damselfly-seed-0.rel-damselfly-seed.ns.svc.cluster.local/tcp/4001')
          if (c.name === 'private swarm with credentials') expect(r.stdout).toContain('- /dns4/peer.example.com/tcp/4001')
          // with schedulers, every daemon is given each by its stable name; without, none
          if (c.name === 'schedulers') {
            for (const i of [0, 1]) expect(r.stdout).toContain(`- /dns4/rel-damselfly-scheduler-${i}.rel-damselfly-scheduler.ns.svc.cluster.local/tcp/4010`)
          } else {
            expect(r.stdout).toMatch(/^schedulers: \[\]$/m)
          }
        }
      })
    })
  }

  it('its init container writes hosts.toml files that send containerd to the node\'s mirror', async () => {
    const r = await render(['ci/private-swarm-values.yaml'])
    expect(r.code, r.stderr).toBe(0)
    const objects: K8sObject[] = parseAllDocuments(r.stdout).map(d => d.toJS()).filter(o => o != null)
    const pod = objects.find(o => o.kind === 'DaemonSet')!.spec.template.spec
    const init = pod.initContainers[0]
    expect(init.volumeMounts).toEqual([{ name: 'certs-d', mountPath: '/host/certs.d' }])
    expect(pod.volumes.find((v: any) => v.name === 'certs-d').hostPath.path).toBe('/etc/containerd/certs.d')
    // the image's entrypoint is the damselfly command: run its arguments, with the host's directory here
    const certsD = join(root, 'certs.d')
    const args = (init.args as string[]).map(a => a === '/host/certs.d' ? certsD : a)
    const run = await runCommand(process.execPath, [DAMSELFLY_BIN, ...args], 30_000)
    expect(run.code, run.stderr).toBe(0)
    expect((await readdir(certsD)).sort()).toEqual(['ghcr.io', 'registry.example.com', 'registry.local:5000'])
    const nodeConfig = objects.find(o => o.kind === 'ConfigMap')!.data!['node.yaml']!
    const mirror = /^mirror: (\S+)$/m.exec(nodeConfig)![1]
    expect(await readFile(join(certsD, 'ghcr.io', 'hosts.toml'), 'utf8')).toContain(`[host."http://${mirror}"]`)
  })

  it('its schedulers start with the arguments it gives them, the swarm key from its Secret', async () => {
    const r = await render(['ci/scheduler-values.yaml'])
    expect(r.code, r.stderr).toBe(0)
    const objects: K8sObject[] = parseAllDocuments(r.stdout).map(d => d.toJS()).filter(o => o != null)
    const scheduler = objects.find(o => o.kind === 'StatefulSet' && o.metadata.name === 'rel-damselfly-scheduler')!
    const pod = scheduler.spec.template.spec
    const args = pod.containers[0].args as string[]
    expect(args.slice(0, 3)).toEqual(['scheduler', '--listen', '/ip4/0.0.0.0/tcp/4010'])
    // the key file where the pod mounts it, from the Secret the chart made
    const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === 'secret').mountPath
    const secret = objects.find(o => o.kind === 'Secret')!
    const keyFile = join(root, 'scheduler-swarm.key')
    await writeFile(keyFile, Buffer.from(secret.data!['swarm.key']!, 'base64'))
    // on loopback, at a free port, here
    const local = args.map(a => a === '/ip4/0.0.0.0/tcp/4010' ? '/ip4/127.0.0.1/tcp/0' : a === `${mount}/swarm.key` ? keyFile : a)
    expect(local).toContain(keyFile)
    const started = await startSchedulerProcess([...local, '--stats-every', '0'])
    started.child.kill('SIGKILL')
    expect(started.addr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
  })

  it('gives the registry credentials to the seeds only, and the swarm key to every daemon', async () => {
    const r = await render(['ci/private-swarm-values.yaml'])
    const objects: K8sObject[] = parseAllDocuments(r.stdout).map(d => d.toJS()).filter(o => o != null)
    const volumes = (kind: string): string => JSON.stringify(objects.find(o => o.kind === kind)!.spec.template.spec.volumes)
    expect(volumes('StatefulSet')).toContain('"secretName":"rel-damselfly-registry"')
    expect(volumes('DaemonSet')).not.toContain('rel-damselfly-registry')
    for (const kind of ['StatefulSet', 'DaemonSet']) expect(volumes(kind)).toContain('"key":"swarm.key"')
  })

  it('refuses values that would make a broken release, saying why', async () => {
    const noToken = await render([], ['metrics.serviceMonitor.enabled=true'])
    expect(noToken.code).not.toBe(0)
    expect(noToken.stderr).toMatch(/metrics\.serviceMonitor\.enabled needs metrics\.apiToken/)
    const badKey = await render([], ['swarm.key=not-a-key'])
    expect(badKey.code).not.toBe(0)
    expect(badKey.stderr).toMatch(/swarm\.key must be a key file/)
  })

  it('the strict check refuses a misspelt field, a selector that misses its pods and a mount of no volume', async () => {
    const r = await render([])
    const cases: Array<[string, (text: string) => string, RegExp]> = [
      ['misspelt field', t => t.replace('imagePullPolicy: IfNotPresent', 'imagePullPolicy: IfNotPresent\n          imagePullPolcy: Always'), /unknown field "spec\.template\.spec\.(init)?[cC]ontainers\[0\]\.imagePullPolcy"/],
      ['selector', t => t.replace(/^( {6}app\.kubernetes\.io\/component: )node$/m, '$1nodes'), /selector .* does not match the pod template's labels/],
      ['mount', t => t.replace('mountPath: /tmp\n', 'mountPath: /tmp\n            - name: cache\n              mountPath: /cache\n'), /mounts volume "cache", which the pod does not declare/]
    ]
    for (const [name, edit, message] of cases) {
      const broken = edit(r.stdout)
      expect(broken, name).not.toBe(r.stdout)
      const out = await pipeInto(check, broken, root)
      expect(out.code, name).toBe(1)
      expect(out.stdout, name).toMatch(message)
    }
  })
})
