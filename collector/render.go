package collector

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Snapshots are rendered to the text exposition format once, when the poll
// ends, instead of on every scrape: a scrape of 10,000 links then copies a few
// megabytes instead of gathering, sorting and encoding 80,000 metric structs,
// and a snapshot holds compact text instead of one protobuf struct per label.
// A snapshot's lines leave out the metric name and the es_cluster label,
// every family's first (each line of a snapshot has the same), which the
// scrape writes in front of each line (Store.WriteText): they were half of
// the text, and so of the memory snapshots hold. The tests parse the scraped output with
// client_golang's expfmt, lint it with testutil and promtool, and compare it
// with golden files.

// renderer accumulates one snapshot's sample lines per family, each line
// the labels after es_cluster and the value (samples keep
// the order they are added in; callers add them in a deterministic order:
// links by alias, checks in run order, reasons sorted, which is all the
// format and the golden tests need). It writes into scratch buffers borrowed
// from a pool, and render copies them out at exactly the rendered size: a
// snapshot keeps no growth slack, which across thousands of clusters adds up
// to megabytes.
//
// A series is rendered at most once per renderer, whatever Elasticsearch
// sends (a seed listed twice, a certificate repeated in a chain, two nodes
// of one name): the first sample of a series wins and later ones are
// dropped, as a registry would refuse them. Series are recognised by a hash
// of their name and labels; a hash match is confirmed on the bytes.
type renderer struct {
	cluster  string // the es_cluster of every sample
	families [][]byte
	scratch  *scratch // returned to scratchPool by render
}

type scratch struct {
	families [][]byte
	kept     []bool            // by family index: take the previous render's text (keep)
	seen     map[seriesKey]int // series start offsets in families[key.family]
}

type seriesKey struct {
	family int
	hash   uint64
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{families: make([][]byte, len(families)), kept: make([]bool, len(families)), seen: map[seriesKey]int{}}
}}

var seriesSeed = maphash.MakeSeed()

// newRenderer renders samples of one cluster: their es_cluster label value.
func newRenderer(cluster string) *renderer {
	s := scratchPool.Get().(*scratch)
	for i := range s.families {
		s.families[i] = s.families[i][:0]
	}
	clear(s.kept)
	clear(s.seen)
	return &renderer{cluster: cluster, families: s.families, scratch: s}
}

// keep takes the families' text from the previous render (renderReusing's
// prev) as it is: their check would render the same lines.
func (r *renderer) keep(fams []*Family) {
	for _, f := range fams {
		r.scratch.kept[f.index] = true
	}
}

// linePrefix is what Store.WriteText writes between a family's name and a
// line of a snapshot of cluster.
func linePrefix(cluster string) string {
	return string(appendEscapedLabelValue([]byte(`{es_cluster="`), cluster)) + `"`
}

// add renders one sample of f.
func (r *renderer) add(f *Family, v float64, labelValues ...string) {
	if len(labelValues) != len(f.Labels) || labelValues[0] != r.cluster {
		// A programming error: the render names the wrong cluster, or
		// misses or adds a label.
		panic(fmt.Sprintf("collector: %s: label values %q for labels %q of the snapshot of %q", f.Name, labelValues, f.Labels, r.cluster))
	}
	b := r.families[f.index]
	start := len(b)
	for _, pos := range f.order[1:] { // es_cluster is the snapshot's (linePrefix)
		b = append(b, ',')
		b = append(b, f.Labels[pos]...)
		b = append(b, '=', '"')
		b = appendEscapedLabelValue(b, labelValues[pos])
		b = append(b, '"')
	}
	b = append(b, '}')
	series := b[start:]
	key := seriesKey{family: f.index, hash: maphash.Bytes(seriesSeed, series)}
	if at, ok := r.scratch.seen[key]; ok && r.sameSeries(b, at, series) {
		r.families[f.index] = b[:start] // a repeat of a rendered series
		return
	}
	r.scratch.seen[key] = start
	b = append(b, ' ')
	b = appendValue(b, v)
	r.families[f.index] = append(b, '\n')
}

// sameSeries confirms a hash match: the line at offset at starts with the
// same series and a space.
func (r *renderer) sameSeries(b []byte, at int, series []byte) bool {
	line := b[at:]
	return len(line) > len(series) && line[len(series)] == ' ' && bytes.Equal(line[:len(series)], series)
}

// render returns the sample lines of the families of schedule s, by their
// position among them (Family.local; nil where a family has no samples),
// copied out of the scratch buffers; the snapshot owns them from now on.
// The renderer is done after it.
func (r *renderer) render(s schedule) [][]byte { return r.renderReusing(s, nil) }

// renderReusing is render that shares, instead of copying, each family whose
// lines are the same as in prev (the last render of the same families, nil
// for none): from one poll to the next most are, and rendered text is never
// written again once rendered. Each copied family gets an allocation of its
// own, so that text that changed is freed even while the families rendered
// with it live on.
func (r *renderer) renderReusing(s schedule, prev [][]byte) [][]byte {
	out := make([][]byte, len(scheduleFamilies[s]))
	for i, f := range scheduleFamilies[s] {
		switch b := r.families[f.index]; {
		case r.scratch.kept[f.index] && prev != nil:
			out[i] = prev[i]
		case len(b) == 0:
		case prev != nil && bytes.Equal(b, prev[i]):
			out[i] = prev[i]
		default:
			out[i] = make([]byte, len(b))
			copy(out[i], b)
		}
	}
	r.scratch.families = r.families // keep what the buffers grew to
	scratchPool.Put(r.scratch)
	r.families, r.scratch = nil, nil
	return out
}

// sliceRef identifies a slice by its first element and length, for
// check.renderedFrom and the poller's memos: slices shared between polls
// (answerMemo, Poller.analyses) are never written after they are made.
type sliceRef[T any] struct {
	first *T
	n     int
}

// refOf is s's sliceRef.
func refOf[T any](s []T) sliceRef[T] {
	if len(s) == 0 {
		return sliceRef[T]{}
	}
	return sliceRef[T]{first: &s[0], n: len(s)}
}

// appendEscapedLabelValue escapes as the text format requires (backslash,
// double quote, line feed) and replaces invalid UTF-8, which the format forbids.
func appendEscapedLabelValue(b []byte, s string) []byte {
	if plainASCII(s) {
		return append(b, s...) // nearly every value
	}
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

// plainASCII reports whether s is ASCII with nothing the text format
// escapes in a label value.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '\\' || c == '"' || c == '\n' {
			return false
		}
	}
	return true
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
