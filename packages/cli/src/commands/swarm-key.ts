import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { formatSwarmKey, SWARM_KEY_LENGTH } from '@damselfly/protocol'
import { parseFlags, UsageError } from '../args.js'

const SWARM_KEY_HELP = `Usage: damselfly swarm-key [-o FILE]

Makes a new key for a private swarm and writes it to FILE (created with mode 0600,
in a directory made for it when there is none; never overwritten) or to standard output. Give the same file to every daemon of the
swarm with --swarm-key FILE: a peer without it cannot connect to them, nor they to it.
The format is libp2p's (/key/swarm/psk/1.0.0/), which go-libp2p and IPFS read too.

  -o, --output FILE   write the key here instead of standard output
`

export async function swarmKeyCommand (argv: string[]): Promise<number> {
  const { values } = parseFlags('swarm-key', argv, { output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } })
  if (values.help === true) {
    process.stdout.write(SWARM_KEY_HELP)
    return 0
  }
  const key = formatSwarmKey(crypto.getRandomValues(new Uint8Array(SWARM_KEY_LENGTH)))
  if (values.output == null) {
    process.stdout.write(key)
    return 0
  }
  try {
    // /etc/damselfly does not exist on a new machine; only its owner may list a directory made for a key
    await mkdir(dirname(values.output), { recursive: true, mode: 0o700 })
    await writeFile(values.output, key, { mode: 0o600, flag: 'wx' })
  } catch (err: any) {
    throw new UsageError(err.code === 'EEXIST' ? `${values.output} exists: a swarm key is never overwritten` : `cannot write ${values.output}: ${err.message}`)
  }
  process.stderr.write(`wrote a new swarm key to ${values.output}\n`)
  return 0
}
