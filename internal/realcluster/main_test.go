package realcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/certgen"
)

// fixture is the set of real clusters every test of this package shares;
// TestMain starts them once per test binary (a node takes 10-40 s to start
// on 2 cores) and tears them down at the end.
//
//	a  8.19  local: static remote static_b (elasticsearch.yml), both_b
//	         (elasticsearch.yml and cluster settings) and dynamic remotes
//	         sniff_b, proxy_b (to b), to_c (9.x), to_d (7.17)
//	b  8.19  a remote that TestRemoteNodeDownAndBack stops and restarts
//	c  9.x   (Temurin 25) remotes to_a, to_b (8.19) and to_d (7.17: the wire
//	         rule forbids it)
//	d  7.17  static_b and both_b like a, remote to_c (9.x: forbidden from
//	         this side too)
//	m  8.19 master m0 + 9.x data node m1: a rolling upgrade half done
//
// With security (x-pack-security of the same zip, transport TLS with
// certificates from internal/certgen, file and native realm users):
//
//	sa 8.19  remotes to_sb (same CA), apikey_sb (API-key model) and to_sx
//	         (sx's CA is not trusted)
//	sb 9.x   trusts ca1 like sa; serves the remote cluster port
//	sx 8.19  its own CA, ca2
type fixture struct {
	h                  *Harness
	a, b, c, d, m0, m1 *Node
	sa, sb, sx         *Node
	ca1, ca2           *certgen.Cert
	leaves             map[string]*certgen.Cert // transport certificates by node name
	admin              FileUser                 // superuser of the secured clusters
	started            time.Duration
}

var fx *fixture

func TestMain(m *testing.M) {
	start := time.Now()
	f, err := startFixture()
	if err != nil {
		fmt.Fprintln(os.Stderr, "realcluster: starting the real clusters failed:", err)
		if f != nil && f.h != nil {
			f.h.Close()
		}
		os.Exit(1) // a real-cluster test that cannot run fails, never skips
	}
	f.started = time.Since(start)
	fmt.Fprintf(os.Stderr, "realcluster: 9 nodes of 3 versions up and linked in %v\n", f.started.Round(time.Second))
	fx = f
	code := m.Run()
	stop := time.Now()
	if err := f.h.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "realcluster: tear-down:", err)
		code = 1
	}
	if err := checkNoLeftovers(f.h); err != nil {
		fmt.Fprintln(os.Stderr, "realcluster: tear-down left something behind:", err)
		code = 1
	}
	fmt.Fprintf(os.Stderr, "realcluster: torn down in %v; total %v\n", time.Since(stop).Round(time.Millisecond), time.Since(start).Round(time.Second))
	os.Exit(code)
}

func startFixture() (*fixture, error) {
	// Fetch and unpack first, one version at a time (unzip and javac are
	// CPU-bound; nodes then start in parallel).
	for _, v := range []string{V8, V9, V7} {
		if _, err := Distribution(v); err != nil {
			return nil, err
		}
	}
	h, err := New()
	if err != nil {
		return nil, err
	}
	f := &fixture{h: h, leaves: map[string]*certgen.Cert{}, admin: FileUser{Name: "harness_admin", Password: randomPassword(), Roles: []string{"superuser"}}}
	f.ca1, f.ca2 = certgen.MustNew(certgen.Options{Subject: "CN=ca1, O=realcluster", IsCA: true}, nil),
		certgen.MustNew(certgen.Options{Subject: "CN=ca2, O=realcluster", IsCA: true}, nil)
	// The exporter's users and roles, in the file realm: remote_monitor
	// exists on sa and sb, local_only on sa only, so that lonely (holding
	// local_only) is denied on sb: the certificate model authorizes a
	// cross-cluster request on the remote by the role names the local
	// cluster sends ("Remote clusters, TLS certificate authentication",
	// reference docs).
	const monitorRole = `:
  cluster: [monitor, read_security]
  indices:
    - names: ["*"]
      privileges: [view_index_metadata]
  remote_indices:
    - clusters: ["apikey_*"]
      names: ["*"]
      privileges: [view_index_metadata]
`
	secured := func(cluster, name string, ca *certgen.Cert, roles []string, users ...FileUser) NodeSpec {
		leaf := certgen.MustNew(certgen.Options{Subject: "CN=" + name + ", O=realcluster",
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}, ca)
		f.leaves[name] = leaf // called before the parallel starts, not in them
		// powerless holds a role without privileges (403s).
		yml := "nothing:\n  cluster: []\n"
		for _, r := range roles {
			yml += r + monitorRole
		}
		return NodeSpec{Cluster: cluster, Name: name, Version: V8, Security: &Security{
			CertPEM: leaf.CertPEM(), KeyPEM: leaf.KeyPEM(), CAsPEM: ca.CertPEM(),
			Users: append([]FileUser{f.admin}, users...), RolesYML: yml,
		}}
	}
	exporterUser := FileUser{Name: "exporter", Password: exporterPassword, Roles: []string{"remote_monitor"}}
	lonelyUser := FileUser{Name: "lonely", Password: exporterPassword, Roles: []string{"local_only"}}
	powerlessUser := FileUser{Name: "powerless", Password: exporterPassword, Roles: []string{"nothing"}}
	// sb also serves the API-key model (remote cluster server port, a trial
	// license: the model needs enterprise or trial), and sa connects to it
	// with a cross-cluster API key that sb issues once it is up.
	trial := "xpack.license.self_generated.type: trial"
	sbSpec := secured("sb", "sb0", f.ca1, []string{"remote_monitor"}, exporterUser)
	sbSpec.Version = V9 // the remote side of both models on 9.x (Temurin 25)
	sbSpec.Security.RemoteClusterServer = true
	sbSpec.Security.Settings = []string{trial}
	saSpec := secured("sa", "sa0", f.ca1, []string{"remote_monitor", "local_only"}, exporterUser, lonelyUser, powerlessUser)
	saSpec.Security.Settings = []string{trial}
	sxSpec := secured("sx", "sx0", f.ca2, []string{"remote_monitor"}, exporterUser)
	// Remotes first: the elasticsearch.yml of a and d names b's transport
	// address.
	if err := parallel(
		func() (err error) { f.b, err = h.Start(NodeSpec{Cluster: "b", Name: "b0", Version: V8}); return },
		func() (err error) { f.c, err = h.Start(NodeSpec{Cluster: "c", Name: "c0", Version: V9}); return },
		func() (err error) {
			f.m0, err = h.Start(NodeSpec{Cluster: "m", Name: "m0", Version: V8, Bootstrap: true})
			return
		},
		func() (err error) { f.sb, err = h.Start(sbSpec); return },
	); err != nil {
		return f, err
	}
	key, err := f.crossClusterAPIKey()
	if err != nil {
		return f, err
	}
	saSpec.Security.Keystore = map[string]string{"cluster.remote.apikey_sb.credentials": key}
	// Static links: static_b only in elasticsearch.yml; both_b in
	// elasticsearch.yml and (below) in the cluster settings with another
	// skip_unavailable, which wins key by key.
	static := func(skip string) []string {
		return []string{
			`cluster.remote.static_b.seeds: ["` + f.b.TransportAddress() + `"]`,
			`cluster.remote.both_b.seeds: ["` + f.b.TransportAddress() + `"]`,
			`cluster.remote.both_b.skip_unavailable: ` + skip,
		}
	}
	if err := parallel(
		func() (err error) {
			f.a, err = h.Start(NodeSpec{Cluster: "a", Name: "a0", Version: V8, Settings: static("false")})
			return
		},
		func() (err error) {
			f.d, err = h.Start(NodeSpec{Cluster: "d", Name: "d0", Version: V7, Settings: static("true")})
			return
		},
		func() (err error) {
			// A 9.x node joins the 8.19 cluster, as in a rolling upgrade;
			// not master-eligible, so the 8.19 master stays elected.
			f.m1, err = h.Start(NodeSpec{Cluster: "m", Name: "m1", Version: V9, Join: []string{f.m0.TransportAddress()},
				Roles: []string{"data", "ingest", "remote_cluster_client"}})
			return
		},
		func() (err error) { f.sa, err = h.Start(saSpec); return },
		func() (err error) { f.sx, err = h.Start(sxSpec); return },
	); err != nil {
		return f, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	links := []struct {
		on       *Node
		settings map[string]any
	}{
		{f.a, map[string]any{
			"cluster.remote.both_b.seeds":            []string{f.b.TransportAddress()},
			"cluster.remote.both_b.skip_unavailable": true,
			"cluster.remote.sniff_b.seeds":           []string{f.b.TransportAddress()},
			"cluster.remote.proxy_b.mode":            "proxy",
			"cluster.remote.proxy_b.proxy_address":   f.b.TransportAddress(),
			"cluster.remote.to_c.seeds":              []string{f.c.TransportAddress()},
			"cluster.remote.to_d.seeds":              []string{f.d.TransportAddress()},
		}},
		{f.c, map[string]any{
			"cluster.remote.to_a.seeds": []string{f.a.TransportAddress()},
			"cluster.remote.to_b.seeds": []string{f.b.TransportAddress()},
			"cluster.remote.to_d.seeds": []string{f.d.TransportAddress()},
		}},
		{f.sa, map[string]any{
			"cluster.remote.apikey_sb.mode":          "proxy",
			"cluster.remote.apikey_sb.proxy_address": f.sb.RemoteClusterAddress(),
			"cluster.remote.to_sb.seeds":             []string{f.sb.TransportAddress()},
			"cluster.remote.to_sx.seeds":             []string{f.sx.TransportAddress()},
		}},
		{f.d, map[string]any{
			"cluster.remote.both_b.seeds":            []string{f.b.TransportAddress()},
			"cluster.remote.both_b.skip_unavailable": false,
			"cluster.remote.to_c.seeds":              []string{f.c.TransportAddress()},
		}},
	}
	for _, l := range links {
		if err := l.on.PutClusterSettings(ctx, l.settings); err != nil {
			return f, err
		}
	}
	return f, nil
}

// crossClusterAPIKey creates, on sb, the cross-cluster API key sa uses for
// the link apikey_sb (POST /_security/cross_cluster/api_key, 8.10+) and
// returns its encoded form.
func (f *fixture) crossClusterAPIKey() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := map[string]any{"name": "sa-to-sb", "access": map[string]any{"search": []map[string]any{{"names": []string{"*"}}}}}
	resp, b, err := f.sb.Do(ctx, http.MethodPost, "/_security/cross_cluster/api_key", body)
	if err != nil {
		return "", err
	}
	var key struct {
		Encoded string `json:"encoded"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &key) != nil || key.Encoded == "" {
		return "", fmt.Errorf("POST /_security/cross_cluster/api_key on sb: %d %s", resp.StatusCode, errorText(b))
	}
	return key.Encoded, nil
}

// errorText keeps an error body short and free of anything but the error.
func errorText(b []byte) string {
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != nil {
		out, _ := json.Marshal(e.Error)
		return string(out)
	}
	return fmt.Sprintf("(%d bytes)", len(b))
}

// exporterPassword is the password of the exporter's users (generated per
// run).
var exporterPassword = randomPassword()

func randomPassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// parallel runs fns concurrently and returns their first error.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn() }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkNoLeftovers verifies the tear-down: no directory and no process of
// any node's group.
func checkNoLeftovers(h *Harness) error {
	if _, err := os.Stat(h.Dir()); !os.IsNotExist(err) {
		return fmt.Errorf("%s still exists (%v)", h.Dir(), err)
	}
	if g := h.Leftovers(); len(g) > 0 {
		return fmt.Errorf("process groups %v still have processes", g)
	}
	return nil
}
