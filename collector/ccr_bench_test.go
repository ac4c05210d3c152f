package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// BenchmarkCCRThousandsOfFollowers polls a cluster with 5,000 follower
// indices of 2 shards each (the 8.13 fixtures otherwise) and renders them:
// the cost of CCR per poll for a large follower cluster, and the size of
// its series (go test -run '^$' -bench CCRThousands -benchmem ./collector/).
func BenchmarkCCRThousandsOfFollowers(b *testing.B) {
	const followers = 5000
	type shard = map[string]any
	var indices []any
	var infos []any
	for i := range followers {
		name := fmt.Sprintf("follower-%05d", i)
		var shards []any
		for s := range 2 {
			shards = append(shards, shard{"remote_cluster": "cert_sniff", "leader_index": name, "follower_index": name, "shard_id": s,
				"leader_global_checkpoint": 1000 + i, "follower_global_checkpoint": 990 + i, "failed_read_requests": 0,
				"failed_write_requests": 0, "operations_written": 990 + i, "time_since_last_read_millis": 120})
		}
		indices = append(indices, map[string]any{"index": name, "total_global_checkpoint_lag": 20, "shards": shards})
		infos = append(infos, map[string]any{"follower_index": name, "remote_cluster": "cert_sniff", "leader_index": name, "status": "active"})
	}
	stats, _ := json.Marshal(map[string]any{"auto_follow_stats": map[string]any{"number_of_failed_follow_indices": 0,
		"number_of_failed_remote_cluster_state_requests": 0, "number_of_successful_follow_indices": followers, "recent_auto_follow_errors": []any{}},
		"follow_stats": map[string]any{"indices": indices}})
	info, _ := json.Marshal(map[string]any{"follower_indices": infos})
	answers := map[string][]byte{"/_ccr/stats": stats, "/_all/_ccr/info": info}
	for _, p := range fuzzPaths {
		if answers[p.path] == nil {
			b2, err := os.ReadFile(filepath.Join("testdata", "8.13", p.file))
			if err != nil {
				b.Fatal(err)
			}
			answers[p.path] = b2
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Write(answers[r.URL.Path])
	}))
	defer srv.Close()
	p, err := NewPoller(config.Cluster{Name: "local", URLs: []string{srv.URL}},
		PollerOptions{Timeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler), ProbeInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	p.Poll(context.Background()) // the slow listings, once
	b.ResetTimer()
	var snap *Snapshot
	for b.Loop() {
		var f *Facts
		f, snap = p.Poll(context.Background())
		if f.CCR == nil || len(f.CCR.Followers) != followers {
			b.Fatalf("polled %v followers, want %d", f.CCR, followers)
		}
	}
	b.StopTimer()
	var out bytes.Buffer
	if err := storeOf(snap).WriteText(io.Writer(&out)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(out.Len())/followers, "exposition-bytes/follower")
	b.ReportMetric(float64(len(stats))/(1<<20), "ccr-stats-MB")
}
