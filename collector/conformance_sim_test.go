package collector

import (
	"slices"
	"strings"
	"testing"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/rolecheck"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
)

// linkSettingsEnv: eu (8.19, three nodes; es03 is a data node without the
// remote_cluster_client role) with links to us defined dynamically, in
// elasticsearch.yml of some nodes, and both ways at once.
func linkSettingsEnv(t *testing.T) *fleetEnv {
	t.Helper()
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "eu", Version: "8.19.7", Nodes: []simulator.NodeSpec{
			{Name: "es01"}, {Name: "es02"}, {Name: "es03", Roles: []string{"data", "ingest"}}}},
		simulator.ClusterSpec{Name: "us", Version: "8.19.7", Nodes: twoNodes("")})
	eu := e.sim.Cluster("eu")
	seeds := e.sim.Cluster("us").TransportAddresses()
	no, yes := false, true
	for _, l := range []simulator.LinkSpec{
		{Alias: "dyn", Remote: "us"},
		// Only es02 has it: requests coordinated by es01 fail.
		{Alias: "half", Remote: "us", Static: true, StaticNodes: []string{"es02"}},
		// es01 and es02 seed from different nodes.
		{Alias: "split", Remote: "us", Static: true, StaticNodes: []string{"es01"}, Seeds: seeds[:1]},
		{Alias: "split", Remote: "us", Static: true, StaticNodes: []string{"es02"}, Seeds: seeds[1:]},
		// elasticsearch.yml says skip_unavailable false, the cluster
		// setting true (and wins).
		{Alias: "both", Remote: "us", Static: true, StaticNodes: []string{"es01", "es02"}, SkipUnavailable: &no, PingSchedule: "30s"},
		{Alias: "both", Remote: "us", SkipUnavailable: &yes, PingSchedule: "30s"},
	} {
		if err := eu.AddLink(l); err != nil {
			t.Fatal(err)
		}
	}
	e.watch("eu", nil)
	return e
}

func TestLinkSettings(t *testing.T) {
	e := linkSettingsEnv(t)
	f, snap := e.poll("eu")
	if c := checkResult(f, CheckClusterSettings); c == nil || c.Err != nil {
		t.Fatalf("cluster_settings check: %+v", c)
	}
	byAlias := map[string]LinkSettings{}
	for _, ls := range f.LinkSettings {
		byAlias[ls.Alias] = ls
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for a := range byAlias {
			if !yield(a) {
				return
			}
		}
	}); !slices.Equal(got, []string{"both", "dyn", "half", "split"}) {
		t.Fatalf("aliases %v", got)
	}
	tests := []struct {
		alias, source     string
		nodes, missingOn  []string
		conflicts         []string // setting/kind
		conflictRendering string   // of the first conflict
	}{
		{alias: "dyn", source: SourceDynamic, nodes: []string{"es01", "es02"}},
		{alias: "half", source: SourceStatic, nodes: []string{"es02"}, missingOn: []string{"es01"}},
		{alias: "split", source: SourceStatic, nodes: []string{"es01", "es02"}, conflicts: []string{"seeds/between_nodes"}},
		{alias: "both", source: SourceBoth, nodes: []string{"es01", "es02"}, conflicts: []string{"skip_unavailable/static_vs_dynamic"},
			conflictRendering: "dynamic true; elasticsearch.yml of es01,es02 false"},
	}
	for _, tt := range tests {
		ls := byAlias[tt.alias]
		if ls.Source != tt.source || ls.Defined != len(tt.nodes) || !slices.Equal(ls.MissingOn, tt.missingOn) || ls.Eligible != 2 {
			t.Errorf("%s: source %s defined on %d, missing %v, eligible %d; want %s %v %v 2", tt.alias, ls.Source, ls.Defined, ls.MissingOn, ls.Eligible,
				tt.source, tt.nodes, tt.missingOn)
		}
		var conflicts []string
		for _, c := range ls.Conflicts {
			conflicts = append(conflicts, c.Setting+"/"+c.Kind)
		}
		if !slices.Equal(conflicts, tt.conflicts) {
			t.Errorf("%s: conflicts %v, want %v", tt.alias, conflicts, tt.conflicts)
		}
		if tt.conflictRendering != "" && ls.Conflicts[0].String() != tt.conflictRendering {
			t.Errorf("%s: conflict reads %q, want %q", tt.alias, ls.Conflicts[0].String(), tt.conflictRendering)
		}
		if got := mustValue(t, snap, "es_remote_link_settings_nodes", map[string]string{"remote": tt.alias, "source": tt.source}); got != float64(len(tt.nodes)) {
			t.Errorf("%s: settings_nodes %v", tt.alias, got)
		}
	}
	if got := mustValue(t, snap, "es_remote_cluster_remote_client_nodes", nil); got != 2 {
		t.Errorf("remote_client_nodes %v, want 2 (es03 has no remote_cluster_client role)", got)
	}
	if v, ok := value(t, snap, "es_remote_link_setting_conflict", map[string]string{"remote": "split", "setting": "seeds", "kind": "between_nodes"}); !ok || v != 1 {
		t.Errorf("split seeds conflict series %v %v", v, ok)
	}
	if _, ok := value(t, snap, "es_remote_link_setting_conflict", map[string]string{"remote": "dyn"}); ok {
		t.Error("a consistent link has a conflict series")
	}
	// The answering node (es01) does not know "half": _remote/info alone
	// would not show that it exists elsewhere.
	if slices.ContainsFunc(f.Links, func(l RemoteLink) bool { return l.Alias == "half" }) {
		t.Error("_remote/info of es01 lists half")
	}

	// Defining it dynamically fixes it everywhere.
	if err := e.sim.Cluster("eu").AddLink(simulator.LinkSpec{Alias: "half", Remote: "us"}); err != nil {
		t.Fatal(err)
	}
	e.pollers["eu"].makeSlowChecksDue()
	f, _ = e.poll("eu")
	i := slices.IndexFunc(f.LinkSettings, func(ls LinkSettings) bool { return ls.Alias == "half" })
	if i < 0 {
		t.Fatalf("half not judged after a dynamic definition: %+v", f.LinkSettings)
	}
	if ls := f.LinkSettings[i]; ls.Source != SourceBoth || len(ls.MissingOn) != 0 {
		t.Errorf("half after a dynamic definition: %+v", ls)
	}
}

// rolesEnv: eu links to us with search and replication roles; us's
// remote-search lacks read_cross_cluster, remote-replication exists on eu
// only.
func rolesEnv(t *testing.T, euUser string) *fleetEnv {
	t.Helper()
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "eu", Version: "8.19.7", Roles: map[string]simulator.RoleSpec{
			"remote-search": {},
			"remote-replication": {Cluster: []string{"manage_ccr"}, Indices: []simulator.IndicesPrivileges{
				{Names: []string{"follower-*"}, Privileges: []string{"monitor", "read", "write", "manage_follow_index"}}}},
		}},
		simulator.ClusterSpec{Name: "us", Version: "9.1.5", Roles: map[string]simulator.RoleSpec{
			"remote-search": {Indices: []simulator.IndicesPrivileges{{Names: []string{"logs-*"}, Privileges: []string{"read"}}}},
		}})
	if err := e.sim.Cluster("eu").AddLink(simulator.LinkSpec{Alias: "us", Remote: "us"}); err != nil {
		t.Fatal(err)
	}
	roles := config.LinkRoles{Search: []string{"remote-search"}, Replication: []string{"remote-replication"}}
	cfg := config.Config{Clusters: []config.Cluster{
		{Name: "eu", Links: map[string]config.Link{"us": {Cluster: "us", Roles: roles}}},
		{Name: "us"},
	}}
	e.watchAs(euUser, "eu", cfg.Clusters[0].Links, cfg.RoleNames("eu"))
	e.watchAs(testUser, "us", nil, cfg.RoleNames("us"))
	return e
}

func roleLabels(role, purpose, side, status string) map[string]string {
	return map[string]string{"remote": "us", "role": role, "purpose": purpose, "side": side, "status": status}
}

func TestRolesJudgedOnBothSides(t *testing.T) {
	e := rolesEnv(t, testUser)

	// eu first: us has not been polled, so its side is unknown and the
	// next poll judges again instead of waiting a probe interval.
	f, snap := e.poll("eu")
	if !f.Pending {
		t.Error("facts not pending while the remote's roles are unknown")
	}
	if got := mustValue(t, snap, "es_remote_link_role_status", roleLabels("remote-search", "search", "remote", "unknown")); got != 1 {
		t.Errorf("remote side before us was polled: unknown=%v", got)
	}
	e.poll("us")
	f, snap = e.poll("eu")
	if f.Pending {
		t.Error("still pending after us was polled")
	}
	want := map[string]string{ // role/purpose/side -> status
		"remote-search/search/local":            "ok", // may be empty on the local side
		"remote-search/search/remote":           "insufficient",
		"remote-replication/replication/local":  "ok",
		"remote-replication/replication/remote": "missing",
	}
	for _, rf := range f.RoleFindings {
		key := rf.Role + "/" + string(rf.Purpose) + "/" + string(rf.Side)
		if want[key] != rf.Status {
			t.Errorf("%s: %s, want %s", key, rf.Status, want[key])
		}
		delete(want, key)
		for _, st := range RoleStatuses {
			if got := mustValue(t, snap, "es_remote_link_role_status", roleLabels(rf.Role, string(rf.Purpose), string(rf.Side), st)); got != boolFloat(st == rf.Status) {
				t.Errorf("%s status=%s series %v", key, st, got)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("not judged: %v", want)
	}
	l := roleLabels("remote-search", "search", "remote", "")
	delete(l, "status")
	l["privilege"] = "indices:read_cross_cluster"
	if got := mustValue(t, snap, "es_remote_link_role_missing_privilege", l); got != 1 {
		t.Errorf("missing privilege series %v", got)
	}

	// Fixing the role on us shows at the next round.
	if err := e.sim.Cluster("us").SetRole("remote-search", simulator.RoleSpec{Indices: []simulator.IndicesPrivileges{
		{Names: []string{"logs-*"}, Privileges: []string{"read", "read_cross_cluster"}}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"us", "eu"} {
		e.pollers[n].makeSlowChecksDue()
	}
	e.poll("us")
	f, _ = e.poll("eu")
	i := slices.IndexFunc(f.RoleFindings, func(rf RoleFinding) bool {
		return rf.Role == "remote-search" && rf.Side == rolecheck.SideRemote
	})
	if i < 0 {
		t.Fatalf("remote-search's remote side not judged after the fix: %+v", f.RoleFindings)
	}
	if rf := f.RoleFindings[i]; rf.Status != "ok" {
		t.Errorf("after the fix: %s %+v", rf.Status, rf.Result)
	}
}

func TestRolesForbidden(t *testing.T) {
	e := rolesEnv(t, noSecurityUser)
	e.poll("us")
	f, snap := e.poll("eu")
	c := checkResult(f, CheckRoles)
	if c == nil || c.Err == nil || c.Err.Reason != ReasonForbidden || !strings.Contains(c.Err.Hint, "read_security") {
		t.Fatalf("roles check without read_security: %+v", c)
	}
	if len(f.RoleFindings) != 4 { // two roles, two sides
		t.Fatalf("findings %+v, want 4", f.RoleFindings)
	}
	for _, rf := range f.RoleFindings {
		if rf.Side == rolecheck.SideLocal && (rf.Status != RoleUnknown || !strings.Contains(rf.Why, "403")) {
			t.Errorf("local side without read_security: %s %q", rf.Status, rf.Why)
		}
		if rf.Side == rolecheck.SideRemote && rf.Status == RoleUnknown {
			t.Errorf("remote side (readable) unknown: %q", rf.Why)
		}
	}
	if got := mustValue(t, snap, "es_remote_exporter_check_success", map[string]string{"check": CheckRoles}); got != 0 {
		t.Errorf("roles check_success %v", got)
	}
}

func TestRolesNoneExist(t *testing.T) {
	// GET /_security/role/a,b answers 404 {} when none exists: every role
	// is missing, and the check itself succeeded.
	e := newFleetEnv(t, simulator.ClusterSpec{Name: "eu", Version: "8.19.7"}, simulator.ClusterSpec{Name: "us", Version: "8.19.7"})
	links := map[string]config.Link{"us": {Cluster: "us", Roles: config.LinkRoles{Search: []string{"a", "b"}}}}
	e.watchAs(testUser, "eu", links, []string{"a", "b"})
	e.watchAs(testUser, "us", nil, []string{"a", "b"})
	e.poll("us")
	f, _ := e.poll("eu")
	if c := checkResult(f, CheckRoles); c == nil || c.Err != nil {
		t.Fatalf("roles check on 404: %+v", c)
	}
	if len(f.RoleFindings) != 4 {
		t.Fatalf("findings %+v", f.RoleFindings)
	}
	for _, rf := range f.RoleFindings {
		if rf.Status != string(rolecheck.StatusMissing) {
			t.Errorf("%s %s: %s", rf.Role, rf.Side, rf.Status)
		}
	}
}

// makeSlowChecksDue moves the poller's last slow listing and probe round a
// day back, so the next poll runs both.
func (p *Poller) makeSlowChecksDue() {
	p.lastListing = p.lastListing.AddDate(0, 0, -1)
	p.lastRound = p.lastRound.AddDate(0, 0, -1)
}

// TestLegacySearchRemoteSettings: 7.x still honours search.remote.<alias>.*
// from elasticsearch.yml as fallbacks of cluster.remote.<alias>.*; the link
// is a static definition like any other, and flagged, since 8.0 removed
// those names and the link disappears on upgrade.
func TestLegacySearchRemoteSettings(t *testing.T) {
	no := false
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "berlin", Version: "7.17.29", Nodes: twoNodes("7.17.29")},
		simulator.ClusterSpec{Name: "paris", Version: "8.19.7"})
	berlin := e.sim.Cluster("berlin")
	if err := berlin.AddLink(simulator.LinkSpec{Alias: "paris", Remote: "paris", Static: true, StaticNodes: []string{"n2"},
		LegacySearchRemote: true, SkipUnavailable: &no}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Cluster("paris").AddLink(simulator.LinkSpec{Alias: "x", Remote: "berlin", Static: true, LegacySearchRemote: true}); err == nil {
		t.Error("the simulator accepts search.remote.* on an 8.x cluster; 8.0 removed them")
	}
	e.watch("berlin", nil)
	f, snap := e.poll("berlin")
	var ls *LinkSettings
	for i := range f.LinkSettings {
		if f.LinkSettings[i].Alias == "paris" {
			ls = &f.LinkSettings[i]
		}
	}
	if ls == nil {
		t.Fatalf("a link defined by search.remote.paris.seeds is not seen: %+v", f.LinkSettings)
	}
	if ls.Source != SourceStatic || ls.Defined != 1 || !slices.Equal(ls.MissingOn, []string{"n1"}) {
		t.Errorf("legacy link: source %s defined %d missing %v; want static, 1, [n1]", ls.Source, ls.Defined, ls.MissingOn)
	}
	for _, setting := range []string{"seeds", "skip_unavailable"} {
		if got := mustValue(t, snap, "es_remote_link_deprecated_setting_nodes", map[string]string{"remote": "paris", "setting": setting}); got != 1 {
			t.Errorf("deprecated_setting_nodes{setting=%q} = %v, want 1 (n2)", setting, got)
		}
	}
	mustValue(t, snap, "es_remote_link_settings_nodes", map[string]string{"remote": "paris", "source": SourceStatic})
}
