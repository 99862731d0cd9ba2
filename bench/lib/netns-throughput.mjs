// A TCP throughput probe for shaped links, run inside network namespaces:
//   node netns-throughput.mjs recv ADDR PORT CONNECTIONS   prints "ready", then one JSON line: per connection
//                                                         { bytes, first, last, bins }: the times of its first and
//                                                         last byte in ms since the epoch (comparable across
//                                                         processes), and its bytes by BIN_MS bin of that clock
//   node netns-throughput.mjs send ADDR PORT SECONDS       sends as fast as TCP takes for SECONDS;
//                                                         prints { connectMs } (one round trip, the handshake)
//   node netns-throughput.mjs echo ADDR PORT SECONDS       prints "ready", echoes every byte back for SECONDS
//   node netns-throughput.mjs ping ADDR PORT COUNT         COUNT one-byte round trips, 50 ms apart: { rttMs }
// Each gives up after SECONDS + 20 s (or 30 s), whatever happens.
import { connect, createServer } from 'node:net'

const BIN_MS = 100

const [mode, host, portText, arg] = process.argv.slice(2)
const port = Number(portText)

if (mode === 'recv') {
  const expected = Number(arg)
  const results = []
  const server = createServer(socket => {
    let bytes = 0
    let first
    let last
    const bins = {}
    socket.on('data', data => {
      const now = performance.timeOrigin + performance.now()
      first ??= now
      last = now
      bytes += data.length
      const bin = Math.floor(now / BIN_MS)
      bins[bin] = (bins[bin] ?? 0) + data.length
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      results.push({ bytes, first, last, binMs: BIN_MS, bins })
      if (results.length === expected) {
        process.stdout.write(JSON.stringify(results) + '\n')
        process.exit(0)
      }
    })
  })
  server.listen(port, host, () => process.stdout.write('ready\n'))
  setTimeout(() => process.exit(1), 30_000).unref()
} else if (mode === 'send') {
  const seconds = Number(arg)
  const chunk = Buffer.alloc(256 * 1024, 0x5a)
  const started = performance.now()
  const socket = connect(port, host)
  socket.on('error', err => {
    process.stderr.write(`send to ${host}:${port}: ${err.message}\n`)
    process.exit(1)
  })
  socket.on('connect', () => {
    const connectMs = performance.now() - started
    const end = performance.now() + seconds * 1000
    const pump = () => {
      while (performance.now() < end) {
        if (!socket.write(chunk)) {
          socket.once('drain', pump)
          return
        }
      }
      socket.end(() => process.stdout.write(JSON.stringify({ connectMs }) + '\n'))
    }
    pump()
  })
  setTimeout(() => process.exit(1), (seconds + 20) * 1000).unref()
} else if (mode === 'echo') {
  // answers every byte with itself, for `ping`; gone after SECONDS
  const server = createServer(socket => {
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.pipe(socket)
  })
  server.listen(port, host, () => process.stdout.write('ready\n'))
  setTimeout(() => process.exit(0), Number(arg) * 1000).unref()
} else if (mode === 'ping') {
  // COUNT round trips of one byte, 50 ms apart: { rttMs: [...] }
  const count = Number(arg)
  const rttMs = []
  const socket = connect(port, host)
  socket.setNoDelay(true)
  socket.on('error', err => {
    process.stderr.write(`ping ${host}:${port}: ${err.message}\n`)
    process.exit(1)
  })
  let sentAt = 0
  const next = () => {
    if (rttMs.length === count) {
      process.stdout.write(JSON.stringify({ rttMs }) + '\n')
      process.exit(0)
    }
    sentAt = performance.now()
    socket.write('x')
  }
  socket.on('data', () => {
    rttMs.push(performance.now() - sentAt)
    setTimeout(next, 50)
  })
  socket.on('connect', next)
  setTimeout(() => process.exit(1), 30_000).unref()
} else {
  process.stderr.write('usage: netns-throughput.mjs recv ADDR PORT CONNECTIONS | send ADDR PORT SECONDS | echo ADDR PORT SECONDS | ping ADDR PORT COUNT\n')
  process.exit(2)
}
