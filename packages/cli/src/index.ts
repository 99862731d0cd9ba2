/**
 * @packageDocumentation
 *
 * The `damselfly` command line: `daemon`, `get`, `status`, and `spawnDaemon`
 * for programs (tests, examples, benchmarks) that run daemons as child processes.
 */

export { main } from './main.js'
export { daemonStarted, spawnDaemon, stopChild, DAMSELFLY_BIN } from './daemon-process.js'
export type { DaemonProcess, SpawnDaemonOptions } from './daemon-process.js'

// the demo's building blocks, reused by bench/cold-start.mjs
export { generateImage, layerSizes } from './demo/image.js'
export type { DemoImage, ImageBlob, GenerateImageOptions } from './demo/image.js'
export { pullImage, MANIFEST_ACCEPT, CONCURRENT_DOWNLOADS } from './demo/pull.js'
export type { PullRequest, PullResult, PulledBlob } from './demo/pull.js'
// containerd's config.toml and hosts.toml as Damselfly writes them, reused by bench/equal-links.mjs
export { containerdConfig, hostsToml } from './containerd.js'

// how the command line reads sizes and rates, and reports a wrong flag: the bench scripts
// hand the same rate texts to the daemons, so they read them with the daemon's parser;
// the examples read their flags as the commands do
export { parseBytes, parseFlags, parseInteger, UsageError } from './args.js'
export { which } from './doctor/host.js'
