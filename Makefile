# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: test build demo bench

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	# the benchmarks once each, so they cannot rot (numbers: make bench)
	$(GO) test -run "^$$" -bench . -benchtime 1x ./internal/bench/

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o es_remote_exporter ./cmd/es_remote_exporter

demo:
	$(GO) run ./cmd/es_remote_exporter demo

# One poll of 1,000 simulated clusters with 10 links each, and a scrape of
# their 10,000 links; see the README's Performance section.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 10x -count 3 ./internal/bench/
