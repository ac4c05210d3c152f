package collector

import (
	"context"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// CheckSSLCertificates is the name of the GET /_ssl/certificates check.
const CheckSSLCertificates = "ssl_certificates"

// SSLCertificate is one element of GET /_ssl/certificates
// (CertificateInfo.toXContent). The API is node-local: it lists the
// certificates of the node that answered the request.
type SSLCertificate struct {
	Path          *string `json:"path"`   // as configured; null for some keystores in 8.x
	Format        string  `json:"format"` // PEM, PKCS12, jks
	Alias         *string `json:"alias"`  // null for PEM files
	SubjectDN     string  `json:"subject_dn"`
	SerialNumber  string  `json:"serial_number"`
	HasPrivateKey bool    `json:"has_private_key"`
	Expiry        string  `json:"expiry"` // ISO-8601 UTC with milliseconds
	Issuer        string  `json:"issuer"` // 8.4+; absent before
}

// NotAfter parses Expiry; ok is false when it is not a timestamp.
func (c *SSLCertificate) NotAfter() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, c.Expiry)
	return t, err == nil
}

func (c *Client) sslCertificates(ctx context.Context) ([]SSLCertificate, *CheckError) {
	var out []SSLCertificate
	if err := c.do(ctx, "GET /_ssl/certificates", esapi.SSLCertificatesRequest{}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// trustEntries converts a listing for issuer matching.
func trustEntries(certs []SSLCertificate) []trust.Entry {
	out := make([]trust.Entry, len(certs))
	for i, c := range certs {
		out[i] = trust.Entry{SubjectDN: c.SubjectDN, Issuer: c.Issuer, HasPrivateKey: c.HasPrivateKey}
	}
	return out
}
