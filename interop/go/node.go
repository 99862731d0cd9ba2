package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/pnet"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/x/rate"
	ma "github.com/multiformats/go-multiaddr"

	"damselfly/interop/go/protocol"
)

// providerRecordTTL is how long provider records are good for in a Damselfly
// swarm (§5), and the renewal comes this long before they lapse.
const (
	providerRecordTTL = 6 * time.Hour
	reprovideBefore   = 2 * time.Hour
)

// node is the libp2p side: a host with TCP, TLS and Noise, go-libp2p's
// default Yamux, identify and ping, the swarm's DHT and gossipsub.
type node struct {
	host host.Host
	kad  *dht.IpfsDHT
	ps   *pubsub.PubSub
}

func newNode(ctx context.Context, cfg config) (*node, error) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, err
	}
	// go-libp2p's resource manager allows 8 connections per IPv4 address and
	// new ones at 0.2/s past a burst of 16 (loopback is exempt). Members of a
	// swarm often share one address (a NAT, a node's pod network): those
	// limits would refuse them. The others (memory, streams) stay at their defaults.
	limiter := rcmgr.NewFixedLimiter(rcmgr.DefaultLimits.AutoScale())
	rm, err := rcmgr.NewResourceManager(limiter,
		rcmgr.WithLimitPerSubnet([]rcmgr.ConnLimitPerSubnet{{PrefixLength: 32, ConnCount: 1024}}, []rcmgr.ConnLimitPerSubnet{{PrefixLength: 56, ConnCount: 1024}}),
		rcmgr.WithConnRateLimiters(&rate.Limiter{}))
	if err != nil {
		return nil, err
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(cfg.listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Security(noise.ID, noise.New),
		// Yamux: go-libp2p's default, its windows untouched
		libp2p.ResourceManager(rm),
		libp2p.UserAgent("damselfly-go/0.1"),
	}
	if cfg.swarmKey != "" {
		f, err := os.Open(cfg.swarmKey)
		if err != nil {
			return nil, err
		}
		psk, err := pnet.DecodeV1PSK(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("swarm key %s: %w", cfg.swarmKey, err)
		}
		opts = append(opts, libp2p.PrivateNetwork(psk))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, err
	}
	h.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			emit("connected", map[string]any{"peer": c.RemotePeer().String(), "direction": c.Stat().Direction.String()})
		},
		DisconnectedF: func(_ network.Network, c network.Conn) {
			emit("disconnected", map[string]any{"peer": c.RemotePeer().String()})
		},
	})
	if err := reportIdentified(ctx, h); err != nil {
		h.Close()
		return nil, err
	}
	kad, err := dht.New(h,
		dht.Mode(dht.ModeServer),
		dht.ProtocolPrefix("/damselfly"),
		dht.BucketSize(8),
		dht.ProviderManagerOpts(records.ProvideValidity(providerRecordTTL)),
	)
	if err != nil {
		h.Close()
		return nil, err
	}
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithMaxMessageSize(2*protocol.MaxGossipMessage))
	if err != nil {
		kad.Close()
		h.Close()
		return nil, err
	}
	return &node{host: h, kad: kad, ps: ps}, nil
}

// reportIdentified emits what each peer said of itself through identify (its protocols, its agent).
func reportIdentified(ctx context.Context, h host.Host) error {
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return err
	}
	go func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				id := e.(event.EvtPeerIdentificationCompleted)
				emit("identified", map[string]any{"peer": id.Peer.String(), "agent": id.AgentVersion, "protocols": id.Protocols})
			}
		}
	}()
	return nil
}

// addrs are this node's listen addresses with /p2p/<id>, as Announce and Beacon carry them.
func (n *node) addrs() []ma.Multiaddr {
	self, _ := ma.NewComponent("p2p", n.host.ID().String())
	var out []ma.Multiaddr
	for _, a := range n.host.Addrs() {
		out = append(out, a.Encapsulate(self.Multiaddr()))
	}
	return out
}

// join dials the bootstrap peers and fills the DHT's routing table from them.
func (n *node) join(ctx context.Context, bootstrap []string) error {
	var reached int
	var errs []error
	for _, s := range bootstrap {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("bootstrap %s: %w", s, err))
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = n.host.Connect(dctx, *ai)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("bootstrap %s: %w", s, err))
			continue
		}
		reached++
	}
	if len(bootstrap) > 0 && reached == 0 {
		return errors.Join(errs...)
	}
	return n.kad.Bootstrap(ctx)
}

func (n *node) close() {
	n.kad.Close()
	n.host.Close()
}

func run(ctx context.Context, cfg config) error {
	n, err := newNode(ctx, cfg)
	if err != nil {
		return err
	}
	defer n.close()
	var addrs []string
	for _, a := range n.addrs() {
		addrs = append(addrs, a.String())
	}
	emit("listening", map[string]any{"peer": n.host.ID().String(), "addrs": addrs})

	b, err := newBlob(cfg.digest, cfg.out, cfg.trusted)
	if err != nil {
		return err
	}
	defer b.close()
	srv := newServer(n, b)
	srv.start()
	g, err := startGossip(ctx, n, b, srv)
	if err != nil {
		return err
	}
	if err := n.join(ctx, cfg.bootstrap); err != nil {
		return err
	}

	fctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	f := newFetcher(ctx, n, b, g, srv, cfg)
	started := time.Now()
	if err := f.run(fctx); err != nil {
		return err
	}
	emit("done", map[string]any{"digest": string(cfg.digest), "bytes": b.layout.Size, "seconds": time.Since(started).Seconds(), "from": f.receivedFrom()})
	if cfg.stay {
		<-ctx.Done()
	}
	return nil
}
