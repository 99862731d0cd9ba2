import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, CHROMIUM_ARGS } from '../../cli/test/helpers/chromium.js'
import { Cluster, metric, runCli } from '../../cli/test/helpers/cluster.js'
import { FIREFOX, launchFirefox } from '../../cli/test/helpers/firefox.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from '../../cli/test/helpers/origin.js'
import { createNetns, netnsUnavailable, runInNetns } from './helpers/netns.js'
import { addrOf, fetchInPage, servePage } from './helpers/page.js'
import type { DaemonProcess } from '../../cli/test/helpers/cluster.js'
import type { TestBlob } from '../../cli/test/helpers/origin.js'
import type { Page, PageFetch } from './helpers/page.js'
import type { Server } from 'node:http'
import type { Browser } from 'playwright-core'

const MiB = 1024 * 1024

const WS = '/ip4/127.0.0.1/tcp/0/ws'
const TCP = '/ip4/127.0.0.1/tcp/0'

/**
 * Firefox gathers ICE candidates, for a page that captures no camera or
 * microphone, on the default route's address only (PeerConnectionImpl's
 * GetPrefDefaultAddressOnly), never on loopback; and nICEr pairs no
 * non-loopback local candidate with a loopback remote one. So it cannot dial
 * a WebRTC-direct daemon on 127.0.0.1, whatever the prefs (not even with
 * media.peerconnection.ice.loopback), only one on another host's address. The
 * test makes that host: Firefox runs in a network namespace of the test's own
 * whose default route leads, over a veth, to the root namespace, where the
 * daemon listens on the veth's address. Firefox's default address is its end
 * of the veth, and nothing it sends goes further than the root namespace's end
 * (createNetns).
 */
const DRIVER = fileURLToPath(new URL('./helpers/firefox-fetch.mjs', import.meta.url))
// why the namespace cannot be made here, and the test skips: not root, or no `ip netns` (iproute2); undefined when it can
const NO_NETNS = netnsUnavailable()

describe('a browser peer in Chromium', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let browser: Browser
  let page: { server: Server, url: string }
  let seed: DaemonProcess
  let node: DaemonProcess
  let blob: TestBlob
  let root: string

  async function uploaded (d: DaemonProcess): Promise<number> {
    return metric(await cluster.api(d, '/metrics'), 'damselfly_uploaded_bytes_total') ?? 0
  }

  beforeAll(async () => {
    await origin.start()
    root = await cluster.root()
    page = await servePage()
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] })
    const env: Record<string, string> = process.env.DEBUG_DAEMONS != null ? { DEBUG: process.env.DEBUG_DAEMONS } : {}
    seed = await cluster.start('seed', ['--seed', '--listen', WS, '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct'], env)
    node = await cluster.start('node', ['--listen', WS, '--listen', TCP, '--bootstrap', addrOf(seed, 'ws')], env)
    blob = makeBlob('/browser.bin', 32 * MiB)
    origin.add(blob)
    // the seed pulls it from the origin, the node from the seed: both hold it
    for (const d of [seed, node]) {
      const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, `${d === seed ? 'seed' : 'node'}.bin`), '--api', d.api])
      expect(r.code, r.stderr).toBe(0)
    }
  })

  afterAll(async () => {
    await browser?.close()
    page?.server.close()
    await cluster.stop()
    await origin.stop()
  })

  it('fetches a 32 MiB blob from daemons over WebSockets: every byte verified, progress reported, the daemons\' metrics show the upload', async () => {
    const before = (await uploaded(seed)) + (await uploaded(node))
    const tab = await browser.newPage()
    const logs: string[] = []
    tab.on('pageerror', err => logs.push(`pageerror ${err.message}`))
    tab.on('console', msg => logs.push(`${msg.type()} ${msg.text()}`))
    // DEBUG_PAGE=damselfly:* (or libp2p:*) shows the page's own logs when a test fails
    if (process.env.DEBUG_PAGE != null) await tab.addInitScript(`localStorage.setItem('debug', ${JSON.stringify(process.env.DEBUG_PAGE)})`)
    try {
      await tab.goto(page.url)
      const got = await fetchInPage(tab, { bootstrap: [addrOf(seed, 'ws'), addrOf(node, 'ws')] }, blob.digest).catch(err => {
        throw new Error(`${err.message}\n${logs.join('\n')}`)
      })
      if (process.env.DEBUG_PAGE != null) console.info(logs.join('\n'), '\nSEED\n', seed.output.join('').slice(-20000), '\nNODE\n', node.output.join('').slice(-20000))
      expect(got.length, logs.join("\n")).toBe(blob.data.length)
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.layoutEvents).toBe(1)
      expect(got.pieceEvents).toBeGreaterThan(1)
      expect(got.lastReceived).toBe(blob.data.length)
      expect(got.stats.bytesFromPeers).toBe(blob.data.length)
      expect(got.stats.piecesRejected).toBe(0)
      expect(Object.keys(got.parents).every(p => p === seed.peerId || p === node.peerId)).toBe(true)
      expect(Object.values(got.parents).reduce((a, b) => a + b, 0)).toBe(blob.data.length)
      expect(got.transports.every(t => t === 'websockets'), got.transports.join(' ')).toBe(true)
      const after = (await uploaded(seed)) + (await uploaded(node))
      expect(after - before, 'piece bytes the daemons sent the browser').toBeGreaterThanOrEqual(blob.data.length)
      // the same blob as the node daemon took it from the seed (beforeAll), for comparison
      const daemonTask = await cluster.api(node, `/api/v1/tasks/${blob.digest}`)
      const daemonMs = daemonTask.finishedAt - daemonTask.startedAt
      const rate = (ms: number, bytes = blob.data.length): string => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`
      // the first pieces wait while the seed declines what it just sent the node (super-seeding): the rest shows the link
      const after1 = rate(got.ms - got.firstPieceMs, blob.data.length * (1 - 1 / got.pieceEvents))
      console.info(`browser: ${blob.data.length / MiB} MiB over WebSockets in ${got.ms.toFixed(0)} ms (${rate(got.ms)}; first piece at ${got.firstPieceMs.toFixed(0)} ms, ${after1} after it) from ${JSON.stringify(got.parents)}; ` +
        `the node daemon from the seed: ${daemonMs} ms (${rate(daemonMs)}) from ${JSON.stringify(daemonTask.parents)}`)
    } finally {
      await tab.close()
    }
  })

  it('fetches it over WebRTC-direct from a daemon that listens there', async () => {
    const before = await uploaded(seed)
    const declined = async (): Promise<number> => metric(await cluster.api(seed, '/metrics'), 'damselfly_pieces_declined_total') ?? 0
    const declinedBefore = await declined()
    const tab = await browser.newPage()
    const logs: string[] = []
    tab.on('pageerror', err => logs.push(`pageerror ${err.message}`))
    tab.on('console', msg => logs.push(`${msg.type()} ${msg.text()}`))
    try {
      await tab.goto(page.url)
      const got = await fetchInPage(tab, { bootstrap: [addrOf(seed, 'webrtc-direct')], transports: ['webrtc-direct'] }, blob.digest).catch(err => {
        throw new Error(`${err.message}\n${logs.join('\n')}`)
      })
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.lastReceived).toBe(blob.data.length)
      expect(got.parents).toEqual({ [seed.peerId]: blob.data.length })
      expect(got.transports).toEqual(['webrtc-direct'])
      expect((await uploaded(seed)) - before, 'piece bytes the seed sent the browser').toBeGreaterThanOrEqual(blob.data.length)
      // the node that just took the blob from the seed listens on TCP and WebSockets, which this page
      // (WebRTC-direct only) cannot dial: the seed sends rather than name it and decline
      expect(await declined() - declinedBefore, 'pieces the seed declined the page').toBe(0)
      console.info(`browser: ${blob.data.length / MiB} MiB over WebRTC-direct in ${got.ms.toFixed(0)} ms (${(blob.data.length / MiB / (got.ms / 1000)).toFixed(1)} MiB/s; first piece at ${got.firstPieceMs.toFixed(0)} ms)`)
    } finally {
      await tab.close()
    }
  })

  it('fetches it in Firefox ESR too, over WebSockets', async () => {
    // playwright-core cannot drive Debian's Firefox; puppeteer-core speaks WebDriver BiDi to it (and its prefs keep it on loopback)
    const firefox = await launchFirefox()
    try {
      const before = (await uploaded(seed)) + (await uploaded(node))
      const tab = await firefox.newPage()
      const logs: string[] = []
      tab.on('pageerror', err => logs.push(`pageerror ${String(err)}`))
      await tab.goto(page.url)
      const got = await fetchInPage(tab as unknown as Page, { bootstrap: [addrOf(seed, 'ws'), addrOf(node, 'ws')], transports: ['websockets'] }, blob.digest).catch(err => {
        throw new Error(`${err.message}\n${logs.join('\n')}`)
      })
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.lastReceived).toBe(blob.data.length)
      expect(got.stats.piecesRejected).toBe(0)
      expect((await uploaded(seed)) + (await uploaded(node)) - before).toBeGreaterThanOrEqual(blob.data.length)
      console.info(`firefox: ${blob.data.length / MiB} MiB over WebSockets in ${got.ms.toFixed(0)} ms (${(blob.data.length / MiB / (got.ms / 1000)).toFixed(1)} MiB/s; first piece at ${got.firstPieceMs.toFixed(0)} ms) from ${JSON.stringify(got.parents)}`)
    } finally {
      await firefox.close()
    }
  })

  it.skipIf(NO_NETNS != null)('fetches it in Firefox ESR over WebRTC-direct, Firefox in a network namespace of its own', async () => {
    const netns = createNetns()
    const env: Record<string, string> = process.env.DEBUG_DAEMONS != null ? { DEBUG: process.env.DEBUG_DAEMONS } : {}
    let lan: DaemonProcess | undefined
    try {
      // a daemon on the root namespace's end of the veth (see DRIVER), that takes the blob from the swarm
      lan = await cluster.start('lan', ['--listen', WS, '--listen', `/ip4/${netns.hostAddress}/udp/0/webrtc-direct`, '--bootstrap', addrOf(seed, 'ws')], env)
      const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'lan.bin'), '--api', lan.api])
      expect(r.code, r.stderr).toBe(0)
      const before = await uploaded(lan)
      // the driver serves the page on the namespace's loopback and drives Firefox there: it gives up at 90 s, is killed at 100 s
      const run = await runInNetns(netns.name, process.execPath, [DRIVER, JSON.stringify({
        bootstrap: [addrOf(lan, 'webrtc-direct')], transports: ['webrtc-direct'], digest: blob.digest, executablePath: FIREFOX, timeoutMs: 90_000
      })], 100_000)
      expect(run.code, `driver: ${run.signal ?? ''}\n${run.stderr}`).toBe(0)
      const got = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as PageFetch
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.lastReceived).toBe(blob.data.length)
      expect(got.stats.piecesRejected).toBe(0)
      expect(got.parents).toEqual({ [lan.peerId]: blob.data.length })
      expect(got.transports).toEqual(['webrtc-direct'])
      expect((await uploaded(lan)) - before, 'piece bytes the daemon sent the browser').toBeGreaterThanOrEqual(blob.data.length)
      console.info(`firefox: ${blob.data.length / MiB} MiB over WebRTC-direct in ${got.ms.toFixed(0)} ms (${(blob.data.length / MiB / (got.ms / 1000)).toFixed(1)} MiB/s; first piece at ${got.firstPieceMs.toFixed(0)} ms)`)
    } finally {
      // kills the driver and Firefox too, if they still run
      netns.remove()
      // the next test counts on the holders it names being the only ones
      if (lan != null) await cluster.kill(lan)
    }
  })

  it('bans a daemon that sends it a corrupt piece, and still hands the page the right bytes', async () => {
    const liar = await cluster.start('liar', ['--listen', WS, '--bootstrap', addrOf(seed, 'ws'), '--test-corrupt-uploads'], { DAMSELFLY_TEST: '1' })
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'liar.bin'), '--api', liar.api])
    expect(r.code, r.stderr).toBe(0)
    // the liar and the honest node are the only holders the page can reach
    await cluster.kill(seed)
    const tab = await browser.newPage()
    try {
      await tab.goto(page.url)
      const got = await fetchInPage(tab, { bootstrap: [addrOf(liar, 'ws'), addrOf(node, 'ws')] }, blob.digest)
      expect(`sha256:${got.sha256}`).toBe(blob.digest)
      expect(got.parents[liar.peerId], 'no byte from the liar was kept').toBeUndefined()
      // banned at its first bad piece: nothing more from it is even looked at
      expect(got.stats.piecesRejected).toBe(1)
      expect(got.bans.map(b => b.peer)).toContain(liar.peerId)
      expect(got.stats.bans).toBeGreaterThanOrEqual(1)
    } finally {
      await tab.close()
    }
  })
})
