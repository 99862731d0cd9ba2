package protocol

import (
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Digest is a blob's OCI digest, "sha256:" and 64 lowercase hex digits, validated.
type Digest string

// ParseDigest accepts exactly the form §3 allows and nothing else.
func ParseDigest(s string) (Digest, error) {
	if !digestPattern.MatchString(s) {
		return "", fmt.Errorf("invalid digest %q: expected sha256:<64 lowercase hex digits>", truncate(s, 100))
	}
	return Digest(s), nil
}

// DigestFromHash names the blob whose sha256 is h.
func DigestFromHash(h []byte) Digest {
	return Digest("sha256:" + hex.EncodeToString(h))
}

// Hex is the 64 hex digits.
func (d Digest) Hex() string { return string(d)[7:] }

// Bytes is the 32 bytes the hex encodes.
func (d Digest) Bytes() []byte {
	b, err := hex.DecodeString(d.Hex())
	if err != nil {
		panic("protocol: an unvalidated Digest: " + string(d))
	}
	return b
}

// Multihash is the DHT key of the blob: the digest bytes wrapped as a sha2-256
// multihash (0x12 0x20 then the 32 bytes), not hashed again.
func (d Digest) Multihash() mh.Multihash {
	m, err := mh.Encode(d.Bytes(), mh.SHA2_256)
	if err != nil {
		panic(err)
	}
	return m
}

// CID is the CIDv1, raw codec, over Multihash: what provider records are kept under.
func (d Digest) CID() cid.Cid {
	return cid.NewCidV1(cid.Raw, d.Multihash())
}

// Topic is the blob's gossip topic.
func (d Digest) Topic() string { return BlobTopicPrefix + d.Hex() }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
