import { Bitfield, layoutFor, rankSeeds } from '@damselfly/protocol'
import { describe, expect, it } from 'vitest'
import { ADVICE_GAP_MS, ADVICE_TTL_MS, BAD_PARENT_FLOOR_MS, CLEAN_CLOSE_RETRY_MS, DISCOVERY_GAP_MS, END_GAME_WAIT_MS, FALLBACK_JOIN_WAIT_MS, FALLBACK_STEP_MS, SLOW_SEED_PATIENCE_MS, STUCK_MS, SUGGEST_GAP_MAX_MS, SUGGEST_GAP_MS } from '../src/constants.js'
import { DownloadEngine } from '../src/engine.js'
import { STREAMING_WINDOW } from '../src/picker.js'
import { ENGINE_DEFAULTS } from '../src/defaults.js'
import { LocalParentRanker } from '../src/ranking.js'
import type { EngineCommand, EngineConfig } from '../src/engine.js'
import type { BlobDigest, VerifiedManifestPart } from '@damselfly/protocol'

const DIGEST = `sha256:${'ab'.repeat(32)}` as BlobDigest
const PIECE = 1024 * 1024

const CONFIG: EngineConfig = ENGINE_DEFAULTS

/** A small seeded PRNG: every run of a test makes the same choices. */
function seeded (seed = 7): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hashOf (signer: string, index: number): Uint8Array {
  const h = new Uint8Array(32)
  h[0] = index
  h[1] = signer.charCodeAt(0)
  return h
}

/** A manifest part as a verified signature gives it: `signer` vouches for pieces first..first+count-1. */
function part (signer: string, first: number, count: number, pieces: number, hash = hashOf): VerifiedManifestPart {
  const hashes = Array.from({ length: count }, (_, k) => hash(signer, first + k))
  return { digest: DIGEST, size: pieces * PIECE, pieceSize: PIECE, first, hashes, signer, part: { signature: new Uint8Array([first, count]) } as any }
}

function bits (pieces: number, held: number[]): Bitfield {
  const b = new Bitfield(pieces)
  for (const i of held) b.set(i)
  return b
}

/**
 * The engine driven as the daemon drives it, with a clock the test moves
 * and a network that is a few arrays: every command it issues is recorded.
 */
class Drive {
  now = 0
  connected: string[] = []
  seeds: string[] = []
  pullers: string[] = []
  /** As a node started with --bootstrap: having no peer connected may only mean not yet. */
  hasBootstrap = true
  readonly commands: EngineCommand[] = []
  readonly engine: DownloadEngine

  constructor (config: Partial<EngineConfig> = {}, init: { hasUrl?: boolean, self?: string, isSeed?: boolean, advised?: boolean, ranged?: boolean } = {}) {
    this.engine = new DownloadEngine({
      now: () => this.now,
      self: init.self ?? 'me',
      isSeed: init.isSeed ?? false,
      connectedPeers: () => [...this.connected],
      isConnected: peer => this.connected.includes(peer),
      seeds: () => [...this.seeds],
      hasBootstrap: () => this.hasBootstrap,
      pullers: () => [...this.pullers],
      penalized: () => false,
      beacon: () => undefined,
      downloadRate: () => 0,
      requestedBytes: () => this.engine.requestedBytes,
      ranker: new LocalParentRanker(),
      advised: init.advised,
      random: seeded(),
      log: () => {}
    }, { ...CONFIG, ...config }, c => this.commands.push(c), { digest: DIGEST, hasUrl: init.hasUrl ?? true, ranged: init.ranged })
  }

  /** The commands issued since the last call, of one type (all when none named). */
  take<T extends EngineCommand['type']>(type?: T): Array<Extract<EngineCommand, { type: T }>> {
    const out: EngineCommand[] = []
    for (let k = 0; k < this.commands.length;) {
      if (type == null || this.commands[k]!.type === type) out.push(...this.commands.splice(k, 1))
      else k++
    }
    return out as any
  }

  /** Moves the clock on in 200 ms ticks, as the daemon's timer does. */
  advance (ms: number): void {
    for (let t = 0; t < ms; t += 200) {
      this.now += 200
      this.engine.tick()
    }
  }

  /** A parent's session opens with its manifest and bitfield. */
  open (peer: string, pieces: number, held: number[], signer = 'seed'): void {
    this.engine.sessionOpened(peer)
    this.engine.manifest(peer, [part(signer, 0, pieces, pieces)])
    this.engine.bitfield(peer, bits(pieces, held))
  }

  /** The layout is learnt (a manifest arrived, or the store had the blob), nothing held. */
  layout (pieces: number): void {
    this.engine.layoutKnown(layoutFor(pieces * PIECE, PIECE), new Bitfield(pieces), () => false)
  }

  /** A requested piece arrives from `peer` and verifies. */
  deliver (peer: string, index: number): void {
    this.engine.received(peer, PIECE)
    const arrival = this.engine.pieceArrived(peer, index)
    expect(arrival.write).toBe(true)
    this.engine.pieceVerified(peer, index)
    this.engine.pieceStored(peer, index, PIECE)
  }
}

/**
 * A ranged download of a 4-piece blob whose only peer is a seed that does
 * not hold it: bytes 0-9 are read, the seed is asked for them with their
 * range, the layout comes, and the seed accepts.
 */
function readFromSeed (config: Partial<EngineConfig>): Drive {
  const d = new Drive(config, { ranged: true })
  d.connected = ['seed1']
  d.seeds = ['seed1']
  d.engine.start()
  d.engine.want(0, 10)
  d.engine.sessionClosed('seed1', { kind: 'not-found', message: 'no' })
  expect(d.take('ask-seed')).toEqual([{ type: 'ask-seed', seed: 'seed1', ranges: [[0, 10]] }])
  d.layout(4)
  d.engine.seedAnswer('seed1', { accepted: true })
  return d
}

describe('the download engine', () => {
  it('asks the connected peers first, and a seed at once when they all say they have nothing', () => {
    const d = new Drive()
    d.connected = ['a', 'b', 'seed1']
    d.seeds = ['seed1']
    d.engine.start()
    expect(d.take('connect').map(c => c.peer).sort()).toEqual(['a', 'b', 'seed1'])
    // every connected peer was asked: no DHT lookup yet
    expect(d.take('lookup')).toEqual([])
    for (const p of ['a', 'b', 'seed1']) d.engine.sessionClosed(p, { kind: 'not-found', message: 'no such blob' })
    expect(d.take('ask-seed')).toEqual([{ type: 'ask-seed', seed: 'seed1' }])
  })

  it('looks holders up in the DHT when it cannot ask every connected peer, and uses a holder only the DHT names', () => {
    const d = new Drive()
    d.connected = Array.from({ length: 20 }, (_, i) => `p${i}`)
    d.engine.start()
    // a random 8 of 20 probed; the lookup waits for their answers
    const probed = d.take('connect').map(c => c.peer)
    expect(probed).toHaveLength(8)
    d.advance(400)
    expect(d.take('lookup')).toEqual([])
    // all 8 said no: the DHT is asked at once, and the holder it names is asked next
    for (const p of probed) d.engine.sessionClosed(p, { kind: 'not-found', message: 'no' })
    expect(d.take('lookup')).toEqual([{ type: 'lookup', limit: 8 }])
    d.engine.found('far')
    expect(d.take('connect').map(c => c.peer)).toEqual(['far'])
    d.engine.lookupDone()
  })

  it('before failing on a seed whose origin refused, looks the blob up in the DHT, and fails only when it names nobody', () => {
    const d = new Drive()
    d.connected = ['a', 'seed1']
    d.seeds = ['seed1']
    d.engine.start()
    for (const p of ['a', 'seed1']) d.engine.sessionClosed(p, { kind: 'not-found', message: 'no' })
    d.take()
    d.engine.seedAnswer('seed1', { accepted: false, code: 'ORIGIN', message: 'the origin answered 404', status: 404 })
    expect(d.take('fail')).toEqual([])
    expect(d.take('lookup')).toHaveLength(1)
    // a holder further away, known only to the DHT
    d.engine.found('holder')
    d.engine.lookupDone()
    expect(d.take('fail')).toEqual([])
    expect(d.take('connect').map(c => c.peer)).toEqual(['holder'])

    // without one, the seed's answer is the task's
    const e = new Drive()
    e.connected = ['a', 'seed1']
    e.seeds = ['seed1']
    e.engine.start()
    for (const p of ['a', 'seed1']) e.engine.sessionClosed(p, { kind: 'not-found', message: 'no' })
    e.engine.seedAnswer('seed1', { accepted: false, code: 'ORIGIN', message: 'the origin answered 404', status: 404 })
    e.engine.lookupDone()
    const [fail] = e.take('fail')
    expect(fail?.error.message).toMatch(/seed seed1: the origin answered 404/)
    expect(fail?.error.status).toBe(404)
  })

  it('looks the blob up in the DHT before it leaves the seeds for the origin', () => {
    // the peers at hand (every one of them, so no lookup at first) say they
    // have nothing, and no seed answers: a holder further away, known only
    // to the DHT, is asked for before anyone goes to the origin
    const d = new Drive()
    d.connected = ['a', 'b', 'seed1']
    d.seeds = ['seed1']
    d.pullers = ['a']
    d.engine.start()
    for (const p of ['a', 'b', 'seed1']) d.engine.sessionClosed(p, { kind: 'not-found', message: 'no' })
    let lookupAt: number | undefined
    let originAt: number | undefined
    for (let t = 0; t < SLOW_SEED_PATIENCE_MS + 60_000 && originAt == null; t += 200) {
      for (const a of d.take('ask-seed')) d.engine.seedAnswer(a.seed, { lost: 'no answer within 5000 ms' })
      if (d.take('lookup').length > 0) {
        lookupAt ??= d.now
        d.engine.lookupDone()
      }
      if (d.take('pull-origin').length > 0 || d.take('join-topic').length > 0) originAt = d.now
      d.advance(200)
    }
    expect(originAt, 'left the seeds for the origin').toBeDefined()
    expect(lookupAt, 'looked the blob up first').toBeLessThan(originAt!)
  })

  it('asks for the rarest pieces first, and for a streaming reader\'s next pieces before them', () => {
    const d = new Drive()
    d.connected = ['a', 'b', 'c']
    d.engine.start()
    // 4-7 are held by two parents, 0-3 by three: the full parents are asked for 4-7 first
    d.open('a', 8, [0, 1, 2, 3, 4, 5, 6, 7])
    d.open('b', 8, [0, 1, 2, 3, 4, 5, 6, 7])
    d.open('c', 8, [0, 1, 2, 3])
    d.layout(8)
    d.engine.tick()
    const asked = d.take('request')
    expect(asked.find(r => r.peer === 'a')!.index).toBeGreaterThanOrEqual(4)
    expect(asked.find(r => r.peer === 'b')!.index).toBeGreaterThanOrEqual(4)
    expect(asked.map(r => r.index).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])

    const s = new Drive()
    s.connected = ['a', 'b']
    s.engine.start()
    s.layout(16)
    s.engine.reader(Symbol('client'), 0)
    s.open('a', 16, Array.from({ length: 16 }, (_, i) => i))
    // a client reads from the front: its next piece first, then the rest of its window
    const first = s.take('request').map(r => r.index)
    expect(first[0]).toBe(0)
    expect(first.every(i => i < STREAMING_WINDOW)).toBe(true)
  })

  it('lets a parent with nothing left to give go when another holder waits for its place', () => {
    const d = new Drive({ maxParents: 2 })
    d.connected = ['a', 'b']
    d.engine.start()
    d.layout(4)
    d.open('a', 4, [0, 1])
    d.open('b', 4, [0, 1])
    for (const r of d.take('request')) d.deliver(r.peer, r.index)
    d.engine.candidate('c')
    d.take()
    d.advance(CONFIG.idleParentMs - 400)
    expect(d.take('close')).toEqual([])
    d.advance(800)
    // one of them goes, 'c' takes its place
    expect(d.take('close')).toHaveLength(1)
    expect(d.take('connect').map(c => c.peer)).toEqual(['c'])
  })

  it('asks a second parent for a piece the first is slow with, and drops a parent that stalls', () => {
    const d = new Drive({ pipeline: 1 })
    d.connected = ['a', 'b']
    d.engine.start()
    d.layout(2)
    d.open('a', 2, [0, 1])
    d.open('b', 2, [])
    const first = d.take('request')
    expect(first).toHaveLength(2)
    const fromA = first.find(r => r.peer === 'a')!
    // 'b' gains every piece; 'a' sends nothing
    d.engine.have('b', [0, 1])
    d.take()
    d.advance(CONFIG.hedgeAfterMs + 1000)
    expect(d.take('request')).toContainEqual({ type: 'request', peer: 'b', index: fromA.index })
    d.advance(CONFIG.stallMs)
    expect(d.take('close')).toContainEqual({ type: 'close', peer: 'a', error: 'stalled' })
  })

  it('asks a fast idle parent for a piece a slow parent would take far longer to finish, and not another parent as slow', () => {
    // 'slow' sends 25 KB/s, a 1 MiB piece in 40 s; its own pace says wait 3 x that
    const run = (otherPerTick: number): Array<{ at: number, peer: string }> => {
      // enough pieces that 'other' is still busy when the hedge decides (the end game is another test's)
      const d = new Drive({ pipeline: 1, maxParents: 2 })
      d.connected = ['slow', 'other']
      d.engine.start()
      d.layout(30)
      const all = Array.from({ length: 30 }, (_, i) => i)
      d.open('slow', 30, all)
      d.open('other', 30, all)
      const requests = d.take('request')
      const atSlow = requests.find(r => r.peer === 'slow')!.index
      const asked: Array<{ at: number, peer: string }> = []
      // what 'other' has sent of each piece asked of it, one piece at a time
      const sent = new Map<number, number>()
      for (let t = 0; t < 30_000; t += 200) {
        d.now += 200
        d.engine.received('slow', 5000)
        const next = requests.find(r => r.peer === 'other' && (sent.get(r.index) ?? 0) < PIECE)
        if (next != null) {
          const bytes = Math.min(PIECE, (sent.get(next.index) ?? 0) + otherPerTick)
          d.engine.received('other', bytes - (sent.get(next.index) ?? 0))
          sent.set(next.index, bytes)
          if (bytes === PIECE) {
            const arrival = d.engine.pieceArrived('other', next.index)
            if (arrival.write) {
              d.engine.pieceVerified('other', next.index)
              d.engine.pieceStored('other', next.index, PIECE)
            }
          }
        }
        d.engine.tick()
        for (const r of d.take('request')) {
          if (r.index === atSlow && r.peer === 'other') asked.push({ at: d.now, peer: r.peer })
          requests.push(r)
        }
      }
      return asked
    }
    // 'other' sent its pieces at 5 MB/s and is idle: it is asked once the hedge delay's floor has
    // passed, and once only (held, the piece is not asked for again while 'slow' answers the cancel)
    expect(run(PIECE)).toEqual([{ at: CONFIG.hedgeAfterMs, peer: 'other' }])
    // 'other' is as slow: waiting for 'slow' is as good, and nothing is asked twice within the 30 s
    expect(run(5000)).toEqual([])
  })

  it('in the end game asks an idle parent for a last piece that has waited END_GAME_WAIT_MS at one sending nothing, and cancels the slower copy', () => {
    const d = new Drive({ pipeline: 1, maxParents: 2 })
    d.connected = ['silent', 'fast']
    d.engine.start()
    d.layout(2)
    // 'silent' holds piece 0 only, so each is asked for one piece
    d.open('silent', 2, [0])
    d.open('fast', 2, [0, 1])
    const requests = d.take('request')
    expect(requests.map(r => `${r.peer}:${r.index}`).sort()).toEqual(['fast:1', 'silent:0'])
    const atSilent = requests.find(r => r.peer === 'silent')!.index
    const atFast = requests.find(r => r.peer === 'fast')!.index
    // 'fast' brings its piece at once; 'silent' sends nothing (not yet stalled: that takes stallMs)
    d.now += 200
    d.deliver('fast', atFast)
    d.engine.tick()
    d.take()
    // every missing piece is on its way: after END_GAME_WAIT_MS from the request, and not before
    d.advance(END_GAME_WAIT_MS - 400)
    expect(d.take('request')).toEqual([])
    d.advance(400)
    expect(d.take('request')).toEqual([{ type: 'request', peer: 'fast', index: atSilent }])
    expect(d.take('close')).toEqual([])
    // it lands from 'fast': the copy asked of 'silent' is called off
    d.deliver('fast', atSilent)
    expect(d.take('cancel')).toContainEqual(expect.objectContaining({ peer: 'silent', index: atSilent }))
  })

  it('demotes a parent whose piece takes twenty times the download\'s mean, and gives it a place only after every other candidate', () => {
    const d = new Drive({ pipeline: 1, maxParents: 3 })
    d.connected = ['a', 'b', 'c']
    d.engine.start()
    d.layout(200)
    const all = Array.from({ length: 200 }, (_, i) => i)
    d.open('a', 200, all)
    d.open('b', 200, all)
    d.open('c', 200, all)
    expect(d.take('connect').map(c => c.peer).sort()).toEqual(['a', 'b', 'c'])
    const first = d.take('request')
    const fromC = first.find(r => r.peer === 'c')!
    const served: number[] = []
    const serve = (requests: Array<{ peer: string, index: number }>): void => {
      for (const r of requests.filter(r => r.peer !== 'c')) {
        d.deliver(r.peer, r.index)
        served.push(r.index)
      }
    }
    serve(first)
    // 'a' and 'b' deliver a piece every 200 ms; 'c' sends nothing
    let closed: Array<{ peer: string }> = []
    while (closed.length === 0 && d.now < CONFIG.stallMs) {
      d.advance(200)
      serve(d.take('request'))
      closed = d.take('close')
    }
    // let go once it has kept a piece over 20 x the mean (and over the 1 s floor), before the stall timeout would drop it
    expect(closed.map(c => c.peer)).toEqual(['c'])
    expect(d.now).toBeGreaterThanOrEqual(BAD_PARENT_FLOOR_MS)
    expect(d.now).toBeLessThan(CONFIG.stallMs / 2)
    expect(d.engine.sessionCount).toBe(2)
    // its piece is asked of the others; the free place goes to a newcomer, not to 'c'
    d.engine.candidate('d')
    const connected: string[] = []
    for (let t = 0; t < 3 * CLEAN_CLOSE_RETRY_MS; t += 200) {
      d.advance(200)
      serve(d.take('request'))
      for (const r of d.take('connect')) {
        connected.push(r.peer)
        d.open(r.peer, 200, [])
      }
    }
    expect(connected).toEqual(['d'])
    expect(served).toContain(fromC.index)
    expect(d.engine.parentBytes.get('c')).toBeUndefined()
    // with places free again, the demoted parent gets one: it may hold what nobody else does
    d.engine.sessionClosed('a', { kind: 'violation', message: 'a bad frame' })
    d.engine.sessionClosed('b', { kind: 'violation', message: 'a bad frame' })
    d.advance(400)
    expect(d.take('connect').map(c => c.peer)).toEqual(['c'])
  })

  it('bans a parent whose piece does not match its own word, and asks another for it', () => {
    const d = new Drive({ pipeline: 1 })
    d.connected = ['bad', 'good']
    d.engine.start()
    d.layout(1)
    d.open('bad', 1, [0])
    const [r] = d.take('request')
    expect(r?.peer).toBe('bad')
    d.take('connect')
    expect(d.engine.pieceArrived('bad', 0).write).toBe(true)
    d.engine.pieceRejected('bad', 0, 'piece 0 does not hash to what its parent said')
    expect(d.take('ban')).toEqual([{ type: 'ban', peer: 'bad', reason: 'piece 0 does not hash to what its parent said' }])
    expect(d.take('close').map(c => c.peer)).toEqual(['bad'])
    // a banned parent is not asked again, even when named again
    d.engine.candidate('bad')
    expect(d.take('connect').map(c => c.peer)).not.toContain('bad')
    d.open('good', 1, [0])
    expect(d.take('request')).toEqual([{ type: 'request', peer: 'good', index: 0 }])
  })

  it('reopens the session of a parent that holds a piece it lacks when for a while it has asked for nothing and gained nothing', () => {
    const d = new Drive({ pipeline: 1 })
    d.connected = ['seed']
    d.seeds = ['seed']
    d.engine.start()
    d.layout(2)
    // the parent names both pieces, but sends the hash of the first only: the second cannot be asked for
    d.engine.sessionOpened('seed')
    d.engine.manifest('seed', [part('seed', 0, 1, 2)])
    d.engine.bitfield('seed', bits(2, [0, 1]))
    expect(d.take('request')).toEqual([{ type: 'request', peer: 'seed', index: 0 }])
    d.deliver('seed', 0)
    d.take()
    d.advance(STUCK_MS - 1000)
    expect(d.take('close')).toEqual([])
    expect(d.take('request')).toEqual([])
    d.advance(2000)
    expect(d.take('close')).toEqual([expect.objectContaining({ type: 'close', peer: 'seed' })])
    // asked again, it answers in full, and the piece is asked for
    d.advance(2000)
    expect(d.take('connect')).toEqual([{ type: 'connect', peer: 'seed' }])
    d.open('seed', 2, [0, 1])
    expect(d.take('request')).toEqual([{ type: 'request', peer: 'seed', index: 1 }])
    d.deliver('seed', 1)
    expect(d.engine.state).not.toBe('downloading')
    // a download that gains pieces is never taken for stuck
    const e = new Drive({ pipeline: 1 })
    e.connected = ['a']
    e.engine.start()
    e.layout(8)
    e.open('a', 8, [0, 1, 2, 3, 4, 5, 6, 7])
    const pending: number[] = []
    for (let i = 0; i < 8; i++) {
      pending.push(...e.take('request').map(r => r.index))
      e.advance(STUCK_MS / 4)
      e.deliver('a', pending.shift()!)
    }
    expect(e.engine.state).not.toBe('downloading')
    expect(e.take('close')).toEqual([])
  })

  it('believes the signer of the first piece that verifies, and no longer asks a parent that follows a forged manifest', () => {
    const forged = (signer: string, index: number): Uint8Array => hashOf(signer === 'forger' ? 'x' : signer, index)
    const d = new Drive({ pipeline: 1 })
    d.connected = ['honest', 'liar']
    d.engine.start()
    d.layout(4)
    d.engine.sessionOpened('honest')
    d.engine.manifest('honest', [part('seed', 0, 4, 4)])
    d.engine.bitfield('honest', bits(4, [0, 1, 2, 3]))
    const [r] = d.take('request')
    d.deliver('honest', r!.index)
    // the liar forwards a part by another signer with other hashes: none of its pieces is usable
    d.engine.sessionOpened('liar')
    d.engine.manifest('liar', [part('forger', 0, 4, 4, forged)])
    d.engine.bitfield('liar', bits(4, [0, 1, 2, 3]))
    expect(d.take('request').filter(q => q.peer === 'liar')).toEqual([])
    expect([...d.engine.trust.conflicting]).toEqual(['forger'])
    // and a piece it sends anyway is dropped, not written
    expect(d.engine.pieceArrived('liar', 3)).toEqual({ write: false, discarded: true })
  })

  it('asks a parent that declined a piece as busy for it again only after the back-off, and others meanwhile', () => {
    const d = new Drive({ pipeline: 1 })
    d.connected = ['a', 'b']
    d.engine.start()
    d.layout(1)
    d.open('a', 1, [0])
    expect(d.take('request')).toEqual([{ type: 'request', peer: 'a', index: 0 }])
    d.open('b', 1, [0])
    d.engine.declined('a', 0, true)
    expect(d.take('request')).toEqual([{ type: 'request', peer: 'b', index: 0 }])
    d.engine.declined('b', 0, true)
    // both just sent it to others: nobody is asked until the back-off passes
    expect(d.take('request')).toEqual([])
    d.advance(CONFIG.declineBackoffMs + 200)
    expect(d.take('request')).toHaveLength(1)
  })

  it('waits for a seed that accepted, and goes to the origin when it then stalls and stops answering', () => {
    const d = new Drive()
    d.connected = ['seed1']
    d.seeds = ['seed1']
    d.engine.start()
    d.engine.sessionClosed('seed1', { kind: 'not-found', message: 'no' })
    d.engine.seedAnswer('seed1', { accepted: true })
    expect(d.engine.feed).toBe('seed')
    d.advance(1200)
    expect(d.take('connect').map(c => c.peer)).toContain('seed1')
    d.layout(4)
    d.open('seed1', 4, [0])
    d.take()
    // the seed stalls: its session is dropped, and it is asked again while it stays connected
    d.advance(CONFIG.stallMs + 400)
    expect(d.take('close').map(c => c.peer)).toEqual(['seed1'])
    d.connected = []
    for (let t = 0; t < 80 && d.take('pull-origin').length === 0; t++) {
      for (const a of d.take('ask-seed')) d.engine.seedAnswer(a.seed, { lost: 'no answer' })
      d.advance(1000)
    }
    // gone for good: alone, it goes itself
    expect(d.engine.originRunning).toBe(true)
  })

  it('alone (no peer connected, no seed known, no bootstrap address) goes to the origin at once, not at the seed deadline', () => {
    /** A node that starts a download with the DHT answering at once that nobody holds the blob. */
    const started = (setup: (d: Drive) => void): Drive => {
      const d = new Drive()
      setup(d)
      d.engine.start()
      for (let t = 0; t < 3; t++) {
        if (d.take('lookup').length > 0) d.engine.lookupDone()
        for (const c of d.take('connect')) d.engine.sessionClosed(c.peer, { kind: 'not-found', message: 'no' })
        d.advance(200)
      }
      return d
    }
    const alone = started(d => { d.hasBootstrap = false })
    expect(alone.take('ask-seed')).toEqual([])
    expect(alone.take('join-topic')).toEqual([])
    expect(alone.take('pull-origin')).toHaveLength(1)

    // the rule for a node that may not have met the swarm yet is unchanged: it waits the seed deadline
    const waiting = [
      started(d => { d.hasBootstrap = true }),
      started(d => { d.hasBootstrap = false; d.connected = ['p1'] })
    ]
    for (const d of waiting) {
      d.advance(CONFIG.seedTimeoutMs - 1000)
      expect(d.take('pull-origin')).toEqual([])
    }

    // and a known seed, slow to accept, is asked again rather than left for the origin
    const slow = started(d => { d.hasBootstrap = false; d.connected = ['seed1']; d.seeds = ['seed1'] })
    for (let t = 0; t < SLOW_SEED_PATIENCE_MS - 2000; t += 200) {
      for (const a of slow.take('ask-seed')) slow.engine.seedAnswer(a.seed, { lost: 'no answer within 5000 ms' })
      slow.advance(200)
    }
    expect(slow.take('pull-origin')).toEqual([])
  })

  it('keeps asking a seed that is connected but slow to accept, and does not leave it for the origin', () => {
    const d = new Drive()
    d.connected = ['seed1']
    d.seeds = ['seed1']
    d.engine.start()
    d.engine.sessionClosed('seed1', { kind: 'not-found', message: 'no' })
    let asks = 0
    // the seed answers nothing for 20 s (stopped, or loaded), then accepts
    for (let t = 0; t < 20_000; t += 200) {
      for (const a of d.take('ask-seed')) {
        asks++
        d.engine.seedAnswer(a.seed, { lost: 'no answer within 5000 ms' })
      }
      d.advance(200)
    }
    expect(asks).toBeGreaterThan(3)
    expect(d.take('pull-origin')).toEqual([])
    expect(d.take('join-topic')).toEqual([])
    d.advance(2000)
    for (const a of d.take('ask-seed')) d.engine.seedAnswer(a.seed, { accepted: true })
    d.advance(SLOW_SEED_PATIENCE_MS)
    expect(d.engine.originRunning).toBe(false)
  })

  it('without any seed, sends one of the blob\'s pullers to the origin, and the others fetch from it', () => {
    const pullers = ['n1', 'n2', 'n3', 'n4']
    const order = rankSeeds(DIGEST, pullers)
    const drives = pullers.map(self => {
      const d = new Drive({}, { self })
      d.connected = pullers.filter(p => p !== self)
      d.pullers = d.connected
      d.engine.start()
      for (const p of d.connected) d.engine.sessionClosed(p, { kind: 'not-found', message: 'no' })
      return d
    })
    for (const d of drives) d.advance(CONFIG.seedTimeoutMs + 400)
    for (const d of drives) expect(d.take('join-topic')).toHaveLength(1)
    for (const d of drives) d.advance(FALLBACK_JOIN_WAIT_MS + 200)
    const going = drives.filter(d => d.engine.originRunning).map(d => pullers[drives.indexOf(d)])
    expect(going).toEqual([order[0]])
    // the second waits FALLBACK_STEP_MS for a piece before it goes too, asking the first meanwhile
    const second = drives[pullers.indexOf(order[1]!)]!
    expect(second.take('connect').map(c => c.peer)).toContain(order[0])
    second.advance(FALLBACK_STEP_MS)
    expect(second.engine.originRunning).toBe(true)
    const fourth = drives[pullers.indexOf(order[3]!)]!
    expect(fourth.engine.originRunning).toBe(false)
  })

  it('goes to the origin itself when nobody else answers at all, and fails when the origin is off limits', () => {
    const d = new Drive()
    d.engine.start()
    d.advance(CONFIG.seedTimeoutMs - 400)
    expect(d.take('pull-origin')).toEqual([])
    // alone: no puller to agree with, so no wait for one once the seed deadline passed
    d.advance(1600)
    expect(d.take('join-topic')).toEqual([])
    expect(d.take('pull-origin')).toHaveLength(1)

    const off = new Drive({ originFallback: false })
    off.engine.start()
    off.advance(CONFIG.seedTimeoutMs + 1000)
    expect(off.take('fail')[0]?.error.message).toMatch(/origin fallback is off/)

    const noUrl = new Drive({}, { hasUrl: false })
    noUrl.engine.start()
    noUrl.advance(CONFIG.seedTimeoutMs * 2 + 1000)
    expect(noUrl.take('fail')[0]?.error.message).toMatch(/no origin URL is known/)
  })

  it('finishes once every piece is held, from the origin or from parents', () => {
    const d = new Drive({}, { isSeed: true })
    d.engine.startFromOrigin()
    expect(d.take('pull-origin')).toHaveLength(1)
    d.layout(2)
    d.engine.originPiece(0, PIECE)
    d.engine.originPiece(1, PIECE)
    d.engine.originDone()
    expect(d.take('finish')).toHaveLength(1)
    expect(d.engine.bytesFromOrigin).toBe(2 * PIECE)
  })
})

describe('the download engine and its advisor (the scheduler)', () => {
  /** Two places, parents a and b in them, c, d and e waiting. */
  function full (advised: boolean): Drive {
    const d = new Drive({ maxParents: 2 }, { advised })
    d.engine.start()
    for (const p of ['a', 'b', 'c', 'd', 'e']) d.engine.candidate(p)
    expect(d.take('connect').map(c => c.peer)).toEqual(['a', 'b'])
    return d
  }

  it('asks it to rank when more candidates are ready than places, ranks on its own meanwhile, then follows its order', () => {
    const d = full(true)
    d.engine.sessionClosed('a', undefined)
    // no advice yet: the place is filled at once, in the local order, and the advisor is asked
    expect(d.take('connect').map(c => c.peer)).toEqual(['c'])
    expect(d.take('rank').map(r => r.candidates.map(c => c.peer))).toEqual([['c', 'd', 'e']])
    d.engine.advised(['e', 'd', 'c'])
    d.engine.sessionClosed('b', undefined)
    expect(d.take('connect').map(c => c.peer)).toEqual(['e'])
    // it was not asked again while its advice is fresh
    expect(d.take('rank')).toEqual([])
  })

  it('asks again once its advice is old, at most once per ADVICE_GAP_MS, and never waits for it', () => {
    const d = full(true)
    d.engine.sessionClosed('a', undefined)
    expect(d.take('rank')).toHaveLength(1)
    d.take('connect')
    // no answer: the next choice within the gap ranks locally without asking
    d.now += ADVICE_GAP_MS / 2
    d.engine.sessionClosed('b', undefined)
    expect(d.take('connect').map(c => c.peer)).toEqual(['d'])
    expect(d.take('rank')).toEqual([])
    d.engine.advised(['e'])
    d.take('suggest')
    d.now += ADVICE_TTL_MS + 1
    d.engine.sessionClosed('c', undefined)
    // stale advice: local order, and a new question (for holders too, a place being free)
    expect(d.take('connect')).toHaveLength(1)
    expect([...d.take('rank').map(r => r.candidates), ...d.take('suggest').map(r => r.rank)]).toHaveLength(1)
  })

  it('asks for holders and an order in one question, and the order places the holders it names', () => {
    const d = full(true)
    d.take()
    // the question at the start, answered with nobody: the next waits twice the gap
    d.engine.suggested([])
    d.advance(2 * SUGGEST_GAP_MS)
    // both places busy: no question
    expect(d.take('suggest')).toEqual([])
    // a place frees: it is filled at once in the local order, and one
    // question goes, for holders with the candidates ready to rank
    d.engine.sessionClosed('a', undefined)
    expect(d.take('connect').map(c => c.peer)).toEqual(['c'])
    expect(d.take('rank')).toEqual([])
    expect(d.take('suggest').map(q => q.rank?.map(c => c.peer))).toEqual([['c', 'd', 'e']])
    // its answer: two holders, and an order of them all
    d.engine.suggested(['x', 'y'], ['y', 'd', 'x', 'e', 'c'])
    expect(d.take('connect')).toEqual([])
    // the next place goes to the best of those ready, a holder it named
    d.engine.sessionClosed('b', undefined)
    expect(d.take('connect').map(c => c.peer)).toEqual(['y'])
    // that order is fresh: no question
    expect([...d.take('rank'), ...d.take('suggest')]).toEqual([])
  })

  it('tells it what parents did: a piece with its bytes and time, a decline, a close', () => {
    const d = new Drive({}, { advised: true })
    d.connected = ['a']
    d.engine.start()
    d.layout(4)
    d.open('a', 4, [0, 1, 2, 3])
    const asked = d.take('request').filter(r => r.peer === 'a').map(r => r.index)
    d.now += 250
    d.deliver('a', asked[0]!)
    d.engine.declined('a', asked[1]!, true)
    d.engine.sessionClosed('a', undefined)
    const reports = d.take('report').map(r => r.report)
    expect(reports).toEqual([
      { type: 'piece', digest: DIGEST, parent: 'a', bytes: PIECE, ms: 250 },
      { type: 'failed', digest: DIGEST, parent: 'a' },
      { type: 'closed', digest: DIGEST, parent: 'a' }
    ])
  })

  it('asks it for holders while short of parents, at most once per SUGGEST_GAP_MS, and no more once it has enough', () => {
    const d = new Drive({ maxParents: 2 }, { advised: true })
    d.connected = ['seed']
    d.seeds = ['seed']
    d.engine.start()
    d.engine.tick()
    expect(d.take('suggest')).toEqual([{ type: 'suggest', limit: 4 }])
    // one at a time: none while it is unanswered
    d.advance(2 * SUGGEST_GAP_MS)
    expect(d.take('suggest')).toEqual([])
    // answered: asked again on the next tick, the gap (doubled, as the answer named nobody) being over
    d.engine.suggested([])
    d.advance(200)
    expect(d.take('suggest')).toHaveLength(1)
    // the holders it named are candidates, parents in the places free
    for (const p of ['a', 'b']) d.engine.candidate(p)
    expect(d.take('connect').map(c => c.peer)).toContain('a')
    d.layout(8)
    for (const p of ['a', 'b']) d.open(p, 8, [0, 1, 2, 3, 4, 5, 6, 7])
    d.advance(2 * SUGGEST_GAP_MS)
    // both places busy: nothing to ask for
    expect(d.take('suggest')).toEqual([])
  })

  it('asks it for holders in place of lookups, a lookup when it does not answer (within the lookups\' own gap), and for nothing while a lookup runs', () => {
    // more places than the probe's answers fill
    const d = new Drive({ maxParents: 16 }, { advised: true })
    d.connected = Array.from({ length: 40 }, (_, i) => `p${i}`)
    d.engine.start()
    d.engine.tick()
    expect(d.take('suggest')).toHaveLength(1)
    // too many peers to probe them all: a lookup would go once their answers
    // have had PROBE_WAIT_MS; the suggestion asked the advisor what it would
    d.advance(400)
    expect(d.take('lookup')).toEqual([])
    // no answer: a lookup at once (the daemon's goes to the DHT when the advisor does not answer)
    d.engine.suggestFailed()
    d.advance(200)
    expect(d.take('lookup')).toHaveLength(1)
    d.advance(3 * SUGGEST_GAP_MS)
    expect(d.take('suggest')).toEqual([])
    d.engine.lookupDone()
    d.advance(200)
    expect(d.take('suggest')).toHaveLength(1)
    d.engine.suggested([])
    // answered from now on, naming nobody new: no lookup of its own, and
    // the questions for holders come less and less often
    let suggests = 0
    for (let ms = 0; ms < 60_000; ms += 200) {
      d.advance(200)
      if (d.take('suggest').length > 0) {
        suggests++
        d.engine.suggested([])
      }
    }
    expect(d.take('lookup')).toEqual([])
    expect(suggests).toBeGreaterThanOrEqual(60_000 / SUGGEST_GAP_MAX_MS - 1)
    expect(suggests).toBeLessThanOrEqual(60_000 / SUGGEST_GAP_MAX_MS + 3)
    // unanswered right after a lookup: the next lookup keeps the lookups' gap
    d.engine.suggestFailed()
    d.advance(200)
    expect(d.take('lookup')).toHaveLength(1)
    d.engine.lookupDone()
    d.engine.suggestFailed()
    d.advance(DISCOVERY_GAP_MS - 1000)
    expect(d.take('lookup')).toEqual([])
  })

  it('asks it for holders less often while its answers name nobody new, and at once again once one does', () => {
    const d = new Drive({ maxParents: 4 }, { advised: true })
    d.connected = ['seed']
    d.seeds = ['seed']
    d.engine.start()
    d.engine.tick()
    expect(d.take('suggest')).toHaveLength(1)
    d.engine.suggested(['a'])
    d.layout(8)
    d.open('a', 8, [0, 1, 2, 3, 4, 5, 6, 7])
    // named a new holder: asked again SUGGEST_GAP_MS later
    d.advance(SUGGEST_GAP_MS)
    expect(d.take('suggest')).toHaveLength(1)
    // then the same holder again, each time, from suggestions and lookups
    // alike (the daemon asks the advisor for both): asked less and less often
    d.engine.suggested(['a'])
    const suggests: number[] = []
    let questions = 0
    for (let ms = 200; ms <= 30_000; ms += 200) {
      d.advance(200)
      const lookups = d.take('lookup').length
      if (lookups > 0) d.engine.lookupDone()
      if (d.take('suggest').length > 0) {
        suggests.push(ms)
        d.engine.suggested(['a'])
      }
      questions += lookups + (suggests.at(-1) === ms ? 1 : 0)
    }
    // a suggestion a second would be 30, and one every SUGGEST_GAP_MAX_MS 4 beside the lookups
    expect(questions).toBeLessThanOrEqual(8)
    const gaps = suggests.slice(1).map((t, i) => t - suggests[i]!)
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(2 * SUGGEST_GAP_MS)
    // a new holder: back to SUGGEST_GAP_MS
    d.engine.suggested(['b'])
    d.advance(SUGGEST_GAP_MS)
    expect(d.take('suggest')).toHaveLength(1)
  })

  it('without an advisor, neither asks nor reports', () => {
    const d = full(false)
    d.engine.sessionClosed('a', undefined)
    expect(d.take('connect')).toHaveLength(1)
    expect(d.take('rank')).toEqual([])
    expect(d.take('report')).toEqual([])
    d.advance(2 * SUGGEST_GAP_MS)
    expect(d.take('suggest')).toEqual([])
  })
})

describe('a ranged download (a lazy-loading client reads parts of a blob nobody holds)', () => {
  it('asks the seed for the bytes wanted, before the size is known, and for nothing without a want', () => {
    const d = new Drive({}, { ranged: true })
    d.connected = ['a', 'seed1']
    d.seeds = ['seed1']
    d.engine.start()
    for (const p of ['a', 'seed1']) d.engine.sessionClosed(p, { kind: 'not-found', message: 'no' })
    // nothing wanted yet: asking without ranges would ask for the whole blob
    expect(d.take('ask-seed')).toEqual([])
    d.engine.want(3 * PIECE + 5, 3 * PIECE + 22)
    d.advance(SLOW_SEED_PATIENCE_MS)
    const [ask] = d.take('ask-seed')
    expect(ask).toEqual({ type: 'ask-seed', seed: 'seed1', ranges: [[3 * PIECE + 5, 3 * PIECE + 22]] })
  })

  it('fetches only the wanted pieces from a parent that holds them all, the readers\' next pieces first', () => {
    const d = new Drive({}, { ranged: true })
    d.connected = ['a']
    d.engine.start()
    d.engine.want(5 * PIECE, 7 * PIECE)
    d.engine.want(12 * PIECE + 100, 12 * PIECE + 200)
    d.layout(16)
    d.engine.reader(Symbol('client'), 12)
    d.open('a', 16, Array.from({ length: 16 }, (_, i) => i))
    const asked = d.take('request').map(r => r.index)
    expect(asked[0]).toBe(12)
    expect([...asked].sort((x, y) => x - y)).toEqual([5, 6, 12])
    for (const i of asked) d.deliver('a', i)
    d.take()
    // every wanted piece held: it rests, asking nobody anything
    d.advance(10_000)
    expect(d.take().filter(c => c.type !== 'report')).toEqual([])
    expect(d.engine.state).toBe('downloading')
    expect(d.engine.fetching).toBe(false)
    // the next read wakes it
    d.engine.want(9 * PIECE, 9 * PIECE + 1)
    expect(d.engine.fetching).toBe(true)
    expect(d.take('request').map(r => r.index)).toEqual([9])
  })

  it('asks the seed at once for a wanted piece no parent holds, with that piece\'s bytes, and once', () => {
    const d = new Drive({}, { ranged: true })
    d.connected = ['a', 'seed1']
    d.seeds = ['seed1']
    d.engine.start()
    d.engine.want(0, 10)
    d.take()
    d.layout(8)
    d.engine.seedAnswer('seed1', { accepted: true })
    d.open('seed1', 8, [0])
    d.open('a', 8, [0, 1, 2])
    d.take()
    // piece 2 is held by a parent; piece 6 by nobody: only 6 goes to the seed
    d.engine.want(2 * PIECE, 3 * PIECE)
    d.engine.want(6 * PIECE, 6 * PIECE + 1)
    const asks = d.take('ask-seed')
    expect(asks).toEqual([{ type: 'ask-seed', seed: 'seed1', ranges: [[6 * PIECE, 7 * PIECE]] }])
    d.engine.seedAnswer('seed1', { accepted: true })
    d.advance(1000)
    expect(d.take('ask-seed')).toEqual([])
    // the seed pulled it: it is fetched from the seed
    d.engine.have('seed1', [6])
    expect(d.take('request').map(r => [r.peer, r.index])).toContainEqual(['seed1', 6])
  })

  it('asks for the whole blob once a reader wants all of it', () => {
    const d = readFromSeed({})
    d.open('seed1', 4, [0])
    expect(d.take('request').map(r => r.index)).toEqual([0])
    d.take()
    d.engine.wantAll()
    // the seed, pulling ranges so far, is asked for the rest
    expect(d.take('ask-seed')).toEqual([{ type: 'ask-seed', seed: 'seed1' }])
    d.engine.have('seed1', [1, 2, 3])
    expect(d.take('request').map(r => r.index).sort()).toEqual([1, 2, 3])
  })

  it('with prefetch background, fetches the rest once every piece read is held, and a new read goes before it', () => {
    const d = new Drive({ prefetch: 'background', maxParents: 1, pipeline: 1 }, { ranged: true })
    d.connected = ['a']
    d.engine.start()
    d.engine.want(2 * PIECE, 3 * PIECE)
    d.layout(8)
    d.open('a', 8, Array.from({ length: 8 }, (_, i) => i))
    // the piece read first, and nothing else while it is missing
    expect(d.take('request').map(r => r.index)).toEqual([2])
    d.deliver('a', 2)
    // then the rest, a piece at a time (pipeline 1)
    const [next] = d.take('request')
    expect(next).toBeDefined()
    expect(next!.index).not.toBe(2)
    // a read meanwhile: its piece is asked for next, before the rest
    const read = next!.index === 6 ? 7 : 6
    d.engine.want(read * PIECE, read * PIECE + 1)
    d.deliver('a', next!.index)
    expect(d.take('request').map(r => r.index)).toEqual([read])
    expect(d.engine.fetching).toBe(true)

    // without prefetch, nothing but the reads
    const none = new Drive({ maxParents: 1, pipeline: 1 }, { ranged: true })
    none.connected = ['a']
    none.engine.start()
    none.engine.want(2 * PIECE, 3 * PIECE)
    none.layout(8)
    none.open('a', 8, Array.from({ length: 8 }, (_, i) => i))
    none.deliver('a', none.take('request')[0]!.index)
    expect(none.take('request')).toEqual([])
    expect(none.engine.fetching).toBe(false)
  })

  it('with prefetch full, asks the seed for the pieces read with their ranges, then for the whole blob', () => {
    const d = readFromSeed({ prefetch: 'full' })
    // the piece read was asked for; the rest goes to the seed as one ask for the whole blob
    expect(d.take('ask-seed')).toEqual([{ type: 'ask-seed', seed: 'seed1' }])
    d.engine.seedAnswer('seed1', { accepted: true })
    d.open('seed1', 4, [0, 1, 2, 3])
    expect(d.take('request').map(r => r.index).sort()).toEqual([0, 1, 2, 3])
  })
})
