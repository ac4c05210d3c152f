package compat

import (
	"testing"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

func TestCCR(t *testing.T) {
	for _, tc := range []struct {
		follower, leader string
		want             Status
	}{
		{"8.19.7", "8.19.7", Compatible},
		{"8.19.7", "8.18.8", Compatible},   // follower newer, a supported pair
		{"8.18.8", "8.19.7", Incompatible}, // leader upgraded ahead of its follower
		{"8.19.6", "8.19.7", Incompatible}, // patch versions count: Lucene is not forward compatible
		{"9.0.4", "8.18.8", Compatible},    // newer across the major, a supported pair
		{"9.1.5", "8.19.7", Incompatible},  // newer, but the table does not support 9.1 -> 8.19
		{"8.19.7", "9.1.5", Incompatible},
		{"9.1.5", "7.17.29", Incompatible}, // newer, but not a supported pair
		{"12.0.0", "11.0.0", Unknown},      // no rule covers it
	} {
		got := CCR(esversion.MustParse(tc.follower), esversion.MustParse(tc.leader))
		if got.Status != tc.want || got.Rule == "" {
			t.Errorf("CCR(follower %s, leader %s) = %v %q, want %v", tc.follower, tc.leader, got.Status, got.Rule, tc.want)
		}
	}
	ls := []esversion.Version{esversion.MustParse("8.18.8"), esversion.MustParse("8.19.7")}
	rs := []esversion.Version{esversion.MustParse("8.19.7")}
	l, r, v, ok := WorstCCR(ls, rs)
	if !ok || v.Status != Incompatible || l.String() != "8.18.8" || r.String() != "8.19.7" {
		t.Errorf("WorstCCR during a follower's rolling upgrade = %s %s %v %v; want the 8.18.8 node against 8.19.7, incompatible", l, r, v.Status, ok)
	}
	if _, _, _, ok := WorstCCR(nil, rs); ok {
		t.Error("WorstCCR without local versions judged")
	}
}
