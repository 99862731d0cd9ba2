import type { Peer, PeerData, PeerId, PeerStore, PeerUpdate } from '@libp2p/interface'

/**
 * How long a peer's record may go unwritten while merges into it bring
 * nothing new. libp2p drops a record unwritten for 6 hours once its
 * addresses are an hour old; a merge that changes nothing still marks the
 * record written, so one goes through at least this often.
 */
const REWRITE_AFTER_MS = 10 * 60_000
/** Peers whose records are remembered; past this the memory starts again. */
const MAX_REMEMBERED = 10_000

interface Remembered {
  peer: Peer
  protocols: Set<string>
  addrs: Set<string>
  /** When the record was last written (Date.now() time). */
  at: number
}

/** Where libp2p says a peer's record changed: the node itself. */
interface PeerUpdates {
  addEventListener(type: 'peer:update', listener: (evt: CustomEvent<PeerUpdate>) => void): void
}

/**
 * libp2p merges into a peer's record on every stream opened either way (its
 * protocol) and for every peer a DHT answer names (its addresses): each a
 * read, two protobuf codings and a write, under the peer's write lock. In a
 * 20-node cold start a daemon merged about a thousand times, and a
 * profile of 30 put 12% of the daemons' CPU in the peer store. Almost all of
 * them change nothing: a merge that would only add protocols or addresses
 * the record has is answered with the record as it is.
 *
 * The record is known from what libp2p says changed (`peer:update`), or
 * for a peer it has said nothing of, from what a merge let through returned.
 */
export function skipUnchangedPeerWrites (peerStore: PeerStore, updates: PeerUpdates): void {
  const known = new Map<string, Remembered>()
  const remember = (peer: Peer): void => {
    if (known.size >= MAX_REMEMBERED) known.clear()
    known.set(peer.id.toString(), {
      peer,
      protocols: new Set(peer.protocols),
      addrs: new Set(peer.addresses.map(a => a.multiaddr.toString())),
      at: Date.now()
    })
  }
  updates.addEventListener('peer:update', evt => { remember(evt.detail.peer) })
  const merge = peerStore.merge.bind(peerStore)
  peerStore.merge = async (id: PeerId, data: PeerData, options?) => {
    const k = known.get(id.toString())
    if (k != null && Date.now() - k.at < REWRITE_AFTER_MS && addsNothing(k, data)) return k.peer
    const peer = await merge(id, data, options)
    // what changed came with peer:update, in the order the writes were made;
    // this result may be older than one that overtook it
    const after = known.get(id.toString())
    if (after != null) after.at = Date.now()
    else remember(peer)
    return peer
  }
}

function addsNothing (k: Remembered, data: PeerData): boolean {
  for (const [key, value] of Object.entries(data)) {
    if (value == null) continue
    if (key === 'protocols') {
      if (!(value as string[]).every(p => k.protocols.has(p))) return false
    } else if (key === 'multiaddrs') {
      if (!(value as Array<{ toString(): string }>).every(m => k.addrs.has(m.toString()))) return false
    } else {
      return false
    }
  }
  return true
}
