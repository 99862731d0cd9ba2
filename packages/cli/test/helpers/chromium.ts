/** Debian's Chromium (scripts/test-tools.mjs installs it), not a downloaded one. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Switches for every Chromium the tests launch. Left alone, Chromium looked up
 * and connected to update.googleapis.com, accounts.google.com,
 * content-autofill.googleapis.com, clients2.google.com and
 * optimizationguide-pa.googleapis.com even with --disable-background-networking.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  // headless in a container, no GPU; no sandbox as root
  '--headless', '--no-sandbox', '--disable-gpu',
  // fewer background services
  '--disable-background-networking',
  // every name and address resolves to nothing except loopback: no DNS, no connection to the outside,
  // whatever the feature (an address of a test's own network namespace would need an EXCLUDE here)
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1 , EXCLUDE ::1'
]
