package collector

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// connectTimeouts are the initial_connect_timeout values of the recorded
// GET _remote/info responses.
var connectTimeouts = regexp.MustCompile(`"initial_connect_timeout"\s*:\s*"([^"]*)"`)

// FuzzParseTimeValue: whatever ParseTimeValue accepts is a duration that
// can be exported: not negative (a NaN, an infinity or an overflow must not
// turn into one), the same with whitespace around it, and exact for a whole
// number of a unit that fits.
func FuzzParseTimeValue(f *testing.F) {
	files, err := filepath.Glob("testdata/*/remote_info.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no remote_info fixtures: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range connectTimeouts.FindAllStringSubmatch(string(data), -1) {
			f.Add(m[1])
		}
	}
	for _, s := range []string{"1.5m", "250ms", "2d", "500micros", "7nanos", "0s", "-1", "30", "1e3s", " 30s "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimeValue(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseTimeValue(%q) = %d, negative", s, d)
		}
		if again, err := ParseTimeValue(" " + s + "\t"); err != nil || again != d {
			t.Fatalf("ParseTimeValue(%q) = %v but with whitespace around it %v, %v", s, d, again, err)
		}
		trimmed := strings.TrimSpace(s)
		for _, u := range timeValueUnits {
			num, ok := strings.CutSuffix(trimmed, u.suffix)
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(num, 10, 64)
			if err == nil && n >= 0 && n <= int64(1<<53)/int64(u.unit) && n*int64(u.unit) != int64(d) {
				t.Fatalf("ParseTimeValue(%q) = %d, want %d x %s = %d", s, d, n, time.Duration(u.unit), n*int64(u.unit))
			}
			break
		}
	})
}
