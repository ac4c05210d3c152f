package simulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// mainAction is GET / (RestMainAction, action cluster:monitor/main). Field
// order follows MainResponse.toXContent (verified against the recorded 8.19
// and 9.0 responses).
func (c *Cluster) mainAction(r *http.Request, ver esVersion) response {
	if _, deny := c.begin(r, ver, nil, clusterAction("cluster:monitor/main")); deny != nil {
		return *deny
	}
	name := c.answeringNodeName(r)
	body := obj{}.
		set("name", name).
		set("cluster_name", c.name).
		set("cluster_uuid", c.uuid).
		set("version", obj{}.
			set("number", ver.str).
			set("build_flavor", "default").
			set("build_type", "docker").
			set("build_hash", buildHash(ver)).
			set("build_date", buildDate(ver)).
			set("build_snapshot", ver.v.Qualifier == "SNAPSHOT").
			set("lucene_version", ver.lucene).
			set("minimum_wire_compatibility_version", ver.minWire().String()).
			set("minimum_index_compatibility_version", ver.minIndex())).
		set("tagline", "You Know, for Search")
	return jsonResponse(ver, r, http.StatusOK, body)
}

func hasRole(roles []string, role string) bool { return slices.Contains(roles, role) }

// remoteInfoAction is GET /_remote/info (RestRemoteClusterInfoAction,
// TransportRemoteInfoAction). Per alias the fields follow
// RemoteConnectionInfo.toXContent: connected, mode, <mode fields>,
// initial_connect_timeout, skip_unavailable, cluster_credentials (only for
// API-key remotes, constant "::es_redacted::", last). Sniff mode fields
// (SniffModeInfo): seeds, num_nodes_connected, max_connections_per_cluster;
// proxy (ProxyModeInfo): proxy_address, server_name,
// num_proxy_sockets_connected, max_proxy_socket_connections. Aliases come
// from a ConcurrentHashMap in ES (hash order); the simulator emits them in
// hash order (hashOrder) so clients cannot rely on any order.
func (c *Cluster) remoteInfoAction(r *http.Request, ver esVersion) response {
	if _, deny := c.begin(r, ver, nil, clusterAction("cluster:monitor/remote/info")); deny != nil {
		return *deny
	}
	idx := answeringIndex(r)
	c.mu.Lock()
	nodeName, roles := c.nodes[idx].name, c.nodes[idx].roles
	c.mu.Unlock()
	if !hasRole(roles, "remote_cluster_client") {
		// TransportRemoteInfoAction.doExecute (verified).
		return errorResponse(ver, r, illegalArgument("node ["+nodeName+"] does not have the [remote_cluster_client] role"))
	}
	// The answering node's own links (static ones only where configured,
	// clustersettings.go) with its effective settings.
	local, states := c.observeLinksOn(idx)
	// 7.x renders TimeValue.getStringRep(), 8.x/9.x TimeValue.toString()
	// (RemoteConnectionInfo.toXContent in each line).
	timeout := timeValueString(c.connectTimeout)
	if local.v.Major == 7 {
		timeout = timeValueStringRep(c.connectTimeout)
	}
	out := obj{}
	for _, st := range hashOrder(states, func(s linkState) string { return s.spec.Alias }) {
		l := st.spec
		info := obj{}.set("connected", st.count > 0).set("mode", l.Mode)
		if l.Mode == "proxy" {
			info = info.set("proxy_address", l.ProxyAddress).
				set("server_name", l.ServerName).
				set("num_proxy_sockets_connected", st.count).
				set("max_proxy_socket_connections", l.ProxySocketConnections)
		} else {
			info = info.set("seeds", slices.Clone(l.Seeds)).
				set("num_nodes_connected", st.count).
				set("max_connections_per_cluster", l.NodeConnections)
		}
		info = info.set("initial_connect_timeout", timeout).
			set("skip_unavailable", skipUnavailable(local, l))
		if l.APIKeyAuth && local.atLeast(8, 10) {
			info = info.set("cluster_credentials", "::es_redacted::")
		}
		out = out.set(l.Alias, info)
	}
	return jsonResponse(ver, r, http.StatusOK, out)
}

// nodeInfoMetrics are the metric names RestNodesInfoAction accepts.
var nodeInfoMetrics = []string{"settings", "os", "process", "jvm", "thread_pool", "transport", "http",
	"remote_cluster_server", "plugins", "ingest", "aggregations", "indices", "_all", "_none"}

// nodesInfoAction is GET /_nodes[/<nodes>[/<metrics>]] (RestNodesInfoAction,
// NodesInfoResponse.toXContent). Per node: name, transport_address, host,
// ip, version, transport_version (8.8+), index_version (8.11+),
// component_versions (8.13+; NOTES says 8.12/8.13, unverified), build_flavor,
// build_type, build_hash, total_indexing_buffer (indices metric), roles
// (sorted), attributes, then settings (settings metric, right after
// attributes in NodesInfoResponse.toXContent of 7.x and 8.x; settings.go),
// then http (http metric: each node's own HTTP listener, httpInfo). The
// other metric sections (os, jvm, transport, ...) are NOT simulated.
// _local is the node the request was sent to. No metric
// (GET /_nodes, /_nodes/<nodes>) means all metrics, settings included.
func (c *Cluster) nodesInfoAction(r *http.Request, ver esVersion, rest []string) response {
	if _, deny := c.begin(r, ver, []string{"flat_settings", "timeout"}, clusterAction("cluster:monitor/nodes/info")); deny != nil {
		return *deny
	}
	nodeIDs, metrics := []string{"_all"}, []string{"_all"}
	switch len(rest) {
	case 1:
		toks := strings.Split(rest[0], ",")
		// remote_cluster_server is a metric from 8.8 (PR #94444); before,
		// the token names nodes (none match): remotecluster.go.
		isMetric := func(t string) bool {
			return slices.Contains(nodeInfoMetrics, t) && (t != "remote_cluster_server" || ver.atLeast(8, 8))
		}
		if !slices.ContainsFunc(toks, func(t string) bool { return !isMetric(t) }) {
			metrics = toks
		} else {
			nodeIDs = toks
		}
	case 2:
		nodeIDs, metrics = strings.Split(rest[0], ","), strings.Split(rest[1], ",")
	}
	withIndices := slices.Contains(metrics, "_all") || slices.Contains(metrics, "indices")
	withSettings := slices.Contains(metrics, "_all") || slices.Contains(metrics, "settings")
	withHTTP := slices.Contains(metrics, "_all") || slices.Contains(metrics, "http")
	withRCS := slices.Contains(metrics, "_all") || slices.Contains(metrics, "remote_cluster_server")
	flat := false
	if q := r.URL.Query(); withSettings && q.Has("flat_settings") {
		// Settings#toXContent reads the parameter while rendering.
		var e *esError
		if flat, e = parseRestBool(q.Get("flat_settings")); e != nil {
			return errorResponse(ver, r, *e)
		}
	}

	local := answeringIndex(r)
	c.mu.Lock()
	nodes := make([]nodeView, len(c.nodes))
	settings := map[string]map[string]any{}
	httpPorts := map[string]int{}
	rcsAddrs := map[string]string{} // remotecluster.go
	for i, n := range c.nodes {
		nodes[i] = nodeView{id: n.id, name: n.name, ver: n.ver, roles: n.roles, addr: n.addr, unresponsive: n.unresponsive && i != local}
		if withSettings {
			settings[n.id] = c.nodeSettingsLocked(n, ver)
		}
		httpPorts[n.id] = n.httpPort
		var nv nodeView
		c.rcsViewLocked(i, &nv)
		rcsAddrs[n.id] = nv.rcsAddr
	}
	c.mu.Unlock()
	var selected []nodeView
	for i, n := range nodes {
		for _, id := range nodeIDs {
			if id == "_all" || id == "*" || (id == "_local" && i == local) ||
				(id == "_master" && i == firstMaster(nodes)) || simpleMatch(id, n.id) || simpleMatch(id, n.name) {
				selected = append(selected, n)
				break
			}
		}
	}
	nodesObj := obj{}
	var failures []any
	for _, n := range hashOrder(selected, func(n nodeView) string { return n.id }) {
		if n.unresponsive {
			failures = append(failures, nodeFailure(n))
			continue
		}
		o := obj{}.set("name", n.name).
			set("transport_address", n.addr).
			set("host", "127.0.0.1").
			set("ip", "127.0.0.1").
			set("version", n.ver.str)
		if ver.atLeast(8, 8) {
			o = o.set("transport_version", n.ver.transportID)
		}
		if ver.atLeast(8, 11) {
			o = o.set("index_version", n.ver.indexID)
		}
		if ver.atLeast(8, 13) {
			// Values from the 8.19 sample; unverified for other versions.
			o = o.set("component_versions", obj{}.set("ml_config_version", 12000099).set("transform_config_version", 10000099))
		}
		o = o.set("build_flavor", "default").
			set("build_type", "docker").
			set("build_hash", buildHash(n.ver))
		if withIndices {
			o = o.set("total_indexing_buffer", int64(107374182)) // illustrative (10% of a 1 GiB heap)
		}
		o = o.set("roles", slices.Clone(n.roles)).set("attributes", nodeAttributes(ver, n))
		if withSettings {
			o = o.set("settings", restSettings(settings[n.id], flat))
		}
		// os, process, jvm, thread_pool and transport (not simulated) come
		// between settings and http in NodesInfoResponse.toXContent.
		if withHTTP {
			o = o.set("http", httpInfo(r, httpPorts[n.id]))
		}
		if a := rcsAddrs[n.id]; withRCS && a != "" {
			// RemoteClusterServerInfo#toXContent, right after http
			// (remotecluster.go).
			o = o.set("remote_cluster_server", obj{}.set("bound_address", []any{a}).set("publish_address", a))
		}
		nodesObj = nodesObj.set(n.id, o)
	}
	header := obj{}.set("total", len(selected)).set("successful", len(selected)-len(failures)).set("failed", len(failures))
	if len(failures) > 0 {
		header = header.set("failures", failures)
	}
	body := obj{}.
		set("_nodes", header).
		set("cluster_name", c.name).
		set("nodes", nodesObj)
	return jsonResponse(ver, r, http.StatusOK, body)
}

// nodeFailure is one entry of _nodes.failures for a node that did not
// answer: RestActions.buildNodesHeader renders each FailedNodeException
// through ElasticsearchException.generateFailureXContent: type
// failed_node_exception, reason "Failed node [<id>]", its node_id metadata
// (FailedNodeException.metadataToXContent), and the cause, here the
// disconnect TransportNodesAction sees (node_disconnected_exception; the
// cause's exact text is unverified).
func nodeFailure(n nodeView) obj {
	return obj{}.set("type", "failed_node_exception").
		set("reason", "Failed node ["+n.id+"]").
		set("node_id", n.id).
		set("caused_by", obj{}.set("type", "node_disconnected_exception").
			set("reason", "["+n.name+"]["+n.addr+"][cluster:monitor/nodes/info[n]] disconnected"))
}

// httpMaxContentLength is http.max_content_length's default, 100mb
// (HttpTransportSettings.SETTING_HTTP_MAX_CONTENT_LENGTH, verified).
const httpMaxContentLength = 100 * 1024 * 1024

// httpInfo is a node's "http" section (HttpInfo.toXContent, verified in
// 8.x/main source): bound_address (BoundTransportAddress#boundAddresses,
// each TransportAddress#toString; the node binds 127.0.0.1 only),
// publish_address ("host:port" when the publish host is an IP literal,
// "hostname/ip:port" otherwise), then max_content_length_in_bytes through
// humanReadableField (with ?human the readable "max_content_length": "100mb"
// comes first; ByteSizeValue#toString, unverified rendering).
func httpInfo(r *http.Request, port int) obj {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	o := obj{}.set("bound_address", []any{addr}).set("publish_address", addr)
	if restFlag(r, "human") {
		o = o.set("max_content_length", "100mb")
	}
	return o.set("max_content_length_in_bytes", int64(httpMaxContentLength))
}

func firstMaster(nodes []nodeView) int {
	return slices.IndexFunc(nodes, func(n nodeView) bool { return hasRole(n.roles, "master") })
}

// nodeAttributes: 8.10+ as in the 8.19 sample (ml/transform config versions
// and xpack.installed); earlier lines get the ML attributes of the era
// (unverified values and sets).
func nodeAttributes(ver esVersion, n nodeView) obj {
	if ver.atLeast(8, 10) {
		return obj{}.set("ml.config_version", "12.0.0").set("transform.config_version", "10.0.0").set("xpack.installed", "true")
	}
	o := obj{}
	if hasRole(n.roles, "ml") {
		o = o.set("ml.machine_memory", "8589934592").set("ml.max_jvm_size", "4294967296")
	}
	o = o.set("xpack.installed", "true")
	if ver.v.Major == 7 {
		o = o.set("transform.node", strconv.FormatBool(hasRole(n.roles, "transform")))
		if hasRole(n.roles, "ml") {
			o = o.set("ml.max_open_jobs", "512")
		}
	}
	return o
}

// simpleMatch is Regex.simpleMatch with '*' wildcards only.
func simpleMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return strings.HasSuffix(s, last)
}

// getIndexAction stands for GET /{index} (RestGetIndicesAction, action
// indices:admin/get), where RestController routes every unknown
// single-segment path. Missing names give IndexNotFoundException (404); the
// body for an existing index is a minimal, unverified shape.
func (c *Cluster) getIndexAction(r *http.Request, ver esVersion, name string) response {
	params := []string{"local", "ignore_unavailable", "allow_no_indices", "expand_wildcards",
		"flat_settings", "include_defaults", "master_timeout", "features", "ignore_throttled"}
	if _, deny := c.begin(r, ver, params, indexAction("indices:admin/get", getIndexGrants)); deny != nil {
		return *deny
	}
	out := obj{}
	for _, expr := range strings.Split(name, ",") {
		wild := expr == "_all" || strings.Contains(expr, "*")
		found := false
		for _, idx := range c.indexNames() {
			if (wild && simpleMatch(strings.ReplaceAll(expr, "_all", "*"), idx)) || idx == expr {
				found = true
				out = out.set(idx, obj{}.set("aliases", obj{}).set("mappings", obj{}).
					set("settings", obj{}.set("index", obj{}.set("number_of_shards", "1").
						set("number_of_replicas", "1").set("provided_name", idx))))
			}
		}
		if !found && !wild {
			return errorResponse(ver, r, indexNotFound(expr))
		}
	}
	return jsonResponse(ver, r, http.StatusOK, out)
}

// getDocAction stands for 7.x's typed GET /{index}/{type}/{id}
// (RestGetAction, action indices:data/read/get, granted by read/all;
// unverified list order). Documents are not simulated: a missing index is
// IndexNotFoundException, an existing one answers found:false (404).
func (c *Cluster) getDocAction(r *http.Request, ver esVersion, index, typ, id string) response {
	params := []string{"refresh", "routing", "preference", "realtime", "stored_fields",
		"_source", "_source_includes", "_source_excludes", "version", "version_type"}
	if _, deny := c.begin(r, ver, params, indexAction("indices:data/read/get", []string{"read", "all"})); deny != nil {
		return *deny
	}
	if !slices.Contains(c.indexNames(), index) {
		return errorResponse(ver, r, indexNotFound(index))
	}
	return jsonResponse(ver, r, http.StatusNotFound,
		obj{}.set("_index", index).set("_type", typ).set("_id", id).set("found", false))
}
