package collector

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// Snapshot is the result of one poll of one cluster: its metrics, rendered
// once into exposition text per metric family, that a scrape replays without
// any I/O.
type Snapshot struct {
	Cluster string
	// families holds each metric family's sample lines by family index.
	families [][]byte
}

// Facts is what one poll learned, before it became metrics. Later checks
// (versions, trust) and the one-shot commands read it.
type Facts struct {
	Identity *Identity
	Nodes    []Node
	// LocalVersions are the distinct node versions (from Nodes, or the
	// answering node's version from GET / when the nodes check failed).
	LocalVersions []esversion.Version
	Links         []RemoteLink
	Resolved      []Resolved
	Analyses      []LinkAnalysis
	// Certificates is the _ssl/certificates listing of the node that
	// answered and, with certificates_from_all_nodes, of every other node;
	// each entry's Node says which node listed it.
	Certificates []SSLCertificate
	// Security is every node's security prerequisites.
	Security []NodeSecurity
	// Listings says, with certificates_from_all_nodes, which nodes' listings
	// succeeded in the last slow round.
	Listings []nodeListing
	// LinkSettings says where each link is defined (cluster settings, each
	// node's elasticsearch.yml) and how consistently. Like Trust it is set
	// only in polls that ran the slow checks, and nil when either source
	// could not be read. RemoteClientNodes counts the nodes with the
	// remote_cluster_client role (-1 when unknown).
	LinkSettings      []LinkSettings
	RemoteClientNodes int
	// Roles is this cluster's read of the roles the configured links name
	// (its own and those of links to it); zero when none are named.
	Roles RoleSet
	// RoleFindings judges the roles of this cluster's links on both sides;
	// like Trust it is set in polls that ran a slow round.
	RoleFindings []RoleFinding
	// Pending is set when a judgement of this poll waited for another
	// monitored cluster's first poll (trust views, roles): the next poll
	// judges again.
	Pending bool
	// Trust judges each link's transport trust. It is set in polls that ran
	// a slow round (probes); in between it is nil and the series rendered in
	// the last round stand. (The one-shot commands run one every poll:
	// scheduler.Options.SlowChecksEveryPoll.)
	Trust []TrustAnalysis
	// Results of each check that was due in this poll, in run order.
	Checks []CheckResult
}

// CheckResult is the outcome of one check in one poll.
type CheckResult struct {
	Check    string
	Duration time.Duration
	Err      *CheckError // nil on success
}

// Poller polls one cluster. It is not safe for concurrent use: the scheduler
// runs at most one poll per cluster at a time.
type Poller struct {
	mu      sync.Mutex // one poll at a time: the loop and one-shot callers share a poller
	name    string
	cfg     config.Cluster // for the per-node clients of certificates_from_all_nodes
	links   map[string]config.Link
	fleet   *Fleet
	timeout time.Duration
	client  *Client
	logger  *slog.Logger
	now     func() time.Time

	lastSuccess   map[string]time.Time
	failures      map[string]map[Reason]float64
	lastProblem   map[string]string // per check (and per link for resolve errors): what was last logged
	transport     transportFiles
	probeInterval time.Duration // 0 = every poll
	probeLocal    bool
	lastRound     time.Time // when the last probe round ran
	lastListing   time.Time // when the slow listings (certificates, settings, roles) last ran
	retrySlow     bool      // a linked, monitored cluster had no transport view yet
	// trustTargets maps each link to the monitored cluster behind it as of
	// the last slow round; a change triggers a new round.
	trustTargets map[string]string
	// slowText holds the transport series (by family index) of the last
	// slow round, rendered once and shared by every snapshot until the next;
	// settingsText likewise the link settings series of the last slow checks.
	slowText, settingsText [][]byte
	lastCerts              []SSLCertificate
	lastSecurity           []NodeSecurity
	lastListings           []nodeListing
	lastClients            int
	lastRoles              RoleSet
	roleNames              []string      // the roles this cluster reads (config.RoleNames)
	lastSlowChecks         []CheckResult // replayed between slow-check rounds
	// mixedSince is when this poller first saw more than one node version.
	mixedSince time.Time
	// lastResolveMode remembers whether the cluster supports _resolve/cluster,
	// so that a poll that cannot learn the version still reports the check.
	lastResolveMode ResolveMode
}

// PollerOptions are what a poller needs besides its cluster's configuration.
type PollerOptions struct {
	Timeout time.Duration // per request
	// ProbeInterval is how often the slow checks run (transport probes,
	// certificate listings, settings, roles); 0 = every poll.
	ProbeInterval time.Duration
	Logger        *slog.Logger
	Now           func() time.Time // the clock; nil = time.Now
	// Fleet, shared by the pollers of all clusters, may be nil: links are
	// then judged on what this cluster alone reports.
	Fleet *Fleet
	// RoleNames are the roles this cluster reads (config.RoleNames): its
	// own links' and those of other clusters' links to it.
	RoleNames []string
}

// NewPoller builds the poller for one configured cluster. Files it needs
// (CAs, transport identity) are read here, so a broken file is reported at
// (re)load time, not at poll time.
func NewPoller(cl config.Cluster, o PollerOptions) (*Poller, error) {
	timeout, logger, now, fleet := o.Timeout, o.Logger, o.Now, o.Fleet
	if now == nil {
		now = time.Now
	}
	client, err := NewClient(cl, timeout)
	if err != nil {
		return nil, err
	}
	tf, err := loadTransportFiles(cl.Transport)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("cluster %q: %w", cl.Name, err)
	}
	return &Poller{
		name:          cl.Name,
		cfg:           cl,
		links:         cl.Links,
		transport:     tf,
		probeInterval: o.ProbeInterval,
		probeLocal:    cl.Transport.ProbeLocalNodes,
		roleNames:     o.RoleNames,
		fleet:         fleet,
		timeout:       timeout,
		client:        client,
		logger:        logger.With("es_cluster", cl.Name),
		now:           now,
		lastSuccess:   map[string]time.Time{},
		failures:      map[string]map[Reason]float64{},
		lastProblem:   map[string]string{},
	}, nil
}

// Name is the configured cluster name (the es_cluster label).
func (p *Poller) Name() string { return p.name }

// Close releases the poller's connections.
func (p *Poller) Close() { p.client.Close() }

// Poll runs the cluster's checks once and returns what it saw. Every request
// is bounded by the configured timeout; ctx cancels the whole poll.
func (p *Poller) Poll(ctx context.Context) (*Facts, *Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fleet != nil {
		defer p.fleet.MarkPolled(p.name)
	}
	f := &Facts{}
	var idErr *CheckError
	p.run(ctx, f, CheckIdentity, func(ctx context.Context) *CheckError {
		f.Identity, idErr = p.client.identity(ctx)
		return idErr
	})
	if idErr != nil {
		// Without GET / the cluster is down or we are locked out: the other
		// checks would fail the same way, each after its own timeout.
		p.unavailable(f, CheckNodes)
		p.unavailable(f, CheckSSLCertificates)
		p.unavailable(f, CheckPrerequisites)
		p.unavailable(f, CheckClusterSettings)
		if len(p.roleNames) > 0 {
			p.unavailable(f, CheckRoles)
		}
		p.unavailable(f, CheckRemoteInfo)
		if p.lastResolveMode != ResolveUnsupported {
			p.unavailable(f, CheckResolveCluster)
		}
		return f, p.snapshot(f)
	}
	var nodesErr *CheckError
	p.run(ctx, f, CheckNodes, func(ctx context.Context) *CheckError {
		f.Nodes, nodesErr = p.client.nodes(ctx)
		return nodesErr
	})
	p.localVersions(f, nodesErr == nil)
	p.slowListings(ctx, f)
	var riErr *CheckError
	p.run(ctx, f, CheckRemoteInfo, func(ctx context.Context) *CheckError {
		f.Links, riErr = p.client.remoteInfo(ctx)
		return riErr
	})
	mode := ResolveUnsupported
	if v, err := esversion.Parse(f.Identity.Version.Number); err == nil {
		mode = ResolveModeFor(v)
	}
	p.lastResolveMode = mode
	switch {
	case mode == ResolveUnsupported:
	case mode == ResolvePerRemote && riErr != nil:
		p.unavailable(f, CheckResolveCluster)
	case mode == ResolvePerRemote && len(f.Links) == 0:
		// Nothing to resolve; the check trivially succeeds.
		p.record(f, CheckResolveCluster, 0, nil)
	default:
		aliases := make([]string, len(f.Links))
		for i, l := range f.Links {
			aliases[i] = l.Alias
		}
		start := time.Now()
		var err *CheckError
		f.Resolved, err = p.client.resolveCluster(ctx, mode, aliases, p.timeout)
		p.record(f, CheckResolveCluster, time.Since(start), err)
		p.logResolveErrors(f.Resolved)
	}
	f.Analyses = analyzeLinks(p.name, f.Links, f.Resolved, p.links, f.LocalVersions, p.fleet)
	if riErr == nil {
		// Without the list of links a slow round would judge none and the
		// next success would run another: a flapping _remote/info must not
		// turn into a probe storm. The last round's series stand meanwhile.
		p.transportRound(ctx, f)
	}
	return f, p.snapshot(f)
}

// localVersions settles the local side of every version judgement and
// publishes the node list to the fleet for the links pointing here.
func (p *Poller) localVersions(f *Facts, nodesOK bool) {
	if nodesOK {
		f.LocalVersions = versionsOf(f.Nodes)
		if p.fleet != nil {
			p.fleet.SetNodes(p.name, f.Nodes, f.LocalVersions)
		}
	} else if v, err := esversion.Parse(f.Identity.Version.Number); err == nil {
		f.LocalVersions = []esversion.Version{v}
	}
	switch {
	case !nodesOK:
	case len(f.LocalVersions) > 1 && p.mixedSince.IsZero():
		p.mixedSince = p.now()
		p.logger.Info("nodes run different versions (rolling upgrade in progress?)", "versions", versionList(f.LocalVersions))
	case len(f.LocalVersions) <= 1 && !p.mixedSince.IsZero():
		p.mixedSince = time.Time{}
		p.logger.Info("all nodes run the same version again", "version", versionList(f.LocalVersions))
	}
}

func versionList(vs []esversion.Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ",")
}

// run times one single-request check under the configured timeout.
func (p *Poller) run(ctx context.Context, f *Facts, check string, fn func(context.Context) *CheckError) {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	start := time.Now()
	err := fn(rctx)
	p.record(f, check, time.Since(start), err)
}

func (p *Poller) unavailable(f *Facts, check string) {
	p.record(f, check, 0, &CheckError{Reason: ReasonUnavailable, Msg: "not attempted: GET / failed"})
}

// Problems are logged once per change, not once per poll: a cluster that
// stays broken logs one line when it breaks (or breaks differently) and one
// when it recovers. lastProblem holds, per key, the problem last logged.

// A transition is what changed about a key's problem.
type transition int

const (
	unchanged transition = iota
	appeared             // a new or different problem: log it
	resolved             // the problem went away: log the recovery
)

// noteProblem records key's current problem ("" = none) and says whether
// that is news.
func (p *Poller) noteProblem(key, problem string) transition {
	prev := p.lastProblem[key]
	switch {
	case problem == prev:
		return unchanged
	case problem == "":
		delete(p.lastProblem, key)
		return resolved
	}
	p.lastProblem[key] = problem
	return appeared
}

// record keeps the check's outcome and logs it when its problem changes.
func (p *Poller) record(f *Facts, check string, d time.Duration, err *CheckError) {
	f.Checks = append(f.Checks, CheckResult{Check: check, Duration: d, Err: err})
	if err == nil {
		p.lastSuccess[check] = p.now()
		if p.noteProblem(check, "") == resolved {
			p.logger.Info("check recovered", "check", check)
		}
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
	if p.noteProblem(check, string(err.Reason)+"\x00"+err.Msg) != appeared {
		return
	}
	attrs := []any{"check", check, "reason", err.Reason, "err", err.Msg}
	if err.Status != 0 {
		attrs = append(attrs, "status", err.Status)
	}
	if err.Hint != "" {
		attrs = append(attrs, "fix", err.Hint)
	}
	p.logger.Warn("check failed", attrs...)
}

// logResolveErrors logs, once per change, why Elasticsearch could not reach a remote.
func (p *Poller) logResolveErrors(rs []Resolved) {
	for _, r := range rs {
		why := ""
		if !r.Connected {
			why = cmp.Or(r.Error, "Elasticsearch could not connect to the remote")
		}
		switch p.noteProblem("resolve:"+r.Alias, why) {
		case appeared:
			p.logger.Warn("remote unreachable", "remote", r.Alias, "err", why, "skip_unavailable", r.SkipUnavailable)
		case resolved:
			p.logger.Info("remote reachable again", "remote", r.Alias)
		}
	}
}

// snapshot turns the facts of this poll into metrics.
func (p *Poller) snapshot(f *Facts) *Snapshot {
	r := newRenderer()
	add := r.add
	g := prometheus.GaugeValue
	add(descClusterUp, g, boolFloat(f.Identity != nil), p.name)
	if id := f.Identity; id != nil {
		add(descClusterInfo, g, 1, p.name, id.ClusterName, id.ClusterUUID, id.Version.Number)
	}
	for i := range f.Links {
		l := &f.Links[i]
		add(descLinkConnected, g, boolFloat(l.Connected), p.name, l.Alias)
		add(descLinkSkipUnavailable, g, boolFloat(l.SkipUnavailable), p.name, l.Alias)
		if d, err := ParseTimeValue(l.InitialConnectTimeout); err == nil {
			add(descLinkInitialConnectTimeout, g, d.Seconds(), p.name, l.Alias)
		}
		optional := func(desc *prometheus.Desc, v *float64) {
			if v != nil {
				add(desc, g, *v, p.name, l.Alias)
			}
		}
		optional(descLinkNodesConnected, l.NumNodesConnected)
		optional(descLinkMaxConnections, l.MaxConnectionsPerCluster)
		optional(descLinkProxySocketsConnected, l.NumProxySocketsConnected)
		optional(descLinkMaxProxySockets, l.MaxProxySocketConnections)
		add(descLinkInfo, g, 1, p.name, l.Alias, l.Mode, l.Auth(),
			strings.Join(l.Seeds, ","), deref(l.ProxyAddress), deref(l.ServerName))
	}
	for _, r := range f.Resolved {
		add(descLinkReachable, g, boolFloat(r.Connected), p.name, r.Alias)
	}
	p.versionMetrics(f, add)
	slow := p.slowFamilies(f)
	for _, c := range f.Checks {
		add(descCheckSuccess, g, boolFloat(c.Err == nil), p.name, c.Check)
		if c.Err == nil || c.Err.Reason != ReasonUnavailable {
			add(descCheckDuration, g, c.Duration.Seconds(), p.name, c.Check)
		}
		if t, ok := p.lastSuccess[c.Check]; ok {
			add(descLastSuccess, g, unixSeconds(t), p.name, c.Check)
		}
		byReason := p.failures[c.Check]
		for _, reason := range slices.Sorted(maps.Keys(byReason)) {
			add(descCheckFailures, prometheus.CounterValue, byReason[reason], p.name, c.Check, string(reason))
		}
	}
	families := r.render()
	for _, text := range slow {
		for i, b := range text {
			if b != nil {
				families[i] = b // rendered once per slow round, shared read-only
			}
		}
	}
	return &Snapshot{Cluster: p.name, families: families}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
