package collector

import (
	"testing"
	"time"
)

func TestParseTimeValue(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "1.5m", want: 90 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "2d", want: 48 * time.Hour},
		{in: "1h", want: time.Hour},
		{in: "1.2h", want: 72 * time.Minute},
		{in: "500micros", want: 500 * time.Microsecond},
		{in: "7nanos", want: 7},
		{in: "0s", want: 0},
		{in: "", wantErr: true},
		{in: "30", wantErr: true},
		{in: "s", wantErr: true},
		{in: "-1s", wantErr: true},
		{in: "1e3s", wantErr: true},
		{in: "thirty seconds", wantErr: true},
	} {
		got, err := ParseTimeValue(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseTimeValue(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseTimeValue(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
