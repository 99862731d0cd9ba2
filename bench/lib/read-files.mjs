// A container's start-up reads, as a process of its own (bench:lazy): once a
// line comes on stdin (the container starts), reads the files the JSON file
// argv[2] lists ({ files: [{ path, bytes, sha256 }], readers }), `readers` at
// a time, below argv[3] (a mountpoint), and checks each against its size and
// sha256. Exits 0 when every file read right, 1 with the reason otherwise.
// It says "ready" on stdout once loaded: started before the clock, Node's
// start-up is not counted.
//
// One process per node, as each node's container is: file reads block a
// thread of libuv's pool (4 threads) while a lazy-loading mount fetches the
// bytes, so readers for several nodes in one process would wait on each
// other, not on the mount.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

const { files, readers } = JSON.parse(await readFile(process.argv[2], 'utf8'))
const root = process.argv[3]
const go = new Promise((resolve, reject) => {
  process.stdin.once('data', resolve)
  process.stdin.once('end', () => reject(new Error('stdin closed before the start')))
})
process.stdout.write('ready\n')
await go
process.stdin.destroy()
let next = 0
async function reader () {
  while (next < files.length) {
    const f = files[next++]
    const bytes = await readFile(join(root, f.path))
    const sum = createHash('sha256').update(bytes).digest('hex')
    if (bytes.byteLength !== f.bytes || sum !== f.sha256) throw new Error(`${f.path} read through the mount is not the file written (${bytes.byteLength} bytes)`)
  }
}
try {
  await Promise.all(Array.from({ length: readers }, reader))
} catch (err) {
  process.stderr.write(`${err.message}\n`)
  process.exitCode = 1
}
