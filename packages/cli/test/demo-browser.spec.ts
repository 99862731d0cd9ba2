import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_BROWSER_PEERS, parseBrowserReport } from '../src/demo/browser-peers.js'
import { DemoDashboard } from '../src/demo/dashboard.js'

const PEER = '12D3KooWH1MbyCRZE7ui8EZFKD1sD7C1cUeXCUc8LZDCZC9Sm4Zc'
const OTHER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** The i-th of many distinct peer ids. */
function peerId (i: number): string {
  return PEER.slice(0, -2) + ALPHABET[Math.floor(i / ALPHABET.length)]! + ALPHABET[i % ALPHABET.length]!
}
const good = { peerId: PEER, state: 'fetching', bytes: 1024, total: 4096, parents: { [OTHER]: 1024 }, transports: ['websockets'] }

describe('a browser peer\'s report to the demo', () => {
  it('is taken as sent when every field is right', () => {
    expect(parseBrowserReport(good)).toEqual(good)
    expect(parseBrowserReport({ ...good, state: 'verified', bytes: 4096, sha256: 'a'.repeat(64), seconds: 1.5 })).toMatchObject({ state: 'verified', sha256: 'a'.repeat(64) })
  })

  it('is refused with the field named when one is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /JSON object/],
      [[good], /JSON object/],
      [{ ...good, peerId: '../../etc' }, /^peerId/],
      [{ ...good, state: 'done' }, /^state/],
      [{ ...good, bytes: -1 }, /^bytes/],
      [{ ...good, bytes: 8192 }, /more than total/],
      [{ ...good, total: 'many' }, /^total/],
      [{ ...good, total: Infinity }, /^total/],
      [{ ...good, parents: { nobody: 1 } }, /^parents/],
      [{ ...good, parents: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [peerId(i), 1])) }, /^parents/],
      [{ ...good, transports: ['<script>'] }, /^transports/],
      [{ ...good, sha256: 'ABC' }, /^sha256/],
      [{ ...good, error: 42 }, /^error/]
    ]
    for (const [body, error] of cases) expect(() => parseBrowserReport(body), JSON.stringify(body)?.slice(0, 80)).toThrow(error)
  })

  it('keeps an error message short', () => {
    expect(parseBrowserReport({ ...good, state: 'failed', error: 'x'.repeat(10_000) }).error).toHaveLength(500)
  })
})

describe('the dashboard\'s browser peer reports', () => {
  let dashboard: DemoDashboard
  let base: string
  const post = async (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> =>
    fetch(`${base}/api/browser-peers`, { method: 'POST', body, headers })

  beforeEach(async () => {
    dashboard = new DemoDashboard()
    base = `http://${await dashboard.listen('127.0.0.1', 0)}`
  })

  afterEach(() => { dashboard.close() })

  it('keeps a good report and shows it in /api/demo', async () => {
    expect((await post(JSON.stringify(good))).status).toBe(204)
    expect(dashboard.browserPeers()).toEqual([good])
    expect((await (await fetch(`${base}/api/demo`)).json() as { browsers: unknown[] }).browsers).toEqual([good])
  })

  it('answers bad bodies with 4xx and keeps nothing of them', async () => {
    expect((await post('{not json')).status).toBe(400)
    expect((await post(JSON.stringify({ ...good, peerId: 'x' }))).status).toBe(400)
    expect((await post(JSON.stringify(good), { 'content-type': 'text/plain' })).status).toBe(415)
    expect((await post(JSON.stringify({ ...good, error: 'x'.repeat(20_000) }))).status).toBe(413)
    expect(dashboard.browserPeers()).toEqual([])
  })

  it('refuses another site\'s page', async () => {
    const res = await post(JSON.stringify(good), { 'content-type': 'application/json', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' })
    expect(res.status).toBe(403)
    expect(dashboard.browserPeers()).toEqual([])
  })

  it('does not let a late progress report undo a peer\'s last word', async () => {
    expect((await post(JSON.stringify({ ...good, state: 'verified', bytes: 4096, sha256: 'b'.repeat(64) }))).status).toBe(204)
    expect((await post(JSON.stringify(good))).status).toBe(409)
    expect(dashboard.browserPeers()[0]!.state).toBe('verified')
  })

  it(`keeps at most ${MAX_BROWSER_PEERS} peers`, async () => {
    for (let i = 0; i < MAX_BROWSER_PEERS; i++) {
      expect((await post(JSON.stringify({ ...good, peerId: peerId(i) }))).status).toBe(204)
    }
    expect((await post(JSON.stringify({ ...good, peerId: OTHER }))).status).toBe(429)
    expect(dashboard.browserPeers()).toHaveLength(MAX_BROWSER_PEERS)
  })
})
