import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'

/** The daemon answered with an error; message is its one-line reason. */
export class DaemonError extends Error {
  static override name = 'DaemonError'
  override name = 'DaemonError'
}

export interface DaemonRequestInit {
  headers?: Record<string, string>
  signal?: AbortSignal
}

/**
 * A GET to the daemon, resolving with the response once its headers are in.
 * node:http rather than fetch: fetch refuses the ports browsers block (6665-6669,
 * 6000, ...), and a daemon may listen on any port.
 */
export async function daemonGet (url: string, init: DaemonRequestInit = {}): Promise<IncomingMessage> {
  const signal = init.signal ?? AbortSignal.timeout(10_000)
  try {
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(url, { headers: init.headers, signal }, resolve)
      req.once('error', reject)
      req.end()
    })
  } catch (err: any) {
    const why = err.name === 'AbortError' || err.name === 'TimeoutError' ? 'no answer within 10 s' : err.message
    throw new DaemonError(`cannot reach the daemon at ${new URL(url).host}: ${why} (is \`damselfly daemon\` running? see --api)`)
  }
}

/** A response's whole body as text. */
export async function readText (res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8')
  let text = ''
  for await (const chunk of res) text += chunk as string
  return text
}

/** The JSON the daemon answers; its error as a DaemonError. */
export async function getJson (url: string, init: DaemonRequestInit = {}): Promise<unknown> {
  const res = await daemonGet(url, init)
  const text = await readText(res)
  let body: any
  try {
    body = JSON.parse(text)
  } catch {
    throw new DaemonError(`the daemon answered ${res.statusCode} with a body that is not JSON`)
  }
  if ((res.statusCode ?? 500) >= 400) throw new DaemonError(body?.error?.message ?? `the daemon answered ${res.statusCode}`)
  return body
}
