// Fetches a blob in headless Firefox ESR and prints what the page saw as one
// JSON line (page.ts' PageFetch). Run inside a network namespace
// (`ip netns exec NS node firefox-fetch.mjs '{"bootstrap":[…],"digest":…}'`):
// it serves the page and the bundle on that namespace's loopback and drives
// Firefox there, where a puppeteer in another namespace could not reach
// Firefox's remote-debugging port. The page and the fetch are page.ts' own
// (Node runs its TypeScript as is). Bounded by timeoutMs: it then kills Firefox and exits 2; on a
// failure it prints the error and the page's log to stderr and exits 1.
import puppeteer from 'puppeteer-core'
import { FIREFOX_PREFS } from '../../../cli/test/helpers/firefox.ts'
import { fetchInPage, servePage } from './page.ts'

const { bootstrap, transports, digest, timeoutMs = 90_000, executablePath = '/usr/bin/firefox-esr', prefs = {} } = JSON.parse(process.argv[2] ?? '{}')
if (!Array.isArray(bootstrap) || typeof digest !== 'string') {
  process.stderr.write('usage: firefox-fetch.mjs \'{"bootstrap":["/ip4/…"],"transports":["webrtc-direct"],"digest":"sha256:…","timeoutMs":90000,"prefs":{}}\'\n')
  process.exit(64)
}

let firefox
const logs = []
/** Firefox and its content processes: puppeteer starts it as the leader of a process group of its own. */
function killFirefox () {
  const child = firefox?.process()
  if (child?.pid == null || child.exitCode != null || child.signalCode != null) return
  for (const pid of [-child.pid, child.pid]) {
    try {
      process.kill(pid, 'SIGKILL')
      return
    } catch {
      // already gone
    }
  }
}
const timer = setTimeout(() => {
  process.stderr.write(`firefox-fetch: no result in ${timeoutMs} ms\n${logs.join('\n')}\n`)
  killFirefox()
  process.exit(2)
}, timeoutMs)
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    killFirefox()
    process.exit(1)
  })
}

const { server, url } = await servePage()

let code = 0
try {
  // the driver's own signal handlers above kill Firefox
  firefox = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    extraPrefsFirefox: {
      // nothing but loopback, as in the root namespace's tests (here the namespace's resolver is its loopback anyway)
      ...FIREFOX_PREFS,
      // host candidates as addresses, not mDNS names: Firefox would join the mDNS group (224.0.0.251) to answer for them
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      ...prefs
    },
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false
  })
  const tab = await firefox.newPage()
  tab.on('pageerror', err => logs.push(`pageerror ${String(err)}`))
  tab.on('console', msg => logs.push(`${msg.type()} ${msg.text()}`))
  await tab.goto(url)
  const got = await fetchInPage(tab, { bootstrap, transports }, digest)
  process.stdout.write(`${JSON.stringify(got)}\n`)
} catch (err) {
  process.stderr.write(`firefox-fetch: ${err?.stack ?? String(err)}\n${logs.join('\n')}\n`)
  code = 1
} finally {
  clearTimeout(timer)
  await Promise.race([firefox?.close(), new Promise(resolve => setTimeout(resolve, 10_000))]).catch(() => {})
  killFirefox()
  server.close()
}
process.exit(code)
