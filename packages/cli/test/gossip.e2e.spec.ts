import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, metric } from './helpers/cluster.js'
import type { DaemonProcess } from './helpers/cluster.js'

/**
 * More daemons on one address than gossipsub's default IP colocation penalty
 * tolerates: -5 x (peers on the address - 10)^2 puts 15 or more below its
 * graylist threshold (-80).
 */
const PEERS = 16

describe(`gossip among a seed and ${PEERS} peers on one host`, () => {
  const cluster = new Cluster()
  const daemons: DaemonProcess[] = []

  beforeAll(async () => {
    const seed = await cluster.start('seed', ['--seed'])
    daemons.push(seed)
    // a few at a time: each start costs a CPU second or two
    for (let i = 0; i < PEERS; i += 4) {
      daemons.push(...await Promise.all(Array.from({ length: Math.min(4, PEERS - i) }, async (_, k) =>
        await cluster.start(`peer${i + k}`, ['--bootstrap', seed.addrs[0]!]))))
    }
  })

  afterAll(async () => {
    await cluster.stop()
  })

  // every daemon gossips a load beacon when it starts and again at least every
  // 30 s; with the default peer scoring every peer sharing 127.0.0.1 was
  // graylisted here, and the last daemons to start heard none
  it('delivers load beacons to every daemon', async () => {
    await eventually(async () => {
      const counts = await Promise.all(daemons.map(async d =>
        metric(await cluster.api(d, '/metrics'), 'damselfly_gossip_messages_total', { direction: 'received', topic: 'beacon' }) ?? 0))
      expect(counts.every(c => c >= PEERS / 2), `beacons received by each daemon: ${counts.join(', ')}`).toBe(true)
    }, 60_000)
  })
})
