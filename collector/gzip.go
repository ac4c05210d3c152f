package collector

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A gzip scrape is one gzip member (RFC 1952) whose deflate stream is
// pieced together: a family's text, compressed once, stands as a deflate
// segment that later scrapes reuse while no snapshot's text of that family
// changed. A segment is the output of a fresh compressor ended with a sync
// flush, so it ends on a byte boundary with no final block and refers to
// no data before it (RFC 1951 allows back-references only into data the
// stream already produced, and a fresh compressor makes none beyond its
// own); the member's CRC-32 is combined from the segments' own.
//
// One member, not a member per family: RFC 1952 allows a series of members
// and Go's reader (so Prometheus's) reads them all, but browsers, curl
// --compressed and other clients stop at the first or fail.

// gzSegment is one family's text as a deflate segment.
type gzSegment struct {
	data []byte // nil: the family has no samples
	crc  uint32 // CRC-32 (IEEE) of the text
	size int64  // bytes of text
}

// gzipStream writes one gzip member: the header, precompressed segments,
// then text compressed as it comes (Write), and on Close the final block and
// the trailer.
type gzipStream struct {
	w       io.Writer
	fw      *flate.Writer
	text    textSum // what Write compressed
	crc     uint32  // of the segments
	size    int64
	started bool
	err     error
}

// textSum passes text on to w, keeping its CRC-32 and length.
type textSum struct {
	w    io.Writer
	crc  uint32
	size int64
}

func (t *textSum) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.crc = crc32.Update(t.crc, crc32.IEEETable, p[:n])
	t.size += int64(n)
	return n, err
}

// gzipHeader: magic, deflate, no flags, no time, no extra flags, OS unknown.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// flateWriters recycles compressors (each holds its tables and window,
// about a megabyte). klauspost/compress at its fastest level compresses the
// 10,000-link benchmark's 28 MB in about 30 ms against 50 for
// compress/flate's, into a smaller answer (docs/performance.md).
var flateWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	return fw
}}

func newGzipStream(w io.Writer) *gzipStream {
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(w)
	return &gzipStream{w: w, fw: fw, text: textSum{w: fw}}
}

// raw writes b as it is, after the header.
func (g *gzipStream) raw(b []byte) {
	if !g.started {
		g.started = true
		g.raw(gzipHeader)
	}
	if g.err == nil && len(b) > 0 {
		_, g.err = g.w.Write(b)
	}
}

// segment writes a precompressed family. Segments come before any Write.
func (g *gzipStream) segment(s gzSegment) error {
	g.raw(s.data)
	g.crc = crc32Combine(g.crc, s.crc, s.size)
	g.size += s.size
	return g.err
}

func (g *gzipStream) Write(p []byte) (int, error) {
	g.raw(nil)
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.text.Write(p)
	g.err = err
	return n, err
}

// Close ends the member and gives the compressor back; g is not used after.
func (g *gzipStream) Close() error {
	g.raw(nil)
	if g.err == nil {
		g.err = g.fw.Close() // the final block
	}
	crc := crc32Combine(g.crc, g.text.crc, g.text.size)
	g.raw(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, crc), uint32(g.size+g.text.size)))
	g.fw.Reset(io.Discard) // hold no reference to the response
	flateWriters.Put(g.fw)
	g.fw = nil
	return g.err
}

// crc32Combine is the CRC-32 (IEEE) of A followed by B, from A's, B's and
// B's length, as zlib's crc32_combine (crc32.c, 1.2.12 and later:
// multiplication modulo the CRC polynomial by x^(8·lenB)).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA ^ crcB
	}
	return multModP(x2nModP(uint64(lenB), 3), crcA) ^ crcB
}

const crcPoly = 0xedb88320 // IEEE, bits reversed

// multModP is a(x)·b(x) modulo the CRC polynomial, in the CRC's reflected
// bit order.
func multModP(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; ; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
}

// x2nTable[k] is x^(2^k) modulo the CRC polynomial.
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = multModP(p, p)
	}
	return t
}()

// x2nModP is x^(n·2^k) modulo the CRC polynomial.
func x2nModP(n uint64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for ; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
	}
	return p
}
