package protocol

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrFrameTooLarge is a frame whose declared length is over the protocol's limit.
var ErrFrameTooLarge = errors.New("frame too large")

// Frame is the unsigned LEB128 varint of the payload's length, then the payload.
func Frame(payload []byte) []byte {
	b := protowire.AppendVarint(make([]byte, 0, len(payload)+5), uint64(len(payload)))
	return append(b, payload...)
}

// ByteReader is what ReadFrame reads from (a bufio.Reader over a stream).
type ByteReader interface {
	io.Reader
	io.ByteReader
}

// ReadFrame reads one frame. The declared length is checked against limit as
// soon as the varint is read, before any of the body, and a varint longer
// than 5 bytes is refused. io.EOF means the stream ended between frames.
func ReadFrame(r ByteReader, limit int) ([]byte, error) {
	var length uint64
	for i := 0; ; i++ {
		if i == 5 {
			return nil, malformed("frame length varint longer than 5 bytes")
		}
		c, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		length |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			break
		}
	}
	if length > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", ErrFrameTooLarge, length, limit)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// IsViolation tells a peer's protocol violation (oversized, malformed) from a
// stream that failed or ended.
func IsViolation(err error) bool {
	return errors.Is(err, ErrFrameTooLarge) || errors.Is(err, ErrMalformed)
}
