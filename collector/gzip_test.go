package collector

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, cut := range [][2]int{{0, 0}, {0, 10}, {10, 10}, {1, 2}, {100, 65536}, {0, 65536}, {65535, 65536}, {4096, 4097}} {
		a, b := data[:cut[0]], data[cut[0]:cut[1]]
		want := crc32.ChecksumIEEE(data[:cut[1]])
		if got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b))); got != want {
			t.Errorf("combine(%d bytes, %d bytes) = %08x, want %08x", len(a), len(b), got, want)
		}
	}
}
