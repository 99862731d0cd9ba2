#!/usr/bin/env -S node --max-semi-space-size=2 --initial-old-space-size=64
// The `damselfly` command as npm links it: committed, so that it exists when
// `npm ci` links bins, before the build. Plain JavaScript that old Node
// versions parse, so that they get one line instead of a stack trace; the
// CLI itself (dist/bin.js) is loaded only after these checks.
// (the V8 options are DAEMON_NODE_OPTIONS in src/daemon-process.ts; env -S splits them off)
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const MIN_NODE = 22
const major = Number(process.versions.node.split('.')[0])
const entry = new URL('../dist/bin.js', import.meta.url)

if (!(major >= MIN_NODE)) {
  process.stderr.write('damselfly: needs Node.js ' + MIN_NODE + ' or newer, this is ' + process.version + ' (' + process.execPath + ')\n')
  process.exit(1)
} else if (!existsSync(entry)) {
  process.stderr.write('damselfly: not built yet: ' + fileURLToPath(entry) + ' is missing; run `npm run build` in the repository\n')
  process.exit(1)
} else {
  await import(entry.href)
}
