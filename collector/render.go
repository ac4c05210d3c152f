package collector

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Snapshots are rendered to the text exposition format once, when the poll
// ends, instead of on every scrape: a scrape of 10,000 links then copies a few
// megabytes instead of gathering, sorting and encoding 80,000 metric structs,
// and a snapshot holds compact text instead of one protobuf struct per label.
// The tests parse this output with client_golang's expfmt, lint it with
// testutil and promtool, and compare it with golden files.

// family is what rendering needs to know of one metric family.
type family struct {
	name   string
	labels []string // label names in the order values are passed to add
	order  []int    // positions in labels, sorted by label name (exposition order)
}

var families []family

func registerFamily(name string, labels []string) {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	families = append(families, family{name: name, labels: labels, order: order})
}

// renderer accumulates one snapshot's sample lines per family. Samples keep
// the order they are added in; callers add them in a deterministic order
// (links by alias, checks in run order, reasons sorted), which is all the
// format and the golden tests need.
type renderer struct {
	families [][]byte
}

// newRenderer sizes each family's buffer from hint (the family sizes of the
// cluster's previous snapshot, or nil): in steady state every family is
// allocated once, at its final size, and the snapshot keeps it as it is.
func newRenderer(hint []int) *renderer {
	r := &renderer{families: make([][]byte, len(families))}
	for i := range hint {
		if hint[i] > 0 {
			r.families[i] = make([]byte, 0, hint[i]+hint[i]/32+64)
		}
	}
	return r
}

// sizes returns the rendered size of every family, the hint for next time.
func (r *renderer) sizes() []int {
	out := make([]int, len(r.families))
	for i, b := range r.families {
		out[i] = len(b)
	}
	return out
}

// add renders one sample. The value type is implied by the family (counters
// end in _total); t is accepted so call sites read like client_golang's.
func (r *renderer) add(desc *prometheus.Desc, _ prometheus.ValueType, v float64, labelValues ...string) {
	i := familyIndex[desc]
	f := &families[i]
	if len(labelValues) != len(f.labels) {
		panic("collector: " + f.name + ": wrong number of label values") // a programming error
	}
	b := append(r.families[i], f.name...)
	if len(labelValues) > 0 {
		b = append(b, '{')
		for k, pos := range f.order {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, f.labels[pos]...)
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
// the family has no samples); the snapshot owns them from now on.
func (r *renderer) render() [][]byte {
	for i, b := range r.families {
		if len(b) == 0 {
			r.families[i] = nil
		}
	}
	return r.families
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
