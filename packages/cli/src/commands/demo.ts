import { parseBytes, parseFlags, parseHostPort, parseInteger, UsageError } from '../args.js'
import { containerdUnavailable } from '../demo/containerd.js'
import { runDemo } from '../demo/demo.js'

const DEMO_HELP = `Usage: damselfly demo [options]

Runs a local swarm on loopback and pulls one image through it: an embedded registry serving
an image generated on the spot, one seed and N daemons as separate processes. Every node pulls
the image through its registry mirror at once, the way containerd does; the summary says where
every byte came from. A live dashboard shows the swarm; every daemon's control API serves its
own status page. Ctrl-C stops every process the demo started.

  --nodes N              daemons that pull, besides the seed, 1..32 (default 5)
  --size SIZE            image size, a plain number in MiB or e.g. 48MiB, 1GiB (default 256)
  --dashboard HOST:PORT  where the dashboard listens (default 127.0.0.1:65080, or a free port
                         when that one is taken)
  --exit-after-pull      exit once the pulls are verified: 0 when all are, 1 when one is not
  --keep-running         keep the swarm and the dashboard up after the pulls until Ctrl-C
                         (the default when the output is a terminal)
  --containerd           pull with real containerd (one per node, ctr images pull through that
                         node's mirror only) instead of the built-in puller; needs root and
                         /usr/bin/containerd
  --browser-peers N      once the pulls are verified, the dashboard page starts N browser peers
                         (0..8, default 0), each fetching the largest layer from the swarm over
                         WebSockets; the demo waits for them (keep the page open) and adds them
                         to its summary. The page's button starts one more at any time
`

const MiB = 1024 * 1024
const MAX_SIZE = 8 * 1024 * MiB
const DEFAULT_DASHBOARD = '127.0.0.1:65080'

export async function demoCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('demo', argv, {
    nodes: { type: 'string' },
    size: { type: 'string' },
    dashboard: { type: 'string' },
    'exit-after-pull': { type: 'boolean' },
    'keep-running': { type: 'boolean' },
    containerd: { type: 'boolean' },
    'browser-peers': { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  }, true)
  if (values.help === true) {
    process.stdout.write(DEMO_HELP)
    return 0
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const nodes = parseInteger(values.nodes ?? '5', '--nodes', 1, 32)
  const size = parseSize(values.size ?? '256')
  if (values['exit-after-pull'] === true && values['keep-running'] === true) throw new UsageError('--exit-after-pull and --keep-running contradict each other: give one')
  const browserPeers = parseInteger(values['browser-peers'] ?? '0', '--browser-peers', 0, 8)
  const dashboard = parseHostPort(values.dashboard ?? DEFAULT_DASHBOARD, '--dashboard')
  if (values.containerd === true) {
    const why = containerdUnavailable()
    if (why != null) throw new Error(`--containerd: ${why}`)
  }
  const keepRunning = values['keep-running'] === true || (values['exit-after-pull'] !== true && process.stdout.isTTY)

  const controller = new AbortController()
  let interrupted = 0
  const onSignal = (): void => {
    interrupted++
    if (interrupted === 1) {
      process.stdout.write('\nstopping every process the demo started...\n')
      controller.abort(new Error('interrupted'))
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await runDemo({
      nodes,
      size,
      dashboard: { ...dashboard, anyPortIfBusy: values.dashboard == null },
      afterPull: keepRunning ? 'keep-running' : 'exit',
      containerd: values.containerd === true,
      browserPeers,
      signal: controller.signal,
      print: line => { process.stdout.write(line + '\n') }
    })
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** A plain number is MiB (`--size 48`); otherwise a size with its unit (48MiB, 1GiB). */
function parseSize (value: string): number {
  const bytes = /^\d+(\.\d+)?$/.test(value.trim()) ? Math.round(Number(value) * MiB) : parseBytesOrUsage(value)
  if (bytes < MiB || bytes > MAX_SIZE) throw new UsageError(`--size must be between 1 MiB and 8 GiB, got ${JSON.stringify(value)}`)
  return bytes
}

function parseBytesOrUsage (value: string): number {
  try {
    return parseBytes(value, '--size')
  } catch {
    throw new UsageError(`--size must be a size like 256 (MiB), 48MiB or 1GiB, got ${JSON.stringify(value)}`)
  }
}
