package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// buildFleet creates n clusters with links links each (to the following
// clusters, mixing sniff and proxy), as the project's benchmark does.
func buildFleet(tb testing.TB, s *Sim, n, links int) []*Cluster {
	tb.Helper()
	clusters := make([]*Cluster, n)
	for i := range clusters {
		c, err := s.AddCluster(ClusterSpec{Name: fmt.Sprintf("c%04d", i), Version: "8.19.2", Users: monitorUsers()})
		if err != nil {
			tb.Fatal(err)
		}
		clusters[i] = c
	}
	for i, c := range clusters {
		for j := 1; j <= links && j < n; j++ {
			mode := "sniff"
			if j%2 == 0 {
				mode = "proxy"
			}
			if err := c.AddLink(LinkSpec{Alias: fmt.Sprintf("r%d", j), Remote: clusters[(i+j)%n].Name(), Mode: mode}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return clusters
}

// BenchmarkAddCluster measures creating one cluster with ten links (the
// project needs 1,000 in well under a few seconds).
func BenchmarkAddCluster(b *testing.B) {
	s, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	buildFleet(b, s, 10, 0)
	i := 0
	for b.Loop() {
		c, err := s.AddCluster(ClusterSpec{Name: fmt.Sprintf("b%06d", i), Version: "8.19.2"})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 10; j++ {
			if err := c.AddLink(LinkSpec{Alias: fmt.Sprintf("r%d", j), Remote: fmt.Sprintf("c%04d", j)}); err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
}

// BenchmarkPollFleet polls 1,000 clusters with 10 links each, round robin
// over GET /, GET /_remote/info and GET /_resolve/cluster, over HTTPS with
// keep-alive. One op is one request.
func BenchmarkPollFleet(b *testing.B) {
	s, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	clusters := buildFleet(b, s, 1000, 10)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 4, MaxIdleConns: 4000}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	paths := []string{"/", "/_remote/info", "/_resolve/cluster"}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			c := clusters[int(i/3)%len(clusters)]
			req, _ := http.NewRequest(http.MethodGet, c.URL()+paths[i%3], nil)
			req.SetBasicAuth(monUser, monPass)
			resp, err := cl.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("%s: %d", req.URL, resp.StatusCode)
				return
			}
		}
	})
}

func TestFleetOfThousandClusters(t *testing.T) {
	n := 1000
	if testing.Short() {
		// Still run a smaller fleet: the test must not be skipped.
		n = 100
	}
	s := newSim(t)
	clusters := buildFleet(t, s, n, 10)
	if n := verifyCacheLen(s); n != 0 {
		t.Errorf("%d full verifications: the shared-CA fast path was not taken", n)
	}
	// The last cluster's links wrap around to the first clusters.
	cl := newClient(t, s)
	got := parseOrdered(t, get(t, cl, clusters[n-1].URL()+"/_remote/info").body)
	if len(got.keys) != 10 {
		t.Fatalf("%d links", len(got.keys))
	}
	for i := range got.keys {
		if !got.vals[i].mustGet(t, "connected").b {
			t.Errorf("link %s not connected", got.keys[i])
		}
	}
}
