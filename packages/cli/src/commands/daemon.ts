import { parseArgs } from 'node:util'
import { multiaddr } from '@multiformats/multiaddr'
import { readFile } from 'node:fs/promises'
import { startDaemon } from '@damselfly/daemon'
import { credentialsFromDockerConfig, isRegistryHost } from '@damselfly/registry'
import { MAX_PIECE_SIZE } from '@damselfly/protocol'
import { parseBytes, parseHostPort, parseInteger, UsageError } from '../args.js'
import type { DaemonInit } from '@damselfly/daemon'

export const DAEMON_HELP = `Usage: damselfly daemon --data-dir DIR [options]

Runs a Damselfly node: joins the swarm, serves pieces, and answers the local control API.

  --data-dir DIR           where blobs and the node key live (required)
  --listen MULTIADDR       address to listen on, repeatable (default /ip4/127.0.0.1/tcp/0)
  --bootstrap MULTIADDR    peer to join through, repeatable; /p2p/<peer id> optional
  --seed                   pull blobs from their origin when asked, and feed the swarm
  --trust-seed PEERID      accept manifests signed only by these peers, repeatable (default: any signer)
  --no-origin-fallback     never pull from the origin directly when no seed answers
  --seed-timeout MS        how long a seed may take to accept a request (default 5000)
  --origin-timeout MS      origin response and idle deadline (default 30000)
  --upload-rate RATE       node-wide upload limit, e.g. 100MB (default unlimited)
  --download-rate RATE     node-wide download limit (default unlimited)
  --upload-slots N         upload sessions served at once (default 16)
  --max-parents N          parents per download (default 8)
  --api HOST:PORT          control API address (default 127.0.0.1:65002)
  --mirror HOST:PORT       registry-mirror address for containerd, CRI-O and Docker (default 127.0.0.1:65001)
  --no-mirror              do not serve the registry mirror
  --default-registry HOST  upstream for mirror requests without ?ns= (CRI-O, Docker) (default docker.io)
  --insecure-registry HOST reach this registry over plain HTTP, repeatable (as Docker's flag)
  --registry-ca FILE       PEM CA certificates trusted for registries, besides the system's
  --docker-config FILE     registry credentials from a Docker config.json ("auths"); they stay on this node
  --piece-size BYTES       piece size for blobs this node pulls from origins, for experiments
                           (default: size / 512 rounded up to a power of two, 1 MiB..64 MiB)
  --super-seed-copies N    copies of a piece sent in quick succession before more requests for it
                           are declined so peers spread it; 0 turns it off (default 2)
`

function checkMultiaddr (value: string, flag: string): string {
  try {
    multiaddr(value)
  } catch (err: any) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a multiaddr: ${err.message}`)
  }
  return value
}

function parsePieceSize (value: string): number {
  const n = parseBytes(value, '--piece-size')
  if (n < 64 * 1024 || n > MAX_PIECE_SIZE) throw new UsageError(`--piece-size must be between 64KiB and ${MAX_PIECE_SIZE / 1048576}MiB, got ${JSON.stringify(value)}`)
  return n
}

function checkRegistryHost (value: string, flag: string): string {
  if (!isRegistryHost(value)) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a registry host (HOST or HOST:PORT, no scheme or path)`)
  return value
}

/** Upstream settings from the flags; files are read and checked here, so a bad one stops the start. */
async function registryOptions (values: { 'default-registry'?: string, 'insecure-registry'?: string[], 'registry-ca'?: string, 'docker-config'?: string }): Promise<DaemonInit['registry']> {
  let ca: string | undefined
  if (values['registry-ca'] != null) {
    try {
      ca = await readFile(values['registry-ca'], 'utf8')
    } catch (err: any) {
      throw new UsageError(`--registry-ca: cannot read ${values['registry-ca']}: ${err.message}`)
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--registry-ca: ${values['registry-ca']} holds no PEM certificate`)
  }
  let dockerCredentials
  if (values['docker-config'] != null) {
    let parsed: unknown
    try {
      parsed = JSON.parse(await readFile(values['docker-config'], 'utf8'))
    } catch (err: any) {
      throw new UsageError(`--docker-config: cannot read ${values['docker-config']}: ${err.message}`)
    }
    const problems: string[] = []
    dockerCredentials = credentialsFromDockerConfig(parsed, problems)
    if (problems.length > 0) throw new UsageError(`--docker-config: ${values['docker-config']}: ${problems.join('; ')}`)
  }
  return {
    defaultRegistry: checkRegistryHost(values['default-registry'] ?? 'docker.io', '--default-registry'),
    insecure: (values['insecure-registry'] ?? []).map(h => checkRegistryHost(h, '--insecure-registry')),
    ca,
    dockerCredentials
  }
}

export async function daemonCommand (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string', multiple: true },
      bootstrap: { type: 'string', multiple: true },
      seed: { type: 'boolean' },
      'trust-seed': { type: 'string', multiple: true },
      'no-origin-fallback': { type: 'boolean' },
      'seed-timeout': { type: 'string' },
      'origin-timeout': { type: 'string' },
      'upload-rate': { type: 'string' },
      'download-rate': { type: 'string' },
      'upload-slots': { type: 'string' },
      'max-parents': { type: 'string' },
      api: { type: 'string' },
      mirror: { type: 'string' },
      'no-mirror': { type: 'boolean' },
      'default-registry': { type: 'string' },
      'insecure-registry': { type: 'string', multiple: true },
      'registry-ca': { type: 'string' },
      'docker-config': { type: 'string' },
      'piece-size': { type: 'string' },
      'super-seed-copies': { type: 'string' },
      'test-corrupt-uploads': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    process.stdout.write(DAEMON_HELP)
    return 0
  }
  if (values['data-dir'] == null) throw new UsageError('--data-dir is required')
  if (values['test-corrupt-uploads'] === true && process.env.DAMSELFLY_TEST !== '1') {
    throw new UsageError('--test-corrupt-uploads is for tests only (set DAMSELFLY_TEST=1)')
  }
  if (values.mirror != null && values['no-mirror'] === true) throw new UsageError('--mirror and --no-mirror contradict each other')
  const registry = await registryOptions(values)
  const daemon = await startDaemon({
    dataDir: values['data-dir'],
    listen: (values.listen ?? ['/ip4/127.0.0.1/tcp/0']).map(a => checkMultiaddr(a, '--listen')),
    bootstrap: (values.bootstrap ?? []).map(a => checkMultiaddr(a, '--bootstrap')),
    seed: values.seed === true,
    trustedSeeds: values['trust-seed'],
    originFallback: values['no-origin-fallback'] !== true,
    seedTimeoutMs: values['seed-timeout'] != null ? parseInteger(values['seed-timeout'], '--seed-timeout', 1, 600_000) : undefined,
    originTimeoutMs: values['origin-timeout'] != null ? parseInteger(values['origin-timeout'], '--origin-timeout', 1, 3_600_000) : undefined,
    uploadRate: values['upload-rate'] != null ? parseBytes(values['upload-rate'], '--upload-rate') : undefined,
    downloadRate: values['download-rate'] != null ? parseBytes(values['download-rate'], '--download-rate') : undefined,
    uploadSlots: values['upload-slots'] != null ? parseInteger(values['upload-slots'], '--upload-slots', 1, 1024) : undefined,
    maxParents: values['max-parents'] != null ? parseInteger(values['max-parents'], '--max-parents', 1, 64) : undefined,
    api: parseHostPort(values.api ?? '127.0.0.1:65002', '--api'),
    mirror: values['no-mirror'] === true ? null : parseHostPort(values.mirror ?? '127.0.0.1:65001', '--mirror'),
    registry,
    corruptUploads: values['test-corrupt-uploads'] === true,
    pieceSize: values['piece-size'] != null ? parsePieceSize(values['piece-size']) : undefined,
    superSeedCopies: values['super-seed-copies'] != null ? parseInteger(values['super-seed-copies'], '--super-seed-copies', 0, 64) : undefined
  })
  const s = daemon.swarm
  process.stdout.write(`damselfly daemon ${values.seed === true ? '(seed) ' : ''}peer ${s.peerId}\n`)
  for (const a of s.listenAddresses()) process.stdout.write(`listening on ${a}\n`)
  if (daemon.mirrorAddress != null) process.stdout.write(`registry mirror on http://${daemon.mirrorAddress}\n`)
  process.stdout.write(`control API on http://${daemon.apiAddress}\n`)
  await new Promise<void>(resolve => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  process.stdout.write('stopping\n')
  await daemon.stop()
  return 0
}
