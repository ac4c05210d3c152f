package collector

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Cross-cluster replication, seen from the follower (local) cluster: GET
// /_ccr/stats (auto-follow stats, and the follow stats of every shard
// follow task that runs) and GET /<indices>/_ccr/info (every follower
// index with its leader, remote and status, paused ones included: a
// paused follower has no shard task, so it is missing from the stats).
// A follower index belongs to the link whose alias is its remote_cluster.
// Metrics are per follower index, not per shard: shard values are summed
// (lag, counters) or maximised (time since the last read).

// CheckCCR is the name of the cross-cluster replication check.
const CheckCCR = "ccr"

// ccrInfoIndices is the index expression of GET /<indices>/_ccr/info that
// lists every follower index on 7.17, 8.x and 9.x: TransportFollowInfoAction
// resolves it with IndicesOptions.STRICT_EXPAND_OPEN_CLOSED, so "_all"
// expands to every open or closed index and skips those without CCR
// metadata; a cluster without follower indices answers
// {"follower_indices": []} (a concrete name that does not exist would be a
// 404).
const ccrInfoIndices = "_all"

// ccrUnlicensed is the reason of the 403 a cluster whose license does not
// include CCR answers (LicenseUtils.newComplianceException).
const ccrUnlicensed = "current license is non-compliant for [ccr]"

// Follower is one follower index of the cluster.
type Follower struct {
	Index, Remote, Leader string
	Status                string // "active" or "paused" (GET _ccr/info)
	// Stats: the follower's shard tasks run, so the values below are
	// known (an active follower whose tasks have not started yet, or a
	// paused one, has none).
	Stats bool
	// Lag is the operations the follower is behind, summed over shards
	// (leader_global_checkpoint - follower_global_checkpoint, which
	// Elasticsearch reports as total_global_checkpoint_lag where it can).
	Lag int64
	// SinceLastRead is the largest time_since_last_read_millis of its
	// shards, in seconds.
	SinceLastRead float64
	// Fatal: a shard task stopped on a fatal exception (FatalReason).
	Fatal                                 bool
	FatalReason                           string
	FailedReads, FailedWrites, OpsWritten float64
}

// CCRInfo is the last follower listing (GET /_all/_ccr/info), read on the
// slow schedule: which follower indices exist, their leader and remote,
// and whether they are paused.
type CCRInfo struct {
	CCRAbsence
	Followers []Follower
}

// CCRAbsence says why a cluster has no CCR to read, which is not a failure:
// Unlicensed, the license does not include it; NotInstalled, the node has
// no CCR at all (a distribution without x-pack answers 400 "no handler
// found for uri").
type CCRAbsence struct {
	Unlicensed, NotInstalled bool
}

// CCRFacts is what the CCR check learned.
type CCRFacts struct {
	CCRAbsence
	Followers []Follower // by index
	// Auto-follow counters and the latest auto-follow error.
	AutoFollowFailed, AutoFollowSucceeded, AutoFollowFailedRemoteState float64
	AutoFollowRecentErrors                                             int
	AutoFollowLatestError                                              string
}

// remotes lists, sorted and NUL-separated, the remotes that carry follower
// indices: all that link judgements take from the CCR facts.
func (c *CCRFacts) remotes() string {
	if c == nil {
		return ""
	}
	var rs []string
	for _, f := range c.Followers {
		rs = append(rs, f.Remote)
	}
	slices.Sort(rs)
	return strings.Join(slices.Compact(rs), "\x00")
}

// FollowersOf returns the follower indices of a link.
func (c *CCRFacts) FollowersOf(alias string) []Follower {
	if c == nil {
		return nil
	}
	var out []Follower
	for _, f := range c.Followers {
		if f.Remote == alias {
			out = append(out, f)
		}
	}
	return out
}

type ccrStatsBody struct {
	AutoFollow struct {
		Failed            float64 `json:"number_of_failed_follow_indices"`
		FailedRemoteState float64 `json:"number_of_failed_remote_cluster_state_requests"`
		Successful        float64 `json:"number_of_successful_follow_indices"`
		RecentErrors      []struct {
			LeaderIndex string `json:"leader_index"`
			Exception   struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"auto_follow_exception"`
		} `json:"recent_auto_follow_errors"`
	} `json:"auto_follow_stats"`
	Follow struct {
		Indices []struct {
			Index    string        `json:"index"`
			TotalLag *int64        `json:"total_global_checkpoint_lag"`
			Shards   []ccrShardDoc `json:"shards"`
		} `json:"indices"`
	} `json:"follow_stats"`
}

// ccrShardDoc is one shard follow task's status (ShardFollowNodeTaskStatus).
type ccrShardDoc struct {
	RemoteCluster     string  `json:"remote_cluster"`
	LeaderIndex       string  `json:"leader_index"`
	LeaderGCP         int64   `json:"leader_global_checkpoint"`
	FollowerGCP       int64   `json:"follower_global_checkpoint"`
	FailedReads       float64 `json:"failed_read_requests"`
	FailedWrites      float64 `json:"failed_write_requests"`
	OpsWritten        float64 `json:"operations_written"`
	SinceLastReadMsec float64 `json:"time_since_last_read_millis"`
	Fatal             *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"fatal_exception"`
}

type ccrInfoBody struct {
	FollowerIndices []struct {
		FollowerIndex string `json:"follower_index"`
		RemoteCluster string `json:"remote_cluster"`
		LeaderIndex   string `json:"leader_index"`
		Status        string `json:"status"`
	} `json:"follower_indices"`
}

// Both APIs are cluster actions (cluster:monitor/ccr/stats,
// cluster:monitor/ccr/follow_info: FollowInfoAction's request is no
// IndicesRequest), granted by the cluster privilege monitor.
var ccrForbiddenHint = "the exporter reads CCR with GET /_ccr/stats and GET /_all/_ccr/info, which need the cluster privilege monitor (or manage)"

// ccrInfo reads every follower index (GET /_all/_ccr/info).
func (c *Client) ccrInfo(ctx context.Context) (*CCRInfo, *CheckError) {
	var info ccrInfoBody
	if err := c.do(ctx, "GET /"+ccrInfoIndices+"/_ccr/info", esapi.CCRFollowInfoRequest{Index: []string{ccrInfoIndices}}, &info); err != nil {
		absent, cerr := ccrError(err)
		if cerr != nil {
			return nil, cerr
		}
		return &CCRInfo{CCRAbsence: absent}, nil
	}
	out := &CCRInfo{}
	seen := make(map[string]bool, len(info.FollowerIndices))
	for _, fi := range info.FollowerIndices {
		if fi.FollowerIndex == "" || seen[fi.FollowerIndex] {
			continue // a repeated entry keeps the first
		}
		seen[fi.FollowerIndex] = true
		out.Followers = append(out.Followers, Follower{Index: fi.FollowerIndex, Remote: fi.RemoteCluster, Leader: fi.LeaderIndex, Status: fi.Status})
	}
	slices.SortFunc(out.Followers, func(a, b Follower) int { return strings.Compare(a.Index, b.Index) })
	return out, nil
}

// ccrStats reads GET /_ccr/stats and joins it with the last follower
// listing: an index in the stats is active (its shard tasks run), one in
// the listing only is as the listing says (paused, or not started yet).
func (c *Client) ccrStats(ctx context.Context, info *CCRInfo) (*CCRFacts, *CheckError) {
	var st ccrStatsBody
	if err := c.do(ctx, "GET /_ccr/stats", esapi.CCRStatsRequest{}, &st); err != nil {
		absent, cerr := ccrError(err)
		if cerr != nil {
			return nil, cerr
		}
		return &CCRFacts{CCRAbsence: absent}, nil
	}
	out := &CCRFacts{AutoFollowFailed: st.AutoFollow.Failed, AutoFollowSucceeded: st.AutoFollow.Successful,
		AutoFollowFailedRemoteState: st.AutoFollow.FailedRemoteState, AutoFollowRecentErrors: len(st.AutoFollow.RecentErrors)}
	if n := len(st.AutoFollow.RecentErrors); n > 0 {
		e := st.AutoFollow.RecentErrors[n-1]
		out.AutoFollowLatestError = e.LeaderIndex + ": " + cmp.Or(e.Exception.Reason, e.Exception.Type)
	}
	byIndex := map[string]*Follower{}
	if info != nil {
		for _, f := range info.Followers {
			byIndex[f.Index] = &f
		}
	}
	for _, idx := range st.Follow.Indices {
		f := byIndex[idx.Index]
		if f == nil {
			// Followed since the last listing: its shards name the remote
			// and the leader.
			if len(idx.Shards) == 0 {
				continue
			}
			f = &Follower{Index: idx.Index, Remote: idx.Shards[0].RemoteCluster, Leader: idx.Shards[0].LeaderIndex}
			byIndex[idx.Index] = f
		}
		if f.Stats {
			continue // a repeated entry keeps the first
		}
		f.Stats, f.Status = true, "active"
		var lag int64
		for _, sh := range idx.Shards {
			lag += max(sh.LeaderGCP-sh.FollowerGCP, 0)
			f.SinceLastRead = max(f.SinceLastRead, sh.SinceLastReadMsec/1000)
			f.FailedReads += sh.FailedReads
			f.FailedWrites += sh.FailedWrites
			f.OpsWritten += sh.OpsWritten
			if sh.Fatal != nil {
				f.Fatal = true
				f.FatalReason = cmp.Or(f.FatalReason, cmp.Or(sh.Fatal.Reason, sh.Fatal.Type))
			}
		}
		if idx.TotalLag != nil {
			lag = *idx.TotalLag
		}
		f.Lag = lag
	}
	for _, k := range slices.Sorted(maps.Keys(byIndex)) {
		out.Followers = append(out.Followers, *byIndex[k])
	}
	return out, nil
}

// ccrError tells an answer that says the cluster has no CCR (not a
// failure) from a failure, to which it adds the privileges' hint.
func ccrError(err *CheckError) (CCRAbsence, *CheckError) {
	switch {
	case err.Status == http.StatusForbidden && strings.Contains(err.Msg, ccrUnlicensed):
		return CCRAbsence{Unlicensed: true}, nil
	case err.Status == http.StatusBadRequest && strings.Contains(err.Msg, "no handler found for uri"):
		// RestController's answer for a path no plugin registered.
		return CCRAbsence{NotInstalled: true}, nil
	}
	if err.Reason == ReasonForbidden {
		err.Hint = ccrForbiddenHint
	}
	return CCRAbsence{}, err
}

var (
	famCCRFollowerInfo = gauge("ccr", "follower_info",
		"A follower index of the cluster, value 1: the link (remote) it replicates through, its leader index and status (active or paused), from GET /<indices>/_ccr/info. Polled.",
		"es_cluster", "remote", "follower_index", "leader_index", "status")
	famCCRLag = gauge("ccr", "follower_lag_operations",
		"Operations the follower index is behind its leader, summed over shards (leader_global_checkpoint - follower_global_checkpoint, total_global_checkpoint_lag where Elasticsearch reports it), from GET /_ccr/stats; only while its shard tasks run. Polled.",
		"es_cluster", "remote", "follower_index")
	famCCRSinceRead = gauge("ccr", "follower_time_since_last_read_seconds",
		"The largest time since a shard of the follower index last read from its leader (time_since_last_read_millis from GET /_ccr/stats), in seconds. Polled.",
		"es_cluster", "remote", "follower_index")
	famCCRFatal = gauge("ccr", "follower_fatal_exception",
		"1 when a shard follow task of the follower index stopped on a fatal exception (fatal_exception in GET /_ccr/stats), else 0. Polled.",
		"es_cluster", "remote", "follower_index")
	famCCRFailedReads = counter("ccr", "follower_failed_read_requests_total",
		"Failed read requests of the follower index's shard tasks, summed over shards (GET /_ccr/stats); restarts with the tasks (pause/resume, node restart). Polled.",
		"es_cluster", "remote", "follower_index")
	famCCRFailedWrites = counter("ccr", "follower_failed_write_requests_total",
		"Failed bulk write requests of the follower index's shard tasks, summed over shards (GET /_ccr/stats); restarts with the tasks. Polled.",
		"es_cluster", "remote", "follower_index")
	famCCROpsWritten = counter("ccr", "follower_operations_written_total",
		"Operations written on the follower index by its shard tasks, summed over shards (GET /_ccr/stats); restarts with the tasks. Polled.",
		"es_cluster", "remote", "follower_index")
	famCCRAutoFailed = counter("ccr", "auto_follow_failed_follow_indices_total",
		"Indices auto-follow patterns failed to follow (number_of_failed_follow_indices from GET /_ccr/stats); restarts with the elected master. Polled.",
		clusterLabels...)
	famCCRAutoSucceeded = counter("ccr", "auto_follow_successful_follow_indices_total",
		"Indices auto-follow patterns followed (number_of_successful_follow_indices from GET /_ccr/stats); restarts with the elected master. Polled.",
		clusterLabels...)
	famCCRAutoFailedRemote = counter("ccr", "auto_follow_failed_remote_cluster_state_requests_total",
		"Failed reads of a remote's cluster state by auto-follow (number_of_failed_remote_cluster_state_requests from GET /_ccr/stats); restarts with the elected master. Polled.",
		clusterLabels...)
	famCCRAutoRecentErrors = gauge("ccr", "auto_follow_recent_errors",
		"Recent auto-follow errors Elasticsearch keeps (recent_auto_follow_errors from GET /_ccr/stats; the latest is logged). Polled.",
		clusterLabels...)
	famLinkCCRFollowers = gauge("link", "ccr_follower_indices",
		"Follower indices replicating through the link, by status (active, paused), from GET /<indices>/_ccr/info. Polled.",
		"es_cluster", "remote", "status")
)

// ccrStatuses are the follower statuses, in rendering order.
var ccrStatuses = []string{"active", "paused"}

// CheckCCRFollowers is the name of the GET /_all/_ccr/info check.
const CheckCCRFollowers = "ccr_followers"

// ccrFollowersCheck lists the follower indices every
// transport.probe_interval: they change rarely, and the every-poll stats
// show every follower that runs (a new one included). Only paused
// followers and those not started yet are known from this listing alone.
var ccrFollowersCheck = &check{
	name:     CheckCCRFollowers,
	schedule: slowListing,
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		var err *CheckError
		f.CCRInfo, err = p.client.ccrInfo(ctx)
		return err
	},
}

// ccrCheck reads the follow stats and auto-follow state every poll and
// joins them with the follower listing. A cluster whose license does not
// include CCR (or that has no CCR) is not failing: the check succeeds,
// says so once in the log, and renders nothing. A cluster without links
// has nothing to replicate from: no request.
var ccrCheck = &check{
	name:     CheckCCR,
	schedule: everyPoll,
	families: []*Family{famCCRFollowerInfo, famCCRLag, famCCRSinceRead, famCCRFatal, famCCRFailedReads, famCCRFailedWrites,
		famCCROpsWritten, famCCRAutoFailed, famCCRAutoSucceeded, famCCRAutoFailedRemote, famCCRAutoRecentErrors, famLinkCCRFollowers},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		if !f.linksKnown {
			return notAttempted("GET /_remote/info failed")
		}
		var err *CheckError
		if f.License != nil && !f.License.AllowsCCR() {
			// The license (GET /_xpack, every probe_interval) already says
			// the answer: no request on every poll for a 403.
			f.CCR = &CCRFacts{CCRAbsence: CCRAbsence{Unlicensed: true}}
		} else {
			f.CCR, err = p.client.ccrStats(ctx, f.CCRInfo)
		}
		if err != nil {
			return err
		}
		why := ""
		switch {
		case f.CCR.Unlicensed:
			why = "the cluster's license does not include it (" + ccrUnlicensed + ")"
		case f.CCR.NotInstalled:
			why = "the cluster has no cross-cluster replication (a distribution without x-pack)"
		}
		p.logChange("ccr:available", why,
			func() { p.logger.Info("cross-cluster replication is not monitored", "because", why) },
			func() { p.logger.Info("cross-cluster replication is available now and monitored") })
		p.logChange("ccr:auto_follow", f.CCR.AutoFollowLatestError,
			func() {
				p.logger.Warn("auto-follow failed", "latest_error", f.CCR.AutoFollowLatestError,
					"fix", "check the auto-follow pattern's remote cluster and that its user may read the leader indices (read_ccr on the remote); GET _ccr/stats lists recent_auto_follow_errors")
			}, nil)
		for _, fo := range f.CCR.Followers {
			p.logChange("ccr:fatal:"+fo.Index, fo.FatalReason,
				func() {
					p.logger.Warn("follower index stopped on a fatal exception", "follower_index", fo.Index, "remote", fo.Remote, "err", fo.FatalReason,
						"fix", "fix the cause, then POST /"+fo.Index+"/_ccr/pause_follow and POST /"+fo.Index+"/_ccr/resume_follow")
				},
				func() { p.logger.Info("follower index recovered from its fatal exception", "follower_index", fo.Index) })
		}
		return nil
	},
	// A cluster without links and without follower indices has nothing to
	// replicate from: no request, nothing to report.
	applies: func(_ *Poller, f *Facts) bool {
		return !f.linksKnown || len(f.Links) > 0 || (f.CCRInfo != nil && len(f.CCRInfo.Followers) > 0)
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		c := f.CCR
		if c == nil || c.Unlicensed || c.NotInstalled {
			return
		}
		out.add(famCCRAutoFailed, c.AutoFollowFailed, p.name)
		out.add(famCCRAutoSucceeded, c.AutoFollowSucceeded, p.name)
		out.add(famCCRAutoFailedRemote, c.AutoFollowFailedRemoteState, p.name)
		out.add(famCCRAutoRecentErrors, float64(c.AutoFollowRecentErrors), p.name)
		perLink := map[string]map[string]float64{}
		for _, fo := range c.Followers {
			out.add(famCCRFollowerInfo, 1, p.name, fo.Remote, fo.Index, fo.Leader, fo.Status)
			if perLink[fo.Remote] == nil {
				perLink[fo.Remote] = map[string]float64{}
			}
			perLink[fo.Remote][fo.Status]++
			if !fo.Stats {
				continue
			}
			out.add(famCCRLag, float64(fo.Lag), p.name, fo.Remote, fo.Index)
			out.add(famCCRSinceRead, fo.SinceLastRead, p.name, fo.Remote, fo.Index)
			out.add(famCCRFatal, boolFloat(fo.Fatal), p.name, fo.Remote, fo.Index)
			out.add(famCCRFailedReads, fo.FailedReads, p.name, fo.Remote, fo.Index)
			out.add(famCCRFailedWrites, fo.FailedWrites, p.name, fo.Remote, fo.Index)
			out.add(famCCROpsWritten, fo.OpsWritten, p.name, fo.Remote, fo.Index)
		}
		for _, remote := range slices.Sorted(maps.Keys(perLink)) {
			for _, st := range ccrStatuses {
				out.add(famLinkCCRFollowers, perLink[remote][st], p.name, remote, st)
			}
		}
	},
}
