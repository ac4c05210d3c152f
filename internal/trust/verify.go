// Package trust judges whether one side of an Elasticsearch remote-cluster
// link trusts the other's transport certificates, the way Elasticsearch
// (Java's PKIX validation plus Elasticsearch's verification_mode) would. It
// is pure: no I/O, the clock is a parameter, and every verdict names its
// basis and, when negative, a reason from a small fixed set, so it can be a
// bounded metric label.
//
// It also renders certificate names exactly as GET /_ssl/certificates does
// (DN, DNFromDER), so certificates seen in a TLS handshake, read from files
// and listed by Elasticsearch can be compared.
package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// Status of a verdict. Unknown is not Untrusted: it means nothing could be
// judged (no CA files, no chain, no listing).
type Status string

// Statuses.
const (
	Trusted   Status = "trusted"
	Untrusted Status = "untrusted"
	Unknown   Status = "unknown"
)

// Basis says what a verdict rests on.
type Basis string

// Bases.
const (
	BasisHandshake   Basis = "handshake"    // a real mutual-TLS handshake with the peer
	BasisFiles       Basis = "files"        // a chain verified against CA certificates from files
	BasisIssuerMatch Basis = "issuer_match" // issuer DNs compared with the other side's _ssl/certificates listing
)

// Reason of a negative (or unknown) verdict; "" when trusted. The set is
// fixed so it can be a metric label.
type Reason string

// Reasons.
const (
	ReasonNone                Reason = ""
	ReasonUnknownCA           Reason = "unknown_ca"
	ReasonExpired             Reason = "expired"
	ReasonNotYetValid         Reason = "not_yet_valid"
	ReasonWrongUsage          Reason = "wrong_usage"
	ReasonMissingIntermediate Reason = "missing_intermediate"
	ReasonHostname            Reason = "hostname"
	ReasonRejectedByPeer      Reason = "rejected_by_peer"
	ReasonNoData              Reason = "no_data"
)

// Reasons lists every Reason, for documentation and exhaustive tests.
var Reasons = []Reason{ReasonNone, ReasonUnknownCA, ReasonExpired, ReasonNotYetValid, ReasonWrongUsage,
	ReasonMissingIntermediate, ReasonHostname, ReasonRejectedByPeer, ReasonNoData}

// Verdict is one direction of trust.
type Verdict struct {
	Status Status
	Basis  Basis
	Reason Reason
	Detail string // human-readable explanation; not a label
}

// VerificationMode is xpack.security.transport.ssl.verification_mode.
// Elasticsearch documents "full" as the default for the transport layer
// (security-settings.md, "Transport TLS/SSL settings": "Defaults to
// `full`"): full checks validity dates, the chain to a trusted CA and that
// the hostname or IP address the node connected to is in the certificate;
// certificate skips the hostname; none verifies nothing.
type VerificationMode string

// Verification modes.
const (
	ModeFull        VerificationMode = "full"
	ModeCertificate VerificationMode = "certificate"
	ModeNone        VerificationMode = "none"
)

// ParseVerificationMode accepts full, certificate, none and "" (= full).
func ParseVerificationMode(s string) (VerificationMode, error) {
	switch VerificationMode(strings.ToLower(strings.TrimSpace(s))) {
	case "", ModeFull:
		return ModeFull, nil
	case ModeCertificate:
		return ModeCertificate, nil
	case ModeNone:
		return ModeNone, nil
	}
	return "", fmt.Errorf("verification mode %q: want full, certificate or none", s)
}

// Peer describes what is verified and how.
type Peer struct {
	// Usage the peer's leaf must allow: x509.ExtKeyUsageServerAuth when the
	// verifying side connected (the link's local cluster verifying the
	// remote's node), x509.ExtKeyUsageClientAuth when it accepted (the
	// remote verifying the local node). Elasticsearch nodes use one
	// certificate for both roles.
	Usage x509.ExtKeyUsage
	// Mode is the verifying side's verification_mode ("" = full).
	Mode VerificationMode
	// Hosts are the names the connection was made to: the proxy
	// server_name (SNI) and/or the host part of the address. Only checked
	// in full mode, and only by the side that connected: Elasticsearch's
	// SSLService#createSSLEngine enables endpoint identification only when
	// it has a host, which server-side engines do not. Empty = not checked.
	Hosts []string
	// Intermediates known from elsewhere (a CA bundle, the other side's
	// files). They are never used to trust a chain (the peer must send its
	// intermediates); they only let the verdict say missing_intermediate
	// instead of unknown_ca when the peer forgot one.
	Intermediates []*x509.Certificate
	// Basis to stamp on the verdict; "" = BasisFiles.
	Basis Basis
}

// VerifyChain verifies a presented chain (leaf first) against trusted CA
// certificates at time now, for the given usage, with verification_mode
// "certificate" semantics (no hostname check). See VerifyPeer.
func VerifyChain(chain []*x509.Certificate, roots []*x509.Certificate, now time.Time, usage x509.ExtKeyUsage) Verdict {
	return VerifyPeer(chain, roots, now, Peer{Usage: usage, Mode: ModeCertificate})
}

// VerifyPeer decides whether a side whose truststore holds roots accepts a
// peer presenting chain (leaf first) at time now, as Elasticsearch would:
//
//   - Every truststore entry is a trust anchor, self-signed or not (Java
//     PKIX TrustAnchor semantics); the peer must present its intermediates.
//   - Validity dates of every certificate on the path are checked.
//   - Usage is checked on the leaf only, as sun.security.validator's
//     EndEntityChecker does: no extended key usage, or one containing the
//     requested purpose or anyExtendedKeyUsage; a key usage extension, when
//     present, must allow digitalSignature.
//   - In full mode the leaf must match one of p.Hosts like
//     sun.security.util.HostnameChecker: an IP literal only against IP
//     subjectAltNames; a DNS name against dNSName subjectAltNames, or
//     against the most specific CN when the certificate has none.
//   - verification_mode none accepts anything.
//
// Reasons are checked in the order validity, chain, usage, hostname.
func VerifyPeer(chain []*x509.Certificate, roots []*x509.Certificate, now time.Time, p Peer) Verdict {
	basis := p.Basis
	if basis == "" {
		basis = BasisFiles
	}
	v := func(s Status, r Reason, format string, args ...any) Verdict {
		return Verdict{Status: s, Basis: basis, Reason: r, Detail: fmt.Sprintf(format, args...)}
	}
	mode := p.Mode
	if mode == "" {
		mode = ModeFull
	}
	if len(chain) == 0 || chain[0] == nil {
		return v(Unknown, ReasonNoData, "no certificate chain to verify")
	}
	leaf := chain[0]
	if mode == ModeNone {
		return v(Trusted, ReasonNone, "verification_mode none: %s is accepted without verification", SubjectDN(leaf))
	}
	if len(roots) == 0 {
		return v(Unknown, ReasonNoData, "no trusted CA certificates known to verify %s against", SubjectDN(leaf))
	}

	// Validity first, leaf outwards, naming the certificate.
	for i, c := range chain {
		if r, d := validity(c, now); r != ReasonNone {
			return v(Untrusted, r, "%s %s %s", chainWord(i, c), SubjectDN(c), d)
		}
	}

	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots:         pool,
		Intermediates: inter,
		CurrentTime:   now,
		// Usage is checked below on the leaf only (Java checks no EKU on
		// CA certificates, Go would).
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if _, err := leaf.Verify(opts); err != nil {
		return chainFailure(chain, roots, now, p, opts, err, v)
	}

	if !usageAllowed(leaf, p.Usage) {
		return v(Untrusted, ReasonWrongUsage, "%s: extended key usage %v does not permit %s",
			SubjectDN(leaf), Describe(leaf).ExtKeyUsage, purpose(p.Usage))
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return v(Untrusted, ReasonWrongUsage, "%s: key usage %v does not allow digitalSignature", SubjectDN(leaf), Describe(leaf).KeyUsage)
	}

	if mode == ModeFull {
		if len(p.Hosts) == 0 {
			return v(Trusted, ReasonNone, "chain of %s verifies; hostname not checked (no host given)", SubjectDN(leaf))
		}
		for _, h := range p.Hosts {
			if MatchesHost(leaf, h) {
				return v(Trusted, ReasonNone, "chain of %s verifies and matches %s", SubjectDN(leaf), h)
			}
		}
		ci := Describe(leaf)
		return v(Untrusted, ReasonHostname, "%s (DNS %v, IP %v) does not match %s (verification_mode full)",
			ci.Subject, ci.DNSNames, ci.IPAddresses, strings.Join(p.Hosts, " or "))
	}
	return v(Trusted, ReasonNone, "chain of %s verifies (verification_mode %s)", SubjectDN(leaf), mode)
}

// chainWord names a chain's i-th certificate in a verdict's detail.
func chainWord(i int, c *x509.Certificate) string {
	return map[string]string{RoleLeaf: "certificate", RoleCA: "CA", RoleIntermediate: "intermediate"}[ChainRole(i, selfIssued(c))]
}

func validity(c *x509.Certificate, now time.Time) (Reason, string) {
	switch {
	case now.Before(c.NotBefore):
		return ReasonNotYetValid, "is not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
	case now.After(c.NotAfter):
		return ReasonExpired, "expired at " + c.NotAfter.UTC().Format(time.RFC3339)
	}
	return ReasonNone, ""
}

// chainFailure explains why the chain does not reach a trust anchor.
func chainFailure(chain, roots []*x509.Certificate, now time.Time, p Peer, opts x509.VerifyOptions,
	err error, v func(Status, Reason, string, ...any) Verdict) Verdict {
	top := chain[len(chain)-1]
	// A trusted CA (by name) that is itself out of its validity period.
	for _, r := range roots {
		if bytes.Equal(r.RawSubject, top.RawIssuer) && top.CheckSignatureFrom(r) == nil {
			if reason, d := validity(r, now); reason != ReasonNone {
				return v(Untrusted, reason, "trusted CA %s %s", SubjectDN(r), d)
			}
		}
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		// Would the chain verify if the peer had sent the intermediates
		// known from elsewhere?
		if len(p.Intermediates) > 0 {
			with := x509.NewCertPool()
			for _, c := range chain[1:] {
				with.AddCert(c)
			}
			for _, c := range p.Intermediates {
				with.AddCert(c)
			}
			o := opts
			o.Intermediates = with
			if _, err2 := chain[0].Verify(o); err2 == nil {
				return v(Untrusted, ReasonMissingIntermediate, "%s is issued by %s, which the peer does not send",
					SubjectDN(top), IssuerDN(top))
			}
		}
		for _, r := range roots {
			if bytes.Equal(r.RawSubject, top.RawIssuer) {
				return v(Untrusted, ReasonUnknownCA,
					"%s names issuer %s, and a trusted CA has that name but a different key (CA re-created or rotated with the same DN)",
					SubjectDN(top), IssuerDN(top))
			}
		}
		if bytes.Equal(top.RawSubject, top.RawIssuer) {
			return v(Untrusted, ReasonUnknownCA, "the chain ends at CA %s, which is not trusted", SubjectDN(top))
		}
		return v(Untrusted, ReasonUnknownCA, "issuer %s of %s is neither trusted nor sent by the peer (unknown CA or missing intermediate)",
			IssuerDN(top), SubjectDN(top))
	}
	if e, ok := errors.AsType[x509.CertificateInvalidError](err); ok && e.Reason == x509.Expired {
		// Validity of the presented chain was checked above: a trusted
		// anchor is out of date.
		return v(Untrusted, ReasonExpired, "%v", err)
	}
	return v(Untrusted, ReasonUnknownCA, "chain of %s does not verify: %v", SubjectDN(chain[0]), err)
}

// usageAllowed is EndEntityChecker#checkEKU.
func usageAllowed(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	if u == x509.ExtKeyUsageAny || (len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0) {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, u) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

func purpose(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return "TLS server authentication (serverAuth)"
	case x509.ExtKeyUsageClientAuth:
		return "TLS client authentication (clientAuth)"
	}
	return ExtKeyUsageName(u)
}

// MatchesHost is sun.security.util.HostnameChecker's TYPE_TLS matching:
// an IP literal only against IP subjectAltNames; a DNS name against the
// dNSName subjectAltNames (wildcards in the left-most label), or, when the
// certificate has none, against its most specific CN.
func MatchesHost(c *x509.Certificate, host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "."), "["), "]")
	if ip := net.ParseIP(host); ip != nil {
		for _, a := range c.IPAddresses {
			if a.Equal(ip) {
				return true
			}
		}
		return false
	}
	names := c.DNSNames
	if len(names) == 0 {
		if c.Subject.CommonName == "" {
			return false
		}
		names = []string{c.Subject.CommonName}
	}
	for _, n := range names {
		if matchDNSName(n, host) {
			return true
		}
	}
	return false
}

func matchDNSName(pattern, host string) bool {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	host = strings.ToLower(host)
	if !strings.HasPrefix(pattern, "*.") {
		return pattern == host
	}
	first, rest, ok := strings.Cut(host, ".")
	return ok && first != "" && rest == pattern[2:]
}

// PeerRejection turns a TLS alert the peer sent after we presented (or
// failed to present) our certificate into a handshake-based verdict. alert
// is the RFC 8446 name (bad_certificate, unknown_ca, certificate_expired,
// certificate_required, ...).
func PeerRejection(alert, detail string) Verdict {
	return Verdict{Status: Untrusted, Basis: BasisHandshake, Reason: ReasonRejectedByPeer,
		Detail: strings.TrimSpace("peer sent TLS alert " + alert + ": " + detail)}
}
