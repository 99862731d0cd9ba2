/**
 * @packageDocumentation
 *
 * The Damselfly wire contract: protocol IDs, protobuf messages and their
 * size limits, piece math, DHT keys and gossip topics, manifest signing and
 * seed choice. Pure: no I/O. docs/protocol.md describes the same contract in
 * prose for other implementations, and interop/vectors/ holds encoded examples.
 */

export * from './constants.js'
export * from './errors.js'
export * from './digest.js'
export * from './pieces.js'
export * from './bitfield.js'
export * from './framing.js'
export * from './manifest.js'
export * from './messages.js'
export * from './rendezvous.js'
export * from './origin-url.js'
export * from './swarm-key.js'
export { ManifestPart, Open, Bitfield as BitfieldMessage, Have, Request, Cancel, PieceData, Choke, Error as ErrorMessage, PieceMessage, SeedRequest, SeedResponse, Announce, Beacon, AccessQuery, AccessAnswer, Holder, ScheduleRequest, ScheduleResponse, ScheduleQuestion, ScheduleAnswer, RankRequest, SuggestRequest, ParentReport, Suggestion } from './pb/messages.js'
