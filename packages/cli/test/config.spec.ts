import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { formatConfig, loadConfig } from '../src/config.js'
import type { ConfigFlags, LoadedConfig } from '../src/config.js'

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

describe('daemon config', () => {
  let dir: string
  let n = 0

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'damselfly-config-'))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function file (text: string, name = `c${n++}.yml`): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, text)
    return path
  }

  async function load (yaml: string | undefined, env: Record<string, string> = {}, flags: ConfigFlags = {}): Promise<LoadedConfig> {
    const config = yaml != null ? await file(yaml) : undefined
    return loadConfig({ flags: { ...(config != null ? { config } : {}), ...flags }, env })
  }

  /** The one-line message loadConfig fails with. */
  async function failure (yaml: string | undefined, env: Record<string, string> = {}, flags: ConfigFlags = {}): Promise<string> {
    const err = await load(yaml, env, flags).then(() => undefined, (err: Error) => err)
    expect(err?.name).toBe('UsageError')
    expect(err!.message.split('\n')).toHaveLength(1)
    return err!.message
  }

  it('fills in the defaults, which are what startDaemon would use', async () => {
    const { config, init } = await load(undefined, {}, { 'data-dir': '/d' })
    expect(config).toEqual({
      dataDir: '/d',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [],
      schedulers: [],
      transports: ['tcp', 'websockets'],
      encryption: ['tls', 'noise'],
      swarmKey: null,
      allowPeers: [],
      seed: false,
      locality: null,
      parentRanking: 'measured',
      relay: { enabled: null, reservations: 128, duration: 120_000, data: 128 * 1024 },
      trustedSeeds: [],
      allowOrigins: [],
      originFallback: true,
      prefetch: 'none',
      seedTimeout: 5000,
      originTimeout: 30000,
      uploadRate: 0,
      downloadRate: 0,
      uploadSlots: 16,
      maxParents: 8,
      maxConnections: 64,
      connectionGrace: 30000,
      pieceSize: null,
      superSeedCopies: 1,
      api: { host: '127.0.0.1', port: 65002 },
      apiTokenFile: null,
      mirror: { host: '127.0.0.1', port: 65001 },
      logFormat: 'text',
      logLevel: 'info',
      registry: { default: 'docker.io', insecure: [], ca: null, dockerConfig: null, hosts: {} },
      storage: { quota: 0, highWatermark: 0.9, lowWatermark: 0.8, diskGuard: 0.95 }
    })
    expect(init).toMatchObject({
      dataDir: '/d',
      seedTimeoutMs: 5000,
      originTimeoutMs: 30000,
      pieceSize: undefined,
      registry: { defaultRegistry: 'docker.io', insecure: [], registries: {}, allowOrigins: [], ca: undefined, dockerCredentials: undefined },
      swarmKey: undefined,
      apiToken: undefined,
      storage: { quotaBytes: 0, highWatermark: 0.9, lowWatermark: 0.8 },
      relay: { enabled: undefined, maxReservations: 128, durationMs: 120_000, dataBytes: 128 * 1024 }
    })
  })

  it('listen and bootstrap addresses: each must name a transport the node speaks, or the error says which', async () => {
    const listen = ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws', '/ip6/::/udp/4003/webrtc-direct']
    expect((await load(undefined, {}, { 'data-dir': '/d', listen })).init.listen).toEqual(listen)
    const boot = ['/dns4/seed.example/tcp/4002/ws/p2p/12D3KooWAbWiQ2ApZ3fGDZ8grWdThKcaSKaPYGxXTdUnFVoTfMBa', '/ip4/10.0.0.1/udp/4003/webrtc-direct/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ/p2p/12D3KooWAbWiQ2ApZ3fGDZ8grWdThKcaSKaPYGxXTdUnFVoTfMBa']
    expect((await load(undefined, { DAMSELFLY_BOOTSTRAP: boot.join(',') }, { 'data-dir': '/d' })).init.bootstrap).toEqual(boot)
    const bad = async (flag: string, addr: string): Promise<string> => failure(undefined, {}, { 'data-dir': '/d', [flag]: [addr] })
    expect(await bad('listen', '/ip4/0.0.0.0/udp/4003/quic-v1')).toMatch(/^flag --listen "\/ip4\/0.0.0.0\/udp\/4003\/quic-v1" cannot be listened on: \/quic-v1 after \/udp is not a transport this node speaks \(only webrtc-direct\); use /)
    expect(await bad('listen', '/ip4/0.0.0.0/tcp/443/wss')).toContain('secure WebSockets (wss) are not supported')
    expect(await bad('listen', '/ip4/0.0.0.0/udp/4003/webrtc-direct/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ')).toContain('the certificate hash is made by the listening node')
    expect(await bad('listen', '/dns4/example.com/tcp/1/ws')).toContain('it must start with /ip4, /ip6')
    expect(await bad('listen', '/ip4/1.2.3.4/tcp/1/ws/p2p/12D3KooWAbWiQ2ApZ3fGDZ8grWdThKcaSKaPYGxXTdUnFVoTfMBa')).toContain('a listen address has no /p2p part')
    expect(await bad('listen', '/ip4/1.2.3.4/udp/4003')).toContain('/(nothing) after /udp')
    expect(await bad('listen', 'ws://1.2.3.4:80')).toMatch(/^flag --listen "ws:\/\/1.2.3.4:80" is not a multiaddr: /)
    expect(await bad('bootstrap', '/ip4/10.0.0.1/udp/4003/webrtc-direct')).toContain("a webrtc-direct address to dial needs the listener's /certhash")
    expect(await bad('bootstrap', '/ip4/10.0.0.1/tcp/4003/ws/x')).toMatch(/^flag --bootstrap .* is not a multiaddr/)
    expect((await load('dataDir: /d\ntransports: [tcp, webrtc-direct]\n')).init.transports).toEqual(['tcp', 'webrtc-direct'])
    expect(await failure('dataDir: /d\ntransports: [tcp, quic]\n')).toMatch(/:2: transports: "quic" is not a transport: tcp, websockets, webrtc-direct$/)
  })

  it('relay: on for a seed unless told, with bounded reservations, duration and data', async () => {
    expect((await load(undefined, {}, { 'data-dir': '/d', relay: true })).init.relay?.enabled).toBe(true)
    expect((await load(undefined, {}, { 'data-dir': '/d', seed: true, 'no-relay': true })).init.relay?.enabled).toBe(false)
    expect((await load(undefined, { DAMSELFLY_RELAY_ENABLED: 'null' }, { 'data-dir': '/d' })).init.relay?.enabled).toBeUndefined()
    const { init } = await load('dataDir: /d\nrelay: { reservations: 16, duration: 30s, data: 64KiB }\n')
    expect(init.relay).toEqual({ enabled: undefined, maxReservations: 16, durationMs: 30_000, dataBytes: 64 * 1024 })
    expect(await failure('dataDir: /d\nrelay: { data: 1GB0 }\n')).toMatch(/:2: relay.data: must be a size like/)
    expect(await failure('dataDir: /d\nrelay: { reservations: 0 }\n')).toMatch(/:2: relay.reservations: must be an integer in 1..100000, got "0"$/)
    expect(await failure(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_RELAY_ENABLED: 'sometimes' })).toBe('environment DAMSELFLY_RELAY_ENABLED: relay.enabled: must be true, false or null, got "sometimes"')
  })

  it('a flag beats the environment, which beats the file, which beats the default', async () => {
    const yaml = `
dataDir: /from-file
uploadRate: 1MB
downloadRate: 2MB
seedTimeout: 2s
bootstrap: [/ip4/10.0.0.1/tcp/4001]
storage:
  quota: 10GiB
  lowWatermark: 0.5
`
    const env = { DAMSELFLY_UPLOAD_RATE: '3MB', DAMSELFLY_DOWNLOAD_RATE: '4MB', DAMSELFLY_STORAGE_QUOTA: '20GiB', DAMSELFLY_BOOTSTRAP: '/ip4/10.0.0.2/tcp/1, /ip4/10.0.0.3/tcp/1' }
    const { config } = await load(yaml, env, { 'upload-rate': '5MB', quota: '30GiB' })
    expect(config.dataDir).toBe('/from-file')
    expect(config.uploadRate).toBe(5e6) // flag
    expect(config.downloadRate).toBe(4e6) // environment
    expect(config.seedTimeout).toBe(2000) // file
    expect(config.originTimeout).toBe(30000) // default
    expect(config.bootstrap).toEqual(['/ip4/10.0.0.2/tcp/1', '/ip4/10.0.0.3/tcp/1']) // a list replaces the file's
    expect(config.storage).toEqual({ quota: 30 * 1024 ** 3, highWatermark: 0.9, lowWatermark: 0.5, diskGuard: 0.95 })
  })

  it('encryption: the order offered, from the file, the environment or repeated flags', async () => {
    expect((await load('dataDir: /d\nencryption: [noise, tls]\n')).init.encryption).toEqual(['noise', 'tls'])
    expect((await load('dataDir: /d\n', { DAMSELFLY_ENCRYPTION: 'noise' })).init.encryption).toEqual(['noise'])
    expect((await load('dataDir: /d\n', { DAMSELFLY_ENCRYPTION: 'noise' }, { encryption: ['tls'] })).init.encryption).toEqual(['tls'])
    expect(await failure('dataDir: /d\nencryption: [tls, ssl]\n')).toMatch(/:2: encryption: "ssl" is not a connection encryption: tls or noise$/)
    expect(await failure('dataDir: /d\nencryption: []\n')).toMatch(/:2: encryption: must name at least one of tls, noise$/)
    expect(await failure('dataDir: /d\nencryption: noise\n')).toMatch(/:2: encryption: must be a list, got "noise"$/)
    expect(await failure(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_ENCRYPTION: ' , ' })).toBe('environment DAMSELFLY_ENCRYPTION: encryption: must name at least one of tls, noise')
    expect(await failure(undefined, {}, { 'data-dir': '/d', encryption: ['noise', 'noise'] })).toBe('flag --encryption names noise twice')
  })

  it('a flag list replaces the file list; boolean flags beat the file', async () => {
    const yaml = 'dataDir: /d\nlisten: [/ip4/0.0.0.0/tcp/4001]\nseed: false\noriginFallback: true\nmirror: 127.0.0.1:7001\n'
    const { config } = await load(yaml, {}, { listen: ['/ip4/127.0.0.1/tcp/5000'], seed: true, 'no-origin-fallback': true, 'no-mirror': true })
    expect(config.listen).toEqual(['/ip4/127.0.0.1/tcp/5000'])
    expect(config.seed).toBe(true)
    expect(config.originFallback).toBe(false)
    expect(config.mirror).toBeNull()
  })

  it('mirror: false turns the mirror off from the file or the environment, and --mirror turns it back on', async () => {
    expect((await load('dataDir: /d\nmirror: false\n')).init.mirror).toBeNull()
    expect((await load(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_MIRROR: 'false' })).config.mirror).toBeNull()
    const on = await load('dataDir: /d\nmirror: false\n', { DAMSELFLY_MIRROR: 'false' }, { mirror: '127.0.0.1:7002' })
    expect(on.init.mirror).toEqual({ host: '127.0.0.1', port: 7002 })
  })

  it('the config file comes from --config, else DAMSELFLY_CONFIG', async () => {
    const a = await file('dataDir: /a\n')
    const b = await file('dataDir: /b\n')
    expect((await loadConfig({ env: { DAMSELFLY_CONFIG: a } })).config.dataDir).toBe('/a')
    expect((await loadConfig({ env: { DAMSELFLY_CONFIG: a }, flags: { config: b } })).config.dataDir).toBe('/b')
  })

  it('reads durations and sizes as numbers or with units', async () => {
    const yaml = `
dataDir: /d
seedTimeout: 1500
originTimeout: 2m
uploadRate: 1.5GiB
downloadRate: 500000
pieceSize: 4MiB
storage: { quota: 50GB }
`
    const { config, init } = await load(yaml, { DAMSELFLY_SUPER_SEED_COPIES: '0', DAMSELFLY_UPLOAD_SLOTS: '4' }, { 'max-parents': '3' })
    expect(init).toMatchObject({ seedTimeoutMs: 1500, originTimeoutMs: 120_000, uploadRate: 1.5 * 1024 ** 3, downloadRate: 500_000, pieceSize: 4 * 1024 ** 2, superSeedCopies: 0, uploadSlots: 4, maxParents: 3 })
    expect(config.storage.quota).toBe(50e9)
    expect((await load(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_SEED_TIMEOUT: '500ms', DAMSELFLY_ORIGIN_TIMEOUT: '1h' })).init).toMatchObject({ seedTimeoutMs: 500, originTimeoutMs: 3_600_000 })
    // the old flags took bare milliseconds and bytes, and still do
    expect((await load(undefined, {}, { 'data-dir': '/d', 'seed-timeout': '2500', 'piece-size': '1048576' })).init).toMatchObject({ seedTimeoutMs: 2500, pieceSize: 1048576 })
  })

  it('reads the registry section: CA file, Docker credentials and per-host settings', async () => {
    const ca = await file(PEM, 'ca.pem')
    const docker = await file(JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('alice:pw').toString('base64') } } }), 'docker.json')
    const yaml = `
dataDir: /d
registry:
  default: ghcr.io
  insecure: [registry.local:5000]
  ca: ${ca}
  dockerConfig: ${docker}
  hosts:
    ghcr.io: { endpoint: https://ghcr.io, insecure: false, username: bob, password: secret }
    "127.0.0.1:5000": { insecure: true }
`
    const { config, init } = await load(yaml)
    expect(config.registry.ca).toBe(ca)
    expect(init.registry).toEqual({
      defaultRegistry: 'ghcr.io',
      insecure: ['registry.local:5000'],
      allowOrigins: [],
      ca: PEM,
      dockerCredentials: new Map([['docker.io', { username: 'alice', password: 'pw' }]]),
      registries: {
        'ghcr.io': { endpoint: 'https://ghcr.io', insecure: false, username: 'bob', password: 'secret' },
        '127.0.0.1:5000': { insecure: true }
      }
    })
    const fromEnv = await load(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_REGISTRY_DEFAULT: 'quay.io', DAMSELFLY_REGISTRY_INSECURE: 'a.local:5000,b.local', DAMSELFLY_REGISTRY_CA: ca, DAMSELFLY_REGISTRY_DOCKER_CONFIG: docker })
    expect(fromEnv.init.registry).toMatchObject({ defaultRegistry: 'quay.io', insecure: ['a.local:5000', 'b.local'], ca: PEM })
  })

  it('the security settings: a swarm key file, an allow-list, origin patterns and the API token file, each checked', async () => {
    const key = await file(`/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}\n`, 'swarm.key')
    const token = await file('0123456789abcdef-token\n', 'api.token')
    const { config, init } = await load(undefined, { DAMSELFLY_ALLOW_ORIGINS: 'https://*.example.org/files, http://127.0.0.1:*' }, { 'data-dir': '/d', 'swarm-key': key, 'allow-peer': [PEER], 'api-token-file': token })
    expect(config).toMatchObject({ swarmKey: key, allowPeers: [PEER], apiTokenFile: token, allowOrigins: ['https://*.example.org/files', 'http://127.0.0.1:*'] })
    expect(Buffer.from(init.swarmKey!).toString('hex')).toBe('ab'.repeat(32))
    expect(init.apiToken).toBe('0123456789abcdef-token')
    expect(init.allowPeers).toEqual([PEER])
    expect(init.registry?.allowOrigins).toEqual(['https://*.example.org/files', 'http://127.0.0.1:*'])
    expect(await failure(undefined, {}, { 'data-dir': '/d', 'swarm-key': await file('not a key\n', 'bad.key') })).toMatch(/^flag --swarm-key .*bad\.key: a swarm key file starts with the line \/key\/swarm\/psk\/1\.0\.0\/$/)
    expect(await failure(undefined, {}, { 'data-dir': '/d', 'swarm-key': join(dir, 'missing.key') })).toMatch(/missing\.key: no such file$/)
    expect(await failure(undefined, {}, { 'data-dir': '/d', 'api-token-file': await file('short\n', 'short.token') })).toMatch(/at least 16 printable characters/)
    expect(await failure(undefined, {}, { 'data-dir': '/d', 'allow-origin': ['example.org'] })).toMatch(/^flag --allow-origin "example.org" is not an origin pattern/)
    expect(await failure('dataDir: /d\nallowPeers: [10.0.0.1]\n')).toMatch(/allowPeers: "10.0.0.1" is not a peer id/)
  })

  it('--print-config output is the same schema, passwords redacted, files as paths, and loads back to the same settings', async () => {
    const ca = await file(PEM, 'ca2.pem')
    const yaml = `
dataDir: /d
trustedSeeds: [${PEER}]
allowOrigins: [https://downloads.example.org/releases]
allowPeers: [${PEER}]
seedTimeout: 1500
uploadRate: 100MB
api: "[::1]:7000"
registry:
  ca: ${ca}
  hosts:
    ghcr.io: { username: bob, password: secret }
storage: { quota: 1GiB, highWatermark: 0.95 }
`
    const { config } = await load(yaml, { DAMSELFLY_MIRROR: 'false' })
    const printed = formatConfig(config)
    expect(printed).not.toContain('secret')
    const shown = parse(printed)
    expect(shown).toMatchObject({
      dataDir: '/d',
      trustedSeeds: [PEER],
      allowOrigins: ['https://downloads.example.org/releases'],
      allowPeers: [PEER],
      seedTimeout: '1500ms',
      originTimeout: '30s',
      uploadRate: '100MB',
      downloadRate: 0,
      pieceSize: null,
      api: '[::1]:7000',
      mirror: false,
      registry: { default: 'docker.io', ca, dockerConfig: null, hosts: { 'ghcr.io': { username: 'bob', password: '<redacted>' } } },
      storage: { quota: '1GiB', highWatermark: 0.95, lowWatermark: 0.8, diskGuard: 0.95 }
    })
    const again = await load(printed)
    expect(again.config).toEqual({ ...config, registry: { ...config.registry, hosts: { 'ghcr.io': { username: 'bob', password: '<redacted>' } } } })
  })

  describe('errors name the key and where it was set', () => {
    it('an unknown key in the file, at any depth, with its line', async () => {
      expect(await failure('dataDir: /d\nstorage:\n  quotta: 5GiB\n')).toBe('config file ' + join(dir, `c${n - 1}.yml`) + ':3: unknown key storage.quotta; did you mean storage.quota?')
      expect(await failure('dataDir: /d\nuploadrate: 1MB\n')).toMatch(/^config file .*\.yml:2: unknown key uploadrate; did you mean uploadRate\?$/)
      expect(await failure('dataDir: /d\nfrobnicate: 1\n')).toMatch(/^config file .*\.yml:2: unknown key frobnicate$/)
      expect(await failure('dataDir: /d\nregistry:\n  hosts:\n    ghcr.io:\n      passwd: x\n')).toMatch(/^config file .*:5: unknown key registry.hosts.ghcr.io.passwd; did you mean registry.hosts.ghcr.io.password\?$/)
      expect(await failure('dataDir: /d\nregistry.default: ghcr.io\n')).toMatch(/:2: unknown key registry.default \(nest it under registry:\)$/)
    })

    it('a value of the wrong kind in the file', async () => {
      expect(await failure('dataDir: /d\nstorage:\n  quota: lots\n')).toMatch(/^config file .*\.yml:3: storage.quota: must be a size like 500000, 100MB or 1GiB, got "lots"$/)
      expect(await failure('dataDir: /d\nseedTimeout: soon\n')).toMatch(/:2: seedTimeout: must be a duration like 500ms, 5s or 2m .*got "soon"$/)
      expect(await failure('dataDir: /d\noriginTimeout: 2h\n')).toMatch(/:2: originTimeout: must be between 1ms and 1h, got "2h"$/)
      expect(await failure('dataDir: /d\nseed: yes\n')).toMatch(/:2: seed: must be true or false, got "yes"$/)
      expect(await failure('dataDir: /d\nlisten: /ip4/0.0.0.0/tcp/1\n')).toMatch(/:2: listen: must be a list, got "\/ip4\/0.0.0.0\/tcp\/1"$/)
      expect(await failure('dataDir: /d\nbootstrap: [nope]\n')).toMatch(/:2: bootstrap: "nope" is not a multiaddr/)
      expect(await failure('dataDir: /d\nuploadSlots: 0\n')).toMatch(/:2: uploadSlots: must be an integer in 1..1024, got "0"$/)
      expect(await failure('dataDir: /d\npieceSize: 1KiB\n')).toMatch(/:2: pieceSize: must be between 64KiB and 64MiB, got "1KiB"$/)
      expect(await failure('dataDir: /d\napi: 127.0.0.1\n')).toMatch(/:2: api: must be HOST:PORT, got "127.0.0.1"$/)
      expect(await failure('dataDir: /d\nmirror: true\n')).toMatch(/:2: mirror: must be HOST:PORT or false, got true$/)
      expect(await failure('dataDir: /d\ntrustedSeeds: [/ip4/1.2.3.4/tcp/1]\n')).toMatch(/:2: trustedSeeds: "\/ip4\/1.2.3.4\/tcp\/1" is not a peer id$/)
      expect(await failure('dataDir: /d\nregistry:\n  default: https://ghcr.io\n')).toMatch(/:3: registry.default: "https:\/\/ghcr.io" is not a registry host/)
      expect(await failure('dataDir: /d\nregistry:\n  insecure: [registry.local:5000, "a b"]\n')).toMatch(/:3: registry.insecure: "a b" is not a registry host/)
      expect(await failure('dataDir: /d\nregistry:\n  hosts:\n    https://ghcr.io: {}\n')).toMatch(/:4: registry.hosts: "https:\/\/ghcr.io" is not a registry host/)
      expect(await failure('dataDir: /d\nregistry:\n  hosts:\n    ghcr.io: { endpoint: ftp://x }\n')).toMatch(/:4: registry.hosts.ghcr.io.endpoint: must be an http or https URL/)
      expect(await failure('dataDir: /d\nregistry:\n  hosts:\n    ghcr.io: { username: bob, password: 1234 }\n')).toMatch(/:4: registry.hosts.ghcr.io.password: must be a non-empty string, got 1234 \(quote it\)$/)
      expect(await failure('dataDir: /d\nregistry:\n  hosts:\n    ghcr.io: { username: bob }\n')).toMatch(/:4: registry.hosts.ghcr.io: username and password go together$/)
      expect(await failure('dataDir: /d\nstorage: 5GiB\n')).toMatch(/:2: storage: must be a mapping of keys to values, got "5GiB"$/)
      expect(await failure('- dataDir\n')).toMatch(/^config file .*:1: must be a mapping of keys to values/)
    })

    it('YAML that does not parse: one line with the file and line', async () => {
      expect(await failure('dataDir: /d\nlisten: [a,\n')).toMatch(/^config file .*\.yml:\d+: not valid YAML: /)
      expect(await failure('dataDir: /d\nseed: true\nseed: false\n')).toMatch(/^config file .*\.yml:3: not valid YAML: Map keys must be unique$/)
      expect(await failure('dataDir: /d\n  bad: indent\n')).toMatch(/^config file .*\.yml:\d+: not valid YAML: /)
    })

    it('a config file that cannot be read', async () => {
      expect(await failure(undefined, {}, { config: join(dir, 'missing.yml') })).toMatch(/^cannot read config file .*missing.yml: ENOENT/)
    })

    it('environment variables that are not settings are ignored: silently when Kubernetes set them for a Service, with a warning otherwise', async () => {
      // what a pod gets in a namespace with Services named damselfly and damselfly-seed
      const service = {
        DAMSELFLY_SERVICE_HOST: '10.0.0.7',
        DAMSELFLY_SERVICE_PORT: '65001',
        DAMSELFLY_SERVICE_PORT_MIRROR: '65001',
        DAMSELFLY_PORT: 'tcp://10.0.0.7:65001',
        DAMSELFLY_PORT_65001_TCP: 'tcp://10.0.0.7:65001',
        DAMSELFLY_PORT_65001_TCP_PROTO: 'tcp',
        DAMSELFLY_PORT_65001_TCP_PORT: '65001',
        DAMSELFLY_PORT_65001_TCP_ADDR: '10.0.0.7',
        DAMSELFLY_SEED_SERVICE_HOST: '10.0.0.8',
        DAMSELFLY_SEED_PORT_4001_TCP_ADDR: '10.0.0.8'
      }
      const quiet = await load(undefined, { DAMSELFLY_DATA_DIR: '/d', ...service })
      expect(quiet.warnings).toEqual([])
      expect(quiet.config.seed).toBe(false)
      const { warnings } = await load(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_SEEDS: 'true', DAMSELFLY_FROBNICATE: '1', DAMSELFLY_REGISTRY_HOSTS: 'ghcr.io' })
      expect(warnings).toEqual([
        'environment DAMSELFLY_SEEDS is not a setting, ignored; did you mean DAMSELFLY_SEED?',
        'environment DAMSELFLY_FROBNICATE is not a setting, ignored',
        'environment DAMSELFLY_REGISTRY_HOSTS is not a setting, ignored'
      ])
    })

    it('environment variables: a bad value', async () => {
      expect(await failure(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_STORAGE_QUOTA: 'lots' })).toBe('environment DAMSELFLY_STORAGE_QUOTA: storage.quota: must be a size like 500000, 100MB or 1GiB, got "lots"')
      expect(await failure(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_SEED: 'yes' })).toBe('environment DAMSELFLY_SEED: seed: must be true or false, got "yes"')
      expect(await failure(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_BOOTSTRAP: '/ip4/1.2.3.4/tcp/1,nope' })).toMatch(/^environment DAMSELFLY_BOOTSTRAP: bootstrap: "nope" is not a multiaddr/)
      expect(await failure(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_STORAGE_HIGH_WATERMARK: '1.5' })).toBe('environment DAMSELFLY_STORAGE_HIGH_WATERMARK: storage.highWatermark: must be a number above 0 and at most 1, got "1.5"')
      // the two that are not settings pass
      await expect(load(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_TEST: '1', DAMSELFLY_CONFIG: '' })).resolves.toBeDefined()
    })

    it('flags keep their own wording', async () => {
      expect(await failure(undefined, {}, { 'data-dir': '/d', 'upload-rate': 'fast' })).toBe('flag --upload-rate must be a size like 500000, 100MB or 1GiB, got "fast"')
      expect(await failure(undefined, {}, { 'data-dir': '/d', quota: 'lots' })).toBe('flag --quota must be a size like 500000, 100MB or 1GiB, got "lots"')
      expect(await failure(undefined, {}, { 'data-dir': '/d', api: 'nonsense' })).toBe('flag --api must be HOST:PORT, got "nonsense"')
      expect(await failure(undefined, {}, { 'data-dir': '/d', listen: ['not-a-multiaddr'] })).toMatch(/^flag --listen "not-a-multiaddr" is not a multiaddr/)
      expect(await failure(undefined, {}, { 'data-dir': '/d', mirror: '127.0.0.1:1', 'no-mirror': true })).toBe('--mirror and --no-mirror contradict each other')
    })

    it('settings that disagree, and a missing data dir', async () => {
      expect(await failure('dataDir: /d\nstorage: { lowWatermark: 0.95 }\n', {})).toMatch(/^storage.lowWatermark 0.95 \(config file .*:2\) must be below storage.highWatermark 0.9 \(the default\)$/)
      expect(await failure(undefined, { DAMSELFLY_STORAGE_QUOTA: '1GiB' })).toBe('--data-dir is required (or DAMSELFLY_DATA_DIR, or dataDir in a config file)')
    })

    it('CA and credentials files are read and checked at start', async () => {
      const notPem = await file('hello\n', 'not.pem')
      expect(await failure(`dataDir: /d\nregistry:\n  ca: ${notPem}\n`)).toMatch(/^config file .*:3: registry.ca: .*not.pem holds no PEM certificate$/)
      expect(await failure(undefined, { DAMSELFLY_DATA_DIR: '/d', DAMSELFLY_REGISTRY_CA: join(dir, 'nope.pem') })).toMatch(/^environment DAMSELFLY_REGISTRY_CA: registry.ca: cannot read .*nope.pem: ENOENT/)
      const notJson = await file('{', 'bad.json')
      expect(await failure(undefined, {}, { 'data-dir': '/d', 'docker-config': notJson })).toMatch(/^flag --docker-config .*bad.json is not JSON/)
      const badAuth = await file(JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from('nocolon').toString('base64') } } }), 'badauth.json')
      expect(await failure(`dataDir: /d\nregistry: { dockerConfig: ${badAuth} }\n`)).toMatch(/^config file .*:2: registry.dockerConfig: .*badauth.json: auths\["ghcr.io"\].auth is not base64 of user:password$/)
    })
  })
})
