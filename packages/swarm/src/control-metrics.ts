import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { ACCESS_PROTOCOL, KAD_PROTOCOL, PIECE_PROTOCOL, SCHEDULE_PROTOCOL, SEED_PROTOCOL } from '@damselfly/protocol'
import { Counter } from 'prom-client'
import type { Metrics, MultiaddrConnection, Stream } from '@libp2p/interface'
import type { Registry } from 'prom-client'

/**
 * The label a stream's protocol is counted under: Damselfly's own and the
 * libp2p protocols a node speaks, by a short name; any other (a newer
 * version, a peer's own) as `other`, so the series stay few.
 */
export function streamProtocolLabel (protocol: string | undefined): string {
  if (protocol == null) return 'other'
  switch (protocol) {
    case PIECE_PROTOCOL: return 'piece'
    case SEED_PROTOCOL: return 'seed'
    case ACCESS_PROTOCOL: return 'access'
    case SCHEDULE_PROTOCOL: return 'schedule'
    case KAD_PROTOCOL: return 'dht'
  }
  if (protocol.startsWith('/meshsub/')) return 'gossipsub'
  if (protocol.startsWith('/ipfs/id/push/')) return 'identify-push'
  if (protocol.startsWith('/ipfs/id/')) return 'identify'
  if (protocol.startsWith('/ipfs/ping/')) return 'ping'
  if (protocol.startsWith('/libp2p/circuit/relay/')) return 'relay'
  if (protocol.startsWith('/webrtc-signaling/')) return 'webrtc-signaling'
  return 'other'
}

export interface ControlMetricsInit {
  registry: Registry
  /** A path on the file system whose use libp2p reports (`nodejs_fs_usage_bytes`). */
  statfsPath: string
}

/**
 * libp2p's own metrics (connections open, protocol bytes, dials, DHT), plus
 * two counters of what a node's control traffic costs it: the streams it
 * opens and accepts, by protocol, and the connections. A DHT request is one
 * stream, so the inbound `dht` streams are the DHT requests a node served.
 */
export function controlMetrics (init: ControlMetricsInit): (components: any) => Metrics {
  // the process's metrics (CPU, memory, event loop) are the registry's
  // owner's to add. preserveExistingMetrics stays off: libp2p caches its
  // metrics by name across nodes, and on it would give a second node in the
  // process the first one's (off, it empties prom-client's global registry,
  // which nothing here uses)
  const libp2pMetrics = prometheusMetrics({ registry: init.registry, collectDefaultMetrics: false, statfsLocation: init.statfsPath })
  return components => {
    const metrics = libp2pMetrics(components)
    const streams = new Counter({
      name: 'damselfly_streams_total',
      help: 'Streams opened on this node\'s connections, by protocol; direction inbound when the peer opened it (an inbound dht stream is a DHT request served)',
      labelNames: ['protocol', 'direction'],
      registers: [init.registry]
    })
    const connections = new Counter({
      name: 'damselfly_connections_total',
      help: 'Connections this node opened (outbound) and accepted (inbound)',
      labelNames: ['direction'],
      registers: [init.registry]
    })
    const trackStream = metrics.trackProtocolStream.bind(metrics)
    metrics.trackProtocolStream = (stream: Stream) => {
      streams.inc({ protocol: streamProtocolLabel(stream.protocol), direction: stream.direction })
      trackStream(stream)
    }
    const trackConnection = metrics.trackMultiaddrConnection.bind(metrics)
    metrics.trackMultiaddrConnection = (connection: MultiaddrConnection) => {
      connections.inc({ direction: connection.direction })
      trackConnection(connection)
    }
    return metrics
  }
}
