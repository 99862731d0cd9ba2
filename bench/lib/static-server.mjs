// The baseline of bench:mirror: plain Node http serving one file, as a web
// server would (fs.createReadStream piped into the response), in its own process.
//   static-server.mjs FILE     reports { ready, url } over IPC, serves until killed
import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { report, runChild } from './child.mjs'

async function serve (file) {
  const size = statSync(file).size
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) })
    const stream = createReadStream(file, { highWaterMark: 1024 * 1024 })
    stream.on('error', err => res.destroy(err))
    res.on('close', () => stream.destroy())
    stream.pipe(res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  await report({ type: 'ready', url: `http://127.0.0.1:${server.address().port}/blob` })
  await new Promise(() => {})
}

runChild(() => serve(process.argv[2]))
