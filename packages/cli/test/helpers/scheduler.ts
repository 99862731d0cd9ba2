import { spawn } from 'node:child_process'
import { DAMSELFLY_BIN } from '@damselfly/cli'
import { trackChild } from './registry.js'
import type { ChildProcess } from 'node:child_process'

export interface SchedulerProcess {
  child: ChildProcess
  peerId: string
  /** The first address it said it listens on. */
  addr: string
  /** What it printed on stdout, line by line (its stats lines too). */
  lines: string[]
}

/**
 * `damselfly` with `args` (`scheduler ...`): resolves once it printed its
 * peer id and an address, rejects with what it said if it exits first or
 * says nothing of the kind within 30 s. Killed when the test process exits.
 */
export async function startSchedulerProcess (args: string[]): Promise<SchedulerProcess> {
  const child = spawn(process.execPath, [DAMSELFLY_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  trackChild(child)
  const lines: string[] = []
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (text: string) => { stderr += text })
  return await new Promise((resolve, reject) => {
    let peerId: string | undefined
    const said = (): string => [...lines, stderr].join('\n')
    const timer = setTimeout(() => reject(new Error(`the scheduler did not start: ${said()}`)), 30_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (text: string) => {
      for (const line of text.split('\n').filter(Boolean)) {
        lines.push(line)
        peerId ??= /^damselfly scheduler peer (\S+)$/.exec(line)?.[1]
        const addr = /^listening on (\S+)$/.exec(line)?.[1]
        if (addr != null && peerId != null) {
          clearTimeout(timer)
          resolve({ child, peerId, addr, lines })
        }
      }
    })
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`the scheduler exited (${code}): ${said()}`))
    })
  })
}
