// Bundles the browser peer (dist/index.js, built by tsc -b) into one ES
// module a page loads with <script type="module">: every dependency inside,
// resolved with the browser conditions and "browser" fields. A Node built-in
// or anything else left to import fails the build: a page could not load it.
import { fileURLToPath } from 'node:url'
import { rolldown } from 'rolldown'

const PACKAGE = fileURLToPath(new URL('..', import.meta.url))
export const BUNDLE = fileURLToPath(new URL('../dist/damselfly-browser.js', import.meta.url))

const warnings = []
const bundle = await rolldown({
  input: './dist/index.js',
  cwd: PACKAGE,
  platform: 'browser',
  onLog: (level, log) => {
    if (level === 'warn') warnings.push(`${log.code ?? ''}: ${log.message}`)
  }
})
try {
  const { output } = await bundle.write({ file: BUNDLE, format: 'esm', codeSplitting: false, minify: true, sourcemap: true })
  const chunk = output[0]
  const left = [...chunk.imports, ...chunk.dynamicImports]
  if (left.length > 0 || warnings.length > 0) {
    console.error(`the browser bundle is not self-contained:\n${[...left.map(i => `imports ${i}`), ...warnings].join('\n')}`)
    process.exitCode = 1
  }
} finally {
  await bundle.close()
}
