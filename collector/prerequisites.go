package collector

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// CheckPrerequisites is the name of the check behind the spec's first two
// requirements: security enabled on every node, TLS on every node's
// transport interface. It asks GET /_xpack?categories=features (is security
// enabled, as the answering node sees it) and GET /_nodes/settings
// ?flat_settings=true (what each node has configured).
const CheckPrerequisites = "prerequisites"

var (
	famNodeSecurity = gauge("cluster", "node_security_enabled",
		"1 when security is enabled on the node (xpack.security.enabled from GET /_nodes/settings, else Elasticsearch's default: on from 8.0, on 7.x what GET /_xpack reports), else 0. Polled every transport.probe_interval.",
		"es_cluster", "node")
	famNodeRCS = gauge("cluster", "node_remote_cluster_server_enabled",
		"1 when the node runs the remote cluster server that API-key links dial (remote_cluster_server.enabled in GET /_nodes/settings, default false), else 0. Polled every transport.probe_interval.",
		"es_cluster", "node")
	famNodeTransportTLS = gauge("cluster", "node_transport_tls_enabled",
		"1 when TLS is on for the node's transport interface (security enabled and xpack.security.transport.ssl.enabled true in GET /_nodes/settings), else 0. Polled every transport.probe_interval.",
		"es_cluster", "node")
)

// prerequisitesCheck reads every node's security prerequisites, and on the
// way the links each node's elasticsearch.yml defines and which nodes have
// the remote_cluster_client role (for the cluster settings check).
var prerequisitesCheck = &check{
	name:     CheckPrerequisites,
	schedule: slowListing,
	families: []*Family{famNodeSecurity, famNodeTransportTLS, famNodeRCS},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		var err *CheckError
		major := 0
		if p.versionKnown {
			major = p.version.Major
		}
		f.Security, f.nodeLinks, f.License, err = p.client.prerequisites(ctx, major)
		f.nodesOK = err == nil
		f.RemoteClientNodes = -1
		if err == nil {
			f.RemoteClientNodes = 0
			for _, n := range f.nodeLinks {
				if n.RemoteClient {
					f.RemoteClientNodes++
				}
			}
		}
		return err
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		for _, n := range f.Security {
			out.add(famNodeSecurity, boolFloat(n.SecurityEnabled), p.name, n.Node)
			out.add(famNodeTransportTLS, boolFloat(n.TransportTLS), p.name, n.Node)
			if v, err := esversion.Parse(n.Version); err == nil && v.AtLeast(8, 10) {
				out.add(famNodeRCS, boolFloat(n.RemoteClusterServer), p.name, n.Node) // there is none before
			}
		}
	},
}

// NodeSecurity is one node's security prerequisites.
type NodeSecurity struct {
	Node            string
	Version         string
	SecurityEnabled bool
	TransportTLS    bool
	// RemoteClusterServer: remote_cluster_server.enabled (default false),
	// the API-key model's endpoint; RemoteClusterServerTLS its
	// xpack.security.remote_cluster_server.ssl.enabled (default true;
	// RemoteClusterPortSettings, XPackSettings).
	RemoteClusterServer, RemoteClusterServerTLS bool
}

// License is the cluster's license as GET /_xpack reports it.
type License struct {
	Type, Mode, Status string
}

// AllowsCCR: cross-cluster replication is a platinum feature
// (XPackLicenseState / CcrConstants.CCR_FEATURE: platinum, enterprise, and
// a trial allows everything), while the license is active.
func (l *License) AllowsCCR() bool {
	return l != nil && l.Status == "active" && (l.Mode == "platinum" || l.Mode == "enterprise" || l.Mode == "trial")
}

// AllowsAPIKeyModel: the API-key model is the enterprise feature
// advanced-remote-cluster-security (Security.ADVANCED_REMOTE_CLUSTER_SECURITY_FEATURE,
// License.OperationMode.ENTERPRISE; a trial allows everything), on both
// sides of a link.
func (l *License) AllowsAPIKeyModel() bool {
	return l != nil && l.Status == "active" && (l.Mode == "enterprise" || l.Mode == "trial")
}

type xpackFeatures struct {
	License  *License `json:"license"`
	Features map[string]struct {
		Available bool `json:"available"`
		Enabled   bool `json:"enabled"`
	} `json:"features"`
}

type nodesSettings struct {
	Nodes map[string]struct {
		Name    string   `json:"name"`
		Version string   `json:"version"`
		Roles   []string `json:"roles"`
		// Flat settings: values are strings, lists (node.roles) arrays.
		Settings map[string]any `json:"settings"`
	} `json:"nodes"`
}

// prerequisites reads the security state of every node, and the remote
// links each node defines in its own settings (elasticsearch.yml). A setting that is
// absent takes Elasticsearch's default: xpack.security.enabled is true from
// 8.0 (on 7.x it depends on the license, so the answering node's _xpack view
// stands in), xpack.security.transport.ssl.enabled is false
// (XPackSettings.TRANSPORT_SSL_ENABLED).
//
// From 8.0 the node settings decide alone (security is on by default) and
// GET /_xpack only adds the license: a failing _xpack there (a distribution
// without some x-pack plugins answers 500, internal/realcluster) costs the
// license, not the node settings and the static links read with them.
func (c *Client) prerequisites(ctx context.Context, major int) ([]NodeSecurity, []NodeLinkSettings, *License, *CheckError) {
	var x xpackFeatures
	if err := c.do(ctx, "GET /_xpack?categories=features,license", esapi.XPackInfoRequest{Categories: []string{"features", "license"}}, &x); err != nil {
		if major < 8 {
			return nil, nil, nil, err
		}
		x = xpackFeatures{}
	}
	clusterDefault := x.Features["security"].Enabled
	var ns nodesSettings
	flat := true
	req := esapi.NodesInfoRequest{NodeID: []string{"_all"}, Metric: []string{"settings"}, FlatSettings: &flat}
	if err := c.do(ctx, "GET /_nodes/_all/settings", req, &ns); err != nil {
		return nil, nil, nil, err
	}
	out := make([]NodeSecurity, 0, len(ns.Nodes))
	links := make([]NodeLinkSettings, 0, len(ns.Nodes))
	for _, n := range ns.Nodes {
		sec := clusterDefault
		if v, err := esversion.Parse(n.Version); err == nil && v.Major >= 8 {
			sec = true
		}
		if s, ok := n.Settings["xpack.security.enabled"].(string); ok {
			sec, _ = strconv.ParseBool(s)
		}
		tlsSetting, _ := n.Settings["xpack.security.transport.ssl.enabled"].(string)
		tlsOn, _ := strconv.ParseBool(tlsSetting)
		rcs := settingBool(n.Settings, "remote_cluster_server.enabled", false)
		rcsTLS := settingBool(n.Settings, "xpack.security.remote_cluster_server.ssl.enabled", true)
		out = append(out, NodeSecurity{Node: n.Name, Version: n.Version, SecurityEnabled: sec, TransportTLS: sec && tlsOn,
			RemoteClusterServer: rcs, RemoteClusterServerTLS: rcs && rcsTLS})
		major := 0
		if v, err := esversion.Parse(n.Version); err == nil {
			major = v.Major
		}
		static, legacy := nodeLinkSettings(n.Settings, major)
		links = append(links, NodeLinkSettings{Node: n.Name, RemoteClient: slices.Contains(n.Roles, roleRemoteClusterClient),
			Static: static, Legacy: legacy})
	}
	slices.SortFunc(out, func(a, b NodeSecurity) int { return strings.Compare(a.Node, b.Node) })
	slices.SortFunc(links, func(a, b NodeLinkSettings) int { return strings.Compare(a.Node, b.Node) })
	return out, links, x.License, nil
}

// settingBool reads a boolean flat setting, def when absent or not a boolean.
func settingBool(flat map[string]any, key string, def bool) bool {
	if s, ok := flat[key].(string); ok {
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	}
	return def
}

// apiKeyPrerequisitesMet reports whether one side of an API-key link meets
// the model's prerequisites ("Add remote clusters using API key
// authentication"): every node on 8.14 or later (GA), security on, the
// enterprise license; on the remote side also the remote cluster server
// enabled with TLS on every node. ok is false when nothing is known.
func apiKeyPrerequisitesMet(nodes []NodeSecurity, lic *License, remote bool) (met, ok bool) {
	if len(nodes) == 0 || lic == nil {
		return false, false
	}
	if !lic.AllowsAPIKeyModel() {
		return false, true
	}
	for _, n := range nodes {
		v, err := esversion.Parse(n.Version)
		if err != nil || !v.AtLeast(8, 14) || !n.SecurityEnabled {
			return false, true
		}
		if remote && !n.RemoteClusterServerTLS {
			return false, true
		}
	}
	return true, true
}

// prerequisitesMet reports whether every node has security and transport
// TLS on; ok is false when nothing is known.
func prerequisitesMet(nodes []NodeSecurity) (met, ok bool) {
	if len(nodes) == 0 {
		return false, false
	}
	for _, n := range nodes {
		if !n.SecurityEnabled || !n.TransportTLS {
			return false, true
		}
	}
	return true, true
}
