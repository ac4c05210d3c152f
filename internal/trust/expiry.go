package trust

import (
	"bytes"
	"crypto/x509"
	"strings"
	"time"
)

// Side and Role name where a certificate a link depends on sits.
const (
	SideLocal  = "local"
	SideRemote = "remote"

	RoleLeaf         = "leaf"
	RoleIntermediate = "intermediate"
	RoleCA           = "ca"
)

// CertRef identifies one certificate a link depends on, for the "earliest
// expiry" of the link and the label that names it.
type CertRef struct {
	Side     string // SideLocal | SideRemote
	Role     string // RoleLeaf | RoleIntermediate | RoleCA
	Subject  string
	Serial   string
	NotAfter time.Time
}

// Ref builds a CertRef from a certificate.
func Ref(side, role string, c *x509.Certificate) CertRef {
	return CertRef{Side: side, Role: role, Subject: SubjectDN(c), Serial: Serial(c), NotAfter: c.NotAfter.UTC()}
}

// ChainRole names the place of the i-th certificate of a presented chain:
// the first is the leaf, a self-issued one (subject = issuer) a CA, the
// rest intermediates.
func ChainRole(i int, selfIssued bool) string {
	switch {
	case i == 0:
		return RoleLeaf
	case selfIssued:
		return RoleCA
	}
	return RoleIntermediate
}

func selfIssued(c *x509.Certificate) bool { return bytes.Equal(c.RawSubject, c.RawIssuer) }

// ChainRefs turns a presented chain (leaf first) and the CAs it depends on
// into CertRefs: the first certificate is the leaf, the others
// intermediates unless self-issued, the cas CAs.
func ChainRefs(side string, chain []*x509.Certificate, cas []*x509.Certificate) []CertRef {
	var out []CertRef
	for i, c := range chain {
		out = append(out, Ref(side, ChainRole(i, selfIssued(c)), c))
	}
	for _, c := range cas {
		out = append(out, Ref(side, RoleCA, c))
	}
	return out
}

// EarliestExpiry returns the certificate with the earliest not-after among
// all given groups (e.g. the local side's leaf, intermediates and CAs and
// the remote side's), and false when there is none. Ties are broken
// deterministically by side, role, subject and serial so the reported
// certificate does not flap between polls.
func EarliestExpiry(certs ...[]CertRef) (CertRef, bool) {
	var best CertRef
	found := false
	for _, group := range certs {
		for _, c := range group {
			if c.NotAfter.IsZero() {
				continue
			}
			if !found || less(c, best) {
				best, found = c, true
			}
		}
	}
	return best, found
}

func less(a, b CertRef) bool {
	if !a.NotAfter.Equal(b.NotAfter) {
		return a.NotAfter.Before(b.NotAfter)
	}
	for _, p := range [][2]string{{a.Side, b.Side}, {a.Role, b.Role}, {a.Subject, b.Subject}, {a.Serial, b.Serial}} {
		if c := strings.Compare(p[0], p[1]); c != 0 {
			return c < 0
		}
	}
	return false
}
