package collector

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Store holds the latest snapshot of every cluster. A scrape only reads
// memory: it never waits for a poll.
type Store struct {
	mu        sync.RWMutex
	snapshots map[string]*Snapshot
	sorted    []*Snapshot // by cluster name; rebuilt when the set of clusters changes
	// changed marks, by family index, the families whose text a Put or
	// Delete changed since a gzip scrape last compressed them (all, until
	// the first).
	changed []bool

	// A gzip scrape is made of deflate segments, one per family
	// (gzip.go), which a later scrape reuses while no snapshot's text of
	// that family changed: between two scrapes most families are the same
	// in every cluster (a snapshot shares the text of families that did
	// not change), so a scrape compresses a few families instead of all of
	// them. One gzip scrape builds at a time.
	gzMu       sync.Mutex
	gzSegments []gzSegment // by family index
	gzBuilds   int         // families compressed so far (tests)
}

// NewStore returns an empty store.
func NewStore() *Store {
	changed := make([]bool, len(families))
	for i := range changed {
		changed[i] = true
	}
	return &Store{snapshots: map[string]*Snapshot{}, changed: changed, gzSegments: make([]gzSegment, len(families))}
}

// Put swaps in a cluster's newest snapshot.
func (s *Store) Put(snap *Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markChanged(s.snapshots[snap.Cluster], snap)
	if _, ok := s.snapshots[snap.Cluster]; ok {
		i := sort.Search(len(s.sorted), func(i int) bool { return s.sorted[i].Cluster >= snap.Cluster })
		s.sorted[i] = snap
	} else {
		i, _ := slices.BinarySearchFunc(s.sorted, snap.Cluster, func(e *Snapshot, name string) int { return strings.Compare(e.Cluster, name) })
		s.sorted = slices.Insert(s.sorted, i, snap)
	}
	s.snapshots[snap.Cluster] = snap
}

// Delete drops a cluster that is no longer configured.
func (s *Store) Delete(cluster string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.snapshots[cluster]
	if !ok {
		return
	}
	s.markChanged(old, nil)
	delete(s.snapshots, cluster)
	s.sorted = slices.DeleteFunc(s.sorted, func(e *Snapshot) bool { return e.Cluster == cluster })
}

// markChanged marks the families whose text differs between a cluster's old
// and new snapshot (either may be nil). Text is compared by identity: a
// snapshot shares the text of a family that did not change, and text that
// is the same but not shared only costs its family a compression.
func (s *Store) markChanged(old, next *Snapshot) {
	for _, def := range families {
		var a, b []byte
		if old != nil {
			a = old.family(def)
		}
		if next != nil {
			b = next.family(def)
		}
		if len(a) != len(b) || (len(a) > 0 && &a[0] != &b[0]) {
			s.changed[def.index] = true
		}
	}
}

// Has reports whether a cluster has a snapshot yet.
func (s *Store) Has(cluster string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.snapshots[cluster]
	return ok
}

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// WriteText writes every snapshot in the text exposition format, one block
// per metric family, clusters in name order.
func (s *Store) WriteText(w io.Writer) error {
	s.mu.RLock()
	snaps := slices.Clone(s.sorted)
	s.mu.RUnlock()
	out := textWriter{w: w, buf: make([]byte, 0, 64<<10)}
	prefixes := linePrefixes(snaps)
	for _, i := range familyOrder {
		writeFamily(&out, families[i], snaps, prefixes)
	}
	return out.flush()
}

func linePrefixes(snaps []*Snapshot) []string {
	prefixes := make([]string, len(snaps))
	for j, snap := range snaps {
		prefixes[j] = linePrefix(snap.Cluster)
	}
	return prefixes
}

// writeFamily writes one family's block: HELP, TYPE and every snapshot's
// lines, nothing when no snapshot has any.
func writeFamily(out *textWriter, def *Family, snaps []*Snapshot, prefixes []string) {
	header := false
	for j, snap := range snaps {
		text := snap.family(def)
		if len(text) == 0 {
			continue
		}
		if !header {
			header = true
			out.write("# HELP " + def.Name + " " + helpEscaper.Replace(def.Help) + "\n# TYPE " + def.Name + " " + def.Type + "\n")
		}
		for len(text) > 0 { // each line lacks the name and es_cluster (render.go)
			end := bytes.IndexByte(text, '\n') + 1
			out.line(def.Name, prefixes[j], text[:end])
			text = text[end:]
		}
	}
}

// writeGzip writes every snapshot like WriteText into g, compressed: each
// family's segment, compressed again only when a snapshot's text of that
// family changed since. The segments are written after the lock is
// released: a slow client holds up no other scrape (segments are never
// changed once made, only replaced).
func (s *Store) writeGzip(g *gzipStream) error {
	for _, seg := range s.gzipSegments() {
		if err := g.segment(seg); err != nil {
			return err
		}
	}
	return nil
}

// gzipSegments brings the compressed families up to date and returns the
// non-empty ones in exposition order.
func (s *Store) gzipSegments() []gzSegment {
	s.gzMu.Lock()
	defer s.gzMu.Unlock()
	s.mu.Lock()
	snaps := slices.Clone(s.sorted)
	stale := slices.Clone(s.changed)
	clear(s.changed)
	s.mu.Unlock()
	var c *familyCompressor
	segs := make([]gzSegment, 0, len(familyOrder))
	for _, i := range familyOrder {
		if stale[i] {
			if c == nil {
				c = newFamilyCompressor(snaps)
				defer c.close()
			}
			s.gzSegments[i] = c.compress(families[i])
			s.gzBuilds++
		}
		if seg := s.gzSegments[i]; seg.data != nil {
			segs = append(segs, seg)
		}
	}
	return segs
}

// familyCompressor makes the segments of one scrape's changed families,
// through one compressor and one set of buffers.
type familyCompressor struct {
	snaps    []*Snapshot
	prefixes []string
	fw       *flate.Writer
	seg      bytes.Buffer
	text     textSum // the text on its way to fw
	out      textWriter
}

func newFamilyCompressor(snaps []*Snapshot) *familyCompressor {
	c := &familyCompressor{snaps: snaps, prefixes: linePrefixes(snaps), fw: flateWriters.Get().(*flate.Writer)}
	c.out = textWriter{w: &c.text, buf: make([]byte, 0, 64<<10)}
	return c
}

// compress is one family's block as a segment (without data when the
// family is empty).
func (c *familyCompressor) compress(def *Family) gzSegment {
	c.seg.Reset()
	c.fw.Reset(&c.seg)
	c.text = textSum{w: c.fw}
	writeFamily(&c.out, def, c.snaps, c.prefixes)
	c.out.flush()
	if c.text.size == 0 {
		return gzSegment{}
	}
	c.fw.Flush() // a sync flush: byte-aligned, no final block
	return gzSegment{data: bytes.Clone(c.seg.Bytes()), crc: c.text.crc, size: c.text.size}
}

func (c *familyCompressor) close() {
	c.fw.Reset(io.Discard)
	flateWriters.Put(c.fw)
}

// textWriter buffers exposition text for WriteText: a line is its family's
// name, its snapshot's es_cluster label and the rest of the line, appended
// in one step.
type textWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (t *textWriter) line(name, prefix string, rest []byte) {
	if len(t.buf)+len(name)+len(prefix)+len(rest) > cap(t.buf) {
		t.flush()
	}
	t.buf = append(append(append(t.buf, name...), prefix...), rest...)
}

func (t *textWriter) write(s string) {
	if len(t.buf)+len(s) > cap(t.buf) {
		t.flush()
	}
	t.buf = append(t.buf, s...)
}

func (t *textWriter) flush() error {
	if t.err == nil && len(t.buf) > 0 {
		_, t.err = t.w.Write(t.buf)
	}
	t.buf = t.buf[:0]
	return t.err
}

// Gather implements prometheus.Gatherer by parsing WriteText's output. It is
// for tests and tools (testutil, linting); /metrics is served by Handler.
func (s *Store) Gather() ([]*dto.MetricFamily, error) {
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, mf := range byName {
		// Like a registry's Gather: label pairs sorted by name (the text
		// puts es_cluster first), metrics by label values.
		for _, m := range mf.Metric {
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		}
		sort.Slice(mf.Metric, func(i, j int) bool { return labelsLess(mf.Metric[i].Label, mf.Metric[j].Label) })
		out = append(out, mf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

// Handler serves /metrics: the store's snapshots, then the families of
// extra (the exporter's own, Go and process metrics), in the text format.
// Errors of extra are logged and its remaining families still served.
func Handler(store *Store, extra prometheus.Gatherer, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		var out io.Writer = w
		write := func() error { return store.WriteText(w) }
		if acceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip")
			// The exporter's own metrics follow in the same member,
			// compressed as they are written.
			gz := newGzipStream(w)
			defer gz.Close()
			write = func() error { return store.writeGzip(gz) }
			out = gz
		}
		if err := write(); err != nil {
			logger.Debug("writing /metrics", "err", err) // the client went away
			return
		}
		mfs, err := extra.Gather()
		if err != nil {
			logger.Error("gathering the exporter's own metrics", "err", err)
		}
		bw := bufio.NewWriter(out)
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(bw, mf); err != nil {
				return
			}
		}
		bw.Flush()
	})
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); enc == "gzip" {
			return true
		}
	}
	return false
}

func labelsLess(a, b []*dto.LabelPair) bool {
	for k := range min(len(a), len(b)) {
		if a[k].GetValue() != b[k].GetValue() {
			return a[k].GetValue() < b[k].GetValue()
		}
	}
	return len(a) < len(b)
}
