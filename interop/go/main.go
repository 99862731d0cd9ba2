// Command damselfly-go is a Damselfly peer written with go-libp2p from
// docs/protocol.md alone: it fetches one blob from a swarm, verifying every
// piece against the signed manifest and the whole blob against its digest,
// and serves it to others meanwhile and afterwards. It prints what happens as
// JSON lines on stdout, for a test (or a person) to follow.
//
//	damselfly-go fetch -digest sha256:... -bootstrap /ip4/.../p2p/... -out FILE [-stay]
//	damselfly-go vectors FILE
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"damselfly/interop/go/protocol"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "fetch":
		os.Exit(fetchCommand(os.Args[2:]))
	case "vectors":
		os.Exit(vectorsCommand(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: damselfly-go fetch -digest sha256:... -bootstrap ADDR [-bootstrap ADDR ...] -out FILE [flags]")
	fmt.Fprintln(os.Stderr, "       damselfly-go vectors interop/vectors/vectors.json")
	os.Exit(2)
}

func vectorsCommand(args []string) int {
	if len(args) != 1 {
		usage()
	}
	checked, errs := protocol.CheckVectors(args[0])
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, "vectors:", err)
	}
	if len(errs) > 0 {
		return 1
	}
	fmt.Printf("vectors: all good: %s\n", strings.Join(checked, ", "))
	return 0
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// config is what one run of the peer is told.
type config struct {
	digest     protocol.Digest
	out        string
	listen     []string
	bootstrap  []string
	swarmKey   string
	trusted    []string
	maxParents int
	readDelay  time.Duration
	stay       bool
	timeout    time.Duration
}

func fetchCommand(args []string) int {
	fs := flag.NewFlagSet("fetch", flag.ExitOnError)
	var cfg config
	var digest string
	var listen, bootstrap, trusted listFlag
	fs.StringVar(&digest, "digest", "", "the blob's digest, sha256:<64 hex>")
	fs.StringVar(&cfg.out, "out", "", "where the blob is written")
	fs.Var(&listen, "listen", "multiaddr to listen on (repeatable; default /ip4/127.0.0.1/tcp/0)")
	fs.Var(&bootstrap, "bootstrap", "multiaddr with /p2p/<id> of a swarm member to join through (repeatable)")
	fs.StringVar(&cfg.swarmKey, "swarm-key", "", "file holding the swarm's pre-shared key (libp2p pnet), if it has one")
	fs.Var(&trusted, "trust", "peer id of a trusted manifest signer (repeatable; default: any signer, an open swarm)")
	fs.IntVar(&cfg.maxParents, "max-parents", 4, "parents fetched from at once")
	fs.DurationVar(&cfg.readDelay, "read-delay", 0, "sleep this long after reading each piece chunk (a slow reader, for tests)")
	fs.BoolVar(&cfg.stay, "stay", false, "keep serving the blob once fetched, until SIGTERM")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "give up fetching after this long")
	_ = fs.Parse(args)
	d, err := protocol.ParseDigest(digest)
	if err != nil || cfg.out == "" {
		fmt.Fprintln(os.Stderr, "damselfly-go fetch: -digest and -out are required:", err)
		return 2
	}
	cfg.digest, cfg.listen, cfg.bootstrap, cfg.trusted = d, listen, bootstrap, trusted
	if len(cfg.listen) == 0 {
		cfg.listen = []string{"/ip4/127.0.0.1/tcp/0"}
	}
	if cfg.maxParents < 1 {
		cfg.maxParents = 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		emit("error", map[string]any{"message": err.Error()})
		fmt.Fprintln(os.Stderr, "damselfly-go:", err)
		return 1
	}
	return 0
}

var emitMu sync.Mutex

// emit prints one event as a JSON line: {"event": name, ...fields}.
func emit(event string, fields map[string]any) {
	line := map[string]any{"event": event, "at": time.Now().UnixMilli()}
	for k, v := range fields {
		line[k] = v
	}
	b, _ := json.Marshal(line)
	emitMu.Lock()
	defer emitMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}
