package realcluster

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// securedExporter polls the secured cluster sa as user (a file-realm user,
// see the fixture), with sb and sx in the same fleet.
func securedExporter(t *testing.T, user string) *exporter {
	t.Helper()
	e := &exporter{fleet: collector.NewFleet(), store: collector.NewStore(), pollers: map[string]*collector.Poller{}, logs: &testtools.SyncBuffer{}}
	for name, n := range map[string]*Node{"sa": fx.sa, "sb": fx.sb, "sx": fx.sx} {
		p, err := collector.NewPoller(config.Cluster{Name: name, URLs: []string{n.URL()}, Username: user, Password: config.Secret(exporterPassword)},
			collector.PollerOptions{Timeout: pollTimeout, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Fleet: e.fleet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		e.pollers[name] = p
	}
	return e
}

// TestSecurityResolveDenied: the certificate model (here 8.19 -> 9.x)
// authorizes a
// cross-cluster request on the remote with the role names of the local
// user. exporter's role remote_monitor exists on both sides; lonely's
// local_only only on sa. Real Elasticsearch answers _resolve/cluster with
// connected:false and the denial for lonely, and the exporter reports it
// as a forbidden resolve error, not as an unreachable remote.
func TestSecurityResolveDenied(t *testing.T) {
	ok := securedExporter(t, "exporter")
	f := ok.poll(t, "sa")
	if r := resolvedOf(f, "to_sb"); r == nil || !r.Connected || r.Error != "" || r.Version == nil || r.Version.Number != V9 {
		t.Errorf("exporter: to_sb entry %+v, want connected with version %s", r, V9)
	}
	ok.want(t, "es_remote_link_reachable", map[string]string{"es_cluster": "sa", "remote": "to_sb"}, 1)
	if _, found := ok.sample(t, "es_remote_link_resolve_error_info", map[string]string{"es_cluster": "sa", "remote": "to_sb"}); found {
		t.Error("exporter: es_remote_link_resolve_error_info present for to_sb, want absent")
	}

	denied := securedExporter(t, "lonely")
	f = denied.poll(t, "sa")
	r := resolvedOf(f, "to_sb")
	// The text of the real denial (AuthorizationService's
	// "unauthorized for user [...] with effective roles [...]", 8.5+ wording).
	const want = "action [indices:admin/resolve/cluster] is unauthorized for user [lonely] with effective roles [] (assigned roles [local_only] were not found), this action is granted by the index privileges [view_index_metadata,manage,read,read_cross_cluster,all]"
	if r == nil || r.Connected || r.Error != want {
		t.Errorf("lonely: to_sb entry %+v,\nwant connected:false with error %q", r, want)
	}
	denied.want(t, "es_remote_link_resolve_error_info", map[string]string{"es_cluster": "sa", "remote": "to_sb", "reason": collector.ResolveErrorForbidden}, 1)
	if _, found := denied.sample(t, "es_remote_link_reachable", map[string]string{"es_cluster": "sa", "remote": "to_sb"}); found {
		t.Error("lonely: es_remote_link_reachable present for to_sb, want absent (a denial says nothing about reachability)")
	}
	// _remote/info needs only the local monitor privilege: the link itself is up.
	if l := linkOf(f, "to_sb"); l == nil || !l.Connected {
		t.Errorf("lonely: to_sb link %+v, want connected", l)
	}
	if !strings.Contains(denied.logs.String(), "assigned roles [local_only] were not found") {
		t.Errorf("the exporter did not log the denial; logs:\n%s", denied.logs)
	}
}

// TestSecuritySSLCertificates: GET /_ssl/certificates of a real node lists
// the PEM files the harness configured (transport.crt with its key,
// transport-ca.crt), and the exporter exports their expiry.
func TestSecuritySSLCertificates(t *testing.T) {
	e := securedExporter(t, "exporter")
	f := e.poll(t, "sa")
	leaf, ca := fx.leaves["sa0"].Cert, fx.ca1.Cert
	byPath := map[string]collector.SSLCertificate{}
	for _, c := range f.Certificates {
		if c.Path != nil {
			byPath[*c.Path] = c
		}
	}
	for path, want := range map[string]struct {
		subject, serial string
		notAfter        time.Time
		key             bool
	}{
		"transport.crt":    {"CN=sa0, O=realcluster", leaf.SerialNumber.Text(16), leaf.NotAfter, true},
		"transport-ca.crt": {"CN=ca1, O=realcluster", ca.SerialNumber.Text(16), ca.NotAfter, false},
	} {
		c, found := byPath[path]
		if !found {
			t.Errorf("%s not listed; listing %+v", path, f.Certificates)
			continue
		}
		if c.SubjectDN != want.subject || c.SerialNumber != want.serial || c.HasPrivateKey != want.key || c.Issuer != "CN=ca1, O=realcluster" {
			t.Errorf("%s = %+v, want subject %q serial %s private key %v issuer CN=ca1, O=realcluster", path, c, want.subject, want.serial, want.key)
		}
		e.want(t, "es_remote_cluster_certificate_not_after_timestamp_seconds", map[string]string{"es_cluster": "sa", "path": path, "node": "sa0"},
			float64(want.notAfter.Unix()))
	}
	if len(f.Certificates) != 2 {
		t.Errorf("%d certificates listed, want 2: %+v", len(f.Certificates), f.Certificates)
	}
}

// TestSecurityMismatchedCA: sx's transport certificate comes from ca2,
// which sa does not trust. Real Elasticsearch cannot connect (both
// _remote/info and _resolve/cluster say so) and the exporter's own probe of
// the transport port finds the reason: the issuer is not among sa's CAs.
func TestSecurityMismatchedCA(t *testing.T) {
	e := securedExporter(t, "exporter")
	f := e.poll(t, "sa")
	if l := linkOf(f, "to_sx"); l == nil || l.Connected {
		t.Errorf("to_sx link %+v, want disconnected", l)
	}
	if r := resolvedOf(f, "to_sx"); r == nil || r.Connected {
		t.Errorf("to_sx resolve entry %+v, want connected:false", r)
	}
	e.want(t, "es_remote_link_trust_info", map[string]string{"es_cluster": "sa", "remote": "to_sx",
		"direction": "local_trusts_remote", "status": "untrusted", "reason": "unknown_ca"}, 1)
	e.want(t, "es_remote_link_trust_info", map[string]string{"es_cluster": "sa", "remote": "to_sb",
		"direction": "local_trusts_remote", "status": "trusted"}, 1)
	e.want(t, "es_remote_link_connected", map[string]string{"es_cluster": "sa", "remote": "to_sx"}, 0)
	e.want(t, "es_remote_link_connected", map[string]string{"es_cluster": "sa", "remote": "to_sb"}, 1)
}

// TestSecurityFileRolesInvisible: roles defined in roles.yml (the only
// roles this distribution can hold, see the README) are not returned by
// GET /_security/role/<name>: 404 with an empty object, as NOTES.md says
// ("native realm only").
func TestSecurityFileRolesInvisible(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, body, err := fx.sa.Do(ctx, "GET", "/_security/role/remote_monitor", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 || strings.TrimSpace(string(body)) != "{}" || resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Errorf("GET /_security/role/remote_monitor = %d %s (product %q), want 404 {} with the product header",
			resp.StatusCode, body, resp.Header.Get("X-Elastic-Product"))
	}
}

// TestSecurityAPIKeyModel: sa (8.19) reaches sb (9.x) through the API-key
// model: a
// cross-cluster API key issued by sb (trial license) in sa's keystore, a
// proxy link to sb's remote cluster server port. Real _remote/info marks
// such a link with cluster_credentials "::es_redacted::", and the exporter
// reports it as auth=api_key, connected and reachable.
func TestSecurityAPIKeyModel(t *testing.T) {
	e := securedExporter(t, "exporter")
	f := e.poll(t, "sa")
	l := linkOf(f, "apikey_sb")
	if l == nil || !l.Connected || l.Mode != "proxy" || l.ClusterCredentials == nil || *l.ClusterCredentials != "::es_redacted::" ||
		l.ProxyAddress == nil || *l.ProxyAddress != fx.sb.RemoteClusterAddress() {
		t.Fatalf("apikey_sb = %+v, want a connected proxy link to %s with cluster_credentials ::es_redacted::", l, fx.sb.RemoteClusterAddress())
	}
	if l := linkOf(f, "to_sb"); l == nil || l.ClusterCredentials != nil {
		t.Errorf("to_sb (certificate model) = %+v, want no cluster_credentials", l)
	}
	if r := resolvedOf(f, "apikey_sb"); r == nil || !r.Connected || r.Version == nil || r.Version.Number != V9 {
		t.Errorf("apikey_sb resolve entry %+v, want connected with version %s", r, V9)
	}
	e.want(t, "es_remote_link_info", map[string]string{"es_cluster": "sa", "remote": "apikey_sb", "auth": "api_key", "mode": "proxy"}, 1)
	e.want(t, "es_remote_link_info", map[string]string{"es_cluster": "sa", "remote": "to_sb", "auth": "certificate", "mode": "sniff"}, 1)
	e.want(t, "es_remote_link_connected", map[string]string{"es_cluster": "sa", "remote": "apikey_sb"}, 1)
	e.want(t, "es_remote_link_reachable", map[string]string{"es_cluster": "sa", "remote": "apikey_sb"}, 1)
}

// TestSecurityNativeRole: with the harness module's analysis stand-ins the
// .security index exists, so native roles work: one made through the
// security API is returned by GET /_security/role with the fields
// NOTES.md lists (remote_indices only when set).
func TestSecurityNativeRole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	role := map[string]any{
		"cluster":        []string{"monitor"},
		"indices":        []map[string]any{{"names": []string{"logs-*"}, "privileges": []string{"read"}}},
		"remote_indices": []map[string]any{{"clusters": []string{"to_sb"}, "names": []string{"logs-*"}, "privileges": []string{"read"}}},
	}
	resp, b, err := fx.sa.Do(ctx, "PUT", "/_security/role/native_reader", role)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT native role: %v %v %s", err, resp, errorText(b))
	}
	t.Cleanup(func() { fx.sa.Do(context.Background(), "DELETE", "/_security/role/native_reader", nil) })
	var got map[string]map[string]any
	if st, err := fx.sa.GetJSON(ctx, "/_security/role/native_reader", &got); err != nil || st != 200 {
		t.Fatalf("GET native role: %d %v", st, err)
	}
	r, ok := got["native_reader"]
	if !ok {
		t.Fatalf("GET /_security/role/native_reader = %v, want the role", got)
	}
	for _, field := range []string{"cluster", "indices", "applications", "run_as", "metadata", "transient_metadata", "remote_indices"} {
		if _, ok := r[field]; !ok {
			t.Errorf("native_reader lacks %q: %v", field, r)
		}
	}
	if _, ok := r["remote_cluster"]; ok {
		t.Errorf("native_reader has remote_cluster without one set: %v", r)
	}
}
