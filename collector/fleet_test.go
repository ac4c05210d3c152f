package collector

import (
	"testing"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

func TestFleetMatchAddresses(t *testing.T) {
	f := NewFleet()
	f.SetNodes("paris", []Node{
		{Name: "p1", TransportAddress: "10.0.0.1:9300", Host: "ES-P1.example.com", IP: "10.0.0.1"},
		{Name: "p2", TransportAddress: "10.0.0.2:9300", Host: "es-p2.example.com", IP: "10.0.0.2"},
	}, nil, true)
	f.SetNodes("tokyo", []Node{{Name: "t1", TransportAddress: "10.0.1.1:9300", Host: "10.0.1.1", IP: "10.0.1.1"}}, nil, true)
	for _, tc := range []struct {
		self  string
		addrs []string
		want  string
	}{
		{"oslo", []string{"10.0.0.1:9300"}, "paris"},
		{"oslo", []string{"es-p1.example.com:9300", "es-p2.EXAMPLE.com:9300"}, "paris"}, // host names, any case
		{"oslo", []string{"10.0.1.1:9300", "10.0.0.2:9300", "10.0.0.1:9300"}, "paris"},  // most matches win
		{"oslo", []string{"10.0.0.1:9301"}, ""},                                         // another port
		{"paris", []string{"10.0.0.1:9300"}, ""},                                        // never itself
		{"oslo", []string{"not an address"}, ""},
	} {
		got, ok := f.MatchAddresses(tc.self, tc.addrs)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("MatchAddresses(%s, %v) = %q, %v; want %q", tc.self, tc.addrs, got, ok, tc.want)
		}
	}
	// A node list replaced or a cluster deleted leaves no stale index entry.
	f.SetNodes("paris", []Node{{Name: "p3", TransportAddress: "10.0.0.3:9300"}}, nil, true)
	if got, _ := f.MatchAddresses("oslo", []string{"10.0.0.1:9300"}); got != "" {
		t.Errorf("old address still matches %q", got)
	}
	f.Delete("tokyo")
	if got, _ := f.MatchAddresses("oslo", []string{"10.0.1.1:9300"}); got != "" {
		t.Errorf("deleted cluster still matches %q", got)
	}
}

// TestFleetNodesGen: the generation changes exactly when what a link is
// judged on changes (Poller.analyses reuses a judgement of the same
// generation): a node list given again keeps it.
func TestFleetNodesGen(t *testing.T) {
	f := NewFleet()
	v819, v91 := esversion.Version{Major: 8, Minor: 19, Patch: 7}, esversion.Version{Major: 9, Minor: 1}
	nodes := []Node{{Name: "p1", TransportAddress: "10.0.0.1:9300", IP: "10.0.0.1"}}
	withRCS := []Node{{Name: "p1", TransportAddress: "10.0.0.1:9300", IP: "10.0.0.1"}}
	withRCS[0].RemoteClusterServer = &struct {
		PublishAddress string `json:"publish_address"`
	}{PublishAddress: "10.0.0.1:9443"}
	moved := []Node{{Name: "p1", TransportAddress: "10.0.0.9:9300", IP: "10.0.0.9"}}
	gen := f.NodesGen()
	for _, step := range []struct {
		what    string
		apply   func()
		changes bool
	}{
		{"first list", func() { f.SetNodes("paris", nodes, []esversion.Version{v819}, true) }, true},
		{"the same list again", func() { f.SetNodes("paris", nodes, []esversion.Version{v819}, true) }, false},
		{"another version", func() { f.SetNodes("paris", nodes, []esversion.Version{v91}, true) }, true},
		{"a partial census", func() { f.SetNodes("paris", nodes, []esversion.Version{v91}, false) }, true},
		{"complete again", func() { f.SetNodes("paris", nodes, []esversion.Version{v91}, true) }, true},
		{"a remote cluster server", func() { f.SetNodes("paris", withRCS, []esversion.Version{v91}, true) }, true},
		{"another address", func() { f.SetNodes("paris", moved, []esversion.Version{v91}, true) }, true},
		{"the same again", func() { f.SetNodes("paris", moved, []esversion.Version{v91}, true) }, false},
		{"polled", func() { f.MarkPolled("paris") }, false},
		{"deleted", func() { f.Delete("paris") }, true},
	} {
		step.apply()
		if got := f.NodesGen(); (got != gen) != step.changes {
			t.Errorf("%s: generation %d after %d, want changed=%v", step.what, got, gen, step.changes)
		}
		gen = f.NodesGen()
	}
}
