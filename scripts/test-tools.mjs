// The real components the tests drive (a registry mirror is tested against
// the real thing, never a mock of it): the CNCF distribution registry,
// containerd with ctr, skopeo, chromium for the dashboard, openssl for a
// test certificate, iproute2 for network namespaces, podman for the
// container image and systemd-analyze for the unit file, all from Debian, and Go
// for the peer of interop/go (and the Helm checks). Missing Debian ones are
// installed with apt-get when this runs as root; otherwise it says what to
// install and fails, before any test starts. Commands named as arguments
// (`node scripts/test-tools.mjs docker-registry skopeo`, what the benchmark
// needs) limit it to those.
import { spawnSync } from 'node:child_process'

const TOOLS = [
  { command: 'docker-registry', pkg: 'docker-registry' },
  { command: 'containerd', pkg: 'containerd' },
  { command: 'ctr', pkg: 'containerd' },
  { command: 'skopeo', pkg: 'skopeo' },
  { command: 'chromium', pkg: 'chromium' },
  { command: 'firefox-esr', pkg: 'firefox-esr' },
  // makes the certificate of the HTTPS registry (tls-registry.e2e.spec.ts)
  { command: 'openssl', pkg: 'openssl' },
  // network namespaces and their shaped links (bench:equal-links and its test)
  { command: 'ip', pkg: 'iproute2' },
  { command: 'tc', pkg: 'iproute2' },
  // builds and runs the container image (container-image.e2e.spec.ts)
  { command: 'podman', pkg: 'podman' },
  // checks deploy/systemd/damselfly.service
  { command: 'systemd-analyze', pkg: 'systemd' },
  // builds the Go peer of interop/go (go-peer.e2e.spec.ts) and the Helm checks. Not from Debian,
  // whose Go is too old: any Go from 1.21 on fetches the toolchain go.mod
  // names, and the modules, from the Go module proxy
  { command: 'go', hint: 'Go 1.21 or later from https://go.dev/dl/ on PATH' }
]

const wanted = process.argv.slice(2)
const unknown = wanted.filter(w => !TOOLS.some(t => t.command === w))
if (unknown.length > 0) {
  console.error(`unknown tool ${unknown.join(', ')}: one of ${TOOLS.map(t => t.command).join(', ')}`)
  process.exit(2)
}
const has = command => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
const absent = TOOLS.filter(t => (wanted.length === 0 || wanted.includes(t.command)) && !has(t.command))
const unpackaged = absent.filter(t => t.pkg == null)
if (unpackaged.length > 0) {
  console.error(`${wanted.length === 0 ? 'the tests need' : 'this needs'} ${unpackaged.map(t => t.hint).join(', ')}`)
  process.exit(1)
}
const missing = [...new Set(absent.map(t => t.pkg))]
if (missing.length === 0) process.exit(0)

const apt = args => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0
if (process.getuid?.() === 0 && has('apt-get')) {
  console.log(`installing ${missing.join(' ')} (Debian packages)`)
  const install = ['install', '-y', '--no-install-recommends', ...missing]
  // a fresh machine may have no package lists yet
  if (apt(install) || (apt(['update']) && apt(install))) process.exit(0)
}
console.error(`${wanted.length === 0 ? 'the tests need' : 'this needs'} ${missing.join(', ')} (Debian packages); install them with:\n  sudo apt-get install -y ${missing.join(' ')}`)
process.exit(1)
