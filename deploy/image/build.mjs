#!/usr/bin/env node
// Builds the Damselfly container image with podman, from what is on this
// machine and Debian's and npm's registries only:
//   node deploy/image/build.mjs [--tag localhost/damselfly:dev]
// after `npm ci` and `npx tsc -b`. The context is made in a temp dir and
// removed; podman's layer cache (its own storage) keeps the base layers, so a
// rebuild after a code change redoes only the app layer.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, copyFile, cp, link, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')
/** What the node binary links (ldd), as Debian packages. */
const BASE_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6']
/** The daemon's user: not root, and no name of the host's. */
const UID = 65532
/** Production dependencies of earlier builds, by what decides them (see productionModules). */
const MODULES_CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'damselfly', 'image-node-modules')

const { values } = parseArgs({ options: { tag: { type: 'string', default: 'localhost/damselfly:dev' }, help: { type: 'boolean', short: 'h' } } })
if (values.help) {
  process.stdout.write('Usage: node deploy/image/build.mjs [--tag IMAGE]  (default localhost/damselfly:dev)\n')
  process.exit(0)
}

function run (command, args, options = {}) {
  const r = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options })
  if (r.error != null) return { ok: false, output: `${command}: ${r.error.message}` }
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` }
}

function must (command, args, options) {
  const r = run(command, args, options)
  if (!r.ok) throw new Error(`${command} ${args.join(' ')} failed:\n${r.output.trim()}`)
  return r.output
}

/** The three packages' files, unpacked: /lib, /lib64 and the loader, without docs and iconv modules. */
async function baseRootfs (stage) {
  const debs = join(stage, 'debs')
  await mkdir(debs)
  let r = run('apt-get', ['download', ...BASE_PACKAGES], { cwd: debs })
  // a fresh machine may have no package lists yet
  if (!r.ok && process.getuid?.() === 0) {
    must('apt-get', ['update'])
    r = run('apt-get', ['download', ...BASE_PACKAGES], { cwd: debs })
  }
  if (!r.ok) throw new Error(`apt-get download ${BASE_PACKAGES.join(' ')} failed:\n${r.output.trim()}`)
  const rootfs = join(stage, 'rootfs')
  for (const deb of (await readdir(debs)).sort()) must('dpkg-deb', ['-x', join(debs, deb), rootfs])
  await rm(join(rootfs, 'usr', 'share'), { recursive: true, force: true })
  await rm(join(rootfs, 'usr', 'lib', 'x86_64-linux-gnu', 'gconv'), { recursive: true, force: true })
  await mkdir(join(rootfs, 'etc'), { recursive: true })
  await writeFile(join(rootfs, 'etc', 'passwd'), `root:x:0:0:root:/root:/sbin/nologin\ndamselfly:x:${UID}:${UID}:damselfly:/var/lib/damselfly:/sbin/nologin\n`)
  await writeFile(join(rootfs, 'etc', 'group'), `root:x:0:\ndamselfly:x:${UID}:\n`)
  await mkdir(join(rootfs, 'tmp'))
  await chmod(join(rootfs, 'tmp'), 0o1777)
}

/** The node binary of the `node` devDependency (Node 24), linked rather than copied where it can be. */
async function nodeBinary (stage) {
  const source = join(ROOT, 'node_modules', 'node', 'bin', 'node')
  const version = must(source, ['--version']).trim()
  if (!version.startsWith('v24.')) throw new Error(`${source} is ${version}, not Node 24: run npm ci`)
  await link(source, join(stage, 'node')).catch(async () => copyFile(source, join(stage, 'node')))
  return version
}

/** The workspace as it runs: each package's package.json and compiled .js, the dashboard, and production node_modules. */
async function app (stage) {
  const out = join(stage, 'app')
  const rootPackage = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  await mkdir(out)
  await copyFile(join(ROOT, 'package.json'), join(out, 'package.json'))
  await copyFile(join(ROOT, 'package-lock.json'), join(out, 'package-lock.json'))
  for (const ws of rootPackage.workspaces) {
    const dist = join(ROOT, ws, 'dist')
    if ((await readdir(dist).catch(() => [])).length === 0) throw new Error(`${dist} is empty: run npx tsc -b first`)
    await mkdir(join(out, ws), { recursive: true })
    await copyFile(join(ROOT, ws, 'package.json'), join(out, ws, 'package.json'))
    await cp(dist, join(out, ws, 'dist'), { recursive: true, filter: src => !/\.(d\.ts|map)$/.test(src) })
  }
  await cp(join(ROOT, 'packages', 'daemon', 'ui'), join(out, 'packages', 'daemon', 'ui'), { recursive: true })
  await productionModules(out, rootPackage.workspaces)
  return rootPackage.version
}

/** `from` copied to `to` as hard links (nothing writes to either), or as files across file systems. */
async function copyTree (from, to) {
  if (run('cp', ['-al', from, to]).ok) return
  await rm(to, { recursive: true, force: true })
  must('cp', ['-a', from, to])
}

/**
 * `npm ci --omit=dev` in `out`, or a copy of what an earlier build's gave for
 * the same lockfile, package.json files, npm and platform: the install takes
 * about 20 s, the copy 3. npm puts some packages in a workspace's own
 * node_modules (zod in packages/cli's): every one of them is kept.
 */
async function productionModules (out, workspaces) {
  const hash = createHash('sha256')
  for (const file of ['package-lock.json', 'package.json', ...workspaces.map(ws => join(ws, 'package.json'))]) {
    hash.update(`${file}\0`).update(await readFile(join(out, file))).update('\0')
  }
  hash.update(`${must('npm', ['--version']).trim()} ${process.platform} ${process.arch}`)
  const cached = join(MODULES_CACHE, hash.digest('hex'))
  const dirs = ['node_modules', ...workspaces.map(ws => join(ws, 'node_modules'))]
  if (existsSync(cached)) {
    for (const dir of dirs) if (existsSync(join(cached, dir))) await copyTree(join(cached, dir), join(out, dir))
    return
  }
  // from npm's cache when it has them (it does after the workspace's own npm ci)
  must('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: out })
  // kept for the next build; a copy cut short never takes the final name
  const partial = `${cached}.tmp-${process.pid}`
  try {
    await mkdir(MODULES_CACHE, { recursive: true })
    // one set kept: the ones of other lockfiles go (a build under way elsewhere keeps its partial copy)
    for (const old of await readdir(MODULES_CACHE)) {
      if (!old.includes('.tmp-')) await rm(join(MODULES_CACHE, old), { recursive: true, force: true })
    }
    for (const dir of dirs) {
      if (!existsSync(join(out, dir))) continue
      await mkdir(dirname(join(partial, dir)), { recursive: true })
      await copyTree(join(out, dir), join(partial, dir))
    }
    await rename(partial, cached)
  } catch (err) {
    process.stderr.write(`the production dependencies were not kept for the next build: ${err.message}\n`)
    await rm(partial, { recursive: true, force: true })
  }
}

const started = Date.now()
if (!run('podman', ['--version']).ok) {
  process.stderr.write('podman is needed to build the image: apt-get install -y podman\n')
  process.exit(1)
}
const stage = await mkdtemp(join(tmpdir(), 'damselfly-image-'))
try {
  await baseRootfs(stage)
  const nodeVersion = await nodeBinary(stage)
  const version = await app(stage)
  await mkdir(join(stage, 'data'))
  await copyFile(join(HERE, 'config.yaml'), join(stage, 'config.yaml'))
  await copyFile(join(HERE, 'healthcheck.mjs'), join(stage, 'healthcheck.mjs'))
  const revision = run('git', ['rev-parse', 'HEAD'], { cwd: ROOT })
  const labels = {
    'org.opencontainers.image.title': 'damselfly',
    'org.opencontainers.image.description': 'Peer-to-peer distribution of container images on libp2p',
    'org.opencontainers.image.version': version,
    'org.opencontainers.image.licenses': 'Apache-2.0',
    ...(revision.ok ? { 'org.opencontainers.image.revision': revision.output.trim() } : {}),
    'io.damselfly.node-version': nodeVersion
  }
  process.stdout.write(`context ready after ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  must('podman', ['build', '--format', 'docker', '--file', join(HERE, 'Containerfile'), '--tag', values.tag,
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), stage])
  process.stdout.write(`built ${values.tag} (damselfly ${version}, node ${nodeVersion}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
} catch (err) {
  process.stderr.write(`${err.message}\n`)
  process.exitCode = 1
} finally {
  await rm(stage, { recursive: true, force: true })
}
