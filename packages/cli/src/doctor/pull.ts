import { fail, ok, skip } from './findings.js'
import { run } from './host.js'
import type { Finding } from './findings.js'
import type { DaemonStatus } from './node.js'

/**
 * A test pull through Kubernetes' own path: `crictl pull` asks the runtime
 * over CRI, as the kubelet does, so it goes wherever the kubelet's pulls go.
 * Then the mirror's record of recent requests says whether it was asked.
 */

export interface PullCheck {
  image: string
  crictl?: string
  /** The runtime's CRI socket, `unix:///run/containerd/containerd.sock`. */
  endpoint: string
  /** Reads the daemon's status again after the pull. */
  status(): Promise<DaemonStatus>
  timeoutMs: number
}

/** The registry and repository of an image reference, as the runtimes name them (`nginx` is docker.io/library/nginx). */
export function imageRepository (ref: string): { registry: string, name: string } {
  const bare = ref.split('@')[0]!
  const slash = bare.indexOf('/')
  const first = slash < 0 ? '' : bare.slice(0, slash)
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost'
  const registry = hasRegistry ? first : 'docker.io'
  let name = hasRegistry ? bare.slice(slash + 1) : bare
  const colon = name.lastIndexOf(':')
  if (colon >= 0 && !name.slice(colon).includes('/')) name = name.slice(0, colon)
  if (registry === 'docker.io' && !name.includes('/')) name = `library/${name}`
  return { registry, name }
}

export async function checkPull (opts: PullCheck, configProblems: Finding[]): Promise<Finding> {
  if (opts.crictl == null) {
    return skip('pull', 'crictl is not installed: give --crictl PATH for a test pull through the runtime (the kubelet\'s own path)')
  }
  const { name } = imageRepository(opts.image)
  const started = Date.now()
  const r = await run(opts.crictl, ['--runtime-endpoint', opts.endpoint, '--image-endpoint', opts.endpoint, '--timeout', '5s', 'pull', '--pull-timeout', `${Math.ceil(opts.timeoutMs / 1000)}s`, opts.image], opts.timeoutMs + 5000)
  let seen: NonNullable<NonNullable<DaemonStatus['mirror']>['recent']> = []
  try {
    seen = ((await opts.status()).mirror?.recent ?? []).filter(q => q.at >= started - 1000 && q.name === name)
  } catch {
    // the daemon went away during the pull: it saw nothing we can show
  }
  const because = configProblems.length > 0 ? ` Likely cause: ${configProblems[0]!.message}` : ''
  if (r.code !== 0) {
    // crictl's own warnings (no /etc/crictl.yaml) come first
    const why = (r.stderr.trim().split('\n').filter(l => !l.includes('level=warning')).pop() ?? r.error ?? '').replace(/^time="[^"]*" level=\w+ msg=/, '')
    const failed = seen.filter(q => q.status >= 400)
    return fail('pull', `crictl pull ${opts.image} failed: ${why}${failed.length > 0 ? `; the mirror answered ${failed.map(q => `${q.kind} ${q.reference.slice(0, 19)}: ${q.status}`).join(', ')}` : seen.length === 0 ? '; the mirror was not asked' : ''}.${because}`)
  }
  if (seen.length === 0) {
    return fail('pull', `crictl pull ${opts.image} worked, but the mirror was not asked: the runtime went to the registry itself.${because}`,
      configProblems.length > 0 ? undefined : 'check the runtime\'s configuration above, and that --crictl-endpoint is the runtime the kubelet uses')
  }
  const blobs = seen.filter(q => q.kind === 'blob').length
  return ok('pull', `crictl pull ${opts.image} went through the mirror (${seen.length - blobs} manifest and ${blobs} blob request${blobs === 1 ? '' : 's'})`)
}
