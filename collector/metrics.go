package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "es_remote"

var (
	clusterLabels = []string{"es_cluster"}
	linkLabels    = []string{"es_cluster", "remote"}
	checkLabels   = []string{"es_cluster", "check"}
)

// MetricDef describes one exported metric; Definitions lists them all, for
// the README's metrics table and the tests that keep it honest. Rendering
// reads it too: a metric's family index is its position in definitions,
// and snapshots keep their rendered samples by that index.
type MetricDef struct {
	Name   string
	Type   string // gauge or counter
	Help   string
	Labels []string // in the order values are passed to the renderer
	order  []int    // positions in Labels, sorted by label name (exposition order)
}

var (
	definitions []MetricDef
	familyIndex = map[*prometheus.Desc]int{}
)

// Definitions returns every metric the pollers export.
func Definitions() []MetricDef { return definitions }

func newDesc(subsystem, name, help string, labels []string) *prometheus.Desc {
	fq := prometheus.BuildFQName(namespace, subsystem, name)
	typ := "gauge"
	if strings.HasSuffix(fq, "_total") {
		typ = "counter"
	}
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	d := prometheus.NewDesc(fq, help, labels, nil)
	familyIndex[d] = len(definitions)
	definitions = append(definitions, MetricDef{Name: fq, Type: typ, Help: help, Labels: labels, order: order})
	return d
}

// Every metric the poller exports. Each HELP says which API the value comes
// from; all of them are polled on poll_interval, never fetched on scrape.
var (
	descClusterUp = newDesc("cluster", "up",
		"1 when the last poll reached the cluster's HTTP API (GET /) and was authorised, else 0. Polled.",
		clusterLabels)
	descClusterInfo = newDesc("cluster", "info",
		"Identity of the monitored cluster from GET /, value 1. Polled.",
		[]string{"es_cluster", "cluster_name", "cluster_uuid", "version"})

	descLinkConnected = newDesc("link", "connected",
		"1 when GET /_remote/info reports the remote connected (nodes or proxy sockets open now), else 0. Elasticsearch does not reconnect by itself: 0 may only mean nothing needed the link yet. Polled.",
		linkLabels)
	descLinkSkipUnavailable = newDesc("link", "skip_unavailable",
		"1 when searches skip this remote if it is unavailable (skip_unavailable from GET /_remote/info), else 0. Polled.",
		linkLabels)
	descLinkInitialConnectTimeout = newDesc("link", "initial_connect_timeout_seconds",
		"initial_connect_timeout from GET /_remote/info, in seconds. Polled.",
		linkLabels)
	descLinkNodesConnected = newDesc("link", "nodes_connected",
		"Remote gateway nodes connected (num_nodes_connected from GET /_remote/info), sniff mode only. Polled.",
		linkLabels)
	descLinkMaxConnections = newDesc("link", "max_connections",
		"Gateway node connections the link aims for (max_connections_per_cluster from GET /_remote/info), sniff mode only. Polled.",
		linkLabels)
	descLinkProxySocketsConnected = newDesc("link", "proxy_sockets_connected",
		"Sockets open to the proxy address (num_proxy_sockets_connected from GET /_remote/info), proxy mode only. Polled.",
		linkLabels)
	descLinkMaxProxySockets = newDesc("link", "max_proxy_sockets",
		"Sockets the link aims for (max_proxy_socket_connections from GET /_remote/info), proxy mode only. Polled.",
		linkLabels)
	descLinkInfo = newDesc("link", "info",
		"Configuration of a remote link from GET /_remote/info, value 1. auth is api_key when cluster_credentials is reported, else certificate. seeds is the comma-joined seed list (sniff). Polled.",
		[]string{"es_cluster", "remote", "mode", "auth", "seeds", "proxy_address", "server_name"})
	descLinkReachable = newDesc("link", "reachable",
		"1 when GET /_resolve/cluster, which actively contacts the remote, reports it connected, else 0. Only for clusters on 8.13 or later. Polled.",
		linkLabels)

	descClusterNodes = newDesc("cluster", "nodes",
		"Nodes of the cluster running each version, from GET /_nodes/_all/_none. More than one version is a rolling upgrade in progress or stuck. Polled.",
		[]string{"es_cluster", "version"})
	descNodeInfo = newDesc("cluster", "node_info",
		"One node of the cluster from GET /_nodes/_all/_none, value 1; roles comma-joined. Polled.",
		[]string{"es_cluster", "node", "version", "roles"})
	descMixedSince = newDesc("cluster", "mixed_versions_since_timestamp_seconds",
		"Unix time since when the exporter has seen the cluster's nodes run more than one version; absent while they agree. Polled.",
		clusterLabels)
	descLinkTarget = newDesc("link", "target_info",
		"The monitored cluster (es_cluster of its own series) behind a remote alias, value 1; match is config (clusters[].links) or transport_address (seeds or proxy address name its nodes). Polled.",
		[]string{"es_cluster", "remote", "target", "match"})
	descLinkRemoteVersion = newDesc("link", "remote_version_info",
		"A version the remote side of the link runs, value 1 per distinct version; source is nodes (every node of the monitored remote cluster) or resolve_cluster (the version GET /_resolve/cluster reports). Polled.",
		[]string{"es_cluster", "remote", "version", "source"})
	descLinkCompatibility = newDesc("link", "compatibility_info",
		"Version compatibility of the link's worst local/remote node pair, value 1. rule is supported (Elastic's compatibility table and policy) or wire (the transport handshake's minimum wire version); verdict is compatible, incompatible or unknown (no rule, or a side's versions unknown); local_version and remote_version name the deciding pair. Polled.",
		[]string{"es_cluster", "remote", "rule", "verdict", "local_version", "remote_version"})

	descClusterCertNotAfter = newDesc("cluster", "certificate_not_after_timestamp_seconds",
		"Expiry (not after) of each certificate the answering node has configured, from GET /_ssl/certificates (node-local: node names it), as a Unix time. Polled.",
		[]string{"es_cluster", "node", "path", "format", "alias", "subject", "issuer", "serial", "has_private_key"})
	descCertListing = newDesc("cluster", "certificate_listing_success",
		"1 when GET /_ssl/certificates of the node, asked through its HTTP publish address, succeeded in the last round, else 0. Only with transport.certificates_from_all_nodes; polled every transport.probe_interval.",
		[]string{"es_cluster", "node"})
	descLocalProbeSuccess = newDesc("cluster", "transport_probe_success",
		"1 when a TLS handshake with one of the cluster's own nodes on its transport address completed (the chain was seen), else 0. Probed on transport.probe_interval when transport.probe_local_nodes is set.",
		[]string{"es_cluster", "address"})
	descLocalPresentedNotAfter = newDesc("cluster", "transport_certificate_not_after_timestamp_seconds",
		"Expiry of each certificate one of the cluster's own nodes presented on its transport port (role leaf, intermediate or ca), as a Unix time. Probed.",
		[]string{"es_cluster", "address", "role", "subject", "issuer", "serial"})
	descLinkProbeSuccess = newDesc("link", "transport_probe_success",
		"1 when a TLS handshake with the link's seed or proxy address completed far enough to see the remote's chain, else 0. Probed on transport.probe_interval.",
		[]string{"es_cluster", "remote", "address"})
	descLinkProbeInfo = newDesc("link", "transport_probe_info",
		"How the last probe of a remote transport address went, value 1: tls_version negotiated, client_auth (not_requested, accepted, rejected, unknown) and the TLS alert the peer sent, if any. Probed.",
		[]string{"es_cluster", "remote", "address", "tls_version", "client_auth", "peer_alert"})
	descLinkPresentedNotAfter = newDesc("link", "transport_certificate_not_after_timestamp_seconds",
		"Expiry of each certificate the remote presented at a seed or proxy address (role leaf, intermediate or ca), as a Unix time. Probed.",
		[]string{"es_cluster", "remote", "address", "role", "subject", "issuer", "serial"})
	descLinkTrust = newDesc("link", "trust_info",
		"Transport trust of a link, value 1 per direction: local_trusts_remote (the remote's presented chain against this cluster's transport CAs) and remote_trusts_local (this cluster's identity in a real handshake, or its chain against the remote's CAs); status trusted, untrusted or unknown; basis handshake, files or issuer_match; reason when not trusted. Polled and probed.",
		[]string{"es_cluster", "remote", "direction", "status", "basis", "reason"})
	descLinkEarliest = newDesc("link", "certificate_earliest_not_after_timestamp_seconds",
		"The earliest expiry among the certificates the link depends on that the exporter has seen (both sides' leaf, intermediates and CAs), as a Unix time; the labels name that certificate. Probed.",
		[]string{"es_cluster", "remote", "side", "role", "subject", "serial"})
	descNodeSecurity = newDesc("cluster", "node_security_enabled",
		"1 when security is enabled on the node (xpack.security.enabled from GET /_nodes/settings, else Elasticsearch's default: on from 8.0, on 7.x what GET /_xpack reports), else 0. Polled every transport.probe_interval.",
		[]string{"es_cluster", "node"})
	descNodeTransportTLS = newDesc("cluster", "node_transport_tls_enabled",
		"1 when TLS is on for the node's transport interface (security enabled and xpack.security.transport.ssl.enabled true in GET /_nodes/settings), else 0. Polled every transport.probe_interval.",
		[]string{"es_cluster", "node"})
	descLinkPrerequisites = newDesc("link", "prerequisites_met",
		"1 when every node on that side of the link has security and transport TLS enabled (the spec's prerequisites), else 0; side is local, or remote when the remote cluster is monitored too. Polled every transport.probe_interval.",
		[]string{"es_cluster", "remote", "side"})
	descRemoteClientNodes = newDesc("cluster", "remote_client_nodes",
		"Nodes with the remote_cluster_client role (from GET /_nodes/settings): the nodes that connect to remotes and on which every link should be defined. Polled every transport.probe_interval.",
		clusterLabels)
	descLinkSettingsNodes = newDesc("link", "settings_nodes",
		"remote_cluster_client nodes on which the link is defined (its seeds or proxy address set), from GET /_cluster/settings and each node's GET /_nodes/settings; source is dynamic (cluster settings), static (elasticsearch.yml) or both. Below es_remote_cluster_remote_client_nodes, the link works or not depending on which node coordinates a request. Polled every transport.probe_interval.",
		[]string{"es_cluster", "remote", "source"})
	descLinkSettingConflict = newDesc("link", "setting_conflict",
		"A link setting (mode, seeds, proxy_address, skip_unavailable, transport.compress, transport.ping_schedule) whose value differs between_nodes, or static_vs_dynamic (an elasticsearch.yml value the cluster setting overrides), value 1; absent when consistent. Polled every transport.probe_interval.",
		[]string{"es_cluster", "remote", "setting", "kind"})
	descLinkRoleStatus = newDesc("link", "role_status",
		"Whether a role the link relies on (clusters[].links.<alias>.roles) exists on that side with the privileges the spec lists for the purpose: 1 for the current status (ok, missing, insufficient, unknown), 0 for the others. From GET /_security/role on both clusters. Polled every transport.probe_interval.",
		[]string{"es_cluster", "remote", "role", "purpose", "side", "status"})
	descLinkRoleMissingPrivilege = newDesc("link", "role_missing_privilege",
		"A privilege (cluster:<name> or indices:<name>) the role lacks on that side for the purpose, value 1; absent when none is missing. Polled every transport.probe_interval.",
		[]string{"es_cluster", "remote", "role", "purpose", "side", "privilege"})
	descLastProbe = newDesc("exporter", "last_transport_probe_timestamp_seconds",
		"Unix time of the cluster's last transport probe round (every transport.probe_interval).",
		clusterLabels)

	descCheckSuccess = newDesc("exporter", "check_success",
		"1 when the check's request succeeded in the last poll, else 0. Polled.",
		checkLabels)
	descCheckDuration = newDesc("exporter", "check_duration_seconds",
		"Wall time the check took in the last poll, in seconds. Polled.",
		checkLabels)
	descLastSuccess = newDesc("exporter", "last_success_timestamp_seconds",
		"Unix time of the check's last success; absent until it first succeeds. Polled.",
		checkLabels)
	descCheckFailures = newDesc("exporter", "check_failures_total",
		"Polls in which the check failed, by bounded reason (see the README). Polled.",
		[]string{"es_cluster", "check", "reason"})
)

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
