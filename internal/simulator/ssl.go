package simulator

import (
	"crypto/x509"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// storedCert is one certificate a node has configured, as
// org.elasticsearch.common.ssl.StoredCertificate describes it.
type storedCert struct {
	path, format string
	alias        *string // nil for PEM files
	hasKey       bool
	cert         *x509.Certificate
}

// configuredCertificates lists what the node at index idx (the one the
// request was sent to) really loaded: its own node certificate (the one its
// transport port presents) and the cluster's truststore, in
// SslConfiguration#getConfiguredCertificates order (key config, then trust
// config, per SSL context):
//   - transport key config (PemKeyConfig): every certificate of the
//     certificate file, the first with has_private_key true;
//   - transport trust config (PemTrustConfig): every CA file;
//   - HTTP (HTTPS clusters), the auto-configuration keystore certs/http.p12
//     (StoreKeyConfig lists every certificate of each entry's chain, the
//     first with the key): alias "http" with chain [leaf, CA], alias
//     "http_ca" with the CA and its key (AutoConfigureNode writes both).
//
// The transport entries exist only when the node has
// xpack.security.transport.ssl configured (NodeSpec.TransportTLS): a node
// without any SSL setting lists nothing for it, and a node without SSL at
// all answers []. With xpack.security.enabled=false the API does not exist
// (the security plugin registers RestGetCertificateInfoAction, and no REST
// handler at all when disabled; security.go); on 7.x with security off by
// license default it answers without authentication.
func (c *Cluster) configuredCertificates(idx int) []storedCert {
	c.mu.Lock()
	n := c.nodes[idx]
	nc, store, name, withTransport := n.cert, c.tpki.store, n.name, n.tlsSetting
	rcs := c.remoteClusterCertificatesLocked(idx) // remotecluster.go
	c.mu.Unlock()
	var out []storedCert
	if withTransport {
		certFile := "certs/" + name + "/" + name + ".crt"
		for i, crt := range nc.chain {
			out = append(out, storedCert{path: certFile, format: "PEM", hasKey: i == 0, cert: crt})
		}
		for _, e := range store.entries {
			out = append(out, storedCert{path: e.path, format: "PEM", cert: e.cert})
		}
	}
	out = append(out, rcs...)
	if !c.plain {
		http, httpCA := "http", "http_ca"
		leaf, ca := c.sim.pki.leaf.Leaf, c.sim.pki.caCert
		out = append(out,
			storedCert{path: "certs/http.p12", format: "PKCS12", alias: &http, hasKey: true, cert: leaf},
			storedCert{path: "certs/http.p12", format: "PKCS12", alias: &http, cert: ca},
			storedCert{path: "certs/http.p12", format: "PKCS12", alias: &httpCA, hasKey: true, cert: ca})
	}
	return out
}

// sslCertificatesAction is GET /_ssl/certificates
// (RestGetCertificateInfoAction, TransportGetCertificateInfoAction, action
// cluster:monitor/xpack/ssl/certificates/get, cluster privilege monitor).
// Elements follow CertificateInfo#toXContent: path, format, alias,
// subject_dn, serial_number, has_private_key, expiry, issuer (8.4+, only
// when non-empty). subject_dn and issuer use X500Principal#toString,
// serial_number BigInteger#toString(16), expiry the date with
// milliseconds in UTC.
//
// 8.x (SSLService#getLoadedCertificates collects into a sorted set): sorted
// by path, alias (nulls last), serial number as strings, and entries equal
// under that order appear once. 7.x collects into a HashSet: duplicates
// (equal in every field) appear once, order unspecified (the simulator uses
// a fixed hash order).
func (c *Cluster) sslCertificatesAction(r *http.Request, ver esVersion) response {
	if _, deny := c.begin(r, ver, nil, clusterAction("cluster:monitor/xpack/ssl/certificates/get")); deny != nil {
		return *deny
	}
	certs := c.configuredCertificates(answeringIndex(r))
	if ver.v.Major >= 8 {
		slices.SortStableFunc(certs, compareStored)
		certs = slices.CompactFunc(certs, func(a, b storedCert) bool { return compareStored(a, b) == 0 })
	} else {
		certs = slices.CompactFunc(hashOrder(certs, storedKey), func(a, b storedCert) bool { return storedKey(a) == storedKey(b) })
	}
	withIssuer := ver.atLeast(8, 4)
	arr := make([]any, 0, len(certs))
	for _, sc := range certs {
		var alias any
		if sc.alias != nil {
			alias = *sc.alias
		}
		o := obj{}.set("path", sc.path).
			set("format", sc.format).
			set("alias", alias).
			set("subject_dn", trust.SubjectDN(sc.cert)).
			set("serial_number", trust.Serial(sc.cert)).
			set("has_private_key", sc.hasKey).
			set("expiry", sc.cert.NotAfter.UTC().Format("2006-01-02T15:04:05.000Z"))
		if withIssuer {
			o = o.set("issuer", trust.IssuerDN(sc.cert))
		}
		arr = append(arr, o)
	}
	return jsonResponse(ver, r, http.StatusOK, arr)
}

// compareStored is CertificateInfo's COMPARATOR.
func compareStored(a, b storedCert) int {
	if c := strings.Compare(a.path, b.path); c != 0 {
		return c
	}
	switch {
	case a.alias == nil && b.alias != nil:
		return 1
	case a.alias != nil && b.alias == nil:
		return -1
	case a.alias != nil:
		if c := strings.Compare(*a.alias, *b.alias); c != 0 {
			return c
		}
	}
	return strings.Compare(trust.Serial(a.cert), trust.Serial(b.cert))
}

// storedKey identifies an entry for 7.x's HashSet (all fields).
func storedKey(s storedCert) string {
	alias := "\x00"
	if s.alias != nil {
		alias = *s.alias
	}
	return strings.Join([]string{s.path, s.format, alias, trust.Serial(s.cert), trust.Fingerprint(s.cert),
		strconv.FormatBool(s.hasKey)}, "|")
}
