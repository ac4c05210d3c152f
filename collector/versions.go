package collector

import (
	"context"
	"slices"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/compat"
	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// How a link's remote cluster was identified, and where its versions came from.
const (
	MatchConfig           = "config"            // clusters[].links.<alias>.cluster
	MatchTransportAddress = "transport_address" // seeds/proxy address name a monitored cluster's nodes
	SourceNodes           = "nodes"             // every node of the monitored remote cluster
	SourceResolveCluster  = "resolve_cluster"   // the version _resolve/cluster reports for the remote
)

// LinkAnalysis is the version judgement of one link: which cluster is
// behind it, its versions, and the worst local/remote pair per rule.
type LinkAnalysis struct {
	Alias          string
	Target         string // monitored cluster behind the alias; "" when none matched
	Match          string // MatchConfig or MatchTransportAddress when Target is set
	RemoteVersions []esversion.Version
	VersionSource  string // SourceNodes, SourceResolveCluster, or "" when unknown
	// Judged is false when either side's versions are unknown; then both
	// verdicts are compat.Unknown.
	Judged          bool
	Supported, Wire compat.Pair
	// Port is the port of its monitored remote the link's addresses name
	// (PortTransport or PortRemoteClusterServer; "" when none or unknown),
	// and WrongPort whether its security model does not use it: the
	// transport port for an API-key link (troubleshooting symptom 6), the
	// remote cluster server for a certificate link (symptom 7).
	Port      string
	WrongPort bool
	// PartialCensus: a side's census missed nodes, so the verdicts are
	// unknown unless a known pair is already incompatible.
	PartialCensus bool
	// Followers: the link carries follower indices of this cluster, so the
	// replication rule applies (compat.CCR: the follower not older than the
	// leader); CCR is its verdict on the worst pair CCRLocal/CCRRemote.
	Followers           bool
	CCR                 compat.Verdict
	CCRLocal, CCRRemote esversion.Version
}

// analyzeLinks judges every link of one poll. locals are the local cluster's
// node versions; the remote side comes from the fleet (when the alias maps
// to a monitored cluster with a node list) or from _resolve/cluster.
// localComplete is false when the local census missed nodes.
func analyzeLinks(self string, links []RemoteLink, resolved []Resolved, cfg map[string]config.Link, locals []esversion.Version, localComplete bool, ccr *CCRFacts, fleet *Fleet) []LinkAnalysis {
	byAlias := make(map[string]*Resolved, len(resolved))
	for i := range resolved {
		byAlias[resolved[i].Alias] = &resolved[i]
	}
	out := make([]LinkAnalysis, 0, len(links))
	for i := range links {
		l := &links[i]
		a := LinkAnalysis{Alias: l.Alias}
		if lc, ok := cfg[l.Alias]; ok && lc.Cluster != "" {
			a.Target, a.Match = lc.Cluster, MatchConfig
		} else if fleet != nil {
			if name, ok := fleet.MatchAddresses(self, l.Addresses()); ok {
				a.Target, a.Match = name, MatchTransportAddress
			}
		}
		remoteComplete := true
		if a.Target != "" && fleet != nil {
			transport, rcs := fleet.PortsNamed(a.Target, l.Addresses())
			switch apiKey := l.Auth() == "api_key"; {
			case transport && (apiKey || !rcs):
				a.Port, a.WrongPort = PortTransport, apiKey
			case rcs:
				a.Port, a.WrongPort = PortRemoteClusterServer, !apiKey
			}
			if vs, ok, complete := fleet.Versions(a.Target); ok && len(vs) > 0 {
				a.RemoteVersions, a.VersionSource, remoteComplete = vs, SourceNodes, complete
			}
		}
		if a.VersionSource == "" {
			if r := byAlias[l.Alias]; r != nil && r.Version != nil {
				if v, err := esversion.Parse(r.Version.Number); err == nil {
					a.RemoteVersions, a.VersionSource = []esversion.Version{v}, SourceResolveCluster
				}
			}
		}
		a.judge(locals)
		if len(ccr.FollowersOf(l.Alias)) > 0 {
			a.Followers = true
			var ok bool
			a.CCRLocal, a.CCRRemote, a.CCR, ok = compat.WorstCCR(locals, a.RemoteVersions)
			if !ok {
				a.CCR = compat.Verdict{Status: compat.Unknown}
			}
		}
		if !localComplete || !remoteComplete {
			a.partialCensus()
		}
		out = append(out, a)
	}
	return out
}

// analysisInputs is what analyzeLinks judges on besides the poller's
// configuration: the answers by identity (an unchanged answer is the same
// slice, answerMemo), the local census and the fleet's generation.
type analysisInputs struct {
	links         sliceRef[RemoteLink]
	resolved      sliceRef[Resolved]
	locals        []esversion.Version
	localComplete bool
	fleetGen      uint64
	ccrRemotes    string // the remotes that carry follower indices (CCRFacts.remotes)
}

func (a analysisInputs) same(b analysisInputs) bool {
	return a.links == b.links && a.resolved == b.resolved &&
		slices.Equal(a.locals, b.locals) && a.localComplete == b.localComplete && a.fleetGen == b.fleetGen &&
		a.ccrRemotes == b.ccrRemotes
}

// analyses judges the poll's links, or hands back the last poll's analyses
// when they were made of the same inputs: in most polls nothing a verdict
// rests on has changed. The analyses are read-only once made.
func (p *Poller) analyses(f *Facts) []LinkAnalysis {
	in := analysisInputs{links: refOf(f.Links), resolved: refOf(f.Resolved), locals: f.LocalVersions,
		localComplete: f.NodesFailed == 0, ccrRemotes: f.CCR.remotes()}
	if p.fleet != nil {
		in.fleetGen = p.fleet.NodesGen()
	}
	if p.lastAnalyses.set && in.same(p.lastAnalyses.inputs) {
		return p.lastAnalyses.val
	}
	out := analyzeLinks(p.name, f.Links, f.Resolved, p.links, f.LocalVersions, f.NodesFailed == 0, f.CCR, p.fleet)
	p.lastAnalyses.set, p.lastAnalyses.inputs, p.lastAnalyses.val = true, in, out
	return out
}

// partialCensus degrades the verdicts of a link judged on a census that
// missed nodes: a node that did not answer may run any version, so no pair
// is known to be compatible; an incompatible pair already seen stays.
func (a *LinkAnalysis) partialCensus() {
	a.PartialCensus = true
	for _, v := range []*compat.Verdict{&a.Supported.Supported, &a.Wire.Wire, &a.CCR} {
		if v.Status != compat.Incompatible {
			v.Status = compat.Unknown
		}
	}
}

// judge fills the verdicts from locals and a.RemoteVersions.
func (a *LinkAnalysis) judge(locals []esversion.Version) {
	a.Supported, a.Wire, a.Judged = compat.Worst(locals, a.RemoteVersions)
}

var (
	famLinkTarget = gauge("link", "target_info",
		"The monitored cluster (es_cluster of its own series) behind a remote alias, value 1; match is config (clusters[].links) or transport_address (seeds or proxy address name its nodes). Polled.",
		"es_cluster", "remote", "target", "match")
	famLinkWrongPort = gauge("link", "dials_wrong_port",
		"Which port of its monitored remote the link's seeds or proxy address name (port transport or remote_cluster_server): 1 when its security model does not use that port (an API-key link must dial the remote cluster server, remote_cluster.port, default 9443; a certificate link the transport port), else 0. Only for links matched to a monitored remote. Polled.",
		"es_cluster", "remote", "port")
	famLinkRemoteVersion = gauge("link", "remote_version_info",
		"A version the remote side of the link runs, value 1 per distinct version; source is nodes (every node of the monitored remote cluster) or resolve_cluster (the version GET /_resolve/cluster reports). Polled.",
		"es_cluster", "remote", "version", "source")
	famLinkCompatibility = gauge("link", "compatibility_info",
		"Version compatibility of the link's worst local/remote node pair, value 1. rule is supported (Elastic's compatibility table and policy), wire (the transport handshake's minimum wire version) or ccr (for links that carry follower indices: the follower cluster not older than the leader, and a supported pair); verdict is compatible, incompatible or unknown (no rule, or a side's versions unknown); local_version and remote_version name the deciding pair. Polled.",
		"es_cluster", "remote", "rule", "verdict", "local_version", "remote_version")
)

// compatibilityCheck judges every link's versions (internal/compat) from
// the facts of the nodes, remote info and resolve checks and the fleet's
// view of the monitored remotes. It makes no request.
var compatibilityCheck = &check{
	schedule: everyPoll,
	families: []*Family{famLinkTarget, famLinkRemoteVersion, famLinkCompatibility, famLinkWrongPort},
	run: func(_ context.Context, p *Poller, f *Facts) *CheckError {
		f.Analyses = p.analyses(f)
		return nil
	},
	renderedFrom: func(p *Poller, f *Facts) any { return refOf(f.Analyses) },
	render: func(p *Poller, f *Facts, out *renderer) {
		for _, a := range f.Analyses {
			if a.Target != "" {
				out.add(famLinkTarget, 1, p.name, a.Alias, a.Target, a.Match)
			}
			if a.Port != "" {
				out.add(famLinkWrongPort, boolFloat(a.WrongPort), p.name, a.Alias, a.Port)
			}
			for _, v := range a.RemoteVersions {
				out.add(famLinkRemoteVersion, 1, p.name, a.Alias, v.String(), a.VersionSource)
			}
			verdict := func(rule string, pair compat.Pair, v compat.Verdict) {
				local, remote := "", ""
				if a.Judged {
					local, remote = pair.Local.String(), pair.Remote.String()
				}
				out.add(famLinkCompatibility, 1, p.name, a.Alias, rule, v.Status.String(), local, remote)
			}
			verdict("supported", a.Supported, a.Supported.Supported)
			verdict("wire", a.Wire, a.Wire.Wire)
			if a.Followers {
				verdict("ccr", compat.Pair{Local: a.CCRLocal, Remote: a.CCRRemote}, a.CCR)
			}
		}
	},
}
