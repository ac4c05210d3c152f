package compat

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// specTable parses the "Version compatibility table" of the spec (a copy of
// shared/spec/remote-clusters-cert-auth.md in testdata) into
// local -> remote -> supported.
func specTable(t *testing.T) (versions []string, cells map[string]map[string]bool) {
	t.Helper()
	f, err := os.Open("testdata/remote-clusters-cert-auth.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells = map[string]map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), "|")
		if len(fields) < 4 {
			continue
		}
		cols := make([]string, 0, len(fields))
		for _, c := range fields[1 : len(fields)-1] {
			cols = append(cols, strings.TrimSpace(c))
		}
		switch {
		case cols[0] == "Local cluster version":
			versions = cols[1:]
		case versions != nil && len(cols) == len(versions)+1 && strings.ContainsAny(cols[1], "✅❌"):
			row := map[string]bool{}
			for i, c := range cols[1:] {
				row[versions[i]] = c == "✅"
			}
			cells[cols[0]] = row
		}
	}
	if len(versions) != 25 || len(cells) != 25 {
		t.Fatalf("parsed %d columns and %d rows from the spec's table, want 25 and 25", len(versions), len(cells))
	}
	return versions, cells
}

// TestSupportedMatchesSpecTable: every one of the 625 cells, including the
// asymmetric ones (8.19 -> 9.0 yes, 9.0 -> 8.19 no).
func TestSupportedMatchesSpecTable(t *testing.T) {
	versions, cells := specTable(t)
	n := 0
	for _, l := range versions {
		for _, r := range versions {
			want := Incompatible
			if cells[l][r] {
				want = Compatible
			}
			got := Supported(esversion.MustParse(l), esversion.MustParse(r))
			if got.Status != want {
				t.Errorf("Supported(%s, %s) = %v (%s), spec table says %v", l, r, got.Status, got.Rule, want)
			}
			if !strings.Contains(got.Rule, "compatibility table") {
				t.Errorf("Supported(%s, %s) rule %q does not name the table", l, r, got.Rule)
			}
			n++
		}
	}
	if n != 625 {
		t.Fatalf("checked %d cells", n)
	}
	if Supported(esversion.MustParse("8.19"), esversion.MustParse("9.0")).Status != Compatible ||
		Supported(esversion.MustParse("9.0"), esversion.MustParse("8.19")).Status != Incompatible {
		t.Error("the 8.19/9.0 asymmetry is lost")
	}
}

func TestSupportedPatchesQualifiersAndPolicy(t *testing.T) {
	for _, tc := range []struct {
		local, remote string
		want          Status
		ruleHas       string
	}{
		{"8.18.2", "9.0.0", Compatible, "table"},
		{"9.1.0-SNAPSHOT", "9.0.3", Compatible, "table"},
		{"8.19.7", "9.1.5", Compatible, "table"},
		{"9.0.0", "8.19.7", Incompatible, "table"},
		{"8.13.4", "9.0.0", Incompatible, "table"},
		// outside the table: the policy
		{"9.4.0", "9.3.1", Compatible, "policy"},
		{"9.4.0", "9.2.0", Incompatible, "policy"},
		{"9.3.0", "9.7.0", Compatible, "policy"},
		{"8.19.0", "9.6.0", Compatible, "policy"},
		{"7.16.3", "7.17.0", Compatible, "policy"},
		{"7.16.3", "8.0.0", Incompatible, "policy"},
		{"9.5.0", "8.19.0", Incompatible, "policy"},
		{"7.17.0", "9.5.0", Incompatible, "policy"},
		// no rule
		{"10.0.0", "9.3.0", Unknown, "no compatibility rule"},
		{"9.3.0", "10.1.0", Unknown, "no compatibility rule"},
		{"6.8.23", "7.17.0", Unknown, "no compatibility rule"},
	} {
		got := Supported(esversion.MustParse(tc.local), esversion.MustParse(tc.remote))
		if got.Status != tc.want || !strings.Contains(got.Rule, tc.ruleHas) {
			t.Errorf("Supported(%s, %s) = %v %q, want %v with %q", tc.local, tc.remote, got.Status, got.Rule, tc.want, tc.ruleHas)
		}
	}
}

func TestWire(t *testing.T) {
	for _, tc := range []struct {
		local, remote string
		want          Status
	}{
		{"7.17.29", "8.19.7", Compatible},
		{"8.19.7", "7.17.29", Compatible},
		{"7.17.29", "9.0.0", Incompatible},
		{"8.13.4", "9.1.0", Incompatible},
		{"8.18.8", "9.0.0", Compatible},
		{"8.18.8", "9.1.0", Incompatible}, // 9.1 needs 8.19.0
		{"8.19.0", "9.3.0", Compatible},
		{"7.16.3", "8.0.0", Incompatible}, // 8.x needs 7.17.0
		{"9.1.0-SNAPSHOT", "8.19.0", Compatible},
		{"10.0.0", "9.3.0", Unknown},
	} {
		got := Wire(esversion.MustParse(tc.local), esversion.MustParse(tc.remote))
		if got.Status != tc.want {
			t.Errorf("Wire(%s, %s) = %v (%s), want %v", tc.local, tc.remote, got.Status, got.Rule, tc.want)
		}
	}
}

// TestWorst: a link is judged on its worst node pair, e.g. half-way through
// a rolling upgrade of the remote from 9.0 to 9.1 with an 8.18 local.
func TestWorst(t *testing.T) {
	vs := func(ss ...string) []esversion.Version {
		out := make([]esversion.Version, len(ss))
		for i, s := range ss {
			out[i] = esversion.MustParse(s)
		}
		return out
	}
	sup, wire, ok := Worst(vs("8.18.8"), vs("9.0.4", "9.1.0", "9.0.4"))
	if !ok || sup.Supported.Status != Incompatible || sup.Remote.String() != "9.1.0" {
		t.Errorf("supported worst = %+v", sup)
	}
	if wire.Wire.Status != Incompatible || wire.Remote.String() != "9.1.0" || wire.Local.String() != "8.18.8" {
		t.Errorf("wire worst = %+v", wire)
	}
	sup, _, _ = Worst(vs("8.19.2"), vs("9.1.0", "10.0.0"))
	if sup.Supported.Status != Unknown {
		t.Errorf("unknown must beat compatible: %+v", sup)
	}
	sup, _, _ = Worst(vs("8.19.2", "8.18.8"), vs("9.1.0", "10.0.0"))
	if sup.Supported.Status != Incompatible || sup.Local.String() != "8.18.8" {
		t.Errorf("incompatible must beat unknown: %+v", sup)
	}
	if _, _, ok := Worst(nil, vs("9.1.0")); ok {
		t.Error("no local versions must not be judged")
	}
}

func TestOverall(t *testing.T) {
	for _, tc := range []struct {
		local, remote string
		want          Status
	}{
		{"8.19.2", "9.1.0", Compatible},
		{"9.0.0", "8.19.0", Incompatible}, // supported says no, wire says yes
		{"7.17.0", "9.0.0", Incompatible},
		{"10.0.0", "9.0.0", Unknown},
	} {
		if got := Judge(esversion.MustParse(tc.local), esversion.MustParse(tc.remote)).Overall(); got.Status != tc.want {
			t.Errorf("Overall(%s, %s) = %v (%s), want %v", tc.local, tc.remote, got.Status, got.Rule, tc.want)
		}
	}
}

func TestWriteMatrix(t *testing.T) {
	var b strings.Builder
	if err := WriteMatrix(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	// header + 25 rows
	if !strings.HasPrefix(lines[0], "local\\remote") || !strings.HasPrefix(lines[25], "9.3") {
		t.Fatalf("matrix layout:\n%s", b.String())
	}
	row := strings.Fields(lines[24]) // 9.2
	if row[0] != "9.2" || row[22] != "-" || row[23] != "y" {
		t.Errorf("9.2 row: %v (want 9.0 '-', 9.1 'y')", row)
	}
}
