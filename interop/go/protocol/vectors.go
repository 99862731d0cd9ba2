package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// CheckVectors checks interop/vectors/vectors.json against this package: every
// message encodes to its payload and frame byte for byte and decodes back to
// its value, and every piece size, DHT key, topic, seed ranking, signing
// layout and signature is reproduced. It returns one error per mismatch.
func CheckVectors(path string) ([]string, []error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	var v struct {
		Constants   map[string]any  `json:"constants"`
		ExampleBlob json.RawMessage `json:"example_blob"`
		Messages    []struct {
			Name    string         `json:"name"`
			Type    string         `json:"type"`
			Value   map[string]any `json:"value"`
			Payload string         `json:"payload"`
			Frame   *string        `json:"frame"`
		} `json:"messages"`
		PieceSizes []struct {
			Size            string `json:"size"`
			PieceSize       uint32 `json:"piece_size"`
			Pieces          uint32 `json:"pieces"`
			LastPieceLength uint32 `json:"last_piece_length"`
		} `json:"piece_sizes"`
		Blobs []struct {
			Digest, Multihash, CID, Topic string
		} `json:"blobs"`
		RankSeeds []struct {
			Digest string            `json:"digest"`
			Seeds  []string          `json:"seeds"`
			Scores map[string]string `json:"scores"`
			Ranked []string          `json:"ranked"`
		} `json:"rank_seeds"`
		Manifest struct {
			KeySeed         string `json:"key_seed"`
			SignerPublicKey string `json:"signer_public_key"`
			SignerPeerID    string `json:"signer_peer_id"`
			Parts           []struct {
				Part         map[string]any `json:"part"`
				SigningBytes string         `json:"signing_bytes"`
				Signature    string         `json:"signature"`
			} `json:"parts"`
		} `json:"manifest"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, []error{err}
	}
	var checked []string
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	want := map[string]any{
		"PIECE_PROTOCOL": PieceProtocol, "SEED_PROTOCOL": SeedProtocol, "ACCESS_PROTOCOL": AccessProtocol, "KAD_PROTOCOL": KadProtocol,
		"BEACON_TOPIC": BeaconTopic, "BLOB_TOPIC_PREFIX": BlobTopicPrefix,
		"MIN_PIECE_SIZE": MinPieceSize, "MAX_PIECE_SIZE": MaxPieceSize, "TARGET_PIECES": TargetPieces,
		"MAX_PIECES": MaxPieces, "MAX_BLOB_SIZE": strconv.FormatUint(MaxBlobSize, 10), "MAX_CHUNK_SIZE": MaxChunkSize,
		"MAX_PIECE_FRAME": MaxPieceFrame, "MAX_SEED_FRAME": MaxSeedFrame, "MAX_ACCESS_FRAME": MaxAccessFrame,
		"MAX_GOSSIP_MESSAGE": MaxGossipMessage, "MAX_PARTS_PER_FRAME": MaxPartsPerFrame,
		"MAX_HAVE_BATCH": MaxHaveBatch, "MAX_ADDRS": MaxAddrs, "MAX_URL_LENGTH": MaxURLLength,
		"MANIFEST_SIGNATURE_DOMAIN": ManifestSignatureDomain,
	}
	for name, got := range v.Constants {
		w, ok := want[name]
		if !ok {
			fail("constant %s: not known here", name)
			continue
		}
		if f, isNumber := got.(float64); isNumber {
			got = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if fmt.Sprint(w) != fmt.Sprint(got) {
			fail("constant %s: vectors say %v, here %v", name, got, w)
		}
	}
	checked = append(checked, fmt.Sprintf("%d constants", len(v.Constants)))

	for _, m := range v.Messages {
		payload, _ := hex.DecodeString(m.Payload)
		value, err := fromJSON(m.Type, m.Value)
		if err != nil {
			fail("%s: %v", m.Name, err)
			continue
		}
		if got := marshal(value); !bytes.Equal(got, payload) {
			fail("%s: encodes to %x, vectors say %s", m.Name, got, m.Payload)
		}
		if m.Frame != nil && hex.EncodeToString(Frame(payload)) != *m.Frame {
			fail("%s: frame %x, vectors say %s", m.Name, Frame(payload), *m.Frame)
		}
		decoded, err := unmarshal(m.Type, payload)
		if err != nil {
			fail("%s: does not decode: %v", m.Name, err)
		} else if !reflect.DeepEqual(decoded, value) {
			fail("%s: decodes to %+v, not %+v", m.Name, decoded, value)
		}
	}
	checked = append(checked, fmt.Sprintf("%d messages", len(v.Messages)))

	var blob struct {
		Size        string   `json:"size"`
		Digest      string   `json:"digest"`
		PieceSize   uint32   `json:"piece_size"`
		Pieces      uint32   `json:"pieces"`
		PieceHashes []string `json:"piece_hashes"`
	}
	if err := json.Unmarshal(v.ExampleBlob, &blob); err != nil {
		fail("example_blob: %v", err)
	} else {
		size, _ := strconv.ParseUint(blob.Size, 10, 64)
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i % 251)
		}
		sum := sha256.Sum256(data)
		if d := DigestFromHash(sum[:]); string(d) != blob.Digest {
			fail("example_blob: digest %s, vectors say %s", d, blob.Digest)
		}
		l, _ := LayoutFor(size)
		if l.PieceSize != blob.PieceSize || l.Pieces != blob.Pieces {
			fail("example_blob: layout %+v", l)
		}
		for i := uint32(0); i < l.Pieces && int(i) < len(blob.PieceHashes); i++ {
			off, n := l.Range(i)
			h := sha256.Sum256(data[off : off+uint64(n)])
			if hex.EncodeToString(h[:]) != blob.PieceHashes[i] {
				fail("example_blob: piece %d hash", i)
			}
		}
		checked = append(checked, "the example blob")
	}

	for _, p := range v.PieceSizes {
		size, _ := strconv.ParseUint(p.Size, 10, 64)
		l, err := LayoutFor(size)
		var last uint32
		if l.Pieces > 0 {
			_, last = l.Range(l.Pieces - 1)
		}
		if err != nil || l.PieceSize != p.PieceSize || l.Pieces != p.Pieces || last != p.LastPieceLength {
			fail("piece size of %s: %+v, last %d (%v)", p.Size, l, last, err)
		}
	}
	checked = append(checked, fmt.Sprintf("%d piece sizes", len(v.PieceSizes)))

	for _, b := range v.Blobs {
		d, err := ParseDigest(b.Digest)
		if err != nil {
			fail("blob %s: %v", b.Digest, err)
			continue
		}
		if hex.EncodeToString(d.Multihash()) != b.Multihash || d.CID().String() != b.CID || d.Topic() != b.Topic {
			fail("blob %s: multihash %x, cid %s, topic %s", b.Digest, []byte(d.Multihash()), d.CID(), d.Topic())
		}
	}
	checked = append(checked, fmt.Sprintf("%d DHT keys and topics", len(v.Blobs)))

	for _, r := range v.RankSeeds {
		d, _ := ParseDigest(r.Digest)
		for seed, score := range r.Scores {
			if hex.EncodeToString(SeedScore(d, seed)) != score {
				fail("rank_seeds %s: score of %s", r.Digest, seed)
			}
		}
		if got := RankSeeds(d, r.Seeds); !reflect.DeepEqual(got, r.Ranked) {
			fail("rank_seeds %s: ranked %v, vectors say %v", r.Digest, got, r.Ranked)
		}
	}
	checked = append(checked, fmt.Sprintf("%d seed rankings", len(v.RankSeeds)))

	seed, _ := hex.DecodeString(v.Manifest.KeySeed)
	if len(seed) != ed25519.SeedSize {
		fail("manifest: key seed of %d bytes", len(seed))
		return checked, errs
	}
	key, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		fail("manifest: %v", err)
		return checked, errs
	}
	pub, _ := crypto.MarshalPublicKey(key.GetPublic())
	id, _ := peer.IDFromPrivateKey(key)
	if hex.EncodeToString(pub) != v.Manifest.SignerPublicKey || id.String() != v.Manifest.SignerPeerID {
		fail("manifest: public key %x, peer id %s", pub, id)
	}
	for i, p := range v.Manifest.Parts {
		part, err := manifestPartFromJSON(p.Part)
		if err != nil {
			fail("manifest part %d: %v", i, err)
			continue
		}
		if hex.EncodeToString(SigningBytes(part)) != p.SigningBytes {
			fail("manifest part %d: signing bytes %x", i, SigningBytes(part))
		}
		resigned := *part
		if err := SignManifestPart(&resigned, key); err != nil || hex.EncodeToString(resigned.Signature) != p.Signature || !bytes.Equal(resigned.Signer, part.Signer) {
			fail("manifest part %d: signature %x (%v)", i, resigned.Signature, err)
		}
		d, _ := ParseDigest(part.Digest)
		if _, signer, err := VerifyManifestPart(part, d); err != nil || signer != id {
			fail("manifest part %d: does not verify: %v", i, err)
		}
	}
	checked = append(checked, fmt.Sprintf("%d signed manifest parts", len(v.Manifest.Parts)))
	return checked, errs
}

func marshal(v any) []byte {
	return v.(interface{ Marshal() []byte }).Marshal()
}

func unmarshal(typ string, b []byte) (any, error) {
	switch typ {
	case "PieceMessage":
		return UnmarshalPieceMessage(b)
	case "SeedRequest":
		return UnmarshalSeedRequest(b)
	case "SeedResponse":
		return UnmarshalSeedResponse(b)
	case "Announce":
		return UnmarshalAnnounce(b)
	case "Beacon":
		return UnmarshalBeacon(b)
	case "AccessQuery":
		return UnmarshalAccessQuery(b)
	case "AccessAnswer":
		return UnmarshalAccessAnswer(b)
	}
	return nil, fmt.Errorf("unknown message type %s", typ)
}

// jsonObject reads the vectors' conventions: bytes as hex, uint64 as decimal
// strings, enums by name, absent or empty meaning the default.
type jsonObject map[string]any

func (o jsonObject) str(k string) string { s, _ := o[k].(string); return s }

func (o jsonObject) u32(k string) uint32 { f, _ := o[k].(float64); return uint32(f) }

func (o jsonObject) b(k string) bool { v, _ := o[k].(bool); return v }

func (o jsonObject) u64(k string) uint64 {
	n, _ := strconv.ParseUint(o.str(k), 10, 64)
	return n
}

func (o jsonObject) bytes(k string) []byte {
	s := o.str(k)
	if s == "" {
		return nil
	}
	b, _ := hex.DecodeString(s)
	return b
}

func (o jsonObject) bytesList(k string) [][]byte {
	list, _ := o[k].([]any)
	var out [][]byte
	for _, x := range list {
		b, _ := hex.DecodeString(x.(string))
		out = append(out, b)
	}
	return out
}

func (o jsonObject) u32List(k string) []uint32 {
	list, _ := o[k].([]any)
	var out []uint32
	for _, x := range list {
		out = append(out, uint32(x.(float64)))
	}
	return out
}

func (o jsonObject) obj(k string) jsonObject {
	m, _ := o[k].(map[string]any)
	return m
}

func manifestPartFromJSON(m jsonObject) (*ManifestPart, error) {
	return &ManifestPart{
		Digest: m.str("digest"), Size: m.u64("size"), PieceSize: m.u32("piece_size"), First: m.u32("first"),
		Hashes: m.bytesList("hashes"), Signer: m.bytes("signer"), Signature: m.bytes("signature"),
	}, nil
}

func errorFromJSON(m jsonObject) (*Error, error) {
	code, ok := ParseErrorCode(m.str("code"))
	if !ok {
		return nil, fmt.Errorf("unknown error code %q", m.str("code"))
	}
	e := &Error{Code: code, Message: m.str("message")}
	if _, ok := m["piece"]; ok {
		p := m.u32("piece")
		e.Piece = &p
	}
	if _, ok := m["status"]; ok {
		s := m.u32("status")
		e.Status = &s
	}
	return e, nil
}

func fromJSON(typ string, value jsonObject) (any, error) {
	switch typ {
	case "PieceMessage":
		m := &PieceMessage{}
		for k := range value {
			o := value.obj(k)
			switch k {
			case "open":
				m.Open = &Open{Digest: o.str("digest"), WantManifest: o.b("want_manifest")}
			case "manifest":
				for _, p := range value[k].([]any) {
					part, _ := manifestPartFromJSON(p.(map[string]any))
					m.Manifest = append(m.Manifest, *part)
				}
			case "bitfield":
				m.Bitfield = &BitfieldMsg{Pieces: o.u32("pieces"), Bits: o.bytes("bits")}
			case "have":
				m.Have = &Have{Pieces: o.u32List("pieces")}
			case "request":
				m.Request = &Request{Piece: o.u32("piece")}
			case "cancel":
				m.Cancel = &Cancel{Piece: o.u32("piece")}
			case "data":
				m.Data = &PieceData{Piece: o.u32("piece"), Offset: o.u32("offset"), Data: o.bytes("data"), Last: o.b("last")}
			case "choke":
				m.Choke = &Choke{RetryAfterMs: o.u32("retry_after_ms")}
			case "error":
				e, err := errorFromJSON(o)
				if err != nil {
					return nil, err
				}
				m.Error = e
			default:
				return nil, fmt.Errorf("unknown PieceMessage field %s", k)
			}
		}
		return m, nil
	case "SeedRequest":
		m := &SeedRequest{Digest: value.str("digest"), URL: value.str("url"), Size: value.u64("size")}
		list, _ := value["ranges"].([]any)
		for _, x := range list {
			r := jsonObject(x.(map[string]any))
			m.Ranges = append(m.Ranges, ByteRange{Start: r.u64("start"), Length: r.u64("length")})
		}
		return m, nil
	case "SeedResponse":
		m := &SeedResponse{Accepted: value.b("accepted"), Size: value.u64("size"), PieceSize: value.u32("piece_size")}
		if _, ok := value["error"]; ok {
			e, err := errorFromJSON(value.obj("error"))
			if err != nil {
				return nil, err
			}
			m.Error = e
		}
		return m, nil
	case "Announce":
		return &Announce{Digest: value.str("digest"), Pieces: value.u32("pieces"), Have: value.u32List("have"),
			Complete: value.b("complete"), Addrs: value.bytesList("addrs"), Withdrawn: value.b("withdrawn")}, nil
	case "Beacon":
		return &Beacon{UploadBps: value.u64("upload_bps"), ActiveUploads: value.u32("active_uploads"),
			FreeUploadSlots: value.u32("free_upload_slots"), Seed: value.b("seed"), Addrs: value.bytesList("addrs")}, nil
	case "AccessQuery":
		kinds := map[string]AccessKind{"BLOB": KindBlob, "MANIFEST": KindManifest}
		kind, ok := kinds[value.str("kind")]
		if !ok {
			return nil, fmt.Errorf("unknown access kind %q", value.str("kind"))
		}
		return &AccessQuery{Registry: value.str("registry"), Repository: value.str("repository"), Digest: value.str("digest"), Kind: kind}, nil
	case "AccessAnswer":
		return &AccessAnswer{Public: value.b("public")}, nil
	}
	return nil, fmt.Errorf("unknown message type %s", typ)
}
