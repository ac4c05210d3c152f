package simulator

import (
	"slices"
	"testing"
)

func twoNodes() []NodeSpec { return []NodeSpec{{Name: "es01"}, {Name: "es02"}} }

func TestClusterSettingsDynamicLink(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	rem := addCluster(t, s, ClusterSpec{Name: "rem", Version: "8.19.2"})
	c := addCluster(t, s, ClusterSpec{Name: "loc", Version: "8.19.2", Nodes: twoNodes()})
	addLink(t, c, LinkSpec{Alias: "dyn", Remote: "rem", SkipUnavailable: boolPtr(true), TransportCompress: "true"})

	res := get(t, cl, c.URL()+"/_cluster/settings")
	wantStatus(t, res, 200)
	body := parseOrdered(t, res.body)
	if k := body.keyList(); !slices.Equal(k, []string{"persistent", "transient"}) {
		t.Errorf("keys %v", k)
	}
	if tr := body.mustGet(t, "transient"); tr.kind != "object" || len(tr.keys) != 0 {
		t.Errorf("transient %s", tr.shape())
	}
	d := body.mustGet(t, "persistent", "cluster", "remote", "dyn")
	seeds := d.mustGet(t, "seeds")
	if seeds.kind != "array" || len(seeds.vals) != 1 || seeds.vals[0].str != rem.TransportAddresses()[0] {
		t.Errorf("seeds %s", res.body)
	}
	wantString(t, d, "true", "skip_unavailable")
	wantString(t, d, "true", "transport", "compress")
	if d.get("mode") != nil {
		t.Error("mode written although not configured")
	}

	flat := parseOrdered(t, get(t, cl, c.URL()+"/_cluster/settings?flat_settings=true&include_defaults=false").body)
	want := []string{"cluster.remote.dyn.seeds", "cluster.remote.dyn.skip_unavailable", "cluster.remote.dyn.transport.compress"}
	if k := flat.mustGet(t, "persistent").keyList(); !slices.Equal(k, want) {
		t.Errorf("flat keys %v", k)
	}
	// A dynamic link is on every node.
	for _, u := range nodeURLs(t, c) {
		if parseOrdered(t, get(t, cl, u+"/_remote/info").body).get("dyn") == nil {
			t.Errorf("%s: dyn missing from _remote/info", u)
		}
		ns := parseOrdered(t, get(t, cl, u+"/_nodes/_local/settings?flat_settings=true").body)
		if ns.mustGet(t, "nodes").vals[0].get("settings", "cluster.remote.dyn.seeds") != nil {
			t.Errorf("%s: dynamic link in node settings", u)
		}
	}

	wantStatus(t, get(t, cl, c.URL()+"/_cluster/settings?include_defaults=true"), 500)
	wantStatus(t, get(t, cl, c.URL()+"/_cluster/settings?include_defaults=maybe"), 400)
	wantStatus(t, get(t, cl, c.URL()+"/_cluster/settings?bogus=1"), 400)
	res = get(t, cl, c.URL()+"/_cluster/settings", basic("nopriv", "nopriv"))
	wantStatus(t, res, 403)
	wantString(t, parseOrdered(t, res.body), "action [cluster:monitor/settings] is unauthorized for user [nopriv] with "+
		"effective roles [ccs_monitor_role], this action is granted by the cluster privileges [monitor,manage,all]", "error", "reason")

	empty := addCluster(t, s, ClusterSpec{Name: "empty", Version: "7.17.22"})
	if got := string(get(t, cl, empty.URL()+"/_cluster/settings").body); got != `{"persistent":{},"transient":{}}` {
		t.Errorf("empty settings %s", got)
	}
}

func TestStaticLinkOnSomeNodes(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	rem := addCluster(t, s, ClusterSpec{Name: "rem", Version: "8.19.2", Nodes: []NodeSpec{{Name: "r1"}, {Name: "r2"}}})
	ra := rem.TransportAddresses()
	c := addCluster(t, s, ClusterSpec{Name: "loc", Version: "8.19.2", Nodes: twoNodes()})
	// Static on es02 only.
	addLink(t, c, LinkSpec{Alias: "st", Remote: "rem", Static: true, StaticNodes: []string{"es02"}, Seeds: ra[:1],
		SkipUnavailable: boolPtr(false)})
	// Static on both nodes with different seeds.
	addLink(t, c, LinkSpec{Alias: "pn", Remote: "rem", Static: true, StaticNodes: []string{"es01"}, Seeds: ra[:1]})
	addLink(t, c, LinkSpec{Alias: "pn", Remote: "rem", Static: true, StaticNodes: []string{"es02"}, Seeds: ra[1:]})
	if err := c.AddLink(LinkSpec{Alias: "pn", Remote: "rem", Static: true, StaticNodes: []string{"es02"}}); err == nil {
		t.Error("overlapping static definition accepted")
	}
	if err := c.AddLink(LinkSpec{Alias: "x", Remote: "rem", Static: true, StaticNodes: []string{"es09"}}); err == nil {
		t.Error("unknown static node accepted")
	}
	urls := nodeURLs(t, c)

	info1 := parseOrdered(t, get(t, cl, urls["es01"]+"/_remote/info").body)
	info2 := parseOrdered(t, get(t, cl, urls["es02"]+"/_remote/info").body)
	if info1.get("st") != nil {
		t.Error("es01 lists the link configured on es02 only")
	}
	wantBool(t, info2, true, "st", "connected")
	wantBool(t, info2, false, "st", "skip_unavailable")
	if a, b := info1.mustGet(t, "pn", "seeds").vals[0].str, info2.mustGet(t, "pn", "seeds").vals[0].str; a != ra[0] || b != ra[1] {
		t.Errorf("per-node seeds %s / %s", a, b)
	}

	// _nodes/settings: only the nodes that have them.
	ns := parseOrdered(t, get(t, cl, c.URL()+"/_nodes/settings").body)
	for i, id := range ns.mustGet(t, "nodes").keys {
		n := ns.mustGet(t, "nodes").vals[i]
		name := n.mustGet(t, "name").str
		st := n.get("settings", "cluster", "remote", "st")
		if (name == "es02") != (st != nil) {
			t.Errorf("node %s (%s): static st settings %v", name, id, st != nil)
		}
		if name == "es02" {
			wantString(t, st, "false", "skip_unavailable")
			if got := n.mustGet(t, "settings", "cluster", "remote", "pn", "seeds"); got.kind != "array" || got.vals[0].str != ra[1] {
				t.Errorf("es02 pn seeds %s", got.shape())
			}
		}
	}
	// Not in the cluster settings.
	if p := parseOrdered(t, get(t, cl, c.URL()+"/_cluster/settings").body).mustGet(t, "persistent"); len(p.keys) != 0 {
		t.Errorf("static links in cluster settings: %s", p.shape())
	}
	// NodeSettings (the stand-in for elasticsearch.yml) has them too.
	m, err := c.NodeSettings("es02")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m["cluster.remote.st.seeds"].([]string); !slices.Equal(got, ra[:1]) {
		t.Errorf("NodeSettings seeds %v", m["cluster.remote.st.seeds"])
	}
}

func TestDynamicLinkTakesPrecedence(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	rem := addCluster(t, s, ClusterSpec{Name: "rem", Version: "8.19.2", Nodes: []NodeSpec{{Name: "r1"}, {Name: "r2"}}})
	ra := rem.TransportAddresses()
	c := addCluster(t, s, ClusterSpec{Name: "loc", Version: "8.19.2", Nodes: twoNodes()})
	addLink(t, c, LinkSpec{Alias: "both", Remote: "rem", Static: true, Seeds: ra[:1], SkipUnavailable: boolPtr(false),
		NodeConnections: 1})
	addLink(t, c, LinkSpec{Alias: "both", Remote: "rem", Seeds: ra[1:], SkipUnavailable: boolPtr(true)})
	if err := c.AddLink(LinkSpec{Alias: "both", Remote: "rem"}); err == nil {
		t.Error("second dynamic definition accepted")
	}
	for name, u := range nodeURLs(t, c) {
		info := parseOrdered(t, get(t, cl, u+"/_remote/info").body)
		if got := info.mustGet(t, "both", "seeds"); len(got.vals) != 1 || got.vals[0].str != ra[1] {
			t.Errorf("%s: seeds not the dynamic ones", name)
		}
		wantBool(t, info, true, "both", "skip_unavailable")
		// Key by key: node_connections only set statically still applies.
		wantNumber(t, info, 1, "both", "max_connections_per_cluster")
		wantBool(t, info, true, "both", "connected")
		ns := parseOrdered(t, get(t, cl, u+"/_nodes/_local/settings?flat_settings=true").body)
		set := ns.mustGet(t, "nodes").vals[0].mustGet(t, "settings")
		wantString(t, set, "false", "cluster.remote.both.skip_unavailable")
		wantString(t, set, "1", "cluster.remote.both.node_connections")
	}
	cs := parseOrdered(t, get(t, cl, c.URL()+"/_cluster/settings?flat_settings").body)
	wantString(t, cs, "true", "persistent", "cluster.remote.both.skip_unavailable")
	if cs.get("persistent", "cluster.remote.both.node_connections") != nil {
		t.Error("static-only key in cluster settings")
	}
}
