/**
 * @packageDocumentation
 *
 * `@damselfly/store/memory`: the PieceStore in memory, without Node's
 * built-ins, for peers with no file system (a browser). The same checks as
 * the disk store: every piece against its manifest hash, the whole digest
 * before a blob is complete.
 */

export { createMemoryPieceStore } from './memory-store.js'
export type { MemoryPieceStoreInit } from './memory-store.js'
export * from './errors.js'
export type { BlobHandle, BlobHandleEvents, BlobSummary, FinalizeOptions, PieceStore, WritePieceOptions } from './index.js'
