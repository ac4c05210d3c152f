package collector

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// TestCCRFollowers walks follower indices through the states the CCR
// metrics and alerts are about: lag that grows and drains, a pause, a
// fatal exception, a stall, and the replication version rule.
func TestCCRFollowers(t *testing.T) {
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "paris", Version: "8.19.7", License: "trial", Nodes: twoNodes("8.19.7")},
		simulator.ClusterSpec{Name: "oslo", Version: "8.18.8", License: "trial", Nodes: twoNodes("8.18.8")})
	paris := e.sim.Cluster("paris")
	if err := paris.AddLink(simulator.LinkSpec{Alias: "oslo", Remote: "oslo"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []simulator.FollowerSpec{{Index: "logs", Remote: "oslo", LeaderIndex: "logs", Shards: 2},
		{Index: "orders", Remote: "oslo", LeaderIndex: "orders"}} {
		if err := paris.AddFollower(f); err != nil {
			t.Fatal(err)
		}
	}
	e.watch("oslo", nil)
	e.watch("paris", nil)
	e.poll("oslo")
	follower := func(index string) map[string]string {
		return map[string]string{"remote": "oslo", "follower_index": index}
	}

	paris.AdvanceLeader("logs", 100)
	f, snap := e.poll("paris")
	if got := mustValue(t, snap, "es_remote_ccr_follower_lag_operations", follower("logs")); got != 100 {
		t.Errorf("lag after the leader advanced by 100 = %v", got)
	}
	mustValue(t, snap, "es_remote_ccr_follower_info", map[string]string{"follower_index": "logs", "leader_index": "logs", "status": "active"})
	if got := mustValue(t, snap, "es_remote_link_ccr_follower_indices", map[string]string{"remote": "oslo", "status": "active"}); got != 2 {
		t.Errorf("active followers on the link = %v, want 2", got)
	}
	// 8.19 follows 8.18: the follower is newer, a supported pair.
	mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("oslo", "ccr", "compatible", "8.19.7", "8.18.8"))
	if len(f.CCR.FollowersOf("oslo")) != 2 {
		t.Errorf("facts: followers of oslo = %+v", f.CCR.Followers)
	}

	paris.Drain("logs")
	_, snap = e.poll("paris")
	if got := mustValue(t, snap, "es_remote_ccr_follower_lag_operations", follower("logs")); got != 0 {
		t.Errorf("lag after draining = %v", got)
	}

	// Paused: no shard tasks, so no stats, but the listing says so. The
	// listing runs on the slow schedule: every poll here (probe_interval 0).
	if err := paris.PauseFollower("orders"); err != nil {
		t.Fatal(err)
	}
	paris.SetFollowerFatal("logs", 1, "mapping update rejected")
	_, snap = e.poll("paris")
	mustValue(t, snap, "es_remote_ccr_follower_info", map[string]string{"follower_index": "orders", "status": "paused"})
	if _, ok := value(t, snap, "es_remote_ccr_follower_lag_operations", follower("orders")); ok {
		t.Error("a paused follower has a lag series; Elasticsearch reports no stats for it")
	}
	if got := mustValue(t, snap, "es_remote_link_ccr_follower_indices", map[string]string{"remote": "oslo", "status": "paused"}); got != 1 {
		t.Errorf("paused followers on the link = %v, want 1", got)
	}
	if got := mustValue(t, snap, "es_remote_ccr_follower_fatal_exception", follower("logs")); got != 1 {
		t.Errorf("fatal_exception = %v after a shard stopped on one", got)
	}

	// Stalled: no read; time since the last read grows, failed reads count.
	if err := paris.ResumeFollower("orders"); err != nil {
		t.Fatal(err)
	}
	paris.StallFollower("orders", true)
	_, snap = e.poll("paris")
	if _, ok := value(t, snap, "es_remote_ccr_follower_failed_read_requests_total", follower("orders")); !ok {
		t.Error("no failed_read_requests series for a stalled follower")
	}
	if got := mustValue(t, snap, "es_remote_ccr_follower_failed_read_requests_total", follower("orders")); got < 1 {
		t.Errorf("failed reads of a stalled follower = %v, want at least 1", got)
	}

	// The leader is upgraded ahead of its follower: the replication rule breaks.
	for _, n := range []string{"n1", "n2"} {
		if err := e.sim.Cluster("oslo").SetNodeVersion(n, "9.0.4"); err != nil {
			t.Fatal(err)
		}
	}
	e.poll("oslo")
	_, snap = e.poll("paris")
	mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("oslo", "ccr", "incompatible", "8.19.7", "9.0.4"))
}

// TestCCRUnlicensedIsNotAFailure: a basic license answers the stats API
// with 403 "current license is non-compliant for [ccr]": the check
// succeeds, logs once and renders nothing.
func TestCCRUnlicensedIsNotAFailure(t *testing.T) {
	e := newSimEnv(t, "8.19.7")
	var buf testtools.SyncBuffer
	p := e.poller(t, testUser, 5*time.Second, &buf)
	f, snap := p.Poll(t.Context())
	if c := checkResult(f, CheckCCR); c == nil || c.Err != nil {
		t.Fatalf("ccr check on a basic license: %+v; want success", c)
	}
	if f.CCR == nil || !f.CCR.Unlicensed {
		t.Errorf("facts do not say CCR is unlicensed: %+v", f.CCR)
	}
	if _, ok := value(t, snap, "es_remote_ccr_auto_follow_failed_follow_indices_total", nil); ok {
		t.Error("an unlicensed cluster renders auto-follow counters")
	}
	if _, ok := value(t, snap, "es_remote_exporter_check_failures_total", map[string]string{"check": CheckCCR}); ok {
		t.Error("an unlicensed cluster counts ccr failures")
	}
	p.Poll(t.Context())
	if n := strings.Count(buf.String(), "cross-cluster replication is not monitored"); n != 1 {
		t.Errorf("logged %d times that CCR is unlicensed, want once:\n%s", n, buf.String())
	}
}

// TestCCRLicenseLostBetweenListings: the license is read every
// probe_interval; when it is downgraded in between, the stats API's 403
// "current license is non-compliant for [ccr]" is not a failure either.
func TestCCRLicenseLostBetweenListings(t *testing.T) {
	e := newSimEnv(t, "8.19.7")
	if err := e.local.SetLicense("trial", time.Now().AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	p, err := NewPoller(config.Cluster{Name: "local", URLs: []string{e.local.URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}},
		PollerOptions{Timeout: 5 * time.Second, ProbeInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if f, _ := p.Poll(t.Context()); f.CCR == nil || f.CCR.Unlicensed {
		t.Fatalf("on a trial license: %+v", f.CCR)
	}
	if err := e.local.SetLicense("basic", time.Time{}); err != nil {
		t.Fatal(err)
	}
	f, _ := p.Poll(t.Context())
	if c := checkResult(f, CheckCCR); c == nil || c.Err != nil || f.CCR == nil || !f.CCR.Unlicensed {
		t.Errorf("after the downgrade: check %+v, facts %+v; want success and unlicensed (from the 403)", c, f.CCR)
	}
}
