package collector

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

const (
	testUser     = "monitor"
	testPassword = "hunter2-not-in-logs"
)

// simEnv is a local 8.19 cluster with a sniff link to a remote 9.1 cluster
// and a proxy link to a remote 8.18 cluster, polled through the real
// go-elasticsearch client over HTTPS.
type simEnv struct {
	sim    *simulator.Sim
	local  *simulator.Cluster
	remote *simulator.Cluster
	caFile string
}

func newSimEnv(t *testing.T, localVersion string) *simEnv {
	t.Helper()
	return newSimEnvRemoteUsers(t, localVersion, nil)
}

// newSimEnvRemoteUsers is newSimEnv with the remote's users given (nil: the
// same as the local cluster's). A user's roles are defined on a cluster that
// declares a user with them (the simulator's model, remoteauth.go).
func newSimEnvRemoteUsers(t *testing.T, localVersion string, remoteUsers map[string]simulator.User) *simEnv {
	t.Helper()
	sim, err := simulator.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	users := map[string]simulator.User{
		testUser:   {Password: testPassword, Roles: []string{"monitoring"}, ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"view_index_metadata"}},
		"nobody":   {Password: testPassword, Roles: []string{"nothing"}},
		"no_index": {Password: testPassword, Roles: []string{"cluster_only"}, ClusterPrivileges: []string{"monitor"}},
	}
	local, err := sim.AddCluster(simulator.ClusterSpec{Name: "local", Version: localVersion, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	if remoteUsers == nil {
		remoteUsers = users
	}
	remote, err := sim.AddCluster(simulator.ClusterSpec{Name: "remote", Version: "8.19.7", Users: remoteUsers,
		Nodes: []simulator.NodeSpec{{Name: "r1"}, {Name: "r2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := local.AddLink(simulator.LinkSpec{Alias: "remote", Remote: "remote"}); err != nil {
		t.Fatal(err)
	}
	caFile, err := sim.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &simEnv{sim: sim, local: local, remote: remote, caFile: caFile}
}

// poller builds a poller for the local cluster that logs into buf.
func (e *simEnv) poller(t *testing.T, user string, timeout time.Duration, buf *testtools.SyncBuffer) *Poller {
	t.Helper()
	p, err := NewPoller(config.Cluster{
		Name: "local", URLs: []string{e.local.URL()}, Username: user, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile},
	}, PollerOptions{Timeout: timeout, Logger: slog.New(slog.NewTextHandler(buf, nil)), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// value finds one sample of a snapshot by metric name and label values.
func value(t *testing.T, s *Snapshot, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := storeOf(s).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue metrics
				}
			}
			if m.Gauge != nil {
				return m.GetGauge().GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name && lp.GetValue() == value {
			return true
		}
	}
	return false
}

func mustValue(t *testing.T, s *Snapshot, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := value(t, s, name, labels)
	if !ok {
		t.Fatalf("no sample %s%v in snapshot", name, labels)
	}
	return v
}

func checkResult(f *Facts, check string) *CheckResult {
	for i := range f.Checks {
		if f.Checks[i].Check == check {
			return &f.Checks[i]
		}
	}
	return nil
}

// TestPollFailures drives each way a cluster can fail and asserts what a user
// sees: the check's reason in metrics, one log line that says what to do, the
// other checks not blurred, and no secret anywhere.
func TestPollFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		user       string
		setup      func(e *simEnv)
		check      string // the check that fails with reason
		reason     Reason
		up         float64
		logContain string
	}{
		{name: "connection refused", setup: func(e *simEnv) { e.local.Stop() },
			check: CheckIdentity, reason: ReasonConnection, logContain: "connection refused"},
		{name: "hang past the timeout", setup: func(e *simEnv) { e.local.SetFault(simulator.Fault{Kind: simulator.FaultHang}) },
			check: CheckIdentity, reason: ReasonTimeout, logContain: "raise timeout"},
		{name: "401 bad password", user: "ghost",
			check: CheckIdentity, reason: ReasonUnauthorized, logContain: "check username/password"},
		{name: "403 no monitor privilege", user: "nobody",
			check: CheckIdentity, reason: ReasonForbidden, logContain: "Privileges the exporter needs"},
		{name: "403 on resolve only", user: "no_index",
			check: CheckResolveCluster, reason: ReasonForbidden, up: 1, logContain: "view_index_metadata"},
		{name: "400 node without remote_cluster_client", setup: func(e *simEnv) {
			if err := e.local.SetNodeRoles("local-es01", []string{"data", "master"}); err != nil {
				panic(err)
			}
		}, check: CheckRemoteInfo, reason: ReasonMissingRole, up: 1, logContain: "remote_cluster_client role"},
		{name: "5xx", setup: func(e *simEnv) {
			e.local.SetFault(simulator.Fault{Kind: simulator.FaultServerError, PathPrefix: "/_remote/info"})
		},
			check: CheckRemoteInfo, reason: ReasonServerError, up: 1, logContain: "HTTP 5"},
		{name: "invalid JSON", setup: func(e *simEnv) {
			e.local.SetFault(simulator.Fault{Kind: simulator.FaultBadJSON, PathPrefix: "/_remote/info"})
		},
			check: CheckRemoteInfo, reason: ReasonInvalidResponse, up: 1, logContain: "not valid JSON"},
		{name: "HTML page from a proxy", setup: func(e *simEnv) { e.local.SetFault(simulator.Fault{Kind: simulator.FaultHTML}) },
			check: CheckIdentity, reason: ReasonServerError, logContain: "proxy"},
		{name: "truncated body", setup: func(e *simEnv) {
			e.local.SetFault(simulator.Fault{Kind: simulator.FaultTruncated, PathPrefix: "/_remote/info"})
		},
			check: CheckRemoteInfo, reason: ReasonInvalidResponse, up: 1, logContain: "cut short"},
		{name: "dropped connection", setup: func(e *simEnv) {
			e.local.SetFault(simulator.Fault{Kind: simulator.FaultDrop, PathPrefix: "/_remote/info"})
		},
			check: CheckRemoteInfo, reason: ReasonConnection, up: 1, logContain: "EOF"},
		{name: "no X-elastic-product header", setup: func(e *simEnv) { e.local.SetFault(simulator.Fault{Kind: simulator.FaultNoProductHeader}) },
			check: CheckIdentity, reason: ReasonNotElasticsearch, logContain: "X-elastic-product"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSimEnv(t, "8.19.7")
			if tc.setup != nil {
				tc.setup(e)
			}
			user := tc.user
			if user == "" {
				user = testUser
			}
			var logs testtools.SyncBuffer
			p := e.poller(t, user, 500*time.Millisecond, &logs)
			var f *Facts
			var snap *Snapshot
			for range 3 {
				f, snap = p.Poll(context.Background())
			}
			res := checkResult(f, tc.check)
			if res == nil || res.Err == nil {
				t.Fatalf("check %s did not fail: %+v", tc.check, f.Checks)
			}
			if res.Err.Reason != tc.reason {
				t.Errorf("reason = %s (%v), want %s", res.Err.Reason, res.Err, tc.reason)
			}
			if got := mustValue(t, snap, "es_remote_cluster_up", nil); got != tc.up {
				t.Errorf("es_remote_cluster_up = %v, want %v", got, tc.up)
			}
			if got := mustValue(t, snap, "es_remote_exporter_check_success", map[string]string{"check": tc.check}); got != 0 {
				t.Errorf("check_success{check=%s} = %v, want 0", tc.check, got)
			}
			if got := mustValue(t, snap, "es_remote_exporter_check_failures_total", map[string]string{"check": tc.check, "reason": string(tc.reason)}); got != 3 {
				t.Errorf("check_failures_total{check=%s,reason=%s} = %v after 3 polls, want 3", tc.check, tc.reason, got)
			}
			out := logs.String()
			if n := strings.Count(out, "check failed"); n != 1 {
				t.Errorf("logged %d 'check failed' lines over 3 identical failures, want 1:\n%s", n, out)
			}
			if !strings.Contains(out, tc.logContain) {
				t.Errorf("log does not mention %q:\n%s", tc.logContain, out)
			}
			if strings.Contains(out, testPassword) || strings.Contains(res.Err.Error(), testPassword) {
				t.Errorf("the password leaked:\n%s", out)
			}
			if tc.up == 0 {
				// GET / failed: the other checks report unavailable instead of
				// waiting out their own timeouts.
				if r := checkResult(f, CheckRemoteInfo); r == nil || r.Err == nil || r.Err.Reason != ReasonUnavailable {
					t.Errorf("remote_info after a failed GET / = %+v, want unavailable", r)
				}
			}

			// The cluster heals: the next poll succeeds and says so once.
			e.local.SetFault(simulator.Fault{})
			if !e.local.Running() {
				if err := e.local.Start(); err != nil {
					t.Fatal(err)
				}
			}
			if tc.user == "" && tc.reason != ReasonMissingRole {
				f, _ = p.Poll(context.Background())
				for _, c := range f.Checks {
					if c.Err != nil {
						t.Errorf("after healing, check %s still fails: %v", c.Check, c.Err)
					}
				}
				if !strings.Contains(logs.String(), "check recovered") {
					t.Errorf("no recovery logged:\n%s", logs.String())
				}
			}
		})
	}
}

// TestLinkFollowsRemote stops and restarts the remote cluster and checks both
// signals: _remote/info stays disconnected until something reconnects, while
// _resolve/cluster (which reconnects on 8.18+) reports reachability at once.
func TestLinkFollowsRemote(t *testing.T) {
	e := newSimEnv(t, "8.19.7")
	var logs testtools.SyncBuffer
	p := e.poller(t, testUser, 2*time.Second, &logs)
	link := map[string]string{"remote": "remote"}

	_, snap := p.Poll(context.Background())
	if mustValue(t, snap, "es_remote_link_connected", link) != 1 || mustValue(t, snap, "es_remote_link_reachable", link) != 1 {
		t.Fatal("link not connected and reachable at start")
	}
	if got := mustValue(t, snap, "es_remote_link_nodes_connected", link); got != 2 {
		t.Errorf("nodes_connected = %v, want 2 (the remote has two nodes)", got)
	}

	e.remote.Stop()
	_, snap = p.Poll(context.Background())
	if mustValue(t, snap, "es_remote_link_connected", link) != 0 || mustValue(t, snap, "es_remote_link_reachable", link) != 0 {
		t.Error("link still connected or reachable after the remote stopped")
	}
	if !strings.Contains(logs.String(), "remote unreachable") {
		t.Errorf("unreachable remote not logged:\n%s", logs.String())
	}

	if err := e.remote.Start(); err != nil {
		t.Fatal(err)
	}
	_, snap = p.Poll(context.Background())
	if got := mustValue(t, snap, "es_remote_link_connected", link); got != 0 {
		t.Errorf("_remote/info connected = %v right after the remote came back, want 0 (nothing reconnected yet)", got)
	}
	if got := mustValue(t, snap, "es_remote_link_reachable", link); got != 1 {
		t.Errorf("reachable = %v after the remote came back, want 1", got)
	}
	_, snap = p.Poll(context.Background())
	if got := mustValue(t, snap, "es_remote_link_connected", link); got != 1 {
		t.Errorf("connected = %v after _resolve/cluster reconnected the link, want 1", got)
	}
}

// TestLinksVanish: a link removed from Elasticsearch disappears from the
// next snapshot instead of freezing at its last value.
func TestLinksVanish(t *testing.T) {
	e := newSimEnv(t, "8.19.7")
	var logs testtools.SyncBuffer
	p := e.poller(t, testUser, 2*time.Second, &logs)
	_, snap := p.Poll(context.Background())
	if _, ok := value(t, snap, "es_remote_link_info", map[string]string{"remote": "remote"}); !ok {
		t.Fatal("link missing at start")
	}
	e.local.RemoveLink("remote")
	f, snap := p.Poll(context.Background())
	if len(f.Links) != 0 {
		t.Errorf("links = %+v, want none", f.Links)
	}
	for _, name := range []string{"es_remote_link_info", "es_remote_link_connected", "es_remote_link_reachable"} {
		if _, ok := value(t, snap, name, map[string]string{"remote": "remote"}); ok {
			t.Errorf("%s still exported for a removed link", name)
		}
	}
	if v := mustValue(t, snap, "es_remote_exporter_check_success", map[string]string{"check": CheckRemoteInfo}); v != 1 {
		t.Error("{} from _remote/info must be a success with zero links")
	}
}

// TestResolvePerRemoteOn813 covers the 8.13-8.17 form: one request per
// remote, no ?timeout=, and a down remote reported unreachable.
func TestResolvePerRemoteOn813(t *testing.T) {
	e := newSimEnv(t, "8.13.4")
	var logs testtools.SyncBuffer
	p := e.poller(t, testUser, 2*time.Second, &logs)
	e.remote.Stop()
	f, snap := p.Poll(context.Background())
	if r := checkResult(f, CheckResolveCluster); r == nil || r.Err != nil {
		t.Fatalf("resolve_cluster check = %+v, want success", r)
	}
	if got := mustValue(t, snap, "es_remote_link_reachable", map[string]string{"remote": "remote"}); got != 0 {
		t.Errorf("reachable = %v for a stopped remote, want 0", got)
	}
}

// Test717HasNoResolve: before 8.13 the exporter does not ask, and says so by
// exporting no resolve_cluster check at all.
func Test717HasNoResolve(t *testing.T) {
	e := newSimEnv(t, "7.17.29")
	var logs testtools.SyncBuffer
	p := e.poller(t, testUser, 2*time.Second, &logs)
	f, snap := p.Poll(context.Background())
	if checkResult(f, CheckResolveCluster) != nil {
		t.Error("a 7.17 cluster was asked _resolve/cluster")
	}
	if _, ok := value(t, snap, "es_remote_link_reachable", nil); ok {
		t.Error("reachable exported for a 7.17 cluster")
	}
	if got := mustValue(t, snap, "es_remote_link_connected", map[string]string{"remote": "remote"}); got != 1 {
		t.Errorf("7.17 -> 8.19 link connected = %v, want 1 (wire compatible)", got)
	}
}

var _ prometheus.Gatherer = (*Store)(nil)
