// One side of the raw libp2p measurement, on the daemon's transport stack
// (packages/swarm/src/network.ts): TCP, the given encrypters, Yamux with
// stream windows from 256 KiB up to 2 MiB. No DHT, gossipsub or identify: only the byte path.
//   raw-libp2p.mjs receive ENCRYPTERS                      reports { ready, addr } then { result, ... }
//   raw-libp2p.mjs send ENCRYPTERS MULTIADDR BYTES CHUNK   sends BYTES on one stream, closes it, reports { sent, cpuSeconds }
// ENCRYPTERS is a comma-separated list in preference order: tls,noise or noise.
import { performance } from 'node:perf_hooks'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { chunks, cpuSecondsSince, report, runChild } from './child.mjs'

const PROTOCOL = '/bench/1.0.0'
/** Same as MAX_STREAM_WINDOW in packages/swarm/src/network.ts. */
const MAX_STREAM_WINDOW = 2 * 1024 * 1024
const ENCRYPTERS = { tls, noise }
const DEADLINE_MS = 120_000

function createNode (encrypters, listen) {
  return createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: encrypters.map(name => {
      const make = ENCRYPTERS[name]
      if (make == null) throw new Error(`unknown encrypter ${name}`)
      return make()
    }),
    streamMuxers: [yamux({
      streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW }
    })],
    connectionManager: { maxConnections: 300 }
  })
}

async function receive (encrypters) {
  const node = await createNode(encrypters, ['/ip4/127.0.0.1/tcp/0'])
  const done = Promise.withResolvers()
  await node.handle(PROTOCOL, async (stream, connection) => {
    try {
      const started = performance.now()
      const cpu = process.cpuUsage()
      let bytes = 0
      for await (const chunk of stream) bytes += chunk.byteLength
      const seconds = (performance.now() - started) / 1000
      await stream.close({ signal: AbortSignal.timeout(10_000) })
      // name what was negotiated, so the table cannot silently measure the wrong stack
      done.resolve({ type: 'result', bytes, seconds, cpuSeconds: cpuSecondsSince(cpu), encryption: connection.encryption, multiplexer: connection.multiplexer })
    } catch (err) {
      done.reject(err)
    }
  }, { maxInboundStreams: 1 })
  await report({ type: 'ready', addr: node.getMultiaddrs()[0].toString() })
  const result = await done.promise
  await report(result)
  await node.stop()
}

async function send (encrypters, addr, total, chunkSize) {
  const node = await createNode(encrypters, [])
  const signal = AbortSignal.timeout(DEADLINE_MS)
  // connect first, so the handshake is not part of the stream being timed
  await node.dial(multiaddr(addr), { signal })
  const stream = await node.dialProtocol(multiaddr(addr), PROTOCOL, { signal })
  const cpu = process.cpuUsage()
  try {
    for (const chunk of chunks(total, chunkSize)) {
      if (!stream.send(chunk)) await stream.onDrain({ signal })
    }
    await stream.close({ signal })
    // close() resolves once our bytes are handed to the muxer, not once they
    // arrived: wait for the receiver to close its end before stopping the node
    for await (const chunk of stream) throw new Error(`the receiver sent ${chunk.byteLength} bytes back`)
  } catch (err) {
    stream.abort(err)
    throw err
  }
  await report({ type: 'sent', cpuSeconds: cpuSecondsSince(cpu) })
  await node.stop()
}

const [role, encrypters, addr, total, chunkSize] = process.argv.slice(2)
const list = (encrypters ?? '').split(',')
runChild(() => role === 'receive' ? receive(list) : send(list, addr, Number(total), Number(chunkSize)))
