/** Every Damselfly protocol ID starts with this. */
export const PROTOCOL_PREFIX = 'damselfly'

/** Piece exchange: manifest, bitfield, piece requests and data. */
export const PIECE_PROTOCOL = `/${PROTOCOL_PREFIX}/piece/1.0.0`

/** Ask a seed to pull a blob from its origin. */
export const SEED_PROTOCOL = `/${PROTOCOL_PREFIX}/seed/1.0.0`

/** Ask a peer whether a registry lets anyone read a blob or manifest (while the registry cannot be asked). */
export const ACCESS_PROTOCOL = `/${PROTOCOL_PREFIX}/access/1.0.0`

/** A node and the optional scheduler: beacons, reports, parents ranked and suggested. */
export const SCHEDULE_PROTOCOL = `/${PROTOCOL_PREFIX}/schedule/1.0.0`

/** Kademlia protocol ID of the private swarm DHT (not the public IPFS one). */
export const KAD_PROTOCOL = `/${PROTOCOL_PREFIX}/kad/1.0.0`

/** Gossip topic carrying every peer's load beacon. */
export const BEACON_TOPIC = `/${PROTOCOL_PREFIX}/beacon/1.0.0`

/** Prefix of the per-blob gossip topic; the blob's hex digest follows. */
export const BLOB_TOPIC_PREFIX = `/${PROTOCOL_PREFIX}/blob/1.0.0/`

/** Smallest piece. */
export const MIN_PIECE_SIZE = 1024 * 1024

/**
 * Smallest piece of a blob whose first pull was ranged (docs/protocol.md
 * §4): a lazy-loading client's reads round out to pieces, and 256 KiB
 * pieces halved a Nydus start against 1 MiB ones (bench:lazy, N=5: 7.4
 * against 14.2 s, 18.3 against 31.0 MiB from the registry).
 */
export const MIN_RANGED_PIECE_SIZE = 256 * 1024

/** Largest piece. */
export const MAX_PIECE_SIZE = 64 * 1024 * 1024

/**
 * The piece size rule aims for about this many pieces per blob: 1 MiB pieces
 * up to 2 GiB, so a lazy-loading client's 1 MiB read of a large blob costs
 * one small piece (bench:pair at 2 GiB moved 1 MiB pieces fastest and with
 * the least CPU; 8,192 pieces cost the receiver 2.6 times the CPU).
 */
export const TARGET_PIECES = 2048

/** Most pieces a blob may have (bounds bitfields and manifests). */
export const MAX_PIECES = 65536

/** Largest blob the protocol describes: MAX_PIECES pieces of MAX_PIECE_SIZE (4 TiB). */
export const MAX_BLOB_SIZE = BigInt(MAX_PIECES) * BigInt(MAX_PIECE_SIZE)

/** Piece bytes travel in chunks of at most this size, far below the 4 MB read buffer. */
export const MAX_CHUNK_SIZE = 256 * 1024

/** Piece protocol streams a peer keeps open at once, each way (upload sessions and downloads). */
export const MAX_PIECE_STREAMS = 256

/** Largest frame on the piece protocol (a full manifest of MAX_PIECES hashes fits). */
export const MAX_PIECE_FRAME = 4 * 1024 * 1024

/** Largest frame on the seed protocol. */
export const MAX_SEED_FRAME = 16 * 1024

/** Largest frame on the access protocol. */
export const MAX_ACCESS_FRAME = 1024

/** Largest gossip message. */
export const MAX_GOSSIP_MESSAGE = 64 * 1024

/** Most manifest parts in one piece-protocol frame. */
export const MAX_PARTS_PER_FRAME = 64

/** Most piece indices in one Have or Announce. */
export const MAX_HAVE_BATCH = 4096

/** Most multiaddrs carried in an Announce or Beacon. */
export const MAX_ADDRS = 16

/** Most byte ranges in one seed request. */
export const MAX_SEED_RANGES = 256

/** Longest origin URL a seed accepts. */
export const MAX_URL_LENGTH = 4096

/** Domain separation string prepended to a manifest part before it is signed. */
export const MANIFEST_SIGNATURE_DOMAIN = 'damselfly-manifest-part-v1:'

/** Largest schedule request or answer frame. */
export const MAX_SCHEDULE_FRAME = 256 * 1024

/** Most candidates in a rank request, suggestions in an answer, reports and digests in a request. */
export const MAX_SCHEDULE_CANDIDATES = 256
export const MAX_SCHEDULE_SUGGESTIONS = 64
export const MAX_SCHEDULE_REPORTS = 1024
export const MAX_SCHEDULE_DIGESTS = 1024
/** Most further questions in one schedule request (and answers to them). */
export const MAX_SCHEDULE_QUESTIONS = 8

/** Most holders a BUSY answer names. */
export const MAX_BUSY_HOLDERS = 8
