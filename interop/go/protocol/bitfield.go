package protocol

import (
	"fmt"
	"math/bits"
)

// Bitfield is a set of piece indices: piece i is bit 7-(i mod 8) of byte i/8.
type Bitfield struct {
	n    uint32
	bits []byte
}

func NewBitfield(pieces uint32) *Bitfield {
	return &Bitfield{n: pieces, bits: make([]byte, (pieces+7)/8)}
}

// ParseBitfield rejects a wrong length or a spare bit set.
func ParseBitfield(pieces uint32, b []byte) (*Bitfield, error) {
	if pieces > MaxPieces || uint32(len(b)) != (pieces+7)/8 {
		return nil, fmt.Errorf("bitfield of %d bytes for %d pieces", len(b), pieces)
	}
	if spare := pieces % 8; spare != 0 && b[len(b)-1]&(0xff>>spare) != 0 {
		return nil, fmt.Errorf("bitfield sets a bit past piece %d", pieces-1)
	}
	return &Bitfield{n: pieces, bits: append([]byte(nil), b...)}, nil
}

func (f *Bitfield) Len() uint32 { return f.n }

func (f *Bitfield) Has(i uint32) bool {
	return i < f.n && f.bits[i/8]&(0x80>>(i%8)) != 0
}

func (f *Bitfield) Set(i uint32) {
	if i < f.n {
		f.bits[i/8] |= 0x80 >> (i % 8)
	}
}

func (f *Bitfield) Clear(i uint32) {
	if i < f.n {
		f.bits[i/8] &^= 0x80 >> (i % 8)
	}
}

func (f *Bitfield) Count() int {
	c := 0
	for _, b := range f.bits {
		c += bits.OnesCount8(b)
	}
	return c
}

func (f *Bitfield) Complete() bool { return f.Count() == int(f.n) }

// Bytes is a copy of the encoded form.
func (f *Bitfield) Bytes() []byte { return append([]byte(nil), f.bits...) }
