package collector

import (
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// Fleet is what the pollers of all monitored clusters share: each cluster's
// latest node list, and an index from transport address to cluster. A link's
// poller uses it to find the monitored cluster behind a remote alias and that
// cluster's node versions. It is read at snapshot time, so a link sees its
// remote as of the remote's last poll.
type Fleet struct {
	mu        sync.RWMutex
	addrs     map[string][]string            // each cluster's node addresses, as indexed in byAddr
	versions  map[string][]esversion.Version // distinct node versions, sorted
	transport map[string]TransportView
	roles     map[string]RoleSet
	apiKeys   map[string]*APIKeySet
	polled    map[string]bool            // clusters that finished a poll, successful or not
	partial   map[string]bool            // clusters whose last census missed nodes
	rcs       map[string]map[string]bool // each cluster's remote cluster server addresses (spellings as in byAddr)
	// probeSlots bounds the transport probes of all pollers together.
	probeSlots chan struct{}
	// byAddr maps "ip:port" and "host:port" (host lower-cased) of every
	// node's transport address to the clusters listening there.
	byAddr map[string][]string
	// nodesGen changes whenever what SetNodes and Delete keep changes (the
	// clusters' addresses, versions, completeness): a link judged against
	// the same generation would be judged the same (Poller.analyses).
	nodesGen uint64
}

// NewFleet returns an empty fleet.
func NewFleet() *Fleet {
	return &Fleet{addrs: map[string][]string{}, versions: map[string][]esversion.Version{},
		transport: map[string]TransportView{}, roles: map[string]RoleSet{}, apiKeys: map[string]*APIKeySet{}, polled: map[string]bool{}, partial: map[string]bool{}, rcs: map[string]map[string]bool{}, byAddr: map[string][]string{},
		probeSlots: make(chan struct{}, fleetProbeConcurrency)}
}

// SetNodes records a cluster's latest node list and its distinct versions
// (versionsOf(nodes), which the caller has already computed). The address
// index is rebuilt only when the addresses changed, which is rarely.
// complete is false when some nodes did not answer the census.
func (f *Fleet) SetNodes(cluster string, nodes []Node, versions []esversion.Version, complete bool) {
	var addrs []string
	rcs := map[string]bool{}
	for _, n := range nodes {
		addrs = append(addrs, nodeAddresses(n)...)
		for _, a := range addressSpellings(n, n.RemoteClusterAddress()) {
			rcs[a] = true
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old, known := f.versions[cluster]
	oldAddrs, indexed := f.addrs[cluster]
	sameAddrs := indexed && slices.Equal(oldAddrs, addrs)
	if !known || !slices.Equal(old, versions) || f.partial[cluster] == complete || !maps.Equal(f.rcs[cluster], rcs) || !sameAddrs {
		f.nodesGen++
	}
	f.versions[cluster] = versions
	if complete {
		delete(f.partial, cluster)
	} else {
		f.partial[cluster] = true
	}
	f.rcs[cluster] = rcs
	if sameAddrs {
		return
	}
	f.unindex(cluster)
	f.addrs[cluster] = addrs
	for _, a := range addrs {
		if !slices.Contains(f.byAddr[a], cluster) {
			f.byAddr[a] = append(f.byAddr[a], cluster)
		}
	}
}

// Delete forgets a cluster that is no longer configured.
func (f *Fleet) Delete(cluster string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodesGen++
	f.unindex(cluster)
	delete(f.addrs, cluster)
	delete(f.versions, cluster)
	delete(f.transport, cluster)
	delete(f.roles, cluster)
	delete(f.apiKeys, cluster)
	delete(f.polled, cluster)
	delete(f.partial, cluster)
	delete(f.rcs, cluster)
}

// NodesGen is the generation of what SetNodes keeps: equal generations
// mean equal node lists of every cluster.
func (f *Fleet) NodesGen() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.nodesGen
}

// MarkPolled records that a cluster finished a poll. What a cluster shares
// and has not shared after a poll will not come by waiting: the clusters
// linking to it stop waiting for it then.
func (f *Fleet) MarkPolled(cluster string) {
	f.mu.Lock()
	f.polled[cluster] = true
	f.mu.Unlock()
}

// Polled reports whether a cluster finished a poll.
func (f *Fleet) Polled(cluster string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.polled[cluster]
}

func (f *Fleet) unindex(cluster string) {
	for _, a := range f.addrs[cluster] {
		rest := slices.DeleteFunc(f.byAddr[a], func(c string) bool { return c == cluster })
		if len(rest) == 0 {
			delete(f.byAddr, a)
		} else {
			f.byAddr[a] = rest
		}
	}
}

// nodeAddresses are the spellings of a node's addresses a seed or proxy
// address may use: its transport address (certificate links) and its
// remote cluster server address (API-key links), each as published and
// with the node's host name and IP on the same port.
func nodeAddresses(n Node) []string {
	return append(addressSpellings(n, n.TransportAddress), addressSpellings(n, n.RemoteClusterAddress())...)
}

// addressSpellings are the spellings of one of a node's addresses: as
// published, and with the node's host name and IP on the same port.
func addressSpellings(n Node, a string) []string {
	if a == "" {
		return nil
	}
	out := []string{a}
	if _, port, err := net.SplitHostPort(a); err == nil {
		for _, h := range []string{n.Host, n.IP} {
			if h != "" {
				out = append(out, net.JoinHostPort(strings.ToLower(h), port))
			}
		}
	}
	return out
}

// Ports a link's address may name on a monitored cluster.
const (
	PortTransport           = "transport"
	PortRemoteClusterServer = "remote_cluster_server"
)

// addrKey is how a link's address is looked up in byAddr: trimmed, with
// the host lower-cased as addressSpellings writes node addresses.
func addrKey(a string) string {
	key := strings.TrimSpace(a)
	if host, port, err := net.SplitHostPort(key); err == nil {
		key = net.JoinHostPort(strings.ToLower(host), port)
	}
	return key
}

// PortsNamed says which of a monitored cluster's ports the addresses name:
// its transport port, its remote cluster server, or both.
func (f *Fleet) PortsNamed(cluster string, addrs []string) (transport, rcs bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, a := range addrs {
		key := addrKey(a)
		if !slices.Contains(f.byAddr[key], cluster) {
			continue
		}
		if f.rcs[cluster][key] {
			rcs = true
		} else {
			transport = true
		}
	}
	return transport, rcs
}

// SetTransport records what a cluster shares about its transport layer.
func (f *Fleet) SetTransport(cluster string, v TransportView) {
	f.mu.Lock()
	f.transport[cluster] = v
	f.mu.Unlock()
}

// Transport returns what a cluster shared about its transport layer.
func (f *Fleet) Transport(cluster string) (TransportView, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	v, ok := f.transport[cluster]
	return v, ok
}

// SetRoles records a cluster's last read of the roles links rely on.
func (f *Fleet) SetRoles(cluster string, r RoleSet) {
	f.mu.Lock()
	f.roles[cluster] = r
	f.mu.Unlock()
}

// Roles returns a cluster's last read of the roles links rely on; ok is
// false when it has not read them yet.
func (f *Fleet) Roles(cluster string) (RoleSet, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r, ok := f.roles[cluster]
	return r, ok
}

// SetAPIKeys records a cluster's last read of its API keys.
func (f *Fleet) SetAPIKeys(cluster string, keys *APIKeySet) {
	f.mu.Lock()
	f.apiKeys[cluster] = keys
	f.mu.Unlock()
}

// APIKeys returns a cluster's last read of its API keys (nil: not read).
func (f *Fleet) APIKeys(cluster string) *APIKeySet {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.apiKeys[cluster]
}

// Versions returns the distinct versions of a cluster's latest node list;
// complete is false when that census missed nodes.
func (f *Fleet) Versions(cluster string) (vs []esversion.Version, ok, complete bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	v, ok := f.versions[cluster]
	return v, ok, !f.partial[cluster]
}

// MatchAddresses finds the monitored cluster (other than self) whose nodes
// listen on the given transport addresses (a link's seeds or proxy address).
// The cluster with the most matching addresses wins; ties go to the
// alphabetically first name, so the answer is stable.
func (f *Fleet) MatchAddresses(self string, addrs []string) (string, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	best, bestN := "", 0
	counts := map[string]int{}
	for _, a := range addrs {
		key := addrKey(a)
		for _, c := range f.byAddr[key] {
			if c == self {
				continue
			}
			counts[c]++
			if n := counts[c]; n > bestN || (n == bestN && c < best) {
				best, bestN = c, n
			}
		}
	}
	return best, bestN > 0
}

// versionsOf parses the distinct node versions of a node list, sorted.
func versionsOf(nodes []Node) []esversion.Version {
	seen := map[string]bool{}
	var out []esversion.Version
	for _, n := range nodes {
		if seen[n.Version] {
			continue
		}
		seen[n.Version] = true
		if v, err := esversion.Parse(n.Version); err == nil {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	return out
}
