package collector

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestHandlerGzip: a scrape that accepts gzip gets the same exposition,
// compressed, as one that does not, also when a pooled compressor serves
// one scrape after another; Go's reader (as Prometheus's) decodes it.
func TestHandlerGzip(t *testing.T) {
	r := newRenderer("c")
	r.add(famLinkConnected, 1, "c", "r")
	r.add(famLinkSkipUnavailable, 0, "c", "r")
	store := NewStore()
	store.Put(&Snapshot{Cluster: "c", layers: [schedules][][]byte{everyPoll: r.render(everyPoll)}})
	h := Handler(store, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))

	plain := httptest.NewRecorder()
	h.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if plain.Header().Get("Content-Encoding") != "" || plain.Body.Len() == 0 {
		t.Fatalf("plain scrape: encoding %q, %d bytes", plain.Header().Get("Content-Encoding"), plain.Body.Len())
	}
	for i := range 3 {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", "deflate, gzip;q=0.9")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
			t.Fatalf("scrape %d: Content-Encoding %q, want gzip", i, got)
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
		if string(body) != plain.Body.String() {
			t.Errorf("scrape %d decodes to\n%s\nwant\n%s", i, body, plain.Body.String())
		}
	}
}
