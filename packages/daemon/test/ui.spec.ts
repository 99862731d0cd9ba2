import { once } from 'node:events'
import { readdir } from 'node:fs/promises'
import { createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveUi, UI_DIR } from '../src/ui.js'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

describe('the dashboard\'s files', () => {
  let server: Server
  let base: string

  beforeAll(async () => {
    server = createServer((req, res) => {
      serveUi(req, res, 'index.html').then(served => {
        if (served) return
        res.writeHead(404)
        res.end()
      }, () => { res.writeHead(500).end() })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => {
    server?.close()
  })

  it('serves the page at / and every file of ui/ with its type', async () => {
    const page = await fetch(`${base}/`)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await page.text()).toMatch(/<script type="module" src="\/ui\/node-page.js">/)
    for (const name of await readdir(UI_DIR)) {
      const res = await fetch(`${base}/ui/${name}`)
      expect(res.status, name).toBe(200)
      const type = res.headers.get('content-type')
      expect(type, name).toMatch(name.endsWith('.js') ? /^text\/javascript/ : name.endsWith('.css') ? /^text\/css/ : /^text\/html/)
    }
  })

  it('serves nothing outside ui/, nor names it does not know', async () => {
    for (const path of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/sub/x.js', '/ui/missing.js', '/ui/README', '/package.json']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404)
    }
  })
})
