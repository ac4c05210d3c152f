package esversion

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// versionFields finds the version strings Elasticsearch sends in the
// project's recorded responses: GET / "number" and the minimum
// compatibility versions, GET _nodes "version", GET _resolve/cluster and
// GET _remote/info version fields.
var versionFields = regexp.MustCompile(`"(?:number|version|minimum_wire_compatibility_version|minimum_index_compatibility_version)"\s*:\s*"([^"]*)"`)

// fixtureVersions returns every version string in the JSON fixtures of the
// collector and the simulator.
func fixtureVersions(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, pattern := range []string{"../../collector/testdata/*/*.json", "../simulator/testdata/*.json"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			for _, m := range versionFields.FindAllStringSubmatch(string(data), -1) {
				out = append(out, m[1])
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("no version strings found in the fixtures")
	}
	return out
}

// FuzzParse: whatever Parse accepts re-formats to a string that parses to
// the same version, compares equal to itself, and names its release line;
// whitespace around it changes nothing.
func FuzzParse(f *testing.F) {
	for _, s := range fixtureVersions(f) {
		f.Add(s)
	}
	for _, s := range []string{"8.19", "9.1.0-SNAPSHOT", " 8.19.2 ", "08.019.0", "8.19.2-", "+8.1.0", "8.1.0-a-b", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), "version ") {
				t.Errorf("Parse(%q): error %q does not say it is about a version", s, err)
			}
			return
		}
		if v.Major < 0 || v.Minor < 0 || v.Patch < 0 {
			t.Fatalf("Parse(%q) = %+v: negative component", s, v)
		}
		again, err := Parse(v.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, whose String %q does not parse: %v", s, v, v.String(), err)
		}
		if again != v {
			t.Fatalf("Parse(%q) = %+v, but Parse(String()) = %+v", s, v, again)
		}
		if v.Compare(again) != 0 || !v.AtLeast(v.Major, v.Minor) {
			t.Fatalf("%+v does not compare equal to itself", v)
		}
		line, err := Parse(v.MinorString())
		if err != nil || line.Major != v.Major || line.Minor != v.Minor || line.Patch != 0 || line.Qualifier != "" {
			t.Fatalf("MinorString %q of %+v parses as %+v, %v", v.MinorString(), v, line, err)
		}
		if line.Compare(v) > 0 {
			t.Fatalf("the release line %s sorts after its version %s", line, v)
		}
		if padded, err := Parse(" \t" + s + "\n"); err != nil || padded != v {
			t.Fatalf("Parse with surrounding whitespace = %+v, %v; want %+v", padded, err, v)
		}
	})
}
