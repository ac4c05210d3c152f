package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/daemon"
)

// serve runs the daemon until ctx ends (SIGINT/SIGTERM).
func serve(ctx context.Context, o *options, load func() (*config.Config, error), logger *slog.Logger) int {
	logger.Info("starting "+programName, "version", version.Info(), "build_context", version.BuildContext())
	d, err := daemon.New(load, logger)
	if err != nil {
		logger.Error("cannot start: configuration is invalid", "err", err)
		return 1
	}
	defer d.Stop()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := d.Reload(); err != nil {
					logger.Error("reload on SIGHUP failed; keeping the running configuration", "err", err)
				}
			}
		}
	}()

	h, err := d.Handler()
	if err != nil {
		logger.Error("building the HTTP handler", "err", err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		errc <- web.ListenAndServe(srv, &web.FlagConfig{WebListenAddresses: &o.listen, WebConfigFile: &o.webConfigFile}, logger)
	}()
	select {
	case err := <-errc:
		logger.Error("HTTP server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("HTTP shutdown", "err", err)
	}
	return 0
}
