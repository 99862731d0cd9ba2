import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeScheduleRequest, encodeScheduleResponse, MAX_SCHEDULE_FRAME } from '@damselfly/protocol'
import { streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { answer, readOneFrame } from '../src/request-response.js'
import { FLUSH_REPORTS, SchedulerClient, ScheduleState } from '../src/schedule.js'
import type { SchedulerClientInit } from '../src/schedule.js'
import type { SwarmNetwork } from '../src/network.js'
import type { ParentCandidate } from '../src/ranking.js'
import type { ScheduleRequest } from '@damselfly/protocol'
import type { Logger, Stream } from '@libp2p/interface'

const QUIET = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => QUIET }) as unknown as Logger
const LOAD = { uploadBps: 0, activeUploads: 0, freeUploadSlots: 4, seed: false }

/** The node whose client the tests run, as the scheduler knows it. */
const CLIENT = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()

/**
 * The scheduler's own state (ScheduleState) served over in-memory stream
 * pairs, each request answered `answerMs` after it arrives; it counts the
 * requests it holds unanswered and keeps every request. With
 * `firstQuestionOnly` it answers as a scheduler older than `questions`.
 */
function slowScheduler (answerMs: number, options: { firstQuestionOnly?: boolean } = {}): { network: SwarmNetwork, beacons: () => number, mostUnanswered: () => number, requests: ScheduleRequest[] } {
  const state = new ScheduleState()
  const requests: ScheduleRequest[] = []
  let beacons = 0
  let unanswered = 0
  let mostUnanswered = 0
  const serve = async (stream: Stream): Promise<void> => {
    const req = decodeScheduleRequest(await readOneFrame(stream, MAX_SCHEDULE_FRAME, {}))
    requests.push(req)
    if (req.beacon != null) beacons++
    unanswered++
    mostUnanswered = Math.max(mostUnanswered, unanswered)
    await new Promise(resolve => setTimeout(resolve, answerMs))
    unanswered--
    // knowing nothing of the candidates, it answers them in the order given
    const res = state.handle(CLIENT, req)
    await answer(stream, encodeScheduleResponse(options.firstQuestionOnly === true ? { ...res, answers: [] } : res), {}).catch(() => {})
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
  return { network, beacons: () => beacons, mostUnanswered: () => mostUnanswered, requests }
}

/** A client of the scheduler played at `network`; each test gives its load, clock and silent time. */
function newClient (network: SwarmNetwork, init: Pick<SchedulerClientInit, 'load' | 'held' | 'flushMs' | 'silentMs'>): SchedulerClient {
  return new SchedulerClient({ network, schedulers: ['/ip4/127.0.0.1/tcp/1'], log: QUIET, ...init })
}

const DIGEST = `sha256:${'ab'.repeat(32)}`

async function peers (n: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
}

function rankable (peer: string): ParentCandidate {
  return { peer, delivered: 0, failures: 0 }
}

/** Starts the client and waits until its first flush is answered: it asks nothing of a scheduler it has not reached. */
async function started (c: SchedulerClient): Promise<void> {
  c.start()
  for (let i = 0; i < 100 && !c.reachable; i++) await new Promise(resolve => setTimeout(resolve, 10))
}

function rotate<T> (list: T[], by: number): T[] {
  return [...list.slice(by), ...list.slice(0, by)]
}

describe('SchedulerClient', () => {
  let client: SchedulerClient | undefined
  afterEach(() => client?.stop())

  it('keeps one flush at a time to a scheduler slower than the flushes, and counts it reachable while it answers', async () => {
    // flushes every 20 ms, answered after 120 ms: before, a flush went out
    // every 20 ms whatever was unanswered, each dropped after 40 ms, and the
    // scheduler that answered every one of them late was never reached
    const scheduler = slowScheduler(120)
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], flushMs: 20, silentMs: 400 })
    client.start()
    await new Promise(resolve => setTimeout(resolve, 700))
    expect(scheduler.mostUnanswered()).toBe(1)
    expect(scheduler.beacons()).toBeGreaterThanOrEqual(3)
    expect(client.reachable).toBe(true)
  })

  it('flushes every quarter of the silent time whatever its load and a few reports say, at once for a blob newly held or a batch of reports', async () => {
    const scheduler = slowScheduler(0)
    // a load that is new at every flush: it alone makes no flush due
    let bps = 0
    client = newClient(scheduler.network, { load: () => ({ ...LOAD, uploadBps: bps++ }), held: () => [], flushMs: 20, silentMs: 800 })
    client.start()
    const digest = DIGEST
    const parent = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const piece = (): void => client?.report({ type: 'piece', digest, parent, bytes: 1 << 20, ms: 250 })
    // a piece every 20 ms, about ten between flushes (fewer than a batch): one flush at the start, then one each 200 ms
    const few = setInterval(piece, 20)
    await new Promise(resolve => setTimeout(resolve, 650))
    clearInterval(few)
    const quiet = scheduler.beacons()
    expect(quiet).toBeGreaterThanOrEqual(3)
    expect(quiet).toBeLessThanOrEqual(5)
    expect(client.reachable).toBe(true)
    // a blob newly held at every flush: each flush goes
    const held = setInterval(() => client?.holding(digest), 20)
    await new Promise(resolve => setTimeout(resolve, 400))
    clearInterval(held)
    const holding = scheduler.beacons() - quiet
    expect(holding).toBeGreaterThanOrEqual(8)
    // a batch of reports at every flush: each flush goes
    const many = setInterval(() => { for (let i = 0; i < FLUSH_REPORTS; i++) piece() }, 20)
    await new Promise(resolve => setTimeout(resolve, 400))
    clearInterval(many)
    expect(scheduler.beacons() - quiet - holding).toBeGreaterThanOrEqual(8)
  })

  it('sends its load, reports and blobs held with each question, and no flush while questions go', async () => {
    const scheduler = slowScheduler(0)
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], flushMs: 20, silentMs: 800 })
    client.start()
    await new Promise(resolve => setTimeout(resolve, 50))
    const digest = DIGEST
    const [parent, candidate] = await Promise.all([0, 1].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
    const before = scheduler.requests.length
    // a question every 100 ms for 600 ms, a report before each, a blob newly held before the first
    client.holding(digest)
    for (let i = 0; i < 6; i++) {
      client.report({ type: 'piece', digest, parent: parent!, bytes: 1 << 20, ms: 250 })
      const answer = await client.suggest(digest, { limit: 4, exclude: [], rank: [{ peer: candidate!, delivered: 0, failures: 0 }], signal: AbortSignal.timeout(500) })
      expect(answer.ranked).toEqual([candidate])
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const during = scheduler.requests.slice(before)
    const questions = during.filter(r => r.suggest != null)
    expect(questions).toHaveLength(6)
    // each question carried the load and the report made before it; the first, the blob held
    for (const q of questions) {
      expect(q.beacon).toBeDefined()
      expect(q.reports).toHaveLength(1)
    }
    expect(questions[0]!.holding).toEqual([digest])
    // a flush goes after 200 ms without a request: none did while the questions went
    expect(during.length - questions.length).toBe(0)
  })

  it('keeps flushing while its questions go unanswered in time, and so counts a slow scheduler as reachable', async () => {
    // each request answered after 150 ms; questions given up after 50 ms
    const scheduler = slowScheduler(150)
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], flushMs: 20, silentMs: 800 })
    client.start()
    await new Promise(resolve => setTimeout(resolve, 200))
    const digest = DIGEST
    const before = scheduler.requests.length
    let late = 0
    for (let i = 0; i < 12; i++) {
      await client.suggest(digest, { limit: 4, exclude: [], signal: AbortSignal.timeout(50) }).catch(() => { late++ })
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(late).toBe(12)
    const flushes = scheduler.requests.slice(before).filter(r => r.suggest == null)
    // 1.2 s with a flush due every 200 ms, one at a time, each answered in 150 ms
    expect(flushes.length).toBeGreaterThanOrEqual(3)
    expect(client.reachable).toBe(true)
  })

  it('asks what several downloads ask at once in one request, and gives each download its own answer', async () => {
    const scheduler = slowScheduler(0)
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], silentMs: 800 })
    await started(client)
    const candidates = await peers(4)
    const digests = [1, 2, 3, 4].map(i => `sha256:${String(i).repeat(64)}`)
    // four downloads, each with candidates of its own in its own order
    const orders = await Promise.all(digests.map(async (digest, i) => await client!.rank(digest, rotate(candidates, i).map(rankable), { signal: AbortSignal.timeout(1000) })))
    for (let i = 0; i < 4; i++) expect(orders[i]).toEqual(rotate(candidates, i))
    const asked = scheduler.requests.filter(r => r.rank != null)
    expect(asked).toHaveLength(1)
    expect(asked[0]!.rank?.digest).toBe(digests[0])
    expect(asked[0]!.questions.map(q => q.rank?.digest)).toEqual(digests.slice(1))
  })

  it('holds questions asked while a request with questions is on its way, and sends them together in the next', async () => {
    const scheduler = slowScheduler(150)
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], silentMs: 2000 })
    await started(client)
    const [candidate] = await peers(1)
    const ask = async (digest: string): Promise<string[]> => await client!.rank(digest, [rankable(candidate!)], { signal: AbortSignal.timeout(1000) })
    const first = ask(DIGEST)
    await new Promise(resolve => setTimeout(resolve, 60))
    // three more while the first is unanswered
    const more = [1, 2, 3].map(async i => { await new Promise(resolve => setTimeout(resolve, i * 20)); return await ask(`sha256:${String(i).repeat(64)}`) })
    expect(await Promise.all([first, ...more])).toEqual(Array(4).fill([candidate]))
    expect(scheduler.mostUnanswered()).toBe(1)
    expect(scheduler.requests.filter(r => r.rank != null).map(r => 1 + r.questions.length)).toEqual([1, 3])
  })

  it('does not send a question its download gave up on while it waited', async () => {
    const scheduler = slowScheduler(150)
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], silentMs: 2000 })
    await started(client)
    const [candidate] = await peers(1)
    const first = client.rank(DIGEST, [rankable(candidate!)], { signal: AbortSignal.timeout(1000) })
    await new Promise(resolve => setTimeout(resolve, 60))
    const other = `sha256:${'01'.repeat(32)}`
    await expect(client.rank(other, [rankable(candidate!)], { signal: AbortSignal.timeout(30) })).rejects.toThrow()
    expect(await first).toEqual([candidate])
    await new Promise(resolve => setTimeout(resolve, 100))
    const asked = scheduler.requests.filter(r => r.rank != null)
    expect(asked).toHaveLength(1)
    expect(asked[0]!.questions).toEqual([])
  })

  it('with a scheduler that answers only a request\'s own question, fails the others once and then asks one question a request', async () => {
    const scheduler = slowScheduler(0, { firstQuestionOnly: true })
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], silentMs: 800 })
    await started(client)
    const [candidate] = await peers(1)
    const ask = async (digest: string): Promise<string[]> => await client!.rank(digest, [rankable(candidate!)], { signal: AbortSignal.timeout(1000) })
    const other = `sha256:${'01'.repeat(32)}`
    const once = await Promise.allSettled([ask(DIGEST), ask(other)])
    expect(once.map(r => r.status)).toEqual(['fulfilled', 'rejected'])
    expect(await Promise.all([ask(DIGEST), ask(other)])).toEqual([[candidate], [candidate]])
    expect(scheduler.requests.filter(r => r.rank != null).map(r => r.questions.length)).toEqual([1, 0, 0])
  })

  it('counts a scheduler that answers no flush within half the silent time as gone', async () => {
    const scheduler = slowScheduler(10_000)
    client = newClient(scheduler.network, { load: () => LOAD, held: () => [], flushMs: 20, silentMs: 200 })
    client.start()
    await new Promise(resolve => setTimeout(resolve, 450))
    expect(client.reachable).toBe(false)
    // each flush given up after 100 ms, and only then the next
    expect(scheduler.beacons()).toBeGreaterThanOrEqual(3)
    expect(scheduler.beacons()).toBeLessThanOrEqual(5)
  })
})
