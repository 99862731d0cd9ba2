import { disable, enable } from '@libp2p/logger'
import { afterEach, describe, expect, it } from 'vitest'
import { libp2pLogger } from '../src/libp2p-logger.js'

describe('libp2pLogger', () => {
  afterEach(() => { disable() })

  it('gives a scope DEBUG does not name a logger that does nothing, and its scopes too', () => {
    disable()
    const log = libp2pLogger().forComponent('libp2p:yamux')
    expect(log.enabled).toBe(false)
    // what the change saves: no debug instance is made (libp2p's has a namespace)
    expect((log as unknown as { namespace?: string }).namespace).toBeUndefined()
    expect((libp2pLogger().forComponent('libp2p:yamux').newScope('stream') as unknown as { namespace?: string }).namespace).toBeUndefined()
    expect(() => { log('a %s', 'message'); log.error('an error'); log.trace('a trace') }).not.toThrow()
    expect(log.newScope('stream').enabled).toBe(false)
  })

  it('gives a scope DEBUG names libp2p\'s logger, even below one it does not name', () => {
    enable('libp2p:yamux:stream*')
    const log = libp2pLogger().forComponent('libp2p:yamux')
    expect(log.enabled).toBe(false)
    expect(log.newScope('stream').enabled).toBe(true)
    expect((log.newScope('stream') as unknown as { namespace?: string }).namespace).toBe('libp2p:yamux:stream')
    enable('libp2p:tcp')
    expect(libp2pLogger().forComponent('libp2p:tcp').enabled).toBe(true)
  })
})
