package simulator

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// LinkSpec configures a remote cluster alias on a cluster
// (cluster.remote.<alias>.*).
type LinkSpec struct {
	Alias string
	// Remote names a simulated cluster of the same Sim. "" with Seeds or
	// ProxyAddress set is a remote nobody answers for (always disconnected).
	Remote     string
	Mode       string // "sniff" (default) or "proxy"
	APIKeyAuth bool   // API-key security model: cluster_credentials present (8.10+)
	// APIKeyID names the remote's API key whose credential the local
	// keystore holds as cluster.remote.<alias>.credentials (APIKeyAuth
	// only); "" = a valid cross-cluster key with full access that the
	// remote's key store does not model (remotecluster.go).
	APIKeyID        string
	SkipUnavailable *bool // nil = the version's default (false <= 8.14, true >= 8.15)
	// Seeds default to up to 3 of the remote's transport addresses (of its
	// remote cluster server addresses for APIKeyAuth, when it has any);
	// ProxyAddress to the remote's first such address; ServerName to "".
	Seeds                    []string
	ProxyAddress, ServerName string
	// 0 = defaults 3 (node_connections) / 18 (proxy_socket_connections).
	NodeConnections, ProxySocketConnections int
	// TransportCompress and PingSchedule are
	// cluster.remote.<alias>.transport.compress ("true", "false",
	// "indexing_data") and .transport.ping_schedule (e.g. "30s"); ""
	// = not set. They are reported as settings only (not simulated).
	TransportCompress, PingSchedule string
	// Static: the link is defined in elasticsearch.yml of StaticNodes (nil
	// = every node) instead of through the cluster settings API (dynamic,
	// the default). See clustersettings.go.
	Static      bool
	StaticNodes []string
	// LegacySearchRemote writes a static definition under the 6.x names
	// search.remote.<alias>.seeds/.skip_unavailable (mode, proxy and
	// transport settings have no legacy name), which 7.x still honours as
	// fallbacks of cluster.remote.<alias>.* (7.x RemoteClusterAware's
	// deprecated SEARCH_REMOTE_CLUSTERS_SEEDS and
	// SEARCH_REMOTE_CLUSTER_SKIP_UNAVAILABLE, "remove search.remote.*
	// settings in 8.0.0"; SniffConnectionStrategyTests.testSeedsFallback).
	// 7.x only, with Static.
	LegacySearchRemote bool
}

// link is one remote alias. It holds the alias's definitions (at most one
// dynamic, any number of static ones on disjoint node sets) and the
// connection state, which the simulator keeps per alias, not per node
// (simplification). spec is the effective definition on the link's
// primary node: the first node if it has the alias, else the first node
// (NodeSpec order) that has it.
type link struct {
	spec    LinkSpec
	dynamic *linkDef
	statics []linkDef
	primary string // the primary node's name
	// established is whether the local cluster holds connections to the
	// remote. It is lost when the remote goes away and only regained by a
	// reconnect trigger (RemoteClusterConnection does not reconnect on its
	// own, NOTES.md "GET /_remote/info" and issue #80146).
	established bool
}

// AddLink configures a remote alias. The local cluster connects to it at
// once when the remote is reachable and wire-compatible, as a settings update
// does. The same alias may be added again with another source: one dynamic
// definition and static ones on disjoint node sets (e.g. different seeds
// per node); on a node that has both, the dynamic settings win key by key
// (clustersettings.go).
func (c *Cluster) AddLink(l LinkSpec) error {
	if l.Alias == "" {
		return errors.New("simulator: LinkSpec.Alias is empty")
	}
	if strings.ContainsAny(l.Alias, ":*,") {
		return fmt.Errorf("simulator: link alias %q: must not contain ':', '*' or ','", l.Alias)
	}
	switch l.Mode {
	case "", "sniff", "proxy":
	default:
		return fmt.Errorf("simulator: link %q: mode %q is neither sniff nor proxy", l.Alias, l.Mode)
	}
	if l.NodeConnections < 0 || l.ProxySocketConnections < 0 {
		return fmt.Errorf("simulator: link %q: connection counts must not be negative", l.Alias)
	}
	if !l.Static && l.StaticNodes != nil {
		return fmt.Errorf("simulator: link %q: StaticNodes without Static", l.Alias)
	}
	l.Seeds = append([]string(nil), l.Seeds...)
	mode := l.Mode
	if mode == "" {
		mode = "sniff"
	}
	if l.Remote == "" {
		if len(l.Seeds) == 0 && l.ProxyAddress == "" {
			return fmt.Errorf("simulator: link %q: set Remote, or Seeds/ProxyAddress for a remote nobody answers for", l.Alias)
		}
	} else {
		tgt := c.sim.Cluster(l.Remote)
		if tgt == nil {
			return fmt.Errorf("simulator: link %q: no simulated cluster %q", l.Alias, l.Remote)
		}
		addrs := tgt.TransportAddresses()
		if rcs := tgt.RemoteClusterAddresses(); l.APIKeyAuth && len(rcs) > 0 {
			addrs = rcs // remotecluster.go
		}
		if mode == "sniff" && len(l.Seeds) == 0 {
			l.Seeds = addrs[:min(3, len(addrs))]
		}
		if mode == "proxy" && l.ProxyAddress == "" {
			l.ProxyAddress = addrs[0]
		}
	}
	if l.APIKeyID != "" && !l.APIKeyAuth {
		return fmt.Errorf("simulator: link %q: APIKeyID without APIKeyAuth", l.Alias)
	}
	def := linkDef{remote: l.Remote, apiKey: l.APIKeyAuth, apiKeyID: l.APIKeyID, settings: remoteSettings(l), legacy: l.LegacySearchRemote}
	if l.Static {
		def.nodes = slices.Clone(l.StaticNodes)
		if def.nodes == nil {
			def.nodes = c.NodeNames()
		}
	}
	c.mu.Lock()
	local := c.nodes[0].ver
	if l.LegacySearchRemote && (!l.Static || local.v.Major != 7 || l.Mode == "proxy") {
		c.mu.Unlock()
		return fmt.Errorf("simulator: link %q: search.remote.* definitions are static, sniff mode and 7.x only (8.0 removed them); cluster %q plays %s", l.Alias, c.name, local.str)
	}
	if l.APIKeyAuth && !local.atLeast(8, 10) {
		c.mu.Unlock()
		// API-key remote clusters exist from 8.10 (beta), GA 8.14 (NOTES.md).
		return fmt.Errorf("simulator: link %q: API-key remote clusters need 8.10+, cluster %q plays %s", l.Alias, c.name, local.str)
	}
	for _, name := range def.nodes {
		if _, err := c.nodeIndexLocked(name); err != nil {
			c.mu.Unlock()
			return fmt.Errorf("%w, named in StaticNodes of link %q", err, l.Alias)
		}
	}
	idx := slices.IndexFunc(c.links, func(x *link) bool { return x.spec.Alias == l.Alias })
	lk := &link{}
	if idx >= 0 {
		lk = c.links[idx]
	}
	switch {
	case !l.Static && lk.dynamic != nil:
		c.mu.Unlock()
		return fmt.Errorf("simulator: cluster %q already has a link %q", c.name, l.Alias)
	case !l.Static:
		lk.dynamic = &def
	default:
		for _, st := range lk.statics {
			for _, n := range def.nodes {
				if slices.Contains(st.nodes, n) {
					c.mu.Unlock()
					return fmt.Errorf("simulator: cluster %q already has a static link %q on node %q", c.name, l.Alias, n)
				}
			}
		}
		lk.statics = append(lk.statics, def)
	}
	if idx < 0 {
		c.links = append(c.links, lk)
	}
	c.refreshLinkLocked(lk, l.Alias)
	c.mu.Unlock()
	c.connectLinks([]string{l.Alias})
	return nil
}

// RemoveLink deletes a remote alias, every definition of it (no-op when
// absent).
func (c *Cluster) RemoveLink(alias string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.links = slices.DeleteFunc(c.links, func(x *link) bool { return x.spec.Alias == alias })
}

// ReconnectRemotes stands for something that makes Elasticsearch reconnect
// every disconnected remote, e.g. a cross-cluster search on "*:*".
func (c *Cluster) ReconnectRemotes() { c.connectLinks(nil) }

// remoteView is what a peer can observe of a cluster's transport layer.
type remoteView struct {
	exists  bool
	running bool
	hang    bool
	drop    bool
	hangCh  chan struct{} // closed when the hang fault is replaced
	downCh  chan struct{} // closed when the cluster stops
	nodes   []nodeView
	indices []string
	tls     tlsSide // truststore and verification mode (chain per node)
}

type nodeView struct {
	unresponsive bool // nodes-level APIs only (SetNodeUnresponsive)
	id           string
	name         string
	ver          esVersion
	roles        []string
	addr         string
	chain        []*x509.Certificate // transport certificate chain
	mode         transportMode       // transport TLS and security (security.go)
	// The remote cluster server (remotecluster.go): address ("" = not
	// enabled), TLS, certificate chain, client certificate required.
	rcsAddr       string
	rcsTLS        bool
	rcsChain      []*x509.Certificate
	rcsClientCert bool
}

func (c *Cluster) view() remoteView {
	if c == nil {
		return remoteView{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tf := transportFault(c.fault)
	v := remoteView{
		exists:  true,
		running: c.running,
		hang:    tf == transportHang,
		drop:    tf == transportDrop,
		hangCh:  c.faultCh,
		downCh:  c.downCh,
		indices: c.indices,
		tls:     tlsSide{store: c.tpki.store, mode: c.tpki.mode},
	}
	for i, n := range c.nodes {
		nv := nodeView{id: n.id, name: n.name, ver: n.ver, roles: n.roles, addr: n.addr,
			chain: n.cert.chain, mode: c.nodeModeLocked(n)}
		c.rcsViewLocked(i, &nv)
		v.nodes = append(v.nodes, nv)
	}
	return v
}

// gatewayEligible is SniffConnectionStrategy.DEFAULT_NODE_PREDICATE:
// version-compatible and (not master, or data, or ingest). Role attribute
// filtering (cluster.remote.node.attr) is not simulated.
func gatewayEligible(local esVersion, n nodeView) bool {
	if !wireCompatible(local, n.ver) {
		return false
	}
	master, data, ingest := false, false, false
	for _, r := range n.roles {
		switch {
		case r == "master":
			master = true
		case r == "data" || strings.HasPrefix(r, "data_"):
			data = true
		case r == "ingest":
			ingest = true
		}
	}
	return !master || data || ingest
}

// capacity is how many connections the link would hold to the remote right
// now (num_nodes_connected / num_proxy_sockets_connected when connected),
// and the remote node that would answer a request over it. lm is the local
// (answering) node's transport mode: remote nodes it cannot talk to at all
// (TLS on one side only, security mismatch: transportCompatible) never
// count. canConnect, when not nil, says which remote nodes a new
// connection can be opened to (transport TLS trust, checked only when
// connecting: see transport.go).
func capacity(local esVersion, lm transportMode, l LinkSpec, v remoteView, canConnect func(nodeView) bool) (int, nodeView) {
	if l.Remote == "" || !v.exists || !v.running || v.hang || v.drop || len(v.nodes) == 0 {
		return 0, nodeView{}
	}
	if l.APIKeyAuth {
		return apiKeyCapacity(local, lm, l, v, canConnect) // remotecluster.go
	}
	if atRemoteClusterPort(l, v) {
		return 0, nodeView{} // symptom 7 (remotecluster.go)
	}
	if l.Mode == "proxy" {
		target := v.nodes[0]
		for _, n := range v.nodes {
			if n.addr == l.ProxyAddress {
				target = n
			}
		}
		if !wireCompatible(local, target.ver) || !transportCompatible(lm, target.mode, l.APIKeyAuth) ||
			(canConnect != nil && !canConnect(target)) {
			return 0, nodeView{}
		}
		return l.ProxySocketConnections, target
	}
	var first nodeView
	count := 0
	for _, n := range v.nodes {
		if gatewayEligible(local, n) && transportCompatible(lm, n.mode, l.APIKeyAuth) && (canConnect == nil || canConnect(n)) {
			if count == 0 {
				first = n
			}
			count++
		}
	}
	return min(count, l.NodeConnections), first
}

type linkState struct {
	spec  LinkSpec
	count int // connections held now (0 = disconnected)
	ptr   *link
}

// localSnapshot returns the answering node's version and the links.
func (c *Cluster) localSnapshot() (esVersion, []*link, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[0].ver, append([]*link(nil), c.links...), c.running
}

// connectLinks makes the cluster try to (re)connect the named links (nil =
// all): a link connects when its remote is reachable and compatible and
// both sides trust each other's transport certificates.
func (c *Cluster) connectLinks(aliases []string) {
	local, links, running := c.localSnapshot()
	if !running {
		return
	}
	lm := c.localMode()
	type result struct {
		l  *link
		ok bool
	}
	var results []result
	for _, l := range links {
		if aliases != nil && !slices.Contains(aliases, l.spec.Alias) {
			continue
		}
		v := c.sim.Cluster(l.spec.Remote).view()
		n, _ := capacity(local, lm, l.spec, v, c.trustFilter(l.spec, v))
		results = append(results, result{l, n > 0})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return
	}
	for _, r := range results {
		if r.ok {
			r.l.established = true
		}
	}
}

// dropLinksTo disconnects every link, on any cluster, whose remote is name.
func (s *Sim) dropLinksTo(name string) {
	for _, c := range s.all() {
		c.mu.Lock()
		for _, l := range c.links {
			if l.spec.Remote == name {
				l.established = false
			}
		}
		c.mu.Unlock()
	}
}

// revalidateLinksTo disconnects links to name that can no longer hold any
// connection (e.g. every gateway node was upgraded to an incompatible
// version). Links that keep some compatible node stay connected: sniff mode
// replaces a lost node by another one on its own.
func (s *Sim) revalidateLinksTo(name string) {
	v := s.Cluster(name).view()
	for _, c := range s.all() {
		local, links, _ := c.localSnapshot()
		lm := c.localMode()
		var lost []*link
		for _, l := range links {
			if l.spec.Remote != name {
				continue
			}
			if n, _ := capacity(local, lm, l.spec, v, nil); n == 0 {
				lost = append(lost, l)
			}
		}
		if len(lost) == 0 {
			continue
		}
		c.mu.Lock()
		for _, l := range lost {
			l.established = false
		}
		c.mu.Unlock()
	}
}

// hashOrder sorts entries the way a Java HashMap might list them: by a hash
// of the key. Elasticsearch's remote alias maps are hash-ordered; the
// simulator is deterministic but deliberately not alphabetical or insertion
// ordered, so clients cannot come to depend on an order.
func hashOrder[T any](items []T, key func(T) string) []T {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b T) int {
		ha, hb := fnv32a(key(a)), fnv32a(key(b))
		switch {
		case ha < hb:
			return -1
		case ha > hb:
			return 1
		}
		return strings.Compare(key(a), key(b))
	})
	return out
}

func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// skipUnavailable is cluster.remote.<alias>.skip_unavailable: default false
// up to 8.14, true from 8.15 (PR #105792, NOTES.md).
func skipUnavailable(local esVersion, l LinkSpec) bool {
	if l.SkipUnavailable != nil {
		return *l.SkipUnavailable
	}
	return local.atLeast(8, 15)
}
