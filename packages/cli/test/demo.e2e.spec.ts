import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DAMSELFLY_BIN } from '@damselfly/cli'
import { eventually, metric, runCli } from './helpers/cluster.js'
import { CHROMIUM, CHROMIUM_ARGS } from './helpers/chromium.js'
import { launchFirefox } from './helpers/firefox.js'
import { trackChild } from './helpers/registry.js'
import type { Browser, Page } from 'playwright-core'
import type { ChildProcess } from 'node:child_process'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const ARTIFACTS = `${ROOT}test-artifacts/`
/** A demo process whose output is collected; `waitFor` resolves when a line matches. */
class DemoRun {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>

  constructor (command: string, args: string[]) {
    this.child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    trackChild(this.child)
    this.child.stdout!.on('data', d => { this.stdout += String(d) })
    this.child.stderr!.on('data', d => { this.stderr += String(d) })
    this.exited = new Promise(resolve => this.child.once('exit', (code, signal) => resolve({ code, signal })))
  }

  async waitFor (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const m = pattern.exec(this.stdout)
      if (m != null) return m
      if (this.child.exitCode != null) break
      await sleep(100)
    }
    throw new Error(`no ${pattern} in the demo's output within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`)
  }

  /** The status page address of each daemon, by name, from the demo's output. */
  apis (): Map<string, string> {
    return new Map([...this.stdout.matchAll(/^ {2}(seed|node\d+) +status page http:\/\/(\S+)\//gm)].map(m => [m[1]!, m[2]!]))
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Every process below `pid`, from /proc: the demo's daemons (and, under npm, the demo itself). */
async function descendants (pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>()
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)])
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = []
  const queue = [pid]
  for (let p = queue.shift(); p != null; p = queue.shift()) {
    for (const c of parents.get(p) ?? []) {
      out.push(c)
      queue.push(c)
    }
  }
  return out
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function getText (url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  return res.text()
}

describe('damselfly demo', () => {
  let browser: Browser

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    // the dashboard's browser peers in one browser reach each other at their host candidates, which Chromium
    // otherwise hides behind mDNS names that the switches' resolver rules leave unresolved
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--disable-features=WebRtcHideLocalIpsWithMdns'] })
  })

  afterAll(async () => {
    await browser?.close()
  })

  it('shows on its dashboard, in Chromium and in Firefox, every node reach 100% with the byte counts of the daemons\' metrics, and stops everything on Ctrl-C', async () => {
    const demo = new DemoRun(process.execPath, [DAMSELFLY_BIN, 'demo', '--nodes', '3', '--size', '48', '--keep-running', '--dashboard', '127.0.0.1:0'])
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    const errors: string[] = []
    page.on('pageerror', err => errors.push(err.message))
    // playwright-core cannot drive Debian's Firefox; puppeteer-core speaks WebDriver BiDi to it (and its prefs keep it on loopback)
    const firefox = await launchFirefox()
    try {
      const url = (await demo.waitFor(/dashboard {3}(http:\/\/\S+)/, 30_000))[1]!
      // opened before the daemons are up, as a newcomer would
      await page.goto(url)
      const fox = await firefox.newPage()
      await fox.setViewport({ width: 1280, height: 1000 })
      fox.on('pageerror', err => errors.push(`Firefox: ${String(err)}`))
      await fox.goto(url)
      await demo.waitFor(/as containerd would/, 60_000)
      const apis = demo.apis()
      expect([...apis.keys()]).toEqual(['seed', 'node1', 'node2', 'node3'])
      const daemons = await descendants(demo.child.pid!)
      expect(daemons).toHaveLength(4)

      await page.waitForSelector('#status[data-verified="3"]', { timeout: 120_000 })
      for (const name of apis.keys()) {
        await page.waitForSelector(`tr[data-node="${name}"][data-complete="true"] .bar[data-percent="100"]`, { timeout: 30_000 })
      }
      await demo.waitFor(/stay up/, 30_000)
      expect(demo.stdout).toMatch(/3 of 3 pulls verified/)
      expect(demo.stdout).toMatch(/Checked: every blob of every pull matched its digest/)

      const seedId = JSON.parse(await getText(`http://${apis.get('seed')}/api/v1/status`)).peerId as string
      let originTotal = 0
      await eventually(async () => {
        originTotal = 0
        for (const [name, api] of apis) {
          const metrics = await getText(`http://${api}/metrics`)
          const tasks = JSON.parse(await getText(`http://${api}/api/v1/tasks`)) as Array<{ parents: Record<string, number> }>
          const row = page.locator(`tr[data-node="${name}"]`)
          const shown = async (source: string): Promise<number> => Number(await row.locator(`td[data-source="${source}"]`).getAttribute('data-bytes'))
          const origin = metric(metrics, 'damselfly_received_bytes_total', { source: 'origin' })!
          const peer = metric(metrics, 'damselfly_received_bytes_total', { source: 'peer' })!
          const fromSeed = tasks.reduce((n, t) => n + (t.parents[seedId] ?? 0), 0)
          expect(await shown('registry'), `${name} from registry`).toBe(origin)
          expect(await shown('seed'), `${name} from seed`).toBe(fromSeed)
          expect(await shown('seed') + await shown('peers'), `${name} from seed and peers`).toBe(peer)
          originTotal += origin
        }
      }, 10_000)
      // the chart's totals, from the daemons' samples, end where the table does
      await eventually(async () => {
        const sum = { registry: 0, seed: 0, peers: 0 }
        for (const name of ['node1', 'node2', 'node3']) {
          for (const source of ['registry', 'seed', 'peers'] as const) {
            sum[source] += Number(await page.locator(`tr[data-node="${name}"] td[data-source="${source}"]`).getAttribute('data-bytes'))
          }
        }
        const legend = async (key: string): Promise<number> => Number(await page.locator(`#chart text.legend[data-key="${key}"]`).getAttribute('data-bytes'))
        expect(await legend('origin'), 'chart: registry').toBe(sum.registry)
        expect(await legend('seeds'), 'chart: seed').toBe(sum.seed)
        expect(await legend('peers'), 'chart: peers').toBe(sum.peers)
      }, 10_000)
      // the seed pulled the image once: everything else came through the swarm
      const sent = Number(await page.locator('#registry-sent').getAttribute('data-bytes'))
      expect(sent).toBeGreaterThanOrEqual(originTotal)
      expect(await page.locator('#saving').getAttribute('data-ok')).toBe('true')
      // the graph has an edge from the registry and edges between the nodes
      expect(await page.locator('path.edge.registry').count()).toBeGreaterThan(0)
      expect(await page.locator('path.edge.seed').count()).toBeGreaterThan(0)
      await page.screenshot({ path: `${ARTIFACTS}demo-dashboard.png`, fullPage: true })

      // each daemon's own status page
      const node = await browser.newPage({ viewport: { width: 1280, height: 900 } })
      node.on('pageerror', err => errors.push(err.message))
      await node.goto(`http://${apis.get('node1')}/`)
      await node.waitForSelector('#tasks tr[data-state="complete"]', { timeout: 10_000 })
      expect(await node.locator('#tasks tr[data-state="complete"]').count()).toBe(6)
      expect(await node.locator('#role').textContent()).toBe('peer')
      await node.screenshot({ path: `${ARTIFACTS}demo-node-status.png`, fullPage: true })
      const digest = await node.locator('#tasks tr[data-state="complete"]').first().getAttribute('data-digest')
      const pieces = JSON.parse(await getText(`http://${apis.get('node1')}/api/v1/tasks/${digest}/pieces`))
      expect(pieces.held).toBe(pieces.pieces)
      expect(Buffer.from(pieces.bitfield, 'base64')).toHaveLength(Math.ceil(pieces.pieces / 8))
      await node.close()

      // Firefox's copy of the dashboard filled in the same way
      for (const name of apis.keys()) {
        await fox.waitForSelector(`tr[data-node="${name}"][data-complete="true"] .bar[data-percent="100"]`, { timeout: 30_000 })
      }
      expect(await fox.$eval('#status', el => el.getAttribute('data-verified'))).toBe('3')
      expect(await fox.$$eval('path.edge.seed', edges => edges.length)).toBeGreaterThan(0)
      expect(await fox.$eval('#saving', el => el.getAttribute('data-ok'))).toBe('true')
      await fox.screenshot({ path: `${ARTIFACTS}demo-dashboard-firefox.png` })
      expect(errors).toEqual([])

      demo.child.kill('SIGINT')
      const { code } = await demo.exited
      expect(code, demo.stderr).toBe(130)
      for (const pid of daemons) expect(alive(pid), `daemon ${pid}`).toBe(false)
    } finally {
      await page.close()
      await firefox.close()
      if (demo.child.exitCode == null) demo.child.kill('SIGKILL')
    }
  }, 240_000)

  it('--browser-peers 2: the page starts two browser peers that fetch the largest layer from the swarm, show in the graph and in the summary', async () => {
    const demo = new DemoRun(process.execPath, [DAMSELFLY_BIN, 'demo', '--nodes', '2', '--size', '32', '--browser-peers', '2', '--keep-running', '--dashboard', '127.0.0.1:0'])
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 1200 } })
    const errors: string[] = []
    page.on('pageerror', err => errors.push(err.message))
    try {
      const url = (await demo.waitFor(/dashboard {3}(http:\/\/\S+)/, 30_000))[1]!
      // the pulls are verified and the demo waits for the page: nothing has reached a browser yet
      await demo.waitFor(/Waiting for 2 browser peers/, 120_000)
      const apis = demo.apis()
      const uploaded = async (): Promise<number> => {
        let n = 0
        for (const api of apis.values()) n += metric(await getText(`http://${api}/metrics`), 'damselfly_uploaded_bytes_total')!
        return n
      }
      const before = await uploaded()
      const info = JSON.parse(await getText(`${url}api/demo`)).info
      const { digest, size } = info.browser.blob as { digest: string, size: number }
      expect(size).toBe(Math.max(...info.image.blobs.map((b: { size: number }) => b.size)))
      const daemonIds = new Set<string>(info.nodes.map((n: { peerId: string }) => n.peerId))

      await page.goto(url)
      await page.waitForSelector('tr[data-browser][data-state="verified"] >> nth=1', { timeout: 90_000 })
      await demo.waitFor(/stay up/, 30_000)
      expect(demo.stdout).toMatch(new RegExp(`Checked: 2 browser peers fetched the largest layer \\(${(size / 1048576).toFixed(1)} MiB\\) from the swarm, and the sha256 each page computed is ${digest}`))

      // each peer's bytes hashed in the page, and where they came from
      const rows = page.locator('tr[data-browser]')
      expect(await rows.count()).toBe(2)
      const browsers = JSON.parse(await getText(`${url}api/demo`)).browsers as Array<{ peerId: string, sha256: string, bytes: number, parents: Record<string, number>, transports: string[] }>
      let fromDaemons = 0
      for (const b of browsers) {
        const row = page.locator(`tr[data-browser="${b.peerId}"]`)
        expect(await row.getAttribute('data-sha256')).toBe(digest.slice('sha256:'.length))
        expect(await row.getAttribute('data-here')).toBe('true')
        expect(b.bytes).toBe(size)
        // every verified byte came from someone, and the bytes add up to the blob
        expect(Object.values(b.parents).reduce((x, y) => x + y, 0)).toBe(size)
        expect(b.transports).toContain('websockets')
        for (const [peer, n] of Object.entries(b.parents)) if (daemonIds.has(peer)) fromDaemons += n
      }
      expect(fromDaemons).toBeGreaterThan(0)
      // the daemons' own counters: what the browsers got from them, they sent
      expect(await uploaded() - before).toBeGreaterThanOrEqual(fromDaemons)

      // the graph: two browser nodes, fed along edges that carry their bytes
      expect(await page.locator('g.gnode.browser').count()).toBe(2)
      const fed = await page.locator('path.edge[data-to^="browser-"]').evaluateAll(edges => edges.reduce((n, e) => n + Number(e.getAttribute('data-bytes')), 0))
      expect(fed).toBe(2 * size)
      await page.screenshot({ path: `${ARTIFACTS}demo-browser-peers.png`, fullPage: true })

      // the page's button starts one more
      await page.click('#add-browser')
      await page.waitForSelector('tr[data-browser][data-state="verified"] >> nth=2', { timeout: 60_000 })
      expect(errors).toEqual([])
      // a second tab shows the three and starts none of its own: the demo asked for two
      const other = await browser.newPage()
      await other.goto(url)
      await other.waitForSelector('#add-browser[data-autostarted]', { timeout: 10_000 })
      expect(await other.locator('#add-browser').getAttribute('data-autostarted')).toBe('0')
      expect(await page.locator('#add-browser').getAttribute('data-autostarted')).toBe('2')
      expect(await other.locator('tr[data-browser][data-state="verified"]').count()).toBe(3)
      await other.close()

      demo.child.kill('SIGINT')
      expect((await demo.exited).code, demo.stderr).toBe(130)
    } finally {
      await page.close()
      if (demo.child.exitCode == null) demo.child.kill('SIGKILL')
    }
  })

  it('npm run demo -- --nodes 3 --exit-after-pull exits 0 once every pull verified, and leaves no process behind', async () => {
    const demo = new DemoRun('npm', ['run', '--silent', 'demo', '--', '--nodes', '3', '--size', '48', '--exit-after-pull', '--dashboard', '127.0.0.1:0'])
    try {
      await demo.waitFor(/as containerd would/, 120_000)
      const processes = await descendants(demo.child.pid!)
      // npm's shell, the demo, and its seed and three daemons
      expect(processes.length).toBeGreaterThanOrEqual(5)
      const { code } = await demo.exited
      expect(code, demo.stdout + demo.stderr).toBe(0)
      expect(demo.stdout).toMatch(/3 of 3 pulls verified/)
      expect(demo.stdout).toMatch(/Damselfly saved/)
      for (const pid of processes) expect(alive(pid), `process ${pid}`).toBe(false)
    } finally {
      if (demo.child.exitCode == null) demo.child.kill('SIGKILL')
    }
  })

  it('Ctrl-C during the pulls stops every process it started', async () => {
    const demo = new DemoRun(process.execPath, [DAMSELFLY_BIN, 'demo', '--nodes', '3', '--size', '256', '--exit-after-pull', '--dashboard', '127.0.0.1:0'])
    try {
      await demo.waitFor(/as containerd would/, 60_000)
      const daemons = await descendants(demo.child.pid!)
      expect(daemons).toHaveLength(4)
      await sleep(1000)
      demo.child.kill('SIGINT')
      const { code } = await demo.exited
      expect(code).toBe(130)
      expect(demo.stdout).not.toMatch(/pulls verified/)
      for (const pid of daemons) expect(alive(pid), `daemon ${pid}`).toBe(false)
    } finally {
      if (demo.child.exitCode == null) demo.child.kill('SIGKILL')
    }
  })

  it.skipIf(process.getuid?.() !== 0)('--containerd pulls with real containerd, one per node, and stops them all', async () => {
    const demo = new DemoRun(process.execPath, [DAMSELFLY_BIN, 'demo', '--nodes', '2', '--size', '24', '--containerd', '--exit-after-pull', '--dashboard', '127.0.0.1:0'])
    try {
      await demo.waitFor(/with real containerd/, 60_000)
      // a seed, two daemons and two containerd
      const processes = await descendants(demo.child.pid!)
      expect(processes.length).toBeGreaterThanOrEqual(5)
      const { code } = await demo.exited
      expect(code, demo.stdout + demo.stderr).toBe(0)
      expect(demo.stdout).toMatch(/2 of 2 pulls verified/)
      for (const pid of processes) expect(alive(pid), `process ${pid}`).toBe(false)
    } finally {
      if (demo.child.exitCode == null) demo.child.kill('SIGKILL')
    }
  })

  it('refuses bad flags with one line and exit code 2', async () => {
    for (const args of [['--nodes', '0'], ['--nodes', '33'], ['--browser-peers', '9'], ['--browser-peers', 'two'], ['--size', 'nonsense'], ['--size', '0'], ['--exit-after-pull', '--keep-running'], ['--dashboard', 'nowhere']]) {
      const r = await runCli(['demo', ...args], 10_000)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
      expect(r.stderr).toMatch(/^damselfly demo: /)
    }
  })
})
