// Parent side of the Damselfly measurement: two `damselfly daemon` processes,
// a seed A that pulls the blob from the origin, and B that fetches it from A.
import { join } from 'node:path'
import { startBenchDaemon } from './daemons.mjs'
import { drain, getJson, pollUntil, postJson } from './http-client.mjs'
import { cpuSecondsOf, makeTempDir, removeTempDir, stopChild, withDeadline } from './processes.mjs'


/** A daemon whose process joins `owned` at once, so a failure while it starts still stops it. */
function startDaemon (dataDir, args, owned, signal, execArgv) {
  return startBenchDaemon(dataDir, args, { signal, execArgv, onSpawn: child => owned.push(child) })
}

/**
 * The daemon's task summary once it is complete; a failed task fails the run.
 * The times come from the daemon's own clock, so polling slowly only spares
 * the daemon CPU (at 50 ms, answering took 5% of the fetching daemon's).
 */
function taskWhenComplete (daemon, digest, signal) {
  return pollUntil(async () => {
    const task = await getJson(`${daemon.api}/api/v1/tasks/${digest}`, signal)
    if (task.state === 'failed') throw new Error(`task failed on ${daemon.peerId}: ${task.error?.where}: ${task.error?.message}`)
    return task.state === 'complete' ? task : undefined
  }, signal, 250)
}

/**
 * One transfer: fresh data dirs for A and B (nothing cached from an earlier
 * run), A made to hold the whole blob, then B's fetch. `pieceSize` undefined
 * leaves the protocol's rule in charge.
 *
 * Without `stream`, B is only told to fetch (POST /api/v1/tasks) and the
 * figure is B's own clock from that request to the last piece verified and
 * stored: the piece transfer between two daemons, as the raw rows measure
 * a transfer between two processes. With `stream`, this process GETs the
 * blob from B and drains it, as a client would: a third process then
 * competes for the machine's cores, and B also reads every byte back.
 */
export async function measureDamselfly ({ blob, origin, pieceSize, encryption, timeoutMs, cpuProfDir, stream = false }) {
  const label = `damselfly${pieceSize != null ? ` (piece size ${pieceSize})` : ''}${encryption != null ? ` over ${encryption}` : ''}${stream ? ' streamed' : ''}`
  // both daemons offer only this encryption; undefined leaves the default order (TLS, then Noise)
  const offered = encryption != null ? ['--encryption', encryption] : []
  const dir = await makeTempDir('damselfly-bench-pair-')
  const owned = []
  try {
    return await withDeadline(timeoutMs, label, async signal => {
      // with --cpu-prof, each daemon writes a V8 CPU profile when it is stopped
      const profile = name => cpuProfDir != null ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${name}-${pieceSize ?? 'rule'}-${Date.now()}.cpuprofile`] : undefined
      const allowed = ['--allow-origin', `${new URL(origin.url).origin}/`]
      const a = await startDaemon(join(dir, 'a'), ['--seed', ...allowed, ...offered, ...(pieceSize != null ? ['--piece-size', String(pieceSize)] : [])], owned, signal, profile('a'))
      const b = await startDaemon(join(dir, 'b'), ['--bootstrap', a.addrs[0], ...allowed, ...offered], owned, signal, profile('b'))
      // wait until B has identified A as a seed, so B's timing holds no bootstrap
      const seedAsSeen = await pollUntil(async () => {
        const status = await getJson(`${b.api}/api/v1/status`, signal)
        return status.peers.find(p => p.peer === a.peerId && p.seed)
      }, signal)

      const path = `/api/v1/blobs/${blob.digest}?url=${encodeURIComponent(origin.url)}`
      const warm = await drain(a.api + path, signal)
      if (warm.bytes !== blob.size) throw new Error(`${label}: A streamed ${warm.bytes} bytes, expected ${blob.size}`)
      const held = await taskWhenComplete(a, blob.digest, signal)
      if (pieceSize != null && held.pieceSize !== pieceSize) throw new Error(`${label}: A cut ${held.pieceSize}-byte pieces`)

      const originRequests = origin.counters.requests
      const cpuBefore = await Promise.all([cpuSecondsOf(a.child.pid), cpuSecondsOf(b.child.pid)])
      const clientCpu = process.cpuUsage()
      const got = stream ? await drain(b.api + path, signal) : undefined
      if (!stream) await postJson(`${b.api}/api/v1/tasks`, { digest: blob.digest, url: origin.url }, signal)
      const task = await taskWhenComplete(b, blob.digest, signal)
      const cpuAfter = await Promise.all([cpuSecondsOf(a.child.pid), cpuSecondsOf(b.child.pid)])
      const { user, system } = process.cpuUsage(clientCpu)
      if (got != null && got.bytes !== blob.size) throw new Error(`${label}: B streamed ${got.bytes} bytes, expected ${blob.size}`)
      // the point is the swarm's speed: bytes that came from the origin would make the figure meaningless
      if (task.bytesFromPeers !== blob.size || task.bytesFromOrigin !== 0 || origin.counters.requests !== originRequests) {
        throw new Error(`${label}: B took ${task.bytesFromPeers} bytes from peers and ${task.bytesFromOrigin} from the origin ` +
          `(origin requests during B's fetch: ${origin.counters.requests - originRequests}); expected all ${blob.size} from peers`)
      }
      // B's own clock: task created (request arrived) to every piece verified and stored
      const taskSeconds = (task.finishedAt - task.startedAt) / 1000
      const seconds = got?.seconds ?? taskSeconds
      return {
        seconds,
        bytesPerSecond: blob.size / seconds,
        streamed: stream,
        // discovery, manifest and the first piece: the fixed cost before bytes flow
        firstByteSeconds: got?.firstByteSeconds,
        taskSeconds,
        // CPU spent while B fetched: A serving, B fetching (and streaming), this process (draining)
        senderCpuSeconds: cpuAfter[0] != null ? cpuAfter[0] - cpuBefore[0] : undefined,
        receiverCpuSeconds: cpuAfter[1] != null ? cpuAfter[1] - cpuBefore[1] : undefined,
        clientCpuSeconds: (user + system) / 1e6,
        taskBytesPerSecond: blob.size / taskSeconds,
        pieceSize: task.pieceSize,
        pieces: task.pieces,
        // what the two daemons negotiated, read from B
        encryption: seedAsSeen.encryption,
        seedSeconds: warm.seconds
      }
    })
  } finally {
    await Promise.all(owned.map(child => stopChild(child)))
    await removeTempDir(dir)
  }
}
