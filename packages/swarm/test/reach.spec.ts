import { describe, expect, it } from 'vitest'
import { addressKind, canReach, dialsOf } from '../src/transports.js'

const ID = '/p2p/12D3KooWH1MbyCRZE7ui8EZFKD1sD7C1cUeXCUc8LZDCZC9Sm4Zc'
const TCP = '/ip4/10.0.0.5/tcp/4001'
const WS = '/ip4/10.0.0.5/tcp/4002/ws'
const RTC_DIRECT = '/ip4/10.0.0.5/udp/4003/webrtc-direct/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g'
const BROWSER = `/ip4/10.0.0.9/tcp/4002/ws${ID}/p2p-circuit/webrtc`

describe('who can dial whom, judged from outside', () => {
  it('names each address by how it is reached', () => {
    expect([TCP, WS, RTC_DIRECT, BROWSER, '/ip4/1.2.3.4/udp/1/quic-v1', `${WS}${ID}/p2p-circuit`].map(addressKind)).toEqual(['tcp', 'websockets', 'webrtc-direct', 'webrtc', undefined, undefined])
  })

  it('a daemon (it listens on TCP) reaches daemons on TCP or WebSockets', () => {
    const daemon = dialsOf([TCP], 'tcp')
    expect(canReach(daemon, [TCP])).toBe(true)
    expect(canReach(daemon, [WS])).toBe(true)
    expect(canReach(daemon, [RTC_DIRECT])).toBe(false)
  })

  it('a browser on WebRTC-direct reaches WebRTC-direct listeners, not a daemon on TCP alone', () => {
    const browser = dialsOf([], 'webrtc-direct')
    expect(canReach(browser, [TCP])).toBe(false)
    expect(canReach(browser, [TCP, RTC_DIRECT])).toBe(true)
  })

  it('a browser reachable over WebRTC reaches other browsers, and on WebSockets the daemons there', () => {
    const browser = dialsOf([BROWSER], 'websockets')
    expect(canReach(browser, [BROWSER])).toBe(true)
    expect(canReach(browser, [WS])).toBe(true)
    expect(canReach(browser, [TCP])).toBe(false)
  })

  it('a holder whose addresses are not known counts as reachable: the seed declines as before', () => {
    expect(canReach(dialsOf([], 'webrtc-direct'), [])).toBe(true)
  })
})
