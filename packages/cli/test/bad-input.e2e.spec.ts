import { createHash, randomBytes } from 'node:crypto'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { tls } from '@libp2p/tls'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, runCli } from './helpers/cluster.js'
import { ALLOW_TEST_ORIGINS, makeBlob, TestOrigin } from './helpers/origin.js'
import type { DaemonProcess } from './helpers/cluster.js'

const MiB = 1024 * 1024

async function exists (path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

describe('bad input', () => {
  const cluster = new Cluster(ALLOW_TEST_ORIGINS)
  const origin = new TestOrigin()
  let seed: DaemonProcess
  let peer: DaemonProcess
  let root: string

  beforeAll(async () => {
    await origin.start()
    seed = await cluster.start('seed', ['--seed', '--origin-timeout', '1500'])
    peer = await cluster.start('peer', ['--bootstrap', seed.addrs[0]!, '--origin-timeout', '1500'])
    root = await cluster.root()
  })

  afterAll(async () => {
    await cluster.stop()
    await origin.stop()
  })

  it('a wrong --digest is a clear error and leaves no file', async () => {
    const blob = makeBlob('/wrong-digest.bin', 4 * MiB)
    origin.add(blob)
    const wrong = `sha256:${createHash('sha256').update('something else').digest('hex')}`
    const out = join(root, 'wrong.bin')
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', wrong, '-o', out, '--api', peer.api], 120_000)
    expect(r.code).not.toBe(0)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/digest mismatch/)
    expect(r.stderr).toContain(wrong)
    // what the content does hash to stays in the daemons' logs: told to a client, any URL would be a hash oracle
    expect(r.stderr).not.toContain(blob.digest.slice(7))
    expect(await exists(out)).toBe(false)
  })

  it('a wrong --size is a clear error after one origin request', async () => {
    const blob = makeBlob('/wrong-size.bin', 2 * MiB)
    origin.add(blob)
    const requests = origin.requests
    const out = join(root, 'wrong-size.bin')
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '--size', '1000', '-o', out, '--api', peer.api], 60_000)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/origin has 2097152 bytes .*, expected 1000/)
    expect(await exists(out)).toBe(false)
    // the origin answered correctly; asking it again could not help
    expect(origin.requests - requests).toBe(1)
  })

  it('an origin 404 is a clear error', async () => {
    const out = join(root, 'missing.bin')
    const digest = `sha256:${createHash('sha256').update('missing').digest('hex')}`
    const r = await runCli(['get', `${origin.url}/does-not-exist`, '--digest', digest, '-o', out, '--api', peer.api], 120_000)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/answered 404/)
    expect(await exists(out)).toBe(false)
  })

  it('an origin 500 is a clear error', async () => {
    origin.faults.set('/broken', 500)
    const out = join(root, 'broken.bin')
    const digest = `sha256:${createHash('sha256').update('broken').digest('hex')}`
    const r = await runCli(['get', `${origin.url}/broken`, '--digest', digest, '-o', out, '--api', peer.api], 120_000)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/answered 500/)
    expect(await exists(out)).toBe(false)
  })

  it('an origin that never answers is a clear error', async () => {
    origin.faults.set('/hang', 'hang')
    const out = join(root, 'hang.bin')
    const digest = `sha256:${createHash('sha256').update('hang').digest('hex')}`
    const r = await runCli(['get', `${origin.url}/hang`, '--digest', digest, '-o', out, '--api', peer.api], 150_000)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/did not answer within 1500 ms/)
    expect(await exists(out)).toBe(false)
  })

  it('garbage on the piece protocol resets the stream, bans the sender and the daemon carries on', async () => {
    const node = await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [tls(), noise()],
      streamMuxers: [yamux()]
    })
    try {
      const target = multiaddr(peer.addrs[0]!)
      // a declared frame length far past the limit, then junk
      const stream = await node.dialProtocol(target, '/damselfly/piece/1.0.0')
      stream.send(Uint8Array.from([0xff, 0xff, 0xff, 0x7f]))
      stream.send(randomBytes(1024))
      const ended = await (async () => {
        try {
          for await (const chunk of stream) void chunk
          return 'closed'
        } catch (err: any) {
          return err.name
        }
      })()
      expect(['closed', 'StreamResetError', 'StreamAbortedError']).toContain(ended)
      const status = await cluster.api(peer, '/api/v1/status')
      expect(status.bans.map((b: any) => b.peer)).toContain(node.peerId.toString())
      // the banned peer gets nothing more
      let received = 0
      try {
        const again = await node.dialProtocol(target, '/damselfly/piece/1.0.0')
        again.send(Uint8Array.from([0x00]))
        for await (const chunk of again) received += chunk.byteLength
      } catch {
        // refused outright: what a ban should look like
      }
      expect(received).toBe(0)
    } finally {
      await node.stop()
    }
    const health = await fetch(`http://${peer.api}/healthz`)
    expect(health.status).toBe(200)
    // and it still serves a real download
    const blob = makeBlob('/after-garbage.bin', 2 * MiB)
    origin.add(blob)
    const r = await runCli(['get', `${origin.url}${blob.path}`, '--digest', blob.digest, '-o', join(root, 'after.bin'), '--api', peer.api])
    expect(r.code, r.stderr).toBe(0)
  })

  it('bad flags and bad requests get one clear line each', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['get', 'http://127.0.0.1/x', '--digest', 'sha256:XYZ', '-o', join(root, 'x')], /--digest .* is not sha256:<64 lowercase hex digits>/],
      [['get', 'ftp://127.0.0.1/x', '--digest', `sha256:${'a'.repeat(64)}`, '-o', join(root, 'x')], /scheme ftp: is not http or https/],
      [['get', 'http://127.0.0.1/x', '-o', join(root, 'x')], /--digest is required/],
      [['get', 'https://user:secret@127.0.0.1/x', '--digest', `sha256:${'a'.repeat(64)}`, '-o', join(root, 'x')], /must not carry credentials/],
      [['daemon', '--data-dir', join(root, 'd'), '--api', 'nonsense'], /--api must be HOST:PORT/],
      [['daemon', '--data-dir', join(root, 'd'), '--listen', 'not-a-multiaddr'], /--listen "not-a-multiaddr" is not a multiaddr/],
      [['daemon', '--data-dir', join(root, 'd'), '--upload-rate', 'fast'], /--upload-rate must be a size/],
      [['daemon', '--frobnicate'], /unknown flag --frobnicate/],
      // the test-only knobs need DAMSELFLY_TEST=1, which runCli does not set
      [['daemon', '--data-dir', join(root, 'd'), '--test-ranged-rest-ms', '300'], /--test-ranged-rest-ms is for tests only/],
      [['nonsense'], /unknown command "nonsense"/],
      // a name every object has is not a command either
      [['constructor'], /unknown command "constructor"/]
    ]
    for (const [args, message] of cases) {
      const r = await runCli(args, 20_000)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
    }
    const status = await runCli(['status', '--api', '127.0.0.1:1'])
    expect(status.code).toBe(1)
    expect(status.stderr).toMatch(/cannot reach the daemon at 127.0.0.1:1/)

    const bad = await fetch(`http://${peer.api}/api/v1/blobs/sha256:nothex?url=http://127.0.0.1/x`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as any).error.message).toMatch(/invalid digest/)
    const badUrl = await fetch(`http://${peer.api}/api/v1/blobs/sha256:${'a'.repeat(64)}?url=file:///etc/passwd`)
    expect(badUrl.status).toBe(400)
    const json = { 'content-type': 'application/json' }
    const huge = await fetch(`http://${peer.api}/api/v1/tasks`, { method: 'POST', headers: json, body: 'x'.repeat(100_000) })
    expect(huge.status).toBe(400)
    const notJson = await fetch(`http://${peer.api}/api/v1/tasks`, { method: 'POST', headers: json, body: '{' })
    expect(notJson.status).toBe(400)
    const unlabelled = await fetch(`http://${peer.api}/api/v1/tasks`, { method: 'POST', body: '{}' })
    expect(unlabelled.status).toBe(415)
    expect((await fetch(`http://${peer.api}/healthz`)).status).toBe(200)
  })
})
