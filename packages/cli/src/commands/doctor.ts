import { apiBase, apiHeaders, parseFlags, parseHostPort, parseInteger, UsageError } from '../args.js'
import { checkContainerd } from '../doctor/containerd.js'
import { checkCrio, checkDocker } from '../doctor/crio-docker.js'
import { formatFindings, skip, warn } from '../doctor/findings.js'
import { which } from '../doctor/host.js'
import { checkDaemon, fetchStatus } from '../doctor/node.js'
import { checkPull } from '../doctor/pull.js'
import type { Finding } from '../doctor/findings.js'
import type { HostPort } from '../doctor/host.js'
import type { DaemonStatus } from '../doctor/node.js'

const DOCTOR_HELP = `Usage: damselfly doctor [options]

Checks, on a node, what an operator cannot see from outside: is the daemon
up and its mirror answering, can other nodes reach it, is it connected to
its bootstrap peers and a seed, does the container runtime's configuration
really send pulls to the mirror, and (with --pull) does a test pull through
the runtime reach the mirror. Each problem comes with its fix. Exits 0 when
it finds no problem, 1 when it finds one. Run it as root to read the
runtimes' files.

  --api HOST:PORT            the daemon's control API (default 127.0.0.1:65002, or $DAMSELFLY_API)
  --api-token-file FILE      the API's bearer token, when it wants one (or $DAMSELFLY_API_TOKEN_FILE)
  --runtime NAME             containerd, crio or docker, repeatable (default: each one installed here)
  --registry HOST            a registry whose pulls must go through the mirror, repeatable
                             (default: report the registries that do)
  --mirror HOST:PORT         the mirror's address, when the daemon cannot be asked
  --pull IMAGE               pull IMAGE through the runtime with crictl (CRI, the kubelet's path)
                             and check that the mirror was asked
  --crictl PATH              crictl for --pull (default: crictl on PATH)
  --cri-endpoint URL         the runtime's CRI socket (default unix:///run/containerd/containerd.sock,
                             or unix:///var/run/crio/crio.sock for crio)
  --pull-timeout SECONDS     how long the test pull may take (default 120)
  --containerd-config FILE   (default /etc/containerd/config.toml)
  --containerd-hosts-dir DIR where runtime-config wrote hosts.toml (default /etc/containerd/certs.d)
  --containerd-bin PATH      containerd, for its version (default: containerd on PATH)
  --crio-registries FILE     (default /etc/containers/registries.conf, and its .d directory)
  --docker-daemon-json FILE  (default /etc/docker/daemon.json)
  --json                     the findings as JSON
`

const RUNTIMES = ['containerd', 'crio', 'docker'] as const
type Runtime = typeof RUNTIMES[number]

const DEFAULT_ENDPOINT: Record<Runtime, string> = {
  containerd: 'unix:///run/containerd/containerd.sock',
  crio: 'unix:///var/run/crio/crio.sock',
  docker: 'unix:///var/run/cri-dockerd.sock'
}

/** Runtimes to check: those asked for, else those whose program is installed here. */
async function runtimesToCheck (asked: string[] | undefined): Promise<Runtime[]> {
  if (asked != null && asked.length > 0) {
    for (const r of asked) {
      if (!(RUNTIMES as readonly string[]).includes(r)) throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}, got ${JSON.stringify(r)}`)
    }
    return [...new Set(asked)] as Runtime[]
  }
  const found: Runtime[] = []
  if (await which('containerd') != null) found.push('containerd')
  if (await which('crio') != null) found.push('crio')
  if (await which('dockerd') != null) found.push('docker')
  return found
}

export async function doctorCommand (argv: string[]): Promise<number> {
  const { values } = parseFlags('doctor', argv, {
    api: { type: 'string' },
    'api-token-file': { type: 'string' },
    runtime: { type: 'string', multiple: true },
    registry: { type: 'string', multiple: true },
    mirror: { type: 'string' },
    pull: { type: 'string' },
    crictl: { type: 'string' },
    'cri-endpoint': { type: 'string' },
    'pull-timeout': { type: 'string' },
    'containerd-config': { type: 'string' },
    'containerd-hosts-dir': { type: 'string' },
    'containerd-bin': { type: 'string' },
    'crio-registries': { type: 'string' },
    'docker-daemon-json': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) {
    process.stdout.write(DOCTOR_HELP)
    return 0
  }
  const api = apiBase(values.api)
  const headers = await apiHeaders(values['api-token-file'])
  const runtimes = await runtimesToCheck(values.runtime)
  const pullTimeoutMs = values['pull-timeout'] != null ? parseInteger(values['pull-timeout'], '--pull-timeout', 1, 3600) * 1000 : 120_000
  const givenMirror: HostPort | undefined = values.mirror != null ? parseHostPort(values.mirror, '--mirror') : undefined
  if (values.pull != null && runtimes.length !== 1) {
    throw new UsageError(`--pull needs one runtime to pull with: give --runtime containerd or --runtime crio (found: ${runtimes.join(', ') || 'none'})`)
  }
  const registries = (values.registry ?? []).map(r => r.toLowerCase())

  const findings: Finding[] = []
  const status: DaemonStatus | Error = await fetchStatus(api, headers).catch((err: Error) => err)
  const daemon = await checkDaemon(api, status)
  findings.push(...daemon.findings)
  const mirror = givenMirror ?? daemon.mirror

  if (runtimes.length === 0) findings.push(warn('runtime', 'found no container runtime here (containerd, crio or dockerd on PATH)', 'give --runtime NAME if it is installed elsewhere'))
  const configFindings: Finding[] = []
  for (const runtime of runtimes) {
    let found: Finding[]
    if (runtime === 'containerd') {
      found = await checkContainerd({
        configFile: values['containerd-config'] ?? '/etc/containerd/config.toml',
        hostsDir: values['containerd-hosts-dir'] ?? '/etc/containerd/certs.d',
        mirror,
        registries,
        bin: values['containerd-bin'] ?? 'containerd'
      })
    } else if (runtime === 'crio') {
      found = await checkCrio({ file: values['crio-registries'] ?? '/etc/containers/registries.conf', mirror, registries })
    } else {
      found = await checkDocker({ file: values['docker-daemon-json'] ?? '/etc/docker/daemon.json', mirror, bin: await which('docker') })
    }
    findings.push(...found)
    configFindings.push(...found.filter(f => f.verdict === 'fail'))
  }

  if (values.pull != null) {
    const runtime = runtimes[0]!
    if (status instanceof Error) {
      findings.push(skip('pull', 'the daemon did not answer, so the mirror cannot say whether it was asked'))
    } else {
      findings.push(await checkPull({
        image: values.pull,
        crictl: values.crictl != null ? await which(values.crictl) ?? values.crictl : await which('crictl'),
        endpoint: values['cri-endpoint'] ?? DEFAULT_ENDPOINT[runtime],
        status: async () => await fetchStatus(api, headers),
        timeoutMs: pullTimeoutMs
      }, configFindings))
    }
  } else {
    findings.push(skip('pull', 'no test pull: give --pull IMAGE to pull through the runtime and see the mirror asked'))
  }

  const failed = findings.some(f => f.verdict === 'fail')
  if (values.json === true) process.stdout.write(JSON.stringify({ ok: !failed, findings }) + '\n')
  else process.stdout.write(formatFindings(findings))
  return failed ? 1 : 0
}
