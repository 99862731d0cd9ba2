// An HTTP forwarder with one shared token bucket on what it sends back:
// in front of the registry it is the registry's capped, counted uplink; in
// front of a direct client it is that client's capped downlink.
import { createServer, request, Agent } from 'node:http'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'

/**
 * `rate` bytes per second shared by every caller, in the order they ask,
 * with at most `burst` bytes of idle credit. take() resolves once n bytes may go.
 */
export class TokenBucket {
  constructor (rate, burst = Math.max(64 * 1024, rate / 50)) {
    this.rate = rate
    this.burstMs = burst / rate * 1000
    this.next = 0
  }

  async take (n) {
    if (!(this.rate > 0)) return
    const now = performance.now()
    this.next = Math.max(this.next, now - this.burstMs) + n / this.rate * 1000
    const wait = this.next - now - this.burstMs
    if (wait > 1) await delay(wait)
  }
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']

function strip (headers) {
  const h = { ...headers }
  for (const k of HOP_BY_HOP) delete h[k]
  return h
}

/** Resolves when `res` drained or closed, leaving no listener behind. */
function drained (res) {
  return new Promise(resolve => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/**
 * Listens on 127.0.0.1:0 and forwards every request to `target` (host:port).
 * Response bodies pass through the bucket (rate 0: uncapped) and are counted:
 * in total and per 1-second window since the last reset(). `onRequest(req)`
 * sees each request as it arrives (its method, url and headers).
 */
export async function startCappedProxy ({ target, rate, onRequest }) {
  const [targetHost, targetPort] = target.split(':')
  const bucket = new TokenBucket(rate)
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  let since = performance.now()
  let bytes = 0
  let requests = 0
  let windows = []
  const count = n => {
    bytes += n
    const w = Math.floor((performance.now() - since) / 1000)
    windows[w] = (windows[w] ?? 0) + n
  }
  const server = createServer((req, res) => {
    requests++
    onRequest?.(req)
    const up = request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...strip(req.headers), host: target }, agent }, async upRes => {
      res.writeHead(upRes.statusCode ?? 502, strip(upRes.headers))
      try {
        for await (const chunk of upRes) {
          if (res.destroyed) break
          await bucket.take(chunk.length)
          count(chunk.length)
          if (!res.write(chunk)) await drained(res)
        }
        if (res.destroyed) upRes.destroy()
        else res.end()
      } catch (err) {
        res.destroy(err)
      }
    })
    up.on('error', err => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(String(err.message))
      else res.destroy(err)
    })
    res.on('close', () => { if (!res.writableFinished) up.destroy() })
    req.pipe(up)
  })
  server.keepAliveTimeout = 30_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    host: `127.0.0.1:${server.address().port}`,
    rate,
    /** Starts counting afresh. */
    reset () {
      since = performance.now()
      bytes = 0
      requests = 0
      windows = []
    },
    /** Body bytes sent since reset(), requests, and the busiest 1-second window. */
    stats () {
      let peak = 0
      for (const w of windows) if (w != null && w > peak) peak = w
      return { bytes, requests, peakBytesPerSecond: peak }
    },
    async close () {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
      agent.destroy()
    }
  }
}
