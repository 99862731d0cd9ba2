// Package protocol is the Damselfly wire contract in Go: protocol IDs, limits,
// content identity, the piece rule, bitfields, message encoding, framing,
// manifest signing and seed ranking, as docs/protocol.md describes them.
// It does no I/O beyond reading and writing frames.
package protocol

const (
	PieceProtocol   = "/damselfly/piece/1.0.0"
	SeedProtocol    = "/damselfly/seed/1.0.0"
	AccessProtocol  = "/damselfly/access/1.0.0"
	KadProtocol     = "/damselfly/kad/1.0.0"
	BeaconTopic     = "/damselfly/beacon/1.0.0"
	BlobTopicPrefix = "/damselfly/blob/1.0.0/"

	MinPieceSize     = 1 << 20
	MaxPieceSize     = 64 << 20
	TargetPieces     = 2048
	MaxPieces        = 65536
	MaxBlobSize      = uint64(MaxPieces) * MaxPieceSize
	MaxChunkSize     = 256 << 10
	MaxPieceFrame    = 4 << 20
	MaxSeedFrame     = 16 << 10
	MaxAccessFrame   = 1 << 10
	MaxGossipMessage = 64 << 10
	MaxPartsPerFrame = 64
	MaxHaveBatch     = 4096
	MaxAddrs         = 16
	MaxURLLength     = 4096
	// MaxOutstanding is how many requests a requester may have unanswered on one stream.
	MaxOutstanding = 16

	ManifestSignatureDomain = "damselfly-manifest-part-v1:"
)
