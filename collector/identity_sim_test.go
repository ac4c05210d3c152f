package collector

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// TestIdentityOnDemand: GET / is asked at the first poll, every probe
// interval, after an outage, and in a poll whose census failed or saw other
// versions; in every other poll the census proves the cluster up and the
// last GET / stands, so a steady poll costs _nodes, _remote/info and
// _resolve/cluster only. Each case also checks that the signals GET / gave
// (up, the identity check's result, cluster_info's version) stay true.
func TestIdentityOnDemand(t *testing.T) {
	e := newSimEnv(t, "8.19.7")
	clk := &clock{t: fixedNow}
	logs := &testtools.SyncBuffer{}
	p, err := NewPoller(config.Cluster{
		Name: "local", URLs: []string{e.local.URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile},
	}, PollerOptions{Timeout: 2 * time.Second, ProbeInterval: 10 * time.Minute,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	// poll advances the clock a minute (within the probe interval) and
	// returns what the poll saw and how many requests it sent.
	poll := func() (*Facts, *Snapshot, int64) {
		t.Helper()
		clk.advance(time.Minute)
		before := e.local.Requests()
		f, snap := p.Poll(context.Background())
		return f, snap, e.local.Requests() - before
	}
	up := func(snap *Snapshot, want float64) {
		t.Helper()
		if got := mustValue(t, snap, "es_remote_cluster_up", nil); got != want {
			t.Errorf("es_remote_cluster_up = %v, want %v", got, want)
		}
	}
	identityOK := func(f *Facts, want bool) {
		t.Helper()
		r := checkResult(f, CheckIdentity)
		if r == nil || (r.Err == nil) != want {
			t.Errorf("identity check result %+v, want success %v", r, want)
		}
	}

	p.Poll(context.Background()) // the first poll asks GET / first (and the slow listings)
	f, snap, n := poll()
	if n != 3 {
		t.Errorf("a steady poll sent %d requests, want 3 (_nodes, _remote/info, _resolve/cluster)", n)
	}
	up(snap, 1)
	identityOK(f, true)
	mustValue(t, snap, "es_remote_cluster_info", map[string]string{"version": "8.19.7", "cluster_name": "local"})
	if f.Identity == nil || f.Identity.ClusterName != "local" {
		t.Errorf("the standing GET / was not carried into the poll's facts: %+v", f.Identity)
	}

	// The census fails: GET / tells a failing nodes API from a cluster
	// that is down, and the version falls back on its answer.
	e.local.SetFault(simulator.Fault{Kind: simulator.FaultServerError, PathPrefix: "/_nodes"})
	f, snap, n = poll()
	if n != 4 {
		t.Errorf("a poll whose census failed sent %d requests, want 4 (GET / asked after _nodes)", n)
	}
	up(snap, 1)
	identityOK(f, true)
	if r := checkResult(f, CheckNodes); r == nil || r.Err == nil {
		t.Errorf("nodes check %+v, want a failure", r)
	}
	if len(f.LocalVersions) != 1 || f.LocalVersions[0].String() != "8.19.7" {
		t.Errorf("local versions without the census = %v, want GET /'s 8.19.7", f.LocalVersions)
	}
	e.local.SetFault(simulator.Fault{})
	if _, _, n = poll(); n != 3 {
		t.Errorf("the poll after the census recovered sent %d requests, want 3 (same versions as the last census)", n)
	}

	// A node is upgraded: the census sees a new version and GET / is asked
	// in the same poll, so cluster_info reports what answers now.
	if err := e.local.SetNodeVersion("local-es01", "9.1.0"); err != nil {
		t.Fatal(err)
	}
	f, snap, n = poll()
	if n != 4 {
		t.Errorf("the poll that saw an upgraded node sent %d requests, want 4", n)
	}
	mustValue(t, snap, "es_remote_cluster_info", map[string]string{"version": "9.1.0"})
	identityOK(f, true)

	// The cluster goes down: the census fails, GET / fails too, and the
	// cluster is down; its failure is counted against identity as before.
	e.local.Stop()
	f, snap, _ = poll()
	up(snap, 0)
	identityOK(f, false)
	if got := mustValue(t, snap, "es_remote_exporter_check_failures_total",
		map[string]string{"check": CheckIdentity, "reason": string(ReasonConnection)}); got != 1 {
		t.Errorf("identity connection failures = %v, want 1", got)
	}
	if _, ok := value(t, snap, "es_remote_cluster_info", nil); ok {
		t.Error("cluster_info stayed while the cluster was down")
	}
	// Still down: the poll asks GET / first, and nothing else.
	f, _, _ = poll()
	if r := checkResult(f, CheckNodes); r == nil || r.Err == nil || r.Err.Reason != ReasonUnavailable {
		t.Errorf("nodes check while down: %+v, want not attempted", r)
	}
	// Back: GET / is asked first, since the cluster may come back rebuilt.
	if err := e.local.Start(); err != nil {
		t.Fatal(err)
	}
	f, snap, n = poll()
	if n != 4 {
		t.Errorf("the poll after an outage sent %d requests, want 4 (GET / first)", n)
	}
	up(snap, 1)
	identityOK(f, true)
	if _, _, n = poll(); n != 3 {
		t.Errorf("a steady poll after the outage sent %d requests, want 3", n)
	}

	// The probe interval passes: GET / is asked again (with the slow
	// listings, hence more requests).
	clk.advance(10 * time.Minute)
	before := p.identityAt
	poll()
	if !p.identityAt.After(before) {
		t.Error("GET / was not asked again after the probe interval")
	}
}

// TestUnchangedChecksKeepTheirText: over real polls, the text of an
// unchanged answer is shared with the last snapshot (by renderedFrom, or
// failing that by renderReusing's comparison: TestRenderedFromKeepsText
// pins renderedFrom alone), and a changed answer is rendered anew.
func TestUnchangedChecksKeepTheirText(t *testing.T) {
	e := newSimEnv(t, "8.19.7")
	p := e.poller(t, testUser, 2*time.Second, &testtools.SyncBuffer{})
	_, first := p.Poll(context.Background())
	_, second := p.Poll(context.Background())
	text := func(s *Snapshot) []byte { return s.family(famLinkConnected) }
	if len(text(first)) == 0 || &text(first)[0] != &text(second)[0] {
		t.Fatal("an unchanged _remote/info was rendered again")
	}
	mustValue(t, second, "es_remote_link_connected", map[string]string{"remote": "remote"})
	e.local.RemoveLink("remote")
	_, third := p.Poll(context.Background())
	if _, ok := value(t, third, "es_remote_link_connected", map[string]string{"remote": "remote"}); ok {
		t.Error("a removed link kept its series: the changed answer was not rendered")
	}
}

// forwarder relays TCP connections from its own address to target, until
// closed (a node's HTTP port that can be taken away alone).
type forwarder struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newForwarder(t *testing.T, target string) *forwarder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{l: l}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, in, out)
			f.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) url() string { return "https://" + f.l.Addr().String() }

func (f *forwarder) close() {
	f.l.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

// TestIdentityFollowsFailover: with several URLs, a census answered at
// another URL than the last GET / (the first node's HTTP went away) asks
// GET / again in the same poll, so what it names (the answering node, whose
// certificates the slow listing reads) is the node the exporter now asks.
func TestIdentityFollowsFailover(t *testing.T) {
	sim, err := simulator.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	users := map[string]simulator.User{testUser: {Password: testPassword, Roles: []string{"monitoring"},
		ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"view_index_metadata"}}}
	c, err := sim.AddCluster(simulator.ClusterSpec{Name: "local", Version: "8.19.7", Users: users,
		Nodes: []simulator.NodeSpec{{Name: "n1"}, {Name: "n2"}}})
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := sim.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n1, err := c.NodeURL("n1")
	if err != nil {
		t.Fatal(err)
	}
	n2, err := c.NodeURL("n2")
	if err != nil {
		t.Fatal(err)
	}
	first := newForwarder(t, strings.TrimPrefix(n1, "https://"))
	clk := &clock{t: fixedNow}
	p, err := NewPoller(config.Cluster{Name: "local", URLs: []string{first.url(), n2}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: caFile}},
		PollerOptions{Timeout: 2 * time.Second, ProbeInterval: 10 * time.Minute, Logger: slog.New(slog.DiscardHandler), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	f, _ := p.Poll(context.Background())
	if f.Identity == nil || f.Identity.NodeName != "n1" {
		t.Fatalf("the first GET / was answered by %+v, want n1", f.Identity)
	}
	first.close() // n1's HTTP goes away; the client fails over to n2
	clk.advance(time.Minute)
	f, _ = p.Poll(context.Background())
	if r := checkResult(f, CheckNodes); r == nil || r.Err != nil {
		t.Fatalf("the census did not fail over: %+v", r)
	}
	if f.Identity == nil || f.Identity.NodeName != "n2" {
		t.Errorf("after the failover GET / names %+v, want n2 (the node now asked)", f.Identity)
	}
}
