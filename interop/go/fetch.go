package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"damselfly/interop/go/protocol"
)

const (
	// a stream that had requests outstanding and brought nothing this long is stalled
	stallAfter = 15 * time.Second
	// a parent with nothing to give for this long lets its place go
	idleAfter = 10 * time.Second
	// bytes kept requested from one parent (at least one piece, at most MaxOutstanding)
	requestedBytes = 4 << 20
	// DHT lookups while parents are wanted: 3 s apart, twice that after each that named nobody new, up to 30 s
	lookupGapMin = 3 * time.Second
	lookupGapMax = 30 * time.Second
	busyBackOff  = 500 * time.Millisecond
)

// fetcher downloads the blob from several parents at once.
type fetcher struct {
	// life is the peer's lifetime: the provider record is renewed for as long as it runs, fetching or not
	life context.Context
	n    *node
	b    *blob
	g    *gossip
	srv  *server
	cfg  config

	mu        sync.Mutex
	cands     map[peer.ID]*candidate
	active    int
	received  map[peer.ID]uint64
	lookingUp bool
	lastLook  time.Time
	lookupGap time.Duration
	wake      chan struct{}
	complete  chan struct{}
	announced bool
}

type candidate struct {
	active   bool
	banned   bool
	retryAt  time.Time
	failures int
}

func newFetcher(life context.Context, n *node, b *blob, g *gossip, srv *server, cfg config) *fetcher {
	return &fetcher{life: life, n: n, b: b, g: g, srv: srv, cfg: cfg, cands: map[peer.ID]*candidate{}, received: map[peer.ID]uint64{},
		wake: make(chan struct{}, 1), complete: make(chan struct{}), lookupGap: lookupGapMin}
}

func (f *fetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// add makes p a candidate parent; fresh news (a DHT record, an announcement) ends a wait after NOT_FOUND.
func (f *fetcher) add(p peer.ID, fresh bool) {
	if p == f.n.host.ID() {
		return
	}
	f.mu.Lock()
	c, ok := f.cands[p]
	if !ok {
		c = &candidate{}
		f.cands[p] = c
	}
	if fresh && !c.active && c.failures == 0 {
		c.retryAt = time.Time{}
	}
	f.mu.Unlock()
	f.poke()
}

func (f *fetcher) receivedFrom() map[string]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]uint64{}
	for p, n := range f.received {
		out[p.String()] = n
	}
	return out
}

func (f *fetcher) run(ctx context.Context) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for !f.b.complete() {
		changed := f.b.watch()
		// the peers at hand first: every connected peer that speaks the piece protocol
		for _, p := range f.n.host.Network().Peers() {
			if ok, _ := f.n.host.Peerstore().SupportsProtocols(p, protocol.PieceProtocol); len(ok) > 0 {
				f.add(p, false)
			}
		}
		f.maybeLookUp(sctx)
		f.startSessions(sctx, &wg)
		select {
		case <-ctx.Done():
			return fmt.Errorf("no complete copy of %s within %s: %w", f.b.digest, f.cfg.timeout, ctx.Err())
		case h := <-f.g.holders:
			if h.withdrawn {
				f.mu.Lock()
				if c := f.cands[h.peer]; c != nil {
					c.retryAt = time.Now().Add(time.Hour)
				}
				f.mu.Unlock()
			} else {
				f.add(h.peer, true)
			}
		case <-f.wake:
		case <-changed:
		case <-tick.C:
		}
	}
	close(f.complete)
	if err := f.b.verifyWhole(); err != nil {
		return err
	}
	f.g.announce(ctx, nil, true)
	return nil
}

// maybeLookUp asks the DHT for providers while there are fewer parents than wanted.
func (f *fetcher) maybeLookUp(ctx context.Context) {
	f.mu.Lock()
	due := !f.lookingUp && f.active < f.cfg.maxParents && time.Since(f.lastLook) >= f.lookupGap
	if due {
		f.lookingUp = true
		f.lastLook = time.Now()
	}
	f.mu.Unlock()
	if !due {
		return
	}
	go func() {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var named, fresh int
		for ai := range f.n.kad.FindProvidersAsync(lctx, f.b.digest.CID(), 8) {
			if ai.ID == f.n.host.ID() {
				continue
			}
			f.mu.Lock()
			_, known := f.cands[ai.ID]
			f.mu.Unlock()
			if !known {
				fresh++
			}
			f.n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.TempAddrTTL)
			f.add(ai.ID, true)
			named++
		}
		emit("lookup", map[string]any{"providers": named, "new": fresh})
		f.mu.Lock()
		f.lookingUp = false
		f.lastLook = time.Now()
		if fresh == 0 {
			f.lookupGap = min(2*f.lookupGap, lookupGapMax)
		} else {
			f.lookupGap = lookupGapMin
		}
		f.mu.Unlock()
	}()
}

func (f *fetcher) startSessions(ctx context.Context, wg *sync.WaitGroup) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for p, c := range f.cands {
		if f.active >= f.cfg.maxParents {
			return
		}
		if c.active || c.banned || now.Before(c.retryAt) || f.srv.banned(p) {
			continue
		}
		c.active = true
		f.active++
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := f.session(ctx, p)
			f.ended(p, out)
		}()
	}
}

// outcome is how a session with a parent ended, and so when to ask it again.
type outcome struct {
	retryAfter time.Duration
	failed     bool
	ban        string
}

func (f *fetcher) ended(p peer.ID, out outcome) {
	f.mu.Lock()
	c := f.cands[p]
	c.active = false
	f.active--
	if out.ban != "" {
		c.banned = true
	}
	if out.failed {
		c.failures++
		out.retryAfter = max(out.retryAfter, min(30*time.Second, time.Second<<min(c.failures, 5)))
	} else {
		c.failures = 0
	}
	c.retryAt = time.Now().Add(out.retryAfter)
	f.mu.Unlock()
	if out.ban != "" {
		emit("banned", map[string]any{"peer": p.String(), "reason": out.ban, "blob": string(f.b.digest)})
	}
	f.poke()
}

// gotPiece is a piece stored: the first one makes this peer a holder others can find (§5, §6).
func (f *fetcher) gotPiece(ctx context.Context, p peer.ID, i uint32, first bool) {
	emit("piece", map[string]any{"index": i, "from": p.String()})
	if !first {
		return
	}
	f.g.announce(ctx, []uint32{i}, false)
	go f.provideLoop(f.life)
}

// provideLoop publishes the provider record and renews it before it lapses.
func (f *fetcher) provideLoop(ctx context.Context) {
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := f.n.kad.Provide(pctx, f.b.digest.CID(), true)
		cancel()
		if err != nil {
			emit("warning", map[string]any{"message": "provide: " + err.Error()})
		} else {
			emit("provided", nil)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(providerRecordTTL - reprovideBefore):
		}
	}
}

// vouched is a responder's hash for a piece, from a part it sent on this stream.
type vouched struct {
	hash   []byte
	signer peer.ID
}

// session fetches from one parent on one piece stream (§8) until the blob is
// complete, the parent has nothing more, or something goes wrong.
func (f *fetcher) session(ctx context.Context, p peer.ID) outcome {
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	st, err := f.n.host.NewStream(octx, p, protocol.PieceProtocol)
	cancel()
	if err != nil {
		return outcome{failed: true}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-f.complete:
			st.Close()
		case <-ctx.Done():
			st.Reset()
		case <-done:
		}
	}()
	s := &parentSession{f: f, p: p, st: st, vouch: map[uint32]vouched{}, declined: map[uint32]time.Time{}}
	out := s.run(ctx)
	for _, i := range s.outstanding {
		f.b.settled(i)
	}
	if out.ban != "" || out.failed {
		st.Reset()
	} else {
		st.Close()
	}
	return out
}

type parentSession struct {
	f           *fetcher
	p           peer.ID
	st          network.Stream
	has         *protocol.Bitfield
	vouch       map[uint32]vouched
	declined    map[uint32]time.Time
	outstanding []uint32
	piece       []byte
	got         uint32
	opened      bool
}

func (s *parentSession) send(m *protocol.PieceMessage) error {
	s.st.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := s.st.Write(protocol.Frame(m.Marshal()))
	return err
}

func (s *parentSession) run(ctx context.Context) outcome {
	b := s.f.b
	if err := s.send(&protocol.PieceMessage{Open: &protocol.Open{Digest: string(b.digest), WantManifest: true}}); err != nil {
		return outcome{failed: true}
	}
	r := bufio.NewReaderSize(s.st, 64<<10)
	for {
		wait := idleAfter
		if len(s.outstanding) > 0 || !s.opened {
			wait = stallAfter
		}
		s.st.SetReadDeadline(time.Now().Add(wait))
		frame, err := protocol.ReadFrame(r, protocol.MaxPieceFrame)
		if err != nil {
			switch {
			case b.complete():
				return outcome{}
			case protocol.IsViolation(err):
				return outcome{ban: err.Error()}
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, network.ErrReset) || len(s.outstanding) > 0:
				return outcome{failed: true}
			default:
				// the parent ended the session, or had nothing to give for a while
				return outcome{retryAfter: time.Second}
			}
		}
		msg, err := protocol.UnmarshalPieceMessage(frame)
		if err != nil {
			return outcome{ban: err.Error()}
		}
		if out, end := s.handle(ctx, msg); end {
			return out
		}
		if b.complete() {
			return outcome{}
		}
		if err := s.request(); err != nil {
			return outcome{failed: true}
		}
	}
}

// handle takes one frame from the parent; end is true when the session is over.
func (s *parentSession) handle(ctx context.Context, msg *protocol.PieceMessage) (out outcome, end bool) {
	b := s.f.b
	violation := func(format string, args ...any) (outcome, bool) {
		return outcome{ban: fmt.Sprintf(format, args...)}, true
	}
	switch {
	case msg.Manifest != nil:
		for k := range msg.Manifest {
			part := &msg.Manifest[k]
			signer, err := b.accept(part)
			if errors.Is(err, errUntrusted) {
				continue
			}
			if err != nil {
				return violation("%v", err)
			}
			for j, h := range part.Hashes {
				s.vouch[part.First+uint32(j)] = vouched{hash: h, signer: signer}
			}
		}
	case msg.Bitfield != nil:
		if s.has != nil {
			return violation("a second bitfield")
		}
		l := b.getLayout()
		if l != nil && msg.Bitfield.Pieces != l.Pieces {
			return violation("bitfield of %d pieces for a %d-piece blob", msg.Bitfield.Pieces, l.Pieces)
		}
		has, err := protocol.ParseBitfield(msg.Bitfield.Pieces, msg.Bitfield.Bits)
		if err != nil {
			return violation("%v", err)
		}
		s.has, s.opened = has, true
		emit("parent", map[string]any{"peer": s.p.String(), "pieces": has.Count()})
	case msg.Have != nil:
		if s.has == nil {
			return violation("Have before the bitfield")
		}
		for _, i := range msg.Have.Pieces {
			if i >= s.has.Len() {
				return violation("Have names piece %d of a %d-piece blob", i, s.has.Len())
			}
			s.has.Set(i)
		}
	case msg.Data != nil:
		return s.data(ctx, msg.Data)
	case msg.Choke != nil:
		return outcome{retryAfter: time.Duration(msg.Choke.RetryAfterMs) * time.Millisecond}, true
	case msg.Error != nil:
		e := msg.Error
		if e.Piece == nil {
			// the answer to Open: NOT_FOUND, or the responder failing
			return outcome{retryAfter: 5 * time.Second}, true
		}
		k := slices.Index(s.outstanding, *e.Piece)
		if k != 0 || s.got > 0 {
			return violation("an error for piece %d out of the request order", *e.Piece)
		}
		s.outstanding = s.outstanding[1:]
		b.settled(*e.Piece)
		switch e.Code {
		case protocol.CodeBusy:
			s.declined[*e.Piece] = time.Now().Add(busyBackOff)
		case protocol.CodeBadRequest:
			s.has.Clear(*e.Piece)
		}
	default:
		return violation("a responder sent a requester's frame")
	}
	return outcome{}, false
}

// data takes one chunk of the piece at the head of the requests; a whole
// piece is hashed and checked against the hash this parent vouched for.
func (s *parentSession) data(ctx context.Context, d *protocol.PieceData) (outcome, bool) {
	b := s.f.b
	violation := func(format string, args ...any) (outcome, bool) {
		return outcome{ban: fmt.Sprintf(format, args...)}, true
	}
	if len(s.outstanding) == 0 || d.Piece != s.outstanding[0] {
		return violation("data for piece %d, which is not the next one asked for", d.Piece)
	}
	_, length := b.getLayout().Range(d.Piece)
	if s.got == 0 {
		s.piece = make([]byte, length)
	}
	if d.Offset != s.got || len(d.Data) == 0 || uint64(s.got)+uint64(len(d.Data)) > uint64(length) {
		return violation("chunk at %d+%d of piece %d, expected one at %d of a %d-byte piece", d.Offset, len(d.Data), d.Piece, s.got, length)
	}
	copy(s.piece[s.got:], d.Data)
	s.got += uint32(len(d.Data))
	if d.Last != (s.got == length) {
		return violation("piece %d: last chunk flag %v at %d of %d bytes", d.Piece, d.Last, s.got, length)
	}
	s.f.mu.Lock()
	s.f.received[s.p] += uint64(len(d.Data))
	s.f.mu.Unlock()
	if s.f.cfg.readDelay > 0 {
		time.Sleep(s.f.cfg.readDelay)
	}
	if !d.Last {
		return outcome{}, false
	}
	i, data := d.Piece, s.piece
	s.outstanding, s.piece, s.got = s.outstanding[1:], nil, 0
	b.settled(i)
	v, ok := s.vouch[i]
	if !ok {
		return violation("piece %d came without a hash for it", i)
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], v.hash) {
		return violation("piece %d does not match the hash it sent", i)
	}
	first, stored, err := b.store(i, data, v.hash, v.signer)
	if err != nil {
		return outcome{failed: true}, true
	}
	if stored {
		s.f.gotPiece(ctx, s.p, i, first)
	} else if !b.has(i) {
		// it follows another signer than the one believed: not used, not banned
		return outcome{retryAfter: time.Minute}, true
	}
	return outcome{}, false
}

// request keeps about requestedBytes asked of this parent, pieces it holds and vouched for.
func (s *parentSession) request() error {
	b := s.f.b
	l := b.getLayout()
	if s.has == nil || l == nil {
		return nil
	}
	depth := max(1, min(protocol.MaxOutstanding, requestedBytes/int(l.PieceSize)))
	want := depth - len(s.outstanding)
	if want <= 0 {
		return nil
	}
	now := time.Now()
	picks := b.pick(s.has, want,
		func(i uint32) []byte { return s.vouch[i].hash },
		func(i uint32) bool { return slices.Contains(s.outstanding, i) || now.Before(s.declined[i]) })
	for k, i := range picks {
		if err := s.send(&protocol.PieceMessage{Request: &protocol.Request{Piece: i}}); err != nil {
			for _, j := range picks[k:] {
				b.settled(j)
			}
			return err
		}
		s.outstanding = append(s.outstanding, i)
	}
	return nil
}
