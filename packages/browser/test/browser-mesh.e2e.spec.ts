import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, CHROMIUM_ARGS } from '../../cli/test/helpers/chromium.js'
import { Cluster, runCli } from '../../cli/test/helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from '../../cli/test/helpers/origin.js'
import { addrOf, fetchInPage, keptPeer, servePage } from './helpers/page.js'
import type { Server } from 'node:http'
import type { Browser } from 'playwright-core'

const MiB = 1024 * 1024
const WS = '/ip4/127.0.0.1/tcp/0/ws'

describe('two browser pages', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let browser: Browser
  let page: { server: Server, url: string }

  beforeAll(async () => {
    await origin.start()
    page = await servePage()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // two tabs of one browser reach each other at their host candidates, which Chromium otherwise hides behind mDNS names
      args: [...CHROMIUM_ARGS, '--disable-features=WebRtcHideLocalIpsWithMdns']
    })
  })

  afterAll(async () => {
    await browser?.close()
    page?.server.close()
    await cluster.stop()
    await origin.stop()
  })

  it('exchange pieces over WebRTC, a daemon only relaying the signalling', async () => {
    // the relay holds nothing: it is the pages' way in, their DHT and their WebRTC signalling
    const relay = await cluster.start('relay', ['--relay', '--listen', WS])
    const holder = await cluster.start('holder', ['--listen', WS, '--bootstrap', addrOf(relay, 'ws')])
    const blob = makeBlob('/mesh.bin', 16 * MiB)
    origin.add(blob)
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', `${await cluster.root()}/holder.bin`, '--api', holder.api])
    expect(r.code, r.stderr).toBe(0)

    const first = await browser.newPage()
    await first.goto(page.url)
    const a = await fetchInPage(first, { bootstrap: [addrOf(relay, 'ws'), addrOf(holder, 'ws')] }, blob.digest, { keep: true })
    expect(`sha256:${a.sha256}`).toBe(blob.digest)
    const firstPeer = await keptPeer(first)
    expect(firstPeer.addresses.some(addr => addr.includes('/p2p-circuit/webrtc')), firstPeer.addresses.join(' ')).toBe(true)
    // the only holder left is the first page
    await cluster.kill(holder)

    const second = await browser.newPage()
    const logs: string[] = []
    second.on('console', msg => logs.push(`${msg.type()} ${msg.text()}`))
    await second.goto(page.url)
    const b = await fetchInPage(second, { bootstrap: [addrOf(relay, 'ws')] }, blob.digest).catch(err => {
      throw new Error(`${err.message}\n${logs.join('\n')}`)
    })
    expect(`sha256:${b.sha256}`).toBe(blob.digest)
    expect(b.parents[firstPeer.peerId] ?? 0, JSON.stringify(b.parents)).toBeGreaterThanOrEqual(blob.data.length / 3)
    expect(b.transports, 'the second page reached the first over WebRTC').toContain('webrtc')
    console.info(`second page: ${blob.data.length / MiB} MiB in ${b.ms.toFixed(0)} ms (first piece at ${b.firstPieceMs.toFixed(0)} ms), from ${JSON.stringify(b.parents)} over ${b.transports.join(', ')}`)
    const after = await keptPeer(first, true)
    expect(after.stats.bytesUploaded).toBeGreaterThanOrEqual(blob.data.length / 3)
  })
})
