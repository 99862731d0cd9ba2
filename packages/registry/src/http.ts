import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'

export interface SendOptions {
  method?: string
  headers?: OutgoingHttpHeaders
  signal?: AbortSignal
  /** CA certificates (PEM) for https; Node's defaults when undefined. */
  ca?: string[]
  /** Deadline for the response headers. */
  timeoutMs: number
}

/**
 * One HTTP(S) request without a body; resolves with the response once its
 * headers arrived. The body is the caller's to read or discard.
 */
export async function send (url: URL, options: SendOptions): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined
  if (request == null) throw new Error(`${url.protocol} URLs are not supported`)
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      signal: options.signal,
      ...(url.protocol === 'https:' && options.ca != null ? { ca: options.ca } : {})
    })
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs)
    req.once('response', res => {
      clearTimeout(timer)
      resolve(res)
    })
    req.once('error', err => {
      clearTimeout(timer)
      reject(err)
    })
    req.end()
  })
}

/** Read a whole (small) body, refusing more than `limit` bytes. */
export async function readBody (res: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy()
    throw new Error(`the body is ${declared} bytes, more than the ${limit} accepted`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res) {
    size += (chunk as Buffer).byteLength
    if (size > limit) {
      res.destroy()
      throw new Error(`the body is more than the ${limit} bytes accepted`)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** Response headers as a flat record, repeated headers joined with ', '. */
export function flatHeaders (res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers)) {
    if (v != null) out[k] = Array.isArray(v) ? v.join(', ') : v
  }
  return out
}
