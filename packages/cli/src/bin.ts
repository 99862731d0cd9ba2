#!/usr/bin/env -S node --max-semi-space-size=2 --initial-old-space-size=64
// (the V8 option is DAEMON_NODE_OPTIONS in daemon-process.ts; env -S splits it off)
import { main } from './main.js'

main(process.argv.slice(2)).then(code => {
  process.exitCode = code
}, err => {
  process.stderr.write(`damselfly: ${err?.message ?? err}\n`)
  process.exitCode = 1
})
