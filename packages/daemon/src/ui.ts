import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The dashboard's files (HTML, ES modules, CSS): `ui/` beside `dist/` and
 * `src/`, so the same path works from the build and from the sources.
 */
export const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url))

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml'
}

/** One flat name with a known extension: nothing that could climb out of UI_DIR. */
const UI_PATH = /^\/ui\/([a-z0-9][a-z0-9-]*\.(html|js|css|svg))$/

const cache = new Map<string, Buffer>()

async function load (name: string): Promise<Buffer | undefined> {
  let body = cache.get(name)
  if (body != null) return body
  try {
    body = await readFile(UI_DIR + name)
  } catch (err: any) {
    if (err.code === 'ENOENT') return undefined
    throw err
  }
  cache.set(name, body)
  return body
}

/**
 * Answers `GET /` with `page` and `GET /ui/<file>` with a dashboard file;
 * false when the request is for something else (or a file that does not
 * exist), so the caller answers it.
 */
export async function serveUi (req: IncomingMessage, res: ServerResponse, page: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  const name = path === '/' ? page : UI_PATH.exec(path)?.[1]
  if (name == null) return false
  const body = await load(name)
  if (body == null) return false
  res.writeHead(200, {
    'content-type': TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
    'content-length': body.byteLength,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff'
  })
  res.end(req.method === 'HEAD' ? undefined : body)
  return true
}
