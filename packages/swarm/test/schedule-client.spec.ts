import { decodeScheduleRequest, encodeScheduleResponse, MAX_SCHEDULE_FRAME } from '@damselfly/protocol'
import { streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { answer, readOneFrame } from '../src/request-response.js'
import { SchedulerClient } from '../src/schedule.js'
import type { SwarmNetwork } from '../src/network.js'
import type { Logger, Stream } from '@libp2p/interface'

const QUIET = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => QUIET }) as unknown as Logger
const LOAD = { uploadBps: 0, activeUploads: 0, freeUploadSlots: 4, seed: false }

/**
 * A scheduler played by the test over in-memory stream pairs: it answers
 * each request `answerMs` after it arrives, and counts the requests it holds
 * unanswered.
 */
function slowScheduler (answerMs: number): { network: SwarmNetwork, beacons: () => number, mostUnanswered: () => number } {
  let beacons = 0
  let unanswered = 0
  let mostUnanswered = 0
  const serve = async (stream: Stream): Promise<void> => {
    const req = decodeScheduleRequest(await readOneFrame(stream, MAX_SCHEDULE_FRAME, {}))
    if (req.beacon != null) beacons++
    unanswered++
    mostUnanswered = Math.max(mostUnanswered, unanswered)
    await new Promise(resolve => setTimeout(resolve, answerMs))
    unanswered--
    await answer(stream, encodeScheduleResponse({ ranked: [], suggested: [] }), {}).catch(() => {})
  }
  const network = {
    isConnected: () => true,
    dial: async () => 'scheduler',
    listenAddresses: () => [],
    open: async (): Promise<Stream> => {
      const [outbound, inbound] = await streamPair()
      serve(inbound).catch(() => {})
      return outbound
    }
  } as unknown as SwarmNetwork
  return { network, beacons: () => beacons, mostUnanswered: () => mostUnanswered }
}

describe('SchedulerClient', () => {
  let client: SchedulerClient | undefined
  afterEach(() => client?.stop())

  it('keeps one flush at a time to a scheduler slower than the flushes, and counts it reachable while it answers', async () => {
    // flushes every 20 ms, answered after 120 ms: before, a flush went out
    // every 20 ms whatever was unanswered, each dropped after 40 ms, and the
    // scheduler that answered every one of them late was never reached
    const scheduler = slowScheduler(120)
    client = new SchedulerClient({ network: scheduler.network, schedulers: ['/ip4/127.0.0.1/tcp/1'], log: QUIET, load: () => LOAD, held: () => [], flushMs: 20, silentMs: 400 })
    client.start()
    await new Promise(resolve => setTimeout(resolve, 700))
    expect(scheduler.mostUnanswered()).toBe(1)
    expect(scheduler.beacons()).toBeGreaterThanOrEqual(3)
    expect(client.reachable).toBe(true)
  })

  it('with nothing new to say, sends its beacon every quarter of the silent time, and every flush while it has news', async () => {
    const scheduler = slowScheduler(0)
    client = new SchedulerClient({ network: scheduler.network, schedulers: ['/ip4/127.0.0.1/tcp/1'], log: QUIET, load: () => LOAD, held: () => [], flushMs: 20, silentMs: 800 })
    client.start()
    // idle, the same load: one beacon at the start, then one each 200 ms
    await new Promise(resolve => setTimeout(resolve, 650))
    const idle = scheduler.beacons()
    expect(idle).toBeGreaterThanOrEqual(3)
    expect(idle).toBeLessThanOrEqual(5)
    expect(client.reachable).toBe(true)
    // a blob newly held at every flush: each flush goes
    const news = setInterval(() => client?.holding(`sha256:${'ab'.repeat(32)}`), 20)
    await new Promise(resolve => setTimeout(resolve, 400))
    clearInterval(news)
    expect(scheduler.beacons() - idle).toBeGreaterThanOrEqual(8)
  })

  it('counts a scheduler that answers no flush within half the silent time as gone', async () => {
    const scheduler = slowScheduler(10_000)
    client = new SchedulerClient({ network: scheduler.network, schedulers: ['/ip4/127.0.0.1/tcp/1'], log: QUIET, load: () => LOAD, held: () => [], flushMs: 20, silentMs: 200 })
    client.start()
    await new Promise(resolve => setTimeout(resolve, 450))
    expect(client.reachable).toBe(false)
    // each flush given up after 100 ms, and only then the next
    expect(scheduler.beacons()).toBeGreaterThanOrEqual(3)
    expect(scheduler.beacons()).toBeLessThanOrEqual(5)
  })
})
