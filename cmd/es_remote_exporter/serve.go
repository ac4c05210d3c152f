package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
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

// serve runs the daemon until ctx ends (SIGINT/SIGTERM); its web flags
// have been checked (webFlagsOK).
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
	go reloadOnSignal(ctx, hup, d, logger)

	var handlerOpts []daemon.HandlerOption
	if o.enableLifecycle {
		handlerOpts = append(handlerOpts, daemon.WithLifecycle())
	}
	h, err := d.Handler(handlerOpts...)
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
		logger.Error("HTTP server stopped", "err", listenError(err))
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

// reloadOnSignal reloads the configuration on every signal from hup until
// ctx ends. SIGHUP always reloads, with or without --web.enable-lifecycle.
func reloadOnSignal(ctx context.Context, hup <-chan os.Signal, d *daemon.Daemon, logger *slog.Logger) {
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
}

// checkWebFlags finds mistakes in the web flags before anything starts, so
// that the error names the flag instead of coming from deep in a listener.
// webFlagsOK checks the listen addresses and web configuration file before
// anything starts (the demo's clusters and banner included), logging why
// not.
func webFlagsOK(o *options, logger *slog.Logger) bool {
	if err := checkWebFlags(o); err != nil {
		logger.Error("cannot start", "err", err)
		return false
	}
	return true
}

func checkWebFlags(o *options) error {
	if len(o.listen) == 0 {
		return fmt.Errorf("--%s: give at least one address, like %s", flagListenAddress, defaultListenAddress)
	}
	for _, a := range o.listen {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("--%s=%s: %v; write host:port or :port, like %s", flagListenAddress, a, err, defaultListenAddress)
		}
	}
	if o.webConfigFile != "" {
		if err := web.Validate(o.webConfigFile); err != nil {
			return fmt.Errorf("--%s=%s: %w", flagWebConfigFile, o.webConfigFile, err)
		}
	}
	return nil
}

// listenError adds what to do to the listener's errors.
func listenError(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another process listens there; stop it or choose another address with --%s (e.g. --%s=:10115)",
			err, flagListenAddress, flagListenAddress)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "listen" {
		return fmt.Errorf("%w: choose another address with --%s", err, flagListenAddress)
	}
	return err
}
