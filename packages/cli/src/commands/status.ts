import { apiBase, apiHeaders, formatBytes, parseFlags } from '../args.js'
import { getJson } from '../http.js'

const STATUS_HELP = `Usage: damselfly status [--api HOST:PORT] [--api-token-file FILE] [--json]

Shows the local daemon's peer id, role (seed or node), registry mirror, listen addresses,
peers, tasks and byte counts.

  --api HOST:PORT         the daemon's control API (default 127.0.0.1:65002, or $DAMSELFLY_API)
  --api-token-file FILE   the API's bearer token, when it wants one (or $DAMSELFLY_API_TOKEN_FILE)
  --json                  the whole status as JSON
`

export async function statusCommand (argv: string[]): Promise<number> {
  const { values } = parseFlags('status', argv, { api: { type: 'string' }, 'api-token-file': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } })
  if (values.help === true) {
    process.stdout.write(STATUS_HELP)
    return 0
  }
  const status = await getJson(`${apiBase(values.api)}/api/v1/status`, { headers: await apiHeaders(values['api-token-file']) }) as any
  if (values.json === true) {
    process.stdout.write(JSON.stringify(status) + '\n')
    return 0
  }
  const out: string[] = []
  out.push(`peer        ${status.peerId}`)
  out.push(`role        ${status.seed === true ? 'seed (pulls from origins for the swarm)' : 'node'}`)
  out.push(`mirror      ${status.mirror?.address != null ? `http://${status.mirror.address}` : 'off'}`)
  for (const a of status.listenAddresses) out.push(`listening   ${a}`)
  if (status.listenAddresses.length === 0) out.push('listening   nowhere')
  out.push(`peers       ${status.peers.length}${status.peers.some((p: any) => p.seed) ? ` (seeds: ${status.peers.filter((p: any) => p.seed).length})` : ''}`)
  out.push(`from origin ${formatBytes(status.stats.bytesFromOrigin)}`)
  out.push(`from peers  ${formatBytes(status.stats.bytesFromPeers)}`)
  out.push(`uploaded    ${formatBytes(status.stats.bytesUploaded)}`)
  out.push(`tasks       ${status.tasks.length}`)
  for (const t of status.tasks) {
    const pct = t.pieces > 0 ? Math.floor(t.piecesHeld / t.pieces * 100) : (t.state === 'complete' ? 100 : 0)
    // a download of the pieces read only, holding every one read so far: nothing moves until the next read
    const state = t.state === 'downloading' && t.ranged === true && t.fetching === false ? 'partial' : t.state
    out.push(`  ${t.digest.slice(0, 19)}  ${state.padEnd(11)} ${String(pct).padStart(3)}%  ${t.size != null ? formatBytes(t.size) : '?'}  parents ${Object.keys(t.parents).length}${t.error != null ? `  error: ${t.error.message}` : ''}`)
  }
  process.stdout.write(out.join('\n') + '\n')
  return 0
}
