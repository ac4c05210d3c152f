package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/es-remote-exporter/es_remote_exporter/internal/certgen"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// pki is one cluster's CA and a node certificate.
type pki struct {
	ca   *certgen.Cert
	node *certgen.Cert
}

func newPKI(t *testing.T, caDN, nodeName string) pki {
	t.Helper()
	ca := certgen.MustNew(certgen.Options{Subject: caDN, IsCA: true}, nil)
	n := certgen.MustNew(certgen.Options{Subject: "CN=" + nodeName, DNSNames: []string{nodeName, "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}, ca)
	return pki{ca: ca, node: n}
}

func tlsCert(chain ...*certgen.Cert) *tls.Certificate {
	c := &tls.Certificate{PrivateKey: chain[0].Key, Leaf: chain[0].Cert}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Cert.Raw)
	}
	return c
}

// server is a transport-like TLS listener: it completes handshakes, then
// waits for the client to speak (and never answers), like Elasticsearch's
// transport port.
type server struct {
	addr string
	mu   sync.Mutex
	sni  []string
}

func startServer(t *testing.T, cfg *tls.Config) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String()}
	base := cfg.Clone()
	cfg = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		s.mu.Lock()
		s.sni = append(s.sni, h.ServerName)
		s.mu.Unlock()
		return base, nil
	}}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				tc := tls.Server(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				if err := tc.Handshake(); err != nil {
					// Let the alert reach the client before the close.
					_ = c.(*net.TCPConn).CloseWrite()
					_, _ = io.Copy(io.Discard, c)
					return
				}
				_, _ = io.Copy(io.Discard, tc)
			}()
		}
	}()
	return s
}

func serverConfig(p pki, maxVer uint16, clientAuth tls.ClientAuthType, trusted ...*certgen.Cert) *tls.Config {
	pool := x509.NewCertPool()
	for _, c := range trusted {
		pool.AddCert(c.Cert)
	}
	return &tls.Config{Certificates: []tls.Certificate{*tlsCert(p.node)}, ClientAuth: clientAuth, ClientCAs: pool,
		MinVersion: tls.VersionTLS12, MaxVersion: maxVer}
}

var quick = Options{Timeout: 5 * time.Second, PostHandshakeWait: 300 * time.Millisecond}

func TestClientCertificateOutcomes(t *testing.T) {
	remote := newPKI(t, "CN=Remote CA", "r-es01")
	local := newPKI(t, "CN=Local CA", "l-es01")
	stranger := newPKI(t, "CN=Stranger CA", "x-es01")
	expiredLocal := certgen.MustNew(certgen.Options{Subject: "CN=l-es02", NotBefore: time.Now().Add(-48 * time.Hour),
		NotAfter: time.Now().Add(-time.Hour)}, local.ca)
	serverOnly := certgen.MustNew(certgen.Options{Subject: "CN=l-es03", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, local.ca)

	for _, ver := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		srv := startServer(t, serverConfig(remote, ver, tls.RequireAndVerifyClientCert, remote.ca, local.ca))
		for _, tc := range []struct {
			name       string
			cert       *tls.Certificate
			outcome    ClientAuth
			alert12    string // alert under TLS 1.2 (Go server)
			alert13    string
			verdict    trust.Status
			stageEmpty bool
		}{
			{"trusted identity", tlsCert(local.node), ClientAuthAccepted, "", "", trust.Trusted, true},
			{"identity with CA in chain", tlsCert(local.node, local.ca), ClientAuthAccepted, "", "", trust.Trusted, true},
			{"unknown CA", tlsCert(stranger.node), ClientAuthRejected, "unknown_ca", "unknown_ca", trust.Untrusted, false},
			{"expired certificate", tlsCert(expiredLocal), ClientAuthRejected, "certificate_expired", "certificate_expired", trust.Untrusted, false},
			{"serverAuth-only certificate", tlsCert(serverOnly), ClientAuthRejected, "bad_certificate", "bad_certificate", trust.Untrusted, false},
			{"no certificate", nil, ClientAuthRejected, "handshake_failure", "certificate_required", trust.Untrusted, false},
		} {
			t.Run(tls.VersionName(ver)+"/"+tc.name, func(t *testing.T) {
				o := quick
				o.ClientCertificate = tc.cert
				r := Probe(t.Context(), srv.addr, o)
				if r.Version != ver {
					t.Fatalf("version %s, want %s (err %v)", r.VersionName(), tls.VersionName(ver), r.Err)
				}
				if r.ClientAuth != tc.outcome {
					t.Fatalf("client auth %q, want %q (alert %q, err %v)", r.ClientAuth, tc.outcome, r.PeerAlert, r.Err)
				}
				wantAlert := tc.alert13
				wantStage := StagePostHandshake
				if ver == tls.VersionTLS12 {
					wantAlert, wantStage = tc.alert12, StageHandshake
				}
				if tc.stageEmpty {
					wantStage = ""
				}
				if r.PeerAlert != wantAlert || r.Stage != wantStage {
					t.Errorf("alert %q stage %q, want %q %q (err %v)", r.PeerAlert, r.Stage, wantAlert, wantStage, r.Err)
				}
				if r.RejectedByPeer != (tc.outcome == ClientAuthRejected) || r.ClientCertSent != (tc.cert != nil) {
					t.Errorf("rejected %v sent %v", r.RejectedByPeer, r.ClientCertSent)
				}
				// The chain is there whatever happened to our certificate.
				if len(r.Chain) != 1 || r.Chain[0].Subject != "CN=r-es01" || r.Chain[0].Issuer != "CN=Remote CA" {
					t.Errorf("chain %+v", r.Chain)
				}
				if !r.ClientCertRequested || strings.Join(r.AcceptableCAs, "|") != "CN=Remote CA|CN=Local CA" {
					t.Errorf("requested %v, acceptable CAs %q", r.ClientCertRequested, r.AcceptableCAs)
				}
				v := r.ClientVerdict()
				if v.Status != tc.verdict || v.Basis != trust.BasisHandshake {
					t.Errorf("verdict %+v", v)
				}
				if tc.verdict == trust.Untrusted && (v.Reason != trust.ReasonRejectedByPeer || !strings.Contains(v.Detail, wantAlert)) {
					t.Errorf("verdict %+v", v)
				}
			})
		}
	}
}

func TestChainReportedWhenItWouldNotVerify(t *testing.T) {
	remote := newPKI(t, "CN=Remote CA", "r-es01")
	other := newPKI(t, "CN=Other CA", "o-es01")
	inter := certgen.MustNew(certgen.Options{Subject: "CN=Remote Intermediate", IsCA: true}, remote.ca)
	leaf := certgen.MustNew(certgen.Options{Subject: "CN=r-es02", IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}, inter)
	cfg := &tls.Config{Certificates: []tls.Certificate{*tlsCert(leaf, inter)}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: x509.NewCertPool()}
	srv := startServer(t, cfg)
	r := Probe(t.Context(), srv.addr, quick) // no identity: the server refuses us
	if r.ClientAuth != ClientAuthRejected || r.PeerAlert != "certificate_required" {
		t.Fatalf("outcome %q alert %q", r.ClientAuth, r.PeerAlert)
	}
	if len(r.Chain) != 2 || r.Chain[1].Subject != "CN=Remote Intermediate" || r.Chain[0].Serial != trust.Serial(leaf.Cert) {
		t.Fatalf("chain %+v", r.Chain)
	}
	peer := r.PeerCertificates()
	if v := trust.VerifyPeer(peer, []*x509.Certificate{remote.ca.Cert}, time.Now(),
		trust.Peer{Usage: x509.ExtKeyUsageServerAuth, Hosts: []string{"127.0.0.1"}}); v.Status != trust.Trusted {
		t.Errorf("against the right CA: %+v", v)
	}
	if v := trust.VerifyChain(peer, []*x509.Certificate{other.ca.Cert}, time.Now(), x509.ExtKeyUsageServerAuth); v.Reason != trust.ReasonUnknownCA {
		t.Errorf("against another CA: %+v", v)
	}
}

func TestServerThatDoesNotAskForACertificate(t *testing.T) {
	remote := newPKI(t, "CN=Remote CA", "r-es01")
	local := newPKI(t, "CN=Local CA", "l-es01")
	srv := startServer(t, serverConfig(remote, tls.VersionTLS13, tls.NoClientCert))
	o := quick
	o.ClientCertificate = tlsCert(local.node)
	r := Probe(t.Context(), srv.addr, o)
	if r.Err != nil || r.ClientAuth != ClientAuthNotRequested || r.ClientCertRequested || r.ClientCertSent {
		t.Fatalf("%+v", r)
	}
	if r.VersionName() != "TLSv1.3" || r.CipherName() == "" {
		t.Errorf("version %q cipher %q", r.VersionName(), r.CipherName())
	}
	if v := r.ClientVerdict(); v.Status != trust.Unknown || !strings.Contains(v.Detail, "did not ask") {
		t.Errorf("verdict %+v", v)
	}
}

func TestVersionBoundsAndSNI(t *testing.T) {
	remote := newPKI(t, "CN=Remote CA", "r-es01")
	srv := startServer(t, serverConfig(remote, tls.VersionTLS13, tls.NoClientCert))
	o := quick
	o.MaxVersion = tls.VersionTLS12
	if r := Probe(t.Context(), srv.addr, o); r.Version != tls.VersionTLS12 || r.VersionName() != "TLSv1.2" {
		t.Errorf("max TLS 1.2 negotiated %s", r.VersionName())
	}
	_, port, _ := net.SplitHostPort(srv.addr)
	r := Probe(t.Context(), "localhost:"+port, quick)
	if r.Err != nil && r.Stage == StageDial {
		// /etc/hosts maps localhost to 127.0.0.1 on every machine the
		// tests run on; a machine where it does not cannot test SNI for a
		// DNS name, and must say so rather than pass.
		t.Fatalf("localhost does not resolve to the listener on 127.0.0.1 (check /etc/hosts): %v", r.Err)
	}
	o = quick
	o.ServerName = "proxy.example.com"
	Probe(t.Context(), srv.addr, o)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if got := strings.Join(srv.sni, ","); got != ",localhost,proxy.example.com" {
		t.Errorf("SNI sent: %q (IP literal: none; DNS name: itself; explicit server_name)", got)
	}
	if r.ServerName != "localhost" {
		t.Errorf("result ServerName %q", r.ServerName)
	}
}

func TestUnreachableAndNonTLSEndpoints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()
	r := Probe(t.Context(), closedAddr, quick)
	if r.Reachable || r.Stage != StageDial || r.Err == nil {
		t.Errorf("closed port: %+v", r)
	}
	if v := r.ClientVerdict(); v.Status != trust.Unknown || !strings.Contains(v.Detail, "not reachable") {
		t.Errorf("verdict %+v", v)
	}
	if r := Probe(t.Context(), "no-port", quick); r.Stage != StageDial {
		t.Errorf("bad address: %+v", r)
	}

	// A listener that accepts and closes (the simulator's old placeholder).
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	r = Probe(t.Context(), ln.Addr().String(), quick)
	if !r.Reachable || r.Stage != StageHandshake || len(r.Chain) != 0 || r.PeerAlert != "" {
		t.Errorf("accept-and-close: %+v", r)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	defer func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // never answers the ClientHello
			mu.Unlock()
		}
	}()
	o := quick
	o.Timeout = 200 * time.Millisecond
	r := Probe(t.Context(), ln.Addr().String(), o)
	if r.Stage != StageHandshake || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("stage %q err %v", r.Stage, r.Err)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadIdentitiesAndPresentThem(t *testing.T) {
	remote := newPKI(t, "CN=Remote CA", "r-es01")
	local := newPKI(t, "CN=Local CA", "l-es01")
	inter := certgen.MustNew(certgen.Options{Subject: "CN=Local Intermediate", IsCA: true}, local.ca)
	leaf := certgen.MustNew(certgen.Options{Subject: "CN=l-es02"}, inter)
	dir := t.TempDir()

	// PEM: certificate file with the intermediate, separate key file.
	certFile := writeFile(t, dir, "node.crt", certgen.PEM(leaf.Cert, inter.Cert))
	keyFile := writeFile(t, dir, "node.key", leaf.KeyPEM())
	pemID, err := LoadPEMIdentity(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(pemID.Chain) != 2 || pemID.Chain[1].Subject.CommonName != "Local Intermediate" || len(pemID.Others) != 0 {
		t.Errorf("PEM chain %v others %v", pemID.Chain, pemID.Others)
	}

	// PKCS#12 with a password, CA first (as a keystore may list it).
	p12, err := pkcs12.Modern.Encode(leaf.Key, leaf.Cert, []*x509.Certificate{local.ca.Cert, inter.Cert}, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	p12File := writeFile(t, dir, "node.p12", p12)
	p12ID, err := LoadPKCS12Identity(p12File, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if len(p12ID.Chain) != 3 || p12ID.Chain[0].Subject.CommonName != "l-es02" || p12ID.Chain[1].Subject.CommonName != "Local Intermediate" {
		t.Errorf("PKCS#12 chain %v", p12ID.Chain)
	}
	if _, err := LoadPKCS12Identity(p12File, "wrong"); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Errorf("wrong password: %v", err)
	}

	caFile := writeFile(t, dir, "ca.pem", certgen.PEM(local.ca.Cert, remote.ca.Cert))
	cas, err := LoadCABundle(caFile)
	if err != nil || len(cas) != 2 {
		t.Fatalf("CA bundle: %v %v", cas, err)
	}

	srv := startServer(t, serverConfig(remote, tls.VersionTLS13, tls.RequireAndVerifyClientCert, &certgen.Cert{Cert: cas[0]}))
	for name, id := range map[string]Identity{"pem": pemID, "pkcs12": p12ID} {
		o := quick
		o.ClientCertificate = &id.Certificate
		if r := Probe(t.Context(), srv.addr, o); r.ClientAuth != ClientAuthAccepted || r.ClientVerdict().Status != trust.Trusted {
			t.Errorf("%s identity: %q %v", name, r.ClientAuth, r.Err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	a := newPKI(t, "CN=A", "a")
	b := newPKI(t, "CN=B", "b")
	dir := t.TempDir()
	cert := writeFile(t, dir, "a.crt", a.node.CertPEM())
	otherKey := writeFile(t, dir, "b.key", b.node.KeyPEM())
	if _, err := LoadPEMIdentity(cert, otherKey); err == nil || !strings.Contains(err.Error(), "no certificate matches the private key") {
		t.Errorf("mismatched key: %v", err)
	}
	enc := writeFile(t, dir, "enc.key", []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	if _, err := LoadPEMIdentity(cert, enc); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted key: %v", err)
	}
	empty := writeFile(t, dir, "empty.pem", []byte("nothing"))
	if _, err := LoadCABundle(empty); err == nil {
		t.Error("empty CA bundle accepted")
	}
	if _, err := LoadCABundle(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("missing file accepted")
	}
}
