package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"damselfly/interop/go/protocol"
)

// errUntrusted is a valid part whose signer this peer does not trust: ignored, not a violation.
var errUntrusted = errors.New("signer not trusted")

// blob is the one blob this peer fetches and serves: its pieces on disk, the
// manifest parts it accepted, and whose hashes it believes (§9).
type blob struct {
	digest  protocol.Digest
	path    string
	trusted map[peer.ID]bool // nil: an open swarm, every signer trusted

	mu       sync.Mutex
	layout   *protocol.Layout
	file     *os.File
	held     *protocol.Bitfield
	inflight map[uint32]int
	// hashes each signer vouched for, and its parts (forwarded unchanged)
	hashes map[peer.ID]map[uint32][]byte
	parts  map[peer.ID][]*protocol.ManifestPart
	// pin is the signer of the first piece that verified: afterwards a piece
	// is taken only when its hash is the pin's
	pin      peer.ID
	changed  chan struct{}
	verified chan struct{}
}

func newBlob(d protocol.Digest, path string, trusted []string) (*blob, error) {
	b := &blob{digest: d, path: path, inflight: map[uint32]int{}, hashes: map[peer.ID]map[uint32][]byte{},
		parts: map[peer.ID][]*protocol.ManifestPart{}, changed: make(chan struct{}), verified: make(chan struct{})}
	if len(trusted) > 0 {
		b.trusted = map[peer.ID]bool{}
		for _, s := range trusted {
			id, err := peer.Decode(s)
			if err != nil {
				return nil, fmt.Errorf("-trust %s: %w", s, err)
			}
			b.trusted[id] = true
		}
	}
	return b, nil
}

func (b *blob) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.file != nil {
		b.file.Close()
	}
}

// accept checks a part a responder sent (§9 checks 1-5) and keeps it. A
// part failing 1-4 is wrapped in protocol.ErrBadPart; an untrusted signer's is errUntrusted.
func (b *blob) accept(part *protocol.ManifestPart) (peer.ID, error) {
	layout, signer, err := protocol.VerifyManifestPart(part, b.digest)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.layout != nil && *b.layout != layout {
		return "", fmt.Errorf("%w: declares %d bytes in pieces of %d, other parts %d in %d",
			protocol.ErrBadPart, layout.Size, layout.PieceSize, b.layout.Size, b.layout.PieceSize)
	}
	if b.trusted != nil && !b.trusted[signer] {
		return signer, errUntrusted
	}
	if b.layout == nil {
		if err := b.open(layout); err != nil {
			return "", err
		}
	}
	known := b.hashes[signer]
	if known == nil {
		known = map[uint32][]byte{}
		b.hashes[signer] = known
	}
	fresh := false
	for k, h := range part.Hashes {
		i := part.First + uint32(k)
		if old, ok := known[i]; !ok {
			known[i] = h
			fresh = true
		} else if !bytes.Equal(old, h) {
			// one signer, two hashes for a piece: its word is worth nothing
			return "", fmt.Errorf("%w: signer %s gave piece %d two hashes", protocol.ErrBadPart, signer, i)
		}
	}
	if fresh || len(part.Hashes) == 0 {
		b.parts[signer] = append(b.parts[signer], part)
	}
	return signer, nil
}

// open creates the output file at the blob's size once its layout is known.
func (b *blob) open(layout protocol.Layout) error {
	f, err := os.OpenFile(b.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := f.Truncate(int64(layout.Size)); err != nil {
		f.Close()
		return err
	}
	b.file, b.layout, b.held = f, &layout, protocol.NewBitfield(layout.Pieces)
	b.notify()
	return nil
}

func (b *blob) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// watch returns a channel closed at the next change (a layout learnt, a piece stored).
func (b *blob) watch() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

func (b *blob) getLayout() *protocol.Layout {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.layout
}

// store writes a piece that matched the hash h its responder vouched for,
// signed by signer. Before any piece verified, that is enough, and the signer
// becomes the pin; afterwards the piece is taken only when h is the pin's
// hash (a responder following another signer is not used, nor banned).
// stored is false for a second copy or a piece not taken; first is true for
// the first piece stored.
func (b *blob) store(i uint32, data []byte, h []byte, signer peer.ID) (first bool, stored bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held.Has(i) {
		return false, false, nil
	}
	if b.pin != "" {
		if pinned, ok := b.hashes[b.pin][i]; !ok || !bytes.Equal(pinned, h) {
			return false, false, nil
		}
	}
	off, _ := b.layout.Range(i)
	if _, err := b.file.WriteAt(data, int64(off)); err != nil {
		return false, false, err
	}
	first = b.pin == ""
	if first {
		b.pin = signer
	}
	b.held.Set(i)
	b.notify()
	return first, true, nil
}

// follows says whether a responder's hash for piece i agrees with the pin (true before there is one).
func (b *blob) follows(i uint32, h []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pin == "" {
		return true
	}
	pinned, ok := b.hashes[b.pin][i]
	return ok && bytes.Equal(pinned, h)
}

// has says whether piece i is held, verified, and so may be served.
func (b *blob) has(i uint32) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held != nil && b.held.Has(i)
}

func (b *blob) heldBits() *protocol.Bitfield {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		return nil
	}
	f, _ := protocol.ParseBitfield(b.held.Len(), b.held.Bytes())
	return f
}

func (b *blob) complete() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held != nil && b.held.Complete()
}

// pick chooses up to n pieces for a parent that holds `has` and vouched for
// them with a hash (hashOf) that agrees with the pin's: missing here, not asked of anyone
// yet, from a random place on (parents spread over the blob). When every
// missing piece is on its way from someone, it may ask for one a second time
// (the end of a download should not wait on its slowest parent).
func (b *blob) pick(has *protocol.Bitfield, n int, hashOf func(uint32) []byte, skip func(uint32) bool) []uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil || n <= 0 {
		return nil
	}
	total := b.held.Len()
	start := uint32(0)
	if total > 0 {
		start = rand.Uint32N(total)
	}
	var out, spare []uint32
	for k := uint32(0); k < total && len(out) < n; k++ {
		i := (start + k) % total
		if b.held.Has(i) || !has.Has(i) || skip(i) {
			continue
		}
		if h := hashOf(i); h == nil || (b.pin != "" && !bytes.Equal(h, b.hashes[b.pin][i])) {
			continue
		}
		if b.inflight[i] == 0 {
			out = append(out, i)
		} else if b.inflight[i] == 1 {
			spare = append(spare, i)
		}
	}
	if len(out) == 0 {
		out = spare[:min(len(spare), n)]
	}
	for _, i := range out {
		b.inflight[i]++
	}
	return out
}

// settled is the end of a request for piece i: answered, refused or abandoned.
func (b *blob) settled(i uint32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inflight[i] > 0 {
		b.inflight[i]--
	}
}

// verifyWhole checks the whole blob's sha256 against its digest (§8).
func (b *blob) verifyWhole() error {
	b.mu.Lock()
	f := b.file
	b.mu.Unlock()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, int64(b.layout.Size))); err != nil {
		return err
	}
	if got := protocol.DigestFromHash(h.Sum(nil)); got != b.digest {
		return fmt.Errorf("the pieces verified but the blob's sha256 is %s, not %s: signer %s vouched for false hashes", got, b.digest, b.pin)
	}
	close(b.verified)
	return nil
}

// readPiece reads a held piece for a requester.
func (b *blob) readPiece(i uint32) ([]byte, error) {
	b.mu.Lock()
	off, n := b.layout.Range(i)
	f := b.file
	b.mu.Unlock()
	data := make([]byte, n)
	_, err := f.ReadAt(data, int64(off))
	return data, err
}

// partsFor are the pin's parts that cover the pieces wanted: its full part
// when it has one, else each part covering one of them. These are the only
// parts this peer forwards.
func (b *blob) partsFor(pieces []uint32) []*protocol.ManifestPart {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pin == "" || b.layout == nil {
		return nil
	}
	parts := b.parts[b.pin]
	for _, p := range parts {
		if p.First == 0 && uint32(len(p.Hashes)) == b.layout.Pieces {
			return []*protocol.ManifestPart{p}
		}
	}
	var out []*protocol.ManifestPart
	for _, p := range parts {
		for _, i := range pieces {
			if i >= p.First && i < p.First+uint32(len(p.Hashes)) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
