import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { rolldown } from 'rolldown'
import { describe, it, expect } from 'vitest'
import type { OutputChunk } from 'rolldown'

const PACKAGE = fileURLToPath(new URL('..', import.meta.url))

/**
 * The package as a web app's bundler sees it: built dist/, resolved by name
 * with browser conditions and the "browser" field. Node built-ins cannot be
 * bundled for the web, so one that reaches the graph (from this package or a
 * dependency) is left as an import and a warning.
 */
async function bundleForBrowser (): Promise<{ chunk: OutputChunk, warnings: string[] }> {
  const warnings: string[] = []
  const bundle = await rolldown({
    input: '@damselfly/protocol',
    cwd: PACKAGE,
    platform: 'browser',
    onLog: (level, log) => {
      if (level === 'warn') warnings.push(`${log.code ?? ''} ${log.id ?? ''} ${log.exporter ?? ''}`)
    }
  })
  try {
    const { output } = await bundle.generate({ format: 'esm' })
    return { chunk: output[0], warnings }
  } finally {
    await bundle.close()
  }
}

describe('the protocol package in a browser bundle', () => {
  it('bundles with nothing left to import: no Node built-in in it or its dependencies', async () => {
    expect(existsSync(new URL('../dist/index.js', import.meta.url)), 'packages/protocol is built (npx tsc -b)').toBe(true)
    const { chunk, warnings } = await bundleForBrowser()
    expect(warnings).toEqual([])
    expect(chunk.imports).toEqual([])
    expect(chunk.dynamicImports).toEqual([])
  })

  it('takes the web twin of the signing code and uses no Buffer', async () => {
    const { chunk } = await bundleForBrowser()
    const own = Object.entries(chunk.modules).filter(([id]) => id.startsWith(`${PACKAGE}dist/`))
    const names = own.map(([id]) => id.slice(PACKAGE.length))
    expect(names).toContain('dist/signatures.browser.js')
    expect(names).not.toContain('dist/signatures.js')
    for (const [id, module] of own) {
      // ArrayBuffer and SharedArrayBuffer do not match: \b needs a non-word character before
      expect(module.code ?? '', id).not.toMatch(/\bBuffer\b/)
    }
  })
})
