import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
/** What npm links as `damselfly`. */
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'damselfly.js')
/** Debian's Node, older than the CLI needs, when the machine has it. */
const OLD_NODE = '/usr/bin/node'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

async function run (command: string, args: string[]): Promise<Run> {
  return new Promise(resolve => {
    execFile(command, args, { cwd: ROOT, timeout: 20_000 }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

const damselfly = async (...args: string[]): Promise<Run> => run(process.execPath, [BIN, ...args])

async function nodeMajor (node: string): Promise<number | undefined> {
  if (!existsSync(node)) return undefined
  const r = await run(node, ['-p', 'process.versions.node'])
  return r.code === 0 ? Number(r.stdout.split('.')[0]) : undefined
}

describe('the damselfly command', () => {
  it('--version names the package version and Node', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8'))
    const r = await damselfly('--version')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`damselfly ${version} (Node.js ${process.version})\n`)
  })

  it('on Node older than 22, says so in one line instead of a stack trace', async () => {
    const major = await nodeMajor(OLD_NODE)
    if (major == null || major >= 22) return
    const r = await run(OLD_NODE, [BIN, 'status'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^damselfly: needs Node\.js 22 or newer, this is v\d+\.\d+\.\d+ \(\/usr\/bin\/node\)\n$/)
  })

  it('an unknown flag is one line in the same words for every command, with the nearest flag', async () => {
    const cases: Array<[string[], string]> = [
      [['status', '--jsn'], 'damselfly status: unknown flag --jsn; did you mean --json? (damselfly status --help lists them)'],
      [['demo', '--node', '3'], 'damselfly demo: unknown flag --node; did you mean --nodes? (damselfly demo --help lists them)'],
      [['get', '--digets', 'x'], 'damselfly get: unknown flag --digets; did you mean --digest? (damselfly get --help lists them)'],
      [['daemon', '--data-dri', '/tmp/x'], 'damselfly daemon: unknown flag --data-dri; did you mean --data-dir? (damselfly daemon --help lists them)'],
      [['runtime-config', 'containerd', '--mirorr', 'x'], 'damselfly runtime-config: unknown flag --mirorr; did you mean --mirror? (damselfly runtime-config --help lists them)'],
      [['swarm-key', '--frobnicate'], 'damselfly swarm-key: unknown flag --frobnicate (damselfly swarm-key --help lists them)'],
      [['status', '--api'], 'damselfly status: --api needs a value'],
      [['status', '--json=yes'], 'damselfly status: --json takes no value'],
      [['status', 'extra'], 'damselfly status: unexpected argument "extra" (damselfly status --help lists what it takes)']
    ]
    for (const [args, line] of cases) {
      const r = await damselfly(...args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toBe(`${line}\n`)
    }
    const command = await damselfly('stauts')
    expect(command.code).toBe(2)
    expect(command.stderr.split('\n')[0]).toBe('damselfly: unknown command "stauts"; did you mean status?')
  })

  it('npm run example:swarm -- --help shows the usage; a wrong flag is one line', async () => {
    const example = join(ROOT, 'examples', 'swarm-local.mjs')
    const help = await run(process.execPath, [example, '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: npm run example:swarm -- /)
    const wrong = await run(process.execPath, [example, '--peer', '3'])
    expect(wrong.code).toBe(2)
    expect(wrong.stderr.split('\n')[0]).toBe('example:swarm: unknown flag --peer; did you mean --peers? (npm run example:swarm -- --help lists them)')
    expect(wrong.stderr).not.toMatch(/^\s+at /m)
  })
})
