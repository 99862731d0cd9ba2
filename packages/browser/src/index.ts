/**
 * @packageDocumentation
 *
 * A light Damselfly peer for web pages: it joins a swarm over WebSockets or
 * WebRTC (direct to a daemon, or through a daemon's circuit relay to another
 * browser), fetches a blob's pieces from several peers at once and serves
 * what it holds. Every piece is checked against its signed manifest and the
 * whole digest before the bytes reach the page. Pieces live in memory, within
 * `maxBytes`. The DHT runs in client mode: a browser cannot be dialled, so it
 * asks the DHT and never stores records for others.
 *
 * ```ts
 * const peer = await createBrowserPeer({ bootstrap: ['/ip4/10.0.0.2/tcp/4002/ws/p2p/12D3Koo...'] })
 * const bytes = await peer.fetch('sha256:...', { onProgress: evt => console.info(evt.type, evt.detail) })
 * ```
 */

import type { BrowserTransport } from './constants.js'
import type { BlobLayout } from '@damselfly/protocol'
import type { AbortOptions } from '@libp2p/interface'
import type { ProgressEvent, ProgressOptions } from 'progress-events'

export { createBrowserPeer } from './browser-peer.js'
export { BROWSER_TRANSPORTS } from './constants.js'
export { BootstrapError } from './errors.js'
export type { BrowserTransport } from './constants.js'

export interface BrowserPeerInit {
  /** Multiaddrs of daemons to join through, with /p2p/<peer id>: `.../tcp/PORT/ws/p2p/...` or `.../udp/PORT/webrtc-direct/certhash/.../p2p/...`. */
  bootstrap: string[]
  /**
   * Transports the peer dials (and, for `webrtc`, is reachable over through a relay).
   * @default BROWSER_TRANSPORTS: every one
   */
  transports?: readonly BrowserTransport[]
  /** Bytes of blobs kept in memory at once; a blob that does not fit is refused. @default 512 MiB */
  maxBytes?: number
  /** Peer ids whose manifest signatures are accepted; empty accepts any signer. @default [] */
  trustedSeeds?: string[]
  /** Parents per download. @default ENGINE_DEFAULTS.maxParents */
  maxParents?: number
  /** Upload sessions served at once. @default 4 */
  uploadSlots?: number
  /** createBrowserPeer rejects with BootstrapError when no bootstrap peer answers within this. @default 15000 */
  joinTimeoutMs?: number
  /**
   * STUN (and TURN) servers for WebRTC between browsers: pages behind
   * different NATs need one to reach each other. @default []: the peer asks
   * no third party, and pages reach each other on the networks they share
   */
  iceServers?: IceServer[]
}

/** A STUN or TURN server, as RTCPeerConnection takes it. */
export interface IceServer {
  urls: string | string[]
  username?: string
  credential?: string
}

/** A piece of the blob was verified. */
export interface FetchPieceDetail {
  index: number
  bytes: number
  /** Bytes of the blob held so far. */
  received: number
  size: number
}

export type FetchProgressEvents =
  | ProgressEvent<'damselfly:fetch:layout', BlobLayout>
  | ProgressEvent<'damselfly:fetch:piece', FetchPieceDetail>

export interface FetchOptions extends AbortOptions, ProgressOptions<FetchProgressEvents> {}

/** What one download took, and from whom. */
export interface FetchSummary {
  digest: string
  state: string
  size?: number
  piecesHeld: number
  bytesFromPeers: number
  /** Bytes of verified pieces from each parent (peer id). */
  parents: Record<string, number>
  startedAt: number
  finishedAt?: number
}

/** The peer's counters since it started. */
export interface BrowserPeerStats {
  bytesFromPeers: number
  bytesUploaded: number
  piecesVerified: number
  piecesRejected: number
  bans: number
}

export interface BrowserPeerConnection {
  peer: string
  /** `websockets`, `webrtc-direct`, `webrtc` or `relayed`. */
  transport?: string
  seed: boolean
}

export interface BrowserPeerBan {
  peer: string
  reason: string
  /** The download it is banned from, when the ban is for one. */
  digest?: string
  /** When a ban from every exchange ends (ms since the epoch). */
  until?: number
}

export interface BrowserPeer {
  readonly peerId: string
  /**
   * The blob's bytes, once every piece and the whole digest are verified.
   * Rejects with the download's error (its `where` says whether peers or
   * this peer failed), or the signal's reason.
   */
  fetch(digest: string, options?: FetchOptions): Promise<Uint8Array>
  /** What the peer knows of a download, running or over. */
  summary(digest: string): FetchSummary | undefined
  /** The peer's addresses others can reach it at (through a relay), if any. */
  addresses(): string[]
  connections(): BrowserPeerConnection[]
  stats(): BrowserPeerStats
  /** Peers banned: from every exchange for breaking the protocol (until `until`), or from one download (`digest`) for a bad piece. */
  bans(): BrowserPeerBan[]
  stop(): Promise<void>
}
