/**
 * Data files are hashed through a buffer of this size, so memory does not
 * grow with the size of a blob or a piece.
 */
export const HASH_CHUNK_SIZE = 1024 * 1024

/**
 * Files and directories being created start with this; a crash can leave
 * them behind, and the store removes them when it starts.
 */
export const TEMP_PREFIX = '.tmp-'

/** Name of a blob's files: the 64 lowercase hex digits of its sha256. */
export const HEX_NAME = /^[0-9a-f]{64}$/
