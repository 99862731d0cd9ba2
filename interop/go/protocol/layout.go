package protocol

import "fmt"

// Layout is how a blob is cut into pieces (§4).
type Layout struct {
	Size      uint64
	PieceSize uint32
	Pieces    uint32
}

// PieceSizeFor is the piece rule: the smallest power of two at least
// size/2048 (rounded up), clamped to 1 MiB ... 64 MiB.
func PieceSizeFor(size uint64) uint32 {
	target := (size + TargetPieces - 1) / TargetPieces
	ps := uint64(MinPieceSize)
	for ps < target && ps < MaxPieceSize {
		ps *= 2
	}
	return uint32(ps)
}

// LayoutFor cuts a blob of size bytes by the piece rule.
func LayoutFor(size uint64) (Layout, error) {
	return NewLayout(size, PieceSizeFor(size))
}

// NewLayout checks a declared size and piece size (a manifest part's) against the limits of §9.
func NewLayout(size uint64, pieceSize uint32) (Layout, error) {
	if size > MaxBlobSize {
		return Layout{}, fmt.Errorf("blob of %d bytes is larger than %d", size, MaxBlobSize)
	}
	if pieceSize < 1 || pieceSize > MaxPieceSize {
		return Layout{}, fmt.Errorf("piece size %d is outside 1 ... %d", pieceSize, MaxPieceSize)
	}
	pieces := (size + uint64(pieceSize) - 1) / uint64(pieceSize)
	if pieces > MaxPieces {
		return Layout{}, fmt.Errorf("%d pieces is more than %d", pieces, MaxPieces)
	}
	return Layout{Size: size, PieceSize: pieceSize, Pieces: uint32(pieces)}, nil
}

// Range is piece i's byte offset in the blob and its length.
func (l Layout) Range(i uint32) (offset uint64, length uint32) {
	offset = uint64(i) * uint64(l.PieceSize)
	end := min(offset+uint64(l.PieceSize), l.Size)
	return offset, uint32(end - offset)
}
