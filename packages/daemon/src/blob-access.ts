import { randomInt } from 'node:crypto'
import type { PullAccess, RegistryClient } from '@damselfly/registry'
import type { DownloadTask } from '@damselfly/swarm'
import type { IncomingMessage } from 'node:http'

/** A client of the control API may not have this blob from that URL: the status and why. */
export class BlobAccessError extends Error {
  static override name = 'BlobAccessError'
  override name = 'BlobAccessError'
  readonly status: number
  readonly headers: Record<string, string>

  constructor (message: string, status: number, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.headers = headers
  }
}

export interface BlobAccessInit {
  upstream: RegistryClient
  access: PullAccess
  /** How long an origin's yes is kept. @default 300000 (5 minutes) */
  ttlMs?: number
}

/** Bytes compared with the origin's, and where in the blob they may start: within its first MiB, so an origin that ignores Range costs little. */
const PROBE_BYTES = 4096
const PROBE_WINDOW = 1024 * 1024

/**
 * Whether a client of the control API may have a blob under the URL it
 * names: the same rule as the mirror's. A registry's blob URL is checked
 * with the registry (PullAccess, with this node's own credentials: the API
 * is its operators'); a plain URL has no digest to ask about, so a few
 * bytes at a random place of the blob are asked of it with Range and
 * compared with the verified ones. Either way one round trip per URL and
 * digest per `ttlMs`, and a blob held for a private image cannot be read
 * out by naming some public URL.
 */
export class BlobAccess {
  readonly #upstream: RegistryClient
  readonly #access: PullAccess
  readonly #ttlMs: number
  readonly #probed = new Map<string, number>()

  constructor (init: BlobAccessInit) {
    this.#upstream = init.upstream
    this.#access = init.access
    this.#ttlMs = init.ttlMs ?? 300_000
  }

  /**
   * The download of `digest` for a client that named `url`, once the blob
   * may go to it: a registry is asked before anything is fetched, a plain
   * origin once the first bytes are verified. Throws BlobAccessError, or the
   * task's own error.
   */
  async open (url: URL, digest: string, start: () => DownloadTask, signal: AbortSignal): Promise<DownloadTask> {
    const blob = this.#upstream.policy.blobOf(url)
    if (blob != null) {
      try {
        await this.#access.check({ ...blob, digest, kind: 'blob', signal })
      } catch (err: any) {
        if (err.name !== 'OciError') throw err
        throw new BlobAccessError(err.message, err.status, err.headers)
      }
      return start()
    }
    const task = start()
    const key = `${digest} ${url.href}`
    if ((this.#probed.get(key) ?? 0) > Date.now()) return task
    await this.#probe(url, task, signal)
    this.#probed.delete(key)
    this.#probed.set(key, Date.now() + this.#ttlMs)
    if (this.#probed.size > 10_000) this.#probed.delete(this.#probed.keys().next().value!)
    return task
  }

  async #probe (url: URL, task: DownloadTask, signal: AbortSignal): Promise<void> {
    const { size } = await task.whenLayoutKnown({ signal })
    if (size === 0) return
    const length = Math.min(PROBE_BYTES, size)
    const start = randomInt(0, Math.min(size, PROBE_WINDOW) - length + 1)
    const held: Uint8Array[] = []
    for await (const chunk of task.read({ start, end: start + length, signal })) held.push(chunk)
    const want = Buffer.concat(held)
    const res = await this.#upstream.request(url, { headers: { range: `bytes=${start}-${start + length - 1}`, 'user-agent': 'damselfly' }, signal })
    let got: Buffer
    try {
      const status = res.statusCode ?? 0
      if (status === 206 && new RegExp(`^bytes ${start}-`).test(String(res.headers['content-range'] ?? ''))) {
        got = await readUpTo(res, length)
      } else if (status === 200) {
        // an origin that ignores Range: the bytes up to the probe, and no more
        got = (await readUpTo(res, start + length)).subarray(start)
      } else {
        res.resume()
        throw new BlobAccessError(`${url.origin}${url.pathname} answered ${status}: it does not vouch for ${task.digest}`, 403)
      }
    } finally {
      res.destroy()
    }
    if (!got.equals(want)) throw new BlobAccessError(`${url.origin}${url.pathname} does not serve ${task.digest}`, 403)
  }
}

/** The first `limit` bytes of a body (fewer if it is shorter); the rest is not read. */
async function readUpTo (res: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const chunk of res) {
    chunks.push(chunk as Buffer)
    n += (chunk as Buffer).byteLength
    if (n >= limit) break
  }
  return Buffer.concat(chunks).subarray(0, limit)
}
