package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// CheckRemoteInfo is the name of the GET /_remote/info check.
const CheckRemoteInfo = "remote_info"

// RemoteLink is one alias of GET /_remote/info, as written by
// RemoteConnectionInfo.toXContent and the mode's ModeInfo (SniffModeInfo,
// ProxyModeInfo). Pointers mark fields that only one mode or version sends.
type RemoteLink struct {
	Alias     string `json:"-"`
	Connected bool   `json:"connected"`
	Mode      string `json:"mode"`
	// sniff
	Seeds                    []string `json:"seeds"`
	NumNodesConnected        *float64 `json:"num_nodes_connected"`
	MaxConnectionsPerCluster *float64 `json:"max_connections_per_cluster"`
	// proxy
	ProxyAddress              *string  `json:"proxy_address"`
	ServerName                *string  `json:"server_name"`
	NumProxySocketsConnected  *float64 `json:"num_proxy_sockets_connected"`
	MaxProxySocketConnections *float64 `json:"max_proxy_socket_connections"`

	InitialConnectTimeout string `json:"initial_connect_timeout"`
	SkipUnavailable       bool   `json:"skip_unavailable"`
	// "::es_redacted::" when cluster.remote.<alias>.credentials is in the
	// keystore, i.e. the link authenticates with a cross-cluster API key.
	ClusterCredentials *string `json:"cluster_credentials"`
}

// Addresses are the transport addresses the link dials: its proxy address
// in proxy mode, else its seeds.
func (l *RemoteLink) Addresses() []string {
	if l.ProxyAddress != nil {
		return []string{*l.ProxyAddress}
	}
	return l.Seeds
}

// Auth is how the link authenticates to the remote: "api_key" when
// Elasticsearch reports cluster_credentials, else "certificate" (the TLS
// certificate model, deprecated since 9.0).
func (l *RemoteLink) Auth() string {
	if l.ClusterCredentials != nil {
		return "api_key"
	}
	return "certificate"
}

func (c *Client) remoteInfo(ctx context.Context) ([]RemoteLink, *CheckError) {
	return memoized(ctx, c, "GET /_remote/info", esapi.ClusterRemoteInfoRequest{}, &c.remoteInfoMemo, parseRemoteInfo)
}

func parseRemoteInfo(body []byte) ([]RemoteLink, error) {
	var raw map[string]*RemoteLink
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	return normalizeRemoteInfo(raw)
}

// normalizeRemoteInfo turns the alias-keyed map (hash-ordered by
// Elasticsearch) into a slice sorted by alias, so that snapshots are stable.
func normalizeRemoteInfo(raw map[string]*RemoteLink) ([]RemoteLink, error) {
	links := make([]RemoteLink, 0, len(raw))
	for alias, l := range raw {
		if l == nil {
			return nil, fmt.Errorf("remote %q is null", alias)
		}
		l.Alias = alias
		if l.Mode == "" {
			// Before 7.6 there was only sniff mode and no "mode" field.
			l.Mode = "sniff"
		}
		links = append(links, *l)
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Alias < links[j].Alias })
	return links, nil
}

var (
	famLinkConnected = gauge("link", "connected",
		"1 when GET /_remote/info reports the remote connected (nodes or proxy sockets open now), else 0. Elasticsearch does not reconnect by itself: 0 may only mean nothing needed the link yet. Polled.",
		linkLabels...)
	famLinkSkipUnavailable = gauge("link", "skip_unavailable",
		"1 when searches skip this remote if it is unavailable (skip_unavailable from GET /_remote/info), else 0. Polled.",
		linkLabels...)
	famLinkInitialConnectTimeout = gauge("link", "initial_connect_timeout_seconds",
		"initial_connect_timeout from GET /_remote/info, in seconds. Polled.",
		linkLabels...)
	famLinkNodesConnected = gauge("link", "nodes_connected",
		"Remote gateway nodes connected (num_nodes_connected from GET /_remote/info), sniff mode only. Polled.",
		linkLabels...)
	famLinkMaxConnections = gauge("link", "max_connections",
		"Gateway node connections the link aims for (max_connections_per_cluster from GET /_remote/info), sniff mode only. Polled.",
		linkLabels...)
	famLinkProxySocketsConnected = gauge("link", "proxy_sockets_connected",
		"Sockets open to the proxy address (num_proxy_sockets_connected from GET /_remote/info), proxy mode only. Polled.",
		linkLabels...)
	famLinkMaxProxySockets = gauge("link", "max_proxy_sockets",
		"Sockets the link aims for (max_proxy_socket_connections from GET /_remote/info), proxy mode only. Polled.",
		linkLabels...)
	famLinkInfo = gauge("link", "info",
		"Configuration of a remote link from GET /_remote/info, value 1. auth is api_key when cluster_credentials is reported, else certificate. seeds is the comma-joined seed list (sniff). Polled.",
		"es_cluster", "remote", "mode", "auth", "seeds", "proxy_address", "server_name")
)

// remoteInfoCheck lists the links the answering node knows and their
// connection state.
var remoteInfoCheck = &check{
	name:     CheckRemoteInfo,
	schedule: everyPoll,
	families: []*Family{famLinkConnected, famLinkSkipUnavailable, famLinkInitialConnectTimeout, famLinkNodesConnected,
		famLinkMaxConnections, famLinkProxySocketsConnected, famLinkMaxProxySockets, famLinkInfo},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		var err *CheckError
		f.Links, err = p.client.remoteInfo(ctx)
		f.linksKnown = err == nil
		return err
	},
	renderedFrom: func(p *Poller, f *Facts) any { return refOf(f.Links) },
	render: func(p *Poller, f *Facts, out *renderer) {
		for i := range f.Links {
			l := &f.Links[i]
			out.add(famLinkConnected, boolFloat(l.Connected), p.name, l.Alias)
			out.add(famLinkSkipUnavailable, boolFloat(l.SkipUnavailable), p.name, l.Alias)
			if d, err := ParseTimeValue(l.InitialConnectTimeout); err == nil {
				out.add(famLinkInitialConnectTimeout, d.Seconds(), p.name, l.Alias)
			}
			for _, o := range []struct {
				f *Family
				v *float64
			}{{famLinkNodesConnected, l.NumNodesConnected}, {famLinkMaxConnections, l.MaxConnectionsPerCluster},
				{famLinkProxySocketsConnected, l.NumProxySocketsConnected}, {famLinkMaxProxySockets, l.MaxProxySocketConnections}} {
				if o.v != nil {
					out.add(o.f, *o.v, p.name, l.Alias)
				}
			}
			out.add(famLinkInfo, 1, p.name, l.Alias, l.Mode, l.Auth(),
				strings.Join(l.Seeds, ","), deref(l.ProxyAddress), deref(l.ServerName))
		}
	},
}
