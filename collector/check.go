package collector

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// A check is one kind of observation of a cluster, kept in one file: its
// name, schedule, requests and response types, the families it owns and the
// code that renders them. The poller runs the registered checks in order
// (Poll); a check reads the facts earlier checks of the same poll left in
// Facts and leaves its own. Judgement stays in the pure packages
// (internal/compat, internal/trust, internal/rolecheck).
//
// Adding a check: a new file with a `var xxxCheck = &check{...}` and its
// families, one line in checks below, a README row per family, the golden
// file (go test ./cmd/es_remote_exporter -run TestGoldenMetrics -update),
// and the simulator's support for its requests.
type check struct {
	// name is the check label of es_remote_exporter_check_* and the key of
	// the failure bookkeeping; "" for a judgement that makes no request of
	// its own and so cannot fail.
	name     string
	schedule schedule
	// families are the families the check renders; each family belongs to
	// exactly one check, and render adds only to these.
	families []*Family
	// applies says whether the check runs for this cluster in this poll
	// (nil: always). A check that does not apply is not a failure.
	applies func(p *Poller, f *Facts) bool
	// selfTimed: run bounds its requests itself (several requests with
	// their own timeouts); otherwise run's context carries the configured
	// per-request timeout.
	selfTimed bool
	// run does the check's I/O and judgement and records its facts in f.
	// nil for a check that only renders (facts gathered by others).
	run func(ctx context.Context, p *Poller, f *Facts) *CheckError
	// render adds the check's samples. Checks on a slow schedule render
	// when they run, and the text stands until they run again.
	render func(p *Poller, f *Facts, out *renderer)
	// renderedFrom, when set, returns everything render reads besides
	// p.name, as a comparable value: a poll whose value equals the last
	// poll's keeps the last text of the check's families instead of
	// rendering them again. It must compare the facts themselves or hold
	// pointers to them (an answer's slice, which answerMemo shares between
	// polls while the answer stays the same), never addresses as numbers:
	// a held pointer keeps its target alive, so equal means the same.
	renderedFrom func(p *Poller, f *Facts) any
}

// schedule says when a check runs.
type schedule int

const (
	// everyPoll: every poll_interval.
	everyPoll schedule = iota
	// slowListing: reads that change rarely (certificates, node and cluster
	// settings, roles) run every transport.probe_interval (every poll when
	// it is 0); their facts, results and rendered series are replayed in
	// the polls between.
	slowListing
	// slowRound: the transport probes and the judgements over other
	// clusters' views run every transport.probe_interval, and also as soon
	// as a link's remote changes or a judgement waited for a remote's first
	// poll; only in polls where GET /_remote/info succeeded, since without
	// the links a round would judge none and the next success would run
	// another (a flapping _remote/info must not become a probe storm).
	slowRound
	schedules
)

// checks are the registered checks, in the order a poll runs them.
var checks = []*check{
	identityCheck,
	nodesCheck,
	sslCertificatesCheck,
	prerequisitesCheck,
	clusterSettingsCheck,
	rolesCheck,
	apiKeysCheck,
	ccrFollowersCheck,
	remoteInfoCheck,
	resolveClusterCheck,
	ccrCheck,
	compatibilityCheck,
	transportProbeCheck,
	trustCheck,
	roleFitCheck,
	checkOutcomes,
}

// scheduleFamilies are the families each schedule's checks render.
var scheduleFamilies [schedules][]*Family

func init() {
	for _, c := range checks {
		for _, f := range c.families {
			if f.owner != "" {
				panic(fmt.Sprintf("collector: metric %q is rendered by both %q and %q", f.Name, f.owner, c.label()))
			}
			f.owner = c.label()
			f.schedule, f.local = c.schedule, len(scheduleFamilies[c.schedule])
			scheduleFamilies[c.schedule] = append(scheduleFamilies[c.schedule], f)
		}
	}
	if err := validateFamilies(families); err != nil {
		panic(err)
	}
	familyOrder = make([]int, len(families))
	for i := range familyOrder {
		familyOrder[i] = i
	}
	slices.SortFunc(familyOrder, func(a, b int) int { return strings.Compare(families[a].Name, families[b].Name) })
}

// CheckNames are the check label's values, in the order a poll runs them
// (identity after nodes when it is not due first: identityDue).
func CheckNames() []string {
	var names []string
	for _, c := range checks {
		if c.name != "" {
			names = append(names, c.name)
		}
	}
	return names
}

func (c *check) label() string {
	if c.name != "" {
		return c.name
	}
	return fmt.Sprintf("judgement owning %s", c.families[0].Name)
}

// CheckResult is the outcome of one check in one poll.
type CheckResult struct {
	Check    string
	Duration time.Duration
	Err      *CheckError // nil on success
}

// Poll runs the cluster's checks once and returns what it saw. Every request
// is bounded by the configured timeout; ctx cancels the whole poll.
func (p *Poller) Poll(ctx context.Context) (*Facts, *Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fleet != nil {
		defer p.fleet.MarkPolled(p.name)
	}
	f := &Facts{Checks: make([]CheckResult, 0, len(checks))}
	var ran [schedules]bool
	listingDue := p.due(p.lastListing) || p.lastSlowChecks == nil
	roundDecided, roundDue := false, false
	// GET / is asked first only when its answer may have changed
	// (identityDue); otherwise the nodes check's answer says the cluster is
	// up, and GET / is asked after it only if it failed or saw other
	// versions (settleIdentity).
	identityFirst := p.identityDue()
	for _, c := range checks {
		if c.run == nil || (c.applies != nil && !c.applies(p, f)) {
			continue
		}
		if c == identityCheck && !identityFirst {
			continue
		}
		if !f.Up() && c != identityCheck && (c != nodesCheck || identityFirst) {
			// GET / failed: the cluster is down or we are locked out, and
			// the other checks would fail the same way, each after its
			// timeout.
			if c.name != "" {
				p.unavailable(f, c.name, "GET / failed")
			}
			continue
		}
		switch c.schedule {
		case slowListing:
			if !listingDue {
				if !ran[slowListing] {
					p.replayListings(f)
					ran[slowListing] = true // replayed: the texts stand
				}
				continue
			}
			if !ran[slowListing] {
				p.lastSlowChecks = p.lastSlowChecks[:0]
			}
		case slowRound:
			if !roundDecided {
				roundDecided, roundDue = true, p.roundDue(f)
			}
			if !roundDue {
				continue
			}
		}
		ran[c.schedule] = true
		res := p.runCheck(ctx, c, f)
		switch {
		case c == identityCheck:
			p.identityResult = res
		case c == nodesCheck:
			p.settleIdentity(ctx, f, identityFirst)
		case c.schedule == slowListing && c.name != "":
			p.lastSlowChecks = append(p.lastSlowChecks, res)
		}
	}
	p.lastUp = f.Up()
	if ran[slowListing] && listingDue {
		p.lastSlow = f.SlowFacts
		p.lastListing = p.now()
		p.slowText = renderSchedule(slowListing, checks, p, f, p.slowText)
	}
	if roundDue {
		p.roundText = renderSchedule(slowRound, checks, p, f, p.roundText)
		p.trustTargets, p.lastRound = linkTargets(f.Analyses), f.round.at
		// A monitored remote that has not been polled yet (at start-up) has
		// no view to judge against: run the round again next poll rather
		// than report unknown for a whole probe interval.
		p.retrySlow = f.Pending
	}
	return f, p.snapshot(f)
}

// runCheck runs one check and records its outcome, which it returns (none
// for a check without a name).
func (p *Poller) runCheck(ctx context.Context, c *check, f *Facts) CheckResult {
	rctx := ctx
	if !c.selfTimed && c.name != "" { // a check without a name makes no request
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	start := time.Now()
	err := c.run(rctx, p, f)
	if c.name == "" {
		return CheckResult{}
	}
	p.record(f, c.name, time.Since(start), err)
	return f.Checks[len(f.Checks)-1]
}

// replayListings puts the last slow listing's facts and results into a poll
// that does not run them. A replayed failure is a poll in which the check
// failed: counted, so that failure-rate alerts see a slow check fail as
// steadily as a fast one (logged once, when it happened).
func (p *Poller) replayListings(f *Facts) {
	f.SlowFacts = p.lastSlow
	f.Checks = append(f.Checks, p.lastSlowChecks...)
	for _, c := range p.lastSlowChecks {
		if c.Err != nil {
			p.failures[c.Check][c.Err.Reason]++
		}
	}
}

// roundDue reports whether this poll runs a slow round: it is due, or the
// links' remotes changed, or the last round waited for a remote.
func (p *Poller) roundDue(f *Facts) bool {
	if !f.linksKnown {
		return false
	}
	return p.due(p.lastRound) || p.retrySlow || !sameTargets(f.Analyses, p.trustTargets)
}

// sameTargets reports whether the analyses map each link to the monitored
// cluster targets does (linkTargets, without building the map every poll).
func sameTargets(as []LinkAnalysis, targets map[string]string) bool {
	if len(as) != len(targets) {
		return false
	}
	for _, a := range as {
		if t, ok := targets[a.Alias]; !ok || t != a.Target {
			return false
		}
	}
	return true
}

// due reports whether slow checks last run at last are due again.
func (p *Poller) due(last time.Time) bool {
	return p.probeInterval <= 0 || last.IsZero() || p.now().Sub(last) >= p.probeInterval
}

// renderSchedule renders the families of the checks (of cs, the registered
// checks but in tests) on one schedule, once per run of that schedule;
// snapshots share the text read-only, and a family whose lines did not
// change since prev (the schedule's last render) keeps its text.
func renderSchedule(s schedule, cs []*check, p *Poller, f *Facts, prev [][]byte) [][]byte {
	r := newRenderer(p.name)
	for _, c := range cs {
		if c.schedule != s || c.render == nil {
			continue
		}
		if c.renderedFrom != nil {
			from := c.renderedFrom(p, f)
			if last, ok := p.renderedFrom[c]; ok && prev != nil && last == from {
				r.keep(c.families)
				continue
			}
			p.renderedFrom[c] = from
		}
		c.render(p, f, r)
	}
	return r.renderReusing(s, prev)
}

// snapshot renders this poll's every-poll families and adds the standing
// text of the slow schedules (none while the cluster does not answer: its
// links are not known then either).
func (p *Poller) snapshot(f *Facts) *Snapshot {
	p.pollText = renderSchedule(everyPoll, checks, p, f, p.pollText)
	snap := &Snapshot{Cluster: p.name}
	snap.layers[everyPoll] = p.pollText
	if f.Up() {
		snap.layers[slowListing], snap.layers[slowRound] = p.slowText, p.roundText
	}
	return snap
}

func (p *Poller) unavailable(f *Facts, check, because string) {
	p.record(f, check, 0, notAttempted(because))
}

// notAttempted is the failure of a check whose request was not sent
// because an earlier check of the same poll failed.
func notAttempted(because string) *CheckError {
	return &CheckError{Reason: ReasonUnavailable, Msg: "not attempted: " + because}
}

// record keeps the check's outcome and logs it when its problem changes.
func (p *Poller) record(f *Facts, check string, d time.Duration, err *CheckError) {
	f.Checks = append(f.Checks, CheckResult{Check: check, Duration: d, Err: err})
	if p.logger.Enabled(context.Background(), slog.LevelDebug) {
		if err == nil {
			p.logger.Debug("check done", "check", check, "duration", d)
		} else {
			p.logger.Debug("check done", "check", check, "duration", d, "reason", err.Reason, "err", err.Msg)
		}
	}
	if err == nil {
		p.lastSuccess[check] = p.now()
		p.logChange(check, "", nil, func() { p.logger.Info("check recovered", "check", check) })
		return
	}
	byReason := p.failures[check]
	if byReason == nil {
		byReason = map[Reason]float64{}
		p.failures[check] = byReason
	}
	byReason[err.Reason]++
	if err.Reason == ReasonUnavailable {
		return // the failing check that caused it has logged already
	}
	p.logChange(check, string(err.Reason)+"\x00"+err.Msg, func() {
		attrs := []any{"check", check, "reason", err.Reason, "err", err.Msg}
		if err.Status != 0 {
			attrs = append(attrs, "status", err.Status)
		}
		if err.Hint != "" {
			attrs = append(attrs, "fix", err.Hint)
		}
		p.logger.Warn("check failed", attrs...)
	}, nil)
}

// logChange is the one rule for logging problems: once per change, not once
// per poll. A key (a check, a link's trust direction, a node's listing, ...)
// that stays broken logs when it breaks or breaks differently (appeared),
// and once when it recovers (resolved); problem "" means none. Either
// callback may be nil.
func (p *Poller) logChange(key, problem string, appeared, resolved func()) {
	prev := p.lastProblem[key]
	switch {
	case problem == prev:
	case problem == "":
		delete(p.lastProblem, key)
		if resolved != nil {
			resolved()
		}
	default:
		p.lastProblem[key] = problem
		if appeared != nil {
			appeared()
		}
	}
}

// The outcome of every check that ran (or was replayed) in the poll.
var (
	famCheckSuccess = gauge("exporter", "check_success",
		"1 when the check's request succeeded in the last poll, else 0. Polled.",
		"es_cluster", "check")
	famCheckDuration = gauge("exporter", "check_duration_seconds",
		"Wall time the check took in the last poll, in seconds. Polled.",
		"es_cluster", "check")
	famLastSuccess = gauge("exporter", "last_success_timestamp_seconds",
		"Unix time of the check's last success; absent until it first succeeds. Polled.",
		"es_cluster", "check")
	famCheckFailures = counter("exporter", "check_failures_total",
		"Polls in which the check failed, by bounded reason (docs/metrics.md lists them). Polled.",
		"es_cluster", "check", "reason")
)

var checkOutcomes = &check{
	schedule: everyPoll,
	families: []*Family{famCheckSuccess, famCheckDuration, famLastSuccess, famCheckFailures},
	render: func(p *Poller, f *Facts, out *renderer) {
		for _, c := range f.Checks {
			out.add(famCheckSuccess, boolFloat(c.Err == nil), p.name, c.Check)
			if c.Err == nil || c.Err.Reason != ReasonUnavailable {
				out.add(famCheckDuration, c.Duration.Seconds(), p.name, c.Check)
			}
			if t, ok := p.lastSuccess[c.Check]; ok {
				out.add(famLastSuccess, unixSeconds(t), p.name, c.Check)
			}
			byReason := p.failures[c.Check]
			for _, reason := range slices.Sorted(maps.Keys(byReason)) {
				out.add(famCheckFailures, byReason[reason], p.name, c.Check, string(reason))
			}
		}
	},
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
