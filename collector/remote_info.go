package collector

import (
	"context"
	"fmt"
	"sort"

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

// Auth is how the link authenticates to the remote: "api_key" when
// Elasticsearch reports cluster_credentials, else "certificate" (the TLS
// certificate model, deprecated since 9.0).
// Addresses are the transport addresses the link dials: its proxy address
// in proxy mode, else its seeds.
func (l *RemoteLink) Addresses() []string {
	if l.ProxyAddress != nil {
		return []string{*l.ProxyAddress}
	}
	return l.Seeds
}

func (l *RemoteLink) Auth() string {
	if l.ClusterCredentials != nil {
		return "api_key"
	}
	return "certificate"
}

func (c *Client) remoteInfo(ctx context.Context) ([]RemoteLink, *CheckError) {
	var raw map[string]*RemoteLink
	if err := c.do(ctx, "GET /_remote/info", esapi.ClusterRemoteInfoRequest{}, &raw); err != nil {
		return nil, err
	}
	return normalizeRemoteInfo(raw)
}

// normalizeRemoteInfo turns the alias-keyed map (hash-ordered by
// Elasticsearch) into a slice sorted by alias, so that snapshots are stable.
func normalizeRemoteInfo(raw map[string]*RemoteLink) ([]RemoteLink, *CheckError) {
	links := make([]RemoteLink, 0, len(raw))
	for alias, l := range raw {
		if l == nil {
			return nil, invalidBody("GET /_remote/info", nil, fmt.Errorf("remote %q is null", alias))
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
