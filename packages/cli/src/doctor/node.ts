import { daemonGet, getJson, readText } from '../http.js'
import { fail, ok, warn } from './findings.js'
import { parseHostPort } from '../args.js'
import { isLoopbackMultiaddr } from './host.js'
import type { Finding } from './findings.js'
import type { HostPort } from './host.js'

/** The parts of `/api/v1/status` the doctor reads. */
export interface DaemonStatus {
  peerId: string
  seed: boolean
  listenAddresses: string[]
  bootstrap?: Array<{ address: string, peer?: string, connected: boolean, failures: number, lastError?: string }>
  peers: Array<{ peer: string, seed: boolean }>
  mirror?: { address?: string, recent?: Array<{ at: number, method: string, kind: string, registry?: string, name: string, reference: string, status: number }> }
}

export async function fetchStatus (api: string, headers: Record<string, string>): Promise<DaemonStatus> {
  return await getJson(`${api}/api/v1/status`, { headers }) as DaemonStatus
}

/** Is the daemon up, does its mirror answer, can other nodes reach it, is it connected to its swarm. */
export async function checkDaemon (api: string, status: DaemonStatus | Error): Promise<{ findings: Finding[], mirror?: HostPort }> {
  if (status instanceof Error) {
    return {
      findings: [fail('daemon', status.message, 'start it (systemctl start damselfly, or damselfly daemon ...), or point --api at its control API')]
    }
  }
  const findings: Finding[] = [ok('daemon', `up (${api}): peer ${status.peerId}, ${status.seed ? 'a seed' : 'a node'}`)]

  const mirror = mirrorAddress(status.mirror?.address)
  if (status.mirror == null || mirror == null) {
    findings.push(fail('mirror', 'the daemon runs no registry mirror, so container runtimes cannot pull through it', 'start the daemon without --no-mirror (mirror: in the config file names its address)'))
  } else {
    const host = mirror.host === '0.0.0.0' || mirror.host === '::' ? '127.0.0.1' : mirror.host
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${mirror.port}/v2/`
    try {
      const res = await daemonGet(url, { signal: AbortSignal.timeout(5000) })
      await readText(res)
      if (res.statusCode === 200) findings.push(ok('mirror', `answers at ${url}`))
      else findings.push(fail('mirror', `${url} answered ${res.statusCode}, not 200`))
    } catch (err: any) {
      findings.push(fail('mirror', `the mirror at ${url} does not answer: ${err.message}`))
    }
  }

  const listen = status.listenAddresses
  const outside = listen.filter(a => !isLoopbackMultiaddr(a))
  if (listen.length === 0) {
    findings.push(fail('listen', 'the node listens nowhere: no peer can fetch from it', 'listen on an address other nodes reach: --listen /ip4/0.0.0.0/tcp/4001 (listen: in the config file)'))
  } else if (outside.length === 0) {
    findings.push(fail('listen', `the node listens only on loopback (${listen.join(', ')}): other nodes cannot fetch from it, so it takes and never gives`, 'listen on an address other nodes reach: --listen /ip4/0.0.0.0/tcp/4001 (listen: in the config file), and open that port between nodes'))
  } else {
    findings.push(ok('listen', `other nodes can dial ${outside.join(', ')}`))
  }

  const bootstrap = status.bootstrap ?? []
  for (const b of bootstrap) {
    if (b.connected) findings.push(ok('bootstrap', `connected to ${b.address}`))
    else {
      findings.push(fail('bootstrap', `not connected to ${b.address}${b.failures > 0 ? ` (${b.failures} failed dial${b.failures === 1 ? '' : 's'}${b.lastError != null ? `, the last: ${b.lastError}` : ''})` : ' (no dial finished yet)'}`,
        'check that this node reaches that host and port (firewall, security group), that the peer runs, and that both use the same swarm key (or none)'))
    }
  }
  const peers = status.peers.length
  const seeds = status.peers.filter(p => p.seed).length
  if (peers === 0) {
    findings.push(fail('peers', bootstrap.length === 0 && !status.seed
      ? 'connected to no peer, and no bootstrap address is set: this node is alone and pulls everything from the registry'
      : 'connected to no peer: every pull goes to the registry', bootstrap.length === 0 ? 'give the seeds\' addresses: --bootstrap /ip4/SEED/tcp/4001 (bootstrap: in the config file)' : undefined))
  } else if (seeds === 0 && !status.seed) {
    findings.push(warn('peers', `connected to ${peers} peer${peers === 1 ? '' : 's'}, none a seed: a blob no peer holds is pulled from the registry by the nodes themselves`, 'bootstrap from a seed (a daemon started with --seed)'))
  } else {
    findings.push(ok('peers', `connected to ${peers} peer${peers === 1 ? '' : 's'}${status.seed ? '' : `, ${seeds} of them seed${seeds === 1 ? '' : 's'}`}`))
  }
  return { findings, mirror }
}

/** Where the daemon says its mirror listens; undefined when it runs none or says something unreadable. */
function mirrorAddress (address: string | undefined): HostPort | undefined {
  if (address == null) return undefined
  try {
    return parseHostPort(address, 'mirror')
  } catch {
    return undefined
  }
}
