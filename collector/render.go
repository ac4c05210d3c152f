package collector

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Snapshots are rendered to the text exposition format once, when the poll
// ends, instead of on every scrape: a scrape of 10,000 links then copies a few
// megabytes instead of gathering, sorting and encoding 80,000 metric structs,
// and a snapshot holds compact text instead of one protobuf struct per label.
// The tests parse this output with client_golang's expfmt, lint it with
// testutil and promtool, and compare it with golden files.

// renderer accumulates one snapshot's sample lines per family (samples keep
// the order they are added in; callers add them in a deterministic order:
// links by alias, checks in run order, reasons sorted, which is all the
// format and the golden tests need). It writes into scratch buffers borrowed
// from a pool, and render copies them into one block of exactly the
// rendered size: a snapshot keeps no growth slack, which across thousands of
// clusters adds up to megabytes, and costs one allocation.
type renderer struct {
	families [][]byte
	scratch  *[][]byte // returned to scratchPool by render
}

var scratchPool = sync.Pool{New: func() any {
	s := make([][]byte, len(definitions))
	return &s
}}

func newRenderer() *renderer {
	s := scratchPool.Get().(*[][]byte)
	for i := range *s {
		(*s)[i] = (*s)[i][:0]
	}
	return &renderer{families: *s, scratch: s}
}

// add renders one sample. The value type is implied by the family (counters
// end in _total); t is accepted so call sites read like client_golang's.
func (r *renderer) add(desc *prometheus.Desc, _ prometheus.ValueType, v float64, labelValues ...string) {
	i := familyIndex[desc]
	f := &definitions[i]
	if len(labelValues) != len(f.Labels) {
		panic("collector: " + f.Name + ": wrong number of label values") // a programming error
	}
	b := append(r.families[i], f.Name...)
	if len(labelValues) > 0 {
		b = append(b, '{')
		for k, pos := range f.order {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, f.Labels[pos]...)
			b = append(b, '=', '"')
			b = appendEscapedLabelValue(b, labelValues[pos])
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendValue(b, v)
	r.families[i] = append(b, '\n')
}

// render returns, per family index, the family's sample lines (nil where
// the family has no samples), copied out of the scratch buffers; the
// snapshot owns them from now on. The renderer is done after it.
func (r *renderer) render() [][]byte {
	total := 0
	for _, b := range r.families {
		total += len(b)
	}
	block := make([]byte, 0, total)
	out := make([][]byte, len(r.families))
	for i, b := range r.families {
		if len(b) > 0 {
			start := len(block)
			block = append(block, b...)
			out[i] = block[start:len(block):len(block)]
		}
	}
	*r.scratch = r.families // keep what the buffers grew to
	scratchPool.Put(r.scratch)
	r.families, r.scratch = nil, nil
	return out
}

// appendEscapedLabelValue escapes as the text format requires (backslash,
// double quote, line feed) and replaces invalid UTF-8, which the format forbids.
func appendEscapedLabelValue(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendValue formats like expfmt: shortest representation, +Inf/-Inf/NaN.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
