package simulator

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
)

// Node settings, as GET /_nodes/settings reports them.
//
// NodeInfo carries the node's Settings as the node ended up with them:
// elasticsearch.yml, -E/docker environment settings, what Environment
// adds (path.home, path.logs; path.data only when configured) and the
// plugins' additionalSettings (node.attr.*, http.type / transport.type and
// their .default, 7.x's client.type and transport.features.x-pack). The
// simulator builds them from a docker-style configuration:
//
//	cluster.name, node.name, network.host: 127.0.0.1
//	node.roles                                   (only when NodeSpec.Roles is set)
//	node.attr.<attribute>                        (the nodes-info attributes)
//	xpack.security.enabled                       ("true"/"false", absent = default; security.go)
//	xpack.security.http.ssl.enabled: "true"      + keystore.path certs/http.p12 (HTTPS clusters)
//	xpack.security.transport.ssl.enabled: "true" + key, certificate, certificate_authorities,
//	                                               verification_mode (when TransportSpec sets it)
//	xpack.license.self_generated.type: trial     (trial clusters)
//	cluster.remote.<alias>.*                     (static links on this node, clustersettings.go)
//
// The samples this follows are nodes-info responses of 7.3-7.9 clusters
// with security and TLS on, and one with security off by license default
// (KubeDB documentation, nodes info with settings): settings show
// cluster.*, node.name, node.attr.*, path.home/path.logs, client.type,
// http/transport type and type.default, network.host and, of x-pack,
// only xpack.security.enabled and xpack.security.{http,transport}.ssl.enabled.
// That is the settings filter at work: RestNodesInfoAction calls
// SettingsFilter#addFilterSettingParams and Settings#toXContent drops
// every setting registered with Property.Filtered, which every
// xpack.security.*.ssl.* setting except .enabled is (SSLConfigurationSettings
// and X509KeyPairSettings templates: keystore/truststore paths, key,
// certificate, certificate_authorities, verification_mode,
// client_authentication, cipher_suites, supported_protocols; verified in
// the 7.x and 8.x sources). Secure settings (keystore passwords) live in
// the keystore and are never part of the node's Settings. So the REST API
// shows whether transport TLS is enabled, never with which files or
// verification mode; NodeSettings gives tests the unfiltered view.
//
// Rendering (Settings#toXContent): flat_settings=true writes the sorted
// keys of the settings map (a TreeMap) as they are; otherwise
// getAsStructuredMap nests them at each '.', keeping a dotted key where a
// prefix is also a value (http.type and http.type.default become
// "http":{"type":..., "type.default":...}), in java.util.HashMap order
// (reproduced by javaHashMapOrder). Values are strings, lists JSON arrays.

const (
	esHome = "/usr/share/elasticsearch"
	sslKey = "xpack.security.transport.ssl."
)

// nodeSettingsLocked returns a node's settings, filtered ones included.
// attrVer is the version nodeAttributes uses for this response. Callers
// hold c.mu.
func (c *Cluster) nodeSettingsLocked(n *node, attrVer esVersion) map[string]any {
	m := map[string]any{
		"cluster.name":           c.name,
		"node.name":              n.name,
		"path.home":              esHome,
		"path.logs":              esHome + "/logs",
		"network.host":           "127.0.0.1",
		"http.type.default":      "netty4",
		"transport.type.default": "netty4",
	}
	for _, a := range nodeAttributes(attrVer, nodeView{roles: n.roles}) {
		m["node.attr."+a.k] = a.v
	}
	if n.explicitRoles {
		m["node.roles"] = slices.Clone(n.roles)
	}
	if n.ver.v.Major == 7 {
		// Node / XPackPlugin additionalSettings of 7.x (samples); gone with
		// the transport client in 8.0 (unverified).
		m["client.type"] = "node"
		m["transport.features.x-pack"] = "true"
	}
	if n.secSetting != "" {
		m["xpack.security.enabled"] = n.secSetting
	}
	if n.pluginActive() {
		// Security#additionalSettings (samples, 7.x; unverified 8.x/9.x).
		m["http.type"] = "security4"
		m["transport.type"] = "security4"
		if !c.plain {
			m["xpack.security.http.ssl.enabled"] = "true"
			m["xpack.security.http.ssl.keystore.path"] = "certs/http.p12"
		}
	}
	if n.tlsSetting {
		m[sslKey+"enabled"] = "true"
		m[sslKey+"key"] = "certs/" + n.name + "/" + n.name + ".key"
		m[sslKey+"certificate"] = "certs/" + n.name + "/" + n.name + ".crt"
		var cas []string
		for _, e := range c.tpki.store.entries {
			cas = append(cas, e.path)
		}
		m[sslKey+"certificate_authorities"] = cas
		if c.tpki.spec.VerificationMode != "" {
			m[sslKey+"verification_mode"] = c.tpki.spec.VerificationMode
		}
	}
	// remote_cluster_server.*, remote_cluster.port and the
	// xpack.security.remote_cluster_{server,client}.ssl.* settings
	// (remotecluster.go).
	c.remoteClusterSettingsLocked(n, m)
	if c.lic.typ == "trial" {
		m["xpack.license.self_generated.type"] = "trial"
	}
	// cluster.remote.<alias>.* of static links (clustersettings.go).
	c.staticRemoteSettingsLocked(n, m)
	return m
}

// filteredSetting reports whether SettingsFilter hides a setting from the
// REST API (every xpack.security.{transport,http}.ssl.* setting but
// .enabled, see above; likewise the remote cluster server and client SSL
// settings, remotecluster.go).
func filteredSetting(key string) bool {
	for _, p := range []string{"xpack.security.transport.ssl.", "xpack.security.http.ssl.",
		"xpack.security.remote_cluster_server.ssl.", "xpack.security.remote_cluster_client.ssl."} {
		if strings.HasPrefix(key, p) && key != p+"enabled" {
			return true
		}
	}
	return false
}

// restSettings is what Settings#toXContent writes for a node.
func restSettings(m map[string]any, flat bool) obj {
	visible := map[string]any{}
	for k, v := range m {
		if !filteredSetting(k) {
			visible[k] = v
		}
	}
	if flat {
		out := obj{}
		for _, k := range slices.Sorted(maps.Keys(visible)) {
			out = out.set(k, visible[k])
		}
		return out
	}
	structured := newJavaMap()
	for _, k := range slices.Sorted(maps.Keys(visible)) {
		processSetting(structured, "", k, visible[k])
	}
	return structured.obj()
}

// javaMap is a java.util.HashMap<String, Object> created with initial
// capacity 2 (getAsStructuredMap's "new HashMap<>(2)"), remembering
// insertion order so that its iteration order can be reproduced.
type javaMap struct {
	keys []string
	vals map[string]any
}

func newJavaMap() *javaMap { return &javaMap{vals: map[string]any{}} }

// put keeps an existing key's position, as HashMap#put does.
func (m *javaMap) put(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// obj renders the map in HashMap iteration order.
func (m *javaMap) obj() obj {
	out := obj{}
	for _, k := range javaHashMapOrder(m.keys, 2) {
		if inner, ok := m.vals[k].(*javaMap); ok {
			out = out.set(k, inner.obj())
		} else {
			out = out.set(k, m.vals[k])
		}
	}
	return out
}

// javaHashMapOrder is the iteration order of a java.util.HashMap with the
// given initial capacity after inserting keys in this order: buckets in
// index order, insertion order within a bucket (resizing splits buckets
// without reordering them). Index = spread(String#hashCode) & (capacity-1),
// spread(h) = h ^ (h >>> 16); the table doubles when the size exceeds 0.75
// of its capacity. (Checked against the key order of every level of a
// recorded 7.x nodes-info settings object, see the tests.)
func javaHashMapOrder(keys []string, initialCapacity int) []string {
	capacity := 1
	for capacity < initialCapacity {
		capacity <<= 1
	}
	for len(keys) > capacity*3/4 {
		capacity <<= 1
	}
	type entry struct {
		key    string
		bucket uint32
	}
	entries := make([]entry, len(keys))
	for i, k := range keys {
		var h int32
		for _, u := range utf16.Encode([]rune(k)) {
			h = 31*h + int32(u)
		}
		spread := uint32(h) ^ uint32(h)>>16
		entries[i] = entry{k, spread & uint32(capacity-1)}
	}
	sort.SliceStable(entries, func(a, b int) bool { return entries[a].bucket < entries[b].bucket })
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.key
	}
	return out
}

// processSetting is Settings#processSetting (getAsStructuredMap): nest at
// the first '.', fall back to dotted keys where a value and a subtree
// share a prefix.
func processSetting(m *javaMap, prefix, setting string, value any) {
	i := strings.IndexByte(setting, '.')
	if i < 0 {
		if inner, ok := m.vals[prefix+setting].(*javaMap); ok {
			for _, k := range javaHashMapOrder(inner.keys, 2) {
				m.put(prefix+setting+"."+k, inner.vals[k])
			}
		}
		m.put(prefix+setting, value)
		return
	}
	key, rest := setting[:i], setting[i+1:]
	switch existing := m.vals[prefix+key].(type) {
	case nil:
		inner := newJavaMap()
		processSetting(inner, "", rest, value)
		m.put(prefix+key, inner)
	case *javaMap:
		processSetting(existing, "", rest, value)
	default:
		processSetting(m, prefix+key+".", rest, value)
	}
}

// parseRestBool is RestRequest#paramAsBoolean for a present parameter:
// "" means true (the flag's presence turns it on), otherwise
// Booleans#parseBoolean accepts only "true" and "false".
func parseRestBool(v string) (bool, *esError) {
	switch v {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	e := illegalArgument("Failed to parse value [" + v + "] as only [true] or [false] are allowed.")
	return false, &e
}

// NodeSettings returns a node's settings as the node holds them: flat keys,
// values string or []string, including the SSL settings that GET
// /_nodes/settings filters out (paths, verification mode). It is the
// simulator's stand-in for reading the node's elasticsearch.yml.
func (c *Cluster) NodeSettings(nodeName string) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, err := c.nodeIndexLocked(nodeName)
	if err != nil {
		return nil, err
	}
	return c.nodeSettingsLocked(c.nodes[i], c.nodes[0].ver), nil
}
