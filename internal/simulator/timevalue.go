package simulator

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// timeUnits are TimeValue's units, largest first.
var timeUnits = []struct {
	size   time.Duration
	suffix string
}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"},
	{time.Millisecond, "ms"}, {time.Microsecond, "micros"}, {time.Nanosecond, "nanos"}}

// timeValueString renders d like org.elasticsearch.core.TimeValue#toString()
// (8.x/9.x; RemoteConnectionInfo writes the TimeValue itself, which
// XContentBuilder turns into toString()): the largest unit the duration
// reaches, at most one fraction digit, truncated, and dropped when zero
// (TimeValue.formatDecimal). 30s -> "30s", 90s -> "1.5m", 100s -> "1.6m".
func timeValueString(d time.Duration) string {
	if d < 0 {
		return strconv.FormatInt(int64(d), 10)
	}
	if d == 0 {
		return "0s"
	}
	var value float64
	var suffix string
	for _, u := range timeUnits {
		if d >= u.size {
			value, suffix = float64(d)/float64(u.size), u.suffix
			break
		}
	}
	s := strconv.FormatFloat(value, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if s[i+1] != '0' {
			s = s[:i+2]
		} else {
			s = s[:i]
		}
	}
	return s + suffix
}

// timeValueStringRep renders d like TimeValue#getStringRep(), which 7.x's
// RemoteConnectionInfo.toXContent uses (source read: RemoteConnectionInfo.java
// of 7.x, `initialConnectionTimeout.getStringRep()`): the number in the unit
// the setting was written with. The simulator assumes the largest unit that
// divides d exactly (unverified: depends on how the operator wrote it).
func timeValueStringRep(d time.Duration) string {
	if d < 0 {
		return strconv.FormatInt(int64(d), 10)
	}
	for _, u := range timeUnits {
		if d%u.size == 0 && d >= u.size {
			return strconv.FormatInt(int64(d/u.size), 10) + u.suffix
		}
	}
	return "0nanos" // d == 0
}

var errTimeUnit = errors.New("unit is missing or unrecognized")

// parseTimeValue parses a request parameter like TimeValue.parseTimeValue:
// "-1" means no value (returned as -1), "0" is zero, otherwise a number with
// one of the units nanos, micros, ms, s, m, h, d.
func parseTimeValue(s string) (time.Duration, error) {
	norm := strings.ToLower(strings.TrimSpace(s))
	if norm == "-1" {
		return -1, nil
	}
	if norm == "0" {
		return 0, nil
	}
	// Smallest first: "ms", "micros" and "nanos" end in "s", "ms" in "m".
	for _, u := range slices.Backward(timeUnits) {
		if strings.HasSuffix(norm, u.suffix) {
			num := strings.TrimSpace(strings.TrimSuffix(norm, u.suffix))
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				f, ferr := strconv.ParseFloat(num, 64)
				// !(f >= 0) also refuses NaN; a float past int64 has no
				// defined Duration (amd64 makes it the most negative one).
				if ferr != nil || !(f >= 0) || f*float64(u.size) >= float64(1<<63) {
					return 0, errTimeUnit
				}
				return time.Duration(f * float64(u.size)), nil
			}
			if n < 0 {
				return 0, errTimeUnit
			}
			if n > math.MaxInt64/int64(u.size) {
				// TimeValue keeps the number and its unit; converting to
				// nanoseconds saturates (java.util.concurrent.TimeUnit#toNanos).
				return math.MaxInt64, nil
			}
			return time.Duration(n) * u.size, nil
		}
	}
	return 0, errTimeUnit
}
