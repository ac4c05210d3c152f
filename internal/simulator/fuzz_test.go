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
// value is -1 or more, whatever the number's size; case does not matter
// (TimeValue lower-cases it) except for minutes, which only "m" names;
// only whole numbers of a unit are accepted, exact or saturated when they
// do not fit.
func FuzzParseTimeValue(f *testing.F) {
	for _, s := range fixtureTimeValues(f) {
		f.Add(s)
	}
	for _, s := range []string{"-1", "0", "5s", "1.5m", "250MS", " 10 micros ", "2d", "3nanos", "1e3s", "s", "-2s", "5M", "-001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseTimeValue(s, "timeout")
		if err != nil {
			return
		}
		if d < -1 {
			t.Fatalf("parseTimeValue(%q) = %d, negative", s, d)
		}
		if !strings.HasSuffix(s, "m") {
			if again, err := parseTimeValue(asciiUpper(s), "timeout"); err != nil || again != d {
				t.Fatalf("parseTimeValue(%q) = %v but upper-cased %v, %v", s, d, again, err)
			}
		}
		norm := strings.ToLower(strings.TrimSpace(s))
		for _, u := range slices.Backward(timeUnits) {
			num, ok := strings.CutSuffix(norm, u.suffix)
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil {
				t.Fatalf("parseTimeValue(%q) = %d, but %q is no whole number", s, d, num)
			}
			if n < 0 {
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

// FuzzTimeValueRoundTrip: getStringRep parses back exactly; toString
// parses back to the duration truncated to a tenth of its unit when it is a
// whole number, and is refused as fractional otherwise (Elasticsearch does
// not parse its own "1.5m").
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
		if got, err := parseTimeValue(rep, "timeout"); err != nil || got != d {
			t.Fatalf("timeValueStringRep(%d) = %q parses as %d, %v", d, rep, got, err)
		}
		s := timeValueString(d)
		got, err := parseTimeValue(s, "timeout")
		if strings.Contains(s, ".") {
			if err == nil || !strings.Contains(err.reason.(string), "fractional time values are not supported") {
				t.Fatalf("timeValueString(%d) = %q: parseTimeValue = %d, %v; want the fractional error", d, s, got, err)
			}
			return
		}
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
		if got > d || d-got >= unit/10+1 {
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
