package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// A _resolve/cluster denial is not an outage: Elasticsearch reports
// connected:false for ANY security exception (TransportResolveClusterAction),
// so the exporter must not turn it into es_remote_link_reachable 0, which
// pages (ESRemoteLinkUnreachable).
func TestResolveDenialIsNotUnreachability(t *testing.T) {
	link := map[string]string{"es_cluster": "local", "remote": "remote"}
	reachable := func(t *testing.T, s *Snapshot) (float64, bool) {
		return value(t, s, "es_remote_link_reachable", link)
	}
	errInfo := func(t *testing.T, s *Snapshot, reason string) bool {
		_, ok := value(t, s, "es_remote_link_resolve_error_info", map[string]string{"es_cluster": "local", "remote": "remote", "reason": reason})
		return ok
	}

	t.Run("certificate model: no role of the same name on the remote", func(t *testing.T) {
		// The remote defines none of the exporter user's roles.
		e := newSimEnvRemoteUsers(t, "8.19.7", map[string]simulator.User{"someone": {Password: "x", Roles: []string{"other"}}})
		var buf testtools.SyncBuffer
		p := e.poller(t, testUser, 5*time.Second, &buf)
		f, snap := p.Poll(context.Background())
		if len(f.Resolved) != 1 || f.Resolved[0].Connected || !strings.Contains(f.Resolved[0].Error, "unauthorized for user ["+testUser+"]") {
			t.Fatalf("the simulator should deny like RemoteClusterSecurityRCS1ResolveClusterIT; got %+v", f.Resolved)
		}
		if v, ok := reachable(t, snap); ok {
			t.Errorf("es_remote_link_reachable = %v for a denial; want it absent (Elasticsearch did not say whether the remote is up)", v)
		}
		if !errInfo(t, snap, "forbidden") {
			t.Error(`es_remote_link_resolve_error_info{reason="forbidden"} missing`)
		}
		if log := buf.String(); !strings.Contains(log, "denied the exporter") || strings.Contains(log, "remote unreachable") {
			t.Errorf("log should report a denial, not an unreachable remote:\n%s", log)
		}

		// Define the role on the remote: the link is judged reachable again.
		if err := e.remote.SetRole("monitoring", simulator.RoleSpec{Indices: []simulator.IndicesPrivileges{
			{Names: []string{"logs-*"}, Privileges: []string{"view_index_metadata"}}}}); err != nil {
			t.Fatal(err)
		}
		_, snap = p.Poll(context.Background())
		if v, ok := reachable(t, snap); !ok || v != 1 {
			t.Errorf("with the role on the remote: reachable = %v, %v; want 1", v, ok)
		}
		if errInfo(t, snap, "forbidden") {
			t.Error("resolve_error_info stays after the denial ended")
		}
	})

	t.Run("API-key model: no remote_indices for the alias", func(t *testing.T) {
		e := newSimEnv(t, "8.19.7")
		e.local.RemoveLink("remote")
		if err := e.local.AddLink(simulator.LinkSpec{Alias: "remote", Remote: "remote", APIKeyAuth: true}); err != nil {
			t.Fatal(err)
		}
		var buf testtools.SyncBuffer
		p := e.poller(t, testUser, 5*time.Second, &buf)
		f, snap := p.Poll(context.Background())
		if len(f.Resolved) != 1 || !strings.Contains(f.Resolved[0].Error, "towards remote cluster [remote] is unauthorized for user ["+testUser+"]") ||
			!strings.Contains(f.Resolved[0].Error, "because no remote indices privileges apply for the target cluster") {
			t.Fatalf("the simulator should deny like AuthorizationDenialMessages.remoteActionDenied; got %+v", f.Resolved)
		}
		if _, ok := reachable(t, snap); ok {
			t.Error("es_remote_link_reachable present for a denial")
		}
		if !errInfo(t, snap, "forbidden") {
			t.Error(`es_remote_link_resolve_error_info{reason="forbidden"} missing`)
		}
		if err := e.local.SetRole("monitoring", simulator.RoleSpec{RemoteIndices: []simulator.RemoteIndicesPrivileges{
			{Clusters: []string{"rem*"}, Names: []string{"*"}, Privileges: []string{"view_index_metadata"}}}}); err != nil {
			t.Fatal(err)
		}
		f, snap = p.Poll(context.Background())
		if errInfo(t, snap, "forbidden") || len(f.Resolved) != 1 || f.Resolved[0].Error != "" {
			t.Errorf("with remote_indices for the alias: still denied: %+v", f.Resolved)
		}
		if _, ok := reachable(t, snap); !ok {
			t.Error("es_remote_link_reachable absent once the denial ended")
		}
	})

	t.Run("a remote that is down stays reachable 0 without an error", func(t *testing.T) {
		e := newSimEnv(t, "8.19.7")
		var buf testtools.SyncBuffer
		p := e.poller(t, testUser, 5*time.Second, &buf)
		e.remote.Stop()
		_, snap := p.Poll(context.Background())
		if v, ok := reachable(t, snap); !ok || v != 0 {
			t.Errorf("remote down: reachable = %v, %v; want 0", v, ok)
		}
		for _, r := range []string{"forbidden", "timeout", "connection", "other"} {
			if errInfo(t, snap, r) {
				t.Errorf("remote down: resolve_error_info{reason=%q} present; Elasticsearch reports no error for a connect failure", r)
			}
		}
	})
}

func TestResolveErrorReason(t *testing.T) {
	for msg, want := range map[string]string{
		"": "",
		"action [indices:admin/resolve/cluster] is unauthorized for user [u] with effective roles [] (assigned roles [r] were not found), this action is granted by the index privileges [read,view_index_metadata,manage,all]": "forbidden",
		"action [indices:admin/resolve/cluster] towards remote cluster [x] is unauthorized for user [u] with effective roles [r] because no remote indices privileges apply for the target cluster":                             "forbidden",
		"unable to authenticate with provided credentials and anonymous access is not allowed for this request":                                                                                                                 "forbidden",
		"Request timed out before receiving a response from the remote cluster":                                                                                                                                                 "timeout",
		perRemoteTimeoutError: "timeout",
		"[remote][127.0.0.1:9300] connect_exception: Connection refused": "connection",
		"no such index [logs]":                            "other",
		"java.lang.IllegalStateException: something else": "other",
	} {
		if got := ResolveErrorReason(msg); got != want {
			t.Errorf("ResolveErrorReason(%q) = %q, want %q", msg, got, want)
		}
	}
}
