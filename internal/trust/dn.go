package trust

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"unicode/utf16"

	"github.com/es-remote-exporter/es_remote_exporter/internal/x500"
)

// Distinguished names are rendered the way Elasticsearch prints them in
// GET /_ssl/certificates: CertificateInfo uses X500Principal#toString for
// subject_dn and issuer (CertificateInfo.java, 8.x: "using X500Principal#toString
// instead of the more canonical X500Principal#getName"). That is
// sun.security.x509.X500Name#generateDN: RDNs in reverse order of the
// encoding (most specific first), joined by ", "; the AVAs of a
// multi-valued RDN joined by " + " (RDN#toString); each AVA rendered by
// AVA#toKeywordValueString with the DEFAULT keyword table:
//
//	CN C L ST O OU T IP STREET DC DNQ SURNAME GIVENNAME INITIALS GENERATION
//	EMAILADDRESS UID SERIALNUMBER, any other type as "OID.<dotted>"
//
// (AVAKeyword's static table registers several keywords per OID; the last one
// wins: ST over S, DNQ over DNQUALIFIER, EMAILADDRESS over EMAIL.) String
// values are quoted with '"' when they contain one of , + = \n < > # ; \ "
// or leading, trailing or doubled internal white space; '"' and '\' are
// escaped with '\'. Non-string values print as '#' and the hex of their DER
// encoding (lower case with the JDK 21+ HexFormat Elasticsearch bundles; JDKs
// before HexFormat printed upper case).

var oidKeywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "T",
	"1.3.6.1.4.1.42.2.11.2.1":    "IP",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"2.5.4.46":                   "DNQ",
	"2.5.4.4":                    "SURNAME",
	"2.5.4.42":                   "GIVENNAME",
	"2.5.4.43":                   "INITIALS",
	"2.5.4.44":                   "GENERATION",
	"1.2.840.113549.1.9.1":       "EMAILADDRESS",
	"0.9.2342.19200300.100.1.1":  "UID",
	"2.5.4.5":                    "SERIALNUMBER",
}

type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rawRDNSET is one RDN; the "SET" suffix makes encoding/asn1 treat it as a
// SET OF, as pkix.RelativeDistinguishedNameSET does.
type rawRDNSET []rawATV

type rawRDNSequence []rawRDNSET

// DNFromDER renders a DER-encoded Name (x509.Certificate.RawSubject or
// RawIssuer, tls.CertificateRequestInfo.AcceptableCAs) like X500Principal#toString.
func DNFromDER(der []byte) (string, error) {
	var seq rawRDNSequence
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", asn1.SyntaxError{Msg: "trailing data after distinguished name"}
	}
	parts := make([]string, 0, len(seq))
	for i := len(seq) - 1; i >= 0; i-- {
		avas := make([]string, len(seq[i]))
		for j, atv := range seq[i] {
			avas[j] = renderAVA(atv.Type, atv.Value)
		}
		parts = append(parts, strings.Join(avas, " + "))
	}
	return strings.Join(parts, ", "), nil
}

// DN renders a pkix.Name like X500Principal#toString. A Name parsed from a
// certificate keeps its attributes in Names (in encoding order, one RDN
// each: pkix.Name does not remember multi-valued RDNs, for which
// DNFromDER on the raw bytes is exact); a Name built by hand is encoded with
// ToRDNSequence first, as x509.CreateCertificate would.
func DN(name pkix.Name) string {
	var seq pkix.RDNSequence
	if len(name.Names) > 0 {
		for _, atv := range name.Names {
			seq = append(seq, pkix.RelativeDistinguishedNameSET{atv})
		}
	} else {
		seq = name.ToRDNSequence()
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		return name.String()
	}
	s, err := DNFromDER(der)
	if err != nil {
		return name.String()
	}
	return s
}

func renderAVA(oid asn1.ObjectIdentifier, v asn1.RawValue) string {
	kw, ok := oidKeywords[oid.String()]
	if !ok {
		kw = "OID." + oid.String()
	}
	s, isString := derString(v)
	if !isString {
		return kw + "=#" + hex.EncodeToString(v.FullBytes)
	}
	return kw + "=" + quoteValue(s)
}

// derString is DerValue#getAsString: the string types, decoded; nil for
// everything else.
func derString(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal {
		return "", false
	}
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, 27 /* GeneralString */ :
		return string(v.Bytes), true
	case asn1.TagT61String:
		// DerValue#getT61String decodes ISO-8859-1.
		r := make([]rune, len(v.Bytes))
		for i, b := range v.Bytes {
			r[i] = rune(b)
		}
		return string(r), true
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), true
	case 28: // UniversalString, UTF-32BE
		if len(v.Bytes)%4 != 0 {
			return "", false
		}
		r := make([]rune, len(v.Bytes)/4)
		for i := range r {
			b := v.Bytes[4*i:]
			r[i] = rune(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		}
		return string(r), true
	}
	return "", false
}

// isPrintableStringChar is DerValue#isPrintableStringChar.
func isPrintableStringChar(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case ' ', '\'', '(', ')', '+', ',', '-', '.', '/', ':', '=', '?':
		return true
	}
	return false
}

// quoteValue is the string branch of AVA#toKeywordValueString.
func quoteValue(val string) string {
	const escapees = ",+=\n<>#;\\\""
	chars := []rune(val)
	n := len(chars)
	alreadyQuoted := n > 1 && chars[0] == '"' && chars[n-1] == '"'
	var sb strings.Builder
	quoteNeeded, previousWhite := false, false
	for i, c := range chars {
		if alreadyQuoted && (i == 0 || i == n-1) {
			sb.WriteRune(c)
			continue
		}
		if isPrintableStringChar(c) || strings.ContainsRune(escapees, c) {
			if !quoteNeeded && ((i == 0 && (c == ' ' || c == '\n')) || strings.ContainsRune(escapees, c)) {
				quoteNeeded = true
			}
			if c != ' ' && c != '\n' {
				if c == '"' || c == '\\' {
					sb.WriteByte('\\')
				}
				previousWhite = false
			} else {
				if !quoteNeeded && previousWhite {
					quoteNeeded = true
				}
				previousWhite = true
			}
			sb.WriteRune(c)
		} else {
			previousWhite = false
			sb.WriteRune(c)
		}
	}
	out := sb.String()
	if out != "" && (out[len(out)-1] == ' ' || out[len(out)-1] == '\n') {
		quoteNeeded = true
	}
	if !alreadyQuoted && quoteNeeded {
		return `"` + out + `"`
	}
	return out
}

// canonicalDN normalises a rendered DN for equality the way
// X500Principal#equals compares canonical forms: attribute keywords and
// values case-insensitive, white space around separators and runs of
// internal white space ignored. Used only for comparisons, never shown.
func canonicalDN(dn string) string {
	var rdns []string
	for _, rdn := range x500.SplitUnquoted(dn, ',') {
		var avas []string
		for _, ava := range x500.SplitUnquoted(rdn, '+') {
			k, v, _ := strings.Cut(ava, "=")
			v = strings.TrimSpace(v)
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			v = strings.Join(strings.Fields(v), " ")
			avas = append(avas, strings.ToUpper(strings.TrimSpace(k))+"="+strings.ToLower(v))
		}
		rdns = append(rdns, strings.Join(avas, "+"))
	}
	return strings.Join(rdns, ",")
}

// SameDN reports whether two rendered DNs name the same principal (see
// canonicalDN).
func SameDN(a, b string) bool { return canonicalDN(a) == canonicalDN(b) }
