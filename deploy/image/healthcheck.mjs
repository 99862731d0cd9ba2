// The image's health check: GET /healthz on the daemon's control API, found
// where the daemon finds it (DAMSELFLY_API, else `api` in the config file,
// else the default), so moving the API does not make a healthy node look dead.
// Exit 0 when it answers 200 within 4 s.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

function configuredApi () {
  if (process.env.DAMSELFLY_API) return process.env.DAMSELFLY_API
  const file = process.env.DAMSELFLY_CONFIG
  if (file) {
    const config = parse(readFileSync(file, 'utf8'))
    if (typeof config?.api === 'string') return config.api
  }
  return '127.0.0.1:65002'
}

// a wildcard address listens on loopback too
const api = configuredApi().replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:')
try {
  const res = await fetch(`http://${api}/healthz`, { signal: AbortSignal.timeout(4000) })
  if (res.status !== 200) throw new Error(`status ${res.status}`)
} catch (err) {
  process.stderr.write(`damselfly health check: http://${api}/healthz: ${err.cause?.message ?? err.message}\n`)
  process.exit(1)
}
