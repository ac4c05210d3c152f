package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/check"
)

// Exit codes of check; scripts depend on them.
const (
	checkExitOK     = 0 // nothing failed (warnings allowed)
	checkExitFailed = 1 // at least one finding failed
	checkExitUsage  = 2 // bad configuration or usage
)

// runCheck is `es_remote_exporter check --config.file F [--output text|json]`:
// it polls every configured cluster and reports, per link, the spec's four
// steps with evidence and fixes.
func runCheck(ctx context.Context, load func() (*config.Config, error), output string, now func() time.Time,
	logger *slog.Logger, stdout, stderr io.Writer) int {
	write := map[string]func(io.Writer, check.Report) error{"text": check.WriteText, "json": check.WriteJSON}[output]
	if write == nil {
		fmt.Fprintf(stderr, "check: --output must be text or json, not %q\n", output)
		return checkExitUsage
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "check: configuration is invalid:\n%s\n", indent(err.Error()))
		return checkExitUsage
	}
	if len(cfg.Clusters) == 0 {
		fmt.Fprintln(stderr, "check: no clusters configured; add them under clusters: in --config.file")
		return checkExitUsage
	}
	facts, err := pollTwice(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "check: %v\n", err)
		return checkExitUsage
	}
	report := check.Build(cfg, facts, now())
	if err := write(stdout, report); err != nil {
		fmt.Fprintf(stderr, "check: writing the report: %v\n", err)
		return checkExitFailed
	}
	if report.Status == check.Fail {
		return checkExitFailed
	}
	return checkExitOK
}
