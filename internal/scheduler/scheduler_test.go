package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// fakeES answers GET / and GET /_remote/info like a 7.17 cluster with no
// remotes, after delay; hang makes it never answer. It counts GET /.
type fakeES struct {
	delay time.Duration
	hang  bool
	polls atomic.Int64
	slow  atomic.Int64 // GET /_ssl/certificates: one per slow round
	// inFlight and peak: requests being answered, now and at most.
	inFlight, peak atomic.Int64
}

func (f *fakeES) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.hang {
			<-r.Context().Done()
			return
		}
		for n, p := f.inFlight.Add(1), f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
		}
		time.Sleep(f.delay)
		f.inFlight.Add(-1)
		w.Header().Set("X-elastic-product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		switch r.URL.Path {
		case "/":
			f.polls.Add(1)
			w.Write([]byte(`{"name":"n1","cluster_name":"c","cluster_uuid":"u","version":{"number":"7.17.29","minimum_wire_compatibility_version":"6.8.0"},"tagline":"You Know, for Search"}`))
		case "/_remote/info":
			w.Write([]byte(`{}`))
		case "/_ssl/certificates":
			f.slow.Add(1)
			w.Write([]byte(`[]`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newTestScheduler returns the scheduler, its store and a gatherer of both.
func newTestScheduler(t *testing.T) (*Scheduler, *collector.Store, prometheus.Gatherer) {
	store := collector.NewStore()
	reg := prometheus.NewRegistry()
	s := New(Options{Store: store, Registerer: reg, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(s.Stop)
	return s, store, prometheus.Gatherers{store, reg}
}

func cfgWith(interval, timeout time.Duration, clusters ...config.Cluster) *config.Config {
	c := config.Defaults()
	c.PollInterval, c.Timeout, c.Clusters = interval, timeout, clusters
	return &c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHungClusterDelaysNoOther: one cluster never answers (timeout 5s), the
// other keeps being polled on its 50ms schedule meanwhile, and a scrape is
// served while the hung poll is in flight.
func TestHungClusterDelaysNoOther(t *testing.T) {
	hung, fast := &fakeES{hang: true}, &fakeES{}
	s, _, reg := newTestScheduler(t)
	cfg := cfgWith(50*time.Millisecond, 5*time.Second,
		config.Cluster{Name: "hung", URLs: []string{hung.start(t)}},
		config.Cluster{Name: "fast", URLs: []string{fast.start(t)}})
	cfg.MaxConcurrency = 2
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "5 polls of the fast cluster", func() bool { return fast.polls.Load() >= 5 })
	if time.Since(start) >= 5*time.Second {
		t.Fatal("the fast cluster waited for the hung one")
	}
	n, err := testutil.GatherAndCount(reg, "es_remote_cluster_up")
	if err != nil || n != 1 {
		t.Errorf("scrape during a hung poll: %d es_remote_cluster_up series, err %v; want the fast cluster's 1", n, err)
	}
	if s.Ready() {
		t.Error("ready although the hung cluster has not finished its first poll")
	}
}

// TestOverlappingPollsAreSkipped: a poll that takes 3 intervals makes the
// loop skip the ticks it missed instead of queueing them.
func TestOverlappingPollsAreSkipped(t *testing.T) {
	slow := &fakeES{delay: 150 * time.Millisecond}
	s, _, reg := newTestScheduler(t)
	if err := s.Apply(cfgWith(100*time.Millisecond, 2*time.Second, config.Cluster{Name: "slow", URLs: []string{slow.start(t)}})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a skipped poll", func() bool {
		return testutil.ToFloat64(s.skipped.WithLabelValues("slow")) >= 1
	})
	// (How many polls started says nothing here: one cluster's polls never
	// overlap, queued or not. The skip counter is what tells them apart.)
	if n, _ := testutil.GatherAndCount(reg, "es_remote_exporter_check_success"); n == 0 {
		t.Error("no check metrics after polls")
	}
}

// TestApplyReload: unchanged clusters keep their loop, removed ones lose
// their metrics, and a broken new config leaves everything as it was.
func TestApplyReload(t *testing.T) {
	a, b := &fakeES{}, &fakeES{}
	s, store, reg := newTestScheduler(t)
	ca, cb := config.Cluster{Name: "a", URLs: []string{a.start(t)}}, config.Cluster{Name: "b", URLs: []string{b.start(t)}}
	if err := s.Apply(cfgWith(50*time.Millisecond, time.Second, ca, cb)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first polls", s.Ready)
	loopA := s.loops["a"]

	broken := cb
	broken.TLS.CAFile = "/nonexistent/ca.pem"
	if err := s.Apply(cfgWith(50*time.Millisecond, time.Second, ca, broken)); err == nil {
		t.Fatal("Apply accepted a cluster whose CA file does not exist")
	}
	if s.loops["a"] != loopA || s.loops["b"] == nil || s.loops["b"].cluster.TLS.CAFile != "" {
		t.Fatal("a failed Apply changed the running loops")
	}

	if err := s.Apply(cfgWith(50*time.Millisecond, time.Second, ca)); err != nil {
		t.Fatal(err)
	}
	if s.loops["a"] != loopA {
		t.Error("an unchanged cluster's loop was restarted")
	}
	if store.Has("b") {
		t.Error("removed cluster b still has a snapshot")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "es_cluster" && l.GetValue() == "b" {
					t.Errorf("%s still exported for removed cluster b", mf.GetName())
				}
			}
		}
	}
	bPolls := b.polls.Load()
	time.Sleep(200 * time.Millisecond)
	if got := b.polls.Load(); got != bPolls {
		t.Errorf("removed cluster b polled %d more times", got-bPolls)
	}
}

func TestPollAll(t *testing.T) {
	a := &fakeES{}
	s := New(Options{Store: collector.NewStore(), Logger: slog.New(slog.DiscardHandler), Manual: true})
	defer s.Stop()
	if err := s.Apply(cfgWith(time.Hour, time.Second, config.Cluster{Name: "a", URLs: []string{a.start(t)}})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if a.polls.Load() != 0 {
		t.Fatal("manual scheduler polled on its own")
	}
	facts := s.PollAll(context.Background())
	if f := facts["a"]; f == nil || f.Identity == nil || !strings.HasPrefix(f.Identity.Version.Number, "7.17") {
		t.Fatalf("PollAll facts = %+v", facts)
	}
	// The slow checks run on their own schedule (10m by default), not again.
	s.PollAll(context.Background())
	if got := a.slow.Load(); got != 1 {
		t.Errorf("slow checks ran %d times in two polls, want 1", got)
	}
	if got := testutil.ToFloat64(s.polls); got != 2 {
		t.Errorf("es_remote_exporter_polls_total = %v after two polls, want 2", got)
	}
}

func TestSlowChecksEveryPoll(t *testing.T) {
	a := &fakeES{}
	s := New(Options{Store: collector.NewStore(), Logger: slog.New(slog.DiscardHandler), Manual: true, SlowChecksEveryPoll: true})
	defer s.Stop()
	if err := s.Apply(cfgWith(time.Hour, time.Second, config.Cluster{Name: "a", URLs: []string{a.start(t)}})); err != nil {
		t.Fatal(err)
	}
	s.PollAll(context.Background())
	s.PollAll(context.Background())
	if got := a.slow.Load(); got != 2 {
		t.Errorf("slow checks ran %d times in two polls, want 2", got)
	}
}

// TestRolesOfLinksToAClusterRestartIt: a cluster's poller reads the roles
// other clusters' links to it name, so a change there rebuilds it even
// though its own configuration did not change; unrelated changes do not.
func TestRolesOfLinksToAClusterRestartIt(t *testing.T) {
	a, b := &fakeES{}, &fakeES{}
	s := New(Options{Store: collector.NewStore(), Logger: slog.New(slog.DiscardHandler), Manual: true})
	defer s.Stop()
	urlA, urlB := a.start(t), b.start(t)
	cfg := func(roles ...string) *config.Config {
		return cfgWith(time.Hour, time.Second,
			config.Cluster{Name: "a", URLs: []string{urlA}},
			config.Cluster{Name: "b", URLs: []string{urlB}, Links: map[string]config.Link{
				"a": {Cluster: "a", Roles: config.LinkRoles{Search: roles}}}})
	}
	if err := s.Apply(cfg("remote-search")); err != nil {
		t.Fatal(err)
	}
	first := s.loops["a"].poller
	if err := s.Apply(cfg("remote-search")); err != nil {
		t.Fatal(err)
	}
	if s.loops["a"].poller != first {
		t.Error("an unchanged configuration rebuilt a's poller")
	}
	if err := s.Apply(cfg("remote-search", "kibana-search")); err != nil {
		t.Fatal(err)
	}
	if s.loops["a"].poller == first {
		t.Error("a's poller kept reading the old roles after b's link to it named a new one")
	}
	if got := s.loops["a"].roles; !slices.Equal(got, []string{"kibana-search", "remote-search"}) {
		t.Errorf("a reads roles %q", got)
	}
}

// TestNewIntervalKeepsThePoller: a new poll interval or concurrency bound
// restarts the loops but keeps each poller and what it learned (failure
// counts, mixed-versions start, connections); a new timeout rebuilds it.
func TestNewIntervalKeepsThePoller(t *testing.T) {
	a := &fakeES{}
	s := New(Options{Store: collector.NewStore(), Logger: slog.New(slog.DiscardHandler), Manual: true})
	defer s.Stop()
	url := a.start(t)
	cfg := func(interval, timeout time.Duration, concurrency int) *config.Config {
		c := cfgWith(interval, timeout, config.Cluster{Name: "a", URLs: []string{url}})
		c.MaxConcurrency = concurrency
		return c
	}
	if err := s.Apply(cfg(time.Hour, time.Second, 4)); err != nil {
		t.Fatal(err)
	}
	first := s.loops["a"]
	for _, c := range []*config.Config{cfg(time.Minute, time.Second, 4), cfg(time.Minute, time.Second, 8)} {
		if err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
		if l := s.loops["a"]; l == first || l.poller != first.poller {
			t.Errorf("interval %s, max_concurrency %d: loop replaced %v, poller kept %v; want a new loop with the same poller",
				c.PollInterval, c.MaxConcurrency, l != first, l.poller == first.poller)
		}
	}
	if err := s.Apply(cfg(time.Minute, 2*time.Second, 8)); err != nil {
		t.Fatal(err)
	}
	if s.loops["a"].poller == first.poller {
		t.Error("a new timeout kept the poller, whose requests use the old one")
	}
}

// Polls run on at most max_concurrency workers, started as polls need
// them; a new bound replaces them (the old ones stop, workers.stop waiting
// for their goroutines), and so does Stop.
func TestWorkersFollowMaxConcurrency(t *testing.T) {
	es := &fakeES{delay: 20 * time.Millisecond}
	url := es.start(t)
	var clusters []config.Cluster
	for i := range 6 {
		clusters = append(clusters, config.Cluster{Name: fmt.Sprintf("c%d", i), URLs: []string{url}})
	}
	s := New(Options{Store: collector.NewStore(), Logger: slog.New(slog.DiscardHandler), Manual: true})
	cfg := cfgWith(time.Hour, time.Second, clusters...)
	cfg.MaxConcurrency = 2
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if facts := s.PollAll(context.Background()); len(facts) != len(clusters) {
		t.Fatalf("%d of %d clusters polled", len(facts), len(clusters))
	}
	if got := es.peak.Load(); got > 2 {
		t.Errorf("%d requests in flight at once with max_concurrency 2", got)
	}
	if got := s.workers.started; got != 2 {
		t.Errorf("%d workers for 6 clusters at max_concurrency 2, want 2", got)
	}
	// A bound far above the clusters starts only the workers polls need.
	replaced := s.workers
	cfg.Clusters, cfg.MaxConcurrency = clusters[:1], 1000
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	select {
	case <-replaced.quit:
	default:
		t.Error("the workers of the old bound were not stopped")
	}
	s.PollAll(context.Background())
	if got := s.workers.started; got != 1 {
		t.Errorf("%d workers for one cluster at max_concurrency 1000, want 1", got)
	}
	s.Stop()
	if s.workers != nil {
		t.Error("Stop kept the workers")
	}
}
