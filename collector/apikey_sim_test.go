package collector

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
)

// apiKeyEnv: paris (8.19) links to tokyo (9.1) in the API-key model:
// tokyo's nodes run a remote cluster server with its own CA, paris's remote
// cluster client trusts it, and paris's keystore holds a cross-cluster key
// of tokyo with search access.
func apiKeyEnv(t *testing.T) (*fleetEnv, string) {
	t.Helper()
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "paris", Version: "8.19.7", License: "trial"},
		simulator.ClusterSpec{Name: "tokyo", Version: "9.1.5", License: "trial", Nodes: twoNodes("9.1.5"),
			RemoteClusterServer: &simulator.RemoteClusterServerSpec{Enabled: true}})
	paris, tokyo := e.sim.Cluster("paris"), e.sim.Cluster("tokyo")
	if err := paris.TrustRemoteClusterServer(tokyo); err != nil {
		t.Fatal(err)
	}
	id, _, err := tokyo.CreateCrossClusterAPIKey("paris", simulator.CrossClusterAccess{
		Search: []simulator.CrossClusterIndices{{Names: []string{"*"}}}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := paris.AddLink(simulator.LinkSpec{Alias: "tokyo", Remote: "tokyo", APIKeyAuth: true, APIKeyID: id}); err != nil {
		t.Fatal(err)
	}
	caFile, err := tokyo.WriteRemoteClusterCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return e, caFile
}

// watchRemoteClient polls a cluster whose remote cluster client trusts the
// CAs in caFile.
func (e *fleetEnv) watchRemoteClient(name, caFile string) {
	e.t.Helper()
	p, err := NewPoller(config.Cluster{
		Name: name, URLs: []string{e.sim.Cluster(name).URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}, RemoteClusterClient: config.RemoteClusterClient{CAFile: caFile},
	}, PollerOptions{Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler), Fleet: e.fleet}) // real time: certificates are judged
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(p.Close)
	e.pollers[name] = p
}

// TestAPIKeyLinkTrustIsOneWay: a healthy API-key link is matched to its
// remote by the remote cluster server addresses, its TLS is judged one way
// (no remote_trusts_local series, so ESRemoteLinkTrustBroken cannot fire
// for a direction the model does not use) against the remote cluster
// client's CAs, and probed without a client certificate.
func TestAPIKeyLinkTrustIsOneWay(t *testing.T) {
	e, caFile := apiKeyEnv(t)
	e.watch("tokyo", nil)
	e.watchRemoteClient("paris", caFile)
	_, snap := e.poll("tokyo", "paris")
	link := map[string]string{"remote": "tokyo"}
	if got := mustValue(t, snap, "es_remote_link_connected", link); got != 1 {
		t.Fatalf("the API-key link does not connect in the simulator (connected %v)", got)
	}
	mustValue(t, snap, "es_remote_link_info", map[string]string{"remote": "tokyo", "auth": "api_key"})
	mustValue(t, snap, "es_remote_link_target_info", map[string]string{"remote": "tokyo", "target": "tokyo", "match": MatchTransportAddress})
	mustValue(t, snap, "es_remote_link_trust_info", map[string]string{"remote": "tokyo", "direction": "local_trusts_remote", "status": "trusted", "basis": "files"})
	if _, ok := value(t, snap, "es_remote_link_trust_info", map[string]string{"remote": "tokyo", "direction": "remote_trusts_local"}); ok {
		t.Error("an API-key link has a remote_trusts_local series; the model's TLS is one way")
	}
	mustValue(t, snap, "es_remote_link_transport_probe_info", map[string]string{"remote": "tokyo", "client_auth": "not_requested"})
	if got := mustValue(t, snap, "es_remote_link_dials_wrong_port", map[string]string{"remote": "tokyo", "port": "remote_cluster_server"}); got != 0 {
		t.Errorf("dials_wrong_port = %v for an API-key link at the remote cluster server, want 0", got)
	}
	mustValue(t, snap, "es_remote_link_certificate_earliest_not_after_timestamp_seconds", map[string]string{"remote": "tokyo"})

	// The remote cluster client trusting another CA (here tokyo's transport
	// CA, a common mix-up) does not accept the remote cluster server.
	wrong := filepath.Join(t.TempDir(), "wrong-ca.pem")
	if err := os.WriteFile(wrong, e.sim.Cluster("tokyo").TrustedCACertsPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	e.watchRemoteClient("paris", wrong)
	_, snap = e.poll("paris")
	mustValue(t, snap, "es_remote_link_trust_info", map[string]string{"remote": "tokyo", "direction": "local_trusts_remote", "status": "untrusted"})
}

// watchKeyed polls paris with its tokyo link's api_key_id configured, and
// tokyo (whose keys it lists, the exporter's user having read_security).
func (e *fleetEnv) watchKeyed(t *testing.T, keyID, caFile string) {
	t.Helper()
	links := map[string]config.Link{"tokyo": {Cluster: "tokyo", APIKeyID: keyID}}
	e.watchAs(testUser, "tokyo", nil, nil)
	p, err := NewPoller(config.Cluster{
		Name: "paris", URLs: []string{e.sim.Cluster("paris").URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}, RemoteClusterClient: config.RemoteClusterClient{CAFile: caFile}, Links: links,
	}, PollerOptions{Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler), Fleet: e.fleet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	e.pollers["paris"] = p
}

// TestAPIKeyLinkKey: the cross-cluster key behind a link, as its remote
// lists it: an expiring key is the link's earliest expiry (role api_key),
// an invalidated one, a REST key and an unknown id show as such.
func TestAPIKeyLinkKey(t *testing.T) {
	e, caFile := apiKeyEnv(t)
	tokyo := e.sim.Cluster("tokyo")
	soon := time.Now().Add(10 * 24 * time.Hour).Truncate(time.Millisecond)
	id, _, err := tokyo.CreateCrossClusterAPIKey("paris-expiring", simulator.CrossClusterAccess{
		Search: []simulator.CrossClusterIndices{{Names: []string{"*"}}}}, soon)
	if err != nil {
		t.Fatal(err)
	}
	e.watchKeyed(t, id, caFile)
	_, tokyoSnap := e.poll("tokyo")
	if got := mustValue(t, tokyoSnap, "es_remote_cluster_cross_cluster_api_key_expiration_timestamp_seconds", map[string]string{"id": id, "name": "paris-expiring"}); got != unixSeconds(soon) {
		t.Errorf("key expiry %v, want %v", got, unixSeconds(soon))
	}
	if got := mustValue(t, tokyoSnap, "es_remote_cluster_cross_cluster_api_keys", map[string]string{"status": "active"}); got != 2 {
		t.Errorf("active cross-cluster keys %v, want 2", got)
	}
	_, snap := e.poll("paris")
	mustValue(t, snap, "es_remote_link_cross_cluster_api_key_info", map[string]string{"remote": "tokyo", "id": id, "status": "active"})
	if got := mustValue(t, snap, "es_remote_link_certificate_earliest_not_after_timestamp_seconds", map[string]string{"remote": "tokyo", "role": "api_key", "serial": id}); got != unixSeconds(soon) {
		t.Errorf("the link's earliest expiry %v, want the key's %v", got, unixSeconds(soon))
	}

	if err := tokyo.InvalidateAPIKey(id); err != nil {
		t.Fatal(err)
	}
	e.poll("tokyo")
	_, snap = e.poll("paris")
	mustValue(t, snap, "es_remote_link_cross_cluster_api_key_info", map[string]string{"remote": "tokyo", "id": id, "status": "invalidated"})

	rest, _, err := tokyo.CreateRESTAPIKey("a-rest-key", testUser, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for keyID, status := range map[string]string{rest: "rest", "no-such-key": "not_found"} {
		e.watchKeyed(t, keyID, caFile)
		e.poll("tokyo")
		_, snap = e.poll("paris")
		mustValue(t, snap, "es_remote_link_cross_cluster_api_key_info", map[string]string{"remote": "tokyo", "id": keyID, "status": status})
	}
}

// TestAPIKeyLinkDialsTransportPort: an API-key link whose seeds are the
// remote's transport addresses (troubleshooting symptom 6) is flagged.
func TestAPIKeyLinkDialsTransportPort(t *testing.T) {
	e, caFile := apiKeyEnv(t)
	paris, tokyo := e.sim.Cluster("paris"), e.sim.Cluster("tokyo")
	paris.RemoveLink("tokyo")
	if err := paris.AddLink(simulator.LinkSpec{Alias: "tokyo", Remote: "tokyo", APIKeyAuth: true, Seeds: tokyo.TransportAddresses()[:1]}); err != nil {
		t.Fatal(err)
	}
	e.watch("tokyo", nil)
	e.watchRemoteClient("paris", caFile)
	_, snap := e.poll("tokyo", "paris")
	if got := mustValue(t, snap, "es_remote_link_dials_wrong_port", map[string]string{"remote": "tokyo", "port": "transport"}); got != 1 {
		t.Errorf("dials_wrong_port{port=transport} = %v for an API-key link at the transport port, want 1", got)
	}
	if got := mustValue(t, snap, "es_remote_link_connected", map[string]string{"remote": "tokyo"}); got != 0 {
		t.Errorf("an API-key link to a transport port connected (%v)", got)
	}
	mustValue(t, snap, "es_remote_cluster_node_remote_cluster_server_enabled", map[string]string{"es_cluster": "paris"})
	_, tokyoSnap := e.poll("tokyo")
	if got := mustValue(t, tokyoSnap, "es_remote_cluster_node_remote_cluster_server_enabled", map[string]string{"node": "n1"}); got != 1 {
		t.Errorf("tokyo's n1 runs the remote cluster server; metric %v", got)
	}
}

// TestAPIKeysUnreadable: without read_security the key listing is an
// unmonitored extra (not a failure), unless a configured link names one of
// the cluster's keys.
func TestAPIKeysUnreadable(t *testing.T) {
	e, _ := apiKeyEnv(t)
	for _, required := range []bool{false, true} {
		p, err := NewPoller(config.Cluster{Name: "tokyo", URLs: []string{e.sim.Cluster("tokyo").URL()}, Username: noSecurityUser,
			Password: testPassword, TLS: config.TLS{CAFile: e.caFile}},
			PollerOptions{Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler), APIKeysRequired: required})
		if err != nil {
			t.Fatal(err)
		}
		f, snap := p.Poll(t.Context())
		p.Close()
		c := checkResult(f, CheckAPIKeys)
		switch {
		case c == nil:
			t.Fatalf("required=%v: no api_keys check on a 9.1 cluster", required)
		case !required && c.Err != nil:
			t.Errorf("keys no link names, unreadable: %v; want success (not monitored)", c.Err)
		case required && (c.Err == nil || c.Err.Reason != ReasonForbidden || !strings.Contains(c.Err.Hint, "read_security")):
			t.Errorf("keys a link names, unreadable: %+v; want forbidden naming read_security", c.Err)
		}
		if _, ok := value(t, snap, "es_remote_cluster_cross_cluster_api_keys", nil); ok {
			t.Errorf("required=%v: key counts rendered although the keys could not be read", required)
		}
	}
}

// TestVerifiedHosts: in verification mode full a certificate may match the
// SNI server_name or, failing that, the host dialled (the JDK's endpoint
// identification falls back to the peer host).
func TestVerifiedHosts(t *testing.T) {
	sn := "tokyo.es.internal"
	for _, tc := range []struct {
		serverName *string
		host       string
		want       []string
	}{
		{nil, "10.0.0.1", []string{"10.0.0.1"}},
		{&sn, "10.0.0.1", []string{"tokyo.es.internal", "10.0.0.1"}},
		{&sn, "tokyo.es.internal", []string{"tokyo.es.internal"}},
	} {
		if got := verifiedHosts(&RemoteLink{ServerName: tc.serverName}, tc.host); !slices.Equal(got, tc.want) {
			t.Errorf("verifiedHosts(%v, %s) = %v, want %v", tc.serverName, tc.host, got, tc.want)
		}
	}
}

// TestAPIKeyLinkRoles: the roles of an API-key link are judged by that
// model: remote_indices for the alias on the local side, the cross-cluster
// key's access on the remote side (not a role of the same name).
func TestAPIKeyLinkRoles(t *testing.T) {
	e, caFile := apiKeyEnv(t)
	paris, tokyo := e.sim.Cluster("paris"), e.sim.Cluster("tokyo")
	id, _, err := tokyo.CreateCrossClusterAPIKey("search-only", simulator.CrossClusterAccess{
		Search: []simulator.CrossClusterIndices{{Names: []string{"logs-*"}}}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := paris.SetRole("remote-search", simulator.RoleSpec{RemoteIndices: []simulator.RemoteIndicesPrivileges{
		{Clusters: []string{"tokyo"}, Names: []string{"logs-*"}, Privileges: []string{"read", "read_cross_cluster"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := paris.SetRole("remote-replication", simulator.RoleSpec{Cluster: []string{"manage_ccr"}}); err != nil {
		t.Fatal(err)
	}
	e.watchAs(testUser, "tokyo", nil, nil)
	links := map[string]config.Link{"tokyo": {Cluster: "tokyo", APIKeyID: id,
		Roles: config.LinkRoles{Search: []string{"remote-search"}, Replication: []string{"remote-replication"}}}}
	p, err := NewPoller(config.Cluster{Name: "paris", URLs: []string{paris.URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}, RemoteClusterClient: config.RemoteClusterClient{CAFile: caFile}, Links: links},
		PollerOptions{Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler), Fleet: e.fleet,
			RoleNames: []string{"remote-replication", "remote-search"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	e.pollers["paris"] = p
	e.poll("tokyo")
	f, snap := e.poll("paris")
	role := func(role, purpose, side, status string) {
		t.Helper()
		if got := mustValue(t, snap, "es_remote_link_role_status", map[string]string{"remote": "tokyo", "role": role, "purpose": purpose, "side": side, "status": status}); got != 1 {
			t.Errorf("%s %s %s: status %s is %v, want 1 (findings %+v)", role, purpose, side, status, got, f.RoleFindings)
		}
	}
	role("remote-search", "search", "local", "ok")
	role("cross-cluster API key "+id, "search", "remote", "ok")
	role("remote-replication", "replication", "local", "insufficient")
	role("cross-cluster API key "+id, "replication", "remote", "insufficient")
	mustValue(t, snap, "es_remote_link_role_missing_privilege", map[string]string{"role": "remote-replication", "privilege": "remote_indices:cross_cluster_replication"})
}
