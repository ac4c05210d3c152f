package collector

import (
	"bufio"
	"bytes"
	"github.com/klauspost/compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

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
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{snapshots: map[string]*Snapshot{}} }

// Put swaps in a cluster's newest snapshot.
func (s *Store) Put(snap *Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	if _, ok := s.snapshots[cluster]; !ok {
		return
	}
	delete(s.snapshots, cluster)
	s.sorted = slices.DeleteFunc(s.sorted, func(e *Snapshot) bool { return e.Cluster == cluster })
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
	prefixes := make([]string, len(snaps))
	for j, snap := range snaps {
		prefixes[j] = linePrefix(snap.Cluster)
	}
	for _, i := range familyOrder {
		def := families[i]
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
	return out.flush()
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
		if acceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(w)
			defer func() {
				gz.Close()
				gz.Reset(io.Discard) // hold no reference to the response
				gzipWriters.Put(gz)
			}()
			out = gz
		}
		if err := store.WriteText(out); err != nil {
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

// gzipWriters recycles the compressors of scrapes (each holds its tables
// and window, about a megabyte). klauspost/compress at its fastest level
// compresses the 10,000-link benchmark's 28 MB in about 30 ms against 50
// for compress/gzip's, into a smaller answer (docs/performance.md).
var gzipWriters = sync.Pool{New: func() any {
	gz, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return gz
}}

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
