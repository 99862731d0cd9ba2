import { decodeScheduleRequest, encodeScheduleRequest, ParentReport } from '@damselfly/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { peerIdBytes, peerIdText, SCHEDULE_STATE_TTL_MS, ScheduleState } from '../src/schedule.js'
import type { ScheduleRequest } from '@damselfly/protocol'

const DIGEST = `sha256:${'cd'.repeat(32)}`
const MiB = 1024 * 1024

async function peers (n: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
}

/** A request as it comes off the wire: every field, decoded. */
function wire (r: Partial<ScheduleRequest>): ScheduleRequest {
  return decodeScheduleRequest(encodeScheduleRequest(r))
}

function beacon (uploadBps: number, activeUploads: number, freeUploadSlots: number, seed = false, locality = ''): Partial<ScheduleRequest> {
  return { beacon: { uploadBps, activeUploads, freeUploadSlots, seed, addrs: [], locality } }
}

function piece (parent: string, bytes: number, ms: number): ParentReport {
  return { digest: DIGEST, parent: peerIdBytes(parent), outcome: ParentReport.Outcome.PIECE, bytes, ms }
}

describe('the scheduler\'s ranking', () => {
  let p: string[]
  beforeAll(async () => { p = await peers(6) })

  const order = (state: ScheduleState, candidates: string[]): string[] =>
    state.handle(p[5]!, wire({ rank: { digest: DIGEST, candidates: candidates.map(peerIdBytes) } })).ranked.map(peerIdText)

  it('puts a fast idle parent before a loaded one, and free slots before none', () => {
    const state = new ScheduleState()
    state.handle(p[0]!, wire(beacon(50 * MiB, 0, 8)))
    // the same uplink shared among four children, with room for more, and without
    state.handle(p[1]!, wire(beacon(50 * MiB, 4, 4)))
    state.handle(p[2]!, wire(beacon(50 * MiB, 4, 0)))
    expect(order(state, [p[2]!, p[1]!, p[0]!])).toEqual([p[0]!, p[1]!, p[2]!])
  })

  it('ranks by the rate every child measured, over what a beacon claims, and a parent that fails lower', () => {
    const state = new ScheduleState()
    for (const x of [p[0]!, p[1]!, p[2]!]) state.handle(x, wire(beacon(10 * MiB, 0, 4)))
    // (each serves one child: its rate to that child is its capacity)
    // children of p0 saw 1 MiB in 1 s, of p1 1 MiB in 50 ms
    state.handle(p[3]!, wire({ reports: [piece(p[0]!, MiB, 1000), piece(p[1]!, MiB, 50)] }))
    expect(order(state, [p[0]!, p[1]!, p[2]!])).toEqual([p[1]!, p[2]!, p[0]!])
    for (let i = 0; i < 3; i++) state.handle(p[4]!, wire({ reports: [{ digest: DIGEST, parent: peerIdBytes(p[1]!), outcome: ParentReport.Outcome.FAILED, bytes: 0, ms: 0 }] }))
    // 20 MiB/s over 1 + 3 failures is 5 MiB/s: below p2's 10
    expect(order(state, [p[0]!, p[1]!, p[2]!])).toEqual([p[2]!, p[1]!, p[0]!])
  })

  it('breaks ties by the asker\'s locality, as its beacon said it', () => {
    const state = new ScheduleState()
    state.handle(p[0]!, wire(beacon(10 * MiB, 1, 4, false, 'us-2b/rack-1')))
    state.handle(p[1]!, wire(beacon(10 * MiB, 1, 4, false, 'eu-1a/rack-9')))
    state.handle(p[2]!, wire(beacon(10 * MiB, 1, 4, false, 'eu-1a/rack-3')))
    state.handle(p[5]!, wire(beacon(0, 0, 8, false, 'eu-1a/rack-3')))
    expect(order(state, [p[0]!, p[1]!, p[2]!])).toEqual([p[2]!, p[1]!, p[0]!])
  })

  it('answers every candidate once, in the order given when it knows nothing, and drops what is not a peer id', () => {
    const state = new ScheduleState()
    const res = state.handle(p[5]!, wire({ rank: { digest: DIGEST, candidates: [peerIdBytes(p[2]!), new Uint8Array([1, 2, 3]), peerIdBytes(p[0]!), peerIdBytes(p[2]!)] } }))
    expect(res.ranked.map(peerIdText)).toEqual([p[2]!, p[0]!])
  })
})

describe('the scheduler\'s suggestions', () => {
  let p: string[]
  beforeAll(async () => { p = await peers(5) })

  it('suggests holders it heard of (said so, or delivered), never the asker or those it has, and forgets them after the TTL', () => {
    let now = 0
    const state = new ScheduleState(() => now)
    for (const x of p) state.handle(x, wire(beacon(MiB, 0, 4)))
    state.handle(p[0]!, wire({ holding: [DIGEST] }))
    state.handle(p[1]!, wire({ reports: [piece(p[2]!, MiB, 100)] }))
    const suggest = (asker: string, exclude: string[] = []): string[] =>
      state.handle(asker, wire({ suggest: { digest: DIGEST, limit: 10, exclude: exclude.map(peerIdBytes) } })).suggested.map(s => peerIdText(s.peer))
    expect(suggest(p[3]!).sort()).toEqual([p[0]!, p[2]!].sort())
    expect(suggest(p[0]!)).toEqual([p[2]!])
    expect(suggest(p[3]!, [p[2]!])).toEqual([p[0]!])
    state.handle(p[0]!, wire({ dropped: [DIGEST] }))
    expect(suggest(p[3]!)).toEqual([p[2]!])
    now += SCHEDULE_STATE_TTL_MS + 1
    state.expire()
    expect(suggest(p[3]!)).toEqual([])
    // soft state: nothing is left once the nodes stop telling it
    expect(state.nodes).toBe(0)
  })

  it('asked to rank and to suggest in one request, puts the holders it names in the order with the candidates', () => {
    const state = new ScheduleState()
    // p0 and p1 hold the blob; p1 uploads ten times what p0 and the candidate p2 do
    state.handle(p[0]!, wire({ ...beacon(MiB, 0, 4), holding: [DIGEST] }))
    state.handle(p[1]!, wire({ ...beacon(10 * MiB, 0, 4), holding: [DIGEST] }))
    state.handle(p[2]!, wire(beacon(MiB, 0, 4)))
    const res = state.handle(p[3]!, wire({ suggest: { digest: DIGEST, limit: 10, exclude: [] }, rank: { digest: DIGEST, candidates: [peerIdBytes(p[2]!)] } }))
    expect(res.suggested.map(s => peerIdText(s.peer)).sort()).toEqual([p[0]!, p[1]!].sort())
    const ranked = res.ranked.map(peerIdText)
    expect(ranked).toHaveLength(3)
    expect(ranked[0]).toBe(p[1]!)
    expect(ranked.slice(1).sort()).toEqual([p[0]!, p[2]!].sort())
  })

  it('answers each question a request carries besides its own, in order, for its own blob', () => {
    const state = new ScheduleState()
    const other = `sha256:${'ef'.repeat(32)}`
    state.handle(p[0]!, wire({ ...beacon(MiB, 0, 4), holding: [DIGEST] }))
    state.handle(p[1]!, wire({ ...beacon(10 * MiB, 0, 4), holding: [other] }))
    const res = state.handle(p[3]!, wire({
      suggest: { digest: DIGEST, limit: 10, exclude: [] },
      questions: [
        { suggest: { digest: other, limit: 10, exclude: [] } },
        { rank: { digest: other, candidates: [peerIdBytes(p[0]!), peerIdBytes(p[1]!)] } },
        { suggest: { digest: other, limit: 10, exclude: [peerIdBytes(p[1]!)] } }
      ]
    }))
    expect(res.suggested.map(s => peerIdText(s.peer))).toEqual([p[0]!])
    expect(res.answers).toHaveLength(3)
    expect(res.answers[0]!.suggested.map(s => peerIdText(s.peer))).toEqual([p[1]!])
    expect(res.answers[1]!.ranked.map(peerIdText)).toEqual([p[1]!, p[0]!])
    expect(res.answers[2]!.suggested).toEqual([])
    expect(state.counts).toMatchObject({ requests: 3, suggests: 3, ranks: 1 })
  })
})
