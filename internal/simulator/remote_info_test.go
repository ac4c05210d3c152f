package simulator

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestRemoteInfoMatchesRecordedResponse(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2"})
	addCluster(t, s, ClusterSpec{Name: "remote-sniff", Version: "8.19.2", Nodes: []NodeSpec{
		{Name: "s1"}, {Name: "s2"}, {Name: "s3"}, {Name: "s4"}, {Name: "s5-master", Roles: []string{"master"}},
	}})
	addCluster(t, s, ClusterSpec{Name: "remote-proxy", Version: "9.1.5"})
	addLink(t, local, LinkSpec{Alias: "cluster_sniff", Remote: "remote-sniff"})
	addLink(t, local, LinkSpec{Alias: "cluster_proxy", Remote: "remote-proxy", Mode: "proxy",
		ServerName: "remote-proxy.example.com", SkipUnavailable: boolPtr(false)})
	addLink(t, local, LinkSpec{Alias: "cluster_down", Seeds: []string{"10.0.2.21:9300"}})

	res := get(t, cl, local.URL()+"/_remote/info")
	wantStatus(t, res, 200)
	got := parseOrdered(t, res.body)
	want := loadTestdata(t, "remote_info_8.19.json")
	keys := got.keyList()
	sorted := slices.Clone(keys)
	sort.Strings(sorted)
	if len(keys) != 3 || slices.Equal(keys, sorted) {
		t.Errorf("alias order %v must be deterministic but not alphabetical", keys)
	}
	for _, alias := range []string{"cluster_sniff", "cluster_proxy", "cluster_down"} {
		sameShape(t, alias, got.mustGet(t, alias), want.mustGet(t, alias))
	}
	wantBool(t, got, true, "cluster_sniff", "connected")
	wantString(t, got, "sniff", "cluster_sniff", "mode")
	wantNumber(t, got, 3, "cluster_sniff", "num_nodes_connected") // min(3, 4 gateway-eligible)
	wantNumber(t, got, 3, "cluster_sniff", "max_connections_per_cluster")
	wantString(t, got, "30s", "cluster_sniff", "initial_connect_timeout")
	wantBool(t, got, true, "cluster_sniff", "skip_unavailable")
	seeds := got.mustGet(t, "cluster_sniff", "seeds")
	wantSeeds := s.Cluster("remote-sniff").TransportAddresses()[:3]
	if len(seeds.vals) != 3 || seeds.vals[0].str != wantSeeds[0] || seeds.vals[2].str != wantSeeds[2] {
		t.Errorf("seeds %s, want %v", seeds.shape(), wantSeeds)
	}
	wantBool(t, got, true, "cluster_proxy", "connected")
	wantString(t, got, s.Cluster("remote-proxy").TransportAddresses()[0], "cluster_proxy", "proxy_address")
	wantString(t, got, "remote-proxy.example.com", "cluster_proxy", "server_name")
	wantNumber(t, got, 18, "cluster_proxy", "num_proxy_sockets_connected")
	wantNumber(t, got, 18, "cluster_proxy", "max_proxy_socket_connections")
	wantBool(t, got, false, "cluster_proxy", "skip_unavailable")
	wantBool(t, got, false, "cluster_down", "connected")
	wantNumber(t, got, 0, "cluster_down", "num_nodes_connected")
	if sd := got.mustGet(t, "cluster_down", "seeds"); len(sd.vals) != 1 || sd.vals[0].str != "10.0.2.21:9300" {
		t.Errorf("cluster_down seeds %s", sd.shape())
	}
	again := parseOrdered(t, get(t, cl, local.URL()+"/_remote/info").body)
	if !slices.Equal(again.keyList(), keys) {
		t.Errorf("alias order changed between requests: %v, %v", keys, again.keyList())
	}
}

func TestRemoteInfoSniffCountsGatewayEligibleNodes(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2"})
	addCluster(t, s, ClusterSpec{Name: "r", Version: "8.19.2", Nodes: []NodeSpec{
		{Name: "m1", Roles: []string{"master"}}, {Name: "m2", Roles: []string{"master"}},
		{Name: "d1", Roles: []string{"data_hot"}}, {Name: "c1", Roles: []string{}},
	}})
	addLink(t, local, LinkSpec{Alias: "r", Remote: "r", NodeConnections: 5})
	got := parseOrdered(t, get(t, cl, local.URL()+"/_remote/info").body)
	wantNumber(t, got, 2, "r", "num_nodes_connected") // master-only nodes are not gateways
	wantNumber(t, got, 5, "r", "max_connections_per_cluster")
	// Seeds default to the first three transport addresses, as configured.
	if n := len(got.mustGet(t, "r", "seeds").vals); n != 3 {
		t.Errorf("%d seeds, want 3", n)
	}
}

func TestRemoteInfoDefaultsPerVersion(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	addCluster(t, s, ClusterSpec{Name: "target", Version: "8.19.2"})
	for _, tc := range []struct {
		version     string
		skip        bool
		timeout     time.Duration
		wantTimeout string
	}{
		{"7.17.22", false, 0, "30s"},
		{"7.17.22", false, 90 * time.Second, "90s"}, // getStringRep in 7.x
		{"8.13.4", false, 90 * time.Second, "1.5m"},
		{"8.14.3", false, 0, "30s"},
		{"8.15.0", true, 0, "30s"},
		{"8.19.2", true, 2 * time.Minute, "2m"},
		{"9.0.4", true, 0, "30s"},
	} {
		name := "d-" + tc.version + "-" + tc.timeout.String()
		c := addCluster(t, s, ClusterSpec{Name: name, Version: tc.version, InitialConnectTimeout: tc.timeout})
		addLink(t, c, LinkSpec{Alias: "r", Remote: "target"})
		addLink(t, c, LinkSpec{Alias: "forced", Remote: "target", SkipUnavailable: boolPtr(!tc.skip)})
		got := parseOrdered(t, get(t, cl, c.URL()+"/_remote/info").body)
		wantBool(t, got, tc.skip, "r", "skip_unavailable")
		wantBool(t, got, !tc.skip, "forced", "skip_unavailable")
		wantString(t, got, tc.wantTimeout, "r", "initial_connect_timeout")
		if got.get("r", "cluster_credentials") != nil {
			t.Errorf("%s: cluster_credentials on a certificate-model link", tc.version)
		}
	}
}

func TestRemoteInfoClusterCredentials(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	target := addCluster(t, s, ClusterSpec{Name: "target", Version: "8.19.2", License: "enterprise",
		RemoteClusterServer: &RemoteClusterServerSpec{Enabled: true}})
	old := addCluster(t, s, ClusterSpec{Name: "old", Version: "8.9.2"})
	if err := old.AddLink(LinkSpec{Alias: "k", Remote: "target", APIKeyAuth: true}); err == nil {
		t.Error("API-key link accepted on 8.9")
	}
	c := addCluster(t, s, ClusterSpec{Name: "c", Version: "8.19.2", License: "enterprise", RemoteClusterClientCAs: target.RemoteClusterCACertPEM()})
	addLink(t, c, LinkSpec{Alias: "sniffkey", Remote: "target", APIKeyAuth: true})
	addLink(t, c, LinkSpec{Alias: "proxykey", Remote: "target", Mode: "proxy", APIKeyAuth: true})
	got := parseOrdered(t, get(t, cl, c.URL()+"/_remote/info").body)
	for _, alias := range []string{"sniffkey", "proxykey"} {
		e := got.mustGet(t, alias)
		if last := e.keys[len(e.keys)-1]; last != "cluster_credentials" {
			t.Errorf("%s: last field %q, want cluster_credentials", alias, last)
		}
		wantString(t, got, "::es_redacted::", alias, "cluster_credentials")
		wantBool(t, got, true, alias, "connected")
	}
}

func TestRemoteInfoNeedsRemoteClusterClientRole(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "norole", Version: "8.19.2",
		Nodes: []NodeSpec{{Name: "coord-1", Roles: []string{"data", "master"}}}})
	res := get(t, cl, c.URL()+"/_remote/info")
	wantStatus(t, res, 400)
	const reason = "node [coord-1] does not have the [remote_cluster_client] role"
	want := `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"` + reason +
		`"}],"type":"illegal_argument_exception","reason":"` + reason + `"},"status":400}`
	if string(res.body) != want {
		t.Errorf("body\n%s\nwant\n%s", res.body, want)
	}
	// Giving the node the role fixes it.
	if err := c.SetNodeRoles("coord-1", []string{"remote_cluster_client"}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(t, cl, c.URL()+"/_remote/info"), 200)
}

func TestLinkFollowsRemoteStateAndNeedsReconnect(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	a := addCluster(t, s, ClusterSpec{Name: "a", Version: "8.19.2"})
	b := addCluster(t, s, ClusterSpec{Name: "b", Version: "8.19.2"})
	addLink(t, a, LinkSpec{Alias: "b", Remote: "b"})
	addLink(t, a, LinkSpec{Alias: "bp", Remote: "b", Mode: "proxy"})
	info := func() *jnode { return parseOrdered(t, get(t, cl, a.URL()+"/_remote/info").body) }
	check := func(step string, want bool) {
		t.Helper()
		got := info()
		for _, alias := range []string{"b", "bp"} {
			if c := got.mustGet(t, alias, "connected").b; c != want {
				t.Errorf("%s: %s connected=%v, want %v", step, alias, c, want)
			}
		}
		if want {
			wantNumber(t, got, 1, "b", "num_nodes_connected")
			wantNumber(t, got, 18, "bp", "num_proxy_sockets_connected")
		} else {
			wantNumber(t, got, 0, "b", "num_nodes_connected")
			wantNumber(t, got, 0, "bp", "num_proxy_sockets_connected")
		}
	}
	check("initially", true)
	b.Stop()
	check("remote stopped", false)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	check("remote restarted, no trigger yet", false)
	a.ReconnectRemotes()
	check("after reconnect trigger", true)

	// A hang on the remote's transport drops the connections too, and they
	// stay down after the hang ends.
	b.SetFault(Fault{Kind: FaultHang})
	check("remote hangs", false)
	b.SetFault(Fault{})
	check("hang over, no trigger yet", false)
	a.ReconnectRemotes()
	check("after second trigger", true)
	// An HTTP-only fault does not touch the transport layer.
	b.SetFault(Fault{Kind: FaultDrop, PathPrefix: "/_remote"})
	check("HTTP-only fault on remote", true)
	b.SetFault(Fault{})

	// Restarting the local cluster reconnects its links, as node startup does.
	b.Stop()
	check("remote stopped again", false)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	a.Stop()
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	check("local restarted", true)

	a.RemoveLink("bp")
	if got := info(); got.get("bp") != nil {
		t.Error("removed link still reported")
	}
	// A link nobody answers for never connects.
	addLink(t, a, LinkSpec{Alias: "ghost", Mode: "proxy", ProxyAddress: "192.0.2.1:9400"})
	a.ReconnectRemotes()
	got := info()
	wantBool(t, got, false, "ghost", "connected")
	wantString(t, got, "192.0.2.1:9400", "ghost", "proxy_address")
}

func TestLinkWireCompatibility(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, tc := range []struct {
		local, remote string
		want          bool
	}{
		{"7.17.22", "8.19.2", true},
		{"8.19.2", "7.17.22", true},
		{"7.17.22", "9.0.4", false},
		{"8.13.4", "9.0.4", false},
		{"8.18.3", "9.0.4", true},
		{"8.18.3", "9.1.5", false},
		{"9.1.5", "8.18.3", false},
		{"8.19.2", "9.1.5", true},
		{"9.2.0", "8.19.2", true},
	} {
		name := tc.local + "->" + tc.remote
		l := addCluster(t, s, ClusterSpec{Name: "l" + name, Version: tc.local})
		addCluster(t, s, ClusterSpec{Name: "r" + name, Version: tc.remote})
		addLink(t, l, LinkSpec{Alias: "sniff", Remote: "r" + name})
		addLink(t, l, LinkSpec{Alias: "proxy", Remote: "r" + name, Mode: "proxy"})
		l.ReconnectRemotes()
		got := parseOrdered(t, get(t, cl, l.URL()+"/_remote/info").body)
		for _, alias := range []string{"sniff", "proxy"} {
			if c := got.mustGet(t, alias, "connected").b; c != tc.want {
				t.Errorf("%s %s: connected=%v, want %v", name, alias, c, tc.want)
			}
		}
	}
}

func TestRollingUpgradeOfRemote(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	a := addCluster(t, s, ClusterSpec{Name: "a", Version: "8.18.3"})
	b := addCluster(t, s, ClusterSpec{Name: "b", Version: "8.18.3",
		Nodes: []NodeSpec{{Name: "b1"}, {Name: "b2"}, {Name: "b3"}}})
	addLink(t, a, LinkSpec{Alias: "b", Remote: "b"})
	nodesConnected := func() float64 {
		return parseOrdered(t, get(t, cl, a.URL()+"/_remote/info").body).mustGet(t, "b", "num_nodes_connected").num
	}
	if n := nodesConnected(); n != 3 {
		t.Fatalf("before upgrade: %v nodes", n)
	}
	// 9.1 needs 8.19+: every upgraded node drops out of the gateway set.
	for i, node := range []string{"b1", "b2", "b3"} {
		if err := b.SetNodeVersion(node, "9.1.5"); err != nil {
			t.Fatal(err)
		}
		if n := nodesConnected(); n != float64(2-i) {
			t.Errorf("after upgrading %s: %v nodes, want %d", node, n, 2-i)
		}
	}
	// Upgrading the local cluster to 8.19 (restart of its answering node)
	// reconnects.
	if err := a.SetNodeVersion("a-es01", "8.19.2"); err != nil {
		t.Fatal(err)
	}
	if n := nodesConnected(); n != 3 {
		t.Errorf("after local upgrade: %v nodes, want 3", n)
	}
	if err := b.SetNodeVersion("nope", "9.1.5"); err == nil || !strings.Contains(err.Error(), "no node") {
		t.Errorf("unknown node: %v", err)
	}
}
