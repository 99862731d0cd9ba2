import type { Swarm } from '@damselfly/swarm'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

export type LogLevel = 'info' | 'warn' | 'error'

/**
 * One thing an operator wants to see without a debug logger: a request
 * served, a download done or failed, a peer banned. `msg` says what
 * happened; the other fields are its facts, for a structured log.
 */
export interface OperatorLogEntry {
  level: LogLevel
  msg: string
  [field: string]: string | number | boolean | undefined
}

export type OperatorLog = (entry: OperatorLogEntry) => void

/** Longest request path a log line repeats. */
const MAX_PATH = 300

/**
 * Logs each request `server` answers that `wanted` selects, when its response
 * ends: method, path, status, bytes, milliseconds, and where the bytes came
 * from. A response cut off before its end is an error, whatever its status.
 */
export function logRequests (server: Server, name: string, log: OperatorLog, options: { wanted?(req: IncomingMessage): boolean, query?: boolean } = {}): void {
  const wanted = options.wanted ?? (() => true)
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!wanted(req)) return
    const started = performance.now()
    res.once('close', () => {
      const status = res.statusCode
      const complete = res.writableFinished
      const length = Number(res.getHeader('content-length'))
      log({
        level: !complete || status >= 500 ? 'error' : 'info',
        msg: complete ? 'request' : 'request cut off',
        server: name,
        method: req.method,
        // a query may carry a token or a signed URL: only where it says which registry
        path: (options.query === true ? req.url ?? '' : (req.url ?? '').split('?')[0]!).slice(0, MAX_PATH),
        status,
        bytes: complete && Number.isSafeInteger(length) && req.method !== 'HEAD' ? length : undefined,
        ms: Math.round(performance.now() - started),
        source: headerText(res.getHeader('x-damselfly-source')),
        error: headerText(res.getHeader('x-damselfly-error-type'))
      })
    })
  })
}

function headerText (value: ReturnType<ServerResponse['getHeader']>): string | undefined {
  return value == null ? undefined : String(value)
}

/** Logs every download's end (done, or failed with why) and every ban. */
export function logDownloads (swarm: Swarm, log: OperatorLog): () => void {
  return swarm.onEvent(event => {
    if (event.type === 'ban') {
      log({ level: 'warn', msg: 'peer banned', peer: event.peer, reason: event.reason, digest: event.digest })
      return
    }
    if (event.type !== 'done') return
    const t = event.task
    const ms = t.finishedAt != null ? t.finishedAt - t.startedAt : undefined
    if (t.error != null) {
      log({ level: 'error', msg: 'download failed', digest: t.digest, url: withoutQuery(t.url), where: t.error.where, error: t.error.message, ms })
    } else {
      log({ level: 'info', msg: 'download done', digest: t.digest, url: withoutQuery(t.url), size: t.size, fromPeers: t.bytesFromPeers, fromOrigin: t.bytesFromOrigin, parents: Object.keys(t.parents).length, ms })
    }
  })
}

function withoutQuery (url: string | undefined): string | undefined {
  return url?.split('?')[0]
}
