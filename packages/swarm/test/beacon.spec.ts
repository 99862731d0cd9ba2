import { describe, expect, it } from 'vitest'
import { BEACON_INTERVAL_MS, BEACON_UNCHANGED_MS, BEACONS_HEARD_PER_SECOND, beaconDue, beaconIntervalMs, beaconMemoryMs } from '../src/beacon.js'

/** Beacons a second each peer hears from `n` non-seed peers that all beacon a changing load. */
const heardPerSecond = (n: number): number => n * 1000 / beaconIntervalMs(n - 1, false)

describe('beaconIntervalMs (load beacons spaced out as the swarm grows)', () => {
  it('keeps the short interval in a small swarm', () => {
    expect(beaconIntervalMs(0, false)).toBe(BEACON_INTERVAL_MS)
    expect(beaconIntervalMs(5, false)).toBe(BEACON_INTERVAL_MS)
  })

  it('keeps what each peer hears near BEACONS_HEARD_PER_SECOND however large the swarm', () => {
    for (const n of [30, 100, 1000, 10_000]) {
      expect(heardPerSecond(n)).toBeGreaterThan(BEACONS_HEARD_PER_SECOND * 0.9)
      expect(heardPerSecond(n)).toBeLessThan(BEACONS_HEARD_PER_SECOND * 1.1)
    }
    // with 5 s beacons 10,000 peers would each hear 2,000 a second
    expect(beaconIntervalMs(9999, false)).toBeGreaterThan(1000 * BEACON_INTERVAL_MS / 5)
  })

  it('keeps a seed on the short interval: peers find seeds by their beacons', () => {
    expect(beaconIntervalMs(10_000, true)).toBe(BEACON_INTERVAL_MS)
  })

  it('keeps beacons heard for twice the longest a sender stays silent', () => {
    expect(beaconMemoryMs(BEACON_INTERVAL_MS)).toBe(2 * BEACON_UNCHANGED_MS)
    expect(beaconMemoryMs(500_000)).toBe(1_000_000)
  })
})

describe('beaconDue (whether the beacon timer sends)', () => {
  const load = { uploadBps: 1000, activeUploads: 2, freeUploadSlots: 14 }
  const sent = beaconDue(load, undefined, BEACON_INTERVAL_MS)

  it('sends the first beacon at once', () => {
    expect(sent.due).toBe(true)
  })

  it('sends a changed load once the interval has passed (on the timer tick that ends it), not before', () => {
    const changed = { ...load, activeUploads: 3 }
    expect(beaconDue(changed, { key: sent.key, sinceMs: 2000 }, BEACON_INTERVAL_MS).due).toBe(false)
    expect(beaconDue(changed, { key: sent.key, sinceMs: BEACON_INTERVAL_MS }, BEACON_INTERVAL_MS).due).toBe(true)
    expect(beaconDue(changed, { key: sent.key, sinceMs: 10_000 }, 15_000).due).toBe(false)
    // the timer fires every BEACON_INTERVAL_MS: a tick a few ms short of the interval still sends
    expect(beaconDue(changed, { key: sent.key, sinceMs: 14_990 }, 15_000).due).toBe(true)
  })

  it('repeats an unchanged load only after BEACON_UNCHANGED_MS, or the interval when that is longer', () => {
    expect(beaconDue(load, { key: sent.key, sinceMs: 20_000 }, BEACON_INTERVAL_MS).due).toBe(false)
    expect(beaconDue(load, { key: sent.key, sinceMs: BEACON_UNCHANGED_MS }, BEACON_INTERVAL_MS).due).toBe(true)
    expect(beaconDue(load, { key: sent.key, sinceMs: BEACON_UNCHANGED_MS }, 60_000).due).toBe(false)
    expect(beaconDue(load, { key: sent.key, sinceMs: 60_000 }, 60_000).due).toBe(true)
  })
})
