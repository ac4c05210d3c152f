package realcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Harness owns a set of real Elasticsearch nodes and their directories, all
// under one temporary directory that Close removes.
type Harness struct {
	dir  string
	cred *syscall.Credential

	mu    sync.Mutex
	nodes []*Node
	pgids []int // every process group a node ran in
}

// New makes an empty harness.
func New() (*Harness, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	cred, err := nodeUser()
	if err != nil {
		return nil, err
	}
	sweepStale()
	dir, err := os.MkdirTemp("", "realcluster-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // nobody must enter it
		os.RemoveAll(dir)
		return nil, err
	}
	return &Harness{dir: dir, cred: cred}, nil
}

// ownerFile names the process that made a harness directory.
const ownerFile = "owner.pid"

// sweepStale removes the directories of harnesses whose test binary died
// before its Close (killed by go test -timeout, say): Pdeathsig took their
// nodes down with it, but not their files.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "realcluster-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or being created
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.RemoveAll(d)
	}
}

// Dir is the harness's temporary directory.
func (h *Harness) Dir() string { return h.dir }

// Close stops every node (killing what does not stop in time) and removes
// the harness's directory. It reports what it could not clean.
func (h *Harness) Close() error {
	h.mu.Lock()
	nodes := h.nodes
	h.mu.Unlock()
	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Stop(); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := os.RemoveAll(h.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Leftovers are the process groups of this harness's nodes that still have
// a live process (after Close: none).
func (h *Harness) Leftovers() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var alive []int
	for _, g := range h.pgids {
		if signalGroup(g, 0) {
			alive = append(alive, g)
		}
	}
	return alive
}

// NodeSpec describes one node.
type NodeSpec struct {
	Cluster, Name, Version string
	// Join lists transport addresses of a running cluster's master-eligible
	// nodes; the node joins that cluster. Empty with Bootstrap false:
	// single-node discovery.
	Join []string
	// Bootstrap starts a multi-node cluster with this node as its only
	// initial master (cluster.initial_master_nodes), so that others can Join.
	Bootstrap bool
	// Roles sets node.roles; nil keeps the default (every role).
	Roles []string
	// Settings are extra elasticsearch.yml lines, e.g.
	// `cluster.remote.x.seeds: ["127.0.0.1:9300"]`.
	Settings []string
	// Security, when set, turns x-pack security on (it is in the
	// integ-test-zip) with TLS on the transport port; nil = security off.
	Security *Security
}

// Security is a node's security setup: transport TLS from PEM files and
// file-realm users (config/users, written by bin/elasticsearch-users before
// the node starts). HTTP stays plain: the tests authenticate with basic auth
// over loopback.
type Security struct {
	// CertPEM (the node's certificate, optionally followed by
	// intermediates), KeyPEM (PKCS#8) and CAsPEM (the CAs it trusts for
	// transport connections, xpack.security.transport.ssl.
	// certificate_authorities).
	CertPEM, KeyPEM, CAsPEM []byte
	// Users are file-realm users; the first is the harness's own (Do,
	// GetJSON and the readiness check authenticate as it) and should have
	// the superuser role.
	Users []FileUser
	// RolesYML is config/roles.yml: file-realm roles. (The native realm
	// needs the .security index, whose mapping uses the pattern_capture
	// token filter of the analysis-common module, absent from the
	// integ-test-zip: see the README.)
	RolesYML string
	// Settings are extra elasticsearch.yml lines that only apply with
	// security (e.g. xpack.license.self_generated.type: trial).
	Settings []string
	// RemoteClusterServer opens the remote cluster server port of the
	// API-key model (remote_cluster_server.enabled, TLS with the transport
	// certificate); RemoteClusterAddress says where.
	RemoteClusterServer bool
	// Keystore holds secure settings (e.g. cluster.remote.<alias>.
	// credentials), added with bin/elasticsearch-keystore before the start.
	Keystore map[string]string
}

// FileUser is a file-realm user.
type FileUser struct {
	Name, Password string
	Roles          []string
}

// Node is one running (or stopped) Elasticsearch node.
type Node struct {
	Spec          NodeSpec
	h             *Harness
	dir           string
	httpPort      int
	transportPort int

	remoteClusterPort int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// RemoteClusterAddress is the node's remote cluster server address
// (Security.RemoteClusterServer), "" without one.
func (n *Node) RemoteClusterAddress() string {
	if n.remoteClusterPort == 0 {
		return ""
	}
	return "127.0.0.1:" + strconv.Itoa(n.remoteClusterPort)
}

// URL is the node's HTTP address.
func (n *Node) URL() string { return "http://127.0.0.1:" + strconv.Itoa(n.httpPort) }

// TransportAddress is the node's transport address (host:port).
func (n *Node) TransportAddress() string { return "127.0.0.1:" + strconv.Itoa(n.transportPort) }

// Dir is the node's directory (config/, data/, logs/, console.log).
func (n *Node) Dir() string { return n.dir }

// StartTimeout bounds a node's start, from fork to answering HTTP.
var StartTimeout = 6 * time.Minute

// Start creates a node's directories and configuration and starts it; it
// returns once the node answers HTTP and has joined its cluster (a master
// was elected). The harness stops it on Close.
func (h *Harness) Start(spec NodeSpec) (*Node, error) {
	home, err := Distribution(spec.Version)
	if err != nil {
		return nil, err
	}
	n := &Node{Spec: spec, h: h, dir: filepath.Join(h.dir, spec.Cluster+"-"+spec.Name)}
	for _, d := range []string{"data", "logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.CopyFS(filepath.Join(n.dir, "config"), os.DirFS(filepath.Join(home, "config"))); err != nil {
		return nil, fmt.Errorf("copy config: %w", err)
	}
	if err := writeJVMOptions(filepath.Join(n.dir, "config")); err != nil {
		return nil, err
	}
	if spec.Security != nil {
		if err := n.writeSecurity(home); err != nil {
			return nil, err
		}
	}
	h.mu.Lock()
	h.nodes = append(h.nodes, n)
	h.mu.Unlock()
	if err := n.start(home); err != nil {
		return n, err
	}
	return n, nil
}

// writeSecurity writes the transport PEM files and adds the file-realm
// users with bin/elasticsearch-users (the documented tool; it writes
// config/users and config/users_roles).
func (n *Node) writeSecurity(home string) error {
	sec := n.Spec.Security
	conf := filepath.Join(n.dir, "config")
	files := map[string][]byte{"transport.crt": sec.CertPEM, "transport.key": sec.KeyPEM, "transport-ca.crt": sec.CAsPEM}
	if sec.RolesYML != "" {
		files["roles.yml"] = []byte(sec.RolesYML)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(conf, name), b, 0o600); err != nil {
			return err
		}
	}
	if err := filepath.WalkDir(n.dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return chown(p, n.h.cred)
	}); err != nil {
		return err
	}
	for _, u := range sec.Users {
		// The password goes to the tool's prompt (entered twice), not into
		// its arguments, which every local user can read in ps.
		pw := u.Password + "\n" + u.Password + "\n"
		if err := n.tool(home, pw, "elasticsearch-users", "useradd", u.Name, "-r", strings.Join(u.Roles, ",")); err != nil {
			return err
		}
	}
	if len(sec.Keystore) > 0 {
		if err := n.tool(home, "", "elasticsearch-keystore", "create"); err != nil {
			return err
		}
		for k, v := range sec.Keystore {
			if err := n.tool(home, v, "elasticsearch-keystore", "add", "--stdin", k); err != nil {
				return err
			}
		}
	}
	return nil
}

// tool runs one of the distribution's command-line tools (bin/) as the
// node's user, with stdin (secrets go there, never into arguments or logs).
func (n *Node) tool(home, stdin, name string, args ...string) error {
	cmd := exec.Command(filepath.Join(home, "bin", name), args...)
	cmd.Dir = n.dir
	cmd.Env = n.env()
	cmd.SysProcAttr = sysProcAttr(n.h.cred)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, args[0], err, tail(out, 2000))
	}
	return nil
}

func (n *Node) env() []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + n.dir,
		"LANG=C.UTF-8",
		"ES_JAVA_HOME=" + JavaHome(n.Spec.Version),
		"ES_PATH_CONF=" + filepath.Join(n.dir, "config"),
		"ES_TMPDIR=" + filepath.Join(n.dir, "tmp"),
	}
}

// config is the node's elasticsearch.yml. Ports are 0 on the first start
// (Elasticsearch picks free ones and writes them to logs/*.ports because of
// node.portsfile, as Elasticsearch's own test clusters do:
// build-tools-internal ElasticsearchNode) and the same ones on restarts, so
// that links to the node find it again.
func (n *Node) config() string {
	s := n.Spec
	lines := []string{
		"cluster.name: " + s.Cluster,
		"node.name: " + s.Name,
		"path.data: " + filepath.Join(n.dir, "data"),
		"path.logs: " + filepath.Join(n.dir, "logs"),
		"network.host: 127.0.0.1",
		"http.port: " + strconv.Itoa(n.httpPort),
		"transport.port: " + strconv.Itoa(n.transportPort),
		"node.portsfile: true",
		// No disk-based shard allocation decisions on a shared CI disk.
		"cluster.routing.allocation.disk.threshold_enabled: false",
	}
	// Stage 1 runs without security (x-pack-security is in the zip but off
	// here: no TLS, no users). 8.x/9.x need the explicit false (security is
	// on by default from 8.0); 7.17 leaves it unset, security then being
	// off by the basic license, as in most 7.17 clusters without security
	// (it answers with the "security features are not enabled" Warning).
	switch {
	case s.Security != nil:
		// Transport TLS with PEM files (xpack.security.transport.ssl.*,
		// "Security settings in Elasticsearch", reference docs); the
		// certificates name 127.0.0.1, so full verification holds.
		lines = append(lines,
			"xpack.security.enabled: true",
			"xpack.security.http.ssl.enabled: false",
			"xpack.security.transport.ssl.enabled: true",
			"xpack.security.transport.ssl.verification_mode: full",
			"xpack.security.transport.ssl.key: transport.key",
			"xpack.security.transport.ssl.certificate: transport.crt",
			"xpack.security.transport.ssl.certificate_authorities: [transport-ca.crt]",
		)
		// The client side of the API-key model trusts the same CAs
		// (xpack.security.remote_cluster_client.ssl.*).
		lines = append(lines,
			"xpack.security.remote_cluster_client.ssl.enabled: true",
			"xpack.security.remote_cluster_client.ssl.certificate_authorities: [transport-ca.crt]",
		)
		if s.Security.RemoteClusterServer {
			lines = append(lines,
				"remote_cluster_server.enabled: true",
				"remote_cluster.port: "+strconv.Itoa(n.remoteClusterPort),
				"xpack.security.remote_cluster_server.ssl.key: transport.key",
				"xpack.security.remote_cluster_server.ssl.certificate: transport.crt",
			)
		}
		lines = append(lines, s.Security.Settings...)
	case Major(s.Version) >= 8:
		lines = append(lines, "xpack.security.enabled: false")
	}
	switch {
	case len(s.Join) > 0:
		lines = append(lines, "discovery.seed_hosts: ["+quoteList(s.Join)+"]")
	case s.Bootstrap:
		lines = append(lines, "discovery.seed_hosts: []", "cluster.initial_master_nodes: ["+quoteList([]string{s.Name})+"]")
	default:
		lines = append(lines, "discovery.type: single-node")
	}
	if s.Roles != nil {
		lines = append(lines, "node.roles: ["+quoteList(s.Roles)+"]")
	}
	lines = append(lines, s.Settings...)
	return strings.Join(lines, "\n") + "\n"
}

// writeJVMOptions keeps the heap small (several nodes share 2 cores) and
// drops the distribution's G1 choice and its GC log and heap dump options,
// whose paths are relative (7.17: logs/gc.log, resolved against the
// distribution's home, which the nodes cannot write). jvm.options.d is read
// since 7.7.
func writeJVMOptions(conf string) error {
	p := filepath.Join(conf, "jvm.options")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "-Xlog:") || strings.Contains(line, "HeapDump") || strings.Contains(line, "ErrorFile") ||
			strings.Contains(line, "UseG1GC") {
			continue
		}
		keep = append(keep, line)
	}
	if err := os.WriteFile(p, []byte(strings.Join(keep, "\n")), 0o644); err != nil {
		return err
	}
	// Startup is CPU-bound and the machine has 2 cores for six nodes and
	// the rest of the test suite: the client compiler only (C1 reaches
	// steady state sooner; these nodes serve a few requests) and the
	// serial collector (no parallel GC threads, fine for a 256 MB heap).
	heap := "-Xms256m\n-Xmx256m\n-XX:TieredStopAtLevel=1\n-XX:+UseSerialGC\n-XX:CICompilerCount=1\n"
	return os.WriteFile(filepath.Join(conf, "jvm.options.d", "harness.options"), []byte(heap), 0o644)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

func (n *Node) start(home string) error {
	logs := filepath.Join(n.dir, "logs")
	for _, f := range []string{"http.ports", "transport.ports", "remote_cluster.ports"} {
		os.Remove(filepath.Join(logs, f))
	}
	if err := os.WriteFile(filepath.Join(n.dir, "config", "elasticsearch.yml"), []byte(n.config()), 0o644); err != nil {
		return err
	}
	if err := filepath.WalkDir(n.dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return chown(p, n.h.cred)
	}); err != nil {
		return fmt.Errorf("chown %s: %w", n.dir, err)
	}
	console, err := os.OpenFile(filepath.Join(n.dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(home, "bin", "elasticsearch"))
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = console, console
	cmd.Env = n.env()
	cmd.SysProcAttr = sysProcAttr(n.h.cred)
	if err := cmd.Start(); err != nil {
		console.Close()
		return fmt.Errorf("start %s: %w", n.Spec.Name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		console.Close()
		close(done)
	}()
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	n.h.mu.Lock()
	n.h.pgids = append(n.h.pgids, cmd.Process.Pid)
	n.h.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := n.waitReady(ctx, done); err != nil {
		return fmt.Errorf("node %s/%s (%s): %w\n--- console.log (tail) ---\n%s", n.Spec.Cluster, n.Spec.Name, n.Spec.Version, err, n.ConsoleTail(4000))
	}
	return nil
}

// waitReady polls until the ports files exist and the node reports a
// cluster UUID (a master was elected and the cluster formed).
func (n *Node) waitReady(ctx context.Context, done <-chan struct{}) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return errors.New("the process exited while starting")
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", StartTimeout, ctx.Err())
		case <-tick.C:
		}
		if n.httpPort == 0 || n.transportPort == 0 {
			hp, err1 := readPort(filepath.Join(n.dir, "logs", "http.ports"))
			tp, err2 := readPort(filepath.Join(n.dir, "logs", "transport.ports"))
			if err1 != nil || err2 != nil {
				continue
			}
			n.httpPort, n.transportPort = hp, tp
		}
		if sec := n.Spec.Security; sec != nil && sec.RemoteClusterServer && n.remoteClusterPort == 0 {
			p, err := readPort(filepath.Join(n.dir, "logs", "remote_cluster.ports"))
			if err != nil {
				continue
			}
			n.remoteClusterPort = p
		}
		var health struct {
			Status string `json:"status"`
		}
		// Answers only once a master is elected and the node joined it.
		if st, err := n.GetJSON(ctx, "/_cluster/health?master_timeout=2s", &health); err == nil && st == 200 && health.Status != "" {
			return nil
		}
	}
}

func readPort(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Fields(string(b)) {
		if i := strings.LastIndexByte(line, ':'); i > 0 && strings.HasPrefix(line, "127.0.0.1") {
			return strconv.Atoi(line[i+1:])
		}
	}
	return 0, fmt.Errorf("no 127.0.0.1 address in %s: %q", path, b)
}

// StopTimeout bounds a graceful stop before the process group is killed.
var StopTimeout = 60 * time.Second

// Stop stops the node: SIGTERM to its process group, SIGKILL after
// StopTimeout, and waits until no process of the group is left. Stopping a
// stopped node does nothing.
func (n *Node) Stop() error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pgid := cmd.Process.Pid // Setpgid: the group id is the leader's pid
	signalGroup(pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(StopTimeout):
		signalGroup(pgid, syscall.SIGKILL)
		<-done
	}
	// The CLI can exit before the server JVM it forked: wait for the whole
	// group, then kill what remains.
	deadline := time.Now().Add(StopTimeout)
	for signalGroup(pgid, 0) {
		if time.Now().After(deadline) {
			signalGroup(pgid, syscall.SIGKILL)
			deadline = time.Now().Add(10 * time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// Running reports whether the node's process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Restart starts a stopped node again with the same ports and data.
func (n *Node) Restart() error {
	if n.Running() {
		return fmt.Errorf("node %s is running", n.Spec.Name)
	}
	home, err := Distribution(n.Spec.Version)
	if err != nil {
		return err
	}
	return n.start(home)
}

// ConsoleTail is the end of the node's console output, for failure messages.
func (n *Node) ConsoleTail(max int) string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "console.log"))
	return tail(b, max)
}

var httpClient = &http.Client{Timeout: 90 * time.Second}

// Do sends one request to the node and returns the response with its body
// read.
func (n *Node) Do(ctx context.Context, method, path string, body any) (*http.Response, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, n.URL()+path, r)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if sec := n.Spec.Security; sec != nil && len(sec.Users) > 0 {
		req.SetBasicAuth(sec.Users[0].Name, sec.Users[0].Password)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// GetJSON GETs path and decodes a 2xx body into v; it returns the status.
func (n *Node) GetJSON(ctx context.Context, path string, v any) (int, error) {
	resp, b, err := n.Do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 == 2 && v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			return resp.StatusCode, fmt.Errorf("GET %s: %w", path, err)
		}
	}
	return resp.StatusCode, nil
}

// PutClusterSettings applies persistent cluster settings (null values
// remove a setting) and fails unless Elasticsearch acknowledged them.
func (n *Node) PutClusterSettings(ctx context.Context, persistent map[string]any) error {
	resp, b, err := n.Do(ctx, http.MethodPut, "/_cluster/settings", map[string]any{"persistent": persistent})
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"acknowledged":true`) {
		return fmt.Errorf("PUT /_cluster/settings on %s: %d %s", n.Spec.Name, resp.StatusCode, b)
	}
	return nil
}
