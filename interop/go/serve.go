package main

import (
	"bufio"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"damselfly/interop/go/protocol"
)

// The responder's side of /damselfly/piece/1.0.0 (§8), with the reference
// peer's numbers: 16 upload slots, 4 per peer, 32 requests queued per stream,
// 10 s for Open, 20 s for a requester to read what is sent before its stream
// is reset, and a 10-minute ban for a protocol violation.
const (
	uploadSlots  = 16
	slotsPerPeer = 4
	maxQueued    = 32
	openTimeout  = 10 * time.Second
	writeStall   = 20 * time.Second
	banFor       = 10 * time.Minute
)

type server struct {
	n *node
	b *blob

	mu       sync.Mutex
	sessions map[*upload]bool
	bans     map[peer.ID]time.Time
	uploaded atomic.Uint64
}

func newServer(n *node, b *blob) *server {
	return &server{n: n, b: b, sessions: map[*upload]bool{}, bans: map[peer.ID]time.Time{}}
}

func (s *server) start() {
	s.n.host.SetStreamHandler(protocol.PieceProtocol, s.handle)
}

// ban refuses every exchange with the peer for banFor: its later streams are
// reset unread, and it is not fetched from.
func (s *server) ban(p peer.ID, reason string) {
	s.mu.Lock()
	s.bans[p] = time.Now().Add(banFor)
	s.mu.Unlock()
	emit("banned", map[string]any{"peer": p.String(), "reason": reason})
}

func (s *server) banned(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Before(s.bans[p])
}

// load is what the beacon says: sessions with something to send, and slots a newcomer would get.
func (s *server) load() (active, free int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for u := range s.sessions {
		if u.busy.Load() {
			active++
		}
	}
	return active, max(0, uploadSlots-len(s.sessions))
}

func (s *server) handle(st network.Stream) {
	p := st.Conn().RemotePeer()
	if s.banned(p) {
		st.Reset()
		return
	}
	s.mu.Lock()
	mine := 0
	for u := range s.sessions {
		if u.peer == p {
			mine++
		}
	}
	var choke uint32
	if mine >= slotsPerPeer {
		choke = 1000
	} else if len(s.sessions) >= uploadSlots {
		choke = 500
	}
	u := &upload{s: s, st: st, peer: p, wake: make(chan struct{}, 1)}
	if choke == 0 {
		s.sessions[u] = true
	}
	s.mu.Unlock()
	if choke != 0 {
		u.send(&protocol.PieceMessage{Choke: &protocol.Choke{RetryAfterMs: choke}})
		st.Close()
		return
	}
	defer func() {
		s.mu.Lock()
		delete(s.sessions, u)
		s.mu.Unlock()
	}()
	u.run()
}

// upload is one requester's stream.
type upload struct {
	s    *server
	st   network.Stream
	peer peer.ID
	busy atomic.Bool

	mu        sync.Mutex
	queue     []uint32
	cancelled []uint32
	ended     bool
	violation string
	wake      chan struct{}
}

func (u *upload) send(m *protocol.PieceMessage) error {
	u.st.SetWriteDeadline(time.Now().Add(writeStall))
	_, err := u.st.Write(protocol.Frame(m.Marshal()))
	return err
}

func (u *upload) violate(reason string) {
	u.s.ban(u.peer, reason)
	u.st.Reset()
}

func (u *upload) poke() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

func (u *upload) run() {
	r := bufio.NewReader(u.st)
	u.st.SetReadDeadline(time.Now().Add(openTimeout))
	frame, err := protocol.ReadFrame(r, protocol.MaxPieceFrame)
	if err != nil {
		if protocol.IsViolation(err) {
			u.violate(err.Error())
		} else {
			u.st.Reset()
		}
		return
	}
	u.st.SetReadDeadline(time.Time{})
	msg, err := protocol.UnmarshalPieceMessage(frame)
	if err != nil {
		u.violate(err.Error())
		return
	}
	if msg.Open == nil {
		u.violate("the first frame is not Open")
		return
	}
	b := u.s.b
	layout := b.getLayout()
	if msg.Open.Digest != string(b.digest) || layout == nil {
		// not this blob, or not one piece count known yet: not held here
		u.send(&protocol.PieceMessage{Error: &protocol.Error{Code: protocol.CodeNotFound, Message: msg.Open.Digest + " is not held here"}})
		u.st.Close()
		return
	}
	wantManifest := msg.Open.WantManifest
	covered := protocol.NewBitfield(layout.Pieces)
	told := protocol.NewBitfield(layout.Pieces)
	u.busy.Store(true)
	changed := b.watch()
	held := b.heldBits()
	var heldNow []uint32
	for i := range layout.Pieces {
		if held.Has(i) {
			heldNow = append(heldNow, i)
		}
	}
	if wantManifest {
		if err := u.sendParts(heldNow, covered); err != nil {
			u.st.Reset()
			return
		}
	}
	if err := u.send(&protocol.PieceMessage{Bitfield: &protocol.BitfieldMsg{Pieces: layout.Pieces, Bits: held.Bytes()}}); err != nil {
		u.st.Reset()
		return
	}
	for _, i := range heldNow {
		told.Set(i)
	}
	u.busy.Store(false)
	go u.read(r, layout.Pieces)

	for {
		u.mu.Lock()
		if u.ended {
			u.mu.Unlock()
			break
		}
		cancelled := u.cancelled
		u.cancelled = nil
		var next *uint32
		if len(u.queue) > 0 {
			next = &u.queue[0]
			u.queue = u.queue[1:]
		}
		u.busy.Store(next != nil)
		u.mu.Unlock()

		var err error
		for _, i := range cancelled {
			if err == nil {
				err = u.send(&protocol.PieceMessage{Error: &protocol.Error{Code: protocol.CodeCancelled, Message: "cancelled", Piece: &i}})
			}
		}
		// pieces gained since: their parts (when the manifest was asked for), then Have
		var gained []uint32
		if err == nil {
			now := b.heldBits()
			for i := range layout.Pieces {
				if now.Has(i) && !told.Has(i) {
					gained = append(gained, i)
				}
			}
		}
		if len(gained) > 0 {
			if wantManifest {
				err = u.sendParts(gained, covered)
			}
			for start := 0; err == nil && start < len(gained); start += protocol.MaxHaveBatch {
				err = u.send(&protocol.PieceMessage{Have: &protocol.Have{Pieces: gained[start:min(len(gained), start+protocol.MaxHaveBatch)]}})
			}
			for _, i := range gained {
				told.Set(i)
			}
		}
		if err == nil && next != nil {
			err = u.sendPiece(*next)
		}
		if err != nil {
			u.st.Reset()
			return
		}
		if next != nil {
			continue
		}
		select {
		case <-u.wake:
		case <-changed:
			changed = b.watch()
		}
	}
	u.mu.Lock()
	violation := u.violation
	u.mu.Unlock()
	if violation != "" {
		u.violate(violation)
		return
	}
	u.st.Close()
}

// read takes Request and Cancel frames from the requester; anything else,
// or too many requests queued, is a violation.
func (u *upload) read(r *bufio.Reader, pieces uint32) {
	end := func(violation string) {
		u.mu.Lock()
		u.ended = true
		u.violation = violation
		u.mu.Unlock()
		u.poke()
	}
	for {
		frame, err := protocol.ReadFrame(r, protocol.MaxPieceFrame)
		if err != nil {
			if protocol.IsViolation(err) {
				end(err.Error())
			} else {
				end("")
			}
			return
		}
		msg, err := protocol.UnmarshalPieceMessage(frame)
		if err != nil {
			end(err.Error())
			return
		}
		switch {
		case msg.Request != nil:
			i := msg.Request.Piece
			u.mu.Lock()
			full := len(u.queue) >= maxQueued
			if !full && i < pieces {
				u.queue = append(u.queue, i)
			}
			u.mu.Unlock()
			if full {
				end(fmt.Sprintf("more than %d requests queued", maxQueued))
				return
			}
			if i >= pieces {
				end(fmt.Sprintf("request for piece %d of a %d-piece blob", i, pieces))
				return
			}
		case msg.Cancel != nil:
			u.mu.Lock()
			if k := slices.Index(u.queue, msg.Cancel.Piece); k >= 0 {
				u.queue = slices.Delete(u.queue, k, k+1)
				u.cancelled = append(u.cancelled, msg.Cancel.Piece)
			}
			u.mu.Unlock()
		default:
			end("a requester sent a frame other than Request or Cancel")
			return
		}
		u.poke()
	}
}

// sendParts sends the pin's parts covering pieces not yet covered on this stream.
func (u *upload) sendParts(pieces []uint32, covered *protocol.Bitfield) error {
	var fresh []protocol.ManifestPart
	for _, p := range u.s.b.partsFor(pieces) {
		isNew := false
		for k := range p.Hashes {
			if !covered.Has(p.First + uint32(k)) {
				isNew = true
				covered.Set(p.First + uint32(k))
			}
		}
		if isNew {
			fresh = append(fresh, *p)
		}
	}
	for start := 0; start < len(fresh); start += protocol.MaxPartsPerFrame {
		if err := u.send(&protocol.PieceMessage{Manifest: fresh[start:min(len(fresh), start+protocol.MaxPartsPerFrame)]}); err != nil {
			return err
		}
	}
	return nil
}

// sendPiece answers one request: the piece in chunks of at most 256 KiB, or BAD_REQUEST.
func (u *upload) sendPiece(i uint32) error {
	b := u.s.b
	if !b.has(i) {
		return u.send(&protocol.PieceMessage{Error: &protocol.Error{Code: protocol.CodeBadRequest, Message: fmt.Sprintf("piece %d is not held here", i), Piece: &i}})
	}
	data, err := b.readPiece(i)
	if err != nil {
		return u.send(&protocol.PieceMessage{Error: &protocol.Error{Code: protocol.CodeInternal, Message: "could not read the piece", Piece: &i}})
	}
	for off := 0; off < len(data); off += protocol.MaxChunkSize {
		end := min(len(data), off+protocol.MaxChunkSize)
		chunk := &protocol.PieceData{Piece: i, Offset: uint32(off), Data: data[off:end], Last: end == len(data)}
		if err := u.send(&protocol.PieceMessage{Data: chunk}); err != nil {
			return err
		}
	}
	u.s.uploaded.Add(uint64(len(data)))
	emit("uploaded", map[string]any{"peer": u.peer.String(), "piece": i, "bytes": len(data)})
	return nil
}
