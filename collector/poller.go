package collector

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
)

// Snapshot is the result of one poll of one cluster: its metrics, rendered
// once into exposition text per metric family, that a scrape replays without
// any I/O.
type Snapshot struct {
	Cluster string
	// The sample lines of each metric family, by the schedule that renders
	// it and its position among that schedule's families (Family.local):
	// this poll's, and the slow listings' and slow round's standing text
	// (nil while the cluster does not answer). Shared read-only with the
	// poller and other snapshots.
	layers [schedules][][]byte
}

// family is the sample lines of f (nil when none).
func (s *Snapshot) family(f *Family) []byte {
	if layer := s.layers[f.schedule]; layer != nil {
		return layer[f.local]
	}
	return nil
}

// Facts is what one poll learned, before it became metrics. Later checks
// (versions, trust) and the one-shot commands read it.
type Facts struct {
	// Identity is GET /'s answer: from this poll, or the last one that
	// stands (identityCheck); nil when the cluster is down or locked out
	// (Up).
	Identity *Identity
	// censusURL is the URL that answered the nodes check (Client.answered).
	censusURL string
	Nodes     []Node
	// NodesFailed counts the nodes that did not answer the nodes check
	// (-1 when the check failed or did not run): the census missed them.
	NodesFailed int
	// LocalVersions are the distinct node versions (from Nodes, or the
	// answering node's version from GET / when the nodes check failed).
	LocalVersions []esversion.Version
	Links         []RemoteLink
	// linksKnown: GET /_remote/info succeeded in this poll.
	linksKnown bool
	Resolved   []Resolved
	// CCR is the follower side of cross-cluster replication; nil when the
	// check did not run or failed.
	CCR      *CCRFacts
	Analyses []LinkAnalysis
	// SlowFacts are the slow listings' facts, replayed between listings.
	SlowFacts
	// LinkSettings says where each link is defined (cluster settings, each
	// node's elasticsearch.yml) and how consistently. It is set only in
	// polls that ran the slow listings, and nil when either source could
	// not be read.
	LinkSettings []LinkSettings
	// nodeLinks are the link settings each node's elasticsearch.yml
	// defines, from the prerequisites check's GET /_nodes/settings, judged
	// by the cluster settings check and dropped: with thousands of links
	// only the judgement is worth keeping until the next round.
	nodeLinks []NodeLinkSettings
	nodesOK   bool // GET /_nodes/settings succeeded in this poll
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
	// round is the slow round's probes, while it is judged and rendered.
	round *probeState
	// Results of each check that was due in this poll, in run order.
	Checks []CheckResult
}

// Up reports whether the cluster answered this poll and authorised the
// exporter: GET / answered, in this poll or (when it was not due) the last
// time it was asked.
func (f *Facts) Up() bool { return f.Identity != nil }

// SlowFacts are what the slow listings read (every transport.probe_interval).
type SlowFacts struct {
	// Certificates is the _ssl/certificates listing of the node that
	// answered and, with certificates_from_all_nodes, of every other node;
	// each entry's Node says which node listed it.
	Certificates []SSLCertificate
	// Security is every node's security prerequisites.
	Security []NodeSecurity
	// License is the cluster's license (GET /_xpack); nil when unknown.
	License *License
	// Listings says, with certificates_from_all_nodes, which nodes' listings
	// succeeded in the last slow round.
	Listings []NodeListing
	// RemoteClientNodes counts the nodes with the remote_cluster_client
	// role (-1 when unknown).
	RemoteClientNodes int
	// Roles is this cluster's read of the roles the configured links name
	// (its own and those of links to it); zero when none are named.
	Roles RoleSet
	// CCRInfo is the last follower listing (nil when it failed).
	CCRInfo *CCRInfo
	// APIKeys is the cluster's last read of its API keys (nil when not
	// read: before 8.10, or not readable and not required).
	APIKeys *APIKeySet
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

	lastSuccess map[string]time.Time
	failures    map[string]map[Reason]float64
	lastProblem map[string]string // per key: the problem last logged (logChange)
	transport   transportFiles
	// remoteClusterCAs are what the nodes' remote cluster client trusts
	// (clusters[].remote_cluster_client.ca_file); nil = not configured.
	remoteClusterCAs []*x509.Certificate
	probeInterval    time.Duration // 0 = every poll
	probeLocal       bool
	roleNames        []string // the roles this cluster reads (config.RoleNames)
	keysRequired     bool     // PollerOptions.APIKeysRequired

	// The last GET / (identityCheck): its answer and result, when it was
	// asked, and the answering node's version, which decides what the
	// other checks ask (kept while the cluster is down, so that they are
	// reported as unavailable rather than vanish).
	identity       *Identity
	identityResult CheckResult
	identityAt     time.Time
	identityURL    string // the URL that answered it (Client.answered)
	version        esversion.Version
	versionKnown   bool
	lastUp         bool                // the last poll found the cluster up
	lastVersions   []esversion.Version // the nodes' versions in the last census

	sharedNodes sharedNodes // what the fleet has of this cluster's nodes
	// lastAnalyses are the last poll's link analyses and their inputs
	// (Poller.analyses).
	lastAnalyses struct {
		set    bool
		inputs analysisInputs
		val    []LinkAnalysis
	}

	// The slow schedules (check.go): when each last ran, what the listings
	// read and their results (replayed between listings), and the series
	// each rendered, shared by every snapshot until it runs again.
	lastListing, lastRound time.Time
	lastSlow               SlowFacts
	lastSlowChecks         []CheckResult
	slowText, roundText    [][]byte
	pollText               [][]byte // the every-poll families' last render
	// renderedFrom is what each check's last render read (check.renderedFrom).
	renderedFrom map[*check]any
	retrySlow    bool // the last round waited for a monitored remote
	// trustTargets maps each link to the monitored cluster behind it as of
	// the last slow round; a change triggers a new round.
	trustTargets map[string]string

	// mixedSince is when this poller first saw more than one node version.
	mixedSince time.Time
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
	// APIKeysRequired: a configured link names one of this cluster's
	// cross-cluster API keys (config.APIKeysNamed), so failing to read them
	// is a failure, not just an unmonitored extra.
	APIKeysRequired bool
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
	logger = logger.With("es_cluster", cl.Name)
	client.log = logger
	tf, err := loadTransportFiles(cl.Transport)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("cluster %q: %w", cl.Name, err)
	}
	var rcCAs []*x509.Certificate
	if f := cl.RemoteClusterClient.CAFile; f != "" {
		if rcCAs, err = tlsprobe.LoadCABundle(f); err != nil {
			client.Close()
			return nil, fmt.Errorf("cluster %q: remote_cluster_client.ca_file: %w", cl.Name, err)
		}
	}
	return &Poller{
		name:             cl.Name,
		cfg:              cl,
		links:            cl.Links,
		transport:        tf,
		remoteClusterCAs: rcCAs,
		probeInterval:    o.ProbeInterval,
		probeLocal:       cl.Transport.ProbeLocalNodes,
		roleNames:        o.RoleNames,
		keysRequired:     o.APIKeysRequired,
		fleet:            fleet,
		timeout:          timeout,
		client:           client,
		logger:           logger,
		now:              now,
		lastSuccess:      map[string]time.Time{},
		failures:         map[string]map[Reason]float64{},
		lastProblem:      map[string]string{},
		renderedFrom:     map[*check]any{},
	}, nil
}

// Name is the configured cluster name (the es_cluster label).
func (p *Poller) Name() string { return p.name }

// Close releases the poller's connections.
func (p *Poller) Close() { p.client.Close() }
