package protocol

import (
	"bytes"
	"crypto/sha256"
	"slices"
)

// SeedScore is sha256(digest bytes ‖ UTF-8 peer id string), read as a big-endian number.
func SeedScore(d Digest, seed string) []byte {
	h := sha256.New()
	h.Write(d.Bytes())
	h.Write([]byte(seed))
	return h.Sum(nil)
}

// RankSeeds orders seeds by rendezvous hashing, highest score first; duplicates count once.
func RankSeeds(d Digest, seeds []string) []string {
	type scored struct {
		seed  string
		score []byte
	}
	var list []scored
	seen := map[string]bool{}
	for _, s := range seeds {
		if !seen[s] {
			seen[s] = true
			list = append(list, scored{s, SeedScore(d, s)})
		}
	}
	slices.SortFunc(list, func(a, b scored) int { return bytes.Compare(b.score, a.score) })
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.seed
	}
	return out
}
