import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { spawnDaemon, stopChild } from '../daemon-process.js'
import { browserBundle } from './browser-peers.js'
import { containerdPuller, DemoContainerd } from './containerd.js'
import { DemoDashboard } from './dashboard.js'
import { generateImage } from './image.js'
import { NodeFeed } from './node-feed.js'
import { pullImage } from './pull.js'
import { DemoRegistry } from './registry.js'
import { formatSummary, summarize } from './summary.js'
import type { DaemonProcess } from '../daemon-process.js'
import type { BrowserPeerReport } from './browser-peers.js'
import type { PullState } from './dashboard.js'
import type { DemoImage } from './image.js'
import type { PullResult } from './pull.js'
import type { ChildProcess } from 'node:child_process'

export interface DemoOptions {
  /** Daemons that pull, besides the seed. */
  nodes: number
  /** Bytes of image content. */
  size: number
  /** Where the swarm page listens; `anyPortIfBusy` takes a free port when that one is taken. */
  dashboard: { host: string, port: number, anyPortIfBusy: boolean }
  /** After the summary: stop everything, or keep the swarm and the dashboard up until `signal` aborts. */
  afterPull: 'exit' | 'keep-running'
  /** Aborted by Ctrl-C: everything stops. */
  signal: AbortSignal
  /** Prints one line of the demo's output. */
  print(line: string): void
  /** Pull with real containerd, one per node, instead of the built-in puller. */
  containerd?: boolean
  /**
   * Browser peers the dashboard page starts once the pulls are verified, each
   * fetching the image's largest layer from the swarm; the demo waits for them
   * (a page must be open) and counts them in its summary. 0: none, though the
   * page's button still starts one.
   */
  browserPeers?: number
}

/** Pulls the image through one node's mirror; rejects when a blob does not verify. */
export type NodePuller = (request: { node: string, mirror: string, registry: string, image: DemoImage, signal: AbortSignal, onBytes(received: number): void }) => Promise<PullResult>

/** A daemon the demo started, with its name on the dashboard. */
export interface DemoNode extends DaemonProcess {
  name: string
  role: 'seed' | 'node'
}

const CONNECT_TIMEOUT_MS = 20_000
const PULL_TIMEOUT_MS = 30 * 60_000
/** How long the demo waits for the page's browser peers after the pulls. */
const BROWSER_PEERS_TIMEOUT_MS = 3 * 60_000

/** Browser peers need the bundle `npm run build` makes; without it the page says so. */
export const NO_BROWSER_BUNDLE = 'the browser peer is not built (npm run build in the repository builds packages/browser)'

/**
 * The local demo: an embedded registry serving a generated image, one seed
 * and N daemons as child processes, every node pulling the image through
 * its registry mirror at once, a live swarm page, and a summary of where
 * the bytes came from. Returns the exit code: 0 when every pull verified
 * and the registry's count matches the daemons' metrics, 1 otherwise, 130
 * when stopped by the signal. Every process it started is gone when it returns.
 */
export async function runDemo (options: DemoOptions): Promise<number> {
  const { print, signal } = options
  const children = new Set<ChildProcess>()
  // should this process die some other way, its daemons go with it
  const killAll = (): void => { for (const c of children) c.kill('SIGKILL') }
  process.once('exit', killAll)
  const stopFeeds = new AbortController()
  const bundle = await browserBundle()
  const browserPeers = options.browserPeers ?? 0
  if (browserPeers > 0 && bundle == null) throw new Error(`--browser-peers: ${NO_BROWSER_BUNDLE}`)
  const root = await mkdtemp(join(tmpdir(), 'damselfly-demo-'))
  const dashboard = new DemoDashboard({ browserBundle: bundle })
  let registry: DemoRegistry | undefined
  const runtimes: DemoContainerd[] = []
  let sampler: ReturnType<typeof setInterval> | undefined
  try {
    const url = `http://${await dashboard.listen(options.dashboard.host, options.dashboard.port, options.dashboard.anyPortIfBusy)}/`
    print(`Damselfly demo: an embedded registry, a seed and ${options.nodes} node${options.nodes === 1 ? '' : 's'} on loopback`)
    print('')
    print(`  dashboard   ${url}`)

    const t0 = performance.now()
    const image = await generateImage(join(root, 'image'), { size: options.size, signal })
    registry = new DemoRegistry(image)
    const registryHost = await registry.listen()
    const reference = `${registryHost}/${image.name}:${image.tag}`
    print(`  image       ${reference}: config and ${image.layers.length} layers, ${mib(image.totalBytes)} (made in ${seconds(performance.now() - t0)})`)
    const r = registry
    const sample = (): void => { dashboard.registry({ t: Date.now(), ...r.counts() }) }
    sample()
    sampler = setInterval(sample, 1000)

    const nodes: DemoNode[] = []
    const start = async (name: string, role: 'seed' | 'node', args: string[]): Promise<DemoNode> => {
      // WebSockets beside TCP: the dashboard's browser peers join through it
      const d = await spawnDaemon(['--data-dir', join(root, name), '--api', '127.0.0.1:0', '--mirror', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--insecure-registry', registryHost, ...args], {
        signal,
        onSpawn: child => {
          children.add(child)
          child.once('exit', () => children.delete(child))
        }
      })
      const node: DemoNode = { ...d, name, role }
      const feed = new NodeFeed(name, d.api, (type, data) => relay(type, data))
      const relay = dashboard.feed(feed)
      void feed.run(stopFeeds.signal)
      nodes.push(node)
      return node
    }
    const seed = await start('seed', 'seed', ['--seed'])
    await Promise.all(Array.from({ length: options.nodes }, async (_, i) => start(`node${i + 1}`, 'node', ['--bootstrap', seed.addrs.find(a => !a.includes('/ws/'))!])))
    nodes.sort((a, b) => order(a) - order(b))
    const largest = image.blobs.filter(b => b.role.startsWith('layer')).reduce((a, b) => b.size > a.size ? b : a)
    dashboard.setInfo({
      image: { reference, name: image.name, tag: image.tag, manifestDigest: image.manifest.digest, totalBytes: image.totalBytes, blobs: image.blobs.map(b => ({ digest: b.digest, size: b.size, role: b.role })) },
      registry: registryHost,
      nodes: nodes.map(n => ({ name: n.name, role: n.role, peerId: n.peerId, api: n.api, mirror: n.mirror })),
      browser: {
        peers: browserPeers,
        bootstrap: nodes.flatMap(n => n.addrs.filter(a => a.includes('/ws/'))),
        blob: { digest: largest.digest, size: largest.size },
        unavailable: bundle == null ? NO_BROWSER_BUNDLE : undefined
      },
      startedAt: Date.now()
    })
    print(`  seed        status page http://${seed.api}/`)
    for (const n of nodes.filter(n => n.role === 'node')) print(`  ${n.name.padEnd(11)} status page http://${n.api}/   mirror ${n.mirror}`)
    print('')

    const pullers = nodes.filter(n => n.role === 'node')
    let puller: NodePuller | undefined
    if (options.containerd === true) {
      const byNode = new Map<string, { containerd: DemoContainerd, api: string }>()
      await Promise.all(pullers.map(async n => {
        const containerd = new DemoContainerd(join(root, `containerd-${n.name}`))
        runtimes.push(containerd)
        await containerd.start(child => {
          children.add(child)
          child.once('exit', () => children.delete(child))
        }, signal)
        byNode.set(n.name, { containerd, api: n.api })
      }))
      puller = containerdPuller(byNode)
      print(`  containerd  one per node, pulling with ctr through that node's mirror only`)
      print('')
    }
    await waitForSeed(pullers, seed.peerId, signal)
    print(`${pullers.length} node${pullers.length === 1 ? '' : 's'} pull ${reference} through ${pullers.length === 1 ? 'its mirror' : 'their mirrors at once'}, ${puller != null ? 'with real containerd' : 'as containerd would'}...`)
    const results = await pullAll(pullers, registryHost, image, options, dashboard, puller)
    signal.throwIfAborted()
    sample()
    const browsers = browserPeers > 0 ? await waitForBrowserPeers(dashboard, browserPeers, url, print, signal) : []
    signal.throwIfAborted()

    const summary = await summarize({ nodes, seed, image, registry: registry.counts(), results, browsers: { wanted: browserPeers, blob: largest, reports: browsers } })
    dashboard.summary(summary)
    print('')
    for (const line of formatSummary(summary)) print(line)
    const code = summary.ok ? 0 : 1
    if (options.afterPull === 'exit' || signal.aborted) return signal.aborted ? 130 : code
    print('')
    print(`The swarm and the dashboard stay up: ${url}  (Ctrl-C stops everything)`)
    await once(signal, 'abort').catch(() => {})
    return 130
  } catch (err) {
    if (signal.aborted) return 130
    throw err
  } finally {
    clearInterval(sampler)
    stopFeeds.abort()
    dashboard.close()
    // not .map(stopChild): map's index and array would land in its grace and signal parameters
    await Promise.all([...children].map(child => stopChild(child)))
    for (const r of runtimes) await r.unmountLeftovers()
    registry?.close()
    process.off('exit', killAll)
    await rm(root, { recursive: true, force: true })
  }
}

function order (n: DemoNode): number {
  return n.role === 'seed' ? 0 : Number(n.name.replace(/\D/g, ''))
}

/** Until every node has the seed among its peers (bounded): a node that does not would pull from the registry itself. */
async function waitForSeed (nodes: DemoNode[], seedId: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS
  const waiting = new Set(nodes)
  while (waiting.size > 0 && Date.now() < deadline) {
    for (const n of [...waiting]) {
      try {
        const peers = await (await fetch(`http://${n.api}/api/v1/peers`, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) })).json() as Array<{ peer: string }>
        if (peers.some(p => p.peer === seedId)) waiting.delete(n)
      } catch {
        signal.throwIfAborted()
      }
    }
    if (waiting.size > 0) await delay(200, undefined, { signal })
  }
}

/** Until `want` browser peers have verified or failed (bounded); prints each as it ends. */
async function waitForBrowserPeers (dashboard: DemoDashboard, want: number, url: string, print: (line: string) => void, signal: AbortSignal): Promise<BrowserPeerReport[]> {
  print('')
  print(`Waiting for ${want} browser peer${want === 1 ? '' : 's'}: the dashboard page starts ${want === 1 ? 'it' : 'them'} (open ${url} if it is not open)...`)
  const deadline = Date.now() + BROWSER_PEERS_TIMEOUT_MS
  const told = new Set<string>()
  for (;;) {
    const ended = dashboard.browserPeers().filter(b => b.state !== 'fetching')
    for (const b of ended) {
      if (told.has(b.peerId)) continue
      told.add(b.peerId)
      print(`  browser peer ${b.peerId}: ${b.state === 'verified' ? `verified in ${(b.seconds ?? 0).toFixed(1)} s` : `failed: ${b.error ?? 'no reason given'}`}`)
    }
    if (ended.length >= want || Date.now() > deadline) return dashboard.browserPeers()
    await delay(250, undefined, { signal })
  }
}

async function pullAll (nodes: DemoNode[], registry: string, image: DemoImage, options: DemoOptions, dashboard: DemoDashboard, puller?: NodePuller): Promise<Map<string, PullResult | Error>> {
  const results = new Map<string, PullResult | Error>()
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(PULL_TIMEOUT_MS)])
  await Promise.all(nodes.map(async node => {
    const state: PullState = { node: node.name, state: 'pulling', bytes: 0, total: image.totalBytes }
    dashboard.pull({ ...state })
    let last = 0
    const onBytes = (received: number): void => {
      state.bytes = received
      const now = performance.now()
      if (now - last < 250) return
      last = now
      dashboard.pull({ ...state })
    }
    const started = performance.now()
    try {
      const result = puller != null
        ? await puller({ node: node.name, mirror: node.mirror!, registry, image, signal, onBytes })
        : await pullImage({ mirror: node.mirror!, registry, name: image.name, tag: image.tag, signal, onBytes })
      results.set(node.name, result)
      const sources: Record<string, number> = {}
      for (const b of result.blobs) sources[b.source] = (sources[b.source] ?? 0) + b.size
      dashboard.pull({ ...state, state: 'verified', bytes: result.bytes, seconds: result.ms / 1000, sources })
    } catch (err: any) {
      const e = signal.aborted && !options.signal.aborted ? new Error(`no result within ${PULL_TIMEOUT_MS / 60_000} minutes`) : err
      results.set(node.name, e)
      dashboard.pull({ ...state, state: 'failed', seconds: (performance.now() - started) / 1000, error: String(e.message ?? e) })
    }
  }))
  return results
}

export function mib (n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
