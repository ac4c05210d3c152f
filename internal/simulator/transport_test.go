package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

var probeOpts = tlsprobe.Options{Timeout: 5 * time.Second, PostHandshakeWait: 300 * time.Millisecond}

// probeAs dials addr presenting the first node identity of as (nil = none).
func probeAs(t *testing.T, addr string, as *Cluster) tlsprobe.Result {
	t.Helper()
	o := probeOpts
	if as != nil {
		id, err := as.NodeTLSCertificate(as.NodeNames()[0])
		if err != nil {
			t.Fatal(err)
		}
		o.ClientCertificate = &id
	}
	return tlsprobe.Probe(t.Context(), addr, o)
}

func pemCerts(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	certs, err := tlsprobe.ParseCertificatesPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

// sslEntry is one element of GET /_ssl/certificates.
type sslEntry struct {
	path, format, subject, serial, expiry, issuer string
	alias                                         *string
	hasKey, hasIssuer                             bool
	node                                          *jnode
}

func sslEntries(t *testing.T, body []byte) []sslEntry {
	t.Helper()
	arr := parseOrdered(t, body)
	if arr.kind != "array" {
		t.Fatalf("top level is %s, want array", arr.kind)
	}
	var out []sslEntry
	for _, n := range arr.vals {
		e := sslEntry{path: n.mustGet(t, "path").str, format: n.mustGet(t, "format").str,
			subject: n.mustGet(t, "subject_dn").str, serial: n.mustGet(t, "serial_number").str,
			expiry: n.mustGet(t, "expiry").str, hasKey: n.mustGet(t, "has_private_key").b, node: n}
		if a := n.mustGet(t, "alias"); a.kind == "string" {
			e.alias = &a.str
		}
		if i := n.get("issuer"); i != nil {
			e.issuer, e.hasIssuer = i.str, true
		}
		out = append(out, e)
	}
	return out
}

var (
	expiryFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$`)
	serialFormat = regexp.MustCompile(`^[1-9a-f][0-9a-f]*$`)
)

func TestSSLCertificatesMatchRecordedShapeAndServedCertificates(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "prod", Version: "8.19.2", Nodes: []NodeSpec{{Name: "es01"}, {Name: "es02"}}})

	res := get(t, cl, c.URL()+"/_ssl/certificates")
	wantStatus(t, res, 200)
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	entries := sslEntries(t, res.body)
	sample := loadTestdata(t, "ssl_certificates_8.19.json")
	shapes := map[string]bool{}
	for _, v := range sample.vals {
		shapes[v.shape()] = true
	}
	for _, e := range entries {
		if !shapes[e.node.shape()] {
			t.Errorf("entry %s has a shape not in the recorded sample: %s", e.path, e.node.shape())
		}
		if !expiryFormat.MatchString(e.expiry) || !serialFormat.MatchString(e.serial) {
			t.Errorf("expiry %q / serial %q format", e.expiry, e.serial)
		}
	}
	type row struct {
		path, alias, subject, issuer string
		key                          bool
	}
	var got []row
	for _, e := range entries {
		a := "<null>"
		if e.alias != nil {
			a = *e.alias
		}
		got = append(got, row{e.path, a, e.subject, e.issuer, e.hasKey})
	}
	const ca, httpCA = SharedTransportCADN, "CN=Elasticsearch simulator HTTP CA"
	want := []row{
		{"certs/ca/ca.crt", "<null>", ca, ca, false},
		{"certs/es01/es01.crt", "<null>", "CN=es01", ca, true},
		{"certs/http.p12", "http", "CN=localhost", httpCA, true},
		{"certs/http.p12", "http", httpCA, httpCA, false},
		{"certs/http.p12", "http_ca", httpCA, httpCA, true},
	}
	// Sorted by path, alias, serial: the two "http" rows may swap.
	if len(got) == 5 && got[2].subject != "CN=localhost" {
		want[2], want[3] = want[3], want[2]
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries\n got %v\nwant %v", got, want)
	}

	// The listing is what the node really serves on its transport port...
	r := probeAs(t, c.TransportAddresses()[0], c)
	if r.ClientAuth != tlsprobe.ClientAuthAccepted || len(r.Chain) != 1 {
		t.Fatalf("probe: %q %v chain %d", r.ClientAuth, r.Err, len(r.Chain))
	}
	leaf := entries[1]
	if r.Chain[0].Serial != leaf.serial || r.Chain[0].Subject != leaf.subject || r.Chain[0].Issuer != leaf.issuer ||
		r.Chain[0].NotAfter.Format("2006-01-02T15:04:05.000Z") != leaf.expiry {
		t.Errorf("served leaf %+v, listed %+v", r.Chain[0], leaf)
	}
	if !slices.Equal(r.AcceptableCAs, []string{entries[0].subject}) {
		t.Errorf("acceptable CAs %q, truststore %q", r.AcceptableCAs, entries[0].subject)
	}
	// ... and on its HTTP port.
	conn, err := tls.Dial("tcp", strings.TrimPrefix(c.URL(), "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	httpLeaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	for _, e := range entries {
		if e.alias != nil && *e.alias == "http" && e.hasKey && e.serial != trust.Serial(httpLeaf) {
			t.Errorf("listed HTTP certificate %s, served %s", e.serial, trust.Serial(httpLeaf))
		}
	}
}

func TestSSLCertificatesPerVersion(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	// The order models SSLService#getLoadedCertificates: 8.x collects into a
	// sorted set (CertificateInfo's comparator), 7.x into a HashSet, whose
	// order follows the entries' hashes (the simulator: hashOrder, fnv32a of
	// every field, serial numbers included). The certificates are generated
	// anew in every run, so a 7.x listing comes out sorted by chance about
	// once in 60 runs: the test states the order each version produces for
	// the certificates the node really has instead of "not sorted".
	for _, tc := range []struct {
		version string
		issuer  bool
		sorted  bool
	}{
		{"7.17.22", false, false},
		{"8.3.3", false, true},
		{"8.4.0", true, true},
		{"9.1.5", true, true},
	} {
		c := addCluster(t, s, ClusterSpec{Name: "v" + tc.version, Version: tc.version,
			Transport: TransportSpec{OwnCA: true, Intermediate: true}})
		c.TrustCluster(s.Cluster("v" + tc.version)) // own CA already trusted: no duplicate
		entries := sslEntries(t, get(t, cl, c.URL()+"/_ssl/certificates").body)
		if len(entries) != 6 {
			t.Errorf("%s: %d entries, want 6 (leaf, intermediate, CA, 3 HTTP)", tc.version, len(entries))
		}
		for _, e := range entries {
			if e.hasIssuer != tc.issuer {
				t.Errorf("%s: issuer present %v", tc.version, e.hasIssuer)
			}
			if e.path == "certs/v"+tc.version+"-es01/v"+tc.version+"-es01.crt" && !e.hasKey &&
				e.subject != "CN=v"+tc.version+" Transport Intermediate CA" {
				t.Errorf("%s: intermediate entry %+v", tc.version, e)
			}
		}
		want := c.configuredCertificates(0)
		if tc.sorted {
			slices.SortStableFunc(want, compareStored)
		} else {
			want = hashOrder(want, storedKey)
		}
		entryKey := func(path string, alias *string, serial string) string {
			if alias == nil {
				return path + " - " + serial
			}
			return path + " " + *alias + " " + serial
		}
		var got, wantOrder, paths []string
		for _, e := range entries {
			got = append(got, entryKey(e.path, e.alias, e.serial))
			paths = append(paths, e.path)
		}
		if tc.sorted && !slices.IsSorted(paths) {
			t.Errorf("%s: paths not sorted: %q", tc.version, paths)
		}
		for _, sc := range want {
			wantOrder = append(wantOrder, entryKey(sc.path, sc.alias, trust.Serial(sc.cert)))
		}
		wantOrder = slices.Compact(wantOrder) // the own CA, trusted twice, is listed once
		if !slices.Equal(got, wantOrder) {
			t.Errorf("%s: entries in order\n%q\nwant (sorted=%v)\n%q", tc.version, got, tc.sorted, wantOrder)
		}
	}
	// 7.x's hash order is not a sort in disguise: over fixed keys it reorders
	// a sorted list (fnv32a of "a".."f" is not monotonic).
	keys := []string{"a", "b", "c", "d", "e", "f"}
	if h := hashOrder(keys, func(s string) string { return s }); slices.IsSorted(h) || len(h) != len(keys) {
		t.Errorf("hashOrder(%q) = %q: sorted, so 7.x listings would look like 8.x ones", keys, h)
	}
	plain := addCluster(t, s, ClusterSpec{Name: "plain", Version: "8.19.2", PlainHTTP: true})
	if entries := sslEntries(t, get(t, cl, plain.URL()+"/_ssl/certificates").body); len(entries) != 2 {
		t.Errorf("plain HTTP cluster lists %d entries, want the 2 transport ones", len(entries))
	}
	c := s.Cluster("v9.1.5")
	res := get(t, cl, c.URL()+"/_ssl/certificates", basic("nopriv", "nopriv"))
	wantStatus(t, res, 403)
	if !strings.Contains(string(res.body), "action [cluster:monitor/xpack/ssl/certificates/get] is unauthorized") {
		t.Errorf("403 body %s", res.body)
	}
	wantStatus(t, do(t, cl, "POST", c.URL()+"/_ssl/certificates"), 405)
}

func TestTransportRequiresMutualTLS(t *testing.T) {
	s := newSim(t)
	for _, ver := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		name := strings.ReplaceAll(strings.ToLower(tls.VersionName(ver)), " ", "")
		a := addCluster(t, s, ClusterSpec{Name: "a-" + name, Version: "8.19.2", Transport: TransportSpec{MaxTLSVersion: ver}})
		b := addCluster(t, s, ClusterSpec{Name: "b-" + name, Version: "8.19.2", Transport: TransportSpec{OwnCA: true}})
		addr := a.TransportAddresses()[0]
		for _, tc := range []struct {
			as      *Cluster
			outcome tlsprobe.ClientAuth
		}{
			{a, tlsprobe.ClientAuthAccepted},
			{nil, tlsprobe.ClientAuthRejected},
			{b, tlsprobe.ClientAuthRejected},
		} {
			r := probeAs(t, addr, tc.as)
			if r.Version != ver || r.ClientAuth != tc.outcome || len(r.Chain) != 1 {
				t.Errorf("%s as %v: version %s outcome %q alert %q chain %d err %v", name, tc.as != nil,
					r.VersionName(), r.ClientAuth, r.PeerAlert, len(r.Chain), r.Err)
			}
			if tc.as == b && r.PeerAlert != "unknown_ca" {
				t.Errorf("%s: foreign identity answered with %q", name, r.PeerAlert)
			}
		}
	}
	// verification_mode none still requires a certificate, but any will do.
	lax := addCluster(t, s, ClusterSpec{Name: "lax", Version: "8.19.2", Transport: TransportSpec{VerificationMode: "none"}})
	stranger := addCluster(t, s, ClusterSpec{Name: "stranger", Version: "8.19.2", Transport: TransportSpec{OwnCA: true}})
	if r := probeAs(t, lax.TransportAddresses()[0], stranger); r.ClientAuth != tlsprobe.ClientAuthAccepted {
		t.Errorf("verification_mode none refused a foreign certificate: %q %v", r.ClientAuth, r.Err)
	}
	if r := probeAs(t, lax.TransportAddresses()[0], nil); r.ClientAuth != tlsprobe.ClientAuthRejected {
		t.Errorf("verification_mode none accepted no certificate: %q", r.ClientAuth)
	}
	for _, bad := range []struct {
		spec TransportSpec
		want string
	}{
		{TransportSpec{MaxTLSVersion: tls.VersionTLS11}, "MaxTLSVersion 0x302: want tls.VersionTLS12 or tls.VersionTLS13"},
		{TransportSpec{VerificationMode: "strict"}, `verification mode "strict": want full, certificate or none`},
		{TransportSpec{CADN: "XX=bad"}, `unsupported attribute "XX"`},
	} {
		_, err := s.AddCluster(ClusterSpec{Name: "bad", Version: "8.19.2", Transport: bad.spec})
		wantErrContains(t, err, bad.want, fmt.Sprintf("AddCluster with transport %+v", bad.spec))
	}
}

func entryAt(t *testing.T, entries []sslEntry, path string) sslEntry {
	t.Helper()
	for _, e := range entries {
		if e.path == path {
			return e
		}
	}
	t.Fatalf("no entry for %s", path)
	return sslEntry{}
}

// linkConnected reads one alias of _remote/info.
func linkConnected(t *testing.T, c *Cluster, alias string) bool {
	t.Helper()
	cl := newClient(t, c.sim)
	return parseOrdered(t, get(t, cl, c.URL()+"/_remote/info").body).mustGet(t, alias, "connected").b
}

func TestLinksFollowTransportTrust(t *testing.T) {
	past := time.Now().AddDate(-2, 0, 0)
	for _, tc := range []struct {
		name      string
		local     TransportSpec
		remote    TransportSpec
		trust     string // "", "both", "local-trusts-remote", "remote-trusts-local"
		connected bool
	}{
		{"shared CA (default)", TransportSpec{}, TransportSpec{}, "", true},
		{"own CAs, no trust", TransportSpec{OwnCA: true}, TransportSpec{OwnCA: true}, "", false},
		{"own CAs, mutual trust", TransportSpec{OwnCA: true}, TransportSpec{OwnCA: true}, "both", true},
		{"only local trusts remote", TransportSpec{OwnCA: true}, TransportSpec{OwnCA: true}, "local-trusts-remote", false},
		{"only remote trusts local", TransportSpec{OwnCA: true}, TransportSpec{OwnCA: true}, "remote-trusts-local", false},
		{"remote behind an intermediate", TransportSpec{OwnCA: true}, TransportSpec{OwnCA: true, Intermediate: true}, "both", true},
		{"remote certificates expired", TransportSpec{}, TransportSpec{NotBefore: past, NotAfter: time.Now().Add(-time.Hour)}, "", false},
		{"local certificates not yet valid", TransportSpec{NotBefore: time.Now().Add(time.Hour)}, TransportSpec{}, "", false},
		{"remote CA expired", TransportSpec{}, TransportSpec{CANotBefore: past, CANotAfter: time.Now().Add(-time.Hour),
			NotBefore: past.Add(time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}, "both", false},
		{"remote without SANs, local full", TransportSpec{}, TransportSpec{NoSANs: true}, "", false},
		{"remote without SANs, local certificate", TransportSpec{VerificationMode: "certificate"}, TransportSpec{NoSANs: true}, "", true},
		{"local without SANs (servers check no hostname)", TransportSpec{NoSANs: true}, TransportSpec{}, "", true},
		{"local serverAuth only", TransportSpec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, TransportSpec{}, "", false},
		{"remote clientAuth only", TransportSpec{}, TransportSpec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, "", false},
		{"both usages", TransportSpec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
			TransportSpec{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}, "", true},
		{"local verifies nothing", TransportSpec{OwnCA: true, VerificationMode: "none"}, TransportSpec{OwnCA: true}, "remote-trusts-local", true},
		{"remote TLS 1.2 only", TransportSpec{}, TransportSpec{MaxTLSVersion: tls.VersionTLS12}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t)
			local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2", Transport: tc.local})
			remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2",
				Nodes: []NodeSpec{{Name: "r1"}, {Name: "r2"}}, Transport: tc.remote})
			switch tc.trust {
			case "both":
				s.Trust(local, remote)
			case "local-trusts-remote":
				local.TrustCluster(remote)
			case "remote-trusts-local":
				remote.TrustCluster(local)
			}
			addLink(t, local, LinkSpec{Alias: "sniff", Remote: "remote"})
			addLink(t, local, LinkSpec{Alias: "proxy", Remote: "remote", Mode: "proxy", ServerName: "remote.example.com"})
			for _, alias := range []string{"sniff", "proxy"} {
				if got := linkConnected(t, local, alias); got != tc.connected {
					t.Errorf("%s connected = %v, want %v", alias, got, tc.connected)
				}
			}
			// _resolve/cluster: a failed handshake is "remote unavailable".
			cl := newClient(t, s)
			entry := parseOrdered(t, get(t, cl, local.URL()+"/_resolve/cluster").body).mustGet(t, "sniff")
			wantBool(t, entry, tc.connected, "connected")
			if !tc.connected && entry.get("error") != nil {
				t.Errorf("resolve entry has an error field: %s", entry.get("error").str)
			}

			// The simulator's decision agrees with a real handshake from the
			// local node to the remote node plus the local side's own check.
			r := probeAs(t, remote.TransportAddresses()[0], local)
			localMode, _ := trust.ParseVerificationMode(tc.local.VerificationMode)
			v := trust.VerifyPeer(r.PeerCertificates(), pemCerts(t, local.TrustedCACertsPEM()), time.Now(),
				trust.Peer{Usage: x509.ExtKeyUsageServerAuth, Mode: localMode, Hosts: []string{"127.0.0.1"}})
			handshakeOK := r.ClientAuth == tlsprobe.ClientAuthAccepted && v.Status == trust.Trusted
			if handshakeOK != tc.connected {
				t.Errorf("handshake says %v (client auth %q alert %q, verdict %+v), link says %v",
					handshakeOK, r.ClientAuth, r.PeerAlert, v, tc.connected)
			}
		})
	}
}

// TestTrustStorePool: the nodes' listeners verify client certificates
// against the truststore's own pool, built once: every node of every
// cluster on the Sim's shared store uses the same pool, and a truststore
// change gives the cluster's nodes one new pool with the new contents.
func TestTrustStorePool(t *testing.T) {
	s := newSim(t)
	a := addCluster(t, s, ClusterSpec{Name: "pa", Version: "8.19.2", Nodes: []NodeSpec{{Name: "pa1"}, {Name: "pa2"}}})
	b := addCluster(t, s, ClusterSpec{Name: "pb", Version: "8.19.2"})
	own := addCluster(t, s, ClusterSpec{Name: "po", Version: "8.19.2", Transport: TransportSpec{OwnCA: true}})
	pools := func(c *Cluster) []*x509.CertPool {
		c.mu.Lock()
		defer c.mu.Unlock()
		var out []*x509.CertPool
		for _, n := range c.nodes {
			out = append(out, n.tlsConfig.Load().ClientCAs)
		}
		return out
	}
	for _, p := range append(pools(a), pools(b)...) {
		if p != s.sharedStore.pool {
			t.Fatal("a node on the shared store has a pool of its own")
		}
	}
	verifies := func(p *x509.CertPool, c *Cluster, node string) bool {
		crt, err := c.NodeTLSCertificate(node)
		if err != nil {
			t.Fatal(err)
		}
		_, err = crt.Leaf.Verify(x509.VerifyOptions{Roots: p, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err == nil
	}
	a.TrustCluster(own)
	ps := pools(a)
	if ps[0] == s.sharedStore.pool || ps[0] != ps[1] {
		t.Fatal("after TrustCluster the nodes do not share one new pool")
	}
	if !verifies(ps[0], own, "po-es01") || !verifies(ps[0], b, "pb-es01") {
		t.Error("the new pool lacks a trusted CA")
	}
	a.UntrustCluster(own)
	if ps = pools(a); verifies(ps[0], own, "po-es01") || !verifies(ps[0], b, "pb-es01") {
		t.Error("after UntrustCluster: wrong pool contents")
	}
	// A rotation keeps what the store trusted besides the old CA.
	a.TrustCluster(own)
	if err := a.RotateTransportCA(RotateSpec{KeepOldTrusted: true}); err != nil {
		t.Fatal(err)
	}
	ps = pools(a)
	if !verifies(ps[0], a, "pa1") || !verifies(ps[0], own, "po-es01") || !verifies(ps[0], b, "pb-es01") || ps[0] != ps[1] {
		t.Error("after RotateTransportCA: wrong pool contents")
	}
	if s.sharedStore.pool != pools(b)[0] {
		t.Error("rotating one cluster's CA changed the shared store")
	}
}

// verifyCacheLen is how many full verifications the Sim has cached: zero
// when every connection so far took mutualTrust's fast path.
func verifyCacheLen(s *Sim) int {
	s.verifyMu.Lock()
	defer s.verifyMu.Unlock()
	return len(s.verifyCache)
}

// TestProxyLinkHostnameCheck: in verification_mode full the local side
// checks the proxy's host (or server_name) against the remote node's SANs
// (node name, localhost, 127.0.0.1), whether the clusters share the Sim's
// CA (mutualTrust's fast path) or trust each other's own CAs (the full
// verification); verification_mode certificate and none skip the check.
func TestProxyLinkHostnameCheck(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ownCAs     bool
		mode       string // local verification_mode
		host       string // of the proxy address
		serverName string
		connected  bool
	}{
		{"shared CA, full, host not in SANs", false, "", "proxy.example.com", "", false},
		{"own CAs, full, host not in SANs", true, "", "proxy.example.com", "", false},
		{"shared CA, full, IP not in SANs", false, "", "10.1.2.3", "", false},
		{"shared CA, full, localhost", false, "", "localhost", "", true},
		{"own CAs, full, localhost", true, "", "localhost", "", true},
		{"shared CA, full, node name", false, "full", "remote-es01", "", true},
		{"shared CA, full, server_name in SANs", false, "", "proxy.example.com", "localhost", true},
		{"shared CA, full, server_name not in SANs", false, "", "127.0.0.1", "proxy.example.com", true},
		{"shared CA, certificate, host not in SANs", false, "certificate", "proxy.example.com", "", true},
		{"own CAs, certificate, host not in SANs", true, "certificate", "proxy.example.com", "", true},
		{"shared CA, none, host not in SANs", false, "none", "proxy.example.com", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t)
			local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2",
				Transport: TransportSpec{OwnCA: tc.ownCAs, VerificationMode: tc.mode}})
			remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2",
				Transport: TransportSpec{OwnCA: tc.ownCAs}})
			if tc.ownCAs {
				s.Trust(local, remote)
			}
			_, port, err := net.SplitHostPort(remote.TransportAddresses()[0])
			if err != nil {
				t.Fatal(err)
			}
			addLink(t, local, LinkSpec{Alias: "proxy", Remote: "remote", Mode: "proxy",
				ProxyAddress: net.JoinHostPort(tc.host, port), ServerName: tc.serverName})
			if got := linkConnected(t, local, "proxy"); got != tc.connected {
				t.Errorf("proxy connected = %v, want %v", got, tc.connected)
			}
			if !tc.ownCAs && tc.connected && verifyCacheLen(s) != 0 {
				t.Errorf("%d full verifications: the shared-CA fast path was not taken", verifyCacheLen(s))
			}

			// The decision agrees with a real handshake plus the local
			// side's own check against the names the link connects to.
			var hosts []string
			if tc.serverName != "" {
				hosts = append(hosts, tc.serverName)
			}
			hosts = append(hosts, tc.host)
			r := probeAs(t, remote.TransportAddresses()[0], local)
			mode, _ := trust.ParseVerificationMode(tc.mode)
			v := trust.VerifyPeer(r.PeerCertificates(), pemCerts(t, local.TrustedCACertsPEM()), time.Now(),
				trust.Peer{Usage: x509.ExtKeyUsageServerAuth, Mode: mode, Hosts: hosts})
			handshakeOK := r.ClientAuth == tlsprobe.ClientAuthAccepted && v.Status == trust.Trusted
			if handshakeOK != tc.connected {
				t.Errorf("handshake says %v (client auth %q, verdict %+v), link says %v", handshakeOK, r.ClientAuth, v, tc.connected)
			}
			if !tc.connected && v.Reason != trust.ReasonHostname {
				t.Errorf("verdict reason %q, want %q", v.Reason, trust.ReasonHostname)
			}
		})
	}
}

func TestCARotationBreaksLinksOnlyOnReconnect(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2"})
	remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2"})
	addLink(t, local, LinkSpec{Alias: "r", Remote: "remote"})
	if !linkConnected(t, local, "r") {
		t.Fatal("not connected before rotation")
	}
	before := sslEntries(t, get(t, cl, remote.URL()+"/_ssl/certificates").body)

	// Same DN, new key, old CA dropped from the remote's truststore.
	if err := remote.RotateTransportCA(RotateSpec{}); err != nil {
		t.Fatal(err)
	}
	if !linkConnected(t, local, "r") {
		t.Error("open connections must survive a CA rotation")
	}
	after := sslEntries(t, get(t, cl, remote.URL()+"/_ssl/certificates").body)
	const caPath, leafPath = "certs/ca/ca.crt", "certs/remote-es01/remote-es01.crt"
	caBefore, caAfter := entryAt(t, before, caPath), entryAt(t, after, caPath)
	leafBefore, leafAfter := entryAt(t, before, leafPath), entryAt(t, after, leafPath)
	if caBefore.subject != caAfter.subject || caBefore.serial == caAfter.serial || leafBefore.serial == leafAfter.serial ||
		leafAfter.issuer != SharedTransportCADN {
		t.Errorf("rotation: CA %s/%s -> %s/%s, leaf %s -> %s", caBefore.subject, caBefore.serial,
			caAfter.subject, caAfter.serial, leafBefore.serial, leafAfter.serial)
	}
	// A probe sees the new chain at once; by name it still looks fine.
	r := probeAs(t, remote.TransportAddresses()[0], local)
	if r.Chain[0].Serial != leafAfter.serial || r.ClientAuth != tlsprobe.ClientAuthRejected || r.PeerAlert != "unknown_ca" {
		t.Errorf("probe after rotation: serial %s outcome %q alert %q", r.Chain[0].Serial, r.ClientAuth, r.PeerAlert)
	}
	if v := trust.IssuerMatch([]string{r.Chain[0].Issuer}, []string{SharedTransportCADN}); v.Status != trust.Trusted {
		t.Errorf("issuer match %+v", v)
	}
	v := trust.VerifyChain(r.PeerCertificates(), pemCerts(t, local.TrustedCACertsPEM()), time.Now(), x509.ExtKeyUsageServerAuth)
	if v.Reason != trust.ReasonUnknownCA || !strings.Contains(v.Detail, "different key") {
		t.Errorf("files verdict %+v", v)
	}

	// The remote restarts: the link drops and cannot come back.
	remote.Stop()
	if err := remote.Start(); err != nil {
		t.Fatal(err)
	}
	local.ReconnectRemotes()
	if linkConnected(t, local, "r") {
		t.Error("reconnected although neither side trusts the other")
	}
	entry := parseOrdered(t, get(t, cl, local.URL()+"/_resolve/cluster").body).mustGet(t, "r")
	wantBool(t, entry, false, "connected")

	// The remote trusts the local again, the local not yet the remote.
	remote.TrustCluster(local)
	local.ReconnectRemotes()
	if linkConnected(t, local, "r") {
		t.Error("reconnected although the local side does not trust the new CA")
	}
	local.TrustCluster(remote)
	wantBool(t, parseOrdered(t, get(t, cl, local.URL()+"/_resolve/cluster").body).mustGet(t, "r"), true, "connected")
	if !linkConnected(t, local, "r") {
		t.Error("not reconnected after mutual trust was restored")
	}
	if r := probeAs(t, remote.TransportAddresses()[0], local); r.ClientAuth != tlsprobe.ClientAuthAccepted {
		t.Errorf("probe after trust restored: %q %q", r.ClientAuth, r.PeerAlert)
	}

	// KeepOldTrusted: the rotating side still accepts the old CA.
	if err := remote.RotateTransportCA(RotateSpec{DN: "CN=Remote CA 2026", KeepOldTrusted: true}); err != nil {
		t.Fatal(err)
	}
	entries := sslEntries(t, get(t, cl, remote.URL()+"/_ssl/certificates").body)
	var cas []string
	for _, e := range entries {
		if strings.HasPrefix(e.path, "certs/ca/") {
			cas = append(cas, e.path+"="+e.subject)
		}
	}
	want := []string{"certs/ca/ca-previous.crt=" + SharedTransportCADN, "certs/ca/ca.crt=CN=Remote CA 2026",
		"certs/ca/local-ca.crt=" + SharedTransportCADN}
	if !slices.Equal(cas, want) {
		t.Errorf("truststore after second rotation %q, want %q", cas, want)
	}
	if r := probeAs(t, remote.TransportAddresses()[0], local); r.ClientAuth != tlsprobe.ClientAuthAccepted || r.Chain[0].Issuer != "CN=Remote CA 2026" {
		t.Errorf("remote must still accept the local node: %q, issuer %s", r.ClientAuth, r.Chain[0].Issuer)
	}
}

func TestReissueNodeCertificates(t *testing.T) {
	s := newSim(t)
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2"})
	remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2"})
	if err := remote.ReissueNodeCertificates(time.Now().AddDate(-1, 0, 0), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	r := probeAs(t, remote.TransportAddresses()[0], local)
	if r.Chain[0].NotAfter.After(time.Now()) {
		t.Fatalf("served certificate not the reissued one: %s", r.Chain[0].NotAfter)
	}
	addLink(t, local, LinkSpec{Alias: "r", Remote: "remote"})
	if linkConnected(t, local, "r") {
		t.Error("connected to a node with an expired certificate")
	}
	certPEM, keyPEM, err := remote.NodeCertificatePEM("remote-es01")
	if err != nil || !strings.Contains(string(certPEM), "BEGIN CERTIFICATE") || !strings.Contains(string(keyPEM), "BEGIN PRIVATE KEY") {
		t.Errorf("NodeCertificatePEM: %v", err)
	}
	if _, _, err := remote.NodeCertificatePEM("nope"); err == nil {
		t.Error("unknown node accepted")
	}
	if err := remote.ReissueNodeCertificates(time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	local.ReconnectRemotes()
	if !linkConnected(t, local, "r") {
		t.Error("not reconnected after renewal")
	}
}

func TestTransportFollowsFaultsAndLifecycle(t *testing.T) {
	s := newSim(t)
	c := addCluster(t, s, ClusterSpec{Name: "c", Version: "8.19.2"})
	addr := c.TransportAddresses()[0]
	c.SetFault(Fault{Kind: FaultDrop})
	if r := probeAs(t, addr, c); r.Stage != tlsprobe.StageHandshake || len(r.Chain) != 0 {
		t.Errorf("drop: %+v", r)
	}
	c.SetFault(Fault{Kind: FaultHang})
	o := probeOpts
	o.Timeout = 300 * time.Millisecond
	if r := tlsprobe.Probe(t.Context(), addr, o); r.Stage != tlsprobe.StageHandshake || !r.Reachable {
		t.Errorf("hang: %+v", r)
	}
	c.SetFault(Fault{Kind: FaultServerError}) // HTTP only
	if r := probeAs(t, addr, c); r.ClientAuth != tlsprobe.ClientAuthAccepted {
		t.Errorf("HTTP fault touched transport: %+v", r)
	}
	c.SetFault(Fault{})

	// An open connection is closed by Stop; the port refuses until Start.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c.Stop()
	if r := probeAs(t, addr, c); r.Reachable {
		t.Errorf("stopped node reachable: %+v", r)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if r := probeAs(t, addr, c); r.ClientAuth != tlsprobe.ClientAuthAccepted {
		t.Errorf("after restart: %+v", r)
	}
}

func TestSimCACertificates(t *testing.T) {
	s := newSim(t)
	a := addCluster(t, s, ClusterSpec{Name: "a", Version: "8.19.2"})
	b := addCluster(t, s, ClusterSpec{Name: "b", Version: "8.19.2", Transport: TransportSpec{CADN: "CN=B CA, O=Example"}})
	if string(a.TransportCACertPEM()) != string(s.TransportCACertPEM()) {
		t.Error("default cluster does not use the shared CA")
	}
	bca := pemCerts(t, b.TransportCACertPEM())[0]
	if trust.SubjectDN(bca) != "CN=B CA, O=Example" {
		t.Errorf("own CA DN %q", trust.SubjectDN(bca))
	}
	s.Trust(a, b)
	if n := len(pemCerts(t, a.TrustedCACertsPEM())); n != 2 {
		t.Errorf("a trusts %d CAs after Trust", n)
	}
	a.UntrustCluster(b)
	a.UntrustCluster(a) // own CA stays
	if n := len(pemCerts(t, a.TrustedCACertsPEM())); n != 1 {
		t.Errorf("a trusts %d CAs after UntrustCluster", n)
	}
	if _, err := a.NodeTLSCertificate("x"); err == nil {
		t.Error("unknown node accepted")
	}
}
