package simulator

import (
	"math"
	"regexp"
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

// parseTimeValue parses the request parameter setting (its value s) like
// org.elasticsearch.core.TimeValue#parseTimeValue of 8.x/9.x
// (libs/core/src/main/java/org/elasticsearch/core/TimeValue.java): the
// unit suffixes nanos, micros, ms, s (any case), m (lower case only: "M"
// would be months), h and d (any case), each after a whole number
// (Long.parseLong); otherwise "-1" (with any zeros before the 1: no value,
// returned as -1) or zeros. A failure is the IllegalArgumentException that
// Elasticsearch answers with 400 illegal_argument_exception (checked against
// real 8.19 and 9.2 by internal/realcluster's conformance test):
//   - a fraction: "failed to parse [<s>], fractional time values are not
//     supported" (TimeValueTests#testFractionalTimeValues);
//   - not a number: "failed to parse [<s>]" (TimeValueTests
//     #testNonFractionalTimeValues); both caused by Long.parseLong's
//     NumberFormatException, "For input string: \"<number>\"";
//   - no unit: "failed to parse setting [<setting>] with value [<s>] as a
//     time value: unit is missing or unrecognized";
//   - a number below -1: "failed to parse setting [<setting>] with value
//     [<s>] as a time value: negative durations are not supported", without
//     a cause (TimeValue#parse; TimeValueTests
//     #testRejectsNegativeValuesDuringParsing).
//
// A whole number too large for its unit saturates, as converting a
// TimeValue to nanoseconds does (java.util.concurrent.TimeUnit#toNanos).
func parseTimeValue(s, setting string) (time.Duration, *esError) {
	norm := strings.ToLower(strings.TrimSpace(s))
	// TimeValue tests the suffixes smallest unit first: "nanos" before
	// "s", "ms" before "s" and "m"; minutes on the raw value.
	for _, u := range slices.Backward(timeUnits) {
		if u.suffix == "m" && !strings.HasSuffix(s, "m") || !strings.HasSuffix(norm, u.suffix) {
			continue
		}
		num := strings.TrimSpace(strings.TrimSuffix(norm, u.suffix))
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			// Caused by Long.parseLong's NumberFormatException.
			cause := &esError{typ: "number_format_exception", reason: `For input string: "` + num + `"`}
			if javaDouble(num) {
				return 0, &esError{status: 400, typ: "illegal_argument_exception", cause: cause,
					reason: "failed to parse [" + s + "], fractional time values are not supported"}
			}
			return 0, &esError{status: 400, typ: "illegal_argument_exception", cause: cause, reason: "failed to parse [" + s + "]"}
		}
		switch {
		case n == -1:
			return -1, nil
		case n < -1:
			e := illegalArgument("failed to parse setting [" + setting + "] with value [" + s + "] as a time value: negative durations are not supported")
			return 0, &e
		case n > math.MaxInt64/int64(u.size):
			return math.MaxInt64, nil
		}
		return time.Duration(n) * u.size, nil
	}
	switch {
	case minusOne.MatchString(norm):
		return -1, nil
	case zeros.MatchString(norm):
		return 0, nil
	}
	e := illegalArgument("failed to parse setting [" + setting + "] with value [" + s + "] as a time value: unit is missing or unrecognized")
	return 0, &e
}

// javaDouble reports whether Double.parseDouble accepts num, a lower-cased
// value: Go's float syntax less what Java refuses (nan and inf, which Java
// spells NaN and Infinity, case-sensitive; underscores between digits) plus
// Java's optional f or d suffix (FloatingDecimal#readJavaFormatString).
func javaDouble(num string) bool {
	if strings.ContainsAny(num, "_ni") {
		return false
	}
	if t := strings.TrimRight(num, "fd"); len(num)-len(t) == 1 && !strings.HasPrefix(num, "0x") {
		num = t
	}
	_, err := strconv.ParseFloat(num, 64)
	return err == nil
}

// TimeValue's String#matches patterns for "-1" and zero.
var (
	minusOne = regexp.MustCompile(`^-0*1$`)
	zeros    = regexp.MustCompile(`^0+$`)
)
