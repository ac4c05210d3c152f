package collector

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestHandlerGzip: a scrape that accepts gzip gets the same exposition,
// compressed, as one that does not, one scrape after another and after
// snapshots change; Go's reader (as Prometheus's) decodes it. A family is
// compressed again only when a snapshot's text of it changed.
func TestHandlerGzip(t *testing.T) {
	snapshot := func(cluster string, connected float64) *Snapshot {
		r := newRenderer(cluster)
		r.add(famLinkConnected, connected, cluster, "r")
		r.add(famLinkSkipUnavailable, 0, cluster, "r")
		return &Snapshot{Cluster: cluster, layers: [schedules][][]byte{everyPoll: r.render(everyPoll)}}
	}
	store := NewStore()
	store.Put(snapshot("a", 1))
	store.Put(snapshot("b", 1))
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "es_remote_exporter_test_total", Help: "h"}))
	h := Handler(store, reg, slog.New(slog.DiscardHandler))
	scrape := func(step string) {
		t.Helper()
		plain := httptest.NewRecorder()
		h.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if plain.Header().Get("Content-Encoding") != "" || plain.Body.Len() == 0 {
			t.Fatalf("%s: plain scrape: encoding %q, %d bytes", step, plain.Header().Get("Content-Encoding"), plain.Body.Len())
		}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", "deflate, gzip;q=0.9")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
			t.Fatalf("%s: Content-Encoding %q, want gzip", step, got)
		}
		// One member: browsers and curl --compressed read only the first.
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		zr.Multistream(false)
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if rec.Body.Len() != 0 {
			t.Errorf("%s: %d bytes after the first gzip member", step, rec.Body.Len())
		}
		if string(body) != plain.Body.String() {
			t.Errorf("%s: the gzip scrape decodes to\n%s\nwant\n%s", step, body, plain.Body.String())
		}
	}
	builds := func(step string, want int) {
		t.Helper()
		if got := store.gzBuilds; got != want {
			t.Errorf("%s: %d families compressed in all, want %d", step, got, want)
		}
	}
	scrape("first")
	builds("first", len(families))
	scrape("again")
	builds("again", len(families))
	// b's link disconnects: its skip_unavailable text is shared, as a
	// poll's unchanged family would be; only connected is compressed anew.
	next := snapshot("b", 0)
	next.layers[everyPoll][famLinkSkipUnavailable.local] = store.snapshots["b"].family(famLinkSkipUnavailable)
	store.Put(next)
	scrape("after b changed")
	builds("after b changed", len(families)+1)
	store.Delete("a")
	scrape("after a left")
	builds("after a left", len(families)+3)
}

// blockingWriter blocks its first Write until released, after saying so.
type blockingWriter struct {
	header   http.Header
	writing  chan struct{}
	released chan struct{}
	once     bool
}

func (w *blockingWriter) Header() http.Header { return w.header }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Write(p []byte) (int, error) {
	if !w.once {
		w.once = true
		close(w.writing)
		<-w.released
	}
	return len(p), nil
}

// TestSlowGzipClientHoldsUpNoOtherScrape: a client that does not read
// does not keep other gzip scrapes waiting (the compressed families are
// written after the store's locks are released).
func TestSlowGzipClientHoldsUpNoOtherScrape(t *testing.T) {
	r := newRenderer("c")
	r.add(famLinkConnected, 1, "c", "r")
	store := NewStore()
	store.Put(&Snapshot{Cluster: "c", layers: [schedules][][]byte{everyPoll: r.render(everyPoll)}})
	h := Handler(store, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	slow := &blockingWriter{header: http.Header{}, writing: make(chan struct{}), released: make(chan struct{})}
	done := make(chan struct{})
	go func() { h.ServeHTTP(slow, req); close(done) }()
	<-slow.writing
	rec := httptest.NewRecorder()
	second := make(chan struct{})
	go func() { h.ServeHTTP(rec, req); close(second) }()
	select {
	case <-second:
	case <-time.After(30 * time.Second): // it takes microseconds; a lock held would wait forever
		t.Fatal("a gzip scrape waited for a client that does not read")
	}
	if rec.Body.Len() == 0 {
		t.Error("the second scrape got nothing")
	}
	close(slow.released)
	<-done
}
