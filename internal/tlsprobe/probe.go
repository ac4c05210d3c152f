// Package tlsprobe dials an Elasticsearch transport endpoint and reports what
// its TLS handshake shows: the presented chain (even when it would not
// verify, or when the server demands a client certificate we lack), the
// negotiated version and cipher, whether the server asked for a client
// certificate and which CAs it accepts, and whether it accepted ours.
//
// The probe never verifies the server itself (InsecureSkipVerify, the chain
// is captured in VerifyConnection): judging the chain is the pure trust
// package's job, against the CA files or listings the caller has. It sends
// no application data, so Elasticsearch sees a TLS connection that is closed
// without a transport handshake.
package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// Options of one probe.
type Options struct {
	// ServerName is sent as SNI (a proxy link's server_name). "" = the
	// address's host when it is a DNS name; none for an IP literal, as
	// Elasticsearch does.
	ServerName string
	// ClientCertificate is our transport identity, presented when the server
	// asks for one. nil = present none (the server's answer then shows
	// whether it requires one).
	ClientCertificate *tls.Certificate
	// Timeout bounds dialing and the handshake; 0 = 10s. The context's
	// deadline applies too.
	Timeout time.Duration
	// PostHandshakeWait is how long to wait, after a TLS 1.3 handshake in
	// which the server asked for a client certificate, for the server's
	// verdict on it; 0 = 1s. Elasticsearch's transport protocol waits for
	// the client to speak first, so silence means accepted.
	PostHandshakeWait time.Duration
	// MinVersion / MaxVersion bound the TLS versions offered (tls.VersionTLS12
	// ...); 0 = TLS 1.2 / TLS 1.3.
	MinVersion, MaxVersion uint16
}

// ClientAuth is what became of our client certificate.
type ClientAuth string

// Client authentication outcomes.
const (
	ClientAuthNotRequested ClientAuth = "not_requested" // server did not ask for a certificate
	ClientAuthAccepted     ClientAuth = "accepted"      // asked, and the connection stayed up
	ClientAuthRejected     ClientAuth = "rejected"      // asked, and the server answered with a certificate alert
	ClientAuthUnknown      ClientAuth = "unknown"       // asked, but the outcome could not be seen (other failure, close without alert)
)

// Stage where a probe stopped.
const (
	StageDial          = "dial"
	StageHandshake     = "handshake"
	StagePostHandshake = "post_handshake"
)

// Result of a probe.
type Result struct {
	Addr       string
	ServerName string // SNI sent, "" for none
	// Reachable: the TCP connection was established.
	Reachable bool
	// Version and CipherSuite negotiated (0 when the server hello never came).
	Version     uint16
	CipherSuite uint16
	// Chain the server presented, leaf first; reported even when the
	// handshake failed afterwards.
	Chain []trust.CertInfo
	// ClientCertRequested: the server sent a CertificateRequest.
	ClientCertRequested bool
	// AcceptableCAs the CertificateRequest named, as DNs (Elasticsearch,
	// via the JDK, may send none).
	AcceptableCAs []string
	// ClientCertSent: we answered the request with a certificate.
	ClientCertSent bool
	ClientAuth     ClientAuth
	// PeerAlert is the RFC 8446 name of the fatal alert the server sent
	// (e.g. "unknown_ca", "bad_certificate", "certificate_required"), or "".
	PeerAlert string
	// RejectedByPeer: the server refused our client certificate (or its
	// absence) with a certificate-related alert.
	RejectedByPeer bool
	// Stage where the probe failed ("" = no failure) and the error.
	Stage string
	Err   error
	// Duration of dial plus handshake (plus the post-handshake wait).
	Duration time.Duration
}

// PeerCertificates returns the presented chain as x509 certificates, leaf
// first.
func (r Result) PeerCertificates() []*x509.Certificate {
	out := make([]*x509.Certificate, len(r.Chain))
	for i, c := range r.Chain {
		out[i] = c.Cert
	}
	return out
}

// VersionName is the negotiated version as Java names it ("TLSv1.3"), "" when
// none was negotiated.
func (r Result) VersionName() string {
	switch r.Version {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return ""
}

// CipherName is the negotiated cipher suite's IANA name, "" when none.
func (r Result) CipherName() string {
	if r.CipherSuite == 0 {
		return ""
	}
	return tls.CipherSuiteName(r.CipherSuite)
}

// ClientVerdict is "does the peer trust our identity", as this handshake
// showed it (basis handshake): trusted when the server asked for a
// certificate, we sent one and it was accepted; untrusted
// (rejected_by_peer) when it answered with a certificate alert; unknown
// otherwise (not asked, nothing sent, or the outcome is not visible).
func (r Result) ClientVerdict() trust.Verdict {
	v := trust.Verdict{Basis: trust.BasisHandshake, Status: trust.Unknown, Reason: trust.ReasonNoData}
	switch {
	case r.RejectedByPeer:
		detail := "our certificate was refused"
		if !r.ClientCertSent {
			detail = "we presented no certificate"
		}
		return trust.PeerRejection(r.PeerAlert, detail)
	case r.ClientAuth == ClientAuthAccepted && r.ClientCertSent:
		v.Status, v.Reason, v.Detail = trust.Trusted, trust.ReasonNone, "the peer accepted our certificate"
	case !r.Reachable:
		v.Detail = "endpoint not reachable: " + errString(r.Err)
	case r.ClientAuth == ClientAuthNotRequested:
		v.Detail = "the peer did not ask for a client certificate"
	case !r.ClientCertSent:
		v.Detail = "no client certificate configured to present"
	default:
		v.Detail = "the outcome of client authentication is not visible: " + errString(r.Err)
	}
	return v
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// Probe dials addr (host:port) and performs a TLS handshake as described in
// the package comment. It never returns an error: failures are in the
// Result (Stage, Err).
func Probe(ctx context.Context, addr string, opts Options) Result {
	start := time.Now()
	res := Result{Addr: addr, ClientAuth: ClientAuthNotRequested}
	defer func() { res.Duration = time.Since(start) }()

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		res.Stage, res.Err = StageDial, fmt.Errorf("probe %s: %w", addr, err)
		return res
	}
	res.ServerName = opts.ServerName
	if res.ServerName == "" && net.ParseIP(host) == nil {
		res.ServerName = host
	}

	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		res.Stage, res.Err = StageDial, fmt.Errorf("dial %s: %w", addr, err)
		return res
	}
	res.Reachable = true
	defer raw.Close()

	minV, maxV := opts.MinVersion, opts.MaxVersion
	if minV == 0 {
		minV = tls.VersionTLS12
	}
	if maxV == 0 {
		maxV = tls.VersionTLS13
	}
	cfg := &tls.Config{
		ServerName: res.ServerName,
		MinVersion: minV,
		MaxVersion: maxV,
		// The chain is captured and judged separately, so that it is known
		// even when it would not verify.
		InsecureSkipVerify: true, //nolint:gosec // see above
		VerifyConnection: func(cs tls.ConnectionState) error {
			res.Version, res.CipherSuite = cs.Version, cs.CipherSuite
			res.Chain = trust.DescribeChain(cs.PeerCertificates)
			return nil
		},
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			res.ClientCertRequested = true
			for _, raw := range cri.AcceptableCAs {
				if dn, err := trust.DNFromDER(raw); err == nil {
					res.AcceptableCAs = append(res.AcceptableCAs, dn)
				}
			}
			if opts.ClientCertificate == nil || len(opts.ClientCertificate.Certificate) == 0 {
				return &tls.Certificate{}, nil
			}
			res.ClientCertSent = true
			return opts.ClientCertificate, nil
		},
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		res.Stage, res.Err = StageHandshake, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		res.observeAlert(err)
		if res.ClientCertRequested && !res.RejectedByPeer {
			res.ClientAuth = ClientAuthUnknown
		}
		return res
	}
	cs := conn.ConnectionState()
	res.Version, res.CipherSuite = cs.Version, cs.CipherSuite
	if !res.ClientCertRequested {
		closeQuietly(conn)
		return res
	}
	if cs.Version < tls.VersionTLS13 {
		// TLS 1.2: the server's Finished came after it checked our
		// certificate, so a completed handshake means accepted.
		res.ClientAuth = ClientAuthAccepted
		closeQuietly(conn)
		return res
	}
	// TLS 1.3: our Finished was the last handshake message; the server
	// judges our certificate after we consider the handshake complete and
	// answers with an alert only when it refuses it.
	wait := opts.PostHandshakeWait
	if wait <= 0 {
		wait = time.Second
	}
	deadline := time.Now().Add(wait)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetReadDeadline(deadline)
	var buf [1]byte
	_, err = conn.Read(buf[:])
	var ne net.Error
	switch {
	case err == nil:
		res.ClientAuth = ClientAuthAccepted // the server spoke: it kept the connection
	case errors.As(err, &ne) && ne.Timeout():
		res.ClientAuth = ClientAuthAccepted
	default:
		res.Stage, res.Err = StagePostHandshake, fmt.Errorf("after TLS handshake with %s: %w", addr, err)
		res.ClientAuth = ClientAuthUnknown
		res.observeAlert(err)
	}
	closeQuietly(conn)
	return res
}

func closeQuietly(c *tls.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.Close()
}

// certificateAlerts are the alerts a server sends when it refuses the
// client's certificate (RFC 8446 6.2; JDK servers send bad_certificate or
// certificate_unknown, Go servers unknown_ca / certificate_expired /
// bad_certificate, both certificate_required in TLS 1.3 for a missing one).
var certificateAlerts = map[string]bool{
	"bad_certificate": true, "unsupported_certificate": true, "certificate_revoked": true,
	"certificate_expired": true, "certificate_unknown": true, "unknown_ca": true,
	"access_denied": true, "certificate_required": true,
}

// observeAlert records a fatal alert from the peer and whether it refused
// our client certificate.
func (r *Result) observeAlert(err error) {
	name, ok := remoteAlert(err)
	if !ok {
		if r.ClientCertRequested && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
			r.ClientAuth = ClientAuthUnknown
		}
		return
	}
	r.PeerAlert = name
	if !r.ClientCertRequested {
		return
	}
	// A TLS 1.2 Go server answers a missing certificate with
	// handshake_failure; only count that one when we sent nothing.
	if certificateAlerts[name] || (name == "handshake_failure" && !r.ClientCertSent) {
		r.RejectedByPeer = true
		r.ClientAuth = ClientAuthRejected
	}
}

// remoteAlert extracts the alert the peer sent. crypto/tls reports it as a
// *net.OpError with Op "remote error" wrapping its unexported alert type (a
// uint8), so the code is read by reflection and named here.
func remoteAlert(err error) (string, bool) {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return "", false
	}
	v := reflect.ValueOf(oe.Err)
	if v.Kind() == reflect.Uint8 {
		if name, ok := alertNames[uint8(v.Uint())]; ok {
			return name, true
		}
		return fmt.Sprintf("alert_%d", v.Uint()), true
	}
	// Fall back to crypto/tls's text ("tls: unknown certificate authority").
	text := strings.TrimPrefix(oe.Err.Error(), "tls: ")
	for code, desc := range alertTexts {
		if desc == text {
			return alertNames[code], true
		}
	}
	return "", false
}

// alertNames are RFC 8446 / RFC 5246 alert description names.
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
	46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
	111: "certificate_unobtainable", 112: "unrecognized_name", 113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value", 115: "unknown_psk_identity", 116: "certificate_required",
	120: "no_application_protocol", 121: "ech_required",
}

// alertTexts are crypto/tls's descriptions of the alerts that matter here.
var alertTexts = map[uint8]string{
	40: "handshake failure", 42: "bad certificate", 43: "unsupported certificate", 44: "revoked certificate",
	45: "expired certificate", 46: "unknown certificate", 48: "unknown certificate authority",
	49: "access denied", 70: "protocol version not supported", 116: "certificate required",
}
