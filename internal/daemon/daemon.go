// Package daemon is the running exporter without the process around it:
// configuration (re)loading, the scheduler, the exporter's own metrics and
// the HTTP handlers. cmd/es_remote_exporter adds flags, signals and the
// listener; the end-to-end tests run the very same daemon in-process.
package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/scheduler"
)

// Name is the program's name: the build_info metric's prefix and the
// landing page's title.
const Name = "es_remote_exporter"

// Daemon is the exporter: it polls the configured clusters and serves what
// it saw.
type Daemon struct {
	logger *slog.Logger
	load   func() (*config.Config, error)
	sched  *scheduler.Scheduler
	reg    *prometheus.Registry // the exporter's own metrics; the store serves the rest
	store  *collector.Store

	reloadMu      sync.Mutex
	reloadOK      prometheus.Gauge
	reloadSuccess prometheus.Gauge
}

// New loads the first configuration and starts polling; with an invalid
// configuration it does not start.
func New(load func() (*config.Config, error), logger *slog.Logger) (*Daemon, error) {
	reg := prometheus.NewRegistry()
	store := collector.NewStore()
	d := &Daemon{
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
		versioncollector.NewCollector(Name),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if err := d.Reload(); err != nil {
		return nil, err
	}
	return d, nil
}

// Reload loads, validates and applies the configuration. On any error the
// running configuration stays in place.
func (d *Daemon) Reload() error {
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
	for _, w := range cfg.Warnings() {
		d.logger.Warn(w)
	}
	d.logger.Info("configuration loaded", "clusters", len(cfg.Clusters))
	return nil
}

// PollAll polls every cluster once, now, outside the loops' schedule.
func (d *Daemon) PollAll(ctx context.Context) map[string]*collector.Facts {
	return d.sched.PollAll(ctx)
}

// Gatherer is the exporter's own metrics (its registry, without the
// clusters' snapshots): what a caller that measures the daemon reads
// without scraping every link.
func (d *Daemon) Gatherer() prometheus.Gatherer { return d.reg }

// Ready reports whether every configured cluster finished its first poll.
func (d *Daemon) Ready() bool { return d.sched.Ready() }

// Stop ends the polling loops.
func (d *Daemon) Stop() { d.sched.Stop() }

// HandlerOption changes what Handler serves.
type HandlerOption func(*handlerOptions)

type handlerOptions struct{ lifecycle bool }

// WithLifecycle enables POST and PUT /-/reload (--web.enable-lifecycle).
// Without it they answer 403, as Prometheus does: anyone who can reach
// /metrics could otherwise make the exporter reload at will.
func WithLifecycle() HandlerOption { return func(o *handlerOptions) { o.lifecycle = true } }

// lifecycleDisabled is the 403 answer to /-/reload without WithLifecycle.
const lifecycleDisabled = "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle to reload over HTTP, or send it SIGHUP"

// Handler serves /metrics, the landing page, /-/healthy, /-/ready and
// /-/reload.
func (d *Daemon) Handler(opts ...HandlerOption) (http.Handler, error) {
	var o handlerOptions
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", collector.Handler(d.store, d.reg, d.logger))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !d.Ready() {
			http.Error(w, "Not ready: the first poll of every cluster has not finished", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	reload := func(w http.ResponseWriter, _ *http.Request) {
		if !o.lifecycle {
			http.Error(w, lifecycleDisabled, http.StatusForbidden)
			return
		}
		if err := d.Reload(); err != nil {
			d.logger.Error("reload failed; keeping the running configuration", "err", err)
			http.Error(w, "reload failed, the running configuration stays: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded")
	}
	mux.HandleFunc("POST /-/reload", reload)
	mux.HandleFunc("PUT /-/reload", reload)
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        Name,
		Description: "Prometheus exporter for Elasticsearch remote cluster links (cross-cluster search and replication)",
		Version:     version.Info(),
		Profiling:   "false", // no /debug/pprof is served: do not link to it
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
