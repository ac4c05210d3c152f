// Package soak runs the real es_remote_exporter binary for a bounded time
// against simulated clusters with rotating faults, scraping /metrics every
// second, and fails when something grows without bound or a fault that
// ended leaves a trace other than its counters. See README.md in this
// directory for the command, the thresholds and the last measured numbers.
//
// `go test ./internal/soak/` (so `make test`) runs a 20-second smoke over
// 20 clusters; `make soak` runs the real thing (SOAK_DURATION, 10 minutes
// by default, over SOAK_CLUSTERS, 100 by default). The test has no code of
// its own besides this comment; it is in soak_test.go (Linux only: it reads
// the daemon's /proc entries).
package soak
