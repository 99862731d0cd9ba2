import type { MirrorStats } from '@damselfly/registry'
import type { Swarm } from '@damselfly/swarm'

function esc (v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** Prometheus text exposition of the node's counters. */
export function renderMetrics (swarm: Swarm, mirror?: MirrorStats): string {
  const s = swarm.stats
  const lines: string[] = []
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string>, number]>): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',')
      lines.push(`${name}${l.length > 0 ? `{${l}}` : ''} ${value}`)
    }
  }
  metric('damselfly_received_bytes_total', 'counter', 'Verified blob bytes received, by source.', [[{ source: 'origin' }, s.bytesFromOrigin], [{ source: 'peer' }, s.bytesFromPeers]])
  metric('damselfly_uploaded_bytes_total', 'counter', 'Piece bytes sent to other peers.', [[{}, s.bytesUploaded]])
  metric('damselfly_discarded_bytes_total', 'counter', 'Piece bytes received and thrown away because another parent delivered the piece first (hedged requests).', [[{}, s.bytesDiscarded]])
  metric('damselfly_pieces_verified_total', 'counter', 'Pieces verified and stored.', [[{}, s.piecesVerified]])
  metric('damselfly_pieces_rejected_total', 'counter', 'Pieces received that failed verification.', [[{}, s.piecesRejected]])
  metric('damselfly_bans_total', 'counter', 'Peers banned for bad pieces or protocol violations.', [[{}, s.bans]])
  metric('damselfly_dht_queries_total', 'counter', 'DHT queries this node started, by kind: provider lookups and provider records published.',
    [[{ kind: 'find_providers' }, s.dhtLookups], [{ kind: 'provide' }, s.dhtProvides]])
  metric('damselfly_gossip_messages_total', 'counter', 'Gossip messages this node published and received, by topic: blob announcements and load beacons.',
    [[{ direction: 'published', topic: 'blob' }, s.gossipPublished.blob], [{ direction: 'published', topic: 'beacon' }, s.gossipPublished.beacon],
      [{ direction: 'received', topic: 'blob' }, s.gossipReceived.blob], [{ direction: 'received', topic: 'beacon' }, s.gossipReceived.beacon]])
  metric('damselfly_active_uploads', 'gauge', 'Upload sessions being served.', [[{}, s.activeUploads]])
  metric('damselfly_peers', 'gauge', 'Connected peers.', [[{}, swarm.peers().length]])
  const mem = process.memoryUsage()
  metric('damselfly_process_memory_bytes', 'gauge', 'Memory of the daemon process: resident set, V8 heap used and reserved, external and ArrayBuffer memory.',
    [[{ kind: 'rss' }, mem.rss], [{ kind: 'heap_used' }, mem.heapUsed], [{ kind: 'heap_total' }, mem.heapTotal], [{ kind: 'external' }, mem.external], [{ kind: 'array_buffers' }, mem.arrayBuffers]])
  metric('damselfly_store_bytes', 'gauge', 'Bytes of blobs on disk, complete or partial.', [[{}, swarm.store.usage()]])
  metric('damselfly_store_blobs', 'gauge', 'Blobs on disk, complete or partial.', [[{}, swarm.store.list().length]])
  const tasks = swarm.tasks()
  metric('damselfly_task_parents', 'gauge', 'Distinct parents that delivered verified pieces of a blob.', tasks.map(t => [{ digest: t.digest }, Object.keys(t.parents).length]))
  metric('damselfly_task_pieces_held', 'gauge', 'Verified pieces held of a blob.', tasks.map(t => [{ digest: t.digest }, t.piecesHeld]))
  metric('damselfly_task_complete', 'gauge', '1 when the blob is complete and verified.', tasks.map(t => [{ digest: t.digest }, t.state === 'complete' ? 1 : 0]))
  if (mirror != null) {
    metric('damselfly_mirror_bytes_total', 'counter', 'Bytes the registry mirror served to clients, by where they came from (cache, peer, seed, upstream).',
      Object.entries(mirror.bytes).map(([source, n]) => [{ source }, n]))
    metric('damselfly_mirror_requests_total', 'counter', 'Requests the registry mirror answered, by kind; rejected counts error answers.',
      Object.entries(mirror.requests).map(([kind, n]) => [{ kind }, n]))
  }
  return lines.join('\n') + '\n'
}
