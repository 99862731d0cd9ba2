// HTTP helpers of the bench's parent process: JSON polling of a daemon's
// control API, and a client that downloads a URL and discards the bytes.
import { get } from 'node:http'
import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'

const POLL_MS = 50

export async function getJson (url, signal) {
  const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
  const body = await res.json()
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body)}`)
  return body
}

/** POST `body` as JSON; the JSON answer, or an error naming the status. */
export async function postJson (url, body, signal) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
  const answer = await res.json()
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(answer)}`)
  return answer
}

/** Poll every `intervalMs` until `check()` returns a value other than undefined; bounded by `signal`. */
export async function pollUntil (check, signal, intervalMs = POLL_MS) {
  while (true) {
    const value = await check()
    if (value !== undefined) return value
    await delay(intervalMs, undefined, { signal })
  }
}

/**
 * GET `url` and discard the body, counting bytes. node:http rather than fetch:
 * web streams cost this process CPU that the daemons, on a small machine, need.
 */
export function drain (url, signal) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = get(url, { signal }, res => {
      let bytes = 0
      if (res.statusCode !== 200) {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', t => { text += t })
        res.on('end', () => reject(new Error(`GET ${url}: ${res.statusCode} ${text.trim()}`)))
        return
      }
      let firstByte
      res.on('data', buf => {
        firstByte ??= performance.now()
        bytes += buf.byteLength
      })
      res.on('end', () => resolve({ bytes, headers: res.headers, seconds: (performance.now() - started) / 1000, firstByteSeconds: ((firstByte ?? started) - started) / 1000 }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}
