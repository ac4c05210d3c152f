package collector

import (
	"log/slog"
	"os"
	"path/filepath"
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
