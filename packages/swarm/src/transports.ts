import { multiaddr } from '@multiformats/multiaddr'

/**
 * A way peers reach a node. `tcp` and `websockets` carry a raw byte stream
 * that the node encrypts (TLS or Noise) and, in a private swarm, protects
 * with the swarm key; `webrtc-direct` is DTLS over UDP with a Noise handshake
 * of its own, which a browser can dial without a certificate authority.
 */
export type TransportName = 'tcp' | 'websockets' | 'webrtc-direct'

/** Every transport a node can use, in the order a node prefers to dial them. */
export const TRANSPORTS: readonly TransportName[] = ['tcp', 'websockets', 'webrtc-direct']

/**
 * The transports a node dials unless told otherwise: TCP and WebSockets cost
 * nothing until used and need nothing outside JavaScript, and peers learn
 * each other's addresses at run time (identify, the DHT), so a node that
 * listens on TCP alone still reaches a peer that listens on WebSockets alone.
 * WebRTC-direct loads a native module (node-datachannel) and answers on UDP:
 * a node takes it only when asked, or when an address it is given names it.
 */
export const DEFAULT_DIALED: readonly TransportName[] = ['tcp', 'websockets']

/**
 * The transports a private swarm (a swarm key) may use: the libp2p private
 * network wraps a connection's raw bytes before its encryption, and js-libp2p's
 * WebRTC-direct upgrades its connections with no such wrapping, so a node
 * without the key would get in over it.
 */
export const PRIVATE_SWARM_TRANSPORTS: readonly TransportName[] = ['tcp', 'websockets']

/** An address names no transport a node can use that way (listen on, or dial). */
export class UnsupportedAddressError extends Error {
  static override name = 'UnsupportedAddressError'
  override name = 'UnsupportedAddressError'
}

/** The transports a node is asked to use contradict one another or its trust rules. */
export class TransportConfigError extends Error {
  static override name = 'TransportConfigError'
  override name = 'TransportConfigError'
}

const LISTEN_FORMS = '/ip4|ip6/HOST/tcp/PORT, /ip4|ip6/HOST/tcp/PORT/ws or /ip4|ip6/HOST/udp/PORT/webrtc-direct'
const DIAL_FORMS = '/ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT[/ws][/p2p/PEER] or /ip4|ip6/HOST/udp/PORT/webrtc-direct/certhash/HASH[/p2p/PEER]'

interface Part { name: string, value?: string }

function partsOf (addr: string): Part[] {
  try {
    return multiaddr(addr).getComponents()
  } catch (err: any) {
    throw new UnsupportedAddressError(`${JSON.stringify(addr)} is not a multiaddr: ${err.message}`)
  }
}

/**
 * What an address's parts say about its transport, or why it names none;
 * `dial` allows host names, certificate hashes and a peer id, which only an
 * address to dial has.
 */
function classify (parts: Part[], dial: boolean): TransportName | string {
  const names = parts.map(p => p.name)
  if (names.at(-1) === 'p2p') {
    if (!dial) return 'a listen address has no /p2p part'
    names.pop()
  }
  const host = names.shift()
  const hosts = dial ? ['ip4', 'ip6', 'dns', 'dns4', 'dns6'] : ['ip4', 'ip6']
  if (host == null || !hosts.includes(host)) return `it must start with ${hosts.map(h => `/${h}`).join(', ')}`
  const [carrier, ...rest] = names
  if (carrier === 'tcp') {
    if (rest.length === 0) return 'tcp'
    if (rest.length === 1 && rest[0] === 'ws') return 'websockets'
    if (rest[0] === 'wss' || rest[0] === 'tls') return 'secure WebSockets (wss) are not supported: put a TLS proxy in front of /ws'
    return `/${rest.join('/')} after /tcp is not a transport this node speaks`
  }
  if (carrier === 'udp') {
    if (rest[0] !== 'webrtc-direct') return `/${rest.join('/') || '(nothing)'} after /udp is not a transport this node speaks (only webrtc-direct)`
    const hashes = rest.slice(1)
    if (hashes.some(h => h !== 'certhash')) return `/${hashes.join('/')} after /webrtc-direct is not part of a webrtc-direct address`
    if (dial && host.startsWith('dns')) return 'webrtc-direct is dialled at an IP address'
    if (!dial && hashes.length > 0) return 'the certificate hash is made by the listening node: listen on .../udp/PORT/webrtc-direct'
    if (dial && hashes.length === 0) return 'a webrtc-direct address to dial needs the listener\'s /certhash (as it prints it)'
    return 'webrtc-direct'
  }
  return 'it needs /tcp/PORT or /udp/PORT/webrtc-direct after the host'
}

/** The transport that listens on `addr`; throws UnsupportedAddressError saying what is wrong with it. */
export function listenTransport (addr: string): TransportName {
  const got = classify(partsOf(addr), false)
  if ((TRANSPORTS as readonly string[]).includes(got)) return got as TransportName
  throw new UnsupportedAddressError(`${JSON.stringify(addr)} cannot be listened on: ${got}; use ${LISTEN_FORMS}`)
}

/** The transport that dials `addr`; throws UnsupportedAddressError saying what is wrong with it. */
export function dialTransport (addr: string): TransportName {
  const got = classify(partsOf(addr), true)
  if ((TRANSPORTS as readonly string[]).includes(got)) return got as TransportName
  throw new UnsupportedAddressError(`${JSON.stringify(addr)} cannot be dialled: ${got}; use ${DIAL_FORMS}`)
}

/**
 * The transport an open connection runs over, from its remote address:
 * `webrtc` between browsers (set up through a relay, then direct), `relayed`
 * through a circuit relay; undefined when it is none of these.
 */
export function connectionTransport (addr: string): TransportName | 'webrtc' | 'relayed' | undefined {
  let names: string[]
  try {
    names = multiaddr(addr).getComponents().map(p => p.name)
  } catch {
    return undefined
  }
  // a WebRTC peer's address names the relay it was signalled through
  if (names.includes('webrtc')) return 'webrtc'
  if (names.includes('p2p-circuit')) return 'relayed'
  if (names.includes('webrtc-direct')) return 'webrtc-direct'
  if (names.includes('ws')) return 'websockets'
  if (names.includes('tcp')) return 'tcp'
  return undefined
}

export interface TransportChoice {
  /** Transports to dial peers over; each listen and bootstrap address adds its own. @default DEFAULT_DIALED */
  dialled?: readonly TransportName[]
  /** Listen multiaddrs. */
  listen: readonly string[]
  /** Addresses the node is told to dial (bootstrap peers). @default [] */
  dial?: readonly string[]
  /** A private swarm: only the transports its key can protect. @default false */
  privateSwarm?: boolean
}

/**
 * The transports a node needs: those it is to dial, and those its listen and
 * bootstrap addresses name. Throws UnsupportedAddressError for an address no
 * transport takes, and TransportConfigError for an unknown transport or when
 * a private swarm is asked for a transport its key cannot protect.
 */
export function chooseTransports (choice: TransportChoice): TransportName[] {
  const dialled = choice.dialled ?? DEFAULT_DIALED
  const unknown = dialled.find(t => !TRANSPORTS.includes(t))
  if (unknown != null) throw new TransportConfigError(`unknown transport ${JSON.stringify(unknown)}: ${TRANSPORTS.join(', ')}`)
  const named = [
    ...dialled.map(t => ({ transport: t, use: `use ${t}` })),
    ...choice.listen.map(a => ({ transport: listenTransport(a), use: `listen on ${a}` })),
    ...(choice.dial ?? []).map(a => ({ transport: dialTransport(a), use: `dial ${a}` }))
  ]
  if (choice.privateSwarm === true) {
    const open = named.find(n => !PRIVATE_SWARM_TRANSPORTS.includes(n.transport))
    if (open != null) {
      throw new TransportConfigError(`a private swarm (swarm key) cannot ${open.use}: js-libp2p does not apply the swarm key to ${open.transport} connections, so peers without the key could connect; use ${PRIVATE_SWARM_TRANSPORTS.join(' or ')}`)
    }
  }
  const wanted = new Set(named.map(n => n.transport))
  return TRANSPORTS.filter(t => wanted.has(t))
}

/** A way to reach a peer at one of its addresses, as far as deciding who can dial whom goes. */
export type AddressKind = TransportName | 'webrtc'

/** The kind of an address, or undefined for one nobody here dials (QUIC, a bare relay address). */
export function addressKind (addr: string): AddressKind | undefined {
  let names: string[]
  try {
    names = multiaddr(addr).getComponents().map(c => c.name)
  } catch {
    return undefined
  }
  // a browser's address: reached over WebRTC, set up through the relay it names
  if (names.includes('p2p-circuit')) return names.includes('webrtc') ? 'webrtc' : undefined
  if (names.includes('webrtc-direct')) return 'webrtc-direct'
  if (names.includes('ws') || names.includes('wss')) return 'websockets'
  if (names.includes('tcp')) return 'tcp'
  return undefined
}

/**
 * What a peer can dial, judged from outside: a peer that listens on TCP (a
 * daemon, a Go peer) dials TCP and WebSockets; one that does not (a browser)
 * is taken to dial only what it connected over, and WebRTC when it is
 * reachable over WebRTC itself. `via` is how it connected to this node.
 */
export function dialsOf (addrs: readonly string[], via: AddressKind | 'relayed' | undefined): Set<AddressKind> {
  const kinds = new Set(addrs.map(addressKind))
  const dials = new Set<AddressKind>()
  if (kinds.has('tcp')) {
    dials.add('tcp')
    dials.add('websockets')
  }
  if (kinds.has('webrtc')) dials.add('webrtc')
  if (via != null && via !== 'relayed') dials.add(via)
  return dials
}

/** Whether a peer that dials `dials` can reach a peer at `addrs`; true when nothing is known of `addrs`. */
export function canReach (dials: ReadonlySet<AddressKind>, addrs: readonly string[]): boolean {
  if (addrs.length === 0) return true
  return addrs.some(a => {
    const kind = addressKind(a)
    return kind != null && dials.has(kind)
  })
}
