package simulator

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock replaces a cluster's CCR clock so time-dependent fields are
// exact.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func useFakeCCRClock(c *Cluster) *fakeClock {
	fc := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	c.mu.Lock()
	c.ccr.now = fc.now
	c.mu.Unlock()
	return fc
}

// ccrPair is a platinum leader cluster and a platinum follower cluster of version
// ver linked through the alias "leader".
func ccrPair(t *testing.T, s *Sim, ver string) (leader, follower *Cluster) {
	t.Helper()
	leader = addCluster(t, s, ClusterSpec{Name: "leader-" + ver, Version: ver, License: "platinum", Indices: []string{"logs"}})
	follower = addCluster(t, s, ClusterSpec{Name: "follower-" + ver, Version: ver, License: "platinum",
		Indices: []string{"plain"}})
	addLink(t, follower, LinkSpec{Alias: "leader", Remote: leader.Name()})
	return leader, follower
}

func addFollower(t *testing.T, c *Cluster, spec FollowerSpec) {
	t.Helper()
	if err := c.AddFollower(spec); err != nil {
		t.Fatal(err)
	}
}

var shardStatsKeys = []string{"remote_cluster", "leader_index", "follower_index", "shard_id",
	"leader_global_checkpoint", "leader_max_seq_no", "follower_global_checkpoint", "follower_max_seq_no",
	"last_requested_seq_no", "outstanding_read_requests", "outstanding_write_requests",
	"write_buffer_operation_count", "write_buffer_size_in_bytes", "follower_mapping_version",
	"follower_settings_version", "follower_aliases_version", "total_read_time_millis",
	"total_read_remote_exec_time_millis", "successful_read_requests", "failed_read_requests", "operations_read",
	"bytes_read", "total_write_time_millis", "successful_write_requests", "failed_write_requests",
	"operations_written", "read_exceptions", "time_since_last_read_millis"}

func wantKeys(t *testing.T, what string, n *jnode, want []string) {
	t.Helper()
	if got := n.keyList(); !slices.Equal(got, want) {
		t.Errorf("%s keys\n got: %v\nwant: %v", what, got, want)
	}
}

func TestCCRStatsShapeAndLagPerVersion(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, tc := range []struct {
		ver     string
		withLag bool // total_global_checkpoint_lag from 8.13 (#104015)
	}{{"7.17.22", false}, {"8.12.2", false}, {"8.13.4", true}, {"8.19.2", true}, {"9.1.5", true}} {
		t.Run(tc.ver, func(t *testing.T) {
			_, f := ccrPair(t, s, tc.ver)
			addFollower(t, f, FollowerSpec{Index: "logs-copy", Remote: "leader", LeaderIndex: "logs", Shards: 2})
			f.AdvanceLeader("logs-copy", 5)

			res := get(t, cl, f.URL()+"/_ccr/stats")
			wantStatus(t, res, 200)
			body := parseOrdered(t, res.body)
			wantKeys(t, "top level", body, []string{"auto_follow_stats", "follow_stats"})
			wantKeys(t, "auto_follow_stats", body.mustGet(t, "auto_follow_stats"),
				[]string{"number_of_failed_follow_indices", "number_of_failed_remote_cluster_state_requests",
					"number_of_successful_follow_indices", "recent_auto_follow_errors", "auto_followed_clusters"})
			indices := body.mustGet(t, "follow_stats", "indices")
			if len(indices.vals) != 1 {
				t.Fatalf("follow_stats.indices: %s", res.body)
			}
			idx := indices.vals[0]
			wantIdx := []string{"index", "shards"}
			if tc.withLag {
				wantIdx = []string{"index", "total_global_checkpoint_lag", "shards"}
				// 5 ops over 2 shards: 3 and 2, from -1; followers at -1.
				wantNumber(t, idx, 5, "total_global_checkpoint_lag")
			}
			wantKeys(t, "index entry", idx, wantIdx)
			wantString(t, idx, "logs-copy", "index")
			shards := idx.mustGet(t, "shards").vals
			if len(shards) != 2 {
				t.Fatalf("shards: %d", len(shards))
			}
			for i, sh := range shards {
				wantKeys(t, "shard", sh, shardStatsKeys)
				wantNumber(t, sh, float64(i), "shard_id")
				wantString(t, sh, "leader", "remote_cluster")
				wantString(t, sh, "logs", "leader_index")
				wantNumber(t, sh, -1, "follower_global_checkpoint")
			}
			wantNumber(t, shards[0], 2, "leader_global_checkpoint")
			wantNumber(t, shards[1], 1, "leader_max_seq_no")

			f.Drain("logs-copy")
			body = parseOrdered(t, get(t, cl, f.URL()+"/_ccr/stats").body)
			idx = body.mustGet(t, "follow_stats", "indices").vals[0]
			if tc.withLag {
				wantNumber(t, idx, 0, "total_global_checkpoint_lag")
			}
			var written float64
			for _, sh := range idx.mustGet(t, "shards").vals {
				if l, fo := sh.mustGet(t, "leader_global_checkpoint").num, sh.mustGet(t, "follower_global_checkpoint").num; l != fo {
					t.Errorf("after Drain: leader %v, follower %v", l, fo)
				}
				written += sh.mustGet(t, "operations_written").num
			}
			if written != 5 {
				t.Errorf("operations_written summed %v, want 5", written)
			}

			// The index-level API answers the same indices list.
			res = get(t, cl, f.URL()+"/logs-copy/_ccr/stats")
			wantStatus(t, res, 200)
			wantKeys(t, "follower stats", parseOrdered(t, res.body), []string{"indices"})
		})
	}
}

func TestCCRLicenseNonCompliant(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	const want = `{"error":{"root_cause":[{"type":"security_exception","reason":"current license is non-compliant for [ccr]",` +
		`"license.expired.feature":"ccr"}],"type":"security_exception","reason":"current license is non-compliant for [ccr]",` +
		`"license.expired.feature":"ccr"},"status":403}`
	for _, ver := range []string{"7.17.22", "8.19.2", "9.1.5"} {
		basic := addCluster(t, s, ClusterSpec{Name: "basic-" + ver, Version: ver})
		for _, path := range []string{"/_ccr/stats", "/_all/_ccr/stats", "/x/_ccr/stats"} {
			res := get(t, cl, basic.URL()+path)
			if res.status != 403 || string(res.body) != want {
				t.Errorf("%s %s: %d %s\nwant 403 %s", ver, path, res.status, res.body, want)
			}
		}
		// Follower info has no license check: 200, no followers.
		res := get(t, cl, basic.URL()+"/_all/_ccr/info")
		if res.status != 200 || string(res.body) != `{"follower_indices":[]}` {
			t.Errorf("%s _ccr/info on basic: %d %s", ver, res.status, res.body)
		}
		wantErrContains(t, basic.AddFollower(FollowerSpec{Index: "f", Remote: "r", LeaderIndex: "l"}),
			"no link", "AddFollower without link")
	}

	// A platinum cluster whose license expires keeps its followers in
	// _ccr/info but its stats answer 403.
	_, f := ccrPair(t, s, "8.19.2")
	addFollower(t, f, FollowerSpec{Index: "copy", Remote: "leader", LeaderIndex: "logs"})
	if err := f.SetLicense("platinum", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if res := get(t, cl, f.URL()+"/_ccr/stats"); res.status != 403 || string(res.body) != want {
		t.Errorf("expired license: %d %s", res.status, res.body)
	}
	res := get(t, cl, f.URL()+"/_all/_ccr/info")
	wantStatus(t, res, 200)
	wantString(t, parseOrdered(t, res.body).mustGet(t, "follower_indices").vals[0], "copy", "follower_index")
	if err := f.SetLicense("basic", time.Time{}); err != nil {
		t.Fatal(err)
	}
	wantErrContains(t, f.AddFollower(FollowerSpec{Index: "copy2", Remote: "leader", LeaderIndex: "logs"}),
		"current license is non-compliant for [ccr]", "AddFollower on basic")

	// The leader's license counts too: a platinum follower cannot start
	// following a basic leader (CcrMultiClusterLicenseIT), but a follower
	// started before the leader's downgrade keeps its place.
	l, f2 := ccrPair(t, s, "8.18.1")
	addFollower(t, f2, FollowerSpec{Index: "before", Remote: "leader", LeaderIndex: "logs"})
	if err := l.SetLicense("basic", time.Time{}); err != nil {
		t.Fatal(err)
	}
	wantErrContains(t, f2.AddFollower(FollowerSpec{Index: "after", Remote: "leader", LeaderIndex: "logs"}),
		"can not fetch remote index [leader:logs] metadata as the remote cluster [leader] is not licensed for [ccr]; "+
			"the license mode [BASIC] on cluster [leader] does not enable [ccr]", "AddFollower of a basic leader")
	res = get(t, cl, f2.URL()+"/_all/_ccr/info")
	wantStatus(t, res, 200)
	wantString(t, parseOrdered(t, res.body).mustGet(t, "follower_indices").vals[0], "before", "follower_index")
}

func TestCCRAuthorization(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, tc := range []struct{ ver, label string }{{"7.17.22", "with roles"}, {"8.19.2", "with effective roles"}} {
		_, f := ccrPair(t, s, tc.ver)
		for path, action := range map[string]string{
			"/_ccr/stats":        "cluster:monitor/ccr/stats",
			"/copy/_ccr/stats":   "cluster:monitor/ccr/follow_stats",
			"/_all/_ccr/info":    "cluster:monitor/ccr/follow_info",
			"/plain/_ccr/info":   "cluster:monitor/ccr/follow_info",
			"/missing/_ccr/info": "cluster:monitor/ccr/follow_info",
		} {
			res := get(t, cl, f.URL()+path, basic("nopriv", "nopriv"))
			wantStatus(t, res, 403)
			body := parseOrdered(t, res.body)
			wantString(t, body, "security_exception", "error", "type")
			wantString(t, body, "action ["+action+"] is unauthorized for user [nopriv] "+tc.label+
				" [ccs_monitor_role], this action is granted by the cluster privileges [monitor,manage,all]",
				"error", "reason")
		}
	}
	// manage grants them too; an index privilege alone does not.
	f := addCluster(t, s, ClusterSpec{Name: "f9", Version: "9.1.5", License: "trial", Users: map[string]User{
		"mgr": {Password: "p", Roles: []string{"r"}, ClusterPrivileges: []string{"manage"}},
		"idx": {Password: "p", Roles: []string{"r"}, IndexPrivileges: []string{"all"}},
	}})
	wantStatus(t, get(t, cl, f.URL()+"/_ccr/stats", basic("mgr", "p")), 200)
	wantStatus(t, get(t, cl, f.URL()+"/_all/_ccr/info", basic("idx", "p")), 403)
}

func TestCCRFollowInfoExpressions(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, ver := range []string{"7.17.22", "8.19.2", "9.1.5"} {
		t.Run(ver, func(t *testing.T) {
			_, f := ccrPair(t, s, ver)
			// No follower yet: 200 with an empty list for _all and *.
			for _, expr := range []string{"_all", "*"} {
				res := get(t, cl, f.URL()+"/"+expr+"/_ccr/info")
				if res.status != 200 || string(res.body) != `{"follower_indices":[]}` {
					t.Errorf("%s without followers: %d %s", expr, res.status, res.body)
				}
			}
			addFollower(t, f, FollowerSpec{Index: "b-copy", Remote: "leader", LeaderIndex: "b"})
			addFollower(t, f, FollowerSpec{Index: "a-copy", Remote: "leader", LeaderIndex: "a"})
			if err := f.PauseFollower("b-copy"); err != nil {
				t.Fatal(err)
			}
			infos := func(expr string) []*jnode {
				t.Helper()
				res := get(t, cl, f.URL()+"/"+expr+"/_ccr/info")
				wantStatus(t, res, 200)
				return parseOrdered(t, res.body).mustGet(t, "follower_indices").vals
			}
			all := infos("_all")
			if len(all) != 2 {
				t.Fatalf("_all: %d followers", len(all))
			}
			wantKeys(t, "active follower", all[0], []string{"follower_index", "remote_cluster", "leader_index", "status", "parameters"})
			wantString(t, all[0], "a-copy", "follower_index")
			wantString(t, all[0], "leader", "remote_cluster")
			wantString(t, all[0], "a", "leader_index")
			wantString(t, all[0], "active", "status")
			wantKeys(t, "parameters", all[0].mustGet(t, "parameters"), []string{"max_read_request_operation_count",
				"max_read_request_size", "max_outstanding_read_requests", "max_write_request_operation_count",
				"max_write_request_size", "max_outstanding_write_requests", "max_write_buffer_count",
				"max_write_buffer_size", "max_retry_delay", "read_poll_timeout"})
			wantKeys(t, "paused follower", all[1], []string{"follower_index", "remote_cluster", "leader_index", "status"})
			wantString(t, all[1], "paused", "status")
			if n := len(infos("*")); n != 2 {
				t.Errorf("*: %d followers", n)
			}
			if got := infos("b-copy,plain,a-*"); len(got) != 2 || got[0].get("follower_index").str != "b-copy" {
				t.Errorf("comma list: %d followers", len(got))
			}
			if n := len(infos("plain")); n != 0 {
				t.Errorf("a regular index: %d followers, want 0", n)
			}
			if n := len(infos("nothing-*")); n != 0 {
				t.Errorf("a wildcard matching nothing: %d followers, want 0", n)
			}
			res := get(t, cl, f.URL()+"/missing,a-copy/_ccr/info")
			wantStatus(t, res, 404)
			body := parseOrdered(t, res.body)
			wantString(t, body, "index_not_found_exception", "error", "type")
			wantString(t, body, "no such index [missing]", "error", "reason")
			// master_timeout from 8.13 (#105168); 7.x consumes no parameter.
			wantMT := 200
			if ver == "7.17.22" {
				wantMT = 400
			}
			if res := get(t, cl, f.URL()+"/_all/_ccr/info?master_timeout=10s"); res.status != wantMT {
				t.Errorf("master_timeout: %d %s, want %d", res.status, res.body, wantMT)
			}
		})
	}
}

func TestCCRPauseResumeFatalStall(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	_, f := ccrPair(t, s, "8.19.2")
	fc := useFakeCCRClock(f)
	addFollower(t, f, FollowerSpec{Index: "copy", Remote: "leader", LeaderIndex: "logs", Shards: 2})
	addFollower(t, f, FollowerSpec{Index: "other", Remote: "leader", LeaderIndex: "other"})
	shard := func(index string, id int) *jnode {
		t.Helper()
		res := get(t, cl, f.URL()+"/"+index+"/_ccr/stats")
		wantStatus(t, res, 200)
		idx := parseOrdered(t, res.body).mustGet(t, "indices").vals
		if len(idx) != 1 {
			t.Fatalf("%s: %d indices", index, len(idx))
		}
		return idx[0].mustGet(t, "shards").vals[id]
	}
	num := func(n *jnode, field string) float64 { t.Helper(); return n.mustGet(t, field).num }

	// A working follower long-polls: at most read_poll_timeout since a read.
	fc.advance(150 * time.Second)
	if v := num(shard("copy", 0), "time_since_last_read_millis"); v != 30000 {
		t.Errorf("idle follower: time_since_last_read_millis %v, want 30000", v)
	}

	// Stalled: no read, the time since the last one grows, reads fail,
	// the leader's progress is not seen.
	f.StallFollower("copy", true)
	f.AdvanceLeader("copy", 10)
	fc.advance(90 * time.Second)
	sh := shard("copy", 0)
	if v := num(sh, "time_since_last_read_millis"); v != 120000 {
		t.Errorf("stalled: time_since_last_read_millis %v, want 120000", v)
	}
	if v := num(sh, "failed_read_requests"); v != 2 {
		t.Errorf("stalled 90s: failed_read_requests %v, want 2", v)
	}
	if v := num(sh, "leader_global_checkpoint"); v != -1 {
		t.Errorf("stalled: leader_global_checkpoint %v, want -1 (unseen)", v)
	}
	if ex := sh.mustGet(t, "read_exceptions").vals; len(ex) != 1 {
		t.Errorf("stalled: read_exceptions %d entries", len(ex))
	} else {
		wantKeys(t, "read exception", ex[0], []string{"from_seq_no", "retries", "exception"})
	}
	before := num(sh, "time_since_last_read_millis")
	fc.advance(time.Minute)
	sh = shard("copy", 0)
	if v := num(sh, "time_since_last_read_millis"); v <= before {
		t.Errorf("stalled: time_since_last_read_millis %v did not grow from %v", v, before)
	}
	if v := num(sh, "failed_read_requests"); v != 3 {
		t.Errorf("stalled 150s: failed_read_requests %v, want 3", v)
	}
	f.Drain("copy") // no read while stalled
	if v := num(shard("copy", 0), "follower_global_checkpoint"); v != -1 {
		t.Errorf("Drain of a stalled follower: follower_global_checkpoint %v", v)
	}
	f.StallFollower("copy", false)
	sh = shard("copy", 0)
	if num(sh, "time_since_last_read_millis") != 0 || num(sh, "leader_global_checkpoint") != 4 ||
		num(sh, "failed_read_requests") != 3 || len(sh.mustGet(t, "read_exceptions").vals) != 0 {
		t.Errorf("after the stall: %s", sh.shape())
	}
	f.Drain("copy")
	if v := num(shard("copy", 1), "follower_global_checkpoint"); v != 4 {
		t.Errorf("after Drain: shard 1 follower_global_checkpoint %v, want 4 (10 ops over 2 shards from -1)", v)
	}

	// Fatal: that shard reports the exception and reads no more.
	f.SetFollowerFatal("copy", 1, "no such index [logs]")
	fc.advance(5 * time.Minute)
	sh = shard("copy", 1)
	wantKeys(t, "fatal shard", sh, append(slices.Clone(shardStatsKeys), "fatal_exception"))
	wantString(t, sh, "exception", "fatal_exception", "type")
	wantString(t, sh, "no such index [logs]", "fatal_exception", "reason")
	if v := num(sh, "time_since_last_read_millis"); v != 300000 {
		t.Errorf("fatal: time_since_last_read_millis %v, want 300000", v)
	}
	if slices.Contains(shard("copy", 0).keyList(), "fatal_exception") {
		t.Error("shard 0 has a fatal_exception")
	}
	info := parseOrdered(t, get(t, cl, f.URL()+"/copy/_ccr/info").body).mustGet(t, "follower_indices").vals[0]
	wantString(t, info, "active", "status") // the persistent task still exists

	// Paused: gone from the stats, "paused" in info; resumed: fresh tasks.
	if err := f.PauseFollower("copy"); err != nil {
		t.Fatal(err)
	}
	res := get(t, cl, f.URL()+"/_ccr/stats")
	wantStatus(t, res, 200)
	if strings.Contains(string(res.body), `"copy"`) {
		t.Errorf("paused follower in _ccr/stats: %s", res.body)
	}
	res = get(t, cl, f.URL()+"/copy/_ccr/stats")
	wantStatus(t, res, 404)
	body := parseOrdered(t, res.body)
	wantString(t, body, "resource_not_found_exception", "error", "type")
	wantString(t, body, "No shard follow tasks for follower indices [copy]", "error", "reason")
	wantString(t, parseOrdered(t, get(t, cl, f.URL()+"/copy/_ccr/info").body).mustGet(t, "follower_indices").vals[0],
		"paused", "status")
	wantErrContains(t, f.PauseFollower("copy"), "already paused", "PauseFollower twice")
	if err := f.ResumeFollower("copy"); err != nil {
		t.Fatal(err)
	}
	sh = shard("copy", 1)
	if sh.get("fatal_exception") != nil || num(sh, "failed_read_requests") != 0 || num(sh, "operations_written") != 0 {
		t.Errorf("resumed task kept old state: %s", sh.shape())
	}
	if v := num(sh, "follower_global_checkpoint"); v != 4 {
		t.Errorf("resumed: follower_global_checkpoint %v, want 4", v)
	}
	wantErrContains(t, f.ResumeFollower("copy"), "not paused", "ResumeFollower of an active follower")
	wantErrContains(t, f.PauseFollower("nope"), "no follower index", "PauseFollower(unknown)")
}

func TestCCRFollowStatsNamesAreLiteral(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	_, f := ccrPair(t, s, "9.1.5")
	addFollower(t, f, FollowerSpec{Index: "logs-1", Remote: "leader", LeaderIndex: "logs"})
	for path, status := range map[string]int{
		"/logs-1/_ccr/stats":          200,
		"/logs-1,unknown/_ccr/stats":  200,
		"/_all/_ccr/stats":            200,
		"/*/_ccr/stats":               200,
		"/logs-*/_ccr/stats":          404, // no expansion: compared with task indices literally
		"/plain/_ccr/stats":           404,
		"/unknown,other/_ccr/stats":   404,
		"/_ccr/stats?timeout=5s":      200, // 8.14+
		"/logs-1/_ccr/stats?human=no": 400,
	} {
		res := get(t, cl, f.URL()+path)
		if res.status != status {
			t.Errorf("%s: %d %s, want %d", path, res.status, res.body, status)
		}
	}
	res := get(t, cl, f.URL()+"/unknown,other/_ccr/stats")
	wantString(t, parseOrdered(t, res.body), "No shard follow tasks for follower indices [unknown,other]", "error", "reason")

	old := addCluster(t, s, ClusterSpec{Name: "old", Version: "8.13.4", License: "trial"})
	res = get(t, cl, old.URL()+"/_ccr/stats?timeout=5s")
	wantStatus(t, res, 400)
	wantString(t, parseOrdered(t, res.body), "request [/_ccr/stats] contains unrecognized parameter: [timeout]", "error", "reason")
	wantStatus(t, get(t, cl, old.URL()+"/_ccr/stats?master_timeout=5s"), 200) // 8.13 (#105168)

	res = do(t, cl, http.MethodPost, f.URL()+"/_ccr/stats")
	wantStatus(t, res, 405)
	if res.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", res.header.Get("Allow"))
	}
}

func TestCCRAutoFollowStats(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	_, f := ccrPair(t, s, "8.19.2")
	fc := useFakeCCRClock(f)
	f.AutoFollowSucceeded(3)
	f.AddAutoFollowError("metrics-2", "index [metrics-2] already exists")
	f.AddAutoFollowPatternError("logs-pattern", "logs-9", "leader index [logs-9] does not have soft deletes enabled")
	fc.advance(time.Second)
	f.AddAutoFollowClusterStateError("logs-pattern", "org.elasticsearch.transport.NoSuchRemoteClusterException: no such remote cluster: [leader]")

	res := get(t, cl, f.URL()+"/_ccr/stats")
	wantStatus(t, res, 200)
	auto := parseOrdered(t, res.body).mustGet(t, "auto_follow_stats")
	wantNumber(t, auto, 2, "number_of_failed_follow_indices")
	wantNumber(t, auto, 1, "number_of_failed_remote_cluster_state_requests")
	wantNumber(t, auto, 3, "number_of_successful_follow_indices")
	errs := auto.mustGet(t, "recent_auto_follow_errors").vals
	var keys []string
	for _, e := range errs {
		wantKeys(t, "auto-follow error", e, []string{"leader_index", "timestamp", "auto_follow_exception"})
		wantKeys(t, "auto_follow_exception", e.mustGet(t, "auto_follow_exception"), []string{"type", "reason"})
		keys = append(keys, e.mustGet(t, "leader_index").str)
	}
	if want := []string{"auto-follow:metrics-2", "logs-pattern", "logs-pattern:logs-9"}; !slices.Equal(keys, want) {
		t.Errorf("recent_auto_follow_errors keys %v, want %v (sorted)", keys, want)
	}
	wantNumber(t, errs[0], float64(fc.now().Add(-time.Second).UnixMilli()), "timestamp")
	wantNumber(t, errs[1], float64(fc.now().UnixMilli()), "timestamp")
	if v := auto.mustGet(t, "auto_followed_clusters"); v.kind != "array" || len(v.vals) != 0 {
		t.Errorf("auto_followed_clusters %s", v.shape())
	}
}

func TestCCRFollowersAreIndices(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	leader, f := ccrPair(t, s, "8.19.2")
	addFollower(t, f, FollowerSpec{Index: "copy", Remote: "leader", LeaderIndex: "logs"})
	wantStatus(t, get(t, cl, f.URL()+"/copy"), 200)
	res := get(t, cl, f.URL()+"/_resolve/cluster/copy")
	wantStatus(t, res, 200)
	wantBool(t, parseOrdered(t, res.body), true, "(local)", "matching_indices")

	wantErrContains(t, f.AddFollower(FollowerSpec{Index: "copy", Remote: "leader", LeaderIndex: "x"}),
		"already exists", "AddFollower twice")
	wantErrContains(t, f.AddFollower(FollowerSpec{Index: "plain", Remote: "leader", LeaderIndex: "x"}),
		"already exists", "AddFollower over a regular index")
	wantErrContains(t, f.AddFollower(FollowerSpec{Index: "x", Remote: "nope", LeaderIndex: "x"}),
		`no link "nope"`, "AddFollower with an unknown alias")
	wantErrContains(t, f.AddFollower(FollowerSpec{Index: "x", Remote: "leader"}),
		"needs Index, Remote and LeaderIndex", "AddFollower without leader index")

	f.RemoveFollower("copy")
	wantStatus(t, get(t, cl, f.URL()+"/copy"), 404)
	wantStatus(t, get(t, cl, f.URL()+"/plain"), 200)
	if res := get(t, cl, f.URL()+"/_all/_ccr/info"); string(res.body) != `{"follower_indices":[]}` {
		t.Errorf("after RemoveFollower: %s", res.body)
	}

	// A follower must not be older than its leader.
	old := addCluster(t, s, ClusterSpec{Name: "old-follower", Version: "7.17.22", License: "trial"})
	addLink(t, old, LinkSpec{Alias: "newer", Remote: leader.Name()})
	wantErrContains(t, old.AddFollower(FollowerSpec{Index: "c", Remote: "newer", LeaderIndex: "logs"}),
		"must not be older than its leader", "AddFollower from a newer leader")
}
