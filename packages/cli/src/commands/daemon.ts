import { parseArgs } from 'node:util'
import { startDaemon, SWARM_DEFAULTS } from '@damselfly/daemon'
import { UsageError } from '../args.js'
import { CONFIG_OPTIONS, formatConfig, loadConfig } from '../config.js'

const DAEMON_HELP = `Usage: damselfly daemon [--config FILE] [options]

Runs a Damselfly node: joins the swarm, serves pieces, and answers the local control API.

Settings come from a YAML config file, DAMSELFLY_* environment variables and flags: a flag
beats the environment, which beats the file. A flag's key in the file is its name in
camelCase (--upload-rate: uploadRate) unless named in [brackets]; its environment variable
is DAMSELFLY_ and the key in UPPER_SNAKE (DAMSELFLY_UPLOAD_RATE, DAMSELFLY_STORAGE_QUOTA),
lists comma-separated. Times are milliseconds or 500ms, 5s, 2m; sizes are bytes or 100MB, 1.5GiB.

  --config FILE            YAML config file (default: $DAMSELFLY_CONFIG, else none)
  --print-config           print the effective configuration as YAML and exit
  --data-dir DIR           where blobs and the node key live (required)
  --listen MULTIADDR       address to listen on, repeatable (default /ip4/127.0.0.1/tcp/0)
  --bootstrap MULTIADDR    peer to join through, repeatable; /p2p/<peer id> optional
  --encryption NAME        connection encryption offered to peers, repeatable, most preferred first:
                           tls, noise (default tls, then noise; go-libp2p speaks both)
  --swarm-key FILE         make the swarm private: only peers holding this key (damselfly swarm-key)
                           can connect, either way (libp2p private network; go-libp2p's format)
  --allow-peer PEERID      connect only with these peers, either way, repeatable (default: any) [allowPeers]
  --seed                   pull blobs from their origin when asked, and feed the swarm
  --trust-seed PEERID      accept manifests signed only by these peers, repeatable (default: any signer)
                           [trustedSeeds]
  --allow-origin PATTERN   read blobs from URLs the pattern covers too, repeatable: http(s)://HOST[:PORT][/PATH],
                           HOST may be * or *.domain, PORT may be * (default none). Nothing else is fetched,
                           whoever asks: the configured registries' blob URLs and these. [allowOrigins]
  --no-origin-fallback     never pull from the origin directly when no seed answers [originFallback: false]
  --seed-timeout TIME      how long a seed may take to accept a request (default 5s)
  --origin-timeout TIME    origin response and idle deadline (default 30s)
  --upload-rate RATE       node-wide upload limit, e.g. 100MB (default 0: unlimited)
  --download-rate RATE     node-wide download limit (default 0: unlimited)
  --upload-slots N         upload sessions served at once (default ${SWARM_DEFAULTS.uploadSlots})
  --max-parents N          parents per download (default ${SWARM_DEFAULTS.maxParents})
  --api HOST:PORT          control API address (default 127.0.0.1:65002)
  --api-token-file FILE    bearer token the control API wants of every request but /healthz and the
                           status page's files; required when --api is off loopback
  --mirror HOST:PORT       registry-mirror address for containerd, CRI-O and Docker (default 127.0.0.1:65001)
  --no-mirror              do not serve the registry mirror [mirror: false]
  --default-registry HOST  upstream for mirror requests without ?ns= (CRI-O, Docker) (default docker.io)
                           [registry.default]
  --insecure-registry HOST reach this registry over plain HTTP, repeatable (as Docker's flag)
                           [registry.insecure]
  --registry-ca FILE       PEM CA certificates trusted for registries, besides the system's [registry.ca]
  --docker-config FILE     registry credentials from a Docker config.json ("auths"); they stay on this node
                           [registry.dockerConfig]
  --piece-size BYTES       piece size for blobs this node pulls from origins, for experiments
                           (default null: size / 512 rounded up to a power of two, 1 MiB..64 MiB)
  --super-seed-copies N    copies of a piece sent in quick succession before more requests for it
                           are declined so peers spread it; 0 turns it off (default ${SWARM_DEFAULTS.superSeedCopies})
  --quota SIZE             disk quota of the blob store (default 0: none) [storage.quota]

File and environment only:
  storage.highWatermark    fraction of the quota that starts a collection (default 0.9)
  storage.lowWatermark     fraction of the quota a collection brings use down to (default 0.8)
  storage.diskGuard        no new blob is fetched while the file system is fuller than this, or when it
                           would not fit in what is free (default 0.95; 1 turns it off)
  registry.hosts           per registry (file only), e.g.
                             registry:
                               hosts:
                                 ghcr.io: { endpoint: https://ghcr.io, username: bob, password: secret }
`

export async function daemonCommand (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...CONFIG_OPTIONS,
      'print-config': { type: 'boolean' },
      'test-corrupt-uploads': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    process.stdout.write(DAEMON_HELP)
    return 0
  }
  if (values['test-corrupt-uploads'] === true && process.env.DAMSELFLY_TEST !== '1') {
    throw new UsageError('--test-corrupt-uploads is for tests only (set DAMSELFLY_TEST=1)')
  }
  const { config, init } = await loadConfig({ flags: values, env: process.env })
  if (values['print-config'] === true) {
    process.stdout.write(formatConfig(config))
    return 0
  }
  const daemon = await startDaemon({ ...init, corruptUploads: values['test-corrupt-uploads'] === true })
  const s = daemon.swarm
  process.stdout.write(`damselfly daemon ${config.seed ? '(seed) ' : ''}peer ${s.peerId}\n`)
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
