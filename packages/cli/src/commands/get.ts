import { createHash } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isDigest, parseOriginUrl } from '@damselfly/protocol'
import { apiBase, apiHeaders, formatBytes, parseBytes, parseFlags, UsageError } from '../args.js'
import { daemonGet, DaemonError, getJson, readText } from '../http.js'

const GET_HELP = `Usage: damselfly get URL --digest sha256:HEX -o FILE [--api HOST:PORT]

Fetches a blob through the local daemon's swarm and writes it to FILE only
when every byte matches the digest.

  --digest sha256:HEX   the blob's digest (required)
  -o, --output FILE     where to write it (required)
  --size BYTES          the blob's size, when known
  --api HOST:PORT       the daemon's control API (default 127.0.0.1:65002, or $DAMSELFLY_API)
  --api-token-file FILE the API's bearer token, when it wants one (or $DAMSELFLY_API_TOKEN_FILE)
  --quiet               no progress bar
`

interface Progress {
  received: number
  size?: number
  fromPeers: number
  fromOrigin: number
}

function renderBar (p: Progress, startedAt: number): string {
  const elapsed = Math.max(0.001, (performance.now() - startedAt) / 1000)
  const frac = p.size != null && p.size > 0 ? p.received / p.size : 0
  const width = 24
  const fill = Math.round(frac * width)
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}% ` +
    `${formatBytes(p.received)}${p.size != null ? ` / ${formatBytes(p.size)}` : ''}  ${formatBytes(p.received / elapsed)}/s  ` +
    `peers ${formatBytes(p.fromPeers)}  origin ${formatBytes(p.fromOrigin)}`
}

/** The task's summary once it stopped downloading and verifying, or as it is after a few seconds. */
async function settledTask (url: string, headers: Record<string, string>): Promise<{ state?: string, error?: { message?: string } } | undefined> {
  const deadline = Date.now() + 5000
  while (true) {
    const t: any = await getJson(url, { headers }).catch(() => undefined)
    if (t?.error != null || (t?.state !== 'downloading' && t?.state !== 'verifying') || Date.now() > deadline) return t
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

export async function getCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('get', argv, {
    digest: { type: 'string' },
    output: { type: 'string', short: 'o' },
    size: { type: 'string' },
    api: { type: 'string' },
    'api-token-file': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' }
  }, true)
  if (values.help === true) {
    process.stdout.write(GET_HELP)
    return 0
  }
  if (positionals.length !== 1) throw new UsageError('get takes exactly one URL')
  const url = positionals[0]!
  try {
    parseOriginUrl(url)
  } catch (err: any) {
    throw new UsageError(err.message)
  }
  if (values.digest == null) throw new UsageError('--digest is required')
  if (!isDigest(values.digest)) throw new UsageError(`--digest ${JSON.stringify(values.digest.slice(0, 80))} is not sha256:<64 lowercase hex digits>`)
  if (values.output == null) throw new UsageError('-o FILE is required')
  const digest = values.digest
  const output = values.output
  const size = values.size != null ? parseBytes(values.size, '--size') : undefined
  const base = apiBase(values.api)
  const headers = await apiHeaders(values['api-token-file'])

  const query = new URLSearchParams({ url })
  if (size != null) query.set('size', String(size))
  const tmp = join(dirname(output), `.${basename(output)}.damselfly-${process.pid}.partial`)
  const showBar = values.quiet !== true && process.stderr.isTTY === true
  const progress: Progress = { received: 0, size, fromPeers: 0, fromOrigin: 0 }
  const startedAt = performance.now()
  let poller: ReturnType<typeof setInterval> | undefined
  const file = await open(tmp, 'wx').catch((err: any) => {
    throw new UsageError(`cannot write next to ${output}: ${err.message}`)
  })
  let ok = false
  try {
    // no deadline: the daemon answers once the first verified bytes are in, however long the swarm takes
    const res = await daemonGet(`${base}/api/v1/blobs/${digest}?${query}`, { headers, signal: new AbortController().signal })
    if ((res.statusCode ?? 500) >= 400) {
      const body: any = await readText(res).then(text => JSON.parse(text), () => ({}))
      throw new DaemonError(body?.error?.message ?? `the daemon answered ${res.statusCode}`)
    }
    const length = Number(res.headers['content-length'])
    if (Number.isSafeInteger(length)) progress.size = length
    if (showBar) {
      poller = setInterval(() => {
        getJson(`${base}/api/v1/tasks/${digest}`, { headers }).then((t: any) => {
          progress.fromPeers = t.bytesFromPeers
          progress.fromOrigin = t.bytesFromOrigin
        }).catch(() => {})
        process.stderr.write(`\r${renderBar(progress, startedAt)}\x1b[K`)
      }, 250)
    }
    const hash = createHash('sha256')
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        hash.update(chunk)
        await file.write(chunk)
        progress.received += chunk.byteLength
      }
    } catch {
      // the daemon broke the stream: ask it why
      const t = await settledTask(`${base}/api/v1/tasks/${digest}`, headers)
      throw new DaemonError(t?.error?.message ?? `the transfer broke off after ${progress.received} bytes`)
    }
    const actual = `sha256:${hash.digest('hex')}`
    if (progress.size != null && progress.received !== progress.size) {
      throw new DaemonError(`received ${progress.received} bytes, expected ${progress.size}`)
    }
    if (actual !== digest) throw new DaemonError(`digest mismatch: received content hashes to ${actual}, not ${digest}`)
    await file.sync()
    await file.close()
    await rename(tmp, output)
    ok = true
  } finally {
    if (poller != null) clearInterval(poller)
    if (!ok) {
      await file.close().catch(() => {})
      await rm(tmp, { force: true })
    }
  }
  if (showBar) {
    const t: any = await getJson(`${base}/api/v1/tasks/${digest}`, { headers }).catch(() => undefined)
    if (t != null) {
      progress.fromPeers = t.bytesFromPeers
      progress.fromOrigin = t.bytesFromOrigin
    }
    process.stderr.write(`\r${renderBar(progress, startedAt)}\x1b[K\n`)
  }
  return 0
}
