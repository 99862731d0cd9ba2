// One side of the raw TCP measurement: a plain node:net socket on loopback.
//   raw-tcp.mjs receive                        reports { ready, addr } then { result, bytes, seconds, cpuSeconds }
//   raw-tcp.mjs send HOST:PORT BYTES CHUNK     sends BYTES, closes, reports { sent, cpuSeconds }
import { once } from 'node:events'
import { createServer, connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import { chunks, cpuSecondsSince, report, runChild } from './child.mjs'

async function receive () {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  await report({ type: 'ready', addr: `127.0.0.1:${server.address().port}` })
  const [socket] = await once(server, 'connection')
  // the clock starts at accept, as the libp2p receiver's starts when its stream opens
  const started = performance.now()
  const cpu = process.cpuUsage()
  let bytes = 0
  socket.on('data', buf => { bytes += buf.byteLength })
  await once(socket, 'end')
  const seconds = (performance.now() - started) / 1000
  socket.end()
  server.close()
  await report({ type: 'result', bytes, seconds, cpuSeconds: cpuSecondsSince(cpu) })
}

async function send (addr, total, chunkSize) {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))]
  const socket = connect({ host, port })
  await once(socket, 'connect')
  const cpu = process.cpuUsage()
  for (const chunk of chunks(total, chunkSize)) {
    if (!socket.write(chunk)) await once(socket, 'drain')
  }
  socket.end()
  await once(socket, 'close')
  await report({ type: 'sent', cpuSeconds: cpuSecondsSince(cpu) })
}

const [role, addr, total, chunkSize] = process.argv.slice(2)
runChild(() => role === 'receive' ? receive() : send(addr, Number(total), Number(chunkSize)))
