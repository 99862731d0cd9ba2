import puppeteer from 'puppeteer-core'
import type { Browser, LaunchOptions } from 'puppeteer-core'

/** Debian's Firefox ESR: playwright-core cannot drive it, puppeteer-core speaks WebDriver BiDi to it. */
export const FIREFOX = '/usr/bin/firefox-esr'

/**
 * Prefs that keep headless Firefox off every address but loopback's: tests
 * send traffic nowhere else. puppeteer's profile and the Remote Agent's
 * recommended prefs already turn off updates, telemetry, Safe Browsing,
 * captive-portal and connectivity checks, region lookups and the like, and
 * point `services.settings.server` at a dummy; but a release build (ESR)
 * ignores that override (unless MOZ_REMOTE_SETTINGS_DEVTOOLS=1 is set), so
 * at startup Remote Settings still looks up firefox.settings.services.mozilla.com
 * through the system resolver and connects to it, again and again. These
 * prefs stop that, and whatever other service would fetch over HTTP(S).
 *
 * Plain .ts with no imports of its own but puppeteer-core: firefox-fetch.mjs
 * (Node, no build step) imports it as is.
 */
export const FIREFOX_PREFS = {
  // every HTTP(S) request goes to a "proxy" on loopback's discard port, which refuses it: Firefox resolves no
  // proxied name itself, and a manual proxy turns DNS prefetching off too. Pages and WebSockets on 127.0.0.1 or
  // localhost bypass it (network.proxy.allow_hijacking_localhost is off), and WebRTC's UDP does not use it
  'network.proxy.type': 1,
  'network.proxy.http': '127.0.0.1',
  'network.proxy.http_port': 9,
  'network.proxy.ssl': '127.0.0.1',
  'network.proxy.ssl_port': 9,
  // and no going direct when that proxy refuses: not necko's failover for the browser's own requests, nor
  // Remote Settings' (and telemetry's) retry that bypasses the proxy; with either, the lookups and connects are back
  'network.proxy.failover_direct': false,
  'network.proxy.allow_bypass': false
} as const

/** Headless Firefox ESR with FIREFOX_PREFS; `options` adds to them (its extraPrefsFirefox to the prefs). */
export async function launchFirefox (options: LaunchOptions = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    ...options,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...options.extraPrefsFirefox }
  })
}
