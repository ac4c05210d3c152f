package simulator

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseTimeValue: a request parameter the simulator accepts as a time
// value is -1 (only when it says so), zero or positive, whatever the
// number's size; case does not matter (TimeValue lower-cases it); whole
// numbers of a unit are exact, or saturate when they do not fit.
func FuzzParseTimeValue(f *testing.F) {
	for _, s := range fixtureTimeValues(f) {
		f.Add(s)
	}
	for _, s := range []string{"-1", "0", "5s", "1.5m", "250MS", " 10 micros ", "2d", "3nanos", "1e3s", "s", "-2s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseTimeValue(s)
		if err != nil {
			return
		}
		switch {
		case d == -1 && strings.TrimSpace(s) != "-1":
			t.Fatalf("parseTimeValue(%q) = -1 (no value), but it is not \"-1\"", s)
		case d < -1:
			t.Fatalf("parseTimeValue(%q) = %d, negative", s, d)
		}
		if again, err := parseTimeValue(asciiUpper(s)); err != nil || again != d {
			t.Fatalf("parseTimeValue(%q) = %v but upper-cased %v, %v", s, d, again, err)
		}
		norm := strings.ToLower(strings.TrimSpace(s))
		for _, u := range slices.Backward(timeUnits) {
			num, ok := strings.CutSuffix(norm, u.suffix)
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n < 0 {
				break
			}
			want := time.Duration(math.MaxInt64) // saturated, like TimeUnit#toNanos
			if n <= math.MaxInt64/int64(u.size) {
				want = time.Duration(n) * u.size
			}
			if d != want {
				t.Fatalf("parseTimeValue(%q) = %d, want %d", s, d, want)
			}
			break
		}
	})
}

// FuzzTimeValueRoundTrip: what the simulator renders parses back:
// getStringRep exactly, toString to the duration truncated to one fraction
// digit of its unit.
func FuzzTimeValueRoundTrip(f *testing.F) {
	for _, d := range []time.Duration{0, 1, 999, time.Millisecond, 30 * time.Second, 90 * time.Second,
		100 * time.Second, 36 * time.Hour, 1<<63 - 1} {
		f.Add(int64(d))
	}
	f.Fuzz(func(t *testing.T, n int64) {
		d := time.Duration(n)
		if d < 0 {
			return
		}
		rep := timeValueStringRep(d)
		if got, err := parseTimeValue(rep); err != nil || got != d {
			t.Fatalf("timeValueStringRep(%d) = %q parses as %d, %v", d, rep, got, err)
		}
		s := timeValueString(d)
		got, err := parseTimeValue(s)
		if err != nil {
			t.Fatalf("timeValueString(%d) = %q does not parse: %v", d, s, err)
		}
		unit := time.Nanosecond
		for _, u := range timeUnits {
			if d >= u.size {
				unit = u.size
				break
			}
		}
		// One fraction digit, truncated; the float arithmetic of the
		// parse may land a few ns either side.
		slack := time.Duration(float64(d)*1e-12) + 1
		if got-d > slack || d-got >= unit/10+slack {
			t.Fatalf("timeValueString(%d) = %q parses as %d: more than a tenth of a %s off", d, s, got, unit)
		}
	})
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

var timeValueField = regexp.MustCompile(`"(?:initial_connect_timeout|timeout)"\s*:\s*"([^"]*)"`)

// fixtureTimeValues returns the time values in the simulator's recorded
// responses.
func fixtureTimeValues(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range timeValueField.FindAllStringSubmatch(string(data), -1) {
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		tb.Fatal("no time values in testdata/*.json")
	}
	return out
}
