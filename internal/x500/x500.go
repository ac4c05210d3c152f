// Package x500 holds the lexing of distinguished names in the string form
// Java's X500Principal prints ("CN=a, O=b"), shared by the certificate
// generator of the tests and the trust judgement.
package x500

// SplitUnquoted splits s at sep where sep stands outside double quotes and
// is not escaped with a backslash: the RDNs of a DN at ',', the AVAs of a
// multi-valued RDN at '+'.
func SplitUnquoted(s string, sep byte) []string {
	var out []string
	inQuote, esc, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
