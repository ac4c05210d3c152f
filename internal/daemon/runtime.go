package daemon

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the GC target the exporter runs with unless GOGC is
// set. Its heap is mostly long-lived snapshot text (about 1.6 KB per link at
// 10,000 links) that holds no pointers and is cheap to mark, so Go's default
// of 100, which lets the heap grow to twice the live data before collecting,
// costs memory the CPU it saves is not worth; lower, collections come often
// enough to cost more CPU than the polls' own work (docs/performance.md).
const DefaultGCPercent = 40

// ApplyRuntimeDefaults sets the exporter's GC target unless the operator set
// GOGC. The command calls it at start; the benchmarks call it too, so that
// they measure what runs.
func ApplyRuntimeDefaults() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(DefaultGCPercent)
	}
}
