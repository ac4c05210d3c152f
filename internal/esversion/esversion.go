// Package esversion parses Elasticsearch version strings and knows the
// per-family constants Elasticsearch itself reports (minimum wire and index
// compatibility versions on GET /). It is pure: no I/O, no clock.
package esversion

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed Elasticsearch version such as 8.19.2 or 9.1.0-SNAPSHOT.
// Qualifier holds anything after the first '-' ("SNAPSHOT", "beta1", ...).
type Version struct {
	Major, Minor, Patch int
	Qualifier           string
}

// Parse accepts "MAJOR.MINOR.PATCH" with an optional "-QUALIFIER" suffix, and
// also "MAJOR.MINOR" (patch 0), which is how people name a release line.
func Parse(s string) (Version, error) {
	orig := s
	s = strings.TrimSpace(s)
	var v Version
	if i := strings.IndexByte(s, '-'); i >= 0 {
		v.Qualifier = s[i+1:]
		s = s[:i]
		if v.Qualifier == "" {
			return Version{}, fmt.Errorf("version %q: empty qualifier after '-'", orig)
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR[.PATCH][-QUALIFIER], e.g. 8.19.2", orig)
	}
	nums := [3]int{}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || (len(p) > 1 && p[0] == '+') {
			return Version{}, fmt.Errorf("version %q: %q is not a non-negative number", orig, p)
		}
		nums[i] = n
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

// MustParse is Parse for constants known at compile time; it panics on error.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String renders the version the way Elasticsearch prints it.
func (v Version) String() string {
	b := make([]byte, 0, 16)
	b = strconv.AppendInt(b, int64(v.Major), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(v.Minor), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(v.Patch), 10)
	if v.Qualifier != "" {
		b = append(b, '-')
		b = append(b, v.Qualifier...)
	}
	return string(b)
}

// MinorString renders the release line, e.g. "8.19".
func (v Version) MinorString() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Compare orders versions by major, minor and patch. Qualifiers are ignored:
// Elasticsearch's compatibility rules are stated on release numbers, and a
// 9.1.0-SNAPSHOT speaks the 9.1.0 wire format.
func (v Version) Compare(o Version) int {
	switch {
	case v.Major != o.Major:
		return cmpInt(v.Major, o.Major)
	case v.Minor != o.Minor:
		return cmpInt(v.Minor, o.Minor)
	default:
		return cmpInt(v.Patch, o.Patch)
	}
}

// AtLeast reports v >= major.minor.0.
func (v Version) AtLeast(major, minor int) bool {
	return v.Compare(Version{Major: major, Minor: minor}) >= 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MinimumWireCompatibility is the minimum_wire_compatibility_version GET /
// reports for v (Version.minimumCompatibilityVersion in 7.x, the transport
// version of the previous major's last minor in 8.x/9.x): 7.x -> 6.8.0,
// 8.x -> 7.17.0, 9.0 -> 8.18.0, 9.1+ -> 8.19.0. ok is false for majors this
// package has no fact for (before 7, after 9).
func MinimumWireCompatibility(v Version) (Version, bool) {
	switch {
	case v.Major == 7:
		return Version{6, 8, 0, ""}, true
	case v.Major == 8:
		return Version{7, 17, 0, ""}, true
	case v.Major == 9 && v.Minor == 0:
		return Version{8, 18, 0, ""}, true
	case v.Major == 9:
		return Version{8, 19, 0, ""}, true
	}
	return Version{}, false
}

// MinimumIndexCompatibility is the minimum_index_compatibility_version string
// GET / reports for v: 7.x -> 6.0.0-beta1, 8.x -> 7.0.0, 9.x -> 8.0.0.
func MinimumIndexCompatibility(v Version) (string, bool) {
	switch v.Major {
	case 7:
		return "6.0.0-beta1", true
	case 8:
		return "7.0.0", true
	case 9:
		return "8.0.0", true
	}
	return "", false
}
