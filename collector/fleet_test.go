package collector

import "testing"

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
