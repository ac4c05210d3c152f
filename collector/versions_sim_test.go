package collector

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
)

// fleetEnv is a Sim whose clusters are polled by pollers sharing one Fleet,
// as the scheduler runs them.
type fleetEnv struct {
	t       *testing.T
	sim     *simulator.Sim
	caFile  string
	fleet   *Fleet
	pollers map[string]*Poller
}

func newFleetEnv(t *testing.T, specs ...simulator.ClusterSpec) *fleetEnv {
	t.Helper()
	sim, err := simulator.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	users := map[string]simulator.User{
		testUser: {Password: testPassword, Roles: []string{"monitoring"},
			ClusterPrivileges: []string{"monitor", "read_security"}, IndexPrivileges: []string{"view_index_metadata"}},
		noSecurityUser: {Password: testPassword, Roles: []string{"monitoring"},
			ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"view_index_metadata"}},
	}
	for _, spec := range specs {
		spec.Users = users
		if _, err := sim.AddCluster(spec); err != nil {
			t.Fatal(err)
		}
	}
	caFile, err := sim.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &fleetEnv{t: t, sim: sim, caFile: caFile, fleet: NewFleet(), pollers: map[string]*Poller{}}
}

// noSecurityUser may monitor but not read roles (no read_security).
const noSecurityUser = "no_security"

// watch starts polling a simulated cluster, with optional link settings.
func (e *fleetEnv) watch(name string, links map[string]config.Link) {
	e.t.Helper()
	e.watchAs(testUser, name, links, nil)
}

// watchAs is watch as the given user, reading the given roles.
func (e *fleetEnv) watchAs(user, name string, links map[string]config.Link, roleNames []string) {
	e.t.Helper()
	p, err := NewPoller(config.Cluster{
		Name: name, URLs: []string{e.sim.Cluster(name).URL()}, Username: user, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}, Links: links,
	}, PollerOptions{Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fixedNow },
		Fleet: e.fleet, RoleNames: roleNames})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(p.Close)
	e.pollers[name] = p
}

// poll polls the named clusters in order and returns the last snapshot.
func (e *fleetEnv) poll(names ...string) (*Facts, *Snapshot) {
	var f *Facts
	var s *Snapshot
	for _, n := range names {
		f, s = e.pollers[n].Poll(context.Background())
	}
	return f, s
}

func twoNodes(version string) []simulator.NodeSpec {
	return []simulator.NodeSpec{{Name: "n1", Version: version}, {Name: "n2", Version: version}}
}

func compatLabels(remote, rule, verdict, local, remoteVersion string) map[string]string {
	return map[string]string{"remote": remote, "rule": rule, "verdict": verdict, "local_version": local, "remote_version": remoteVersion}
}

// osloLinkedToTokyo watches oslo (8.18, two nodes) with a link to tokyo
// (9.0, nodes t1 to t3), both monitored.
func osloLinkedToTokyo(t *testing.T) *fleetEnv {
	t.Helper()
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "oslo", Version: "8.18.8", Nodes: twoNodes("8.18.8")},
		simulator.ClusterSpec{Name: "tokyo", Version: "9.0.4", Nodes: []simulator.NodeSpec{{Name: "t1"}, {Name: "t2"}, {Name: "t3"}}})
	if err := e.sim.Cluster("oslo").AddLink(simulator.LinkSpec{Alias: "tokyo", Remote: "tokyo"}); err != nil {
		t.Fatal(err)
	}
	e.watch("oslo", nil)
	e.watch("tokyo", nil)
	return e
}

// TestRollingUpgradeTurnsLinkIncompatible walks a remote from 9.0 to 9.1
// under an 8.18 local cluster: half way the link becomes unsupported and
// wire-incompatible (9.1 needs 8.19), judged on its worst node pair; when
// the local side moves to 8.19 it is fine again.
func TestRollingUpgradeTurnsLinkIncompatible(t *testing.T) {
	e := osloLinkedToTokyo(t)

	_, snap := e.poll("tokyo", "oslo")
	if v := mustValue(t, snap, "es_remote_link_target_info", map[string]string{"remote": "tokyo", "target": "tokyo", "match": MatchTransportAddress}); v != 1 {
		t.Fatal("link not matched to the monitored cluster by its seeds")
	}
	for _, rule := range []string{"supported", "wire"} {
		mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("tokyo", rule, "compatible", "8.18.8", "9.0.4"))
	}

	cluster := e.sim.Cluster("tokyo")
	if err := cluster.SetNodeVersion("t2", "9.1.0"); err != nil {
		t.Fatal(err)
	}
	_, tokyoSnap := e.poll("tokyo")
	if _, ok := value(t, tokyoSnap, "es_remote_cluster_mixed_versions_since_timestamp_seconds", nil); !ok {
		t.Error("a cluster on 9.0.4 and 9.1.0 is not reported as mixed")
	}
	if got := mustValue(t, tokyoSnap, "es_remote_cluster_nodes", map[string]string{"version": "9.0.4"}); got != 2 {
		t.Errorf("nodes on 9.0.4 = %v, want 2", got)
	}
	_, snap = e.poll("oslo")
	for _, rule := range []string{"supported", "wire"} {
		mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("tokyo", rule, "incompatible", "8.18.8", "9.1.0"))
	}
	mustValue(t, snap, "es_remote_link_remote_version_info", map[string]string{"remote": "tokyo", "version": "9.0.4", "source": SourceNodes})
	mustValue(t, snap, "es_remote_link_remote_version_info", map[string]string{"remote": "tokyo", "version": "9.1.0", "source": SourceNodes})

	for _, n := range []string{"t1", "t3"} {
		if err := cluster.SetNodeVersion(n, "9.1.0"); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"n1", "n2"} {
		if err := e.sim.Cluster("oslo").SetNodeVersion(n, "8.19.7"); err != nil {
			t.Fatal(err)
		}
	}
	_, tokyoSnap = e.poll("tokyo")
	if _, ok := value(t, tokyoSnap, "es_remote_cluster_mixed_versions_since_timestamp_seconds", nil); ok {
		t.Error("still mixed after every node runs 9.1.0")
	}
	_, snap = e.poll("oslo")
	for _, rule := range []string{"supported", "wire"} {
		mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("tokyo", rule, "compatible", "8.19.7", "9.1.0"))
	}
}

// Test717LocalJudgedFromMonitoredRemote: a 7.17 cluster has no
// _resolve/cluster, so only the monitored remote's own node list tells its
// version; without it the verdict stays unknown (never incompatible).
func Test717LocalJudgedFromMonitoredRemote(t *testing.T) {
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "berlin", Version: "7.17.29"},
		simulator.ClusterSpec{Name: "paris", Version: "8.19.7", Nodes: twoNodes("8.19.7")})
	if err := e.sim.Cluster("berlin").AddLink(simulator.LinkSpec{Alias: "paris", Remote: "paris"}); err != nil {
		t.Fatal(err)
	}
	e.watch("berlin", nil)
	_, snap := e.poll("berlin")
	mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("paris", "supported", "unknown", "", ""))

	e.watch("paris", nil)
	_, snap = e.poll("paris", "berlin")
	mustValue(t, snap, "es_remote_link_remote_version_info", map[string]string{"remote": "paris", "version": "8.19.7", "source": SourceNodes})
	for _, rule := range []string{"supported", "wire"} {
		mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("paris", rule, "compatible", "7.17.29", "8.19.7"))
	}
}

// TestLinkMappedByConfig: clusters[].links.<alias>.cluster names the remote
// even when its seeds name no monitored node (e.g. a load balancer).
func TestLinkMappedByConfig(t *testing.T) {
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "paris", Version: "8.19.7"},
		simulator.ClusterSpec{Name: "tokyo", Version: "9.1.5"})
	if err := e.sim.Cluster("paris").AddLink(simulator.LinkSpec{Alias: "far", Remote: "tokyo", Mode: "proxy", ProxyAddress: "lb.example.com:9443"}); err != nil {
		t.Fatal(err)
	}
	e.watch("paris", map[string]config.Link{"far": {Cluster: "tokyo"}})
	e.watch("tokyo", nil)
	_, snap := e.poll("tokyo", "paris")
	mustValue(t, snap, "es_remote_link_target_info", map[string]string{"remote": "far", "target": "tokyo", "match": MatchConfig})
	mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("far", "supported", "compatible", "8.19.7", "9.1.5"))
}

// TestCensusThatMissedNodes: a node that fails to answer GET /_nodes is
// counted (es_remote_cluster_nodes_failed) and, since it may run any
// version, no link is judged compatible on that census; a pair already
// known to be incompatible stays incompatible.
func TestCensusThatMissedNodes(t *testing.T) {
	e := osloLinkedToTokyo(t)
	_, snap := e.poll("tokyo", "oslo")
	if got := mustValue(t, snap, "es_remote_cluster_nodes_failed", nil); got != 0 {
		t.Errorf("nodes_failed = %v with every node answering, want 0", got)
	}
	mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("tokyo", "supported", "compatible", "8.18.8", "9.0.4"))

	// A remote node stops answering: the remote's census is partial.
	if err := e.sim.Cluster("tokyo").SetNodeUnresponsive("t3", true); err != nil {
		t.Fatal(err)
	}
	f, tokyoSnap := e.poll("tokyo")
	if got := mustValue(t, tokyoSnap, "es_remote_cluster_nodes_failed", nil); got != 1 || f.NodesFailed != 1 || len(f.Nodes) != 2 {
		t.Errorf("nodes_failed = %v (facts %d, %d nodes listed), want 1 and 2 listed", got, f.NodesFailed, len(f.Nodes))
	}
	_, snap = e.poll("oslo")
	for _, rule := range []string{"supported", "wire"} {
		mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("tokyo", rule, "unknown", "8.18.8", "9.0.4"))
	}

	// A known incompatible pair stays incompatible on a partial census.
	if err := e.sim.Cluster("tokyo").SetNodeVersion("t2", "9.1.0"); err != nil {
		t.Fatal(err)
	}
	e.poll("tokyo")
	_, snap = e.poll("oslo")
	mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("tokyo", "wire", "incompatible", "8.18.8", "9.1.0"))

	// The node answers again: judged as before.
	if err := e.sim.Cluster("tokyo").SetNodeUnresponsive("t3", false); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Cluster("tokyo").SetNodeVersion("t2", "9.0.4"); err != nil {
		t.Fatal(err)
	}
	_, tokyoSnap = e.poll("tokyo")
	if got := mustValue(t, tokyoSnap, "es_remote_cluster_nodes_failed", nil); got != 0 {
		t.Errorf("nodes_failed = %v after the node answers again, want 0", got)
	}
	_, snap = e.poll("oslo")
	mustValue(t, snap, "es_remote_link_compatibility_info", compatLabels("tokyo", "supported", "compatible", "8.18.8", "9.0.4"))
}

// TestAnalysesFollowTheFleet: a poll whose inputs did not change reuses the
// last poll's link analyses, and a change on the remote side alone (a remote
// node upgraded, seen through the fleet) is judged in the next poll.
func TestAnalysesFollowTheFleet(t *testing.T) {
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "oslo", Version: "8.19.7", Nodes: twoNodes("8.19.7")},
		simulator.ClusterSpec{Name: "tokyo", Version: "9.1.5", Nodes: []simulator.NodeSpec{{Name: "t1"}, {Name: "t2"}}})
	if err := e.sim.Cluster("oslo").AddLink(simulator.LinkSpec{Alias: "tokyo", Remote: "tokyo"}); err != nil {
		t.Fatal(err)
	}
	e.watch("oslo", map[string]config.Link{"tokyo": {Cluster: "tokyo"}})
	e.watch("tokyo", nil)
	e.poll("tokyo", "oslo")
	first, _ := e.poll("oslo")
	second, _ := e.poll("oslo")
	if len(first.Analyses) != 1 || len(second.Analyses) != 1 || &first.Analyses[0] != &second.Analyses[0] {
		t.Fatalf("a poll with the same inputs judged its links again (%d, %d analyses)", len(first.Analyses), len(second.Analyses))
	}
	if err := e.sim.Cluster("tokyo").SetNodeVersion("t2", "9.2.0"); err != nil {
		t.Fatal(err)
	}
	e.poll("tokyo")
	f, snap := e.poll("oslo")
	if got := versionList(f.Analyses[0].RemoteVersions); got != "9.1.5,9.2.0" {
		t.Errorf("remote versions after the upgrade: %s, want 9.1.5,9.2.0", got)
	}
	mustValue(t, snap, "es_remote_link_remote_version_info", map[string]string{"remote": "tokyo", "version": "9.2.0", "source": SourceNodes})
}
