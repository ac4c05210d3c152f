package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"
)

// CertInfo is what the exporter reports about one certificate, in the forms
// Elasticsearch uses in GET /_ssl/certificates so the two can be compared.
type CertInfo struct {
	Subject   string // X500Principal#toString form, e.g. "CN=es01, O=Example"
	Issuer    string // same form
	Serial    string // lower-case hex without leading zeros (BigInteger#toString(16))
	NotBefore time.Time
	NotAfter  time.Time
	IsCA      bool
	// SelfIssued: subject equals issuer (a root, or a CA re-signed by itself).
	SelfIssued  bool
	KeyUsage    []string // RFC 5280 names: digitalSignature, keyEncipherment, keyCertSign, ...
	ExtKeyUsage []string // serverAuth, clientAuth, anyExtendedKeyUsage, ... or dotted OIDs
	SHA256      string   // lower-case hex of the DER's SHA-256, no separators
	DNSNames    []string
	IPAddresses []string
	Cert        *x509.Certificate
}

// Serial renders a serial number like BigInteger#toString(16) (what
// CertificateInfo puts in serial_number).
func Serial(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	return c.SerialNumber.Text(16)
}

// SubjectDN and IssuerDN render a certificate's names from their DER bytes,
// so multi-valued RDNs and string types come out as Elasticsearch shows them.
func SubjectDN(c *x509.Certificate) string {
	return rawOr(c.RawSubject, func() string { return DN(c.Subject) })
}

// IssuerDN: see SubjectDN.
func IssuerDN(c *x509.Certificate) string {
	return rawOr(c.RawIssuer, func() string { return DN(c.Issuer) })
}

func rawOr(raw []byte, fallback func() string) string {
	if len(raw) > 0 {
		if s, err := DNFromDER(raw); err == nil {
			return s
		}
	}
	return fallback()
}

// Fingerprint is the lower-case hex SHA-256 of the certificate's DER.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "anyExtendedKeyUsage",
	x509.ExtKeyUsageServerAuth:      "serverAuth",
	x509.ExtKeyUsageClientAuth:      "clientAuth",
	x509.ExtKeyUsageCodeSigning:     "codeSigning",
	x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageTimeStamping:    "timeStamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
}

// ExtKeyUsageName names an extended key usage as RFC 5280 does.
func ExtKeyUsageName(u x509.ExtKeyUsage) string {
	if n, ok := extKeyUsageNames[u]; ok {
		return n
	}
	return fmt.Sprintf("eku(%d)", int(u))
}

// Describe summarises a certificate.
func Describe(c *x509.Certificate) CertInfo {
	ci := CertInfo{
		Subject:    SubjectDN(c),
		Issuer:     IssuerDN(c),
		Serial:     Serial(c),
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		IsCA:       c.BasicConstraintsValid && c.IsCA,
		SelfIssued: selfIssued(c),
		SHA256:     Fingerprint(c),
		DNSNames:   append([]string(nil), c.DNSNames...),
		Cert:       c,
	}
	for _, ku := range keyUsageNames {
		if c.KeyUsage&ku.bit != 0 {
			ci.KeyUsage = append(ci.KeyUsage, ku.name)
		}
	}
	for _, u := range c.ExtKeyUsage {
		ci.ExtKeyUsage = append(ci.ExtKeyUsage, ExtKeyUsageName(u))
	}
	for _, oid := range c.UnknownExtKeyUsage {
		ci.ExtKeyUsage = append(ci.ExtKeyUsage, oid.String())
	}
	for _, ip := range c.IPAddresses {
		ci.IPAddresses = append(ci.IPAddresses, ip.String())
	}
	return ci
}

// DescribeChain describes every certificate of a chain, leaf first.
func DescribeChain(chain []*x509.Certificate) []CertInfo {
	out := make([]CertInfo, len(chain))
	for i, c := range chain {
		out[i] = Describe(c)
	}
	return out
}
