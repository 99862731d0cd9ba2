import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon } from '../src/daemon.js'
import type { Daemon } from '../src/daemon.js'

interface Sample { name: string, labels: Record<string, string>, value: number }
interface Family { type?: string, help?: string, samples: Sample[] }

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] }

/**
 * Parses Prometheus text exposition (version 0.0.4) strictly: a family's
 * HELP and TYPE once, its samples together after them and of its name,
 * label values quoted and escaped, values numbers, no series twice.
 */
function parseExposition (text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  let current: string | undefined
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line)
    if (meta != null) {
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string]
      if (current !== name && families.has(name)) throw new Error(`${name} is declared in two places`)
      const family = families.get(name) ?? { samples: [] }
      families.set(name, family)
      current = name
      if (kind === 'HELP') {
        if (family.help != null) throw new Error(`${name} has two HELP lines`)
        family.help = rest
      } else {
        if (family.type != null) throw new Error(`${name} has two TYPE lines`)
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`${name} has an unknown type ${rest}`)
        family.type = rest
      }
      continue
    }
    if (line.startsWith('#')) continue
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line)
    if (m == null) throw new Error(`not a sample: ${line}`)
    const [, name, labelText = '', valueText] = m as unknown as [string, string, string | undefined, string]
    const family = current != null ? families.get(current) : undefined
    const suffixes = SUFFIXES[family?.type ?? ''] ?? []
    if (family == null || (name !== current && !suffixes.some(s => name === current + s))) throw new Error(`${name} is not in the family above it (${current})`)
    const labels: Record<string, string> = {}
    let rest = labelText
    while (rest !== '') {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/.exec(rest)
      if (l == null) throw new Error(`bad labels in ${line}`)
      labels[l[1]!] = l[2]!
      rest = rest.slice(l[0].length)
    }
    const value = Number(valueText)
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value in ${line}`)
    const key = name + JSON.stringify(Object.entries(labels).sort())
    if (family.samples.some(s => s.name + JSON.stringify(Object.entries(s.labels).sort()) === key)) throw new Error(`${line} is there twice`)
    family.samples.push({ name, labels, value })
  }
  for (const [name, family] of families) if (family.type == null) throw new Error(`${name} has no TYPE`)
  return families
}

/** The node's own series as dashboards know them: type and label names. */
const DAMSELFLY_SERIES: Record<string, [type: string, labels: string[]]> = {
  damselfly_received_bytes_total: ['counter', ['source']],
  damselfly_uploaded_bytes_total: ['counter', []],
  damselfly_discarded_bytes_total: ['counter', []],
  damselfly_pieces_verified_total: ['counter', []],
  damselfly_pieces_rejected_total: ['counter', []],
  damselfly_bans_total: ['counter', []],
  damselfly_dht_queries_total: ['counter', ['kind']],
  damselfly_gossip_messages_total: ['counter', ['direction', 'topic']],
  damselfly_active_uploads: ['gauge', []],
  damselfly_peers: ['gauge', []],
  damselfly_process_memory_bytes: ['gauge', ['kind']],
  damselfly_store_bytes: ['gauge', []],
  damselfly_store_blobs: ['gauge', []],
  damselfly_task_parents: ['gauge', ['digest']],
  damselfly_task_pieces_held: ['gauge', ['digest']],
  damselfly_task_complete: ['gauge', ['digest']],
  damselfly_mirror_bytes_total: ['counter', ['source']],
  damselfly_mirror_requests_total: ['counter', ['kind']]
}

describe('/metrics of two daemons in one process', () => {
  let root: string
  let first: Daemon
  let second: Daemon

  const scrape = async (d: Daemon): Promise<{ type: string | null, families: Map<string, Family> }> => {
    const res = await fetch(`http://${d.apiAddress}/metrics`)
    expect(res.status).toBe(200)
    return { type: res.headers.get('content-type'), families: parseExposition(await res.text()) }
  }
  const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined =>
    families.get(name)?.samples.find(s => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'damselfly-metrics-'))
    const at = { host: '127.0.0.1', port: 0 }
    first = await startDaemon({ dataDir: join(root, 'first'), api: at, mirror: at })
    second = await startDaemon({ dataDir: join(root, 'second'), api: at, mirror: at, bootstrap: first.swarm.listenAddresses() })
  })

  afterAll(async () => {
    await second?.stop()
    await first?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('serves the node\'s series under the names, types and labels it always had', async () => {
    const { type, families } = await scrape(first)
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/)
    for (const [name, [kind, labels]] of Object.entries(DAMSELFLY_SERIES)) {
      expect(families.get(name)?.type, name).toBe(kind)
      for (const s of families.get(name)!.samples) expect(Object.keys(s.labels).sort(), name).toEqual([...labels].sort())
    }
    expect(value(families, 'damselfly_received_bytes_total', { source: 'origin' })).toBe(0)
    expect(value(families, 'damselfly_process_memory_bytes', { kind: 'rss' })).toBeGreaterThan(0)
    expect(families.get('damselfly_task_complete')!.samples, 'no task, no series').toEqual([])
  })

  it('serves the process\'s, libp2p\'s and gossipsub\'s metrics beside them', async () => {
    const { families } = await scrape(first)
    expect(value(families, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge')
    expect(families.get('libp2p_data_transfer_bytes_total')?.type).toBe('counter')
    expect(families.get('libp2p_kad_dht_operations_total')?.type).toBe('gauge')
    expect(families.get('gossipsub_mesh_peer_count')?.type).toBe('gauge')
    // the file system libp2p reports is the one the store is on
    expect(value(families, 'nodejs_fs_usage_bytes', { filesystem: 'total' })).toBeGreaterThan(0)
  })

  it('keeps each daemon\'s view of their connection apart', async () => {
    const connections = 'libp2p_connection_manager_connections'
    let a = (await scrape(first)).families
    let b = (await scrape(second)).families
    for (let i = 0; i < 100 && (value(a, 'damselfly_peers') !== 1 || value(b, 'damselfly_peers') !== 1); i++) {
      await sleep(100)
      a = (await scrape(first)).families
      b = (await scrape(second)).families
    }
    expect(value(a, 'damselfly_peers')).toBe(1)
    expect(value(b, 'damselfly_peers')).toBe(1)
    expect(value(a, connections, { [connections]: 'inbound' })).toBe(1)
    expect(value(a, connections, { [connections]: 'outbound' })).toBe(0)
    expect(value(b, connections, { [connections]: 'inbound' })).toBe(0)
    expect(value(b, connections, { [connections]: 'outbound' })).toBe(1)
    expect(value(b, 'libp2p_data_transfer_bytes_total', { protocol: '/ipfs/id/1.0.0 received' })).toBeGreaterThan(0)
  })
})
