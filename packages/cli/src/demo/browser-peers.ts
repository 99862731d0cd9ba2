import { access } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * What a browser peer started by the dashboard page says of itself: it
 * joined the swarm through the daemons' WebSockets addresses and fetches the
 * image's largest layer. The page posts it to the demo, which relays it to
 * every page and counts it in the summary.
 */
export interface BrowserPeerReport {
  peerId: string
  state: 'fetching' | 'verified' | 'failed'
  /** Verified bytes held of the blob. */
  bytes: number
  total: number
  /** Verified bytes from each parent, by peer id: daemons and other browser peers. */
  parents: Record<string, number>
  /** Transports of the peer's connections: websockets, webrtc, ... */
  transports: string[]
  seconds?: number
  /** sha256 of the bytes fetch() handed the page, hashed by the page itself. */
  sha256?: string
  error?: string
}

/** Browser peers the demo keeps reports of: a page that makes more is refused. */
export const MAX_BROWSER_PEERS = 64
/** The largest report body read. */
export const MAX_REPORT_BYTES = 16 * 1024

const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{40,64}$/
const STATES = new Set(['fetching', 'verified', 'failed'])
const TRANSPORT = /^[a-z][a-z-]{0,31}$/
const SHA256 = /^[0-9a-f]{64}$/
const MAX_PARENTS = 64
const MAX_ERROR = 500

/** A report as the page sent it (parsed JSON), checked field by field; throws an Error naming the first bad field. */
export function parseBrowserReport (body: unknown): BrowserPeerReport {
  if (typeof body !== 'object' || body == null || Array.isArray(body)) throw new Error('a report is a JSON object')
  const b = body as Record<string, unknown>
  if (typeof b.peerId !== 'string' || !PEER_ID.test(b.peerId)) throw new Error('peerId: not a peer id')
  if (typeof b.state !== 'string' || !STATES.has(b.state)) throw new Error(`state: one of ${[...STATES].join(', ')}`)
  const total = count(b.total, 'total')
  const bytes = count(b.bytes, 'bytes')
  if (bytes > total) throw new Error('bytes: more than total')
  if (typeof b.parents !== 'object' || b.parents == null || Array.isArray(b.parents)) throw new Error('parents: an object of peer id to bytes')
  const entries = Object.entries(b.parents)
  if (entries.length > MAX_PARENTS) throw new Error(`parents: more than ${MAX_PARENTS}`)
  const parents: Record<string, number> = {}
  for (const [peer, n] of entries) {
    if (!PEER_ID.test(peer)) throw new Error('parents: a key is not a peer id')
    parents[peer] = count(n, `parents.${peer}`)
  }
  if (!Array.isArray(b.transports) || b.transports.length > 8 || !b.transports.every(t => typeof t === 'string' && TRANSPORT.test(t))) throw new Error('transports: up to 8 transport names')
  const report: BrowserPeerReport = { peerId: b.peerId, state: b.state as BrowserPeerReport['state'], bytes, total, parents, transports: [...b.transports] as string[] }
  if (b.seconds != null) report.seconds = count(b.seconds, 'seconds')
  if (b.sha256 != null) {
    if (typeof b.sha256 !== 'string' || !SHA256.test(b.sha256)) throw new Error('sha256: 64 lowercase hex digits')
    report.sha256 = b.sha256
  }
  if (b.error != null) {
    if (typeof b.error !== 'string') throw new Error('error: a string')
    report.error = b.error.slice(0, MAX_ERROR)
  }
  return report
}

function count (v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw new Error(`${field}: a number of 0 or more`)
  return v
}

/** The browser peer's bundle (`npm run build` writes it), or undefined when it is not built or not installed. */
export async function browserBundle (): Promise<string | undefined> {
  let path: string
  try {
    path = fileURLToPath(import.meta.resolve('@damselfly/browser/bundle'))
  } catch {
    return undefined
  }
  return access(path).then(() => path, () => undefined)
}

/** The name the demo gives a browser peer: its peer id's last characters, as the page shows it. */
export function browserPeerName (peerId: string): string {
  return `browser-${peerId.slice(-6)}`
}
