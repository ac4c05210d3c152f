package esversion

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{in: "8.19.2", want: Version{8, 19, 2, ""}},
		{in: "9.1.0-SNAPSHOT", want: Version{9, 1, 0, "SNAPSHOT"}},
		{in: "6.0.0-beta1", want: Version{6, 0, 0, "beta1"}},
		{in: "8.18", want: Version{8, 18, 0, ""}},
		{in: " 7.17.29 ", want: Version{7, 17, 29, ""}},
		{in: "", wantErr: true},
		{in: "8", wantErr: true},
		{in: "8.x", wantErr: true},
		{in: "8.19.2.1", wantErr: true},
		{in: "8.-1.0", wantErr: true},
		{in: "8.19.2-", wantErr: true},
		{in: "banana", wantErr: true},
	} {
		got, err := Parse(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("Parse(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []string{"8.19.2", "9.1.0-SNAPSHOT", "6.0.0-beta1", "7.17.0"} {
		if got := MustParse(s).String(); got != s {
			t.Errorf("String(Parse(%q)) = %q", s, got)
		}
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"8.19.2", "8.19.2", 0},
		{"8.19.2", "8.19.10", -1},
		{"9.0.0", "8.19.9", 1},
		{"8.2.0", "8.10.0", -1},
		{"9.1.0-SNAPSHOT", "9.1.0", 0},
	} {
		if got := MustParse(tc.a).Compare(MustParse(tc.b)); got != tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if !MustParse("8.13.0").AtLeast(8, 13) || MustParse("8.12.9").AtLeast(8, 13) {
		t.Error("AtLeast(8, 13) wrong around 8.13.0")
	}
}

func TestMinimumCompatibility(t *testing.T) {
	// Values from GET / of each family (shared/es/NOTES.md, "GET /").
	for _, tc := range []struct {
		v, wire, index string
	}{
		{"7.17.29", "6.8.0", "6.0.0-beta1"},
		{"8.13.4", "7.17.0", "7.0.0"},
		{"8.19.2", "7.17.0", "7.0.0"},
		{"9.0.0", "8.18.0", "8.0.0"},
		{"9.1.5", "8.19.0", "8.0.0"},
		{"9.3.0", "8.19.0", "8.0.0"},
	} {
		w, ok := MinimumWireCompatibility(MustParse(tc.v))
		if !ok || w.String() != tc.wire {
			t.Errorf("MinimumWireCompatibility(%s) = %s, %v; want %s", tc.v, w, ok, tc.wire)
		}
		i, ok := MinimumIndexCompatibility(MustParse(tc.v))
		if !ok || i != tc.index {
			t.Errorf("MinimumIndexCompatibility(%s) = %s, %v; want %s", tc.v, i, ok, tc.index)
		}
	}
	if _, ok := MinimumWireCompatibility(MustParse("10.0.0")); ok {
		t.Error("10.0.0 must be unknown")
	}
}
