package simulator

// Cross-cluster replication (CCR) on the follower cluster: follower
// indices with shard follow tasks, the auto-follow coordinator's counters,
// and the three read APIs a monitor uses. Sources (elastic/elasticsearch,
// x-pack/plugin/ccr and x-pack/plugin/core/.../ccr, read in their 7.x
// (7.13-7.17 era), 8.x and current forms; the shapes did not change
// between them except where a version is named):
//
//   - GET /_ccr/stats: RestCcrStatsAction, TransportCcrStatsAction (a
//     master node action; license check first in doExecute, i.e. after
//     authorization), CcrStatsAction.Response: {"auto_follow_stats": {..},
//     "follow_stats": {"indices": [..]}}. Action cluster:monitor/ccr/stats.
//   - GET /<index>/_ccr/stats: RestFollowStatsAction,
//     TransportFollowStatsAction, FollowStatsAction.StatsResponses:
//     {"indices": [..]}. Action cluster:monitor/ccr/follow_stats. Only
//     running ShardFollowNodeTasks are reported (paused followers have
//     none: elastic/elasticsearch#37127). Unless the expression is empty,
//     "_all" or "*" (Strings.isAllOrWildcard) the names are compared
//     literally with the follower index of every ShardFollowTask
//     persistent task — no wildcard expansion — and no match is 404
//     resource_not_found_exception "No shard follow tasks for follower
//     indices [<names joined by ,>]" (also in CcrIT
//     testFollowStatsApiResourceNotFound).
//   - GET /<index>/_ccr/info: RestFollowInfoAction (route GET
//     /{index}/_ccr/info only), TransportFollowInfoAction,
//     FollowInfoAction.Response. Action cluster:monitor/ccr/follow_info:
//     a CLUSTER action (its request is no IndicesRequest), so it needs the
//     cluster privilege monitor, no index privilege. The expression is
//     resolved with IndicesOptions.STRICT_EXPAND_OPEN_CLOSED: "_all" and
//     wildcards expand to every open or closed (not hidden) index, a
//     wildcard matching nothing is fine (allow_no_indices), a concrete
//     name that does not exist is 404 index_not_found_exception; indices
//     without CCR metadata are skipped. Hence GET /_all/_ccr/info answers
//     200 on 7.17, 8.x and 9.x, with "follower_indices": [] when there is
//     no follower. There is no license check in TransportFollowInfoAction:
//     it answers on a basic license too (followers created under an
//     earlier license are still listed). Read in the 7.x source; that 8.x
//     and 9.x still have no license check there is unverified.
//
// Per shard (ShardFollowNodeTaskStatus.toXContentFragment, field order):
// remote_cluster, leader_index, follower_index, shard_id,
// leader_global_checkpoint, leader_max_seq_no, follower_global_checkpoint,
// follower_max_seq_no, last_requested_seq_no, outstanding_read_requests,
// outstanding_write_requests, write_buffer_operation_count,
// write_buffer_size_in_bytes, follower_mapping_version,
// follower_settings_version, follower_aliases_version,
// total_read_time_millis, total_read_remote_exec_time_millis,
// successful_read_requests, failed_read_requests, operations_read,
// bytes_read, total_write_time_millis, successful_write_requests,
// failed_write_requests, operations_written, read_exceptions
// [{from_seq_no, retries, exception}], time_since_last_read_millis, and
// fatal_exception {type, reason, ...} only when the task stopped on a
// fatal error (ElasticsearchException.generateThrowableXContent). Per
// index: index, total_global_checkpoint_lag (the sum over shards of
// leader_global_checkpoint - follower_global_checkpoint; added by
// elastic/elasticsearch#104015, merged 2024-01; first released in 8.13,
// unverified: inferred from the merge date and the 8.13 docs; absent from
// the 7.x source), shards.
// Indices sorted by name, shards by id (TreeMaps in
// StatsResponses.toXContent). ?human (readable duplicates of the byte and
// time fields) is not modelled.
//
// auto_follow_stats (AutoFollowStats.toXContentFragment):
// number_of_failed_follow_indices,
// number_of_failed_remote_cluster_state_requests,
// number_of_successful_follow_indices, recent_auto_follow_errors
// [{leader_index, timestamp, auto_follow_exception}] (a TreeMap: sorted by
// key; the key, rendered as leader_index, is "<pattern>:<index>" for a
// failed follow and "<pattern>" for a failed remote cluster state request,
// AutoFollowCoordinator.updateStats), auto_followed_clusters (always []
// here: auto-follow patterns are not simulated).
//
// Licence: TransportCcrStatsAction and TransportFollowStatsAction answer
// LicenseUtils.newComplianceException("ccr") when CCR is not allowed
// (platinum, enterprise or trial, active): 403 security_exception "current
// license is non-compliant for [ccr]" with metadata
// es.license.expired.feature = ccr, rendered without the "es." prefix
// (ElasticsearchException.metadataToXContent) in the error and its root
// cause.
//
// Follower parameters (_ccr/info of an active follower) are the defaults
// of a follow request (the doc-tested example of the get follower info
// API, FollowParameters.toXContentFragment order).
//
// Simulation model (simplifications): lag only drains through Drain (a
// real healthy follower catches up within a read); a non-stalled follower
// reads at least once per read_poll_timeout (1m), so its
// time_since_last_read_millis stays below 60000; a stalled follower's
// reads hang: time_since_last_read_millis grows from the stall, one read
// fails per elapsed read_poll_timeout (the first at the stall) with a
// receive timeout in read_exceptions, and the leader checkpoints the task
// knows stay where they were at the stall (they come with read
// responses), so the reported lag does not grow while stalled. The stall
// model is unverified: ShardFollowNodeTask retries failed reads with a
// backoff up to max_retry_delay, and whether a retry resets the time
// since the last read was not checked; it stands for reads that hang.
// Read and write times and bytes are illustrative (unverified values).

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FollowerSpec describes a follower index on the local (follower) cluster.
type FollowerSpec struct {
	Index       string // follower index name
	Remote      string // the link alias on this cluster (remote_cluster)
	LeaderIndex string // the index on the remote (leader) cluster
	Shards      int    // number of shards (one follow task each); 0 = 1
}

// DefaultAutoFollowPattern is the auto-follow pattern name AddAutoFollowError
// records its failures under.
const DefaultAutoFollowPattern = "auto-follow"

// readPollTimeout is the default read_poll_timeout of a follower (1m).
const readPollTimeout = time.Minute

// ccrState is a cluster's CCR state (under Cluster.mu).
type ccrState struct {
	// followers are the follower indices; AddFollower adds each to
	// c.indices (it refuses an existing index) and RemoveFollower deletes
	// it again.
	followers map[string]*follower

	failedFollow, failedClusterState, successfulFollow int64
	recentErrors                                       map[string]autoFollowError

	// now is the clock (time.Now); tests replace it.
	now func() time.Time
}

type autoFollowError struct {
	at     time.Time
	typ    string
	reason string
}

type follower struct {
	spec    FollowerSpec
	paused  bool
	stalled bool
	shards  []*followShard
}

// followShard is one shard: the leader's real checkpoints and the state
// of its follow task (reset when the task is recreated by a resume).
type followShard struct {
	leaderGCP, leaderMaxSeq int64 // the leader shard's own
	knownGCP, knownMaxSeq   int64 // as last seen by the follow task
	followerGCP             int64
	followerMaxSeq          int64
	lastRequested           int64

	successfulReads, failedReads, opsRead, bytesRead int64
	readMillis, readRemoteMillis                     int64
	successfulWrites, opsWritten, writeMillis        int64

	lastRead   time.Time
	stallStart time.Time
	fatal      *esError
}

func (s *ccrState) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// ccrAllowedLocked is XPackLicenseState's check for the ccr feature
// (CcrLicenseChecker.isCcrAllowed). Callers hold c.mu.
func (c *Cluster) ccrAllowedLocked(now time.Time) bool {
	for _, f := range xpackFeatures {
		if f.name == "ccr" {
			return f.available(c.lic, now)
		}
	}
	return false
}

// indexNames is the cluster's index list. AddFollower and RemoveFollower
// replace the slice (never modify it), so callers may keep it.
func (c *Cluster) indexNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.indices
}

// AddFollower creates a follower index, as PUT /<index>/_ccr/follow does:
// it needs a license that allows CCR (platinum, enterprise or trial,
// active), a configured link named s.Remote, no existing index of that
// name, and — when the link's remote is a simulated cluster — a leader
// whose version is not newer than this cluster's (Elastic's CCR docs: the
// follower must run the same or a newer version than the leader). The
// index joins the cluster's indices; its follow tasks start with every
// checkpoint at -1 (no operations) and a read now.
func (c *Cluster) AddFollower(s FollowerSpec) error {
	if s.Index == "" || s.LeaderIndex == "" || s.Remote == "" {
		return errors.New("simulator: FollowerSpec needs Index, Remote and LeaderIndex")
	}
	if s.Shards < 0 {
		return fmt.Errorf("simulator: follower %q: Shards must not be negative", s.Index)
	}
	if s.Shards == 0 {
		s.Shards = 1
	}
	c.mu.Lock()
	remoteName := ""
	found := false
	for _, l := range c.links {
		if l.spec.Alias == s.Remote {
			found, remoteName = true, l.spec.Remote
		}
	}
	local := c.nodes[0].ver
	c.mu.Unlock()
	if !found {
		return fmt.Errorf("simulator: cluster %q has no link %q to follow %q from", c.name, s.Remote, s.LeaderIndex)
	}
	if rc := c.sim.Cluster(remoteName); rc != nil && remoteName != "" {
		if lv := rc.answeringVersion(); lv.v.Compare(local.v) > 0 {
			return fmt.Errorf("simulator: cluster %q (%s) cannot follow %q on %q (%s): a follower must not be older than its leader",
				c.name, local.str, s.LeaderIndex, remoteName, lv.str)
		}
		// The leader's license must allow CCR too: PUT _ccr/follow fails
		// with this text (x-pack/plugin/ccr/qa/non-compliant-license,
		// CcrMultiClusterLicenseIT, 8.x/9.x; CcrLicenseChecker). A follower
		// that existed before the leader was downgraded keeps following
		// (x-pack/plugin/ccr/qa/downgrade-to-basic-license), so this guards
		// only the start.
		rc.mu.Lock()
		allowed, mode := rc.ccrAllowedLocked(rc.ccr.clock()), strings.ToUpper(rc.lic.typ)
		rc.mu.Unlock()
		if !allowed {
			return fmt.Errorf("simulator: cluster %q: can not fetch remote index [%s:%s] metadata as the remote cluster [%s] is not licensed for [ccr]; "+
				"the license mode [%s] on cluster [%s] does not enable [ccr]", c.name, s.Remote, s.LeaderIndex, s.Remote, mode, s.Remote)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.ccr.clock()
	if !c.ccrAllowedLocked(now) {
		return fmt.Errorf("simulator: cluster %q: current license is non-compliant for [ccr] (license %q)", c.name, c.lic.typ)
	}
	if slices.Contains(c.indices, s.Index) {
		return fmt.Errorf("simulator: cluster %q: index [%s] already exists", c.name, s.Index)
	}
	if c.ccr.followers == nil {
		c.ccr.followers = map[string]*follower{}
	}
	f := &follower{spec: s}
	for range s.Shards {
		sh := &followShard{leaderGCP: -1, leaderMaxSeq: -1, followerGCP: -1, followerMaxSeq: -1}
		sh.startTask(now)
		f.shards = append(f.shards, sh)
	}
	c.ccr.followers[s.Index] = f
	c.indices = append(slices.Clone(c.indices), s.Index)
	return nil
}

// startTask (re)creates the shard follow task: fresh counters, known
// leader checkpoints from a first read now.
func (sh *followShard) startTask(now time.Time) {
	*sh = followShard{leaderGCP: sh.leaderGCP, leaderMaxSeq: sh.leaderMaxSeq,
		followerGCP: sh.followerGCP, followerMaxSeq: sh.followerMaxSeq}
	sh.knownGCP, sh.knownMaxSeq = sh.leaderGCP, sh.leaderMaxSeq
	sh.lastRequested = sh.followerGCP
	sh.successfulReads = 1
	sh.readMillis, sh.readRemoteMillis = 5, 2
	sh.lastRead = now
}

// RemoveFollower deletes the follower index (and its tasks); no-op when
// absent.
func (c *Cluster) RemoveFollower(index string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ccr.followers[index]; !ok {
		return
	}
	delete(c.ccr.followers, index)
	c.indices = slices.DeleteFunc(slices.Clone(c.indices), func(s string) bool { return s == index })
}

func (c *Cluster) followerLocked(index string) (*follower, error) {
	f, ok := c.ccr.followers[index]
	if !ok {
		return nil, fmt.Errorf("simulator: cluster %q has no follower index %q", c.name, index)
	}
	return f, nil
}

// AdvanceLeader indexes ops operations into the leader of the follower
// index: every leader shard's global checkpoint and max seq no grow by its
// share (ops spread evenly, the remainder on the lowest shard ids). The
// follower learns of it with its next read (at once unless stalled,
// paused or stopped) but only catches up with Drain. Unknown index: no-op.
func (c *Cluster) AdvanceLeader(index string, ops int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.followerLocked(index)
	if err != nil || ops <= 0 {
		return
	}
	n := int64(len(f.shards))
	for i, sh := range f.shards {
		share := ops / n
		if int64(i) < ops%n {
			share++
		}
		sh.leaderGCP += share
		sh.leaderMaxSeq += share
		if !f.stalled && sh.fatal == nil {
			sh.knownGCP, sh.knownMaxSeq = sh.leaderGCP, sh.leaderMaxSeq
		}
	}
}

// Drain lets the follower catch up: every running shard task that is not
// stalled reads and writes what it lags behind, a read happening now.
// Paused followers, stalled ones and shards stopped on a fatal exception
// do not read.
func (c *Cluster) Drain(index string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.followerLocked(index)
	if err != nil || f.paused || f.stalled {
		return
	}
	now := c.ccr.clock()
	for _, sh := range f.shards {
		if sh.fatal != nil {
			continue
		}
		sh.knownGCP, sh.knownMaxSeq = sh.leaderGCP, sh.leaderMaxSeq
		lag := sh.leaderMaxSeq - sh.followerMaxSeq
		sh.successfulReads++
		sh.readMillis += 5
		sh.readRemoteMillis += 2
		sh.lastRead = now
		if lag > 0 {
			sh.opsRead += lag
			sh.bytesRead += lag * 128
			sh.opsWritten += lag
			sh.successfulWrites++
			sh.writeMillis += 3
		}
		sh.followerGCP, sh.followerMaxSeq = sh.leaderGCP, sh.leaderMaxSeq
		sh.lastRequested = sh.followerGCP
	}
}

// PauseFollower stops the follower's shard tasks (POST
// /<index>/_ccr/pause_follow): it leaves the follow stats and shows as
// "paused" in _ccr/info.
func (c *Cluster) PauseFollower(index string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.followerLocked(index)
	if err != nil {
		return err
	}
	if f.paused {
		return fmt.Errorf("simulator: follower %q is already paused", index)
	}
	f.paused = true
	return nil
}

// ResumeFollower starts new shard tasks (POST /<index>/_ccr/resume_follow):
// counters restart, a fatal exception is gone, the stall ends.
func (c *Cluster) ResumeFollower(index string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.followerLocked(index)
	if err != nil {
		return err
	}
	if !f.paused {
		return fmt.Errorf("simulator: follower %q is not paused", index)
	}
	if !c.ccrAllowedLocked(c.ccr.clock()) {
		return fmt.Errorf("simulator: cluster %q: current license is non-compliant for [ccr]", c.name)
	}
	f.paused, f.stalled = false, false
	now := c.ccr.clock()
	for _, sh := range f.shards {
		sh.startTask(now)
	}
	return nil
}

// SetFollowerFatal stops the shard's follow task on a fatal exception: its
// follow stats gain "fatal_exception" {"type": "exception", "reason":
// reason} (an ElasticsearchException with that message; see
// SetFollowerFatalException for another type). The follower stays
// "active" in _ccr/info: its persistent task still exists. Unknown index
// or shard: no-op.
func (c *Cluster) SetFollowerFatal(index string, shard int, reason string) {
	c.SetFollowerFatalException(index, shard, "exception", reason)
}

// SetFollowerFatalException is SetFollowerFatal with the exception's type
// as Elasticsearch renders it (e.g. "index_not_found_exception").
func (c *Cluster) SetFollowerFatalException(index string, shard int, typ, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.followerLocked(index)
	if err != nil || shard < 0 || shard >= len(f.shards) {
		return
	}
	f.shards[shard].fatal = &esError{typ: typ, reason: reason}
}

// StallFollower makes the follower's reads hang (stalled) or work again.
// While stalled no read completes: time_since_last_read_millis grows, one
// read fails per read_poll_timeout, and the leader checkpoints the tasks
// report stay those known at the stall (the leader may still advance).
func (c *Cluster) StallFollower(index string, stalled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.followerLocked(index)
	if err != nil || f.stalled == stalled {
		return
	}
	now := c.ccr.clock()
	for _, sh := range f.shards {
		if stalled {
			sh.successfulReads += int64(now.Sub(sh.lastRead) / readPollTimeout)
			sh.lastRead = sh.readTime(now, false)
			sh.stallStart = now
			continue
		}
		sh.failedReads += stalledFailures(now.Sub(sh.stallStart))
		sh.lastRead = now
		sh.successfulReads++
		sh.knownGCP, sh.knownMaxSeq = sh.leaderGCP, sh.leaderMaxSeq
	}
	f.stalled = stalled
}

// stalledFailures is the number of reads failed after a stall of d: one
// at the stall, then one per read_poll_timeout.
func stalledFailures(d time.Duration) int64 { return int64(d/readPollTimeout) + 1 }

// readTime is the time of the shard task's last read at now: a working
// task long-polls the leader, so it reads at least once per
// read_poll_timeout.
func (sh *followShard) readTime(now time.Time, stalled bool) time.Time {
	if stalled || sh.fatal != nil {
		return sh.lastRead
	}
	if d := now.Sub(sh.lastRead); d >= readPollTimeout {
		return sh.lastRead.Add(d / readPollTimeout * readPollTimeout)
	}
	return sh.lastRead
}

// AddAutoFollowError records that the auto-follow coordinator failed to
// follow leaderIndex under DefaultAutoFollowPattern
// (number_of_failed_follow_indices++, a recent_auto_follow_errors entry
// "<pattern>:<leaderIndex>" with an exception of type "exception" carrying
// reason).
func (c *Cluster) AddAutoFollowError(leaderIndex, reason string) {
	c.AddAutoFollowPatternError(DefaultAutoFollowPattern, leaderIndex, reason)
}

// AddAutoFollowPatternError is AddAutoFollowError for a named pattern.
func (c *Cluster) AddAutoFollowPatternError(pattern, leaderIndex, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ccr.failedFollow++
	c.ccr.putError(pattern+":"+leaderIndex, reason)
}

// AddAutoFollowClusterStateError records a failed remote cluster state
// request of an auto-follow pattern
// (number_of_failed_remote_cluster_state_requests++, an entry keyed by the
// pattern name; AutoFollowCoordinator wraps the cause in an
// ElasticsearchException, whose reason is the cause's toString()).
func (c *Cluster) AddAutoFollowClusterStateError(pattern, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ccr.failedClusterState++
	c.ccr.putError(pattern, reason)
}

func (s *ccrState) putError(key, reason string) {
	if s.recentErrors == nil {
		s.recentErrors = map[string]autoFollowError{}
	}
	s.recentErrors[key] = autoFollowError{at: s.clock(), typ: "exception", reason: reason}
}

// AutoFollowSucceeded counts n indices the auto-follow coordinator
// followed (number_of_successful_follow_indices).
func (c *Cluster) AutoFollowSucceeded(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ccr.successfulFollow += int64(n)
}

// complianceException is LicenseUtils.newComplianceException(feature).
func complianceException(feature string) esError {
	e := securityException(http.StatusForbidden, "current license is non-compliant for ["+feature+"]")
	e.meta = obj{}.set("license.expired.feature", feature)
	return e
}

// ccrParams are the query parameters the CCR REST handlers consume. The
// 7.x handlers consume none (RestCcrStatsAction, RestFollowStatsAction
// and RestFollowInfoAction read only the path), so e.g. ?master_timeout
// is a 400 there. master_timeout: RestCcrStatsAction and
// RestFollowInfoAction from elastic/elasticsearch#105168 (opened
// 2024-02-05; 8.13 inferred, unverified). timeout: GET /_ccr/stats from
// 8.14 (NOTES.md: transport gate in CcrStatsAction) and GET
// /<index>/_ccr/stats (in the API specification; the 8.14 boundary there
// is unverified).
func ccrParams(ver esVersion, masterTimeout, timeout bool) []string {
	var out []string
	if masterTimeout && ver.atLeast(8, 13) {
		out = append(out, "master_timeout")
	}
	if timeout && ver.atLeast(8, 14) {
		out = append(out, "timeout")
	}
	return out
}

// ccrStatsAction is GET /_ccr/stats.
func (c *Cluster) ccrStatsAction(r *http.Request, ver esVersion) response {
	if _, deny := c.begin(r, ver, ccrParams(ver, true, true), clusterAction("cluster:monitor/ccr/stats")); deny != nil {
		return *deny
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.ccr.clock()
	if !c.ccrAllowedLocked(now) {
		return errorResponse(ver, r, complianceException("ccr"))
	}
	errs := []any{}
	for _, k := range slices.Sorted(maps.Keys(c.ccr.recentErrors)) {
		e := c.ccr.recentErrors[k]
		errs = append(errs, obj{}.set("leader_index", k).set("timestamp", e.at.UnixMilli()).
			set("auto_follow_exception", obj{}.set("type", e.typ).set("reason", e.reason)))
	}
	auto := obj{}.set("number_of_failed_follow_indices", c.ccr.failedFollow).
		set("number_of_failed_remote_cluster_state_requests", c.ccr.failedClusterState).
		set("number_of_successful_follow_indices", c.ccr.successfulFollow).
		set("recent_auto_follow_errors", errs).
		set("auto_followed_clusters", []any{})
	body := obj{}.set("auto_follow_stats", auto).
		set("follow_stats", obj{}.set("indices", c.followStatsLocked(ver, now, nil)))
	return jsonResponse(ver, r, http.StatusOK, body)
}

// followStatsAction is GET /<expr>/_ccr/stats.
func (c *Cluster) followStatsAction(r *http.Request, ver esVersion, expr string) response {
	if _, deny := c.begin(r, ver, ccrParams(ver, false, true), clusterAction("cluster:monitor/ccr/follow_stats")); deny != nil {
		return *deny
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.ccr.clock()
	if !c.ccrAllowedLocked(now) {
		return errorResponse(ver, r, complianceException("ccr"))
	}
	names := splitIndexExpr(expr)
	var only map[string]bool
	if !(len(names) == 0 || len(names) == 1 && (names[0] == "_all" || names[0] == "*")) {
		only = map[string]bool{}
		for _, n := range names {
			if f, ok := c.ccr.followers[n]; ok && !f.paused {
				only[n] = true
			}
		}
		if len(only) == 0 {
			return errorResponse(ver, r, esError{status: http.StatusNotFound, typ: "resource_not_found_exception",
				reason: "No shard follow tasks for follower indices [" + strings.Join(names, ",") + "]"})
		}
	}
	return jsonResponse(ver, r, http.StatusOK, obj{}.set("indices", c.followStatsLocked(ver, now, only)))
}

// splitIndexExpr is Strings.splitStringByCommaToArray: empty tokens dropped.
func splitIndexExpr(expr string) []string {
	return slices.DeleteFunc(strings.Split(expr, ","), func(s string) bool { return s == "" })
}

// followStatsLocked renders the running shard follow tasks, of the indices
// in only (nil = all), sorted by index then shard.
func (c *Cluster) followStatsLocked(ver esVersion, now time.Time, only map[string]bool) []any {
	out := []any{}
	for _, name := range slices.Sorted(maps.Keys(c.ccr.followers)) {
		f := c.ccr.followers[name]
		if f.paused || (only != nil && !only[name]) {
			continue
		}
		var lag int64
		shards := []any{}
		for i, sh := range f.shards {
			lag += sh.knownGCP - sh.followerGCP
			shards = append(shards, sh.status(f, i, now))
		}
		entry := obj{}.set("index", name)
		if ver.atLeast(8, 13) {
			entry = entry.set("total_global_checkpoint_lag", lag)
		}
		out = append(out, entry.set("shards", shards))
	}
	return out
}

// status is ShardFollowNodeTaskStatus.toXContentFragment.
func (sh *followShard) status(f *follower, id int, now time.Time) obj {
	failed := sh.failedReads
	readExceptions := []any{}
	// Illustrative (unverified): one outstanding long-polling read, an
	// empty write buffer, mapping/settings/aliases versions of 1.
	outstanding := 1
	if sh.fatal != nil {
		outstanding = 0
	}
	last := sh.readTime(now, f.stalled)
	if f.stalled && sh.fatal == nil {
		n := stalledFailures(now.Sub(sh.stallStart))
		failed += n
		// unverified: the exception a hung read fails with.
		readExceptions = append(readExceptions, obj{}.set("from_seq_no", sh.followerGCP+1).set("retries", n).
			set("exception", obj{}.set("type", "receive_timeout_transport_exception").
				set("reason", "["+f.spec.Remote+"][indices:data/read/xpack/ccr/shard_changes] request_id ["+strconv.FormatInt(n, 10)+
					"] timed out after [60000ms]")))
	}
	o := obj{}.set("remote_cluster", f.spec.Remote).
		set("leader_index", f.spec.LeaderIndex).
		set("follower_index", f.spec.Index).
		set("shard_id", id).
		set("leader_global_checkpoint", sh.knownGCP).
		set("leader_max_seq_no", sh.knownMaxSeq).
		set("follower_global_checkpoint", sh.followerGCP).
		set("follower_max_seq_no", sh.followerMaxSeq).
		set("last_requested_seq_no", sh.lastRequested).
		set("outstanding_read_requests", outstanding).
		set("outstanding_write_requests", 0).
		set("write_buffer_operation_count", 0).
		set("write_buffer_size_in_bytes", 0).
		set("follower_mapping_version", 1).
		set("follower_settings_version", 1).
		set("follower_aliases_version", 1).
		set("total_read_time_millis", sh.readMillis).
		set("total_read_remote_exec_time_millis", sh.readRemoteMillis).
		set("successful_read_requests", sh.successfulReads+int64(now.Sub(sh.lastRead)/readPollTimeout)*boolInt(!f.stalled && sh.fatal == nil)).
		set("failed_read_requests", failed).
		set("operations_read", sh.opsRead).
		set("bytes_read", sh.bytesRead).
		set("total_write_time_millis", sh.writeMillis).
		set("successful_write_requests", sh.successfulWrites).
		set("failed_write_requests", 0).
		set("operations_written", sh.opsWritten).
		set("read_exceptions", readExceptions).
		set("time_since_last_read_millis", now.Sub(last).Milliseconds())
	if sh.fatal != nil {
		o = o.set("fatal_exception", sh.fatal.fields())
	}
	return o
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// followParameters are the defaults an active follower reports
// (FollowParameters.toXContentFragment order, values of the doc-tested
// get follower info example).
func followParameters() obj {
	return obj{}.set("max_read_request_operation_count", 5120).
		set("max_read_request_size", "32mb").
		set("max_outstanding_read_requests", 12).
		set("max_write_request_operation_count", 5120).
		set("max_write_request_size", "9223372036854775807b").
		set("max_outstanding_write_requests", 9).
		set("max_write_buffer_count", 2147483647).
		set("max_write_buffer_size", "512mb").
		set("max_retry_delay", "500ms").
		set("read_poll_timeout", "1m")
}

// followInfoAction is GET /<expr>/_ccr/info (see the top of this file for
// the expression rules). Concrete names keep their order; wildcard
// expansions come sorted (the metadata's sorted index lookup); duplicates
// once (unverified ordering details). Exclusions ("-x") are not modelled.
func (c *Cluster) followInfoAction(r *http.Request, ver esVersion, expr string) response {
	if _, deny := c.begin(r, ver, ccrParams(ver, true, false), clusterAction("cluster:monitor/ccr/follow_info")); deny != nil {
		return *deny
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	names := splitIndexExpr(expr)
	if len(names) == 0 {
		names = []string{"_all"}
	}
	var concrete []string
	add := func(n string) {
		if !slices.Contains(concrete, n) {
			concrete = append(concrete, n)
		}
	}
	all := slices.Sorted(slices.Values(c.indices))
	for _, n := range names {
		switch {
		case n == "_all" && len(names) == 1, strings.Contains(n, "*"):
			for _, idx := range all {
				if n == "_all" || simpleMatch(n, idx) {
					add(idx)
				}
			}
		case slices.Contains(c.indices, n):
			add(n)
		default:
			return errorResponse(ver, r, indexNotFound(n))
		}
	}
	infos := []any{}
	for _, n := range concrete {
		f, ok := c.ccr.followers[n]
		if !ok {
			continue
		}
		o := obj{}.set("follower_index", n).set("remote_cluster", f.spec.Remote).
			set("leader_index", f.spec.LeaderIndex)
		if f.paused {
			o = o.set("status", "paused")
		} else {
			o = o.set("status", "active").set("parameters", followParameters())
		}
		infos = append(infos, o)
	}
	return jsonResponse(ver, r, http.StatusOK, obj{}.set("follower_indices", infos))
}
