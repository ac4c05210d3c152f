package collector

import (
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// Fleet is what the pollers of all monitored clusters share: each cluster's
// latest node list. A link's poller uses it to find the monitored cluster
// behind a remote alias and that cluster's node versions. It is read at
// snapshot time, so a link sees its remote as of the remote's last poll.
type Fleet struct {
	mu       sync.RWMutex
	clusters map[string][]Node
}

// NewFleet returns an empty fleet.
func NewFleet() *Fleet { return &Fleet{clusters: map[string][]Node{}} }

// SetNodes records a cluster's latest node list.
func (f *Fleet) SetNodes(cluster string, nodes []Node) {
	f.mu.Lock()
	f.clusters[cluster] = nodes
	f.mu.Unlock()
}

// Delete forgets a cluster that is no longer configured.
func (f *Fleet) Delete(cluster string) {
	f.mu.Lock()
	delete(f.clusters, cluster)
	f.mu.Unlock()
}

// Nodes returns a cluster's latest node list.
func (f *Fleet) Nodes(cluster string) ([]Node, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, ok := f.clusters[cluster]
	return n, ok
}

// MatchAddresses finds the monitored cluster (other than self) whose nodes
// listen on the given transport addresses (a link's seeds or proxy address).
// An address matches a node's transport_address (ip:port) or its host name
// with the same port. The cluster with the most matching addresses wins;
// ties go to the alphabetically first name, so the answer is stable.
func (f *Fleet) MatchAddresses(self string, addrs []string) (string, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	best, bestN := "", 0
	names := make([]string, 0, len(f.clusters))
	for name := range f.clusters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == self {
			continue
		}
		n := 0
		for _, a := range addrs {
			if nodeListensOn(f.clusters[name], a) {
				n++
			}
		}
		if n > bestN {
			best, bestN = name, n
		}
	}
	return best, bestN > 0
}

func nodeListensOn(nodes []Node, addr string) bool {
	host, port, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return false
	}
	for _, n := range nodes {
		if n.TransportAddress == addr {
			return true
		}
		_, nPort, err := net.SplitHostPort(n.TransportAddress)
		if err != nil || nPort != port {
			continue
		}
		if strings.EqualFold(host, n.Host) || host == n.IP {
			return true
		}
	}
	return false
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
