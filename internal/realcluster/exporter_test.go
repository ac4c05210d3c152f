package realcluster

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/compat"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// exporter is the exporter's collector as the daemon wires it (one poller
// per cluster, one fleet shared by all, one store the scrape reads), over
// the real clusters of the fixture.
type exporter struct {
	fleet   *collector.Fleet
	store   *collector.Store
	pollers map[string]*collector.Poller
	logs    *testtools.SyncBuffer
}

// pollTimeout is the exporter's per-request timeout in these tests, well
// above what a loopback node needs and below _resolve/cluster's own 30 s
// transport timeout for a dead remote (the exporter hands Elasticsearch 80%
// of it as ?timeout=).
const pollTimeout = 15 * time.Second

func newExporter(t *testing.T) *exporter {
	t.Helper()
	e := &exporter{fleet: collector.NewFleet(), store: collector.NewStore(), pollers: map[string]*collector.Poller{}, logs: &testtools.SyncBuffer{}}
	for name, n := range map[string]*Node{"a": fx.a, "b": fx.b, "c": fx.c, "d": fx.d, "m": fx.m0} {
		p, err := collector.NewPoller(config.Cluster{Name: name, URLs: []string{n.URL()}}, collector.PollerOptions{
			Timeout: pollTimeout, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Fleet: e.fleet,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		e.pollers[name] = p
	}
	// Every cluster once, so that the fleet knows each one's nodes and
	// versions when a link to it is judged.
	for _, name := range []string{"a", "b", "c", "d", "m"} {
		e.poll(t, name)
	}
	return e
}

func (e *exporter) poll(t *testing.T, name string) *collector.Facts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, s := e.pollers[name].Poll(ctx)
	e.store.Put(s)
	return f
}

// sample is the value of the series of family name whose labels include
// labels; ok is false when there is none.
func (e *exporter) sample(t *testing.T, name string, labels map[string]string) (v float64, ok bool) {
	t.Helper()
	mfs, err := e.store.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels) {
				if m.Gauge != nil {
					return m.GetGauge().GetValue(), true
				}
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (e *exporter) want(t *testing.T, name string, labels map[string]string, want float64) {
	t.Helper()
	v, ok := e.sample(t, name, labels)
	if !ok || v != want {
		t.Errorf("%s%v = %v (present %v), want %v", name, labels, v, ok, want)
	}
}

func linkOf(f *collector.Facts, alias string) *collector.RemoteLink {
	for i := range f.Links {
		if f.Links[i].Alias == alias {
			return &f.Links[i]
		}
	}
	return nil
}

func resolvedOf(f *collector.Facts, alias string) *collector.Resolved {
	for i := range f.Resolved {
		if f.Resolved[i].Alias == alias {
			return &f.Resolved[i]
		}
	}
	return nil
}

func analysisOf(f *collector.Facts, alias string) *collector.LinkAnalysis {
	for i := range f.Analyses {
		if f.Analyses[i].Alias == alias {
			return &f.Analyses[i]
		}
	}
	return nil
}

func aliases(f *collector.Facts) []string {
	var out []string
	for _, l := range f.Links {
		out = append(out, l.Alias)
	}
	sort.Strings(out)
	return out
}

// TestConnectedLinks: every link of the 8.19 cluster a is up, sniff and
// proxy, static and dynamic, towards 8.19, 9.x and 7.17, and the exporter
// says so from _remote/info and from _resolve/cluster.
func TestConnectedLinks(t *testing.T) {
	e := newExporter(t)
	f := e.poll(t, "a")
	if got, want := aliases(f), []string{"both_b", "proxy_b", "sniff_b", "static_b", "to_c", "to_d"}; !slices.Equal(got, want) {
		t.Fatalf("links of a = %v, want %v", got, want)
	}
	for _, alias := range aliases(f) {
		l := linkOf(f, alias)
		if !l.Connected {
			t.Errorf("%s: _remote/info connected = false, want true", alias)
		}
		r := resolvedOf(f, alias)
		if r == nil || !r.Connected || r.Error != "" {
			t.Errorf("%s: _resolve/cluster entry = %+v, want connected without error", alias, r)
		}
		labels := map[string]string{"es_cluster": "a", "remote": alias}
		e.want(t, "es_remote_link_connected", labels, 1)
		e.want(t, "es_remote_link_reachable", labels, 1)
	}
	if l := linkOf(f, "proxy_b"); l.Mode != "proxy" || l.ProxyAddress == nil || *l.ProxyAddress != fx.b.TransportAddress() ||
		l.NumProxySocketsConnected == nil || *l.NumProxySocketsConnected < 1 {
		t.Errorf("proxy_b = %+v, want proxy mode to %s with sockets open", l, fx.b.TransportAddress())
	}
	if l := linkOf(f, "sniff_b"); l.Mode != "sniff" || !slices.Equal(l.Seeds, []string{fx.b.TransportAddress()}) ||
		l.NumNodesConnected == nil || *l.NumNodesConnected != 1 {
		t.Errorf("sniff_b = %+v, want sniff mode with 1 node connected", l)
	}
	// skip_unavailable: true by default from 8.15 (NOTES.md "_remote/info");
	// both_b has false in elasticsearch.yml and true in the cluster
	// settings, which win.
	for _, alias := range []string{"static_b", "both_b"} {
		if l := linkOf(f, alias); !l.SkipUnavailable {
			t.Errorf("%s: skip_unavailable = false, want true", alias)
		}
	}
	// _resolve/cluster reports the remote's version, except for a remote
	// older than 8.13, where the local node falls back to _resolve/index
	// (NOTES.md "_resolve/cluster").
	for alias, want := range map[string]string{"sniff_b": V8, "proxy_b": V8, "to_c": V9} {
		if r := resolvedOf(f, alias); r == nil || r.Version == nil || r.Version.Number != want {
			t.Errorf("%s: _resolve/cluster version = %+v, want %s", alias, r, want)
		}
	}
	if r := resolvedOf(f, "to_d"); r == nil || r.Version != nil {
		t.Errorf("to_d (7.17): _resolve/cluster entry = %+v, want connected without a version", r)
	}
	for alias, want := range map[string]string{"sniff_b": V8, "to_c": V9, "to_d": V7} {
		e.want(t, "es_remote_link_remote_version_info", map[string]string{"es_cluster": "a", "remote": alias, "version": want}, 1)
	}
}

// TestWireRule: 9.x and 7.17 must not connect (9.x accepts transport
// versions from 8.19.0 on, 7.17 from 6.8.0 up to its own major + 1:
// minimum_wire_compatibility_version of GET /, TransportVersion.isCompatible
// and Version.isCompatible, NOTES.md "CCS/CCR version compatibility"). Real
// Elasticsearch refuses the link from both sides and the exporter says why:
// the wire verdict is incompatible for exactly that pair.
func TestWireRule(t *testing.T) {
	e := newExporter(t)
	type want struct {
		cluster, alias, remoteVersion string
		connected                     bool
		wire                          compat.Status
	}
	for _, w := range []want{
		{"c", "to_d", V7, false, compat.Incompatible},
		{"d", "to_c", V9, false, compat.Incompatible},
		{"c", "to_a", V8, true, compat.Compatible},
		{"a", "to_c", V9, true, compat.Compatible},
		{"a", "to_d", V7, true, compat.Compatible},
	} {
		f := e.poll(t, w.cluster)
		l := linkOf(f, w.alias)
		if l == nil {
			t.Errorf("%s: no link %s", w.cluster, w.alias)
			continue
		}
		if l.Connected != w.connected {
			t.Errorf("%s/%s: connected = %v, want %v", w.cluster, w.alias, l.Connected, w.connected)
		}
		a := analysisOf(f, w.alias)
		if a == nil || !a.Judged || a.Wire.Wire.Status != w.wire {
			t.Errorf("%s/%s: analysis %+v, want wire verdict %v", w.cluster, w.alias, a, w.wire)
			continue
		}
		if a.Wire.Remote.String() != w.remoteVersion {
			t.Errorf("%s/%s: deciding pair %v -> %v, want remote %s", w.cluster, w.alias, a.Wire.Local, a.Wire.Remote, w.remoteVersion)
		}
		// Why, in words, for the deciding pair: 7.17 is below 9.x's minimum
		// wire version (what `es_remote_exporter check` prints).
		if why := "wire: 7.17.29 is older than 8.19.0, the minimum wire compatibility version of 9.2.0"; w.wire == compat.Incompatible {
			if got := compat.Wire(a.Wire.Local, a.Wire.Remote).Rule; got != why {
				t.Errorf("%s/%s: wire rule %q, want %q", w.cluster, w.alias, got, why)
			}
		}
		e.want(t, "es_remote_link_compatibility_info", map[string]string{
			"es_cluster": w.cluster, "remote": w.alias, "rule": "wire", "verdict": w.wire.String(), "remote_version": w.remoteVersion,
		}, 1)
		e.want(t, "es_remote_link_connected", map[string]string{"es_cluster": w.cluster, "remote": w.alias}, b2f(w.connected))
	}
	// The 9.x side also probes the link with _resolve/cluster: not
	// connected, and no error text (a connect failure carries none).
	f := e.poll(t, "c")
	if r := resolvedOf(f, "to_d"); r == nil || r.Connected {
		t.Errorf("c/to_d: _resolve/cluster entry = %+v, want connected:false", r)
	}
	e.want(t, "es_remote_link_reachable", map[string]string{"es_cluster": "c", "remote": "to_d"}, 0)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestRemoteNodeDownAndBack stops b's only node: a's four links to it and
// c's (9.x) one disconnect, _remote/info and _resolve/cluster say so on
// 8.19 and 9.x, and once b is back _resolve/cluster (which reconnects,
// 8.18+) brings them up again.
func TestRemoteNodeDownAndBack(t *testing.T) {
	e := newExporter(t)
	toB := []string{"both_b", "proxy_b", "sniff_b", "static_b"}
	if err := fx.b.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !fx.b.Running() {
			if err := fx.b.Restart(); err != nil {
				t.Errorf("restart b: %v", err)
			}
		}
	})
	f := pollUntil(t, e, "a", 2*time.Minute, func(f *collector.Facts) bool {
		for _, alias := range toB {
			if l := linkOf(f, alias); l == nil || l.Connected {
				return false
			}
		}
		return true
	})
	for _, alias := range toB {
		r := resolvedOf(f, alias)
		if r == nil || r.Connected {
			t.Errorf("%s with b down: _resolve/cluster entry = %+v, want connected:false", alias, r)
		}
		labels := map[string]string{"es_cluster": "a", "remote": alias}
		e.want(t, "es_remote_link_connected", labels, 0)
		e.want(t, "es_remote_link_reachable", labels, 0)
	}
	// The links to other clusters are untouched.
	for _, alias := range []string{"to_c", "to_d"} {
		if l := linkOf(f, alias); l == nil || !l.Connected {
			t.Errorf("%s with b down: %+v, want connected", alias, l)
		}
	}
	// The same from 9.x: c's to_b is down in _remote/info and in
	// _resolve/cluster, to_a still up.
	fc := pollUntil(t, e, "c", 2*time.Minute, func(f *collector.Facts) bool {
		l := linkOf(f, "to_b")
		return l != nil && !l.Connected
	})
	if r := resolvedOf(fc, "to_b"); r == nil || r.Connected || r.Error != "" {
		t.Errorf("c/to_b with b down: _resolve/cluster entry = %+v, want connected:false without error", r)
	}
	if r := resolvedOf(fc, "to_a"); r == nil || !r.Connected {
		t.Errorf("c/to_a with b down: _resolve/cluster entry = %+v, want connected", r)
	}
	e.want(t, "es_remote_link_reachable", map[string]string{"es_cluster": "c", "remote": "to_b"}, 0)

	start := time.Now()
	if err := fx.b.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("b restarted in %v", time.Since(start).Round(time.Millisecond))
	pollUntil(t, e, "a", 2*time.Minute, func(f *collector.Facts) bool {
		for _, alias := range toB {
			if l, r := linkOf(f, alias), resolvedOf(f, alias); l == nil || !l.Connected || r == nil || !r.Connected {
				return false
			}
		}
		return true
	})
	for _, alias := range toB {
		e.want(t, "es_remote_link_connected", map[string]string{"es_cluster": "a", "remote": alias}, 1)
	}
	pollUntil(t, e, "c", 2*time.Minute, func(f *collector.Facts) bool {
		l, r := linkOf(f, "to_b"), resolvedOf(f, "to_b")
		return l != nil && l.Connected && r != nil && r.Connected && r.Version != nil && r.Version.Number == V8
	})
	e.want(t, "es_remote_link_reachable", map[string]string{"es_cluster": "c", "remote": "to_b"}, 1)
}

// pollUntil polls cluster until cond holds, failing t at the deadline.
func pollUntil(t *testing.T, e *exporter, cluster string, d time.Duration, cond func(*collector.Facts) bool) *collector.Facts {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		f := e.poll(t, cluster)
		if cond(f) {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not met after %v; last links %+v, resolved %+v", cluster, d, f.Links, f.Resolved)
		}
		time.Sleep(500 * time.Millisecond) // poll interval, not synchronisation
	}
}

// TestMixedVersionCluster: cluster m is an 8.19 master with a 9.x node
// joined, the middle of a rolling upgrade. The exporter lists both
// versions and marks the cluster mixed.
func TestMixedVersionCluster(t *testing.T) {
	e := newExporter(t)
	f := e.poll(t, "m")
	var got []string
	for _, v := range f.LocalVersions {
		got = append(got, v.String())
	}
	sort.Strings(got)
	if want := []string{V8, V9}; !slices.Equal(got, want) {
		t.Errorf("m versions = %v, want %v", got, want)
	}
	e.want(t, "es_remote_cluster_node_info", map[string]string{"es_cluster": "m", "node": "m0", "version": V8}, 1)
	e.want(t, "es_remote_cluster_node_info", map[string]string{"es_cluster": "m", "node": "m1", "version": V9,
		"roles": "data,ingest,remote_cluster_client"}, 1)
	if _, ok := e.sample(t, "es_remote_cluster_mixed_versions_since_timestamp_seconds", map[string]string{"es_cluster": "m"}); !ok {
		t.Error("m: es_remote_cluster_mixed_versions_since_timestamp_seconds absent, want present")
	}
	if _, ok := e.sample(t, "es_remote_cluster_mixed_versions_since_timestamp_seconds", map[string]string{"es_cluster": "a"}); ok {
		t.Error("a (one version): es_remote_cluster_mixed_versions_since_timestamp_seconds present, want absent")
	}
	// GET / answers for the node asked: the 8.19 master.
	if f.Identity == nil || f.Identity.Version.Number != V8 || f.Identity.ClusterName != "m" {
		t.Errorf("m identity = %+v, want cluster m on %s", f.Identity, V8)
	}
}

// TestLinkSettingsStaticAndDynamic: on the 7.17 cluster d (where the
// exporter's settings judgement runs end to end, see the README on _xpack
// in the 8.x/9.x integ-test-zip), static_b is defined in elasticsearch.yml,
// to_c through the cluster settings API and both_b in both, with a
// skip_unavailable the cluster setting overrides. Elasticsearch applies the
// dynamic value (_remote/info) and the exporter reports where each link is
// defined and the conflict.
func TestLinkSettingsStaticAndDynamic(t *testing.T) {
	e := newExporter(t)
	f := e.poll(t, "d")
	bySource := map[string]string{}
	var both *collector.LinkSettings
	for i, ls := range f.LinkSettings {
		bySource[ls.Alias] = ls.Source
		if ls.Alias == "both_b" {
			both = &f.LinkSettings[i]
		}
	}
	want := map[string]string{"static_b": collector.SourceStatic, "to_c": collector.SourceDynamic, "both_b": collector.SourceBoth}
	for alias, src := range want {
		if bySource[alias] != src {
			t.Errorf("d/%s: source %q, want %q (all: %v)", alias, bySource[alias], src, bySource)
		}
		e.want(t, "es_remote_link_settings_nodes", map[string]string{"es_cluster": "d", "remote": alias, "source": src}, 1)
	}
	if both == nil || len(both.Conflicts) != 1 || both.Conflicts[0].Setting != "skip_unavailable" || both.Conflicts[0].Kind != collector.ConflictStaticDynamic {
		t.Errorf("d/both_b settings = %+v, want one static_vs_dynamic conflict on skip_unavailable", both)
	}
	e.want(t, "es_remote_link_setting_conflict", map[string]string{"es_cluster": "d", "remote": "both_b", "setting": "skip_unavailable", "kind": collector.ConflictStaticDynamic}, 1)
	// The cluster setting wins: elasticsearch.yml says true, the cluster
	// settings false. 7.17's own default is false (true from 8.15).
	if l := linkOf(f, "both_b"); l == nil || l.SkipUnavailable {
		t.Errorf("d/both_b = %+v, want skip_unavailable false (the dynamic value)", l)
	}
	// (Not whether it is connected: after TestRemoteNodeDownAndBack, 7.17
	// keeps a link to a restarted remote down until a cross-cluster request
	// needs it; it has no _resolve/cluster to reconnect it.)
	if l := linkOf(f, "static_b"); l == nil || l.SkipUnavailable {
		t.Errorf("d/static_b = %+v, want 7.17's default skip_unavailable false", l)
	}
	if !strings.Contains(e.logs.String(), "both_b") {
		t.Errorf("the exporter did not log the both_b conflict; logs:\n%s", e.logs)
	}
}
