package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/daemon"
	"github.com/es-remote-exporter/es_remote_exporter/internal/demo"
	"github.com/es-remote-exporter/es_remote_exporter/internal/realcluster"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden from this run")

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startDemoDaemon runs the demo topology plus one cluster nobody answers
// for, polls everything once and returns the daemon's HTTP handler.
func startDemoDaemon(t *testing.T) (*daemon.Daemon, http.Handler) {
	t.Helper()
	topo, err := demo.Start(t.TempDir(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	cfg := *topo.Config
	cfg.Clusters = append(cfg.Clusters, config.Cluster{Name: "gone", URLs: []string{"http://" + testtools.FreeAddr(t)}})
	d, err := daemon.New(func() (*config.Config, error) { return &cfg, nil }, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	// Three cycles: a link is judged with its remote cluster's node list and
	// transport view from that cluster's previous poll, the first cycle polls
	// in any order, and a link matched late is judged again one poll later.
	for range 3 {
		d.PollAll(context.Background())
	}
	h, err := d.Handler(daemon.WithLifecycle())
	if err != nil {
		t.Fatal(err)
	}
	return d, h
}

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

var (
	portRe     = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	uuidRe     = regexp.MustCompile(`cluster_uuid="[^"]*"`)
	serialRe   = regexp.MustCompile(`serial="[^"]*"`) // certificate serials, and API key ids as an api_key's serial
	keyIDRe    = regexp.MustCompile(`\bid="[^"]*"`)   // API key ids are random
	volatileRe = regexp.MustCompile(`^((es_remote_exporter_(check_duration_seconds|last_success_timestamp_seconds|config_last_reload_success_timestamp_seconds|polls_total)|es_remote_cluster_mixed_versions_since_timestamp_seconds|es_remote_exporter_last_transport_probe_timestamp_seconds|es_remote_ccr_follower_time_since_last_read_seconds|es_remote_cluster_cross_cluster_api_key_expiration_timestamp_seconds|es_remote_[a-z_]*not_after_timestamp_seconds)\{?[^ ]*) .*$`)
)

// normalize keeps the exporter's own families and blanks what changes from
// run to run (ports, uuids, timings), so the golden file is stable.
func normalize(exposition string) string {
	var keep []string
	for _, line := range strings.Split(exposition, "\n") {
		if line == "" || strings.Contains(line, " go_") || strings.HasPrefix(line, "go_") ||
			strings.Contains(line, " process_") || strings.HasPrefix(line, "process_") ||
			strings.Contains(line, "promhttp_") {
			continue
		}
		if strings.HasPrefix(line, "es_remote_exporter_build_info{") {
			line = "es_remote_exporter_build_info{LABELS} 1" // version, revision, goversion change
		}
		line = portRe.ReplaceAllString(line, "127.0.0.1:PORT")
		line = uuidRe.ReplaceAllString(line, `cluster_uuid="UUID"`)
		line = serialRe.ReplaceAllString(line, `serial="SERIAL"`)
		line = keyIDRe.ReplaceAllString(line, `id="ID"`)
		line = volatileRe.ReplaceAllString(line, "$1 VALUE")
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n") + "\n"
}

// TestGoldenMetrics scrapes the demo topology (plus a dead cluster) and
// compares the es_remote_* exposition with testdata/metrics.golden. The
// golden file is what alert rules and dashboards are checked against.
func TestGoldenMetrics(t *testing.T) {
	_, h := startDemoDaemon(t)
	rec := get(t, h, "GET", "/metrics")
	if rec.Code != 200 {
		t.Fatalf("/metrics: HTTP %d", rec.Code)
	}
	got := normalize(rec.Body.String())
	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/es_remote_exporter -run TestGoldenMetrics -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (rerun with -update if the change is intended):\n%s", golden, diffLines(string(want), got))
	}
}

// TestPromtoolCheckMetrics lints the full, unnormalized exposition with the
// real promtool (Debian package prometheus).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testtools.Find(t, "prometheus", "promtool")
	_, h := startDemoDaemon(t)
	body := get(t, h, "GET", "/metrics").Body.Bytes()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestEveryDefinedMetricIsDocumented keeps the metrics table of
// docs/metrics.md and the code in step.
func TestEveryDefinedMetricIsDocumented(t *testing.T) {
	readme, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	// What the exporter exports: every poller metric, and every es_remote_*
	// family the daemon serves (its own registry included).
	exported := map[string]bool{}
	for _, d := range collector.Definitions() {
		exported[d.Name] = true
	}
	_, h := startDemoDaemon(t)
	for _, m := range familyName.FindAllStringSubmatch(get(t, h, "GET", "/metrics").Body.String(), -1) {
		exported[m[1]] = true
	}
	documented := map[string]bool{}
	for _, m := range tableRow.FindAllSubmatch(readme, -1) {
		documented[string(m[1])] = true
	}
	for _, n := range slices.Sorted(maps.Keys(exported)) {
		if !documented[n] {
			t.Errorf("%s's metrics table has no row for `%s`", metricsDoc, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(documented)) {
		if !exported[n] {
			t.Errorf("%s's metrics table documents `%s`, which the exporter does not export", metricsDoc, n)
		}
	}
	for _, r := range collector.Reasons {
		if !bytes.Contains(readme, []byte("`"+string(r)+"`")) {
			t.Errorf("%s does not explain failure reason `%s`", metricsDoc, r)
		}
	}
	for _, c := range collector.CheckNames() {
		if !bytes.Contains(readme, []byte("`"+c+"` (")) {
			t.Errorf("%s does not list check `%s` with its requests", metricsDoc, c)
		}
	}
}

var (
	familyName = regexp.MustCompile(`(?m)^# TYPE (es_remote_[a-z_]+) `)
	tableRow   = regexp.MustCompile("(?m)^\\| `(es_remote_[a-z_]+)` \\|")
)

func TestHTTPSurface(t *testing.T) {
	_, h := startDemoDaemon(t)
	if rec := get(t, h, "GET", "/-/healthy"); rec.Code != 200 {
		t.Errorf("/-/healthy: %d", rec.Code)
	}
	if rec := get(t, h, "GET", "/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `href="/metrics"`) ||
		strings.Contains(rec.Body.String(), "debug/pprof") {
		t.Errorf("landing page: %d, want a /metrics link and no links to profiling endpoints it does not serve:\n%s", rec.Code, rec.Body)
	}
	if rec := get(t, h, "GET", "/-/reload"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", rec.Code)
	}
	if rec := get(t, h, "GET", "/no-such-page"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /no-such-page: %d, want 404", rec.Code)
	}
	if rec := get(t, h, "POST", "/-/reload"); rec.Code != 200 {
		t.Errorf("POST /-/reload: %d %s", rec.Code, rec.Body)
	}
}

// TestReadyWaitsForFirstPoll: /-/ready is 503 until every cluster has been
// polled once, and a bad reload keeps the running config.
func TestReadyAndBadReload(t *testing.T) {
	sleepy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer sleepy.Close()
	good := config.Defaults()
	good.Timeout = 200 * time.Millisecond
	good.PollInterval = time.Second
	good.Clusters = []config.Cluster{{Name: "slow", URLs: []string{sleepy.URL}}}
	var fail bool
	d, err := daemon.New(func() (*config.Config, error) {
		if fail {
			return nil, &os.PathError{Op: "open", Path: "es_remote_exporter.yml", Err: os.ErrNotExist}
		}
		c := good
		return &c, nil
	}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	h, err := d.Handler(daemon.WithLifecycle())
	if err != nil {
		t.Fatal(err)
	}
	if rec := get(t, h, "GET", "/-/ready"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready before the first poll: %d, want 503", rec.Code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for get(t, h, "GET", "/-/ready").Code != 200 {
		if time.Now().After(deadline) {
			t.Fatal("/-/ready never became 200 although the (timing out) first poll finished")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fail = true
	if rec := get(t, h, "POST", "/-/reload"); rec.Code != http.StatusInternalServerError {
		t.Errorf("bad reload: %d, want 500", rec.Code)
	}
	metrics := get(t, h, "GET", "/metrics").Body.String()
	if !strings.Contains(metrics, "es_remote_exporter_config_last_reload_successful 0") {
		t.Error("bad reload not shown in es_remote_exporter_config_last_reload_successful")
	}
	if !strings.Contains(metrics, `es_remote_cluster_up{es_cluster="slow"} 0`) {
		t.Error("the running configuration was dropped by a bad reload")
	}
}

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("clusters:\n  - name: a\n    urls: [\"ftp://x\"]\n    passwrd: x\n"), 0o600)
	invalid := filepath.Join(dir, "invalid.yml")
	os.WriteFile(invalid, []byte("clusters:\n  - name: a\n    urls: [\"ftp://x\"]\n  - name: a\n    urls: []\n"), 0o600)
	good := filepath.Join(dir, "good.yml")
	os.WriteFile(good, []byte("clusters:\n  - name: a\n    urls: [\"http://127.0.0.1:9200\"]\n"), 0o600)
	for _, tc := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--help"}, 0, "--config.file"},
		{[]string{"--help"}, 0, "--web.listen-address"},
		{[]string{"--help"}, 0, "demo"},
		{[]string{"version"}, 0, "es_remote_exporter, version"},
		{[]string{"--config.file", good, "--config.check"}, 0, "valid: 1 cluster"},
		{[]string{"--config.file", bad, "--config.check"}, 1, "passwrd"},
		{[]string{"--config.file", invalid, "--config.check"}, 1, "clusters[0].urls"},
		{[]string{"--config.file", invalid, "--config.check"}, 1, "clusters[1].name"},
		{[]string{"--no-such-flag"}, 2, "unknown flag"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	} {
		var out bytes.Buffer
		code := run(tc.args, &out, &out)
		if code != tc.code || !strings.Contains(out.String(), tc.contains) {
			t.Errorf("run(%q) = %d, output lacks %q or code != %d:\n%s", tc.args, code, tc.contains, tc.code, out.String())
		}
	}
}

// diffLines shows lines only in want (-) or only in got (+).
func diffLines(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for l := range w {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range g {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestHarnessVariablesAreNotConfiguration: the real-Elasticsearch harness's
// environment variables (the README tells developers to set them) stay out
// of the configuration's namespace, which refuses unknown names: one left
// set in a shell once stopped every configuration from loading.
func TestHarnessVariablesAreNotConfiguration(t *testing.T) {
	for _, name := range []string{realcluster.EnvCache, realcluster.EnvJava17, realcluster.EnvJava25} {
		if strings.HasPrefix(name, config.EnvPrefix) {
			t.Errorf("%s starts with %s: the daemon would read it as configuration", name, config.EnvPrefix)
		}
	}
}
