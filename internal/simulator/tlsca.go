package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/certgen"
)

// httpPKI is the simulator's HTTP CA and the one leaf every cluster serves:
// all clusters listen on 127.0.0.1, so one leaf for 127.0.0.1/localhost
// fits them all and AddCluster needs no key generation.
type httpPKI struct {
	caPEM  []byte
	caCert *x509.Certificate
	leaf   tls.Certificate
	config *tls.Config
}

func newHTTPPKI() (*httpPKI, error) {
	now := time.Now()
	ca, err := certgen.New(certgen.Options{
		Subject:   "CN=Elasticsearch simulator HTTP CA",
		IsCA:      true,
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.AddDate(3, 0, 0),
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("simulator: HTTP CA: %w", err)
	}
	leaf, err := certgen.New(certgen.Options{
		Subject:     "CN=localhost",
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(2, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}, ca)
	if err != nil {
		return nil, fmt.Errorf("simulator: HTTP leaf: %w", err)
	}
	p := &httpPKI{
		caPEM:  certgen.PEM(ca.Cert),
		caCert: ca.Cert,
		leaf: tls.Certificate{
			Certificate: [][]byte{leaf.Cert.Raw, ca.Cert.Raw},
			PrivateKey:  leaf.Key,
			Leaf:        leaf.Cert,
		},
	}
	p.config = &tls.Config{
		Certificates: []tls.Certificate{p.leaf},
		MinVersion:   tls.VersionTLS12,
		// Elasticsearch's HTTP layer speaks HTTP/1.1 only.
		NextProtos: []string{"http/1.1"},
	}
	return p, nil
}
