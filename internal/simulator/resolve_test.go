package simulator

import (
	"context"
	"errors"
	"testing"
	"time"
)

// resolveFixture builds the situation of the recorded 8.19 samples.
func resolveFixture(t *testing.T, s *Sim, localVersion string) *Cluster {
	t.Helper()
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: localVersion, Indices: []string{"logs-2025.01"}})
	addCluster(t, s, ClusterSpec{Name: "ok", Version: "9.1.5", Indices: []string{"logs-a"}})
	addCluster(t, s, ClusterSpec{Name: "same", Version: localVersion})
	down := addCluster(t, s, ClusterSpec{Name: "down", Version: "8.19.2"})
	slow := addCluster(t, s, ClusterSpec{Name: "slow", Version: "8.19.2"})
	addCluster(t, s, ClusterSpec{Name: "old", Version: "8.12.2", Indices: []string{"logs-old"}})
	addLink(t, local, LinkSpec{Alias: "remote_ok", Remote: "ok"})
	addLink(t, local, LinkSpec{Alias: "remote_same_version", Remote: "same", SkipUnavailable: boolPtr(false)})
	addLink(t, local, LinkSpec{Alias: "remote_down", Remote: "down"})
	addLink(t, local, LinkSpec{Alias: "remote_slow", Remote: "slow", SkipUnavailable: boolPtr(false)})
	addLink(t, local, LinkSpec{Alias: "remote_pre_8_13", Remote: "old"})
	down.Stop()
	slow.SetFault(Fault{Kind: FaultHang})
	return local
}

func TestResolveClusterMatchesRecordedResponses(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	local := resolveFixture(t, s, "8.19.2")

	res := get(t, cl, local.URL()+"/_resolve/cluster/logs*,remote_ok:logs*,remote_down:logs*,remote_slow:logs*,remote_pre_8_13:logs*?timeout=50ms")
	wantStatus(t, res, 200)
	got := parseOrdered(t, res.body)
	want := loadTestdata(t, "resolve_cluster_mixed_8.19.json")
	if len(got.keys) != 5 {
		t.Errorf("entries %v", got.keys)
	}
	for _, key := range []string{"(local)", "remote_ok", "remote_down", "remote_slow", "remote_pre_8_13"} {
		sameShape(t, key, got.mustGet(t, key), want.mustGet(t, key))
	}
	wantBool(t, got, true, "(local)", "matching_indices")
	wantString(t, got, "8.19.2", "(local)", "version", "number")
	wantString(t, got, "9.1.5", "remote_ok", "version", "number")
	wantString(t, got, "8.19.0", "remote_ok", "version", "minimum_wire_compatibility_version")
	wantString(t, got, "8.0.0", "remote_ok", "version", "minimum_index_compatibility_version")
	wantString(t, got, remoteTimeoutError, "remote_slow", "error")
	wantBool(t, got, false, "remote_slow", "skip_unavailable")
	wantBool(t, got, true, "remote_pre_8_13", "matching_indices")

	res = get(t, cl, local.URL()+"/_resolve/cluster?timeout=50ms")
	wantStatus(t, res, 200)
	got = parseOrdered(t, res.body)
	want = loadTestdata(t, "resolve_cluster_no_index_8.19.json")
	if got.get("(local)") != nil || len(got.keys) != 5 {
		t.Errorf("no-index entries %v", got.keys)
	}
	for _, key := range []string{"remote_ok", "remote_same_version", "remote_down", "remote_pre_8_13"} {
		sameShape(t, key, got.mustGet(t, key), want.mustGet(t, key))
	}
	wantString(t, got, remoteTimeoutError, "remote_slow", "error")
}

func TestResolveClusterExpressions(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	local := resolveFixture(t, s, "8.19.2")
	s.Cluster("slow").SetFault(Fault{})
	url := local.URL() + "/_resolve/cluster/"

	// Alias wildcards select remotes; no local expression, no (local).
	got := parseOrdered(t, get(t, cl, url+"remote_o*:*").body)
	if len(got.keys) != 1 || got.get("remote_ok") == nil {
		t.Errorf("remote_o*:* -> %v", got.keys)
	}
	wantBool(t, got, true, "remote_ok", "matching_indices")
	// A missing concrete index: connected, error, no version.
	got = parseOrdered(t, get(t, cl, url+"remote_ok:nope").body)
	wantBool(t, got, true, "remote_ok", "connected")
	wantString(t, got, "no such index [nope]", "remote_ok", "error")
	if got.get("remote_ok", "version") != nil {
		t.Error("version present next to an index_not_found error")
	}
	// ignore_unavailable turns it into matching_indices false.
	got = parseOrdered(t, get(t, cl, url+"remote_ok:nope?ignore_unavailable=true").body)
	wantBool(t, got, false, "remote_ok", "matching_indices")
	// Local missing index.
	got = parseOrdered(t, get(t, cl, url+"nope").body)
	wantString(t, got, "no such index [nope]", "(local)", "error")
	// Wildcard alias matching nothing -> {}.
	if res := get(t, cl, url+"no_such_remote*:*"); string(res.body) != "{}" {
		t.Errorf("no_such_remote*:* -> %s", res.body)
	}
	// Concrete unknown alias.
	res := get(t, cl, url+"no_such_remote:*")
	wantStatus(t, res, 404)
	wantString(t, parseOrdered(t, res.body), "no_such_remote_cluster_exception", "error", "type")
	// A node without remote_cluster_client resolves no remotes.
	if err := local.SetNodeRoles("local-es01", []string{"data", "master"}); err != nil {
		t.Fatal(err)
	}
	if res := get(t, cl, local.URL()+"/_resolve/cluster"); string(res.body) != "{}" {
		t.Errorf("no remote_cluster_client role -> %s", res.body)
	}
	// No links at all: the no-index form answers {}.
	empty := addCluster(t, s, ClusterSpec{Name: "empty", Version: "9.0.4"})
	if res := get(t, cl, empty.URL()+"/_resolve/cluster"); string(res.body) != "{}" {
		t.Errorf("no remotes -> %s", res.body)
	}
}

func TestResolveClusterRequestValidation(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c819 := addCluster(t, s, ClusterSpec{Name: "c819", Version: "8.19.2"})
	c817 := addCluster(t, s, ClusterSpec{Name: "c817", Version: "8.17.4"})

	res := get(t, cl, c819.URL()+"/_resolve/cluster?expand_wildcards=none")
	wantStatus(t, res, 400)
	const reason = "No index options are allowed on _resolve/cluster when no index expression is specified, but received: [expand_wildcards]"
	want := `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"` + reason +
		`"}],"type":"illegal_argument_exception","reason":"` + reason + `"},"status":400}`
	if string(res.body) != want {
		t.Errorf("body %s", res.body)
	}
	// Index options are fine with an expression.
	wantStatus(t, get(t, cl, c819.URL()+"/_resolve/cluster/*?expand_wildcards=open"), 200)
	// ?timeout exists from 8.18; 8.17 rejects it as unrecognized.
	res = get(t, cl, c817.URL()+"/_resolve/cluster/*:*?timeout=5s")
	wantStatus(t, res, 400)
	wantString(t, parseOrdered(t, res.body), "request [/_resolve/cluster/*:*] contains unrecognized parameter: [timeout]",
		"error", "reason")
	// TimeValue#parseTimeValue's IllegalArgumentExceptions (libs/core).
	for value, reason := range map[string]string{
		"5parsecs": "failed to parse [5parsecs]",
		"1.5s":     "failed to parse [1.5s], fractional time values are not supported",
		"5":        "failed to parse setting [timeout] with value [5] as a time value: unit is missing or unrecognized",
		"5M":       "failed to parse setting [timeout] with value [5M] as a time value: unit is missing or unrecognized",
		"-2s":      "failed to parse setting [timeout] with value [-2s] as a time value: negative durations are not supported",
		"1.5fs":    "failed to parse [1.5fs], fractional time values are not supported",
		"nans":     "failed to parse [nans]",
		"1_0s":     "failed to parse [1_0s]",
	} {
		res = get(t, cl, c819.URL()+"/_resolve/cluster?timeout="+value)
		wantStatus(t, res, 400)
		wantString(t, parseOrdered(t, res.body), "illegal_argument_exception", "error", "type")
		wantString(t, parseOrdered(t, res.body), reason, "error", "reason")
		// Long.parseLong's NumberFormatException is the cause of what it
		// refused; the negative value's exception has none.
		if cause := parseOrdered(t, res.body).get("error", "caused_by"); value == "-2s" || value == "5" || value == "5M" {
			if cause != nil {
				t.Errorf("%s: caused_by %s, want none", value, cause.shape())
			}
		} else {
			wantString(t, parseOrdered(t, res.body), "number_format_exception", "error", "caused_by", "type")
		}
	}
	// 8.17 has no no-index form: RestController falls back to the typed
	// POST /{index}/{type} route and answers 405 without authenticating.
	res = get(t, cl, c817.URL()+"/_resolve/cluster", noAuth())
	wantStatus(t, res, 405)
	if string(res.body) != `{"error":"Incorrect HTTP method for uri [/_resolve/cluster] and method [GET], allowed: [POST]","status":405}` {
		t.Errorf("8.17 no-index body %s", res.body)
	}
	if res.header.Get("Allow") != "POST" || res.header.Get(productHeader) != "Elasticsearch" {
		t.Errorf("8.17 no-index headers %v", res.header)
	}
}

func TestResolveClusterAbsentBefore813(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c812 := addCluster(t, s, ClusterSpec{Name: "c812", Version: "8.12.2"})
	c717 := addCluster(t, s, ClusterSpec{Name: "c717", Version: "7.17.22", Users: map[string]User{
		monUser: {Password: monPass, Roles: []string{"r"}, ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"read"}},
	}})
	res := get(t, cl, c812.URL()+"/_resolve/cluster/*:*")
	wantStatus(t, res, 400)
	if string(res.body) != `{"error":"no handler found for uri [/_resolve/cluster/*:*] and method [GET]"}` {
		t.Errorf("8.12 body %s", res.body)
	}
	res = get(t, cl, c812.URL()+"/_resolve/cluster?pretty")
	wantStatus(t, res, 405)
	// 7.17 still routes three segments to the typed GET /{index}/{type}/{id}.
	res = get(t, cl, c717.URL()+"/_resolve/cluster/*:*")
	wantStatus(t, res, 404)
	wantString(t, parseOrdered(t, res.body), "no such index [_resolve]", "error", "reason")
	wantStatus(t, get(t, cl, c717.URL()+"/_resolve/cluster"), 405)
}

// TestResolveClusterReconnects covers the per-version reconnection rule.
func TestResolveClusterReconnects(t *testing.T) {
	for _, tc := range []struct {
		version       string
		skip          bool
		connectedNow  bool // in the _resolve/cluster answer
		connectedThen bool // in _remote/info afterwards
	}{
		{"8.13.4", false, true, true},
		{"8.13.4", true, false, true},
		{"8.14.3", true, true, true},
		{"8.16.2", true, true, true},
		{"8.16.3", true, false, true},
		{"8.16.5", true, false, true},
		{"8.16.6", true, true, true}, // PR #124368 reverted the fail-fast strategy on 8.16
		{"8.17.1", false, false, true},
		{"8.18.3", true, true, true},
		{"9.1.5", true, true, true},
	} {
		s := newSim(t)
		cl := newClient(t, s)
		a := addCluster(t, s, ClusterSpec{Name: "a", Version: tc.version})
		b := addCluster(t, s, ClusterSpec{Name: "b", Version: "8.19.2"})
		addLink(t, a, LinkSpec{Alias: "b", Remote: "b", SkipUnavailable: boolPtr(tc.skip)})
		b.Stop()
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		info := parseOrdered(t, get(t, cl, a.URL()+"/_remote/info").body)
		wantBool(t, info, false, "b", "connected")
		got := parseOrdered(t, get(t, cl, a.URL()+"/_resolve/cluster/b:*").body)
		if c := got.mustGet(t, "b", "connected").b; c != tc.connectedNow {
			t.Errorf("%s skip=%v: resolve connected=%v, want %v", tc.version, tc.skip, c, tc.connectedNow)
		}
		if got.get("b", "error") != nil {
			t.Errorf("%s: unexpected error %s", tc.version, got.mustGet(t, "b", "error").str)
		}
		info = parseOrdered(t, get(t, cl, a.URL()+"/_remote/info").body)
		if c := info.mustGet(t, "b", "connected").b; c != tc.connectedThen {
			t.Errorf("%s skip=%v: remote/info connected=%v afterwards, want %v", tc.version, tc.skip, c, tc.connectedThen)
		}
	}
}

func TestResolveClusterHangingRemote(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	a := addCluster(t, s, ClusterSpec{Name: "a", Version: "8.17.0"})
	b := addCluster(t, s, ClusterSpec{Name: "b", Version: "8.19.2"})
	addLink(t, a, LinkSpec{Alias: "b", Remote: "b"})
	b.SetFault(Fault{Kind: FaultHang})

	// Without ?timeout (8.17 has none) the request blocks like real ES, up to
	// the client's own timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := doErr(ctx, cl, "GET", a.URL()+"/_resolve/cluster/b:*")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging remote: err %v, want deadline exceeded", err)
	}

	// When the hang ends while the request waits, the answer arrives.
	waitHeld(t, a, 0) // the abandoned request is let go
	done := make(chan result, 1)
	go func() {
		res, _ := doErr(context.Background(), cl, "GET", a.URL()+"/_resolve/cluster/b:*")
		done <- res
	}()
	waitHeld(t, a, 1)
	b.SetFault(Fault{})
	res := <-done
	wantStatus(t, res, 200)
	wantBool(t, parseOrdered(t, res.body), true, "b", "connected")

	// A remote that stops while the request waits reports disconnected.
	b.SetFault(Fault{Kind: FaultHang})
	waitHeld(t, a, 0)
	go func() {
		res, _ := doErr(context.Background(), cl, "GET", a.URL()+"/_resolve/cluster/b:*")
		done <- res
	}()
	waitHeld(t, a, 1)
	b.Stop()
	res = <-done
	wantStatus(t, res, 200)
	got := parseOrdered(t, res.body)
	wantBool(t, got, false, "b", "connected")
	if got.get("b", "error") != nil {
		t.Error("stopped remote reported with an error")
	}
}
