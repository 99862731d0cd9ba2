import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, eventually, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import type { DaemonProcess } from './helpers/cluster.js'

const MiB = 1024 * 1024
/** A port fetch refuses (browsers block it for IRC): the CLI must not. */
const BLOCKED_PORT = 6666

/** What Kubernetes puts in every pod's environment when a Service is named damselfly. */
const SERVICE_ENV = {
  DAMSELFLY_SERVICE_HOST: '10.96.0.7',
  DAMSELFLY_SERVICE_PORT: '65001',
  DAMSELFLY_PORT: 'tcp://10.96.0.7:65001',
  DAMSELFLY_PORT_65001_TCP: 'tcp://10.96.0.7:65001',
  DAMSELFLY_PORT_65001_TCP_PROTO: 'tcp',
  DAMSELFLY_PORT_65001_TCP_PORT: '65001',
  DAMSELFLY_PORT_65001_TCP_ADDR: '10.96.0.7'
}

/** The JSON log lines the daemon wrote to stderr so far. */
function jsonLog (d: DaemonProcess): any[] {
  return d.output.join('').split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line))
}

describe('a daemon on its own, as a first-time user runs it', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let node: DaemonProcess
  let root: string

  beforeAll(async () => {
    await origin.start()
    node = await cluster.start('node', ['--api', `127.0.0.1:${BLOCKED_PORT}`, '--log-format', 'json'], { ...SERVICE_ENV, DAMSELFLY_UPLOAD_RATTE: '1MB' })
    root = await cluster.root()
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('starts among the variables of a Kubernetes Service named damselfly, and warns only of a misspelt setting', () => {
    const warnings = jsonLog(node).filter(e => e.level === 'warn')
    expect(warnings.map(e => e.msg)).toEqual(['environment DAMSELFLY_UPLOAD_RATTE is not a setting, ignored; did you mean DAMSELFLY_UPLOAD_RATE?'])
  })

  it('status on a port fetch would refuse shows the role, the mirror and the listen addresses', async () => {
    const r = await runCli(['status', '--api', `127.0.0.1:${BLOCKED_PORT}`])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('role        node\n')
    expect(r.stdout).toContain(`mirror      http://${node.mirror}\n`)
    for (const a of node.addrs) expect(r.stdout).toContain(`listening   ${a}\n`)
  })

  it('with no peer and no bootstrap address, fetches from the origin at once, not after the 5 s seed timeout', async () => {
    const blob = makeBlob('/tiny.txt', 7)
    origin.add(blob)
    const started = performance.now()
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'tiny.txt'), '--api', node.api])
    const seconds = (performance.now() - started) / 1000
    expect(r.code, r.stderr).toBe(0)
    expect(seconds).toBeLessThan(3)
  })

  it('a wrong digest is reported as the mismatch the daemon found, however far the client is behind', async () => {
    const blob = makeBlob('/big.bin', 192 * MiB)
    origin.add(blob)
    const wrong = `sha256:${createHash('sha256').update('not the blob').digest('hex')}`
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', wrong, '-o', join(root, 'big.bin'), '--api', node.api])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`damselfly get: digest mismatch: ${origin.url}${blob.path} does not hash to ${wrong}\n`)
  })

  it('logs requests and failures at the default level, as JSON with --log-format json', async () => {
    // the mirror answers a client's ping; the log says so
    const ping = await fetch(`http://${node.mirror}/v2/`)
    expect(ping.status).toBe(200)
    await eventually(async () => {
      const log = jsonLog(node)
      for (const e of log) {
        expect(typeof e.time).toBe('string')
        expect(['info', 'warn', 'error']).toContain(e.level)
      }
      expect(log).toContainEqual(expect.objectContaining({ level: 'info', msg: 'request', server: 'mirror', method: 'GET', path: '/v2/', status: 200 }))
      expect(log).toContainEqual(expect.objectContaining({ level: 'info', msg: 'request', server: 'api', method: 'GET', path: expect.stringMatching(/^\/api\/v1\/blobs\/sha256:/), status: 200 }))
      expect(log).toContainEqual(expect.objectContaining({ level: 'info', msg: 'download done', size: 7, fromOrigin: 7 }))
      expect(log).toContainEqual(expect.objectContaining({ level: 'error', msg: 'download failed', where: 'origin', error: expect.stringMatching(/^digest mismatch: /) }))
      // the API's query (the origin URL) stays out of the log
      expect(log.filter(e => e.server === 'api').every(e => !String(e.path).includes('?'))).toBe(true)
    }, 10_000)
  })
})
