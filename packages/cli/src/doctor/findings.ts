/**
 * What `damselfly doctor` found: one line per check, with the fix when
 * something is wrong. A check never throws; what it could not look at is a
 * finding too.
 */

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip'

export interface Finding {
  /** Short name of what was checked: `daemon`, `listen`, `containerd`, `pull`, ... */
  check: string
  verdict: Verdict
  message: string
  /** What to do about it, for warn and fail. */
  fix?: string
}

export const ok = (check: string, message: string): Finding => ({ check, verdict: 'ok', message })
export const warn = (check: string, message: string, fix?: string): Finding => ({ check, verdict: 'warn', message, fix })
export const fail = (check: string, message: string, fix?: string): Finding => ({ check, verdict: 'fail', message, fix })
export const skip = (check: string, message: string): Finding => ({ check, verdict: 'skip', message })

const LABEL: Record<Verdict, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' }

/** The findings as an operator reads them in a terminal. */
export function formatFindings (findings: Finding[]): string {
  const width = Math.max(...findings.map(f => f.check.length), 6)
  const lines: string[] = []
  for (const f of findings) {
    lines.push(`${LABEL[f.verdict].padEnd(5)} ${f.check.padEnd(width)}  ${f.message}`)
    if (f.fix != null) {
      const indent = ' '.repeat(6 + width + 2)
      lines.push(...f.fix.split('\n').map((line, i) => `${indent}${i === 0 ? 'fix: ' : '     '}${line}`))
    }
  }
  const failed = findings.filter(f => f.verdict === 'fail').length
  const warned = findings.filter(f => f.verdict === 'warn').length
  lines.push('', failed === 0
    ? `no problem found${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`
    : `${failed} problem${failed === 1 ? '' : 's'} found${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}`)
  return lines.join('\n') + '\n'
}
