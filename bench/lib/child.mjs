// The parent side of a bench child: report over IPC, die with the parent.
import { randomBytes } from 'node:crypto'

/** CPU seconds (user + system) this process spent since `since` (from process.cpuUsage()). */
export function cpuSecondsSince (since) {
  const { user, system } = process.cpuUsage(since)
  return (user + system) / 1e6
}

/** Send one message to the parent and wait until it has been handed to the channel. */
export function report (msg) {
  return new Promise(resolve => process.send(msg, () => resolve()))
}

/**
 * Run a child's `main`; any failure is reported to the parent as one line
 * and ends the process, and a vanished parent ends it too (no orphans).
 */
export function runChild (main) {
  process.on('disconnect', () => process.exit(1))
  main().then(() => process.exit(0), async err => {
    await report({ type: 'error', message: `${process.argv[2] ?? 'child'} (pid ${process.pid}): ${err?.stack ?? err}` }).catch(() => {})
    process.exit(1)
  })
}

/**
 * Chunks summing to exactly `total` bytes. One random buffer is reused: the
 * receiver only counts bytes, and neither TCP nor the encrypters care what they carry.
 */
export function * chunks (total, chunkSize) {
  const chunk = randomBytes(chunkSize)
  for (let sent = 0; sent < total; sent += chunkSize) {
    yield total - sent >= chunkSize ? chunk : chunk.subarray(0, total - sent)
  }
}
