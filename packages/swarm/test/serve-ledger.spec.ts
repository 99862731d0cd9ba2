import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { IDLE_UPLINK_SENDS, ServeLedger, idleSlotToFree, slotsForNewcomers } from '../src/piece-server.js'
import { LocalParentRanker } from '../src/ranking.js'
import { RateLimiter, UplinkGauge } from '../src/rate-limit.js'
import { SWARM_DEFAULTS } from '../src/defaults.js'

describe('idleSlotToFree (an idle requester gives its upload slot up)', () => {
  it('frees the slot of the session idle longest, once it has been idle long enough', () => {
    const a = { busy: false, lastActiveAt: 500 }
    const b = { busy: false, lastActiveAt: 200 }
    const c = { busy: false, lastActiveAt: 900 }
    expect(idleSlotToFree([a, b, c], 1500, 1000)).toBe(b)
    expect(idleSlotToFree([a, c], 1500, 1000)).toBe(a)
  })

  it('frees none while every session is busy or was active within the idle time', () => {
    const working = { busy: true, lastActiveAt: 0 }
    const recent = { busy: false, lastActiveAt: 600 }
    expect(idleSlotToFree([working, recent], 1500, 1000)).toBeUndefined()
    expect(idleSlotToFree([], 1500, 1000)).toBeUndefined()
    // the same sessions a moment later: the recent one has been idle for the whole time
    expect(idleSlotToFree([working, recent], 1600, 1000)).toBe(recent)
  })
})

describe('slotsForNewcomers (free upload slots in the load beacon)', () => {
  it('counts the slots no session holds and those idle sessions would give up', () => {
    const working = { busy: true, lastActiveAt: 0 }
    const recent = { busy: false, lastActiveAt: 1000 }
    const idle = { busy: false, lastActiveAt: 100 }
    expect(slotsForNewcomers([], 4, 1500, 1000)).toBe(4)
    expect(slotsForNewcomers([working, recent], 4, 1500, 1000)).toBe(2)
    expect(slotsForNewcomers([working, recent, idle], 3, 1500, 1000)).toBe(1)
    expect(slotsForNewcomers([working, recent], 2, 1500, 1000)).toBe(0)
    // a moment later the recent one has been idle long enough too
    expect(slotsForNewcomers([working, recent], 2, 2000, 1000)).toBe(1)
  })
})

describe('ServeLedger (super-seeding)', () => {
  it('admits a piece `copies` times per window, then declines, then admits again', async () => {
    const ledger = new ServeLedger(2, 100, undefined, () => true)
    ledger.admit('d', 1)?.()
    ledger.admit('d', 1)?.()
    expect(ledger.admit('d', 1)).toBeUndefined()
    expect(ledger.admit('d', 2)).toBeTypeOf('function')
    expect(ledger.admit('other', 1)).toBeTypeOf('function')
    await delay(150)
    expect(ledger.admit('d', 1)).toBeTypeOf('function')
  })

  it('counts a send still in progress as recent, and starts the window when it ends', async () => {
    const ledger = new ServeLedger(1, 100, undefined, () => true)
    const sent = ledger.admit('d', 1)
    expect(sent).toBeTypeOf('function')
    await delay(150)
    // still sending after longer than the window: others must wait
    expect(ledger.admit('d', 1)).toBeUndefined()
    sent!()
    expect(ledger.admit('d', 1)).toBeUndefined()
    await delay(150)
    expect(ledger.admit('d', 1)).toBeTypeOf('function')
  })

  it('declines only while its uplink is busy: with fewer sends under way it sends the piece again', () => {
    expect(IDLE_UPLINK_SENDS).toBe(2)
    const ledger = new ServeLedger(2, 60_000)
    ledger.admit('d', 1)?.()
    ledger.admit('d', 1)?.()
    // piece 1 went out twice just now, but nothing else is being sent: the uplink would sit idle
    const third = ledger.admit('d', 1)
    expect(third).toBeTypeOf('function')
    expect(ledger.sending).toBe(1)
    const other = ledger.admit('d', 2)
    expect(ledger.sending).toBe(2)
    // two sends under way: piece 1, sent three times in the window, is declined
    expect(ledger.admit('d', 1)).toBeUndefined()
    expect(ledger.sending).toBe(2)
    other!()
    other!() // a second call changes nothing
    expect(ledger.sending).toBe(1)
    expect(ledger.admit('d', 1)).toBeTypeOf('function')
  })

  it('unpaced (no upload rate: sends say nothing of the uplink), declines a piece sent within the window even with nothing else under way', () => {
    let now = 0
    const ledger = new ServeLedger(1, SWARM_DEFAULTS.superSeedUnpacedWindowMs, () => now, () => true)
    ledger.admit('d', 1)?.()
    now += SWARM_DEFAULTS.superSeedUnpacedWindowMs - 1
    expect(ledger.sending).toBe(0)
    expect(ledger.admit('d', 1)).toBeUndefined()
    expect(ledger.admit('d', 2)).toBeTypeOf('function')
    now += 1
    expect(ledger.admit('d', 1)).toBeTypeOf('function')
  })

  it('never declines the piece of a one-piece blob, whose holders nobody could find', () => {
    const ledger = new ServeLedger(1, SWARM_DEFAULTS.superSeedUnpacedWindowMs, () => 0, () => true)
    for (let i = 0; i < 5; i++) ledger.admit('config', 0, 1)?.()
    expect(ledger.admit('config', 0, 1)).toBeTypeOf('function')
    // the same piece of a blob of two is declined after its one copy
    ledger.admit('layer', 0, 2)?.()
    expect(ledger.admit('layer', 0, 2)).toBeUndefined()
  })

  it('names the peers a piece went to within the window, most recent first', () => {
    let now = 0
    const ledger = new ServeLedger(2, 1000, () => now, () => true)
    ledger.admit('d', 1, 10, 'a')?.()
    now += 100
    const toB = ledger.admit('d', 1, 10, 'b')
    // still being sent to b: it counts
    expect(ledger.recipients('d', 1)).toEqual(['b', 'a'])
    expect(ledger.admit('d', 1, 10, 'c')).toBeUndefined()
    toB!()
    expect(ledger.recipients('d', 2)).toEqual([])
    now += 950
    // a's send is older than the window
    expect(ledger.recipients('d', 1)).toEqual(['b'])
  })

  it('sends a piece again when every peer it just went to is gone', () => {
    const ledger = new ServeLedger(1, 60_000, () => 0, () => true)
    ledger.admit('d', 1, 10, 'a', () => true)?.()
    expect(ledger.admit('d', 1, 10, 'b', () => true)).toBeUndefined()
    // a left: nobody can pass piece 1 on
    expect(ledger.admit('d', 1, 10, 'b', peer => peer !== 'a')).toBeTypeOf('function')
  })

  it('sends a declined requester the piece when it asks again declinedRetryMs later, since the holders it was named did not serve it', () => {
    let now = 0
    const retry = SWARM_DEFAULTS.declinedRetryMs
    expect(retry).toBe(3000)
    const ledger = new ServeLedger(1, SWARM_DEFAULTS.superSeedUnpacedWindowMs, () => now, () => true)
    ledger.admit('d', 1, 10, 'a')?.()
    expect(ledger.admit('d', 1, 10, 'b')).toBeUndefined()
    // asking again sooner (the download's decline backoff is 500 ms) is declined again, and does not restart the wait
    now += retry / 2
    expect(ledger.admit('d', 1, 10, 'b')).toBeUndefined()
    now += retry / 2 - 1
    expect(ledger.admit('d', 1, 10, 'b')).toBeUndefined()
    // another requester's first ask in the meantime is still declined
    expect(ledger.admit('d', 1, 10, 'c')).toBeUndefined()
    now += 1
    expect(ledger.admit('d', 1, 10, 'b')).toBeTypeOf('function')
    // c has waited only a moment; its wait and b's new one are counted apart
    expect(ledger.admit('d', 1, 10, 'c')).toBeUndefined()
    // b's wait was used up: another piece it is declined waits afresh
    ledger.admit('d', 2, 10, 'a')?.()
    expect(ledger.admit('d', 2, 10, 'b')).toBeUndefined()
    now += retry - 1
    expect(ledger.admit('d', 2, 10, 'b')).toBeUndefined()
  })

  it('unpaced with a gauge, declines while the node uploads near its peak rate or has two uploads under way, and sends copies once its uplink has room', () => {
    let now = 0
    let rate = 0
    const gauge = new UplinkGauge(() => rate, () => now)
    let uploads = 0
    const ledger = new ServeLedger(1, SWARM_DEFAULTS.superSeedUnpacedWindowMs, () => now, () => gauge.busy(uploads))
    ledger.admit('d', 1, 10, 'a')?.()
    // nothing uploaded yet and one upload under way: room for a copy
    uploads = 1
    const toB = ledger.admit('d', 1, 10, 'b')
    expect(toB).toBeTypeOf('function')
    toB!()
    // two uploads under way, no rate known yet: busy (each ask below from another requester, none of them waiting out its decline)
    uploads = 2
    expect(ledger.admit('d', 1, 10, 'c')).toBeUndefined()
    // uploading at 10 MB/s, its highest yet: busy with one upload under way
    now += 1000
    rate = 10e6
    uploads = 1
    expect(ledger.admit('d', 1, 10, 'e')).toBeUndefined()
    now += 1000
    rate = 8.5e6
    expect(ledger.admit('d', 1, 10, 'f')).toBeUndefined()
    // well below the peak, but two uploads under way: busy
    now += 1000
    rate = 5e6
    uploads = 2
    expect(ledger.admit('d', 1, 10, 'g')).toBeUndefined()
    // well below the peak with one upload: the uplink has room, a copy goes out
    uploads = 1
    expect(ledger.admit('d', 1, 10, 'h')).toBeTypeOf('function')
  })

  it('never declines when turned off', () => {
    const ledger = new ServeLedger(0, 1000)
    for (let i = 0; i < 10; i++) expect(ledger.admit('d', 0)).toBeTypeOf('function')
  })
})

describe('RateLimiter', () => {
  it('does not wait without a limit', async () => {
    const limiter = new RateLimiter()
    const started = performance.now()
    for (let i = 0; i < 100; i++) await limiter.take(10 * 1024 * 1024)
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('holds a transfer to its rate once the burst is spent', async () => {
    const limiter = new RateLimiter(1024 * 1024)
    const started = performance.now()
    // the burst is 256 KiB; 768 KiB more at 1 MiB/s needs about 0.75 s
    for (let i = 0; i < 4; i++) await limiter.take(256 * 1024)
    expect(performance.now() - started).toBeGreaterThanOrEqual(600)
  })

  it('gives up waiting when its signal aborts', async () => {
    const limiter = new RateLimiter(1024)
    await limiter.take(256 * 1024)
    await expect(limiter.take(1024 * 1024, { signal: AbortSignal.timeout(50) })).rejects.toThrow()
  })
})

describe('UplinkGauge (a node\'s uplink judged from its upload rate)', () => {
  it('counts the uplink busy with two uploads under way, or at the share of the highest rate seen within the span, sampling once a second', () => {
    let now = 0
    let rate = 0
    const gauge = new UplinkGauge(() => rate, () => now, 0.8, 5000)
    // before any upload: busy only with two uploads under way
    expect(gauge.busy(0)).toBe(false)
    expect(gauge.busy(1)).toBe(false)
    expect(gauge.busy(2)).toBe(true)
    expect(gauge.busy(7)).toBe(true)
    now += 1000
    rate = 1e6
    expect(gauge.busy(0)).toBe(true)
    now += 1000
    rate = 12e6
    expect(gauge.busy(0)).toBe(true)
    // within the second the sample was taken in, the peak stays 12 MB/s
    now += 500
    rate = 20e6
    expect(gauge.busy(0)).toBe(true)
    rate = 9.5e6
    expect(gauge.busy(0)).toBe(false)
    rate = 9.7e6
    expect(gauge.busy(0)).toBe(true)
    // the 12 MB/s sample leaves the 5 s span: the peak is what came since
    for (let i = 0; i < 5; i++) {
      now += 1000
      rate = 6e6
      gauge.busy(0)
    }
    expect(gauge.busy(0)).toBe(true)
    rate = 4e6
    expect(gauge.busy(0)).toBe(false)
    expect(gauge.busy(1)).toBe(false)
    expect(gauge.busy(2)).toBe(true)
    // asked again only a minute later: the rates of a minute ago are past the span, however few samples came since
    now += 60_000
    rate = 1e6
    expect(gauge.busy(0)).toBe(true)
  })
})

describe('LocalParentRanker', () => {
  it('puts parents that deliver faster first and seeds after peers of equal speed', () => {
    const ranked = new LocalParentRanker().rank([
      { peer: 'slow', observedBps: 1e6, delivered: 3, failures: 0 },
      { peer: 'fast', observedBps: 5e7, delivered: 3, failures: 0 },
      { peer: 'seed', observedBps: 1e7, delivered: 3, failures: 0, beacon: { uploadBps: 1e7, activeUploads: 1, freeUploadSlots: 3, seed: true } },
      { peer: 'peer', observedBps: 1e7, delivered: 3, failures: 0, beacon: { uploadBps: 1e7, activeUploads: 1, freeUploadSlots: 3, seed: false } },
      { peer: 'flaky', observedBps: 5e7, delivered: 3, failures: 9 }
    ])
    expect(ranked.map(c => c.peer)).toEqual(['fast', 'peer', 'seed', 'flaky', 'slow'])
  })

  it('puts a parent demoted as bad last, however fast it once was', () => {
    const ranked = new LocalParentRanker().rank([
      { peer: 'bad', observedBps: 5e7, delivered: 30, failures: 0, demoted: true },
      { peer: 'unknown', delivered: 0, failures: 0 },
      { peer: 'slow', observedBps: 1e5, delivered: 1, failures: 2 }
    ])
    expect(ranked.map(c => c.peer)).toEqual(['slow', 'unknown', 'bad'])
  })
})
