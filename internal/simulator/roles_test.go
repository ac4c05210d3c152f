package simulator

import (
	"slices"
	"strings"
	"testing"
)

func roleUsers() map[string]User {
	u := monitorUsers()
	u["secreader"] = User{Password: "pw", Roles: []string{"sec"}, ClusterPrivileges: []string{"read_security"}}
	u["secadmin"] = User{Password: "pw", Roles: []string{"sec"}, ClusterPrivileges: []string{"manage_security"}}
	return u
}

func TestGetRolesPerVersion(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	base := []string{"cluster", "indices", "applications", "run_as", "metadata", "transient_metadata"}
	for _, tc := range []struct {
		version      string
		remote, desc bool
		user         string
	}{
		{"7.17.22", false, false, "secadmin"},
		{"8.13.4", false, false, "secreader"},
		{"8.19.2", true, true, "secreader"},
		{"9.1.5", true, true, "secadmin"},
	} {
		role := RoleSpec{
			Cluster:  []string{"monitor"},
			Indices:  []IndicesPrivileges{{Names: []string{"logs-*"}, Privileges: []string{"read", "read_cross_cluster"}}},
			Metadata: map[string]any{"team": "sre", "n": 3},
		}
		if tc.remote {
			role.RemoteIndices = []RemoteIndicesPrivileges{{Clusters: []string{"cluster_one"}, Names: []string{"logs-*"},
				Privileges: []string{"read"}}}
		}
		if tc.desc {
			role.Description = "remote search"
		}
		c := addCluster(t, s, ClusterSpec{Name: "roles" + tc.version, Version: tc.version, Users: roleUsers(),
			Roles: map[string]RoleSpec{"remote-search": role, "b-role": {Cluster: []string{"read_ccr"}}}})
		res := get(t, cl, c.URL()+"/_security/role/remote-search", basic(tc.user, "pw"))
		wantStatus(t, res, 200)
		body := parseOrdered(t, res.body)
		if k := body.keyList(); !slices.Equal(k, []string{"remote-search"}) {
			t.Fatalf("%s: roles %v", tc.version, k)
		}
		r := body.mustGet(t, "remote-search")
		want := slices.Clone(base)
		if tc.remote {
			want = append(want, "remote_indices")
		}
		if tc.desc {
			want = append(want, "description")
			wantString(t, r, "remote search", "description")
		}
		if k := r.keyList(); !slices.Equal(k, want) {
			t.Errorf("%s: role keys %v, want %v", tc.version, k, want)
		}
		idx := r.mustGet(t, "indices").vals[0]
		if k := idx.keyList(); !slices.Equal(k, []string{"names", "privileges", "allow_restricted_indices"}) {
			t.Errorf("%s: indices keys %v", tc.version, k)
		}
		wantBool(t, idx, false, "allow_restricted_indices")
		wantBool(t, r, true, "transient_metadata", "enabled")
		wantString(t, r, "sre", "metadata", "team")
		wantNumber(t, r, 3, "metadata", "n")
		if tc.remote {
			ri := r.mustGet(t, "remote_indices").vals[0]
			if k := ri.keyList(); !slices.Equal(k, []string{"names", "privileges", "allow_restricted_indices", "clusters"}) {
				t.Errorf("%s: remote_indices keys %v", tc.version, k)
			}
		}
		if got := r.mustGet(t, "run_as"); got.kind != "array" || len(got.vals) != 0 {
			t.Errorf("%s: run_as %s", tc.version, got.shape())
		}

		// All roles, sorted; several names with a missing one.
		all := parseOrdered(t, get(t, cl, c.URL()+"/_security/role", basic(tc.user, "pw")).body)
		if k := all.keyList(); !slices.Equal(k, []string{"b-role", "remote-search"}) {
			t.Errorf("%s: all roles %v", tc.version, k)
		}
		some := get(t, cl, c.URL()+"/_security/role/nope,b-role", basic(tc.user, "pw"))
		wantStatus(t, some, 200)
		if k := parseOrdered(t, some.body).keyList(); !slices.Equal(k, []string{"b-role"}) {
			t.Errorf("%s: partial %v", tc.version, k)
		}
		if ct := res.header.Get("Content-Type"); ct != contentType(c.answeringVersion()) {
			t.Errorf("%s: content type %q", tc.version, ct)
		}
	}
}

func TestGetRolesMissingAndForbidden(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "r", Version: "8.19.2", Users: roleUsers()})
	res := get(t, cl, c.URL()+"/_security/role/missing,other", basic("secreader", "pw"))
	wantStatus(t, res, 404)
	if string(res.body) != "{}" {
		t.Errorf("404 body %s", res.body)
	}
	if err := c.SetRole("x", RoleSpec{Cluster: []string{"monitor"}}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(t, cl, c.URL()+"/_security/role/x", basic("secreader", "pw")), 200)
	c.DeleteRole("x")
	wantStatus(t, get(t, cl, c.URL()+"/_security/role/x", basic("secreader", "pw")), 404)
	// Empty role list: 200 {}.
	all := get(t, cl, c.URL()+"/_security/role", basic("secreader", "pw"))
	wantStatus(t, all, 200)

	res = get(t, cl, c.URL()+"/_security/role/x")
	wantStatus(t, res, 403)
	want := "action [cluster:admin/xpack/security/role/get] is unauthorized for user [ccs_monitor] with effective roles " +
		"[ccs_monitor_role], this action is granted by the cluster privileges [read_security,manage_security,all]"
	wantString(t, parseOrdered(t, res.body), want, "error", "reason")
	wantString(t, parseOrdered(t, res.body), "security_exception", "error", "type")

	old := addCluster(t, s, ClusterSpec{Name: "old", Version: "7.17.22", Users: roleUsers()})
	res = get(t, cl, old.URL()+"/_security/role", basic("secreader", "pw"))
	wantStatus(t, res, 403)
	if r := parseOrdered(t, res.body).mustGet(t, "error", "reason").str; !strings.HasSuffix(r,
		"with roles [sec], this action is granted by the cluster privileges [manage_security,all]") {
		t.Errorf("7.17 reason %q", r)
	}
	wantErrContains(t, old.SetRole("ri", RoleSpec{RemoteIndices: []RemoteIndicesPrivileges{{Clusters: []string{"a"}}}}),
		`role "ri": remote_indices need 8.14+, the cluster plays 7.17.22`, "remote_indices on 7.17")
	_, err := s.AddCluster(ClusterSpec{Name: "old2", Version: "8.14.0",
		Roles: map[string]RoleSpec{"d": {Description: "x"}}})
	wantErrContains(t, err, `role "d": description needs 8.15+, the cluster plays 8.14.0`, "description on 8.14")
	// Unknown parameter: the usual 400.
	wantStatus(t, get(t, cl, c.URL()+"/_security/role?foo=1", basic("secreader", "pw")), 400)
}
