// Prints "N passed, N failed, N skipped" from vitest's JSON report.
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? 'test-artifacts/vitest.json'
let report
try {
  report = JSON.parse(readFileSync(file, 'utf8'))
} catch (err) {
  console.log(`no test report at ${file}: ${err.message}`)
  process.exit(1)
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`)
process.exit(report.numFailedTests > 0 || report.numTotalTests === 0 ? 1 : 0)
