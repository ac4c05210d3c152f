package collector

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

func errMissing(field string) error { return fmt.Errorf("field %s is missing", field) }

// timeValueUnits are the suffixes of Elasticsearch's TimeValue, longest
// first so that "ms" is not read as "m" + "s"
// (org.elasticsearch.core.TimeValue.toString / parseTimeValue).
var timeValueUnits = []struct {
	suffix string
	unit   time.Duration
}{
	{"nanos", time.Nanosecond},
	{"micros", time.Microsecond},
	{"ms", time.Millisecond},
	{"s", time.Second},
	{"m", time.Minute},
	{"h", time.Hour},
	{"d", 24 * time.Hour},
}

// ParseTimeValue parses a duration as Elasticsearch renders it, e.g. "30s",
// "1.5m" (TimeValue.toString writes one fractional digit), "250ms", "2d".
func ParseTimeValue(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty time value")
	}
	for _, u := range timeValueUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || !(f >= 0) || num == "" || strings.ContainsAny(num, "eE+") { // !(f >= 0): NaN too
			break
		}
		// Converting a float beyond int64 to a Duration is undefined (on
		// amd64 it yields the most negative one): "200000d", "Infs".
		d := f * float64(u.unit)
		if d >= maxDurationFloat {
			return 0, fmt.Errorf("time value %q: longer than %s, the longest duration this exporter can hold", s, time.Duration(math.MaxInt64))
		}
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("time value %q: want a number and one of nanos, micros, ms, s, m, h, d", s)
}

// maxDurationFloat is 2^63 as a float64: the first value past time.Duration's range.
const maxDurationFloat = float64(1 << 63)
