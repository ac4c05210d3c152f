//go:build linux

package soak

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// params is one soak's shape.
type params struct {
	duration     time.Duration // the fault phase
	clusters     int
	step, hold   time.Duration // a new fault every step, each lasting hold
	pollInterval time.Duration
	timeout      time.Duration
	settle       time.Duration // deadline for the healed state once the last fault ended
	sampleEvery  time.Duration // resource samples during the fault phase
	plateau      bool          // long enough to compare the fault phase's thirds
}

// soakParams reads SOAK_DURATION and SOAK_CLUSTERS. Without SOAK_DURATION it
// is the smoke `go test ./...` runs: 20 s of faults over 20 clusters, every
// fault kind twice.
func soakParams(t *testing.T) params {
	p := params{duration: 20 * time.Second, clusters: 20, step: time.Second, hold: 4 * time.Second,
		pollInterval: time.Second, timeout: time.Second, settle: 2 * time.Minute, sampleEvery: 2 * time.Second}
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			t.Fatalf("SOAK_DURATION=%q: want a duration of at least 1m, like 10m", v)
		}
		p = params{duration: d, clusters: 100, step: 3 * time.Second, hold: 15 * time.Second,
			pollInterval: 5 * time.Second, timeout: 2 * time.Second, settle: 3 * time.Minute,
			sampleEvery: 10 * time.Second, plateau: d >= 3*time.Minute}
	}
	if v := os.Getenv("SOAK_CLUSTERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			t.Fatalf("SOAK_CLUSTERS=%q: want a number of at least 3", v)
		}
		p.clusters = n
	}
	return p
}

// probeInterval is transport.probe_interval of every cluster: the minimum,
// so that a healed remote's probes are current within the settle deadline.
const probeInterval = 10 * time.Second

// Growth thresholds, end (healed, after the fault phase) against start
// (healthy, before it): value_end <= value_start * factor + slack. They
// leave room for garbage-collector timing and for connections that are
// re-established, not for anything that grows with the number of faults:
// the full soak injects 200 of them, the smoke 20.
var thresholds = []struct {
	name   string
	factor float64
	slack  float64
	unit   string
}{
	{"goroutines", 1.10, 20, ""},
	{"open fds", 1.10, 10, ""},
	{"threads", 1.25, 4, ""},
	{"heap in use", 1.5, 16 << 20, "MiB"},
	{"RSS", 1.5, 32 << 20, "MiB"},
}

// plateauFactor bounds, for soaks of 3 minutes or more, the peak of each
// resource in the last third of the fault phase against its peak in the
// middle third (the first holds the warm-up): steady faults must reach a
// plateau, not a slope. The same slack as above applies.
const plateauFactor = 1.25

// faultKinds rotate over the clusters. Each is applied to one cluster for
// params.hold and then ended.
var faultKinds = []string{
	"down",          // the cluster stops: connection refused, links to it break
	"hang",          // every request hangs until the client gives up; transport down too
	"unauthorized",  // the exporter's password no longer matches (password file + SIGHUP): 401
	"server_error",  // 500 with an Elasticsearch error body
	"bad_json",      // 200 with a body that is not JSON
	"html",          // a proxy's 502 HTML page without the product header
	"truncated",     // Content-Length larger than the body
	"drop",          // connections closed without an answer; transport down too
	"cert_rotation", // the nodes' transport certificates are reissued (new serials)
	"flapping",      // the cluster stops and starts every second
}

func TestSoak(t *testing.T) {
	p := soakParams(t)
	password := randomHex(t, 16)
	sim, clusters := startClusters(t, p, password)
	dir := t.TempDir()
	cfgFile, passwordFiles := writeConfig(t, dir, p, sim, clusters, password)
	d := startDaemon(t, daemonBinary(t), cfgFile, filepath.Join(dir, "daemon.log"))

	base := d.url + "/metrics"
	client := &http.Client{Timeout: 5 * time.Second}
	t.Logf("soak: %d clusters, %d links, %s of faults (a new one every %s, each for %s), poll interval %s",
		p.clusters, 2*p.clusters, p.duration, p.step, p.hold, p.pollInterval)

	// The healthy state: every link connected, every check succeeding, and
	// the state unchanged for longer than a probe round.
	baseline, fams := waitStable(t, client, base, p)
	start := measure(t, d.pid(), fams)

	sc := startScraper(client, base, d, p.sampleEvery)
	faultStart := time.Now()
	counts := runFaults(t, p, clusters, passwordFiles, password, d)
	faultEnd := time.Now()

	healedAfter, healed := waitHealed(t, client, base, baseline, p.settle)
	samples, scrapes, failures, slowest := sc.stop()
	end := measure(t, d.pid(), healed)
	if err := d.exited(); err != nil {
		t.Fatalf("the daemon exited: %v\n%s", err, d.logTail())
	}

	t.Logf("faults: %s", formatCounts(counts))
	t.Logf("what the exporter counted at the end (es_remote_exporter_check_failures_total by reason): %s", failuresByReason(healed))
	// The faults must have reached the exporter, or the soak proves nothing.
	// (A reload that changes a cluster's settings, like the password of the
	// unauthorized fault, rebuilds its poller and so restarts its counters:
	// they are checked over every scrape, not at the end.)
	for _, want := range []string{"connection", "timeout", "unauthorized", "server_error", "invalid_response"} {
		if !sc.reasons[want] {
			t.Errorf("no scrape showed a check failed with reason %q: the faults that cause it did not reach the exporter", want)
		}
	}
	t.Logf("scrapes: %d every second, %d failed, slowest %s", scrapes, len(failures), slowest.Round(time.Millisecond))
	if healedAfter >= 0 {
		t.Logf("healed state (equal to the start but for counters) %s after the last fault ended", healedAfter.Round(time.Second))
	}
	for i, f := range failures {
		if i == 10 {
			t.Errorf("... and %d more failed scrapes", len(failures)-10)
			break
		}
		t.Errorf("scrape failed: %s", f)
	}
	peak := peakOf(samples)
	t.Logf("resource        %12s %12s %12s", "start", "end", "peak")
	for _, th := range thresholds {
		t.Logf("%-15s %12s %12s %12s", th.name, show(start[th.name], th.unit), show(end[th.name], th.unit), show(peak[th.name], th.unit))
		if limit := start[th.name]*th.factor + th.slack; end[th.name] > limit {
			t.Errorf("%s grew from %s to %s over the soak (limit %s = start x %.2f + %s)", th.name,
				show(start[th.name], th.unit), show(end[th.name], th.unit), show(limit, th.unit), th.factor, show(th.slack, th.unit))
		}
	}
	if p.plateau {
		checkPlateau(t, samples, faultStart, faultEnd)
	}
	logLinks(t, healed)
	d.checkLogHasNo(t, password, wrongPassword(password))
}

// --- the simulated clusters ---

const soakUser = "soak"

// startClusters starts p.clusters clusters; cluster i has a sniff link to
// cluster i+1 and a proxy link to cluster i+2.
func startClusters(t *testing.T, p params, password string) (*simulator.Sim, []*simulator.Cluster) {
	t.Helper()
	sim, err := simulator.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	users := map[string]simulator.User{soakUser: {Password: password, Roles: []string{"monitoring"},
		ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"view_index_metadata"}}}
	clusters := make([]*simulator.Cluster, p.clusters)
	for i := range clusters {
		c, err := sim.AddCluster(simulator.ClusterSpec{Name: fmt.Sprintf("soak-%03d", i), Version: "8.19.7", Users: users})
		if err != nil {
			t.Fatal(err)
		}
		clusters[i] = c
	}
	for i, c := range clusters {
		for j, mode := range []string{"sniff", "proxy"} {
			remote := clusters[(i+j+1)%len(clusters)]
			if err := c.AddLink(simulator.LinkSpec{Alias: remote.Name(), Remote: remote.Name(), Mode: mode}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return sim, clusters
}

// writeConfig writes the daemon's configuration as an operator would: one
// password file per cluster (the unauthorized fault rewrites one).
func writeConfig(t *testing.T, dir string, p params, sim *simulator.Sim, clusters []*simulator.Cluster, password string) (string, []string) {
	t.Helper()
	ca, err := sim.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "poll_interval: %s\ntimeout: %s\nclusters:\n", p.pollInterval, p.timeout)
	files := make([]string, len(clusters))
	for i, c := range clusters {
		files[i] = filepath.Join(dir, c.Name()+".password")
		writeAtomically(t, files[i], password+"\n")
		fmt.Fprintf(&b, "  - name: %q\n    urls: [%q]\n    username: %q\n    password_file: %q\n    tls: {ca_file: %q}\n    transport: {probe_interval: %s}\n",
			c.Name(), c.URL(), soakUser, files[i], ca, probeInterval)
	}
	path := filepath.Join(dir, "config.yml")
	writeAtomically(t, path, b.String())
	return path, files
}

// writeAtomically replaces path, so that a reload never reads half a file.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func wrongPassword(password string) string { return "wrong-" + password }

// --- faults ---

// runFaults starts a fault every p.step for p.duration, each on a cluster
// without a fault (clusters are visited with a stride, so neighbours are
// not hit in a row), and returns once every fault has ended.
func runFaults(t *testing.T, p params, clusters []*simulator.Cluster, passwordFiles []string, password string, d *daemon) map[string]int {
	var (
		mu     sync.Mutex
		busy   = make([]bool, len(clusters))
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	// Reloads are serialised so that each SIGHUP follows its file write.
	var reloadMu sync.Mutex
	setPassword := func(i int, pw string) {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		writeAtomically(t, passwordFiles[i], pw+"\n")
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Errorf("SIGHUP: %v", err)
		}
	}
	stride := 37 // coprime with the cluster counts used: 20, 100
	deadline := time.Now().Add(p.duration)
	for n := 0; time.Now().Before(deadline); n++ {
		kind := faultKinds[n%len(faultKinds)]
		mu.Lock()
		i := (n * stride) % len(clusters)
		for busy[i] {
			i = (i + 1) % len(clusters)
		}
		busy[i] = true
		counts[kind]++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			inject(t, kind, clusters[i], p.hold, func(wrong bool) {
				if wrong {
					setPassword(i, wrongPassword(password))
				} else {
					setPassword(i, password)
				}
			})
			mu.Lock()
			busy[i] = false
			mu.Unlock()
		}()
		time.Sleep(p.step)
	}
	wg.Wait()
	return counts
}

// inject applies one fault to c for hold, then ends it.
func inject(t *testing.T, kind string, c *simulator.Cluster, hold time.Duration, setWrongPassword func(bool)) {
	httpFault := map[string]simulator.Fault{
		"hang":         {Kind: simulator.FaultHang},
		"server_error": {Kind: simulator.FaultServerError, Status: http.StatusInternalServerError},
		"bad_json":     {Kind: simulator.FaultBadJSON},
		"html":         {Kind: simulator.FaultHTML},
		"truncated":    {Kind: simulator.FaultTruncated},
		"drop":         {Kind: simulator.FaultDrop},
	}
	start := func() {
		if err := c.Start(); err != nil {
			t.Errorf("%s: start: %v", c.Name(), err)
		}
	}
	switch f, ok := httpFault[kind]; {
	case ok:
		c.SetFault(f)
		time.Sleep(hold)
		c.SetFault(simulator.Fault{})
	case kind == "down":
		c.Stop()
		time.Sleep(hold)
		start()
	case kind == "flapping":
		for end := time.Now().Add(hold); time.Now().Before(end); {
			c.Stop()
			time.Sleep(time.Second)
			start()
			time.Sleep(time.Second)
		}
	case kind == "unauthorized":
		setWrongPassword(true)
		time.Sleep(hold)
		setWrongPassword(false)
	case kind == "cert_rotation":
		// Zero times: the default validity, now-1h to two years on.
		if err := c.ReissueNodeCertificates(time.Time{}, time.Time{}); err != nil {
			t.Errorf("%s: reissue certificates: %v", c.Name(), err)
		}
		time.Sleep(hold)
	default:
		t.Errorf("unknown fault kind %q", kind)
	}
}

func formatCounts(counts map[string]int) string {
	var parts []string
	total := 0
	for _, k := range faultKinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		total += counts[k]
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

// failuresByReason sums es_remote_exporter_check_failures_total per reason:
// the counters are the trace the faults may leave.
func failuresByReason(fams families) string {
	sums := map[string]float64{}
	for _, m := range fams["es_remote_exporter_check_failures_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" {
				sums[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(sums)) {
		parts = append(parts, fmt.Sprintf("%s %.0f", r, sums[r]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// --- the daemon ---

type daemon struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	done    chan struct{}
	err     error // valid after done
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// exited returns the daemon's exit error if it exited.
func (d *daemon) exited() error {
	select {
	case <-d.done:
		if d.err == nil {
			return fmt.Errorf("exit status 0")
		}
		return d.err
	default:
		return nil
	}
}

func (d *daemon) logTail() string {
	data, _ := os.ReadFile(d.logPath)
	if len(data) > 8<<10 {
		data = data[len(data)-8<<10:]
	}
	return string(data)
}

// checkLogHasNo fails when the daemon's log shows any of secrets.
func (d *daemon) checkLogHasNo(t *testing.T, secrets ...string) {
	t.Helper()
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the daemon's log shows a password")
		}
	}
}

// daemonBinary builds cmd/es_remote_exporter, or returns SOAK_BINARY.
func daemonBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SOAK_BINARY"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "es_remote_exporter")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/es-remote-exporter/es_remote_exporter/cmd/es_remote_exporter").CombinedOutput()
	if err != nil {
		t.Fatalf("building the daemon: %v\n%s", err, out)
	}
	return bin
}

// startDaemon runs the binary on a free loopback port and waits for its
// /-/healthy. Ports are picked by listening on :0 and closing, so another
// process may take one in between: then it retries.
func startDaemon(t *testing.T, bin, cfgFile, logPath string) *daemon {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := testtools.FreeAddr(t)
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		d := &daemon{url: "http://" + addr, logPath: logPath, done: make(chan struct{})}
		d.cmd = exec.Command(bin, "--config.file="+cfgFile, "--web.listen-address="+addr, "--log.level=info")
		d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
		// The daemon dies with the test, even when go test's -timeout kills it.
		d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := d.cmd.Start(); err != nil {
			t.Fatalf("starting the daemon: %v", err)
		}
		go func() {
			d.err = d.cmd.Wait()
			_ = logFile.Close()
			close(d.done)
		}()
		err = testtools.WaitHTTP(d.url+"/-/healthy", 30*time.Second, func() error {
			if err := d.exited(); err != nil {
				return fmt.Errorf("the daemon exited: %w", err)
			}
			return nil
		})
		if err == nil {
			t.Cleanup(func() {
				_ = d.cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-d.done:
				case <-time.After(10 * time.Second):
					_ = d.cmd.Process.Kill()
					<-d.done
				}
				if t.Failed() {
					t.Logf("--- daemon log (tail) ---\n%s", d.logTail())
				}
			})
			return d
		}
		_ = d.cmd.Process.Kill()
		<-d.done
		if attempt < 5 && strings.Contains(d.logTail(), "address already in use") {
			continue
		}
		t.Fatalf("the daemon did not come up on %s: %v\n%s", addr, err, d.logTail())
	}
}

// --- /metrics ---

type families map[string]*dto.MetricFamily

// scrape fetches and parses /metrics; the client asks for gzip, as
// Prometheus does.
func scrape(client *http.Client, url string) (families, time.Duration, error) {
	began := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(began)
	if err != nil {
		return nil, took, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, took, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, took, fmt.Errorf("parsing the exposition: %w", err)
	}
	return fams, took, nil
}

// normalizedLabels change when a fault ends as it should: a reissued
// certificate has a new serial.
var normalizedLabels = []string{"serial"}

// state is what a fault may not leave behind: every gauge series of the
// exporter's own families with its value, except values that are points in
// time or durations. Counters, histograms and the Go and process
// collectors' families are left out. Keys are series; a series that
// appears twice (which the exporter must never render) gets a "#2" key.
func state(fams families) map[string]string {
	out := map[string]string{}
	for name, mf := range fams {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") ||
			mf.GetType() != dto.MetricType_GAUGE {
			continue
		}
		anyValue := strings.HasSuffix(name, "_timestamp_seconds") || strings.HasSuffix(name, "_duration_seconds")
		for _, m := range mf.GetMetric() {
			key := seriesKey(name, m)
			for n := 2; ; n++ {
				if _, dup := out[key]; !dup {
					break
				}
				key = seriesKey(name, m) + "#" + strconv.Itoa(n)
			}
			v := "*"
			if !anyValue {
				v = strconv.FormatFloat(m.GetGauge().GetValue(), 'g', -1, 64)
			}
			out[key] = v
		}
	}
	return out
}

func seriesKey(name string, m *dto.Metric) string {
	labels := slices.Clone(m.GetLabel())
	slices.SortFunc(labels, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	parts := make([]string, len(labels))
	for i, l := range labels {
		v := l.GetValue()
		if slices.Contains(normalizedLabels, l.GetName()) {
			v = "*"
		}
		parts[i] = l.GetName() + "=" + strconv.Quote(v)
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// diff lists how b differs from a, at most limit lines.
func diff(a, b map[string]string, limit int) []string {
	var out []string
	for _, k := range sortedKeys(a) {
		if v, ok := b[k]; !ok {
			out = append(out, "missing: "+k+" "+a[k])
		} else if v != a[k] {
			out = append(out, fmt.Sprintf("changed: %s %s -> %s", k, a[k], v))
		}
	}
	for _, k := range sortedKeys(b) {
		if _, ok := a[k]; !ok {
			out = append(out, "extra:   "+k+" "+b[k])
		}
	}
	if len(out) > limit {
		out = append(out[:limit], fmt.Sprintf("... %d more", len(out)-limit))
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// healthy reports whether every link is connected, every cluster up and
// every check succeeding, or what is not.
func healthy(fams families, clusters int) (bool, string) {
	for _, w := range []struct {
		family string
		count  int
	}{{"es_remote_link_connected", 2 * clusters}, {"es_remote_cluster_up", clusters}, {"es_remote_exporter_check_success", clusters}} {
		mf := fams[w.family]
		if mf == nil || len(mf.GetMetric()) < w.count {
			n := 0
			if mf != nil {
				n = len(mf.GetMetric())
			}
			return false, fmt.Sprintf("%d %s series, want at least %d", n, w.family, w.count)
		}
		for _, m := range mf.GetMetric() {
			if m.GetGauge().GetValue() != 1 {
				return false, seriesKey(w.family, m) + " is not 1"
			}
		}
	}
	return true, ""
}

// waitStable waits for the healthy state to hold unchanged for longer than
// a transport probe round and a poll, and returns it.
func waitStable(t *testing.T, client *http.Client, url string, p params) (map[string]string, families) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	window := probeInterval + 2*p.pollInterval
	var last map[string]string
	var since time.Time
	why := "no scrape yet"
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		fams, _, err := scrape(client, url)
		if err != nil {
			why = err.Error()
			continue
		}
		ok, reason := healthy(fams, p.clusters)
		if !ok {
			why, last = reason, nil
			continue
		}
		s := state(fams)
		if last == nil || len(diff(last, s, 1)) > 0 {
			last, since, why = s, time.Now(), "the state changed"
			continue
		}
		if time.Since(since) >= window {
			return s, fams
		}
	}
	t.Fatalf("no stable healthy state within 5 minutes of the start: %s", why)
	return nil, nil
}

// waitHealed waits until the state equals the baseline again and returns
// how long that took, or fails with what still differs.
func waitHealed(t *testing.T, client *http.Client, url string, baseline map[string]string, settle time.Duration) (time.Duration, families) {
	t.Helper()
	began := time.Now()
	var lastDiff []string
	var lastFams families
	for time.Since(began) < settle {
		fams, _, err := scrape(client, url)
		if err == nil {
			lastFams = fams
			if lastDiff = diff(baseline, state(fams), 30); len(lastDiff) == 0 {
				return time.Since(began), fams
			}
		}
		time.Sleep(time.Second)
	}
	t.Errorf("%s after the last fault ended, /metrics still differs from the start in more than counters:\n%s",
		settle, strings.Join(lastDiff, "\n"))
	return -1, lastFams
}

// logLinks logs every link's last state.
func logLinks(t *testing.T, fams families) {
	t.Helper()
	type link struct{ connected, reachable, trust string }
	links := map[string]*link{}
	get := func(m *dto.Metric) *link {
		var cl, remote string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "es_cluster":
				cl = l.GetValue()
			case "remote":
				remote = l.GetValue()
			}
		}
		k := cl + " -> " + remote
		if links[k] == nil {
			links[k] = &link{connected: "-", reachable: "-", trust: "-"}
		}
		return links[k]
	}
	value := func(m *dto.Metric) string { return strconv.FormatFloat(m.GetGauge().GetValue(), 'g', -1, 64) }
	for _, m := range fams["es_remote_link_connected"].GetMetric() {
		get(m).connected = value(m)
	}
	for _, m := range fams["es_remote_link_reachable"].GetMetric() {
		get(m).reachable = value(m)
	}
	for _, m := range fams["es_remote_link_trust_info"].GetMetric() {
		l := get(m)
		var dir, status string
		for _, lp := range m.GetLabel() {
			switch lp.GetName() {
			case "direction":
				dir = lp.GetValue()
			case "status":
				status = lp.GetValue()
			}
		}
		if l.trust == "-" {
			l.trust = ""
		} else {
			l.trust += " "
		}
		l.trust += dir + "=" + status
	}
	keys := make([]string, 0, len(links))
	for k := range links {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "every link's last state (%d):\n", len(keys))
	for _, k := range keys {
		l := links[k]
		fmt.Fprintf(&b, "  %-22s connected=%s reachable=%s trust: %s\n", k, l.connected, l.reachable, l.trust)
	}
	t.Log(b.String())
}

// --- resources ---

type usage map[string]float64

// measure reads the daemon's resources from outside (/proc/<pid>) and its
// own Go metrics from a scrape.
func measure(t *testing.T, pid int, fams families) usage {
	t.Helper()
	u, err := readUsage(pid, fams)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func show(v float64, unit string) string {
	if unit == "MiB" {
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	}
	return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
}

type sample struct {
	at time.Time
	u  usage
}

// scraper scrapes /metrics every second, as Prometheus would, and samples
// the daemon's resources every sampleEvery.
type scraper struct {
	stopCh   chan struct{}
	done     chan struct{}
	samples  []sample
	reasons  map[string]bool // check failure reasons any scrape showed
	scrapes  int
	failures []string
	slowest  time.Duration
}

func startScraper(client *http.Client, url string, d *daemon, sampleEvery time.Duration) *scraper {
	s := &scraper{stopCh: make(chan struct{}), done: make(chan struct{}), reasons: map[string]bool{}}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var lastSample time.Time
		for {
			select {
			case <-s.stopCh:
				return
			case <-tick.C:
			}
			fams, took, err := scrape(client, url)
			s.scrapes++
			s.slowest = max(s.slowest, took)
			if err != nil {
				s.failures = append(s.failures, fmt.Sprintf("%s: %v", time.Now().Format(time.TimeOnly), err))
				continue
			}
			for _, m := range fams["es_remote_exporter_check_failures_total"].GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" && m.GetCounter().GetValue() > 0 {
						s.reasons[l.GetValue()] = true
					}
				}
			}
			if time.Since(lastSample) >= sampleEvery {
				if u, err := readUsage(d.pid(), fams); err == nil {
					s.samples = append(s.samples, sample{time.Now(), u})
					lastSample = time.Now()
				}
			}
		}
	}()
	return s
}

// readUsage reads RSS and threads from /proc/<pid>/status, open files
// from /proc/<pid>/fd, goroutines and heap in use from the daemon's own
// metrics.
func readUsage(pid int, fams families) (usage, error) {
	u := usage{}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("the daemon's /proc entry: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, found := strings.CutPrefix(line, "VmRSS:"); found {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			u["RSS"] = kb * 1024
		}
		if rest, found := strings.CutPrefix(line, "Threads:"); found {
			u["threads"], _ = strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, fmt.Errorf("the daemon's open files: %w", err)
	}
	u["open fds"] = float64(len(fds))
	for name, metric := range map[string]string{"goroutines": "go_goroutines", "heap in use": "go_memstats_heap_inuse_bytes"} {
		mf := fams[metric]
		if mf == nil || len(mf.GetMetric()) != 1 {
			return nil, fmt.Errorf("/metrics has no %s", metric)
		}
		u[name] = mf.GetMetric()[0].GetGauge().GetValue()
	}
	return u, nil
}

func (s *scraper) stop() ([]sample, int, []string, time.Duration) {
	close(s.stopCh)
	<-s.done
	return s.samples, s.scrapes, s.failures, s.slowest
}

func peakOf(samples []sample) usage {
	peak := usage{}
	for _, s := range samples {
		for k, v := range s.u {
			peak[k] = max(peak[k], v)
		}
	}
	return peak
}

// checkPlateau compares each resource's peak in the last third of the
// fault phase with its peak in the middle third.
func checkPlateau(t *testing.T, samples []sample, from, to time.Time) {
	t.Helper()
	third := to.Sub(from) / 3
	var middle, last []sample
	for _, s := range samples {
		switch {
		case s.at.After(from.Add(third)) && !s.at.After(from.Add(2*third)):
			middle = append(middle, s)
		case s.at.After(from.Add(2*third)) && !s.at.After(to):
			last = append(last, s)
		}
	}
	if len(middle) < 3 || len(last) < 3 {
		t.Errorf("too few resource samples to compare the fault phase's thirds: %d and %d", len(middle), len(last))
		return
	}
	pm, pl := peakOf(middle), peakOf(last)
	for _, th := range thresholds {
		limit := pm[th.name]*plateauFactor + th.slack
		t.Logf("plateau %-15s middle third peak %12s, last third peak %12s", th.name, show(pm[th.name], th.unit), show(pl[th.name], th.unit))
		if pl[th.name] > limit {
			t.Errorf("%s still grows under steady faults: peak %s in the last third, %s in the middle third (limit %s)",
				th.name, show(pl[th.name], th.unit), show(pm[th.name], th.unit), show(limit, th.unit))
		}
	}
}
