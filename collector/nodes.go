package collector

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// CheckNodes is the name of the GET /_nodes/_all/_none check.
const CheckNodes = "nodes"

// Node is one node of the basic nodes info (NodeInfo.toXContent without
// metric sections): what version it runs and where its transport listens.
type Node struct {
	Name             string   `json:"name"`
	TransportAddress string   `json:"transport_address"`
	Host             string   `json:"host"`
	IP               string   `json:"ip"`
	Version          string   `json:"version"`
	Roles            []string `json:"roles"`
}

type nodesInfo struct {
	Nodes map[string]*Node `json:"nodes"`
}

// nodes asks for every node's basic info; the _none metric keeps the answer
// small (no settings, os, jvm sections).
func (c *Client) nodes(ctx context.Context) ([]Node, *CheckError) {
	var raw nodesInfo
	req := esapi.NodesInfoRequest{NodeID: []string{"_all"}, Metric: []string{"_none"}}
	if err := c.do(ctx, "GET /_nodes/_all/_none", req, &raw); err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(raw.Nodes))
	for _, n := range raw.Nodes {
		if n == nil {
			continue
		}
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

var (
	famClusterNodes = gauge("cluster", "nodes",
		"Nodes of the cluster running each version, from GET /_nodes/_all/_none. More than one version is a rolling upgrade in progress or stuck. Polled.",
		"es_cluster", "version")
	famNodeInfo = gauge("cluster", "node_info",
		"One node of the cluster from GET /_nodes/_all/_none, value 1; roles comma-joined. Polled.",
		"es_cluster", "node", "version", "roles")
	famMixedSince = gauge("cluster", "mixed_versions_since_timestamp_seconds",
		"Unix time since when the exporter has seen the cluster's nodes run more than one version; absent while they agree. Polled.",
		clusterLabels...)
)

// nodesCheck takes the version census: every node's version, which the
// links' compatibility is judged on, and whether the cluster runs more than
// one (a rolling upgrade).
var nodesCheck = &check{
	name:     CheckNodes,
	schedule: everyPoll,
	families: []*Family{famClusterNodes, famNodeInfo, famMixedSince},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		var err *CheckError
		f.Nodes, err = p.client.nodes(ctx)
		p.localVersions(f, err == nil)
		return err
	},
	render: func(p *Poller, f *Facts, add emit) {
		if len(f.Nodes) > 0 {
			perVersion := map[string]float64{}
			for _, n := range f.Nodes {
				perVersion[n.Version]++
				add(famNodeInfo, 1, p.name, n.Name, n.Version, strings.Join(n.Roles, ","))
			}
			for _, v := range slices.Sorted(maps.Keys(perVersion)) {
				add(famClusterNodes, perVersion[v], p.name, v)
			}
		}
		if !p.mixedSince.IsZero() {
			add(famMixedSince, unixSeconds(p.mixedSince), p.name)
		}
	},
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
