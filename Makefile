# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: test build demo bench

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	# the benchmarks once each, so they cannot rot (numbers: make bench)
	$(GO) test -run "^$$" -bench . -benchtime 1x ./internal/bench/ ./internal/simulator/

# The version stamped into the binary, like the Dockerfile's VERSION build argument.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$(VERSION)" \
		-o es_remote_exporter ./cmd/es_remote_exporter

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
