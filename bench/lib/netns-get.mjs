// Run inside a network namespace (ip netns exec NS node netns-get.mjs URL
// [WAIT_MS]): GET URL on that namespace's network and print one JSON line,
// { status, body } or { error }. Until WAIT_MS has passed it retries, every
// 200 ms, what did not answer 2xx: a service that is still starting.
import { setTimeout as delay } from 'node:timers/promises'

const [url, waitText] = process.argv.slice(2)
const deadline = Date.now() + Number(waitText ?? 0)
let last
while (true) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
    last = { status: res.status, body: await res.text() }
    if (res.ok) break
  } catch (err) {
    last = { error: err.cause?.code ?? err.message }
  }
  if (Date.now() >= deadline) break
  await delay(200)
}
process.stdout.write(JSON.stringify(last) + '\n')
