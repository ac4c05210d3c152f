package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/scheduler"
)

// daemon is the running exporter: config, scheduler, HTTP handlers.
type daemon struct {
	logger *slog.Logger
	load   func() (*config.Config, error)
	sched  *scheduler.Scheduler
	reg    *prometheus.Registry // the exporter's own metrics; the store serves the rest
	store  *collector.Store

	reloadMu      sync.Mutex
	reloadOK      prometheus.Gauge
	reloadSuccess prometheus.Gauge
}

// newDaemon loads the first configuration; failing that, it does not start.
func newDaemon(load func() (*config.Config, error), logger *slog.Logger) (*daemon, error) {
	reg := prometheus.NewRegistry()
	store := collector.NewStore()
	d := &daemon{
		logger: logger,
		load:   load,
		reg:    reg,
		store:  store,
		sched:  scheduler.New(scheduler.Options{Store: store, Registerer: reg, Logger: logger}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "es_remote_exporter_config_last_reload_successful",
			Help: "1 when the last configuration (re)load succeeded, 0 when it failed and the previous configuration is still in use.",
		}),
		reloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "es_remote_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration (re)load.",
		}),
	}
	reg.MustRegister(
		d.reloadOK, d.reloadSuccess,
		versioncollector.NewCollector(programName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if err := d.reload(); err != nil {
		return nil, err
	}
	return d, nil
}

// reload loads, validates and applies the configuration. On any error the
// running configuration stays in place.
func (d *daemon) reload() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	cfg, err := d.load()
	if err == nil {
		err = d.sched.Apply(cfg)
	}
	if err != nil {
		d.reloadOK.Set(0)
		return err
	}
	d.reloadOK.Set(1)
	d.reloadSuccess.SetToCurrentTime()
	if len(cfg.Clusters) == 0 {
		d.logger.Warn("no clusters configured; add some under clusters: in --config.file")
	}
	for _, cl := range cfg.Clusters {
		if cl.TLS.InsecureSkipVerify {
			d.logger.Warn("TLS certificate verification is off for this cluster (tls.insecure_skip_verify); anyone on the path can read its credentials", "es_cluster", cl.Name)
		}
	}
	d.logger.Info("configuration loaded", "clusters", len(cfg.Clusters))
	return nil
}

func (d *daemon) handler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", collector.Handler(d.store, d.reg, d.logger))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !d.sched.Ready() {
			http.Error(w, "Not ready: the first poll of every cluster has not finished", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	reload := func(w http.ResponseWriter, _ *http.Request) {
		if err := d.reload(); err != nil {
			d.logger.Error("reload failed; keeping the running configuration", "err", err)
			http.Error(w, "reload failed, the running configuration stays: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded")
	}
	mux.HandleFunc("POST /-/reload", reload)
	mux.HandleFunc("PUT /-/reload", reload)
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        programName,
		Description: "Prometheus exporter for Elasticsearch remote cluster links (cross-cluster search and replication)",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: "metrics", Text: "Metrics"},
			{Address: "-/healthy", Text: "Health"},
			{Address: "-/ready", Text: "Readiness"},
		},
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /{$}", landing)
	return mux, nil
}

// serve runs the daemon until ctx ends (SIGINT/SIGTERM).
func serve(ctx context.Context, o *options, load func() (*config.Config, error), logger *slog.Logger) int {
	logger.Info("starting "+programName, "version", version.Info(), "build_context", version.BuildContext())
	d, err := newDaemon(load, logger)
	if err != nil {
		logger.Error("cannot start: configuration is invalid", "err", err)
		return 1
	}
	defer d.sched.Stop()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := d.reload(); err != nil {
					logger.Error("reload on SIGHUP failed; keeping the running configuration", "err", err)
				}
			}
		}
	}()

	h, err := d.handler()
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
