import { BEACON_TOPIC, BLOB_TOPIC_PREFIX } from '@damselfly/protocol'
import { Gauge, Histogram } from 'prom-client'
import type { MetricsRegister, TopicStrToLabel } from '@libp2p/gossipsub/metrics'
import type { Registry } from 'prom-client'

type Labels = Record<string, string | number>

interface MetricConfig {
  name: string
  help: string
  labelNames?: readonly string[]
  buckets?: number[]
}

/**
 * The label a gossip topic is counted under: its kind, never the blob, so
 * that the series do not grow with every blob the node ever saw.
 */
function topicLabel (topic: string): 'beacon' | 'blob' | 'other' {
  if (topic === BEACON_TOPIC) return 'beacon'
  return topic.startsWith(BLOB_TOPIC_PREFIX) ? 'blob' : 'other'
}

/**
 * gossipsub asks this map for a topic's label and aggregates its per-topic
 * counters by the answer: every topic has one, its kind.
 */
class TopicKinds extends Map<string, string> {
  override get (topic: string): string {
    return topicLabel(topic)
  }
}

export const GOSSIP_TOPIC_LABELS: TopicStrToLabel = new TopicKinds()

/**
 * A few gauges (subscription, topic peers, mesh peers) are labelled with the
 * topic string itself, bypassing the labels above: their series are kept for
 * the beacon topic alone, where one per blob topic would never end.
 */
function bounded (labels: Labels): Labels | undefined {
  if (labels.topicStr == null) return labels
  return topicLabel(String(labels.topicStr)) === 'beacon' ? { ...labels, topicStr: 'beacon' } : undefined
}

/** gossipsub's metrics, recorded in a prom-client registry. */
export function gossipMetrics (registry: Registry): MetricsRegister {
  const registers = [registry]
  const register = {
    gauge (config: MetricConfig) {
      const collectors: Array<(gauge: unknown) => void> = []
      const gauge = new Gauge({
        name: config.name,
        help: config.help,
        labelNames: config.labelNames ?? [],
        registers,
        collect () { for (const collect of collectors) collect(self) }
      })
      const self = {
        inc (a?: Labels | number, b?: number) {
          if (typeof a !== 'object') return gauge.inc(a)
          const labels = bounded(a)
          if (labels != null) gauge.inc(labels, b)
        },
        set (a: Labels | number, b = 0) {
          if (typeof a !== 'object') return gauge.set(a)
          const labels = bounded(a)
          if (labels != null) gauge.set(labels, b)
        },
        addCollect (collect: (gauge: unknown) => void) { collectors.push(collect) }
      }
      return self
    },
    histogram (config: MetricConfig) {
      // buckets derived from a setting can coincide (all four of the behaviour
      // penalty's are 0 by default), and a bucket twice is a series twice
      const buckets = config.buckets != null ? [...new Set(config.buckets)] : undefined
      return new Histogram({ name: config.name, help: config.help, labelNames: config.labelNames ?? [], buckets, registers })
    },
    // one gauge with a `stat` label (avg, min, max) over the values last set
    avgMinMax (config: MetricConfig) {
      const gauge = new Gauge({ name: config.name, help: config.help, labelNames: [...(config.labelNames ?? []), 'stat'], registers })
      return {
        set (a: Labels | number[], b?: number[]) {
          const [labels, values] = Array.isArray(a) ? [{}, a] : [a, b ?? []]
          let sum = 0
          let min = values.length > 0 ? Infinity : 0
          let max = values.length > 0 ? -Infinity : 0
          for (const v of values) {
            sum += v
            if (v < min) min = v
            if (v > max) max = v
          }
          gauge.set({ ...labels, stat: 'avg' }, values.length > 0 ? sum / values.length : 0)
          gauge.set({ ...labels, stat: 'min' }, min)
          gauge.set({ ...labels, stat: 'max' }, max)
        }
      }
    }
  }
  // gossipsub's types spell out each metric's labels; prom-client checks them at run time
  return register as unknown as MetricsRegister
}
