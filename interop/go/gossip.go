package main

import (
	"context"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"damselfly/interop/go/protocol"
)

// holderNews is what the blob's topic says of a peer: it holds pieces, or no longer.
type holderNews struct {
	peer      peer.ID
	withdrawn bool
}

// gossip is this peer on the blob's topic (§6: Announce) and the beacon topic.
type gossip struct {
	n       *node
	b       *blob
	blob    *pubsub.Topic
	beacon  *pubsub.Topic
	holders chan holderNews
}

func startGossip(ctx context.Context, n *node, b *blob, srv *server) (*gossip, error) {
	g := &gossip{n: n, b: b, holders: make(chan holderNews, 256)}
	topic := b.digest.Topic()
	err := n.ps.RegisterTopicValidator(topic, func(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		a, err := protocol.UnmarshalAnnounce(m.Data)
		if err != nil || a.Digest != string(b.digest) {
			return pubsub.ValidationReject
		}
		if l := b.getLayout(); l != nil && !a.Withdrawn && a.Pieces != l.Pieces {
			return pubsub.ValidationReject
		}
		return pubsub.ValidationAccept
	})
	if err != nil {
		return nil, err
	}
	if g.blob, err = n.ps.Join(topic); err != nil {
		return nil, err
	}
	sub, err := g.blob.Subscribe()
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			from := m.GetFrom()
			if from == n.host.ID() {
				continue
			}
			a, err := protocol.UnmarshalAnnounce(m.Data)
			if err != nil {
				continue
			}
			if !a.Withdrawn {
				g.remember(from, a.Addrs)
			}
			emit("announce-heard", map[string]any{"peer": from.String(), "complete": a.Complete, "withdrawn": a.Withdrawn})
			select {
			case g.holders <- holderNews{peer: from, withdrawn: a.Withdrawn}:
			default:
			}
		}
	}()

	err = n.ps.RegisterTopicValidator(protocol.BeaconTopic, func(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if _, err := protocol.UnmarshalBeacon(m.Data); err != nil {
			return pubsub.ValidationReject
		}
		return pubsub.ValidationAccept
	})
	if err != nil {
		return nil, err
	}
	if g.beacon, err = n.ps.Join(protocol.BeaconTopic); err != nil {
		return nil, err
	}
	beacons, err := g.beacon.Subscribe()
	if err != nil {
		return nil, err
	}
	go func() {
		// others' load is not used to rank parents here: being subscribed keeps this peer in the topic's mesh
		for {
			if _, err := beacons.Next(ctx); err != nil {
				return
			}
		}
	}()
	go g.beaconLoop(ctx, srv)
	return g, nil
}

// remember puts a publisher's announced addresses (with or without /p2p/<id>) in the peerstore.
func (g *gossip) remember(p peer.ID, addrs [][]byte) {
	var list []ma.Multiaddr
	for _, raw := range addrs {
		a, err := ma.NewMultiaddrBytes(raw)
		if err != nil {
			continue
		}
		transport, id := peer.SplitAddr(a)
		if transport == nil || (id != "" && id != p) {
			continue
		}
		list = append(list, transport)
	}
	g.n.host.Peerstore().AddAddrs(p, list, peerstore.TempAddrTTL)
}

func (g *gossip) addrBytes() [][]byte {
	var out [][]byte
	for _, a := range g.n.addrs() {
		if len(out) == protocol.MaxAddrs {
			break
		}
		out = append(out, a.Bytes())
	}
	return out
}

// announce publishes that this peer holds pieces of the blob (have), or all of it.
func (g *gossip) announce(ctx context.Context, have []uint32, complete bool) {
	l := g.b.getLayout()
	a := &protocol.Announce{Digest: string(g.b.digest), Pieces: l.Pieces, Have: have, Complete: complete, Addrs: g.addrBytes()}
	if err := g.blob.Publish(ctx, a.Marshal()); err != nil {
		emit("warning", map[string]any{"message": "announce: " + err.Error()})
		return
	}
	emit("announced", map[string]any{"have": have, "complete": complete})
}

// beaconLoop gossips this peer's load every 5 s while it changes, every 30 s when it does not.
func (g *gossip) beaconLoop(ctx context.Context, srv *server) {
	var last protocol.Beacon
	var lastAt time.Time
	var lastUploaded uint64
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		up := srv.uploaded.Load()
		active, free := srv.load()
		b := protocol.Beacon{UploadBps: (up - lastUploaded) / 5, ActiveUploads: uint32(active), FreeUploadSlots: uint32(free)}
		lastUploaded = up
		same := b.UploadBps == last.UploadBps && b.ActiveUploads == last.ActiveUploads && b.FreeUploadSlots == last.FreeUploadSlots
		if same && time.Since(lastAt) < 30*time.Second {
			continue
		}
		last, lastAt = b, time.Now()
		b.Addrs = g.addrBytes()
		_ = g.beacon.Publish(ctx, b.Marshal())
	}
}
