/** Node-wide counters, rendered by the daemon as Prometheus metrics. */
export interface SwarmStats {
  bytesFromOrigin: number
  bytesFromPeers: number
  bytesUploaded: number
  /** Piece bytes received after the piece was already held or being written: the cost of hedged requests. */
  bytesDiscarded: number
  piecesVerified: number
  piecesRejected: number
  bans: number
  activeUploads: number
  /** DHT provider lookups started (each asks up to K peers). */
  dhtLookups: number
  /** DHT provider records published (each a lookup of the K closest peers, then a record to each). */
  dhtProvides: number
  /** Gossip messages this node published, by topic: blob announcements and load beacons. */
  gossipPublished: { blob: number, beacon: number }
  /** Gossip messages delivered to this node (each once, however many peers forwarded it), by topic. */
  gossipReceived: { blob: number, beacon: number }
  /** Blob announcements this node did not make, having heard ANNOUNCED_HOLDERS_ENOUGH other holders announce. */
  announcementsWithheld: number
  /** Idle connections this node closed, having opened more than its cap. */
  connectionsClosedIdle: number
  /** Peers a parent's BUSY answer named as holders of the piece it declined (each then a candidate). */
  busyHolders: number
  /** Pieces this node declined to send (BUSY) as just sent to peers the requester can ask instead (super-seeding). */
  piecesDeclined: number
  /** Questions to the advisor (the scheduler): asked, and how they ended: answered in time, too late or failed. */
  advice: { asked: number, answered: number, late: number, failed: number }
  /** Requests sent to schedulers, by kind: flushes (beacon, reports, holdings), rank and suggest questions. */
  scheduleRequests: { flush: number, rank: number, suggest: number, lookup: number }
}

export function newStats (): SwarmStats {
  return { bytesFromOrigin: 0, bytesFromPeers: 0, bytesUploaded: 0, bytesDiscarded: 0, piecesVerified: 0, piecesRejected: 0, bans: 0, activeUploads: 0, dhtLookups: 0, dhtProvides: 0, gossipPublished: { blob: 0, beacon: 0 }, gossipReceived: { blob: 0, beacon: 0 }, announcementsWithheld: 0, connectionsClosedIdle: 0, busyHolders: 0, piecesDeclined: 0, advice: { asked: 0, answered: 0, late: 0, failed: 0 }, scheduleRequests: { flush: 0, rank: 0, suggest: 0, lookup: 0 } }
}
