// Package bench holds the project's performance benchmarks: one poll cycle of
// 1,000 simulated clusters with 10 remote links each, and a scrape of the
// resulting 10,000 links. The simulator runs in a child process so that the
// CPU and memory figures are the exporter's alone. Run with `make bench`.
package bench
