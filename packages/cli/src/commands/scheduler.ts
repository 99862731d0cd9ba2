import { startScheduler } from '@damselfly/daemon'
import { parseFlags, UsageError } from '../args.js'
import { untilSignalled } from '../daemon-process.js'
import { readSwarmKey } from '../config-files.js'
import { dialAddrs, listenAddrs, peerIds } from '../config-values.js'

const SCHEDULER_HELP = `Usage: damselfly scheduler [options]

Runs the optional scheduler: nodes started with --scheduler MULTIADDR send it their
load and what their parents did, and ask it to rank and suggest parents. It keeps
everything in memory, and a restarted scheduler learns it again from the nodes within
a minute. Nodes never wait on it past 500 ms; without one they rank parents locally.

  --listen MULTIADDR     where nodes reach it, repeatable (default /ip4/0.0.0.0/tcp/4010)
  --data-dir DIR         keep its peer key here, so its /p2p/ address survives restarts
  --swarm-key FILE       the swarm's key, when the swarm is private
  --allow-peer PEERID    answer only these peers, repeatable
  --stats-every SECONDS  print what it knows this often (default 60; 0: never)
`

function oneOf<T> (parse: { parse: (v: unknown) => T }, value: unknown, flag: string): T {
  try {
    return parse.parse(value)
  } catch (err: any) {
    const issue = err.issues?.[0]
    throw new UsageError(`${flag}: ${issue?.message ?? err.message}`)
  }
}

export async function schedulerCommand (argv: string[]): Promise<number> {
  const { values } = parseFlags('scheduler', argv, {
    listen: { type: 'string', multiple: true },
    'data-dir': { type: 'string' },
    'swarm-key': { type: 'string' },
    'allow-peer': { type: 'string', multiple: true },
    'stats-every': { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  })
  if (values.help === true) {
    process.stdout.write(SCHEDULER_HELP)
    return 0
  }
  const listen = oneOf(listenAddrs, values.listen ?? ['/ip4/0.0.0.0/tcp/4010'], '--listen')
  // a scheduler listens; what it listens on must also be something nodes can dial
  oneOf(dialAddrs, listen, '--listen')
  const allowPeers = oneOf(peerIds, values['allow-peer'] ?? [], '--allow-peer')
  const statsEvery = values['stats-every'] != null ? Number(values['stats-every']) : 60
  if (!Number.isInteger(statsEvery) || statsEvery < 0) throw new UsageError(`--stats-every must be a whole number of seconds, got ${JSON.stringify(values['stats-every'])}`)
  let swarmKey: Uint8Array | undefined
  if (values['swarm-key'] != null) {
    try {
      swarmKey = await readSwarmKey(values['swarm-key'])
    } catch (err: any) {
      throw new UsageError(`--swarm-key: ${err.message}`)
    }
  }
  const scheduler = await startScheduler({ listen, dataDir: values['data-dir'], swarmKey, allowPeers })
  process.stdout.write(`damselfly scheduler peer ${scheduler.peerId}\n`)
  for (const a of scheduler.listenAddresses()) process.stdout.write(`listening on ${a}\n`)
  const timer = statsEvery > 0
    ? setInterval(() => {
      const c = scheduler.state.counts
      process.stdout.write(`nodes ${scheduler.state.nodes}, requests ${c.requests} (beacons ${c.beacons}, reports ${c.reports}, ranks ${c.ranks}, suggestions ${c.suggests})\n`)
    }, statsEvery * 1000)
    : undefined
  await untilSignalled()
  clearInterval(timer)
  process.stdout.write('stopping\n')
  await scheduler.stop()
  return 0
}
