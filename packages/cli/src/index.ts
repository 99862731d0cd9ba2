/**
 * @packageDocumentation
 *
 * The `damselfly` command line: `daemon`, `get`, `status`, and `spawnDaemon`
 * for programs (tests, examples, benchmarks) that run daemons as child processes.
 */

export { main } from './main.js'
export { spawnDaemon, DAMSELFLY_BIN } from './daemon-process.js'
export type { DaemonProcess, SpawnDaemonOptions } from './daemon-process.js'
