/**
 * The download engine's timings and limits that are not settings. What an
 * operator may change lives in SWARM_DEFAULTS (defaults.ts); these are the
 * rules' own constants, read by the engine and by the simulator alike.
 */

/** How long one DHT provider lookup may take. */
export const DISCOVERY_TIMEOUT_MS = 2000
/** Between DHT lookups for a blob: 3 s, doubling up to 30 s while the task has parents, 30 s after a lookup that named nobody new. */
export const DISCOVERY_GAP_MS = 3000
export const DISCOVERY_GAP_MAX_MS = 30_000
/**
 * A task that knows this many holders (times maxParents; peers that said
 * they have nothing do not count) looks up no more after its first lookup:
 * it lacks their time, not their names. Every lookup costs each peer it
 * reaches a read of the k closest peers from its peer store, and the asker
 * a merge of each peer named.
 */
export const ENOUGH_CANDIDATES_PER_PARENT = 2

/** Connected peers asked directly when a download starts, and again when the DHT names no holder. */
export const PROBE_CONNECTED_PEERS = 8
/**
 * Up to this many connected peers, all of them are asked, and the first DHT
 * lookup waits its turn (DISCOVERY_GAP_MS) instead of PROBE_WAIT_MS: in a
 * swarm this small it would reach nearly the same peers. Beyond it, a random
 * PROBE_CONNECTED_PEERS.
 */
export const PROBE_ALL_CONNECTED_UP_TO = 16
/** How long the first DHT lookup waits for the connected peers' answers, at most. */
export const PROBE_WAIT_MS = 300

/** How soon a task that knows no seed yet looks for one again. */
export const NO_SEED_RECHECK_MS = 250
/** How long after asking the seeds a task asks them again. */
export const SEED_RETRY_MS = 5000
/** After a seed refused or did not answer, before the seed deadline. */
export const SEED_BUSY_RETRY_MS = 1000
/**
 * Once a seed accepted the blob, how long the task may go without a verified
 * piece before a seed that stops answering counts as gone: an overloaded
 * seed answers late or resets, and is still pulling for the swarm.
 */
export const ACCEPTED_SEED_PATIENCE_MS = 60_000

/**
 * A seed that is connected but has not accepted (busy, or slow to answer)
 * is asked again, not given up, until this long after the first ask: a
 * loaded seed is the one a flash crowd loads, and nodes that leave it for
 * the origin each pull the blob the seed is pulling already.
 */
export const SLOW_SEED_PATIENCE_MS = 30_000
/**
 * When no seed can pull a blob, the nodes pulling it agree on who goes to
 * the origin without a message: each ranks itself among the blob's pullers
 * it knows (the peers on the blob's gossip topic, joined then) by rendezvous
 * hashing. The first goes at once; the k-th waits k times this for a piece,
 * fetching from the ones before it meanwhile.
 */
export const FALLBACK_STEP_MS = 10_000
/** How long a node on the blob's topic waits for the other pullers' subscriptions before it ranks itself. */
export const FALLBACK_JOIN_WAIT_MS = 1000

/** A parent session's delivery rate is measured over windows this long. */
export const PARENT_METER_WINDOW_MS = 500
/** What a parent whose rate is not measured yet is assumed to deliver, for the hedge's wait: bytes/s. */
export const UNMEASURED_PARENT_BPS = 4 * 1024 * 1024
/** A piece is asked of a second parent too once that parent would bring it this many times sooner than the first still needs. */
export const HEDGE_SOONER_FACTOR = 3
/** A piece is asked of at most this many parents at once. */
export const MAX_HEDGED_COPIES = 3
/**
 * The end game: once every piece a download lacks is on its way, one that
 * has waited this long is asked of an idle parent too (the fastest measured
 * that holds it), up to MAX_HEDGED_COPIES. The last pieces of a node were
 * seen waiting on slow parents while fast ones sat idle: in the simulator,
 * a third of the uplinks at a tenth, p95 28.8 s to 23.5 (N=30, local
 * ranking) and 33.0 to 27.9 (N=100); 1 s cost a little where parents are
 * alike, 3 s gained less.
 */
export const END_GAME_WAIT_MS = 2000
/** A session closed cleanly is asked again after this. */
export const CLEAN_CLOSE_RETRY_MS = 1000
/** How long a parent may take to open a piece stream. */
export const SESSION_OPEN_TIMEOUT_MS = 5000
/**
 * A download that has asked for nothing and gained nothing this long while
 * an open parent holds a piece it lacks reopens that parent's session (a
 * fresh bitfield and manifest). Scheduling should have asked for the piece;
 * this is the net under it: a pull through a seed was seen to hang on one
 * piece of a layer, its only parent holding that piece (cause not found).
 */
export const STUCK_MS = 10_000

/** A streaming reader reads held pieces back from the store (the page cache, mostly) this much at a time. */
export const READ_SLICE_BYTES = 1024 * 1024

/**
 * The bad-parent rule (Dragonfly's): a piece time over this many times the
 * download's mean piece time demotes its parent...
 */
export const BAD_PARENT_MEAN_FACTOR = 20
/** ...or, once this many piece times are known, over the mean plus BAD_PARENT_SIGMAS standard deviations. */
export const BAD_PARENT_NORMAL_SAMPLES = 30
export const BAD_PARENT_SIGMAS = 3
/** Piece times needed before any parent is judged. */
export const BAD_PARENT_MIN_SAMPLES = 4
/** A piece time under this never marks a parent as bad, however fast the others are. */
export const BAD_PARENT_FLOOR_MS = 1000

/** The advisor's order of candidates holds this long; then the engine asks again when it has to choose. */
export const ADVICE_TTL_MS = 5000
/** The engine asks the advisor to rank at most this often per download. */
export const ADVICE_GAP_MS = 1000
/**
 * An advisor's answer later than this is late (and counted so). A download
 * never waits for one: it ranks on its own meanwhile, and takes the answer
 * when it comes.
 */
export const ADVICE_DEADLINE_MS = 500
/**
 * A question to the advisor is given up after this. Given up at the
 * deadline, the answers of a scheduler slowed by a starved machine were
 * lost, and each lost suggestion was asked again as a lookup.
 */
export const ADVICE_TIMEOUT_MS = 5000
/**
 * With an advisor, how often a download short of parents asks it for
 * holders (`suggest`): the scheduler hears of every holder, so a node asks
 * it instead of hearing every holder's announcement on gossip.
 */
export const SUGGEST_GAP_MS = 1000
/**
 * The gap doubles, up to this, while the answers name no holder the
 * download did not know: a crowd's downloads short of parents asked once a
 * second through the whole pull, and most answers named the same holders
 * again (bench:control N=30: a node's most frequent request to it).
 */
export const SUGGEST_GAP_MAX_MS = 8000

/**
 * A ranged download reads adjacent wanted pieces from the origin in one
 * range request of at most this many bytes, and at most ORIGIN_RANGE_STREAMS
 * such requests at once.
 */
export const ORIGIN_RANGE_RUN_BYTES = 16 * 1024 * 1024
export const ORIGIN_RANGE_STREAMS = 4
