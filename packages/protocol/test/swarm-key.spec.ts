import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { describe, expect, it } from 'vitest'
import { formatSwarmKey, parseSwarmKey } from '../src/index.js'

const HEX = '0123456789abcdef'.repeat(4)

describe('swarm key files', () => {
  it('read the /base16/ form go-libp2p and IPFS write, and write it back', () => {
    const key = parseSwarmKey(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`)
    expect(toString(key, 'base16')).toBe(HEX)
    expect(formatSwarmKey(key)).toBe(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`)
    expect(parseSwarmKey(new TextEncoder().encode(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${HEX.toUpperCase()}`))).toEqual(key)
  })

  it('read the /base64/ form', () => {
    const bytes = fromString(HEX, 'base16')
    expect(parseSwarmKey(`/key/swarm/psk/1.0.0/\n/base64/\n${toString(bytes, 'base64pad')}\n`)).toEqual(new Uint8Array(bytes))
  })

  it('refuse anything else, without repeating the key', () => {
    const cases = [
      '',
      `${HEX}\n`,
      `/key/swarm/psk/2.0.0/\n/base16/\n${HEX}\n`,
      `/key/swarm/psk/1.0.0/\n/bin/\n${HEX}\n`,
      `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(2)}\n`,
      `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}zz\n`,
      `/key/swarm/psk/1.0.0/\n/base64/\nAAAA\n`,
      `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\nextra\n`
    ]
    for (const c of cases) {
      let message = ''
      try {
        parseSwarmKey(c)
      } catch (err: any) {
        expect(err.name).toBe('InvalidSwarmKeyError')
        message = err.message
      }
      expect(message, JSON.stringify(c)).not.toBe('')
      expect(message).not.toContain(HEX.slice(0, 16))
    }
  })
})
