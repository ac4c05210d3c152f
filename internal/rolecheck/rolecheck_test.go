package rolecheck

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The spec's example role bodies, verbatim
// (/work/shared/spec/remote-clusters-cert-auth.md).
const (
	specReplicationRemote = `{
  "cluster": [
    "read_ccr"
  ],
  "indices": [
    {
      "names": [
        "leader-index-name"
      ],
      "privileges": [
        "monitor",
        "read"
      ]
    }
  ]
}`
	specReplicationLocal = `{
  "cluster": [
    "manage_ccr"
  ],
  "indices": [
    {
      "names": [
        "follower-index-name"
      ],
      "privileges": [
        "monitor",
        "read",
        "write",
        "manage_follow_index"
      ]
    }
  ]
}`
	specSearchRemote = `{
  "indices": [
    {
      "names": [
        "target-indices"
      ],
      "privileges": [
        "read",
        "read_cross_cluster"
      ]
    }
  ]
}`
	specSearchLocal       = `{}`
	specKibanaSearchLocal = `{
  "indices": [
    {
      "names": [
        "logstash-*"
        ],
        "privileges": [
          "read",
          "view_index_metadata"
          ]
    }
  ]
}`
	specKibanaSearchRemote = `{
  "indices": [
    {
      "names": [
        "logstash-*"
        ],
        "privileges": [
          "read_cross_cluster",
          "read",
          "view_index_metadata"
          ]
    }
  ]
}`
)

func parse(t *testing.T, body string) *Role {
	t.Helper()
	var r Role
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("unmarshal %s: %v", body, err)
	}
	return &r
}

// role builds a role: cluster privileges and index entries.
func role(cluster []string, entries ...IndicesPrivileges) *Role {
	return &Role{Cluster: cluster, Indices: entries}
}

// ent builds one index entry.
func ent(names []string, privs ...string) IndicesPrivileges {
	return IndicesPrivileges{Names: names, Privileges: privs}
}

func cl(name string) Privilege { return Privilege{Scope: "cluster", Name: name} }
func ix(name string) Privilege { return Privilege{Scope: "indices", Name: name} }

func TestPrivilegeString(t *testing.T) {
	if got := cl("read_ccr").String(); got != "cluster:read_ccr" {
		t.Errorf("got %q", got)
	}
	if got := ix("read").String(); got != "indices:read" {
		t.Errorf("got %q", got)
	}
}

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		p                    Purpose
		s                    Side
		kibana               bool
		wantCluster, wantIdx []string
	}{
		{PurposeSearch, SideLocal, false, nil, nil},
		{PurposeSearch, SideLocal, true, nil, []string{"read", "view_index_metadata"}},
		{PurposeSearch, SideRemote, false, nil, []string{"read", "read_cross_cluster"}},
		{PurposeSearch, SideRemote, true, nil, []string{"read_cross_cluster", "read", "view_index_metadata"}},
		{PurposeReplication, SideLocal, false, []string{"manage_ccr"}, []string{"monitor", "read", "write", "manage_follow_index"}},
		{PurposeReplication, SideLocal, true, []string{"manage_ccr"}, []string{"monitor", "read", "write", "manage_follow_index"}},
		{PurposeReplication, SideRemote, false, []string{"read_ccr"}, []string{"monitor", "read"}},
		{PurposeReplication, SideRemote, true, []string{"read_ccr"}, []string{"monitor", "read"}},
		{Purpose("bogus"), SideLocal, false, nil, nil},
		{PurposeSearch, Side("bogus"), false, nil, nil},
	} {
		name := fmt.Sprintf("%s/%s/kibana=%v", tc.p, tc.s, tc.kibana)
		c, i := Required(tc.p, tc.s, tc.kibana)
		if !slices.Equal(c, tc.wantCluster) || !slices.Equal(i, tc.wantIdx) {
			t.Errorf("%s: got %v %v, want %v %v", name, c, i, tc.wantCluster, tc.wantIdx)
		}
		// Every required name must be known to the atom tables, or Check
		// would treat it as always granted (need 0).
		for _, n := range c {
			if clusterNeeds[n] == 0 {
				t.Errorf("%s: cluster need %q has no atoms", name, n)
			}
		}
		for _, n := range i {
			if indexNeeds[n] == 0 {
				t.Errorf("%s: index need %q has no atom", name, n)
			}
		}
	}
	// Callers get copies.
	c, i := Required(PurposeReplication, SideLocal, false)
	c[0], i[0] = "x", "x"
	c, i = Required(PurposeReplication, SideLocal, false)
	if c[0] != "manage_ccr" || i[0] != "monitor" {
		t.Errorf("Required returned shared slices")
	}
}

// Each privilege a named privilege is listed as granting must itself be a
// required name; each needed privilege must grant itself.
func TestTablesConsistent(t *testing.T) {
	for n, need := range clusterNeeds {
		if g := clusterGrants[n]; g&need != need {
			t.Errorf("cluster %q does not grant itself", n)
		}
	}
	for n, need := range indexNeeds {
		if g := indexGrants[n]; g&need != need {
			t.Errorf("index %q does not grant itself", n)
		}
	}
}

type checkCase struct {
	name         string
	role         *Role
	p            Purpose
	s            Side
	kibana       bool
	wantStatus   Status
	wantMissing  []Privilege
	wantIndices  []string
	wantUnjudged []string
	wantNotes    int // notes saying why a privilege counts (has_privileges on oneself)
}

func runCheck(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.role, tc.p, tc.s, tc.kibana)
			if got.Status != tc.wantStatus {
				t.Errorf("status = %q, want %q (result %+v)", got.Status, tc.wantStatus, got)
			}
			if !slices.Equal(got.Missing, tc.wantMissing) {
				t.Errorf("missing = %v, want %v", got.Missing, tc.wantMissing)
			}
			if !slices.Equal(got.Indices, tc.wantIndices) {
				t.Errorf("indices = %v, want %v", got.Indices, tc.wantIndices)
			}
			if !slices.Equal(got.Unjudged, tc.wantUnjudged) {
				t.Errorf("unjudged = %v, want %v", got.Unjudged, tc.wantUnjudged)
			}
			if len(got.Notes) != tc.wantNotes {
				t.Errorf("notes = %q, want %d", got.Notes, tc.wantNotes)
			}
			for _, n := range got.Notes {
				if !strings.Contains(n, "has_privileges") {
					t.Errorf("note %q does not say why the privilege counts", n)
				}
			}
			if (got.Status == StatusInsufficient) != (len(got.Missing) > 0) {
				t.Errorf("Missing must be non-empty exactly when insufficient: %+v", got)
			}
		})
	}
}

// TestSpecExamples: the spec's own roles are ok on their side, and every
// purpose × side × kibana combination is judged.
func TestSpecExamples(t *testing.T) {
	rr := parse(t, specReplicationRemote)
	rl := parse(t, specReplicationLocal)
	sr := parse(t, specSearchRemote)
	sl := parse(t, specSearchLocal)
	kl := parse(t, specKibanaSearchLocal)
	kr := parse(t, specKibanaSearchRemote)
	runCheck(t, []checkCase{
		{name: "replication remote", role: rr, p: PurposeReplication, s: SideRemote,
			wantStatus: StatusOK, wantIndices: []string{"leader-index-name"}},
		{name: "replication remote kibana flag ignored", role: rr, p: PurposeReplication, s: SideRemote, kibana: true,
			wantStatus: StatusOK, wantIndices: []string{"leader-index-name"}},
		{name: "replication local", role: rl, p: PurposeReplication, s: SideLocal,
			wantStatus: StatusOK, wantIndices: []string{"follower-index-name"}},
		{name: "replication local kibana flag ignored", role: rl, p: PurposeReplication, s: SideLocal, kibana: true,
			wantStatus: StatusOK, wantIndices: []string{"follower-index-name"}},
		{name: "search remote", role: sr, p: PurposeSearch, s: SideRemote,
			wantStatus: StatusOK, wantIndices: []string{"target-indices"}},
		{name: "search local empty role", role: sl, p: PurposeSearch, s: SideLocal,
			wantStatus: StatusOK},
		{name: "kibana search local", role: kl, p: PurposeSearch, s: SideLocal, kibana: true,
			wantStatus: StatusOK, wantIndices: []string{"logstash-*"}},
		{name: "kibana search remote", role: kr, p: PurposeSearch, s: SideRemote, kibana: true,
			wantStatus: StatusOK, wantIndices: []string{"logstash-*"}},
		// Cross-checks: a role written for the other side/variant.
		{name: "kibana remote role is fine for plain remote search", role: kr, p: PurposeSearch, s: SideRemote,
			wantStatus: StatusOK, wantIndices: []string{"logstash-*"}},
		{name: "plain remote search role lacks view_index_metadata for kibana", role: sr, p: PurposeSearch, s: SideRemote, kibana: true,
			wantStatus: StatusInsufficient, wantMissing: []Privilege{ix("view_index_metadata")}, wantIndices: []string{"target-indices"}},
		{name: "kibana local role on remote lacks read_cross_cluster", role: kl, p: PurposeSearch, s: SideRemote, kibana: true,
			wantStatus: StatusInsufficient, wantMissing: []Privilege{ix("read_cross_cluster")}, wantIndices: []string{"logstash-*"}},
		{name: "empty role for kibana local", role: sl, p: PurposeSearch, s: SideLocal, kibana: true,
			wantStatus: StatusInsufficient, wantMissing: []Privilege{ix("read"), ix("view_index_metadata")}},
		{name: "empty role for remote search", role: sl, p: PurposeSearch, s: SideRemote,
			wantStatus: StatusInsufficient, wantMissing: []Privilege{ix("read"), ix("read_cross_cluster")}},
		{name: "leader role used as follower", role: rr, p: PurposeReplication, s: SideLocal,
			wantStatus:  StatusInsufficient,
			wantMissing: []Privilege{cl("manage_ccr"), ix("write"), ix("manage_follow_index")},
			wantIndices: []string{"leader-index-name"}},
		{name: "follower role used as leader", role: rl, p: PurposeReplication, s: SideRemote,
			wantStatus: StatusOK, wantIndices: []string{"follower-index-name"}},
		{name: "local search role used for replication remote", role: sl, p: PurposeReplication, s: SideRemote,
			wantStatus: StatusInsufficient, wantMissing: []Privilege{cl("read_ccr"), ix("monitor"), ix("read")}},
	})
}

func TestNilRoleIsMissing(t *testing.T) {
	for _, p := range []Purpose{PurposeSearch, PurposeReplication} {
		for _, s := range []Side{SideLocal, SideRemote} {
			for _, k := range []bool{false, true} {
				got := Check(nil, p, s, k)
				if got.Status != StatusMissing || got.Missing != nil || got.Indices != nil || got.Unjudged != nil {
					t.Errorf("%s/%s/%v: got %+v", p, s, k, got)
				}
			}
		}
	}
}

// TestEachSingleMissing drops each required privilege in turn from a role
// granting exactly the requirement and expects exactly that one reported.
func TestEachSingleMissing(t *testing.T) {
	names := []string{"idx-a", "idx-b"}
	for _, p := range []Purpose{PurposeSearch, PurposeReplication} {
		for _, s := range []Side{SideLocal, SideRemote} {
			for _, k := range []bool{false, true} {
				cReq, iReq := Required(p, s, k)
				full := role(cReq, ent(names, iReq...))
				if got := Check(full, p, s, k); got.Status != StatusOK {
					t.Errorf("%s/%s/%v full role: %+v", p, s, k, got)
				}
				for i := range cReq {
					r := role(slices.Delete(slices.Clone(cReq), i, i+1), ent(names, iReq...))
					got := Check(r, p, s, k)
					want := []Privilege{cl(cReq[i])}
					if got.Status != StatusInsufficient || !slices.Equal(got.Missing, want) {
						t.Errorf("%s/%s/%v without cluster %s: %+v", p, s, k, cReq[i], got)
					}
				}
				for i := range iReq {
					r := role(cReq, ent(names, slices.Delete(slices.Clone(iReq), i, i+1)...))
					got := Check(r, p, s, k)
					want := []Privilege{ix(iReq[i])}
					if got.Status != StatusInsufficient || !slices.Equal(got.Missing, want) {
						t.Errorf("%s/%s/%v without index %s: %+v", p, s, k, iReq[i], got)
					}
					if !slices.Equal(got.Indices, names) {
						t.Errorf("%s/%s/%v indices = %v", p, s, k, got.Indices)
					}
				}
			}
		}
	}
}

// TestImplications covers `all` and the implications verified in
// Elasticsearch's ClusterPrivilegeResolver.java and IndexPrivilege.java, and
// the non-implications that are easy to get wrong.
func TestImplications(t *testing.T) {
	leader := []string{"leader"}
	follower := []string{"follower"}
	target := []string{"target"}
	runCheck(t, []checkCase{
		// all
		{name: "all/all replication local", role: role([]string{"all"}, ent(follower, "all")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusOK, wantIndices: follower},
		{name: "all/all replication remote", role: role([]string{"all"}, ent(leader, "all")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: leader},
		{name: "index all covers kibana remote search incl. read_cross_cluster", role: role(nil, ent(target, "all")),
			p: PurposeSearch, s: SideRemote, kibana: true, wantStatus: StatusOK, wantIndices: target},
		{name: "index all covers kibana local search", role: role(nil, ent(target, "all")),
			p: PurposeSearch, s: SideLocal, kibana: true, wantStatus: StatusOK, wantIndices: target},

		// cluster: manage_ccr implies read_ccr
		{name: "manage_ccr implies read_ccr", role: role([]string{"manage_ccr"}, ent(leader, "monitor", "read")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: leader},
		// cluster: read_ccr does not imply manage_ccr
		{name: "read_ccr does not imply manage_ccr", role: role([]string{"read_ccr"}, ent(follower, "monitor", "read", "write", "manage_follow_index")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{cl("manage_ccr")}, wantIndices: follower},
		// cluster: manage excludes cluster:admin/xpack/security/* (has_privileges),
		// but every user may call has_privileges about itself (RBACEngine)
		{name: "cluster manage works as read_ccr", role: role([]string{"manage"}, ent(leader, "monitor", "read")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: leader, wantNotes: 1},
		{name: "cluster manage works as manage_ccr", role: role([]string{"manage"}, ent(follower, "monitor", "read", "write", "manage_follow_index")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusOK, wantIndices: follower, wantNotes: 1},
		// cluster: unions of partial privileges
		{name: "manage + manage_security covers manage_ccr", role: role([]string{"manage", "manage_security"}, ent(follower, "monitor", "read", "write", "manage_follow_index")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusOK, wantIndices: follower},
		{name: "monitor + read_security covers read_ccr", role: role([]string{"monitor", "read_security"}, ent(leader, "monitor", "read")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: leader},
		{name: "monitor + read_security does not cover manage_ccr", role: role([]string{"monitor", "read_security"}, ent(follower, "monitor", "read", "write", "manage_follow_index")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{cl("manage_ccr")}, wantIndices: follower},
		{name: "cluster monitor works as read_ccr", role: role([]string{"monitor", "transport_client"}, ent(leader, "monitor", "read")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: leader, wantNotes: 1},
		{name: "cluster monitor does not cover manage_ccr", role: role([]string{"monitor"}, ent(follower, "monitor", "read", "write", "manage_follow_index")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{cl("manage_ccr")}, wantIndices: follower},
		{name: "manage_security alone does not cover read_ccr", role: role([]string{"manage_security"}, ent(leader, "monitor", "read")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{cl("read_ccr")}, wantIndices: leader},

		// index: manage implies monitor, view_index_metadata, manage_follow_index
		{name: "index manage implies monitor (leader)", role: role([]string{"read_ccr"}, ent(leader, "manage", "read")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: leader},
		{name: "index manage implies monitor and manage_follow_index (follower)", role: role([]string{"manage_ccr"}, ent(follower, "manage", "read", "write")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusOK, wantIndices: follower},
		{name: "index manage implies view_index_metadata (kibana local)", role: role(nil, ent(target, "read", "manage")),
			p: PurposeSearch, s: SideLocal, kibana: true, wantStatus: StatusOK, wantIndices: target},
		{name: "index manage does not imply read or write", role: role([]string{"manage_ccr"}, ent(follower, "manage")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read"), ix("write")}, wantIndices: follower},
		{name: "index manage does not imply read_cross_cluster", role: role(nil, ent(target, "read", "manage")),
			p: PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read_cross_cluster")}, wantIndices: target},
		// index: read does not imply read_cross_cluster nor view_index_metadata
		{name: "read does not imply read_cross_cluster", role: role(nil, ent(target, "read")),
			p: PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read_cross_cluster")}, wantIndices: target},
		{name: "read does not imply view_index_metadata", role: role(nil, ent(target, "read")),
			p: PurposeSearch, s: SideLocal, kibana: true, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("view_index_metadata")}, wantIndices: target},
		{name: "read_cross_cluster does not imply read", role: role(nil, ent(target, "read_cross_cluster")),
			p: PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read")}, wantIndices: target},
		// index: write is implied only by all; its parts are not enough
		{name: "index+create+delete+create_doc do not make write", role: role([]string{"manage_ccr"}, ent(follower, "monitor", "read", "manage_follow_index", "index", "create", "delete", "create_doc", "auto_configure")),
			p: PurposeReplication, s: SideLocal, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("write")}, wantIndices: follower},
		// known names that grant nothing needed are judged, not unjudged
		{name: "known irrelevant names", role: role([]string{"monitor_ml", "none"}, ent(leader, "manage_leader_index", "maintenance", "read_failure_store", "manage_failure_store", "cross_cluster_replication")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{cl("read_ccr"), ix("monitor"), ix("read")}, wantIndices: leader},
	})
}

func TestIndexGrouping(t *testing.T) {
	runCheck(t, []checkCase{
		{name: "split over two entries with different names",
			role: role([]string{"read_ccr"}, ent([]string{"a"}, "monitor"), ent([]string{"b"}, "read")),
			p:    PurposeReplication, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read")}, wantIndices: []string{"a"}},
		{name: "split over two entries with the same names",
			role: role([]string{"read_ccr"}, ent([]string{"a", "b"}, "monitor"), ent([]string{"b", "a"}, "read")),
			p:    PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"a", "b"}},
		{name: "same names with duplicates",
			role: role([]string{"read_ccr"}, ent([]string{"a", "a"}, "monitor"), ent([]string{"a"}, "read")),
			p:    PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"a"}},
		{name: "star entry contributes to every group",
			role: role([]string{"read_ccr"}, ent([]string{"leader"}, "read"), ent([]string{"*"}, "monitor")),
			p:    PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"leader"}},
		{name: "star among other names contributes too",
			role: role(nil, ent([]string{"logs-*"}, "read"), ent([]string{"metrics", "*"}, "read_cross_cluster")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"logs-*"}},
		{name: "star alone can satisfy everything",
			role: role(nil, ent([]string{"*"}, "read", "read_cross_cluster")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"*"}},
		{name: "superset entry contributes to the subset group",
			role: role(nil, ent([]string{"a"}, "read"), ent([]string{"a", "b"}, "read_cross_cluster")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"a"}},
		{name: "subset entry does not contribute to the superset group",
			role: role(nil, ent([]string{"a", "b"}, "read"), ent([]string{"a"}, "monitor")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read_cross_cluster")}, wantIndices: []string{"a", "b"}},
		{name: "group with fewest missing wins",
			role: role([]string{"manage_ccr"}, ent([]string{"x"}, "read"), ent([]string{"y"}, "read", "write", "monitor")),
			p:    PurposeReplication, s: SideLocal, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("manage_follow_index")}, wantIndices: []string{"y"}},
		{name: "tie goes to the first group in role order",
			role: role([]string{"read_ccr"}, ent([]string{"x"}, "read"), ent([]string{"y"}, "monitor")),
			p:    PurposeReplication, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("monitor")}, wantIndices: []string{"x"}},
		{name: "index names are case-sensitive",
			role: role(nil, ent([]string{"Logs"}, "read"), ent([]string{"logs"}, "read_cross_cluster")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read_cross_cluster")}, wantIndices: []string{"Logs"}},
		{name: "entry without names grants nothing",
			role: role(nil, ent(nil, "read", "read_cross_cluster")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read"), ix("read_cross_cluster")}},
		{name: "no indices needed leaves Indices empty",
			role: role(nil, ent([]string{"a"}, "read")),
			p:    PurposeSearch, s: SideLocal, wantStatus: StatusOK},
	})
}

func TestUnjudged(t *testing.T) {
	runCheck(t, []checkCase{
		{name: "index action pattern",
			role: role(nil, ent([]string{"t"}, "indices:data/read/*", "read_cross_cluster")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read")}, wantIndices: []string{"t"},
			wantUnjudged: []string{"indices:data/read/*"}},
		{name: "cluster action pattern and unknown names, deduplicated, cluster first",
			role: role([]string{"cluster:admin/xpack/ccr/*", "read_ccr_typo"},
				ent([]string{"a"}, "internal:transport/proxy/indices:data/read/*", "bogus"),
				ent([]string{"b"}, "bogus", "monitor", "read")),
			p: PurposeReplication, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing:  []Privilege{cl("read_ccr")},
			wantIndices:  []string{"b"},
			wantUnjudged: []string{"cluster:admin/xpack/ccr/*", "read_ccr_typo", "internal:transport/proxy/indices:data/read/*", "bogus"}},
		{name: "unjudged reported even when ok",
			role: role([]string{"cluster:monitor/*"}, ent([]string{"t"}, "read", "read_cross_cluster")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"t"},
			wantUnjudged: []string{"cluster:monitor/*"}},
	})
}

// Elasticsearch lower-cases privilege names before resolving them
// (ClusterPrivilegeResolver.resolve, IndexPrivilege.resolve), so upper- and
// mixed-case names count.
func TestCaseInsensitivePrivilegeNames(t *testing.T) {
	runCheck(t, []checkCase{
		{name: "replication local upper case",
			role: role([]string{"MANAGE_CCR"}, ent([]string{"f"}, "Monitor", "READ", "Write", "Manage_Follow_Index")),
			p:    PurposeReplication, s: SideLocal, wantStatus: StatusOK, wantIndices: []string{"f"}},
		{name: "All in mixed case",
			role: role([]string{"All"}, ent([]string{"l"}, "ALL")),
			p:    PurposeReplication, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"l"}},
		{name: "search remote mixed case",
			role: role(nil, ent([]string{"t"}, "Read", "READ_CROSS_CLUSTER")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusOK, wantIndices: []string{"t"}},
		{name: "upper-case action pattern still unjudged, as written",
			role: role(nil, ent([]string{"t"}, "read", "INDICES:DATA/READ/*")),
			p:    PurposeSearch, s: SideRemote, wantStatus: StatusInsufficient,
			wantMissing: []Privilege{ix("read_cross_cluster")}, wantIndices: []string{"t"},
			wantUnjudged: []string{"INDICES:DATA/READ/*"}},
	})
}

func TestKibanaVariant(t *testing.T) {
	for _, tc := range []struct {
		name string
		role Role
		want bool
	}{
		{"spec kibana local", *parse(t, specKibanaSearchLocal), true},
		{"spec plain local", *parse(t, specSearchLocal), false},
		{"spec remote search", *parse(t, specSearchRemote), false},
		{"view_index_metadata on a later entry", Role{Indices: []IndicesPrivileges{
			ent([]string{"a"}, "read"), ent([]string{"r:logs-*"}, "view_index_metadata")}}, true},
		{"upper case", Role{Indices: []IndicesPrivileges{ent([]string{"a"}, "VIEW_INDEX_METADATA")}}, true},
		{"implied by index manage", Role{Indices: []IndicesPrivileges{ent([]string{"a"}, "manage")}}, true},
		{"implied by index all", Role{Indices: []IndicesPrivileges{ent([]string{"a"}, "all")}}, true},
		{"read alone is not", Role{Indices: []IndicesPrivileges{ent([]string{"a"}, "read", "monitor")}}, false},
		{"cluster manage is not", Role{Cluster: []string{"manage", "all"}}, false},
		{"action pattern is not judged", Role{Indices: []IndicesPrivileges{ent([]string{"a"}, "indices:admin/mappings/get")}}, false},
		{"entry without names", Role{Indices: []IndicesPrivileges{ent(nil, "view_index_metadata")}}, false},
	} {
		if got := KibanaVariant(tc.role); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFromGetRoleResponse decodes a GET /_security/role/<name> body (keyed by
// role name, with fields the check ignores) into Role.
func TestFromGetRoleResponse(t *testing.T) {
	body := `{"remote-replication":{"cluster":["read_ccr"],"indices":[{"names":["leader-index-name"],"privileges":["monitor","read"],"allow_restricted_indices":false}],"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}}`
	var resp map[string]Role
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	r, ok := resp["remote-replication"]
	if !ok {
		t.Fatal("role not decoded")
	}
	if got := Check(&r, PurposeReplication, SideRemote, false); got.Status != StatusOK {
		t.Errorf("got %+v", got)
	}
}
