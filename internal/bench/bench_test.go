package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/daemon"
	"github.com/es-remote-exporter/es_remote_exporter/internal/scheduler"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
)

const (
	numClusters     = 1000
	linksPerCluster = 10
	simEnv          = "ESRX_BENCH_SIMULATOR" // outside the configuration prefix ES_REMOTE_EXPORTER_
	benchUser       = "bench"
	benchPassword   = "bench-password"
)

// topology is what the simulator child reports to the benchmark.
type topology struct {
	CAPEM string   `json:"ca_pem"`
	URLs  []string `json:"urls"`
}

func TestMain(m *testing.M) {
	if os.Getenv(simEnv) == "1" {
		os.Exit(runSimulator())
	}
	daemon.ApplyRuntimeDefaults() // measure the exporter as it runs
	if os.Getenv("BENCH_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 4 << 10 // a precise profile (the default samples every 512 KiB)
	}
	os.Exit(m.Run())
}

// runSimulator is the child process: it starts the clusters, prints their
// addresses as one JSON line and serves until its stdin closes.
func runSimulator() int {
	sim, err := simulator.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sim.Close()
	users := map[string]simulator.User{benchUser: {Password: benchPassword, Roles: []string{"monitoring"},
		ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"view_index_metadata"}}}
	var top topology
	clusters := make([]*simulator.Cluster, numClusters)
	for i := range clusters {
		c, err := sim.AddCluster(simulator.ClusterSpec{Name: fmt.Sprintf("c%04d", i), Version: "8.19.7", Users: users})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		clusters[i] = c
		top.URLs = append(top.URLs, c.URL())
	}
	for i, c := range clusters {
		for j := 1; j <= linksPerCluster; j++ {
			remote := clusters[(i+j)%numClusters]
			mode := "sniff"
			if j%2 == 0 {
				mode = "proxy"
			}
			if err := c.AddLink(simulator.LinkSpec{Alias: remote.Name(), Remote: remote.Name(), Mode: mode, APIKeyAuth: j%5 == 0}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
	}
	top.CAPEM = string(sim.CACertPEM())
	if err := json.NewEncoder(os.Stdout).Encode(top); err != nil {
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// startSimulator runs the simulator child and returns an exporter config
// pointing at its clusters.
func startSimulator(b *testing.B) *config.Config {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), simEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		b.Fatalf("simulator child: %v", err)
	}
	var top topology
	if err := json.Unmarshal(line, &top); err != nil {
		b.Fatal(err)
	}
	caFile := filepath.Join(b.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(top.CAPEM), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := config.Defaults()
	for i, u := range top.URLs {
		cfg.Clusters = append(cfg.Clusters, config.Cluster{
			Name: fmt.Sprintf("c%04d", i), URLs: []string{u},
			Username: benchUser, Password: benchPassword, TLS: config.TLS{CAFile: caFile},
		})
	}
	return &cfg
}

type env struct {
	sched *scheduler.Scheduler
	store *collector.Store
	reg   *prometheus.Registry
}

func setup(b *testing.B) *env {
	cfg := startSimulator(b)
	store := collector.NewStore()
	reg := prometheus.NewRegistry()
	s := scheduler.New(scheduler.Options{Store: store, Registerer: reg, Logger: slog.New(slog.DiscardHandler), Manual: true})
	if err := s.Apply(cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Stop)
	// The first cycle opens 1,000 TLS connections and runs the first probe
	// round; the second judges links whose remote was polled after them.
	// Steady state (the measured cycles) reuses the connections and replays
	// the probe round until transport.probe_interval (10m) has passed.
	checkCycle(b, s.PollAll(context.Background()))
	checkCycle(b, s.PollAll(context.Background()))
	return &env{sched: s, store: store, reg: reg}
}

// checkCycle fails the benchmark if any check failed: a fast cycle of errors
// proves nothing.
func checkCycle(b *testing.B, facts map[string]*collector.Facts) {
	b.Helper()
	if len(facts) != numClusters {
		b.Fatalf("polled %d clusters, want %d", len(facts), numClusters)
	}
	links := 0
	for name, f := range facts {
		for _, c := range f.Checks {
			if c.Err != nil {
				b.Fatalf("%s: check %s failed: %v", name, c.Check, c.Err)
			}
		}
		links += len(f.Links)
	}
	if links != numClusters*linksPerCluster {
		b.Fatalf("saw %d links, want %d", links, numClusters*linksPerCluster)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// totalAlloc is the bytes this process has allocated on the heap so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// rssBytes is the resident set size of this process (the exporter side).
func rssBytes() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkPollCycle: one poll of every cluster (_nodes, _remote/info and
// _resolve/cluster each: GET / and the slow checks stand between probe
// intervals). Targets: within 2 s wall on 2 cores, at most 50 µs of the
// exporter's CPU per link, resident memory under 150 MB.
func BenchmarkPollCycle(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		checkCycle(b, e.sched.PollAll(ctx))
		n++
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*numClusters*linksPerCluster), "cpu-µs/link")
	reportMemory(b)
}

// reportMemory reports the process's resident memory and Go heap in use.
func reportMemory(b *testing.B) {
	b.ReportMetric(rssBytes()/(1<<20), "rss-MB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(float64(ms.StackInuse)/(1<<20), "stack-MB")
	b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
}

// BenchmarkSteadyState runs the daemon itself (internal/daemon: a timer per
// cluster, 5 s poll interval, started in shared slots, its own metrics, and
// GC at its default settings) over the 1,000 clusters while Prometheus-style scrapes
// (gzip) come every poll interval, as the README advises for
// scrape_interval. After warmUp (connections, the first probe
// round, and the rounds that follow while links find their monitored
// remotes), it measures for 20 s: the process's CPU (getrusage: the
// daemon's loops, polls, timers, scrapes and GC; the simulator runs in a
// child process) divided by the link-polls in that window, counted by the
// daemon's own es_remote_exporter_polls_total. It reports that and the
// resident memory at the end: the figures a user sees. Targets: 30 µs per
// link-poll, under 120 MB. The last scrape must show every link and no
// failed check.
func BenchmarkSteadyState(b *testing.B) {
	cfg := startSimulator(b)
	cfg.PollInterval = 5 * time.Second
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	for b.Loop() {
		d, err := daemon.New(func() (*config.Config, error) { return cfg, nil }, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(d.Stop)
		h, err := d.Handler()
		if err != nil {
			b.Fatal(err)
		}
		var scrapes []time.Duration
		scrapeFor := func(d time.Duration) {
			for range int(d / cfg.PollInterval) {
				time.Sleep(cfg.PollInterval)
				start := time.Now()
				h.ServeHTTP(&countingWriter{header: http.Header{}}, req)
				scrapes = append(scrapes, time.Since(start))
			}
		}
		scrapeFor(warmUp)
		// The first scrape compresses every family; later ones only the
		// families some poll changed since (collector.Store.writeGzip).
		b.ReportMetric(float64(scrapes[0].Microseconds())/1000, "first-gzip-scrape-ms")
		scrapes = scrapes[:0]
		if !d.Ready() {
			b.Fatalf("not every cluster was polled within %s", warmUp)
		}
		polls0, cpu0, alloc0 := pollsTotal(b, d), cpuTime(), totalAlloc()
		if f := os.Getenv("BENCH_WINDOW_CPUPROFILE"); f != "" {
			// A CPU profile of the measured window alone (not the warm-up).
			out, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.StartCPUProfile(out); err != nil {
				b.Fatal(err)
			}
			defer out.Close()
		}
		scrapeFor(20 * time.Second)
		cpu := cpuTime() - cpu0
		pprof.StopCPUProfile()
		polls := pollsTotal(b, d) - polls0
		if polls < numClusters*3 {
			b.Fatalf("%v polls in 20 s of a 5 s poll interval, want at least %d (about %d)", polls, numClusters*3, numClusters*4)
		}
		b.ReportMetric(float64(cpu.Microseconds())/(polls*linksPerCluster), "cpu-µs/link-poll")
		b.ReportMetric(polls/20, "polls/s")
		var total time.Duration
		for _, d := range scrapes {
			total += d
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(len(scrapes)), "gzip-scrape-ms")
		b.ReportMetric(float64(totalAlloc()-alloc0)/1024/polls, "alloc-KB/poll")
		// Measured before the check below, whose uncompressed scrape into
		// memory would count 50 MB that no Prometheus scrape costs.
		reportMemory(b)
		if f := os.Getenv("BENCH_HEAPPROFILE"); f != "" {
			writeHeapProfile(b, f)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		body := rec.Body.String()
		if n := strings.Count(body, "\nes_remote_link_connected{"); n != numClusters*linksPerCluster {
			b.Fatalf("the last scrape shows %d links, want %d", n, numClusters*linksPerCluster)
		}
		if failed := checkFailed.FindString(body); failed != "" {
			b.Fatalf("a check failed in steady state: %s", failed)
		}
	}
}

// writeHeapProfile writes the live heap after a GC to file (the steady
// state's, when BENCH_HEAPPROFILE names a file).
func writeHeapProfile(b *testing.B, file string) {
	b.Helper()
	out, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
		b.Fatal(err)
	}
}

// pollsTotal reads the daemon's es_remote_exporter_polls_total from its own
// registry (a scrape would render all 10,000 links into memory).
func pollsTotal(b *testing.B, d *daemon.Daemon) float64 {
	b.Helper()
	mfs, err := d.Gatherer().Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "es_remote_exporter_polls_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	b.Fatal("the daemon has no es_remote_exporter_polls_total")
	return 0
}

// warmUp is how long BenchmarkSteadyState lets the daemon start before it
// measures: the first poll of every cluster opens its connections and runs
// a probe round, and a link whose remote is polled after it is judged again
// on its next polls (retrySlow, a new target).
const warmUp = 20 * time.Second

var checkFailed = regexp.MustCompile(`(?m)^es_remote_exporter_check_success\{[^}]*\} 0$`)

// BenchmarkScrape: one GET /metrics of 10,000 links, as Prometheus asks for
// it (gzip) and uncompressed, each after a poll cycle of every cluster (not
// timed), as scrapes come in the running daemon. Targets: 60 ms with gzip,
// 100 ms without (docs/performance.md). A gzip scrape compresses only the
// families a poll changed since the last one; -benchtime 1x measures the
// first scrape of a daemon, which compresses them all.
func BenchmarkScrape(b *testing.B) {
	e := setup(b)
	b.Run("gzip", func(b *testing.B) { benchScrape(b, e, "gzip") })
	b.Run("identity", func(b *testing.B) { benchScrape(b, e, "") })
}

func benchScrape(b *testing.B, e *env, encoding string) {
	h := collector.Handler(e.store, e.reg, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	var w countingWriter
	for b.Loop() {
		b.StopTimer()
		checkCycle(b, e.sched.PollAll(context.Background()))
		b.StartTimer()
		w = countingWriter{header: http.Header{}}
		h.ServeHTTP(&w, req)
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("scrape: HTTP %d", w.status)
		}
	}
	size := w.n
	b.ReportMetric(float64(size)/(1<<20), "MB/scrape")
	b.ReportMetric(rssBytes()/(1<<20), "rss-MB")
}

// countingWriter is a ResponseWriter that discards the body, as a socket
// would, so the benchmark measures the exporter and not a recorder's buffer.
type countingWriter struct {
	header http.Header
	status int
	n      int
}

func (w *countingWriter) Header() http.Header  { return w.header }
func (w *countingWriter) WriteHeader(code int) { w.status = code }
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
