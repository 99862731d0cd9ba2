/** The transports a browser peer can dial: plain or secure WebSockets, WebRTC-direct to a daemon, WebRTC to another browser through a relay. */
export const BROWSER_TRANSPORTS = ['websockets', 'webrtc-direct', 'webrtc'] as const

export type BrowserTransport = typeof BROWSER_TRANSPORTS[number]

/** Bytes of blobs a browser peer keeps in memory unless told otherwise. */
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024

/**
 * Upload sessions a browser serves at once: a page shares one CPU with
 * everything else it does, and it leaves when the tab closes, so it is a
 * smaller parent than a daemon.
 */
export const DEFAULT_UPLOAD_SLOTS = 4

/** How long createBrowserPeer waits for a bootstrap peer to answer. */
export const DEFAULT_JOIN_TIMEOUT_MS = 15_000

/** How often it looks. */
export const JOIN_POLL_MS = 50
