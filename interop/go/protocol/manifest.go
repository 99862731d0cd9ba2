package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// SigningBytes is the fixed layout a manifest part's signature covers (§9),
// not its protobuf encoding.
func SigningBytes(m *ManifestPart) []byte {
	b := make([]byte, 0, len(ManifestSignatureDomain)+32+8+4+4+4+32*len(m.Hashes))
	b = append(b, ManifestSignatureDomain...)
	if d, err := ParseDigest(m.Digest); err == nil {
		b = append(b, d.Bytes()...)
	} else {
		b = append(b, make([]byte, 32)...)
	}
	b = binary.BigEndian.AppendUint64(b, m.Size)
	b = binary.BigEndian.AppendUint32(b, m.PieceSize)
	b = binary.BigEndian.AppendUint32(b, m.First)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Hashes)))
	for _, h := range m.Hashes {
		b = append(b, h...)
	}
	return b
}

// SignManifestPart fills in Signer and Signature.
func SignManifestPart(m *ManifestPart, key crypto.PrivKey) error {
	signer, err := crypto.MarshalPublicKey(key.GetPublic())
	if err != nil {
		return err
	}
	sig, err := key.Sign(SigningBytes(m))
	if err != nil {
		return err
	}
	m.Signer, m.Signature = signer, sig
	return nil
}

// ErrBadPart is a manifest part that fails checks 1-4 of §9: the peer that sent it broke the protocol.
var ErrBadPart = errors.New("bad manifest part")

// VerifyManifestPart runs checks 1, 2 and 4 of §9 against the blob being
// fetched and returns the part's layout and signer. Check 3 (agreement with
// the parts already accepted) and 5 (trust) are the caller's.
func VerifyManifestPart(m *ManifestPart, digest Digest) (Layout, peer.ID, error) {
	bad := func(format string, args ...any) (Layout, peer.ID, error) {
		return Layout{}, "", fmt.Errorf("%w: %s", ErrBadPart, fmt.Sprintf(format, args...))
	}
	if m.Digest != string(digest) {
		return bad("names %q, not %s", truncate(m.Digest, 80), digest)
	}
	layout, err := NewLayout(m.Size, m.PieceSize)
	if err != nil {
		return bad("%v", err)
	}
	if uint64(m.First)+uint64(len(m.Hashes)) > uint64(layout.Pieces) {
		return bad("covers pieces %d+%d of %d", m.First, len(m.Hashes), layout.Pieces)
	}
	if len(m.Hashes) == 0 && layout.Pieces > 0 {
		return bad("has no hashes")
	}
	for _, h := range m.Hashes {
		if len(h) != 32 {
			return bad("has a hash of %d bytes", len(h))
		}
	}
	key, err := crypto.UnmarshalPublicKey(m.Signer)
	if err != nil {
		return bad("signer: %v", err)
	}
	ok, err := key.Verify(SigningBytes(m), m.Signature)
	if err != nil || !ok {
		return bad("signature does not verify")
	}
	id, err := peer.IDFromPublicKey(key)
	if err != nil {
		return bad("signer: %v", err)
	}
	return layout, id, nil
}
