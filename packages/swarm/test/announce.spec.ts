import { describe, expect, it } from 'vitest'
import { ANNOUNCED_HOLDERS_ENOUGH, HeardHolders } from '../src/announce.js'

const peers = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `peer${from + i}`)

describe('HeardHolders', () => {
  it('announces the first piece until enough other holders have, then stays quiet', () => {
    const heard = new HeardHolders()
    for (const p of peers(ANNOUNCED_HOLDERS_ENOUGH - 1)) heard.heard(p, false)
    expect(heard.announces(false, false)).toBe(true)
    heard.heard(`peer${ANNOUNCED_HOLDERS_ENOUGH - 1}`, false)
    expect(heard.announces(false, false)).toBe(false)
  })

  it('counts each holder once, however often it is heard', () => {
    const heard = new HeardHolders()
    for (let i = 0; i < 3 * ANNOUNCED_HOLDERS_ENOUGH; i++) heard.heard('peer0', i % 2 === 0)
    expect(heard.announces(false, false)).toBe(true)
    expect(heard.announces(true, false)).toBe(true)
  })

  it('announces the whole blob until enough others have said they hold all of it', () => {
    const heard = new HeardHolders()
    // many holders of pieces, few of the whole blob: the completion is still news
    for (const p of peers(2 * ANNOUNCED_HOLDERS_ENOUGH)) heard.heard(p, false)
    for (const p of peers(ANNOUNCED_HOLDERS_ENOUGH - 1)) heard.heard(p, true)
    expect(heard.announces(false, false)).toBe(false)
    expect(heard.announces(true, false)).toBe(true)
    heard.heard('peer99', true)
    expect(heard.announces(true, false)).toBe(false)
  })

  it('speaks again when holders withdraw and fewer than enough are left', () => {
    const heard = new HeardHolders()
    for (const p of peers(ANNOUNCED_HOLDERS_ENOUGH)) heard.heard(p, true)
    expect(heard.announces(false, false)).toBe(false)
    expect(heard.announces(true, false)).toBe(false)
    heard.withdrawn('peer0')
    expect(heard.announces(false, false)).toBe(true)
    expect(heard.announces(true, false)).toBe(true)
  })

  it('always lets a seed announce', () => {
    const heard = new HeardHolders()
    for (const p of peers(10 * ANNOUNCED_HOLDERS_ENOUGH)) heard.heard(p, true)
    expect(heard.announces(false, true)).toBe(true)
    expect(heard.announces(true, true)).toBe(true)
  })
})
