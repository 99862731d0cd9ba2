/**
 * @packageDocumentation
 *
 * The `damselfly` command line: `daemon`, `get`, `status`, and `spawnDaemon`
 * for programs (tests, examples, benchmarks) that run daemons as child processes.
 */

export { main } from './main.js'
export { spawnDaemon, stopChild, DAMSELFLY_BIN } from './daemon-process.js'
export type { DaemonProcess, SpawnDaemonOptions } from './daemon-process.js'

// the demo's building blocks, reused by bench/cold-start.mjs
export { generateImage, layerSizes } from './demo/image.js'
export type { DemoImage, ImageBlob, GenerateImageOptions } from './demo/image.js'
export { pullImage, MANIFEST_ACCEPT, CONCURRENT_DOWNLOADS } from './demo/pull.js'
export type { PullRequest, PullResult, PulledBlob } from './demo/pull.js'
