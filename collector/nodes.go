package collector

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strconv"
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
	// RemoteClusterServer is where the node's remote cluster server (the
	// API-key model's endpoint, remote_cluster.port) listens; nil when the
	// node has none enabled or the cluster is older than 8.10
	// (RemoteClusterServerInfo in NodesInfoResponse, after http).
	RemoteClusterServer *struct {
		PublishAddress string `json:"publish_address"`
	} `json:"remote_cluster_server"`
}

// RemoteClusterAddress is the host:port of the node's remote cluster
// server ("" when it has none).
func (n *Node) RemoteClusterAddress() string {
	if n.RemoteClusterServer == nil || n.RemoteClusterServer.PublishAddress == "" {
		return ""
	}
	return publishHostPort(n.RemoteClusterServer.PublishAddress)
}

type nodesInfo struct {
	Header NodesHeader      `json:"_nodes"`
	Nodes  map[string]*Node `json:"nodes"`
}

// NodesHeader is the _nodes header of a nodes-level answer
// (RestActions.buildNodesHeader): how many nodes were asked, and the
// failures of those that did not answer (FailedNodeException, rendered with
// its node_id and cause).
type NodesHeader struct {
	Total    int           `json:"total"`
	Failed   int           `json:"failed"`
	Failures []NodeFailure `json:"failures"`
}

// NodeFailure is one node that did not answer.
type NodeFailure struct {
	NodeID   string `json:"node_id"`
	Reason   string `json:"reason"`
	CausedBy struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"caused_by"`
}

func (f NodeFailure) String() string {
	if f.CausedBy.Reason != "" {
		return f.NodeID + ": " + f.CausedBy.Reason
	}
	return f.NodeID + ": " + f.Reason
}

// nodes asks for every node's basic info; the _none metric keeps the answer
// small (no settings, os, jvm sections). From 8.10, where the API-key model
// exists, the remote_cluster_server metric adds only each node's remote
// cluster server address, which API-key links dial (NodesInfoMetrics gained
// REMOTE_CLUSTER_SERVER then; an older node refuses the unknown metric).
func (c *Client) nodes(ctx context.Context, withRCS bool) (nodesAnswer, *CheckError) {
	metric := "_none"
	if withRCS {
		metric = "remote_cluster_server"
	}
	req := esapi.NodesInfoRequest{NodeID: []string{"_all"}, Metric: []string{metric}}
	return memoized(ctx, c, "GET /_nodes/_all/"+metric, req, &c.nodesMemo, parseNodes)
}

// nodesAnswer is what a nodes answer is made into: the nodes by name, and
// its header.
type nodesAnswer struct {
	nodes    []Node
	header   NodesHeader
	versions []esversion.Version // versionsOf(nodes)
}

func parseNodes(body []byte) (nodesAnswer, error) {
	var raw nodesInfo
	if err := json.Unmarshal(body, &raw); err != nil {
		return nodesAnswer{}, err
	}
	out := make([]Node, 0, len(raw.Nodes))
	for _, n := range raw.Nodes {
		if n == nil {
			continue
		}
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return nodesAnswer{nodes: out, header: raw.Header, versions: versionsOf(out)}, nil
}

var (
	famClusterNodes = gauge("cluster", "nodes",
		"Nodes of the cluster running each version, from GET /_nodes/_all/_none. More than one version is a rolling upgrade in progress or stuck. Polled.",
		"es_cluster", "version")
	famNodeInfo = gauge("cluster", "node_info",
		"One node of the cluster from GET /_nodes/_all/_none (_all/remote_cluster_server from 8.10), value 1; roles comma-joined. Polled.",
		"es_cluster", "node", "version", "roles")
	famNodesFailed = gauge("cluster", "nodes_failed",
		"Nodes that did not answer GET /_nodes/_all/_none (its _nodes.failed): they are missing from the version census, so no link of the cluster is judged compatible until they answer. Polled.",
		clusterLabels...)
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
	families: []*Family{famClusterNodes, famNodeInfo, famNodesFailed, famMixedSince},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		withRCS := p.versionKnown && p.version.AtLeast(8, 10)
		answer, err := p.client.nodes(ctx, withRCS)
		header := answer.header
		f.Nodes = answer.nodes
		f.censusURL = p.client.lastAnswered()
		f.NodesFailed = -1
		if err == nil {
			f.NodesFailed = header.Failed
			var why []string
			for _, nf := range header.Failures {
				why = append(why, nf.String())
			}
			problem := ""
			if header.Failed > 0 {
				problem = strconv.Itoa(header.Failed) + " node(s) did not answer: " + strings.Join(why, "; ")
			}
			p.logChange("nodes:failed", problem,
				func() {
					p.logger.Warn("nodes missing from the version census; links are not judged compatible until they answer",
						"failed", header.Failed, "failures", strings.Join(why, "; "))
				},
				func() { p.logger.Info("every node answers the version census again") })
		}
		if err == nil {
			p.localVersions(f, answer.versions)
		}
		return err
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		if f.NodesFailed >= 0 && f.Up() {
			out.add(famNodesFailed, float64(f.NodesFailed), p.name)
		}
		if len(f.Nodes) > 0 {
			perVersion := map[string]float64{}
			for _, n := range f.Nodes {
				perVersion[n.Version]++
				out.add(famNodeInfo, 1, p.name, n.Name, n.Version, strings.Join(n.Roles, ","))
			}
			for _, v := range slices.Sorted(maps.Keys(perVersion)) {
				out.add(famClusterNodes, perVersion[v], p.name, v)
			}
		}
		if !p.mixedSince.IsZero() {
			out.add(famMixedSince, unixSeconds(p.mixedSince), p.name)
		}
	},
}

// localVersions settles the local side of every version judgement from a
// census that answered (when it failed, settleIdentity falls back on GET
// /'s version) and publishes the node list to the fleet for the links
// pointing here. versions are the census's (an unchanged answer's are the
// same slice: answerMemo).
func (p *Poller) localVersions(f *Facts, versions []esversion.Version) {
	f.LocalVersions = versions
	// An unchanged answer is the same slice (answerMemo): the fleet has it
	// already.
	shared := sharedNodes{nodes: refOf(f.Nodes), complete: f.NodesFailed == 0}
	if p.fleet != nil && shared != p.sharedNodes {
		p.fleet.SetNodes(p.name, f.Nodes, f.LocalVersions, shared.complete)
		p.sharedNodes = shared
	}
	switch {
	case len(f.LocalVersions) > 1 && p.mixedSince.IsZero():
		p.mixedSince = p.now()
		p.logger.Info("nodes run different versions (rolling upgrade in progress?)", "versions", versionList(f.LocalVersions))
	case len(f.LocalVersions) <= 1 && !p.mixedSince.IsZero():
		p.mixedSince = time.Time{}
		p.logger.Info("all nodes run the same version again", "version", versionList(f.LocalVersions))
	}
}

// sharedNodes is the node list a poller last gave the fleet, by identity.
type sharedNodes struct {
	nodes    sliceRef[Node]
	complete bool
}

func versionList(vs []esversion.Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ",")
}
