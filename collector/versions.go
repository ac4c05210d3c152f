package collector

import (
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

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
}

// analyzeLinks judges every link of one poll. locals are the local cluster's
// node versions; the remote side comes from the fleet (when the alias maps
// to a monitored cluster with a node list) or from _resolve/cluster.
func analyzeLinks(self string, links []RemoteLink, resolved []Resolved, cfg map[string]config.Link, locals []esversion.Version, fleet *Fleet) []LinkAnalysis {
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
		if a.Target != "" && fleet != nil {
			if vs, ok := fleet.Versions(a.Target); ok && len(vs) > 0 {
				a.RemoteVersions, a.VersionSource = vs, SourceNodes
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
		out = append(out, a)
	}
	return out
}

// judge fills the verdicts from locals and a.RemoteVersions.
func (a *LinkAnalysis) judge(locals []esversion.Version) {
	a.Supported, a.Wire, a.Judged = compat.Worst(locals, a.RemoteVersions)
}

// versionMetrics adds the node-version and link-compatibility series.
func (p *Poller) versionMetrics(f *Facts, add func(*prometheus.Desc, prometheus.ValueType, float64, ...string)) {
	g := prometheus.GaugeValue
	if len(f.Nodes) > 0 {
		perVersion := map[string]float64{}
		for _, n := range f.Nodes {
			perVersion[n.Version]++
			add(descNodeInfo, g, 1, p.name, n.Name, n.Version, strings.Join(n.Roles, ","))
		}
		for _, v := range slices.Sorted(maps.Keys(perVersion)) {
			add(descClusterNodes, g, perVersion[v], p.name, v)
		}
	}
	if !p.mixedSince.IsZero() {
		add(descMixedSince, g, unixSeconds(p.mixedSince), p.name)
	}
	for _, a := range f.Analyses {
		if a.Target != "" {
			add(descLinkTarget, g, 1, p.name, a.Alias, a.Target, a.Match)
		}
		for _, v := range a.RemoteVersions {
			add(descLinkRemoteVersion, g, 1, p.name, a.Alias, v.String(), a.VersionSource)
		}
		verdict := func(rule string, pair compat.Pair, v compat.Verdict) {
			local, remote := "", ""
			if a.Judged {
				local, remote = pair.Local.String(), pair.Remote.String()
			}
			add(descLinkCompatibility, g, 1, p.name, a.Alias, rule, v.Status.String(), local, remote)
		}
		verdict("supported", a.Supported, a.Supported.Supported)
		verdict("wire", a.Wire, a.Wire.Wire)
	}
}
