# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: test build demo bench fuzz soak

test:
	$(GO) vet ./...
	# internal/realcluster downloads Elasticsearch on a fresh machine, which can outlast go test's 10m default
	$(GO) test -race -count=1 -timeout 30m ./...
	# the benchmarks once each, so they cannot rot (numbers: make bench)
	$(GO) test -run "^$$" -bench . -benchtime 1x ./internal/bench/ ./internal/simulator/

# The version is releaseVersion in cmd/es_remote_exporter/version.go whatever
# the build route; the commit comes from Go's own VCS stamping.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -ldflags "-s -w" -o es_remote_exporter ./cmd/es_remote_exporter

demo:
	$(GO) run ./cmd/es_remote_exporter demo

# One poll cycle of 1,000 simulated clusters with 10 links each, a scrape of
# their 10,000 links, and 20 s of steady-state polling; each in a fresh
# process so that one's memory does not inflate the next. See the README's
# Performance section.
bench:
	$(GO) test -run '^$$' -bench '^BenchmarkPollCycle$$' -benchtime 10x -count 1 ./internal/bench/
	$(GO) test -run '^$$' -bench '^BenchmarkScrape$$' -benchtime 10x -count 1 ./internal/bench/
	$(GO) test -run '^$$' -bench '^BenchmarkSteadyState$$' -benchtime 1x -count 1 ./internal/bench/

# Every Go fuzz target (func FuzzXxx in any package, found by go test -list) for FUZZTIME each, one
# after the other. What a target finds is written to its package's testdata/fuzz/FuzzXxx/, which
# plain go test (so make test) replays. go test minimizes every new interesting input for up to 60 s by
# default, which left the slower targets (files, crypto) minimizing instead of exploring: 47 inputs in
# 90 s against 15,000 with 5 s.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 5s
fuzz:
	@set -e; list=$$($(GO) test -list '^Fuzz' ./...); \
	echo "$$list" | awk '/^Fuzz/ { t[n++] = $$1; next } { for (i = 0; i < n; i++) print $$2, t[i]; n = 0 }' | \
	while read -r pkg target; do \
		echo "== $$target ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$pkg" </dev/null; \
	done

# The daemon's binary for SOAK_DURATION against SOAK_CLUSTERS simulated clusters with rotating faults,
# /metrics scraped every second; fails if a resource grows without bound or a healed fault leaves a
# trace. Thresholds and the last numbers: internal/soak/README.md. (make test runs a 20 s smoke.)
SOAK_DURATION ?= 10m
SOAK_CLUSTERS ?= 100
soak:
	SOAK_DURATION=$(SOAK_DURATION) SOAK_CLUSTERS=$(SOAK_CLUSTERS) $(GO) test -count=1 -v -timeout 0 -run '^TestSoak$$' ./internal/soak/
