import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand } from './registry.js'
import type { Credentials } from './registry.js'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A token server of the Docker registry token spec, for the CNCF
 * distribution registry's `auth: token` mode: GET /token?service&scope, basic
 * credentials optional, answers a JWT (ES256) signed with a key whose
 * self-signed certificate the registry trusts (`rootcertbundle`). Users with
 * the right password get pull and push on every repository; anonymous
 * clients get pull on repositories outside `private/`.
 */
export interface TokenServer {
  realm: string
  service: string
  issuer: string
  /** PEM certificate for the registry's rootcertbundle. */
  certPath: string
  /** Token requests answered, by user ('' for anonymous). */
  issued: Map<string, number>
  close(): Promise<void>
}

const base64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url')

/** libtrust's key id, which distribution matches against the JWT's `kid`: base32 of sha256(SPKI DER)[:30], in groups of 4. */
function libtrustKeyId (spkiDer: Buffer): string {
  const hash = createHash('sha256').update(spkiDer).digest().subarray(0, 30)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of hash) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return out.match(/.{4}/g)!.join(':')
}

export async function startTokenServer (users: Credentials[]): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'damselfly-token-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  const r = await runCommand('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=damselfly-test-token'], 15_000)
  if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`)
  const key = createPrivateKey(await readFile(keyPath))
  const kid = libtrustKeyId(createPublicKey(key).export({ type: 'spki', format: 'der' }))
  const service = 'damselfly-test-registry'
  const issuer = 'damselfly-test-issuer'
  const issued = new Map<string, number>()

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://token')
      // containerd given credentials uses the OAuth2 password grant: a form POST, answered with access_token
      let form: URLSearchParams | undefined
      if (req.method === 'POST') {
        let body = ''
        for await (const chunk of req) body += String(chunk)
        form = new URLSearchParams(body)
      }
      answer(url, form, req.headers.authorization, res)
    })().catch(err => res.destroy(err))
  })

  function answer (url: URL, form: URLSearchParams | undefined, auth: string | undefined, res: ServerResponse): void {
    let user = ''
    let name: string | undefined
    let password: string | undefined
    if (form != null) {
      if (form.get('grant_type') !== 'password') {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unsupported_grant_type"}')
        return
      }
      name = form.get('username') ?? ''
      password = form.get('password') ?? ''
    } else if (auth != null) {
      const [scheme, value] = auth.split(' ')
      const [n, ...rest] = Buffer.from(value ?? '', 'base64').toString().split(':')
      if (scheme !== 'Basic') name = ''
      else [name, password] = [n, rest.join(':')]
    }
    if (name != null) {
      if (!users.some(u => u.user === name && u.password === password)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong credentials"}')
        return
      }
      user = name
    }
    const scopes = form != null ? (form.get('scope') ?? '').split(' ').filter(Boolean) : url.searchParams.getAll('scope')
    const access = scopes.flatMap(scope => {
      const [type, name, actions] = scope.split(':')
      if (type !== 'repository' || name == null || actions == null) return []
      const allowed = actions.split(',').filter(a => user !== '' || (a === 'pull' && !name.startsWith('private/')))
      return allowed.length > 0 ? [{ type, name, actions: allowed }] : []
    })
    const now = Math.floor(Date.now() / 1000)
    const header = base64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }))
    const claims = base64url(JSON.stringify({ iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }))
    const signature = base64url(sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }))
    issued.set(user, (issued.get(user) ?? 0) + 1)
    const token = `${header}.${claims}.${signature}`
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ token, ...(form != null ? { access_token: token } : {}), expires_in: 300, issued_at: new Date(now * 1000).toISOString() }))
  }
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    issued,
    async close () {
      server.closeAllConnections()
      server.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
