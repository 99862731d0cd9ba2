package protocol

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The messages of packages/protocol/src/pb/messages.proto, encoded by hand
// with protowire: fields in field-number order, proto3 defaults omitted,
// repeated uint32 fields unpacked (one tag per element), as §7 requires.

// ErrorCode is Error.Code. A value above CodeCancelled is rejected, as the reference decoder does.
type ErrorCode uint32

const (
	CodeUnknown ErrorCode = iota
	CodeNotFound
	CodeBadRequest
	CodeBusy
	CodeInternal
	CodeOrigin
	CodeCancelled
)

var errorCodeNames = []string{"UNKNOWN", "NOT_FOUND", "BAD_REQUEST", "BUSY", "INTERNAL", "ORIGIN", "CANCELLED"}

func (c ErrorCode) String() string {
	if int(c) < len(errorCodeNames) {
		return errorCodeNames[c]
	}
	return fmt.Sprintf("Code(%d)", uint32(c))
}

// ParseErrorCode is the inverse of String.
func ParseErrorCode(name string) (ErrorCode, bool) {
	for i, n := range errorCodeNames {
		if n == name {
			return ErrorCode(i), true
		}
	}
	return 0, false
}

// AccessKind is AccessQuery.Kind.
type AccessKind uint32

const (
	KindBlob AccessKind = iota
	KindManifest
)

type ManifestPart struct {
	Digest    string
	Size      uint64
	PieceSize uint32
	First     uint32
	Hashes    [][]byte
	Signer    []byte
	Signature []byte
}

type Open struct {
	Digest       string
	WantManifest bool
}

type BitfieldMsg struct {
	Pieces uint32
	Bits   []byte
}

type Have struct{ Pieces []uint32 }

type Request struct{ Piece uint32 }

type Cancel struct{ Piece uint32 }

type PieceData struct {
	Piece  uint32
	Offset uint32
	Data   []byte
	Last   bool
}

type Choke struct{ RetryAfterMs uint32 }

type Error struct {
	Code    ErrorCode
	Message string
	Piece   *uint32
	Status  *uint32
}

// PieceMessage is one frame of the piece protocol; exactly one field is set.
type PieceMessage struct {
	Open     *Open
	Manifest []ManifestPart
	Bitfield *BitfieldMsg
	Have     *Have
	Request  *Request
	Cancel   *Cancel
	Data     *PieceData
	Choke    *Choke
	Error    *Error
}

type SeedRequest struct {
	Digest string
	URL    string
	Size   uint64
	// Ranges, when given, ask for at least the pieces covering them, first;
	// none asks for the whole blob.
	Ranges []ByteRange
}

// ByteRange is bytes [Start, Start+Length) of a blob.
type ByteRange struct {
	Start  uint64
	Length uint64
}

type SeedResponse struct {
	Accepted  bool
	Size      uint64
	PieceSize uint32
	Error     *Error
}

type Announce struct {
	Digest    string
	Pieces    uint32
	Have      []uint32
	Complete  bool
	Addrs     [][]byte
	Withdrawn bool
}

type Beacon struct {
	UploadBps       uint64
	ActiveUploads   uint32
	FreeUploadSlots uint32
	Seed            bool
	Addrs           [][]byte
}

type AccessQuery struct {
	Registry   string
	Repository string
	Digest     string
	Kind       AccessKind
}

type AccessAnswer struct{ Public bool }

// ---- encoding ---------------------------------------------------------------

func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return appendUint(b, num, 1)
}

func appendString(b []byte, num protowire.Number, v string) []byte {
	if v == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, v)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return appendBytesAlways(b, num, v)
}

// appendBytesAlways writes a field even when empty: elements of repeated
// fields, and optional messages that are present but empty.
func appendBytesAlways(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendUnpacked(b []byte, num protowire.Number, vs []uint32) []byte {
	for _, v := range vs {
		b = protowire.AppendTag(b, num, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}

func (m *ManifestPart) Marshal() []byte {
	var b []byte
	b = appendString(b, 1, m.Digest)
	b = appendUint(b, 2, m.Size)
	b = appendUint(b, 3, uint64(m.PieceSize))
	b = appendUint(b, 4, uint64(m.First))
	for _, h := range m.Hashes {
		b = appendBytesAlways(b, 5, h)
	}
	b = appendBytes(b, 6, m.Signer)
	b = appendBytes(b, 7, m.Signature)
	return b
}

func (m *Error) Marshal() []byte {
	var b []byte
	b = appendUint(b, 1, uint64(m.Code))
	b = appendString(b, 2, m.Message)
	// optional scalars: present means written, even at 0
	if m.Piece != nil {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(*m.Piece))
	}
	if m.Status != nil {
		b = protowire.AppendTag(b, 4, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(*m.Status))
	}
	return b
}

func (m *PieceMessage) Marshal() []byte {
	var b []byte
	if m.Open != nil {
		var o []byte
		o = appendString(o, 1, m.Open.Digest)
		o = appendBool(o, 2, m.Open.WantManifest)
		b = appendBytesAlways(b, 1, o)
	}
	for i := range m.Manifest {
		b = appendBytesAlways(b, 2, m.Manifest[i].Marshal())
	}
	if m.Bitfield != nil {
		var o []byte
		o = appendUint(o, 1, uint64(m.Bitfield.Pieces))
		o = appendBytes(o, 2, m.Bitfield.Bits)
		b = appendBytesAlways(b, 3, o)
	}
	if m.Have != nil {
		b = appendBytesAlways(b, 4, appendUnpacked(nil, 1, m.Have.Pieces))
	}
	if m.Request != nil {
		b = appendBytesAlways(b, 5, appendUint(nil, 1, uint64(m.Request.Piece)))
	}
	if m.Cancel != nil {
		b = appendBytesAlways(b, 6, appendUint(nil, 1, uint64(m.Cancel.Piece)))
	}
	if m.Data != nil {
		var o []byte
		o = appendUint(o, 1, uint64(m.Data.Piece))
		o = appendUint(o, 2, uint64(m.Data.Offset))
		o = appendBytes(o, 3, m.Data.Data)
		o = appendBool(o, 4, m.Data.Last)
		b = appendBytesAlways(b, 7, o)
	}
	if m.Choke != nil {
		b = appendBytesAlways(b, 8, appendUint(nil, 1, uint64(m.Choke.RetryAfterMs)))
	}
	if m.Error != nil {
		b = appendBytesAlways(b, 9, m.Error.Marshal())
	}
	return b
}

func (m *SeedRequest) Marshal() []byte {
	var b []byte
	b = appendString(b, 1, m.Digest)
	b = appendString(b, 2, m.URL)
	b = appendUint(b, 3, m.Size)
	for _, r := range m.Ranges {
		b = appendBytesAlways(b, 4, appendUint(appendUint(nil, 1, r.Start), 2, r.Length))
	}
	return b
}

func (m *SeedResponse) Marshal() []byte {
	var b []byte
	b = appendBool(b, 1, m.Accepted)
	b = appendUint(b, 2, m.Size)
	b = appendUint(b, 3, uint64(m.PieceSize))
	if m.Error != nil {
		b = appendBytesAlways(b, 4, m.Error.Marshal())
	}
	return b
}

func (m *Announce) Marshal() []byte {
	var b []byte
	b = appendString(b, 1, m.Digest)
	b = appendUint(b, 2, uint64(m.Pieces))
	b = appendUnpacked(b, 3, m.Have)
	b = appendBool(b, 4, m.Complete)
	for _, a := range m.Addrs {
		b = appendBytesAlways(b, 5, a)
	}
	return appendBool(b, 6, m.Withdrawn)
}

func (m *Beacon) Marshal() []byte {
	var b []byte
	b = appendUint(b, 1, m.UploadBps)
	b = appendUint(b, 2, uint64(m.ActiveUploads))
	b = appendUint(b, 3, uint64(m.FreeUploadSlots))
	b = appendBool(b, 4, m.Seed)
	for _, a := range m.Addrs {
		b = appendBytesAlways(b, 5, a)
	}
	return b
}

func (m *AccessQuery) Marshal() []byte {
	var b []byte
	b = appendString(b, 1, m.Registry)
	b = appendString(b, 2, m.Repository)
	b = appendString(b, 3, m.Digest)
	return appendUint(b, 4, uint64(m.Kind))
}

func (m *AccessAnswer) Marshal() []byte {
	return appendBool(nil, 1, m.Public)
}

// ---- decoding ---------------------------------------------------------------

// ErrMalformed wraps every decoding failure: a peer that sends one broke the protocol.
var ErrMalformed = errors.New("malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// field is one decoded field: its number, wire type, and value (varint or bytes).
type field struct {
	num   protowire.Number
	typ   protowire.Type
	v     uint64
	bytes []byte
}

// fields walks a message; unknown fields are the caller's to skip.
func fields(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return malformed("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return malformed("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (f field) uint32() (uint32, error) {
	if f.typ != protowire.VarintType {
		return 0, malformed("field %d is not a varint", f.num)
	}
	// proto3 keeps the low 32 bits of a uint32 sent wider
	return uint32(f.v), nil
}

func (f field) uint64() (uint64, error) {
	if f.typ != protowire.VarintType {
		return 0, malformed("field %d is not a varint", f.num)
	}
	return f.v, nil
}

func (f field) bool() (bool, error) {
	v, err := f.uint64()
	return v != 0, err
}

func (f field) data() ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, malformed("field %d is not length-delimited", f.num)
	}
	return f.bytes, nil
}

func (f field) string() (string, error) {
	b, err := f.data()
	return string(b), err
}

// appendUint32s reads a repeated uint32 in either form: unpacked, as the
// reference writes it, or packed, as other generators may.
func (f field) appendUint32s(to []uint32, limit int) ([]uint32, error) {
	if f.typ == protowire.VarintType {
		to = append(to, uint32(f.v))
	} else if f.typ == protowire.BytesType {
		b := f.bytes
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, malformed("packed field %d: %v", f.num, protowire.ParseError(n))
			}
			to = append(to, uint32(v))
			b = b[n:]
		}
	} else {
		return nil, malformed("field %d has wire type %d", f.num, f.typ)
	}
	if len(to) > limit {
		return nil, malformed("field %d has more than %d elements", f.num, limit)
	}
	return to, nil
}

func UnmarshalManifestPart(b []byte) (*ManifestPart, error) {
	m := &ManifestPart{}
	err := fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.Digest, err = f.string()
		case 2:
			m.Size, err = f.uint64()
		case 3:
			m.PieceSize, err = f.uint32()
		case 4:
			m.First, err = f.uint32()
		case 5:
			var h []byte
			if h, err = f.data(); err == nil {
				if len(m.Hashes) >= MaxPieces {
					return malformed("manifest part has more than %d hashes", MaxPieces)
				}
				m.Hashes = append(m.Hashes, append([]byte(nil), h...))
			}
		case 6:
			m.Signer, err = f.data()
			m.Signer = append([]byte(nil), m.Signer...)
		case 7:
			m.Signature, err = f.data()
			m.Signature = append([]byte(nil), m.Signature...)
		}
		return err
	})
	return m, err
}

func UnmarshalError(b []byte) (*Error, error) {
	m := &Error{}
	err := fields(b, func(f field) error {
		switch f.num {
		case 1:
			v, err := f.uint32()
			if err != nil {
				return err
			}
			if v > uint32(CodeCancelled) {
				return malformed("unknown error code %d", v)
			}
			m.Code = ErrorCode(v)
		case 2:
			s, err := f.string()
			m.Message = s
			return err
		case 3:
			v, err := f.uint32()
			m.Piece = &v
			return err
		case 4:
			v, err := f.uint32()
			m.Status = &v
			return err
		}
		return nil
	})
	return m, err
}

// UnmarshalPieceMessage decodes and validates one piece-protocol frame's payload.
func UnmarshalPieceMessage(b []byte) (*PieceMessage, error) {
	if len(b) > MaxPieceFrame {
		return nil, malformed("piece frame of %d bytes exceeds %d", len(b), MaxPieceFrame)
	}
	m := &PieceMessage{}
	seen := map[protowire.Number]bool{}
	err := fields(b, func(f field) error {
		if f.num < 1 || f.num > 9 {
			return nil
		}
		body, err := f.data()
		if err != nil {
			return err
		}
		seen[f.num] = true
		switch f.num {
		case 1:
			m.Open = &Open{}
			return fields(body, func(g field) (err error) {
				switch g.num {
				case 1:
					m.Open.Digest, err = g.string()
				case 2:
					m.Open.WantManifest, err = g.bool()
				}
				return err
			})
		case 2:
			if len(m.Manifest) >= MaxPartsPerFrame {
				return malformed("more than %d manifest parts in a frame", MaxPartsPerFrame)
			}
			p, err := UnmarshalManifestPart(body)
			if err != nil {
				return err
			}
			m.Manifest = append(m.Manifest, *p)
		case 3:
			m.Bitfield = &BitfieldMsg{}
			return fields(body, func(g field) (err error) {
				switch g.num {
				case 1:
					m.Bitfield.Pieces, err = g.uint32()
				case 2:
					m.Bitfield.Bits, err = g.data()
				}
				return err
			})
		case 4:
			m.Have = &Have{}
			return fields(body, func(g field) (err error) {
				if g.num == 1 {
					m.Have.Pieces, err = g.appendUint32s(m.Have.Pieces, MaxHaveBatch)
				}
				return err
			})
		case 5:
			m.Request = &Request{}
			return fields(body, func(g field) (err error) {
				if g.num == 1 {
					m.Request.Piece, err = g.uint32()
				}
				return err
			})
		case 6:
			m.Cancel = &Cancel{}
			return fields(body, func(g field) (err error) {
				if g.num == 1 {
					m.Cancel.Piece, err = g.uint32()
				}
				return err
			})
		case 7:
			m.Data = &PieceData{}
			return fields(body, func(g field) (err error) {
				switch g.num {
				case 1:
					m.Data.Piece, err = g.uint32()
				case 2:
					m.Data.Offset, err = g.uint32()
				case 3:
					m.Data.Data, err = g.data()
				case 4:
					m.Data.Last, err = g.bool()
				}
				return err
			})
		case 8:
			m.Choke = &Choke{}
			return fields(body, func(g field) (err error) {
				if g.num == 1 {
					m.Choke.RetryAfterMs, err = g.uint32()
				}
				return err
			})
		case 9:
			e, err := UnmarshalError(body)
			m.Error = e
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(seen) != 1 {
		return nil, malformed("a piece frame must set exactly one message, it set %d", len(seen))
	}
	return m, m.validate()
}

func checkPiece(i uint32, what string) error {
	if i >= MaxPieces {
		return malformed("%s names piece %d, past the %d piece limit", what, i, MaxPieces)
	}
	return nil
}

func (m *PieceMessage) validate() error {
	switch {
	case m.Open != nil:
		if _, err := ParseDigest(m.Open.Digest); err != nil {
			return malformed("open: %v", err)
		}
	case m.Bitfield != nil:
		if m.Bitfield.Pieces > MaxPieces || uint32(len(m.Bitfield.Bits)) != (m.Bitfield.Pieces+7)/8 {
			return malformed("bitfield length does not match its piece count")
		}
	case m.Have != nil:
		for _, p := range m.Have.Pieces {
			if err := checkPiece(p, "have"); err != nil {
				return err
			}
		}
	case m.Request != nil:
		return checkPiece(m.Request.Piece, "request")
	case m.Cancel != nil:
		return checkPiece(m.Cancel.Piece, "cancel")
	case m.Data != nil:
		if len(m.Data.Data) > MaxChunkSize {
			return malformed("data chunk of %d bytes exceeds %d", len(m.Data.Data), MaxChunkSize)
		}
		return checkPiece(m.Data.Piece, "data")
	}
	return nil
}

func UnmarshalSeedRequest(b []byte) (*SeedRequest, error) {
	m := &SeedRequest{}
	err := fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.Digest, err = f.string()
		case 2:
			m.URL, err = f.string()
		case 3:
			m.Size, err = f.uint64()
		case 4:
			var body []byte
			if body, err = f.data(); err != nil {
				return err
			}
			var r ByteRange
			err = fields(body, func(g field) (err error) {
				switch g.num {
				case 1:
					r.Start, err = g.uint64()
				case 2:
					r.Length, err = g.uint64()
				}
				return err
			})
			m.Ranges = append(m.Ranges, r)
		}
		return err
	})
	return m, err
}

func UnmarshalSeedResponse(b []byte) (*SeedResponse, error) {
	m := &SeedResponse{}
	err := fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.Accepted, err = f.bool()
		case 2:
			m.Size, err = f.uint64()
		case 3:
			m.PieceSize, err = f.uint32()
		case 4:
			var body []byte
			if body, err = f.data(); err == nil {
				m.Error, err = UnmarshalError(body)
			}
		}
		return err
	})
	return m, err
}

// UnmarshalAnnounce decodes an Announce and checks it on its own (§6); the
// receiver still checks the digest against the topic and the piece count.
func UnmarshalAnnounce(b []byte) (*Announce, error) {
	if len(b) > MaxGossipMessage {
		return nil, malformed("announce of %d bytes exceeds %d", len(b), MaxGossipMessage)
	}
	m := &Announce{}
	err := fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.Digest, err = f.string()
		case 2:
			m.Pieces, err = f.uint32()
		case 3:
			m.Have, err = f.appendUint32s(m.Have, MaxHaveBatch)
		case 4:
			m.Complete, err = f.bool()
		case 5:
			var a []byte
			if a, err = f.data(); err == nil {
				if len(m.Addrs) >= MaxAddrs {
					return malformed("more than %d addrs", MaxAddrs)
				}
				m.Addrs = append(m.Addrs, append([]byte(nil), a...))
			}
		case 6:
			m.Withdrawn, err = f.bool()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := ParseDigest(m.Digest); err != nil {
		return nil, malformed("announce: %v", err)
	}
	if m.Pieces > MaxPieces {
		return nil, malformed("announce piece count %d is too large", m.Pieces)
	}
	for _, p := range m.Have {
		if p >= m.Pieces {
			return nil, malformed("announce names piece %d of a %d-piece blob", p, m.Pieces)
		}
	}
	return m, nil
}

func UnmarshalBeacon(b []byte) (*Beacon, error) {
	if len(b) > MaxGossipMessage {
		return nil, malformed("beacon of %d bytes exceeds %d", len(b), MaxGossipMessage)
	}
	m := &Beacon{}
	err := fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.UploadBps, err = f.uint64()
		case 2:
			m.ActiveUploads, err = f.uint32()
		case 3:
			m.FreeUploadSlots, err = f.uint32()
		case 4:
			m.Seed, err = f.bool()
		case 5:
			var a []byte
			if a, err = f.data(); err == nil {
				if len(m.Addrs) >= MaxAddrs {
					return malformed("more than %d addrs", MaxAddrs)
				}
				m.Addrs = append(m.Addrs, append([]byte(nil), a...))
			}
		}
		return err
	})
	return m, err
}

func UnmarshalAccessQuery(b []byte) (*AccessQuery, error) {
	m := &AccessQuery{}
	err := fields(b, func(f field) (err error) {
		switch f.num {
		case 1:
			m.Registry, err = f.string()
		case 2:
			m.Repository, err = f.string()
		case 3:
			m.Digest, err = f.string()
		case 4:
			var v uint32
			if v, err = f.uint32(); err == nil {
				if v > uint32(KindManifest) {
					return malformed("unknown access kind %d", v)
				}
				m.Kind = AccessKind(v)
			}
		}
		return err
	})
	return m, err
}

func UnmarshalAccessAnswer(b []byte) (*AccessAnswer, error) {
	m := &AccessAnswer{}
	err := fields(b, func(f field) (err error) {
		if f.num == 1 {
			m.Public, err = f.bool()
		}
		return err
	})
	return m, err
}
