// Packs the `damselfly` command as one tarball that `npm install -g` turns
// into a working command without a registry: @damselfly/cli with everything
// it runs on inside (bundleDependencies), the workspace packages (protocol,
// store, registry, swarm, daemon: not published anywhere) and their
// third-party dependencies at the versions package-lock.json pins, installed
// from npm's cache (which npm ci fills). npm cannot bundle workspace packages
// itself: bundleDependencies finds nothing in a workspace's own node_modules.
//
//   npm run build && node scripts/pack-cli.mjs [--out DIR]     prints the tarball's path
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BUNDLED = ['protocol', 'store', 'registry', 'swarm', 'daemon']

let out
try {
  out = resolve(parseArgs({ options: { out: { type: 'string', default: '.' } } }).values.out)
} catch (err) {
  process.stderr.write(`pack-cli: ${err.message}\nUsage: node scripts/pack-cli.mjs [--out DIR]\n`)
  process.exit(2)
}

const readJson = file => JSON.parse(readFileSync(file, 'utf8'))
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })

/** The repository's lock without what only development needs and without the workspace packages. */
function shrinkwrap (manifest) {
  const lock = readJson(join(ROOT, 'package-lock.json'))
  const { name, version, dependencies } = manifest
  const packages = { '': { name, version, dependencies } }
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || path.startsWith('node_modules/@damselfly/')) continue
    if (entry.link === true || entry.dev === true || entry.devOptional === true) continue
    packages[path] = entry
  }
  // a workspace's own version of a package, where the repository's top level holds another
  // (the tarball's top level is the workspaces': the packages that need one are bundled beside it)
  for (const [path, entry] of Object.entries(lock.packages)) {
    const own = /^packages\/([^/]+)\/(node_modules\/.*)$/.exec(path)
    if (own == null || entry.dev === true) continue
    if (own[1] !== 'cli' && packages[own[2]] != null) throw new Error(`${path}: ${own[2]} is in the lock twice`)
    packages[own[2]] = entry
  }
  return { name, version, lockfileVersion: 3, requires: true, packages }
}

const work = mkdtempSync(join(tmpdir(), 'damselfly-pack-'))
try {
  const stage = join(work, 'package')
  const cli = readJson(join(ROOT, 'packages/cli/package.json'))
  for (const name of cli.files) cpSync(join(ROOT, 'packages/cli', name), join(stage, name), { recursive: true })
  for (const file of ['README.md']) cpSync(join(ROOT, 'packages/cli', file), join(stage, file))
  cpSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'))

  const dependencies = Object.fromEntries(Object.entries(cli.dependencies).filter(([dep]) => !dep.startsWith('@damselfly/')))
  const packed = []
  for (const name of BUNDLED) {
    const dir = join(ROOT, 'packages', name)
    const pkg = readJson(join(dir, 'package.json'))
    // exactly the files the package would publish
    packed.push({ pkg, tarball: join(work, JSON.parse(npm(['pack', dir, '--json', '--pack-destination', work], work))[0].filename) })
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
      if (dep.startsWith('@damselfly/')) continue
      if (dependencies[dep] != null && dependencies[dep] !== range) throw new Error(`${dep}: ${dependencies[dep]} and ${range} in different packages`)
      dependencies[dep] = range
    }
  }
  const manifest = { ...cli, dependencies }
  delete manifest.devDependencies
  writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  // the third-party packages, as the repository's lock pins them
  writeFileSync(join(stage, 'npm-shrinkwrap.json'), JSON.stringify(shrinkwrap(manifest), null, 2) + '\n')
  npm(['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], stage)
  rmSync(join(stage, 'npm-shrinkwrap.json'))
  for (const { pkg, tarball } of packed) {
    const into = join(stage, 'node_modules', pkg.name)
    mkdirSync(into, { recursive: true })
    execFileSync('tar', ['-xzf', tarball, '-C', into, '--strip-components=1'])
    manifest.dependencies[pkg.name] = pkg.version
  }
  manifest.bundleDependencies = Object.keys(manifest.dependencies)
  writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  mkdirSync(out, { recursive: true })
  const [tarball] = JSON.parse(npm(['pack', '--json', '--pack-destination', out], stage))
  process.stdout.write(join(out, tarball.filename) + '\n')
} finally {
  rmSync(work, { recursive: true, force: true })
}
