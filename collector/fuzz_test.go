package collector

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// fuzzPaths are the answers a poll decodes, with the 8.13 fixture (which
// has every kind: links of both models, followers, keys) as the healthy
// answer of the paths not fuzzed.
var fuzzPaths = []struct{ path, file string }{
	{"/", "root.json"},
	{"/_nodes/_all/remote_cluster_server", "nodes.json"},
	{"/_xpack", "xpack.json"},
	{"/_nodes/_all/settings", "nodes_settings.json"},
	{"/_ssl/certificates", "ssl_certificates.json"},
	{"/_cluster/settings", "cluster_settings.json"},
	{"/_remote/info", "remote_info.json"},
	{"/_resolve/cluster/cert_sniff:dummy*", "resolve_cluster.cert_sniff.json"},
	{"/_ccr/stats", "ccr_stats.json"},
	{"/_all/_ccr/info", "ccr_info.json"},
	{"/_security/api_key", "api_keys.json"},
}

// FuzzPollAnswers feeds one answer of a poll arbitrary bytes (the others
// stay the 8.13 fixtures) through the real client, checks and renderer: the
// poll never panics, and what it renders is valid exposition text without
// a repeated series, whatever Elasticsearch (or something in front of it)
// sends.
func FuzzPollAnswers(f *testing.F) {
	dir := filepath.Join("testdata", "8.13")
	healthy := map[string][]byte{}
	for i, p := range fuzzPaths {
		b, err := os.ReadFile(filepath.Join(dir, p.file))
		if err != nil {
			f.Fatal(err)
		}
		healthy[p.path] = b
		f.Add(uint8(i), b)
		f.Add(uint8(i), []byte(`{}`))
		f.Add(uint8(i), b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		fuzzed := fuzzPaths[int(which)%len(fuzzPaths)].path
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, ok := healthy[r.URL.Path]
			if r.URL.Path == fuzzed {
				b, ok = body, true
			}
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
		}))
		defer srv.Close()
		p, err := NewPoller(config.Cluster{Name: "local", URLs: []string{srv.URL},
			Links: map[string]config.Link{"cert_sniff": {Cluster: "x", APIKeyID: "VuaCfGcBCdbkQm-e5aOx",
				Roles: config.LinkRoles{Search: []string{"r"}}}}},
			PollerOptions{Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fixedNow }})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		_, snap := p.Poll(context.Background())
		checkExposition(t, storeOf(snap))
	})
}

// FuzzRenderer renders arbitrary label values and values: the text always
// parses, keeps the values, and a repeated series is rendered once.
func FuzzRenderer(f *testing.F) {
	f.Add("es01", "remote", 1.0)
	f.Add("with \"quotes\" and \\ and\nnewline", "\xff\xfe invalid utf-8", math.Inf(-1))
	f.Add("", "", math.NaN())
	f.Fuzz(func(t *testing.T, a, b string, v float64) {
		r := newRenderer(a)
		r.add(famLinkConnected, v, a, b)
		r.add(famLinkConnected, v+1, a, b) // the same series: dropped
		r.add(famLinkInfo, 1, a, b, "sniff", "certificate", a, b, "")
		snap := &Snapshot{Cluster: a, layers: [schedules][][]byte{everyPoll: r.render(everyPoll)}}
		s := NewStore()
		s.Put(snap)
		checkExposition(t, s)
	})
}

// checkExposition requires valid text exposition without repeated series.
func checkExposition(t *testing.T, s *Store) {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		series := line[:strings.LastIndexByte(line, ' ')]
		if seen[series] {
			t.Fatalf("repeated series %q", series)
		}
		seen[series] = true
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(io.Reader(&buf)); err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, buf.String())
	}
}
