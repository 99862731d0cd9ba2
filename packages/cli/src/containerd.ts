import { join } from 'node:path'

/**
 * containerd's own files, written the same way wherever Damselfly writes
 * them: `damselfly runtime-config`, the demo's containerd, the tests'.
 */

/**
 * A certs.d `hosts.toml` sending pulls of one registry to the mirror first
 * (pull and resolve). `server` is where containerd falls back; without it
 * containerd falls back to the image's own registry (what `_default` wants).
 * `pushOnly` leaves the server only the push capability, so a failing mirror
 * fails the pull instead of hiding behind the registry. There is always a
 * `[host]` table: containerd 1.6 rejects a hosts.toml without one as a whole.
 */
export function hostsToml (mirror: string, options: { server?: string, pushOnly?: boolean, comment?: string } = {}): string {
  const lines: string[] = []
  if (options.comment != null) lines.push(`# ${options.comment}`)
  if (options.server != null) lines.push(`server = "${options.server}"`)
  if (options.pushOnly === true) lines.push('capabilities = ["push"]')
  lines.push('', `[host."http://${mirror}"]`, '  capabilities = ["pull", "resolve"]', '')
  return lines.join('\n')
}

/**
 * A config.toml for a containerd of its own under `root`: its root, state,
 * temp and sockets there (never the system's /run/containerd), and no plugin
 * a pull and an overlayfs unpack do not need (opt installs into /opt; the
 * other snapshotters cannot work here and only log errors). The CRI plugin
 * (the kubelet's API, which wants CNI for pods but not for pulls) runs only
 * when `cri` is given, with its registry `config_path` when that is given.
 */
export function containerdConfig (root: string, socket: string, options: { cri?: { configPath?: string } } = {}): string {
  const q = (s: string): string => JSON.stringify(s)
  const disabled = [
    ...options.cri == null ? ['io.containerd.grpc.v1.cri'] : [],
    'io.containerd.internal.v1.opt', 'io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.btrfs',
    'io.containerd.snapshotter.v1.devmapper', 'io.containerd.snapshotter.v1.zfs'
  ]
  const lines = [
    'version = 2',
    `root = ${q(join(root, 'root'))}`,
    `state = ${q(join(root, 'state'))}`,
    `temp = ${q(join(root, 'tmp'))}`,
    `disabled_plugins = [${disabled.map(q).join(', ')}]`,
    '[grpc]',
    `  address = ${q(socket)}`,
    '[ttrpc]',
    `  address = ${q(socket + '.ttrpc')}`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""'
  ]
  if (options.cri != null) {
    lines.push(
      '[plugins."io.containerd.grpc.v1.cri"]',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '[plugins."io.containerd.grpc.v1.cri".cni]',
      `  conf_dir = ${q(join(root, 'cni'))}`
    )
    if (options.cri.configPath != null) lines.push('[plugins."io.containerd.grpc.v1.cri".registry]', `  config_path = ${q(options.cri.configPath)}`)
  }
  lines.push('')
  return lines.join('\n')
}
