package collector

import (
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
)

// clock is a settable test clock: probes run again once it passes the
// probe interval.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// trustEnv: paris (8.19) links to tokyo (9.1); each has its own transport
// CA and they trust each other, as the spec's "Establish trust" step sets up.
type trustEnv struct {
	*fleetEnv
	clock *clock
	dir   string
	logs  *testtools.SyncBuffer
}

func newTrustEnv(t *testing.T, tokyo simulator.TransportSpec) *trustEnv {
	t.Helper()
	tokyo.OwnCA = true
	e := newFleetEnv(t,
		simulator.ClusterSpec{Name: "paris", Version: "8.19.7", Transport: simulator.TransportSpec{OwnCA: true}},
		simulator.ClusterSpec{Name: "tokyo", Version: "9.1.5", Transport: tokyo})
	e.sim.Trust(e.sim.Cluster("paris"), e.sim.Cluster("tokyo"))
	if err := e.sim.Cluster("paris").AddLink(simulator.LinkSpec{Alias: "tokyo", Remote: "tokyo"}); err != nil {
		t.Fatal(err)
	}
	return &trustEnv{fleetEnv: e, clock: &clock{t: time.Now()}, dir: t.TempDir(), logs: &testtools.SyncBuffer{}}
}

// write stores content under the test dir and returns its path.
func (e *trustEnv) write(name string, content []byte) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// parisFiles is paris's transport truststore and node identity as files, as
// an operator would point the exporter at them.
func (e *trustEnv) parisFiles() config.Transport {
	e.t.Helper()
	paris := e.sim.Cluster("paris")
	certPEM, keyPEM, err := paris.NodeCertificatePEM("paris-es01")
	if err != nil {
		e.t.Fatal(err)
	}
	return config.Transport{
		CAFile:   e.write("paris-ca.pem", paris.TrustedCACertsPEM()),
		CertFile: e.write("paris-node.pem", certPEM),
		KeyFile:  e.write("paris-node-key.pem", keyPEM),
	}
}

// watchWith polls a cluster with the given transport settings, probing every 10m of the test clock.
func (e *trustEnv) watchWith(name string, tr config.Transport) {
	e.t.Helper()
	p, err := NewPoller(config.Cluster{
		Name: name, URLs: []string{e.sim.Cluster(name).URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}, Transport: tr,
	}, PollerOptions{Timeout: 2 * time.Second, ProbeInterval: 10 * time.Minute, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Now: e.clock.now, Fleet: e.fleet})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(p.Close)
	e.pollers[name] = p
}

func trustLabels(direction, status, basis, reason string) map[string]string {
	return map[string]string{"remote": "tokyo", "direction": direction, "status": status, "basis": basis, "reason": reason}
}

func TestTrustWithFilesAndHandshake(t *testing.T) {
	for _, maxVersion := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		e := newTrustEnv(t, simulator.TransportSpec{MaxTLSVersion: maxVersion})
		e.watchWith("paris", e.parisFiles())
		_, snap := e.poll("paris")
		mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "trusted", "files", ""))
		mustValue(t, snap, "es_remote_link_trust_info", trustLabels("remote_trusts_local", "trusted", "handshake", ""))
		wantVersion := map[uint16]string{tls.VersionTLS13: "TLSv1.3", tls.VersionTLS12: "TLSv1.2"}[maxVersion]
		mustValue(t, snap, "es_remote_link_transport_probe_info", map[string]string{"remote": "tokyo", "tls_version": wantVersion, "client_auth": "accepted"})
		leaf := mustValue(t, snap, "es_remote_link_transport_certificate_not_after_timestamp_seconds", map[string]string{"remote": "tokyo", "role": "leaf"})
		earliest := mustValue(t, snap, "es_remote_link_certificate_earliest_not_after_timestamp_seconds", map[string]string{"remote": "tokyo"})
		if earliest <= 0 || earliest > leaf {
			t.Errorf("%s: earliest not-after %v is not at or before the remote leaf's %v", wantVersion, earliest, leaf)
		}
	}
}

// TestRemoteRejectsLocal: tokyo stops trusting paris's CA. The mutual-TLS
// probe sees the rejection, under TLS 1.3 after the handshake completed.
func TestRemoteRejectsLocal(t *testing.T) {
	for _, maxVersion := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		e := newTrustEnv(t, simulator.TransportSpec{MaxTLSVersion: maxVersion})
		e.sim.Cluster("tokyo").UntrustCluster(e.sim.Cluster("paris"))
		e.watchWith("paris", e.parisFiles())
		_, snap := e.poll("paris")
		mustValue(t, snap, "es_remote_link_trust_info", trustLabels("remote_trusts_local", "untrusted", "handshake", "rejected_by_peer"))
		mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "trusted", "files", ""))
		mustValue(t, snap, "es_remote_link_transport_probe_info", map[string]string{"remote": "tokyo", "client_auth": "rejected"})
		e.clock.advance(11 * time.Minute)
		e.poll("paris") // the same verdict again: no second log line
		if n := strings.Count(e.logs.String(), "transport trust broken"); n != 1 {
			t.Errorf("logged %d 'transport trust broken' lines over two rounds, want 1:\n%s", n, e.logs.String())
		}
	}
}

// TestRemoteCARotatedOneSide: tokyo re-creates its CA under the same name
// with a new key and re-issues its nodes; paris still trusts the old key.
// The files-based verdict catches it; a DN comparison cannot.
func TestRemoteCARotatedOneSide(t *testing.T) {
	e := newTrustEnv(t, simulator.TransportSpec{})
	e.watchWith("paris", e.parisFiles())
	_, snap := e.poll("paris")
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "trusted", "files", ""))

	if err := e.sim.Cluster("tokyo").RotateTransportCA(simulator.RotateSpec{}); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(11 * time.Minute) // the next probe round
	_, snap = e.poll("paris")
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "untrusted", "files", "unknown_ca"))

	// Without files, only the issuer DN is compared: it still matches.
	e.watchWith("paris", config.Transport{})
	_, snap = e.poll("paris")
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "trusted", "issuer_match", ""))
}

func TestExpiredRemoteCertificate(t *testing.T) {
	past := time.Now().Add(-24 * time.Hour)
	e := newTrustEnv(t, simulator.TransportSpec{NotBefore: past.Add(-48 * time.Hour), NotAfter: past})
	e.watchWith("paris", e.parisFiles())
	_, snap := e.poll("paris")
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "untrusted", "files", "expired"))
	got := mustValue(t, snap, "es_remote_link_certificate_earliest_not_after_timestamp_seconds",
		map[string]string{"remote": "tokyo", "side": "remote", "role": "leaf"})
	if want := float64(past.Truncate(time.Second).Unix()); got < want-1 || got > want+1 {
		t.Errorf("earliest not-after = %v, want the expired remote leaf at %v", got, want)
	}
}

// TestTrustWithoutFiles: no transport files at all; the remote is monitored
// too, so paris's node certificate issuer is compared with the CAs tokyo
// lists in _ssl/certificates, and vice versa.
func TestTrustWithoutFiles(t *testing.T) {
	e := newTrustEnv(t, simulator.TransportSpec{})
	e.watchWith("paris", config.Transport{ProbeLocalNodes: true})
	e.watchWith("tokyo", config.Transport{})
	_, snap := e.poll("tokyo", "paris")
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "trusted", "issuer_match", ""))
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("remote_trusts_local", "trusted", "issuer_match", ""))
	if got := mustValue(t, snap, "es_remote_cluster_transport_probe_success", map[string]string{"es_cluster": "paris"}); got != 1 {
		t.Errorf("paris's probe of its own nodes: success %v, want 1", got)
	}

	// Tokyo forgets paris's CA: its listing no longer names paris's issuer.
	e.sim.Cluster("tokyo").UntrustCluster(e.sim.Cluster("paris"))
	e.clock.advance(11 * time.Minute)
	_, snap = e.poll("tokyo", "paris")
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("remote_trusts_local", "untrusted", "issuer_match", "unknown_ca"))
}

// TestPKCS12Identity: the identity comes from a password-protected PKCS#12
// keystore, and its CA entries serve as the truststore.
func TestPKCS12Identity(t *testing.T) {
	e := newTrustEnv(t, simulator.TransportSpec{})
	paris := e.sim.Cluster("paris")
	certPEM, keyPEM, err := paris.NodeCertificatePEM("paris-es01")
	if err != nil {
		t.Fatal(err)
	}
	id, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cas, err := tlsprobe.ParseCertificatesPEM(paris.TrustedCACertsPEM())
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Modern.Encode(id.PrivateKey, id.Leaf, cas, "p12-s3cret")
	if err != nil {
		t.Fatal(err)
	}
	e.watchWith("paris", config.Transport{KeystoreFile: e.write("paris.p12", p12), KeystorePassword: "p12-s3cret"})
	_, snap := e.poll("paris")
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "trusted", "files", ""))
	mustValue(t, snap, "es_remote_link_trust_info", trustLabels("remote_trusts_local", "trusted", "handshake", ""))

	if _, err := NewPoller(config.Cluster{Name: "x", URLs: []string{paris.URL()},
		Transport: config.Transport{KeystoreFile: e.write("bad.p12", p12), KeystorePassword: "wrong"}},
		PollerOptions{Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)}); err == nil {
		t.Error("a keystore with the wrong password was accepted")
	}
}

// TestProbesKeepTheirSchedule: polls between probe rounds replay the last
// round instead of dialing the remote again.
func TestProbesKeepTheirSchedule(t *testing.T) {
	e := newTrustEnv(t, simulator.TransportSpec{})
	e.watchWith("paris", e.parisFiles())
	_, first := e.poll("paris")
	e.clock.advance(time.Minute)
	before := e.sim.Cluster("paris").Requests()
	_, second := e.poll("paris")
	// _nodes, _remote/info, _resolve/cluster: no GET / (identityDue), no
	// _ssl/certificates or _ccr/info between rounds, their last listings
	// are replayed, and no _ccr/stats, which paris's basic license (known
	// from the listings) would refuse.
	if n := e.sim.Cluster("paris").Requests() - before; n != 3 {
		t.Errorf("a poll between probe rounds sent %d requests, want 3", n)
	}
	if got := mustValue(t, second, "es_remote_exporter_check_success", map[string]string{"check": CheckSSLCertificates}); got != 1 {
		t.Errorf("replayed ssl_certificates check_success %v, want 1", got)
	}
	mustValue(t, second, "es_remote_cluster_certificate_not_after_timestamp_seconds", nil)
	a := mustValue(t, first, "es_remote_exporter_last_transport_probe_timestamp_seconds", nil)
	b := mustValue(t, second, "es_remote_exporter_last_transport_probe_timestamp_seconds", nil)
	if a != b {
		t.Errorf("probed again one minute later (%v then %v); the interval is 10m", a, b)
	}
	mustValue(t, second, "es_remote_link_trust_info", trustLabels("local_trusts_remote", "trusted", "files", ""))
	// A failing _remote/info does not start a probe round (nor does its
	// recovery): the last round's series stand.
	e.sim.Cluster("paris").SetFault(simulator.Fault{Kind: simulator.FaultServerError, PathPrefix: "/_remote/info"})
	_, failing := e.poll("paris")
	e.sim.Cluster("paris").SetFault(simulator.Fault{})
	_, recovered := e.poll("paris")
	for _, snap := range []*Snapshot{failing, recovered} {
		if c := mustValue(t, snap, "es_remote_exporter_last_transport_probe_timestamp_seconds", nil); c != b {
			t.Errorf("a failing or recovering _remote/info started a probe round (%v, was %v)", c, b)
		}
	}
	e.clock.advance(10 * time.Minute)
	_, third := e.poll("paris")
	if c := mustValue(t, third, "es_remote_exporter_last_transport_probe_timestamp_seconds", nil); c <= b {
		t.Error("no new probe round after the interval")
	}
}

// TestListingsKeepTheirScheduleWhileRemoteInfoFails: a cluster whose
// _remote/info fails from the start never runs a probe round; its slow
// listings still run only every probe interval, not on every poll.
func TestListingsKeepTheirScheduleWhileRemoteInfoFails(t *testing.T) {
	e := newTrustEnv(t, simulator.TransportSpec{})
	e.watchWith("paris", e.parisFiles())
	e.sim.Cluster("paris").SetFault(simulator.Fault{Kind: simulator.FaultServerError, PathPrefix: "/_remote/info"})
	e.poll("paris")
	e.clock.advance(time.Minute)
	before := e.sim.Cluster("paris").Requests()
	_, second := e.poll("paris")
	// _nodes, _remote/info, _resolve/cluster; GET / and the listings stand.
	if n := e.sim.Cluster("paris").Requests() - before; n != 3 {
		t.Errorf("a poll one minute after the listings sent %d requests, want 3", n)
	}
	if got := mustValue(t, second, "es_remote_exporter_check_success", map[string]string{"check": CheckSSLCertificates}); got != 1 {
		t.Errorf("replayed ssl_certificates check_success %v, want 1", got)
	}
	e.clock.advance(10 * time.Minute)
	before = e.sim.Cluster("paris").Requests()
	e.poll("paris")
	if n := e.sim.Cluster("paris").Requests() - before; n <= 4 {
		t.Errorf("the listings did not run again after the probe interval (%d requests)", n)
	}
}

// TestReplayedFailuresCount: a slow check that failed in its round counts
// as failed in every poll that replays it, as the counter's help says
// ("polls in which the check failed"), so failure-rate alerts hold.
func TestReplayedFailuresCount(t *testing.T) {
	e := newTrustEnv(t, simulator.TransportSpec{})
	e.watchWith("paris", e.parisFiles())
	e.sim.Cluster("paris").SetFault(simulator.Fault{Kind: simulator.FaultServerError, PathPrefix: "/_ssl/certificates"})
	failures := map[string]string{"check": CheckSSLCertificates, "reason": string(ReasonServerError)}
	_, first := e.poll("paris")
	if got := mustValue(t, first, "es_remote_exporter_check_failures_total", failures); got != 1 {
		t.Fatalf("failures after the failing round: %v, want 1", got)
	}
	e.clock.advance(time.Minute)
	_, second := e.poll("paris")
	if got := mustValue(t, second, "es_remote_exporter_check_failures_total", failures); got != 2 {
		t.Errorf("failures after a poll replaying the failed round: %v, want 2", got)
	}
	if got := mustValue(t, second, "es_remote_exporter_check_success", map[string]string{"check": CheckSSLCertificates}); got != 0 {
		t.Errorf("replayed check_success %v, want 0", got)
	}
}

// TestPrerequisites: a node of the remote without transport TLS flags the
// link's remote side; the local side stays fine.
func TestPrerequisites(t *testing.T) {
	e := newTrustEnv(t, simulator.TransportSpec{})
	e.watchWith("paris", config.Transport{})
	e.watchWith("tokyo", config.Transport{})
	_, snap := e.poll("tokyo", "paris")
	mustValue(t, snap, "es_remote_link_prerequisites_met", map[string]string{"remote": "tokyo", "side": "local"})
	if v := mustValue(t, snap, "es_remote_link_prerequisites_met", map[string]string{"remote": "tokyo", "side": "remote"}); v != 1 {
		t.Fatalf("remote side prerequisites = %v at start, want 1", v)
	}
	if err := e.sim.Cluster("tokyo").SetNodeTransportTLS("tokyo-es01", false); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(11 * time.Minute)
	_, tokyoSnap := e.poll("tokyo")
	if v := mustValue(t, tokyoSnap, "es_remote_cluster_node_transport_tls_enabled", map[string]string{"node": "tokyo-es01"}); v != 0 {
		t.Errorf("tokyo-es01 transport TLS = %v, want 0", v)
	}
	_, snap = e.poll("paris")
	if v := mustValue(t, snap, "es_remote_link_prerequisites_met", map[string]string{"remote": "tokyo", "side": "remote"}); v != 0 {
		t.Errorf("remote side prerequisites = %v with a plain-transport node, want 0", v)
	}
	if v := mustValue(t, snap, "es_remote_link_prerequisites_met", map[string]string{"remote": "tokyo", "side": "local"}); v != 1 {
		t.Errorf("local side prerequisites = %v, want 1", v)
	}
}

// TestCertificatesFromAllNodes: _ssl/certificates is node-local; with the
// option every node is asked through its HTTP publish address, and each
// node's own certificate appears under its name.
func TestCertificatesFromAllNodes(t *testing.T) {
	e := newFleetEnv(t, simulator.ClusterSpec{Name: "paris", Version: "8.19.7",
		Nodes: []simulator.NodeSpec{{Name: "p1"}, {Name: "p2"}, {Name: "p3"}}})
	p, err := NewPoller(config.Cluster{
		Name: "paris", URLs: []string{e.sim.Cluster("paris").URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}, Transport: config.Transport{CertificatesFromAllNodes: true},
	}, PollerOptions{Timeout: 2 * time.Second, ProbeInterval: 10 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	f, snap := p.Poll(context.Background())
	serials := map[string]string{}
	for _, c := range f.Certificates {
		if c.HasPrivateKey && strings.Contains(c.SubjectDN, c.Node) {
			serials[c.Node] = c.SerialNumber
		}
	}
	for _, node := range []string{"p1", "p2", "p3"} {
		if v := mustValue(t, snap, "es_remote_cluster_certificate_listing_success", map[string]string{"node": node}); v != 1 {
			t.Errorf("listing of %s failed", node)
		}
		if serials[node] == "" {
			t.Errorf("no node certificate of %s in the listings: %+v", node, f.Certificates)
		}
		mustValue(t, snap, "es_remote_cluster_certificate_not_after_timestamp_seconds",
			map[string]string{"node": node, "has_private_key": "true", "serial": serials[node]})
	}
	if serials["p1"] == serials["p2"] {
		t.Error("two nodes listed the same node certificate: the listing is not node-local")
	}
}

func TestPublishHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1:9200":                  "10.0.0.1:9200",
		"es-1.example.com/10.0.0.1:9200": "es-1.example.com:9200",
		"[::1]:9200":                     "[::1]:9200",
	} {
		if got := publishHostPort(in); got != want {
			t.Errorf("publishHostPort(%q) = %q, want %q", in, got, want)
		}
	}
}
