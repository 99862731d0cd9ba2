import { InvalidSwarmKeyError } from './errors.js'

/** First line of a swarm key file: libp2p private networks, version 1 (the format go-libp2p and IPFS use). */
export const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/'

/** Bytes of the key itself. */
export const SWARM_KEY_LENGTH = 32

const HEX = /^[0-9a-fA-F]{64}$/

/**
 * The 32-byte key of a swarm key file:
 * ```
 * /key/swarm/psk/1.0.0/
 * /base16/
 * <64 hex digits>
 * ```
 * `/base64/` is read too, as go-libp2p reads it. Throws InvalidSwarmKeyError
 * saying what is wrong; the message never contains key material.
 */
export function parseSwarmKey (file: Uint8Array | string): Uint8Array {
  const text = typeof file === 'string' ? file : new TextDecoder('utf-8', { fatal: false }).decode(file)
  const lines = text.split(/\r?\n/).map(l => l.trim())
  while (lines.length > 0 && lines.at(-1) === '') lines.pop()
  if (lines[0] !== SWARM_KEY_HEADER) throw new InvalidSwarmKeyError(`a swarm key file starts with the line ${SWARM_KEY_HEADER}`)
  if (lines.length !== 3) throw new InvalidSwarmKeyError('a swarm key file has three lines: the header, the encoding (/base16/) and the key')
  const [, encoding, value] = lines as [string, string, string]
  if (encoding === '/base16/') {
    if (!HEX.test(value)) throw new InvalidSwarmKeyError(`the key of a /base16/ swarm key file is ${SWARM_KEY_LENGTH * 2} hex digits`)
    const key = new Uint8Array(SWARM_KEY_LENGTH)
    for (let i = 0; i < SWARM_KEY_LENGTH; i++) key[i] = parseInt(value.slice(2 * i, 2 * i + 2), 16)
    return key
  }
  if (encoding === '/base64/') {
    let key: Uint8Array
    try {
      key = Uint8Array.from(atob(value), c => c.charCodeAt(0))
    } catch {
      throw new InvalidSwarmKeyError('the key of a /base64/ swarm key file is not base64')
    }
    if (key.byteLength !== SWARM_KEY_LENGTH) throw new InvalidSwarmKeyError(`the key of a swarm key file is ${SWARM_KEY_LENGTH} bytes`)
    return key
  }
  throw new InvalidSwarmKeyError(`unknown swarm key encoding ${JSON.stringify(encoding.slice(0, 40))}: /base16/ or /base64/`)
}

/** The swarm key file for `key`, in the /base16/ form. */
export function formatSwarmKey (key: Uint8Array): string {
  if (key.byteLength !== SWARM_KEY_LENGTH) throw new InvalidSwarmKeyError(`a swarm key is ${SWARM_KEY_LENGTH} bytes`)
  return `${SWARM_KEY_HEADER}\n/base16/\n${[...key].map(b => b.toString(16).padStart(2, '0')).join('')}\n`
}
