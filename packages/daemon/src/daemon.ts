import { once } from 'node:events'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defaultLogger } from '@libp2p/logger'
import { Mirror, PullAccess, RegistryClient } from '@damselfly/registry'
import { AccessQuery } from '@damselfly/protocol'
import { chooseTransports, createSwarm } from '@damselfly/swarm'
import { ActivityRecorder } from './activity.js'
import { createControlApi } from './api.js'
import { BlobAccess } from './blob-access.js'
import { SwarmBlobs } from './blobs.js'
import { createMetricsRegistry, registerDaemonMetrics } from './metrics.js'
import { logDownloads, logRequests } from './operator-log.js'
import { createRequestGuard, isLoopback } from './request-guard.js'
import type { OperatorLog } from './operator-log.js'
import type { UpstreamInit } from '@damselfly/registry'
import type { Swarm, SwarmInit } from '@damselfly/swarm'
import type { Logger } from '@libp2p/interface'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ListenAddress {
  host: string
  port: number
}

export interface DaemonInit extends Omit<SwarmInit, 'logger' | 'originAccess' | 'originPolicy' | 'metrics'> {
  /** Control API address. @default { host: '127.0.0.1', port: 65002 } */
  api?: ListenAddress
  /**
   * Bearer token the control API wants of every request but `/healthz` and
   * the status page's files. Required when the API listens off loopback.
   */
  apiToken?: string
  /** Registry-mirror address; null for none. @default { host: '127.0.0.1', port: 65001 } */
  mirror?: ListenAddress | null
  /**
   * Upstream registries (endpoints, insecure hosts, credentials, CAs, the
   * default for requests without `ns`) and the other origins this node may
   * read (`allowOrigins`). Nothing else is fetched, whoever asks.
   */
  registry?: UpstreamInit
  /** Disk use of the blob store. */
  storage?: StorageLimits
  /** Where requests, finished and failed downloads and bans are told, for the operator's log. @default nowhere */
  onLog?: OperatorLog
}

/**
 * The blob store's disk quota. Above `highWatermark * quotaBytes` the least
 * recently used complete blobs are removed until use is below
 * `lowWatermark * quotaBytes`; blobs being served or downloaded are never removed.
 */
export interface StorageLimits {
  /** 0 for no quota. @default 0 */
  quotaBytes: number
  /** Fraction of the quota that starts a collection. @default 0.9 */
  highWatermark: number
  /** Fraction of the quota a collection brings use down to. @default 0.8 */
  lowWatermark: number
  /** No new blob is admitted while the file system is fuller than this fraction; 1 for no guard. @default 0.95 */
  diskGuard?: number
}

export interface Daemon {
  readonly swarm: Swarm
  /** The registry mirror, when it runs. */
  readonly mirror?: Mirror
  /** host:port the control API listens on. */
  readonly apiAddress: string
  /** host:port the registry mirror listens on, when it runs. */
  readonly mirrorAddress?: string
  stop(): Promise<void>
}

/** The daemon's settings contradict each other or its safety rules; nothing was started. */
export class DaemonConfigError extends Error {
  static override name = 'DaemonConfigError'
  override name = 'DaemonConfigError'
}

async function listen (server: Server, at: ListenAddress, what: string): Promise<string> {
  server.listen(at.port, at.host)
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  } catch (err: any) {
    throw new Error(`cannot listen on ${at.host}:${at.port} for the ${what}: ${err.message}`)
  }
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return `${host}:${addr.port}`
}

function close (server: Server | undefined): void {
  if (server == null) return
  server.closeAllConnections()
  server.close()
}

/** Paths of the control API answered without its token: a liveness probe and the status page's static files. */
function isOpenPath (path: string): boolean {
  return path === '/healthz' || path === '/' || path.startsWith('/ui/')
}

export async function startDaemon (init: DaemonInit): Promise<Daemon> {
  const apiAt = init.api ?? { host: '127.0.0.1', port: 65002 }
  if (!isLoopback(apiAt.host) && (init.apiToken == null || init.apiToken === '')) {
    throw new DaemonConfigError(`the control API would listen on ${apiAt.host}, off loopback, with no token: anyone who reaches it could drive this node. Give it a token (--api-token-file) or listen on 127.0.0.1`)
  }
  try {
    chooseTransports({ dialled: init.transports, listen: init.listen ?? [], dial: [...init.bootstrap ?? [], ...init.schedulers ?? []], privateSwarm: init.swarmKey != null })
  } catch (err: any) {
    throw new DaemonConfigError(err.message)
  }
  const logger = defaultLogger()
  const log = logger.forComponent('damselfly:daemon')
  const onLog: OperatorLog = entry => {
    try {
      init.onLog?.(entry)
    } catch (err: any) {
      log.error('operator log failed: %e', err)
    }
  }
  const upstream = new RegistryClient(init.registry)
  // one record of what registries said who may read, for the mirror and the control API alike;
  // while a registry cannot be reached, members say whether it lets anyone read a blob
  let swarm: Swarm | undefined
  const access = new PullAccess({
    upstream,
    vouch: async (q, signal) => swarm?.askPublic({ registry: q.registry, repository: q.name, digest: q.digest, kind: q.kind === 'blob' ? AccessQuery.Kind.BLOB : AccessQuery.Kind.MANIFEST }, { signal }) ?? false
  })
  const keeper = await keepAccess(access, join(init.dataDir, 'access.json'), log)
  const metrics = createMetricsRegistry()
  try {
    // the swarm reaches registries with this node's credentials; they never leave it
    swarm = await createSwarm({
      ...init,
      diskGuard: init.storage?.diskGuard,
      logger,
      metrics,
      originAccess: upstream,
      originPolicy: upstream.policy,
      publicAccess: q => access.knowsPublic({ registry: q.registry, name: q.repository, digest: q.digest, kind: q.kind === AccessQuery.Kind.MANIFEST ? 'manifest' : 'blob' })
    })
  } catch (err) {
    await keeper.stop()
    throw err
  }
  const servers: Server[] = []
  const activity = new ActivityRecorder(swarm)
  try {
    let mirror: Mirror | undefined
    let mirrorAddress: string | undefined
    const mirrorAt = init.mirror === undefined ? { host: '127.0.0.1', port: 65001 } : init.mirror
    if (mirrorAt != null) {
      mirror = new Mirror({
        upstream,
        blobs: new SwarmBlobs(swarm),
        access,
        manifestDir: join(init.dataDir, 'manifests'),
        defaultRegistry: init.registry?.defaultRegistry,
        admit: createRequestGuard(),
        log: message => {
          log('mirror: %s', message)
          onLog({ level: 'warn', msg: message, server: 'mirror' })
        }
      })
      const mirrorServer = mirror.createServer()
      logRequests(mirrorServer, 'mirror', onLog, { query: true })
      servers.push(mirrorServer)
      mirrorAddress = await listen(mirrorServer, mirrorAt, 'registry mirror')
    }
    registerDaemonMetrics(metrics, swarm, mirror?.stats)
    const apiServer = createControlApi(swarm, log, {
      metrics,
      activity,
      seed: init.seed === true,
      mirror: mirror != null ? { stats: mirror.stats, address: () => mirrorAddress } : undefined,
      guard: createRequestGuard({ token: init.apiToken, isOpen: isOpenPath, queryTokenPaths: ['/api/v1/events'], jsonWrites: true }),
      blobAccess: new BlobAccess({ upstream, access })
    })
    // blobs and new tasks, not the polls of status pages and progress bars
    logRequests(apiServer, 'api', onLog, { wanted: req => req.url?.startsWith('/api/v1/blobs/') === true || (req.method === 'POST' && req.url?.startsWith('/api/v1/tasks') === true) })
    servers.push(apiServer)
    const apiAddress = await listen(apiServer, apiAt, 'control API')
    const stopDownloadLog = logDownloads(swarm, onLog)
    const collector = startCollector(swarm, init.storage, log, onLog)
    return {
      swarm,
      mirror,
      apiAddress,
      mirrorAddress,
      async stop () {
        stopDownloadLog()
        collector.stop()
        await keeper.stop()
        activity.stop()
        servers.forEach(close)
        await swarm.stop()
      }
    }
  } catch (err) {
    activity.stop()
    servers.forEach(close)
    await swarm.stop()
    await keeper.stop()
    throw err
  }
}

/** How often what registries said about access is saved, when it changed. */
const ACCESS_SAVE_MS = 30_000

/**
 * Keeps what registries said about who may read what in `file` across
 * restarts (see PullAccess.snapshot): loaded now, saved every 30 s when it
 * changed and once more at stop. A file that cannot be read is started
 * afresh; one that cannot be written costs only the memory across a restart.
 */
async function keepAccess (access: PullAccess, file: string, log: Logger): Promise<{ stop(): Promise<void> }> {
  try {
    access.restore(JSON.parse(await readFile(file, 'utf8')))
  } catch (err: any) {
    if (err.code !== 'ENOENT') log('access record %s could not be read, starting afresh: %s', file, err.message)
  }
  let saved = access.changes
  const save = async (): Promise<void> => {
    if (access.changes === saved) return
    saved = access.changes
    const temp = `${file}.tmp`
    try {
      await writeFile(temp, JSON.stringify(access.snapshot()), { mode: 0o600 })
      await rename(temp, file)
    } catch (err: any) {
      log('access record %s could not be saved: %s', file, err.message)
    }
  }
  const timer = setInterval(() => { void save() }, ACCESS_SAVE_MS)
  timer.unref()
  return {
    async stop () {
      clearInterval(timer)
      await save()
    }
  }
}

/** How often the disk quota is checked besides after each finished download. */
const COLLECT_INTERVAL_MS = 30_000

/**
 * Keeps the store within its quota: past the high watermark, least recently
 * used blobs that nothing holds are removed down to the low watermark.
 * Checked at start, after every finished download, and every 30 s; one
 * collection runs at a time.
 */
function startCollector (swarm: Swarm, limits: StorageLimits | undefined, log: Logger, onLog: OperatorLog): { stop(): void } {
  if (limits == null || limits.quotaBytes <= 0) return { stop () {} }
  const high = limits.quotaBytes * limits.highWatermark
  const low = limits.quotaBytes * limits.lowWatermark
  let running: Promise<void> | undefined
  let again = false
  const check = (): void => {
    if (running != null) {
      again = true
      return
    }
    if (swarm.store.usage() <= high) return
    running = swarm.collectGarbage(low)
      .then(removed => {
        if (removed.length > 0) onLog({ level: 'info', msg: 'disk quota: removed blobs', blobs: removed.length, held: swarm.store.usage() })
        if (swarm.store.usage() > high) onLog({ level: 'warn', msg: 'disk quota: above the high watermark, but every blob is in use', held: swarm.store.usage() })
      }, err => { onLog({ level: 'error', msg: 'disk quota: collection failed', error: err.message }) })
      .finally(() => {
        running = undefined
        if (again) {
          again = false
          check()
        }
      })
  }
  const timer = setInterval(check, COLLECT_INTERVAL_MS)
  timer.unref()
  const off = swarm.onEvent(event => { if (event.type === 'done') check() })
  check()
  return {
    stop () {
      clearInterval(timer)
      off()
    }
  }
}
