package simulator

import (
	"net/http"
	"slices"
	"strconv"
)

// Where remote links are configured.
//
// A remote alias is defined by the settings cluster.remote.<alias>.*
// (RemoteClusterService / RemoteConnectionStrategy, SniffConnectionStrategy
// and ProxyConnectionStrategy affix settings: mode, seeds, proxy_address,
// server_name, skip_unavailable, node_connections,
// proxy_socket_connections, transport.compress, transport.ping_schedule;
// key names from memory of those classes, unverified against a checkout).
// They are dynamic settings, so they can come from two places:
//
//   - elasticsearch.yml (LinkSpec.Static, on LinkSpec.StaticNodes): part of
//     the node's Settings, hence in GET /_nodes/settings of those nodes
//     only, never in GET /_cluster/settings;
//   - the cluster settings API (the default): persistent cluster settings,
//     in GET /_cluster/settings and applied on every node.
//
// A node applies its own Settings overlaid by the cluster's persistent
// and transient settings key by key (AbstractScopedSettings#applySettings
// builds Settings.builder().put(nodeSettings).put(clusterSettings); from
// memory, unverified), which is the documented rule "Remote cluster
// settings that are specified using the cluster update settings API take
// precedence over settings that you specify in elasticsearch.yml". So the
// simulator merges a node's static definition with the dynamic one key by
// key and derives the node's effective link from the result.
// GET /_remote/info answers with the links of the node that received the
// request (TransportRemoteInfoAction reads the local RemoteClusterService).
// Connection state is kept per alias, not per node (simplification).
//
// Settings written for a definition: mode only when LinkSpec.Mode is set,
// seeds (sniff) or proxy_address (proxy) always (a remote needs them; the
// simulator's defaults count as written), every other key only when its
// LinkSpec field is set. Values are strings, seeds a list.

// linkDef is one definition of a remote alias.
type linkDef struct {
	remote   string   // the simulated cluster behind it
	apiKey   bool     // cluster_credentials in the keystore
	apiKeyID string   // the key those credentials are (LinkSpec.APIKeyID)
	nodes    []string // static definition: the nodes that have it
	settings map[string]any
	legacy   bool // written under search.remote.* (LinkSpec.LegacySearchRemote)
}

// remoteSettings renders a LinkSpec as the keys under
// cluster.remote.<alias>. (seeds and proxy address already defaulted).
func remoteSettings(l LinkSpec) map[string]any {
	m := map[string]any{}
	if l.Mode != "" {
		m["mode"] = l.Mode
	}
	if l.Mode == "proxy" {
		m["proxy_address"] = l.ProxyAddress
		if l.ProxySocketConnections != 0 {
			m["proxy_socket_connections"] = strconv.Itoa(l.ProxySocketConnections)
		}
	} else {
		if len(l.Seeds) > 0 {
			m["seeds"] = slices.Clone(l.Seeds)
		}
		if l.NodeConnections != 0 {
			m["node_connections"] = strconv.Itoa(l.NodeConnections)
		}
	}
	if l.ServerName != "" {
		m["server_name"] = l.ServerName
	}
	if l.SkipUnavailable != nil {
		m["skip_unavailable"] = strconv.FormatBool(*l.SkipUnavailable)
	}
	if l.TransportCompress != "" {
		m["transport.compress"] = l.TransportCompress
	}
	if l.PingSchedule != "" {
		m["transport.ping_schedule"] = l.PingSchedule
	}
	return m
}

// effectiveLink is the link as the named node applies it: its static
// definition overlaid by the dynamic one. Callers hold c.mu.
func effectiveLink(l *link, alias, nodeName string) (LinkSpec, bool) {
	merged := map[string]any{}
	var base *linkDef
	for i := range l.statics {
		if slices.Contains(l.statics[i].nodes, nodeName) {
			base = &l.statics[i]
			for k, v := range base.settings {
				merged[k] = v
			}
		}
	}
	if l.dynamic != nil {
		base = l.dynamic
		for k, v := range l.dynamic.settings {
			merged[k] = v
		}
	}
	if base == nil {
		return LinkSpec{}, false
	}
	spec := LinkSpec{Alias: alias, Remote: base.remote, APIKeyAuth: base.apiKey, APIKeyID: base.apiKeyID, Mode: "sniff",
		NodeConnections: 3, ProxySocketConnections: 18, Static: l.dynamic == nil}
	str := func(k string) string { s, _ := merged[k].(string); return s }
	if m := str("mode"); m != "" {
		spec.Mode = m
	}
	spec.Seeds, _ = merged["seeds"].([]string)
	spec.Seeds = slices.Clone(spec.Seeds)
	spec.ProxyAddress, spec.ServerName = str("proxy_address"), str("server_name")
	if v := str("skip_unavailable"); v != "" {
		b := v == "true"
		spec.SkipUnavailable = &b
	}
	if n, err := strconv.Atoi(str("node_connections")); err == nil {
		spec.NodeConnections = n
	}
	if n, err := strconv.Atoi(str("proxy_socket_connections")); err == nil {
		spec.ProxySocketConnections = n
	}
	spec.TransportCompress, spec.PingSchedule = str("transport.compress"), str("transport.ping_schedule")
	return spec, true
}

// refreshLinkLocked recomputes l.spec for the link's primary node.
// Callers hold c.mu.
func (c *Cluster) refreshLinkLocked(l *link, alias string) {
	for _, n := range c.nodes {
		if spec, ok := effectiveLink(l, alias, n.name); ok {
			l.spec, l.primary = spec, n.name
			return
		}
	}
	l.spec, l.primary = LinkSpec{Alias: alias}, ""
}

// onNode: the named node has a definition of the link.
func (l *link) onNode(nodeName string) bool {
	if l.dynamic != nil {
		return true
	}
	return slices.ContainsFunc(l.statics, func(d linkDef) bool { return slices.Contains(d.nodes, nodeName) })
}

// staticRemoteSettingsLocked adds the node's elasticsearch.yml remote
// definitions to its settings map (nodeSettingsLocked).
func (c *Cluster) staticRemoteSettingsLocked(n *node, m map[string]any) {
	for _, l := range c.links {
		for _, d := range l.statics {
			if !slices.Contains(d.nodes, n.name) {
				continue
			}
			prefix := "cluster.remote."
			if d.legacy {
				prefix = "search.remote."
			}
			for k, v := range d.settings {
				if d.legacy && k != "seeds" && k != "skip_unavailable" {
					continue // no search.remote.* name (links.go LinkSpec.LegacySearchRemote)
				}
				m[prefix+l.spec.Alias+"."+k] = v
			}
		}
	}
}

// persistentSettingsLocked is the cluster's persistent settings: the
// dynamic remote definitions (nothing else is simulated).
func (c *Cluster) persistentSettingsLocked() map[string]any {
	m := map[string]any{}
	for _, l := range c.links {
		if l.dynamic == nil {
			continue
		}
		for k, v := range l.dynamic.settings {
			m["cluster.remote."+l.spec.Alias+"."+k] = v
		}
	}
	return m
}

// clusterGetSettingsAction is GET /_cluster/settings
// (RestClusterGetSettingsAction; body RestClusterGetSettingsResponse
// #toXContent, verified: "persistent", then "transient", then "defaults"
// only when non-empty; each Settings#toXContent, nested unless
// flat_settings, settings.go). Parameters: include_defaults,
// master_timeout, local (7.17 reads it for its cluster state request;
// accepted on every version, unverified), flat_settings and
// settings_filter (Settings.FORMAT_PARAMS as response params). Only
// include_defaults=false is simulated: true answers a 500 that says so
// rather than a wrong body. Action: 7.17 and 8.0-8.2 read the cluster
// state (cluster:monitor/state), 8.3+ ClusterGetSettingsAction
// (cluster:monitor/settings; version boundary unverified); both granted
// by monitor, manage, all.
func (c *Cluster) clusterGetSettingsAction(r *http.Request, ver esVersion) response {
	action := "cluster:monitor/settings"
	if !ver.atLeast(8, 3) {
		action = "cluster:monitor/state"
	}
	params := []string{"flat_settings", "settings_filter", "include_defaults", "master_timeout", "local"}
	if _, deny := c.begin(r, ver, params, clusterAction(action)); deny != nil {
		return *deny
	}
	q := r.URL.Query()
	flat := false
	if q.Has("flat_settings") {
		var e *esError
		if flat, e = parseRestBool(q.Get("flat_settings")); e != nil {
			return errorResponse(ver, r, *e)
		}
	}
	if q.Has("include_defaults") {
		defaults, e := parseRestBool(q.Get("include_defaults"))
		if e != nil {
			return errorResponse(ver, r, *e)
		}
		if defaults {
			return errorResponse(ver, r, esError{status: http.StatusInternalServerError, typ: "illegal_state_exception",
				reason: "simulator: include_defaults=true is not simulated"})
		}
	}
	c.mu.Lock()
	persistent := c.persistentSettingsLocked()
	c.mu.Unlock()
	body := obj{}.set("persistent", restSettings(persistent, flat)).set("transient", obj{})
	return jsonResponse(ver, r, http.StatusOK, body)
}

// observeLinksOn observes the links of the node at index idx as
// GET /_remote/info on that node reports them: only the links that node
// has, each with its effective definition there, counted with that node's
// version and transport mode, and connected only while established.
func (c *Cluster) observeLinksOn(idx int) (esVersion, []linkState) {
	c.mu.Lock()
	n := c.nodes[idx]
	local, lm := n.ver, c.nodeModeLocked(n)
	type entry struct {
		l    *link
		spec LinkSpec
	}
	var entries []entry
	for _, l := range c.links {
		if spec, ok := effectiveLink(l, l.spec.Alias, n.name); ok {
			entries = append(entries, entry{l, spec})
		}
	}
	c.mu.Unlock()
	states := make([]linkState, len(entries))
	for i, e := range entries {
		v := c.sim.Cluster(e.spec.Remote).view()
		cnt, _ := capacity(local, lm, e.spec, v, nil)
		states[i] = linkState{spec: e.spec, count: cnt, ptr: e.l}
	}
	c.mu.Lock()
	for i := range states {
		st := &states[i]
		if st.count == 0 && st.ptr.primary == n.name {
			// A link whose remote went away loses its connection for
			// good, until a reconnect trigger (connectLinks); judged on
			// the link's primary node only.
			st.ptr.established = false
		}
		if !st.ptr.established {
			st.count = 0
		}
	}
	c.mu.Unlock()
	return local, states
}
