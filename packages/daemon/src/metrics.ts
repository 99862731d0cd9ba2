import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { MirrorStats } from '@damselfly/registry'
import type { Swarm } from '@damselfly/swarm'

type Sample = [labels: Record<string, string>, value: number]

/**
 * A registry for one daemon's metrics, not prom-client's global one, so that
 * daemons in one process keep theirs apart; with Node's process metrics in
 * it (CPU, memory, event loop lag, garbage collection, handles).
 */
export function createMetricsRegistry (): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return registry
}

/** Adds the node's own series to `registry`, read from the swarm and the mirror at every scrape. */
export function registerDaemonMetrics (registry: Registry, swarm: Swarm, mirror?: MirrorStats): void {
  const metric = (name: string, type: 'counter' | 'gauge', help: string, labelNames: string[], read: () => Sample[]): void => {
    // emptied first: a series whose source is gone (a finished task) goes with it
    const config = { name, help, labelNames, registers: [registry] }
    if (type === 'counter') new Counter({ ...config, collect () { this.reset(); for (const [labels, value] of read()) this.inc(labels, value) } })
    else new Gauge({ ...config, collect () { this.reset(); for (const [labels, value] of read()) this.set(labels, value) } })
  }
  const s = swarm.stats
  metric('damselfly_received_bytes_total', 'counter', 'Verified blob bytes received, by source.', ['source'], () => [[{ source: 'origin' }, s.bytesFromOrigin], [{ source: 'peer' }, s.bytesFromPeers]])
  metric('damselfly_uploaded_bytes_total', 'counter', 'Piece bytes sent to other peers.', [], () => [[{}, s.bytesUploaded]])
  metric('damselfly_pieces_declined_total', 'counter', 'Pieces this node declined to send (BUSY) as just sent to peers the requester can ask instead (super-seeding).', [], () => [[{}, s.piecesDeclined]])
  metric('damselfly_busy_holders_total', 'counter', 'Peers named by a parent that declined a piece as just sent to them (BUSY), asked for it instead.', [], () => [[{}, s.busyHolders]])
  metric('damselfly_advice_asked_total', 'counter', 'Questions asked of the scheduler (rank, suggest).', [], () => [[{}, s.advice.asked]])
  metric('damselfly_advice_total', 'counter', 'Questions to the scheduler that ended, by how: answered in time, late (after 500 ms: the download went on meanwhile and took it when it came) or failed (no answer within 5 s).', ['result'],
    () => [[{ result: 'answered' }, s.advice.answered], [{ result: 'late' }, s.advice.late], [{ result: 'failed' }, s.advice.failed]])
  metric('damselfly_schedule_requests_total', 'counter', 'Requests this node sent to schedulers, by kind: flushes (its load beacon with reports and blobs held), rank and suggest questions, and lookups (holders asked of it where the DHT would be); a request with several questions counts once, by its first.', ['kind'],
    () => Object.entries(s.scheduleRequests).map(([kind, n]) => [{ kind }, n]))
  metric('damselfly_discarded_bytes_total', 'counter', 'Piece bytes received and thrown away because another parent delivered the piece first (hedged requests).', [], () => [[{}, s.bytesDiscarded]])
  metric('damselfly_pieces_verified_total', 'counter', 'Pieces verified and stored.', [], () => [[{}, s.piecesVerified]])
  metric('damselfly_pieces_rejected_total', 'counter', 'Pieces received that failed verification.', [], () => [[{}, s.piecesRejected]])
  metric('damselfly_bans_total', 'counter', 'Peers banned for bad pieces or protocol violations.', [], () => [[{}, s.bans]])
  metric('damselfly_dht_queries_total', 'counter', 'DHT queries this node started, by kind: provider lookups and provider records published.', ['kind'],
    () => [[{ kind: 'find_providers' }, s.dhtLookups], [{ kind: 'provide' }, s.dhtProvides]])
  metric('damselfly_gossip_messages_total', 'counter', 'Gossip messages this node published and received, by topic: blob announcements and load beacons.', ['direction', 'topic'],
    () => [[{ direction: 'published', topic: 'blob' }, s.gossipPublished.blob], [{ direction: 'published', topic: 'beacon' }, s.gossipPublished.beacon],
      [{ direction: 'received', topic: 'blob' }, s.gossipReceived.blob], [{ direction: 'received', topic: 'beacon' }, s.gossipReceived.beacon]])
  metric('damselfly_connections_closed_idle_total', 'counter', 'Idle connections this node opened and closed, having opened more than its cap (--max-connections).', [], () => [[{}, s.connectionsClosedIdle]])
  metric('damselfly_announcements_withheld_total', 'counter', 'Blob announcements not published: enough other holders of the blob had announced it.', [], () => [[{}, s.announcementsWithheld]])
  metric('damselfly_active_uploads', 'gauge', 'Upload sessions being served.', [], () => [[{}, s.activeUploads]])
  metric('damselfly_peers', 'gauge', 'Connected peers.', [], () => [[{}, swarm.peers().length]])
  metric('damselfly_process_memory_bytes', 'gauge', 'Memory of the daemon process: resident set, V8 heap used and reserved, external and ArrayBuffer memory.', ['kind'], () => {
    const mem = process.memoryUsage()
    return [[{ kind: 'rss' }, mem.rss], [{ kind: 'heap_used' }, mem.heapUsed], [{ kind: 'heap_total' }, mem.heapTotal], [{ kind: 'external' }, mem.external], [{ kind: 'array_buffers' }, mem.arrayBuffers]]
  })
  metric('damselfly_store_bytes', 'gauge', 'Bytes of blobs on disk, complete or partial.', [], () => [[{}, swarm.store.usage()]])
  metric('damselfly_store_blobs', 'gauge', 'Blobs on disk, complete or partial.', [], () => [[{}, swarm.store.list().length]])
  metric('damselfly_task_parents', 'gauge', 'Distinct parents that delivered verified pieces of a blob.', ['digest'], () => swarm.tasks().map(t => [{ digest: t.digest }, Object.keys(t.parents).length]))
  metric('damselfly_task_pieces_held', 'gauge', 'Verified pieces held of a blob.', ['digest'], () => swarm.tasks().map(t => [{ digest: t.digest }, t.piecesHeld]))
  metric('damselfly_task_complete', 'gauge', '1 when the blob is complete and verified.', ['digest'], () => swarm.tasks().map(t => [{ digest: t.digest }, t.state === 'complete' ? 1 : 0]))
  if (mirror != null) {
    metric('damselfly_mirror_bytes_total', 'counter', 'Bytes the registry mirror served to clients, by where they came from (cache, peer, seed, upstream).', ['source'],
      () => Object.entries(mirror.bytes).map(([source, n]) => [{ source }, n]))
    metric('damselfly_mirror_requests_total', 'counter', 'Requests the registry mirror answered, by kind; rejected counts error answers.', ['kind'],
      () => Object.entries(mirror.requests).map(([kind, n]) => [{ kind }, n]))
  }
}
