package certgen

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"testing"
	"time"
)

func TestParseDN(t *testing.T) {
	der, err := ParseDN(`CN=es01 + UID=7, O="Acme, Inc.", C=US`)
	if err != nil {
		t.Fatal(err)
	}
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		t.Fatal(err)
	}
	// Least specific first on the wire.
	if len(seq) != 3 || seq[0][0].Value != "US" || seq[1][0].Value != "Acme, Inc." || len(seq[2]) != 2 || seq[2][0].Value != "es01" {
		t.Errorf("sequence %v", seq)
	}
	for _, bad := range []string{"CN", "XX=1", "CN=a, bogus"} {
		if _, err := ParseDN(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if der, err := ParseDN(""); err != nil || len(der) != 2 {
		t.Errorf("empty DN: %x %v", der, err)
	}
}

func TestNewDefaultsAndPEM(t *testing.T) {
	ca := MustNew(Options{Subject: "CN=CA", IsCA: true}, nil)
	leaf := MustNew(Options{Subject: "CN=es01"}, ca)
	if got := ca.Cert.NotAfter.Sub(ca.Cert.NotBefore); got < 3*365*24*time.Hour {
		t.Errorf("CA lifetime %s", got)
	}
	if got := leaf.Cert.NotAfter.Sub(leaf.Cert.NotBefore); got < 2*365*24*time.Hour || got > 3*365*24*time.Hour {
		t.Errorf("leaf lifetime %s", got)
	}
	if err := leaf.Cert.CheckSignatureFrom(ca.Cert); err != nil {
		t.Errorf("leaf not signed by CA: %v", err)
	}
	if !ca.Cert.IsCA || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 || leaf.Cert.IsCA || len(leaf.Cert.ExtKeyUsage) != 0 {
		t.Error("CA/leaf flags")
	}
	b, _ := pem.Decode(leaf.KeyPEM())
	if b == nil || b.Type != "PRIVATE KEY" {
		t.Fatal("key PEM")
	}
	if _, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
		t.Error(err)
	}
	certs := PEM(leaf.Cert, ca.Cert)
	first, rest := pem.Decode(certs)
	second, _ := pem.Decode(rest)
	if first == nil || second == nil || string(second.Bytes) != string(ca.Cert.Raw) {
		t.Error("PEM bundle order")
	}
	if _, err := New(Options{Subject: "bad"}, nil); err == nil {
		t.Error("bad subject accepted")
	}
}
