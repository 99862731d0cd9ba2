// Browser peers in the demo's page: each is a Damselfly peer running in this
// tab (the browser bundle, loaded from the demo), joining the swarm through
// the daemons' WebSockets addresses and fetching the image's largest layer
// from whoever holds it, daemons or other browser peers. It posts its
// progress to the demo, which relays it to every page; once it has the blob
// it stays up and serves it to the next ones.

const REPORT_EVERY_MS = 250
const running = []

/** Browser peers this page started (their peer ids), in order. */
export function startedHere () {
  return running.map(p => p.peerId)
}

async function post (report) {
  const res = await fetch('/api/browser-peers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) })
  if (!res.ok && res.status !== 409) throw new Error(`the demo refused a report: ${res.status} ${await res.text()}`)
}

function hex (buffer) {
  return [...new Uint8Array(buffer)].map(b => b.toString(16).padStart(2, '0')).join('')
}

/**
 * Starts one browser peer: `browser` is the demo's `info.browser`
 * ({ bootstrap, blob }). Resolves once it has verified the blob (or
 * failed); `onError(message)` hears what went wrong before it had a peer id.
 */
export async function startBrowserPeer (browser, onError) {
  let peer
  try {
    const { createBrowserPeer } = await import('/browser/damselfly-browser.js')
    peer = await createBrowserPeer({ bootstrap: browser.bootstrap })
  } catch (err) {
    onError(String(err?.message ?? err))
    return
  }
  running.push(peer)
  const { digest, size } = browser.blob
  const started = performance.now()
  const report = { peerId: peer.peerId, state: 'fetching', bytes: 0, total: size, parents: {}, transports: [] }
  const refresh = () => {
    report.parents = peer.summary(digest)?.parents ?? {}
    report.transports = [...new Set(peer.connections().map(c => c.transport).filter(t => t != null))].slice(0, 8)
    report.seconds = (performance.now() - started) / 1000
  }
  let last = 0
  let sending = Promise.resolve()
  const send = (final) => {
    const now = performance.now()
    if (!final && now - last < REPORT_EVERY_MS) return
    last = now
    refresh()
    const body = { ...report, parents: { ...report.parents } }
    // in order: a late progress report must not land after the last word
    sending = sending.then(() => post(body)).catch(err => console.warn(err.message))
  }
  send(true)
  try {
    const bytes = await peer.fetch(digest, {
      onProgress: evt => {
        if (evt.type !== 'damselfly:fetch:piece') return
        report.bytes = evt.detail.received
        send(false)
      }
    })
    // the peer checked every piece and the whole digest; the page hashes what it was handed, as a user would
    report.sha256 = hex(await crypto.subtle.digest('SHA-256', bytes))
    report.bytes = bytes.byteLength
    report.state = 'verified'
  } catch (err) {
    report.state = 'failed'
    report.error = String(err?.message ?? err)
  }
  send(true)
  await sending
}
