package rolecheck

import (
	"slices"
	"testing"
)

func TestCheckAPIKeyLocal(t *testing.T) {
	ri := func(clusters []string, privs ...string) RemoteIndicesPrivileges {
		return RemoteIndicesPrivileges{Clusters: clusters, Names: []string{"logs-*"}, Privileges: privs}
	}
	for _, tc := range []struct {
		name    string
		role    *Role
		p       Purpose
		status  Status
		missing []Privilege
	}{
		{"no role", nil, PurposeSearch, StatusMissing, nil},
		{"search granted for the alias", &Role{RemoteIndices: []RemoteIndicesPrivileges{ri([]string{"tokyo"}, "read", "read_cross_cluster")}},
			PurposeSearch, StatusOK, nil},
		{"a cluster pattern matches", &Role{RemoteIndices: []RemoteIndicesPrivileges{ri([]string{"tok*"}, "read", "read_cross_cluster")}},
			PurposeSearch, StatusOK, nil},
		{"another cluster's entry does not count", &Role{RemoteIndices: []RemoteIndicesPrivileges{ri([]string{"paris"}, "read", "read_cross_cluster")}},
			PurposeSearch, StatusInsufficient, []Privilege{{"remote_indices", "read"}, {"remote_indices", "read_cross_cluster"}}},
		{"plain indices privileges are the certificate model's", &Role{Indices: []IndicesPrivileges{{Names: []string{"*"}, Privileges: []string{"read", "read_cross_cluster"}}}},
			PurposeSearch, StatusInsufficient, []Privilege{{"remote_indices", "read"}, {"remote_indices", "read_cross_cluster"}}},
		{"replication needs the follower side too", &Role{RemoteIndices: []RemoteIndicesPrivileges{ri([]string{"tokyo"}, "cross_cluster_replication", "cross_cluster_replication_internal")}},
			PurposeReplication, StatusInsufficient, []Privilege{{"cluster", "manage_ccr"}, {"indices", "monitor"}, {"indices", "read"}, {"indices", "write"}, {"indices", "manage_follow_index"}}},
		{"replication complete", &Role{Cluster: []string{"manage_ccr"},
			Indices:       []IndicesPrivileges{{Names: []string{"follower-*"}, Privileges: []string{"monitor", "read", "write", "manage_follow_index"}}},
			RemoteIndices: []RemoteIndicesPrivileges{ri([]string{"tokyo"}, "cross_cluster_replication", "cross_cluster_replication_internal")}},
			PurposeReplication, StatusOK, nil},
	} {
		got := CheckAPIKeyLocal(tc.role, tc.p, "tokyo")
		if got.Status != tc.status || !slices.Equal(got.Missing, tc.missing) {
			t.Errorf("%s: %s %v, want %s %v", tc.name, got.Status, got.Missing, tc.status, tc.missing)
		}
	}
}

func TestCheckAPIKeyRemote(t *testing.T) {
	access := KeyAccess{Search: [][]string{{"logs-*"}}}
	if r := CheckAPIKeyRemote(access, true, PurposeSearch); r.Status != StatusOK || !slices.Equal(r.Indices, []string{"logs-*"}) {
		t.Errorf("search access for search: %+v", r)
	}
	if r := CheckAPIKeyRemote(access, true, PurposeReplication); r.Status != StatusInsufficient || !slices.Equal(r.Missing, []Privilege{{"access", "replication"}}) {
		t.Errorf("search access for replication: %+v", r)
	}
	if r := CheckAPIKeyRemote(KeyAccess{}, false, PurposeSearch); r.Status != StatusMissing {
		t.Errorf("unknown key: %+v", r)
	}
}
