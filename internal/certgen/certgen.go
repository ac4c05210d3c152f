// Package certgen creates the CAs, intermediates and node certificates the
// simulator serves and the tests of the trust and TLS probe code verify:
// ECDSA P-256 keys (cheap enough to create thousands), names written the way
// Elasticsearch prints them ("CN=es01, O=Example", most specific first).
package certgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/x500"
)

// Options describe one certificate.
type Options struct {
	// Subject in X500Principal#toString form, most specific RDN first:
	// "CN=es01, OU=ops, O=Example". Supported keywords: CN, C, L, ST, O,
	// OU, DC, STREET, SERIALNUMBER, EMAILADDRESS, UID. "+" joins the AVAs
	// of a multi-valued RDN; values may be double-quoted.
	Subject   string
	NotBefore time.Time // zero = now - 1h
	NotAfter  time.Time // zero = NotBefore + 2 years (CA: 3 years, like elasticsearch-certutil)
	IsCA      bool
	// MaxPathLen for CAs: 0 with MaxPathLenZero set = may sign only leaves.
	MaxPathLenZero bool
	DNSNames       []string
	IPAddresses    []net.IP
	// ExtKeyUsage nil = none (what elasticsearch-certutil writes, valid for
	// any purpose); set it to restrict.
	ExtKeyUsage []x509.ExtKeyUsage
	// KeyUsage 0 = digitalSignature|keyEncipherment for leaves,
	// keyCertSign|cRLSign|digitalSignature for CAs.
	KeyUsage x509.KeyUsage
	// Key to certify; nil = a new ECDSA P-256 key.
	Key crypto.Signer
}

// Cert is a certificate and its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// New creates a certificate signed by parent, or self-signed when parent is
// nil.
func New(o Options, parent *Cert) (*Cert, error) {
	rawSubject, err := ParseDN(o.Subject)
	if err != nil {
		return nil, err
	}
	key := o.Key
	if key == nil {
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, fmt.Errorf("certgen: generate key: %w", err)
		}
	}
	nb := o.NotBefore
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	na := o.NotAfter
	if na.IsZero() {
		if o.IsCA {
			na = nb.AddDate(3, 0, 0)
		} else {
			na = nb.AddDate(2, 0, 0)
		}
	}
	ku := o.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		if o.IsCA {
			ku = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          RandomSerial(),
		RawSubject:            rawSubject,
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              ku,
		ExtKeyUsage:           o.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  o.IsCA,
		MaxPathLenZero:        o.MaxPathLenZero,
		DNSNames:              o.DNSNames,
		IPAddresses:           o.IPAddresses,
	}
	parentCert, signer := tmpl, key
	if parent != nil {
		parentCert, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("certgen: create certificate %q: %w", o.Subject, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certgen: parse certificate %q: %w", o.Subject, err)
	}
	return &Cert{Cert: cert, Key: key}, nil
}

// MustNew is New for tests and fixed inputs; it panics on error.
func MustNew(o Options, parent *Cert) *Cert {
	c, err := New(o, parent)
	if err != nil {
		panic(err)
	}
	return c
}

// RandomSerial is a positive random 127-bit serial number.
func RandomSerial() *big.Int {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n.Add(n, big.NewInt(1))
}

// CertPEM is the certificate as a PEM block.
func (c *Cert) CertPEM() []byte { return PEM(c.Cert) }

// KeyPEM is the private key as a PKCS#8 PEM block.
func (c *Cert) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		panic(err) // only ECDSA/RSA/Ed25519 keys reach here
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PEM concatenates certificates as PEM blocks.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

var keywordOIDs = map[string]asn1.ObjectIdentifier{
	"CN":           {2, 5, 4, 3},
	"C":            {2, 5, 4, 6},
	"L":            {2, 5, 4, 7},
	"ST":           {2, 5, 4, 8},
	"O":            {2, 5, 4, 10},
	"OU":           {2, 5, 4, 11},
	"STREET":       {2, 5, 4, 9},
	"SERIALNUMBER": {2, 5, 4, 5},
	"DC":           {0, 9, 2342, 19200300, 100, 1, 25},
	"UID":          {0, 9, 2342, 19200300, 100, 1, 1},
	"EMAILADDRESS": {1, 2, 840, 113549, 1, 9, 1},
}

// ParseDN encodes a DN written most-specific-first ("CN=a, O=b") as the DER
// Name a certificate carries (least specific RDN first). "" is the empty
// name.
func ParseDN(dn string) ([]byte, error) {
	var seq pkix.RDNSequence
	if strings.TrimSpace(dn) != "" {
		rdns := x500.SplitUnquoted(dn, ',')
		for i := len(rdns) - 1; i >= 0; i-- {
			var set pkix.RelativeDistinguishedNameSET
			for _, ava := range x500.SplitUnquoted(rdns[i], '+') {
				k, val, ok := strings.Cut(ava, "=")
				if !ok {
					return nil, fmt.Errorf("certgen: DN %q: %q is not KEY=value", dn, ava)
				}
				oid, known := keywordOIDs[strings.ToUpper(strings.TrimSpace(k))]
				if !known {
					return nil, fmt.Errorf("certgen: DN %q: unsupported attribute %q", dn, k)
				}
				val = unquote(strings.TrimSpace(val))
				var value any = val
				if oid.Equal(keywordOIDs["EMAILADDRESS"]) || oid.Equal(keywordOIDs["DC"]) {
					value = asn1.RawValue{Tag: asn1.TagIA5String, Class: asn1.ClassUniversal, Bytes: []byte(val)}
				}
				set = append(set, pkix.AttributeTypeAndValue{Type: oid, Value: value})
			}
			seq = append(seq, set)
		}
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		return nil, fmt.Errorf("certgen: DN %q: %w", dn, err)
	}
	return der, nil
}

func unquote(v string) string {
	if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	var b strings.Builder
	esc := false
	for _, r := range v {
		if !esc && r == '\\' {
			esc = true
			continue
		}
		esc = false
		b.WriteRune(r)
	}
	return b.String()
}
