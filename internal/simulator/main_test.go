package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRootMatchesRecordedResponses(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, tc := range []struct{ version, sample string }{
		{"8.19.2", "root_8.19.json"},
		{"9.0.0", "root_9.0.json"},
	} {
		c := addCluster(t, s, ClusterSpec{Name: "root-" + tc.version, Version: tc.version})
		res := get(t, cl, c.URL()+"/")
		wantStatus(t, res, 200)
		got, want := parseOrdered(t, res.body), loadTestdata(t, tc.sample)
		sameShape(t, tc.version+" GET /", got, want)
		// Values that are facts, not illustrations, must match the recording.
		for _, path := range [][]string{
			{"version", "number"}, {"version", "build_flavor"}, {"version", "build_hash"}, {"version", "build_date"},
			{"version", "lucene_version"}, {"version", "minimum_wire_compatibility_version"},
			{"version", "minimum_index_compatibility_version"}, {"tagline"},
		} {
			wantString(t, got, want.mustGet(t, path...).str, path...)
		}
		wantString(t, got, "root-"+tc.version+"-es01", "name")
		wantString(t, got, "root-"+tc.version, "cluster_name")
	}
}

func TestRootPerVersionFamily(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, tc := range []struct {
		version, wire, index, contentType string
	}{
		{"7.17.22", "6.8.0", "6.0.0-beta1", "application/json; charset=UTF-8"},
		{"8.13.4", "7.17.0", "7.0.0", "application/json"},
		{"8.18.3", "7.17.0", "7.0.0", "application/json"},
		{"9.0.4", "8.18.0", "8.0.0", "application/json"},
		{"9.1.5", "8.19.0", "8.0.0", "application/json"},
		{"9.2.0-SNAPSHOT", "8.19.0", "8.0.0", "application/json"},
	} {
		c := addCluster(t, s, ClusterSpec{Name: "fam-" + tc.version, Version: tc.version,
			Nodes: []NodeSpec{{Name: "first"}, {Name: "second"}}})
		res := get(t, cl, c.URL()+"/")
		wantStatus(t, res, 200)
		if ct := res.header.Get("Content-Type"); ct != tc.contentType {
			t.Errorf("%s: content-type %q, want %q", tc.version, ct, tc.contentType)
		}
		if p := res.header.Get(productHeader); p != "Elasticsearch" {
			t.Errorf("%s: product header %q", tc.version, p)
		}
		if d := res.header.Get("Date"); d != "" {
			t.Errorf("%s: unexpected Date header %q", tc.version, d)
		}
		got := parseOrdered(t, res.body)
		wantString(t, got, tc.version, "version", "number")
		wantString(t, got, tc.wire, "version", "minimum_wire_compatibility_version")
		wantString(t, got, tc.index, "version", "minimum_index_compatibility_version")
		wantBool(t, got, strings.HasSuffix(tc.version, "-SNAPSHOT"), "version", "build_snapshot")
		wantString(t, got, "first", "name") // the first node answers
		uuid := got.mustGet(t, "cluster_uuid").str
		if len(uuid) != 22 {
			t.Errorf("cluster_uuid %q is not 22 characters", uuid)
		}
		again := parseOrdered(t, get(t, cl, c.URL()+"/").body)
		wantString(t, again, uuid, "cluster_uuid")
	}
}

func TestPrettyUsesElasticsearchLayout(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "p", Version: "8.19.2"})
	compact := get(t, cl, c.URL()+"/_remote/info")
	if string(compact.body) != "{}" {
		t.Errorf("no links: body %q, want {}", compact.body)
	}
	pretty := get(t, cl, c.URL()+"/_remote/info?pretty")
	if string(pretty.body) != "{ }\n" {
		t.Errorf("pretty empty object %q, want %q", pretty.body, "{ }\n")
	}
	root := string(get(t, cl, c.URL()+"/?pretty").body)
	if !strings.HasPrefix(root, "{\n  \"name\" : \"p-es01\",\n") || !strings.HasSuffix(root, "}\n") {
		t.Errorf("pretty layout:\n%s", root)
	}
	if !strings.Contains(string(get(t, cl, c.URL()+"/").body), `"name":"p-es01","cluster_name":"p"`) {
		t.Error("compact body is not compact")
	}
}

// TestChannelFlagsAreStrict: pretty and human are parsed like any boolean
// parameter when Elasticsearch creates the REST channel (only "", "true"
// and "false"); a bad value is a 400 before routing and authentication,
// never pretty-printed, without the 7.x security warning.
func TestChannelFlagsAreStrict(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "cf", Version: "8.19.2"})
	for q, pretty := range map[string]bool{"pretty": true, "pretty=": true, "pretty=true": true,
		"pretty=false": false, "human=false&pretty": true, "human": false} {
		res := get(t, cl, c.URL()+"/?"+q)
		wantStatus(t, res, 200)
		if got := strings.HasPrefix(string(res.body), "{\n"); got != pretty {
			t.Errorf("?%s: pretty %v, want %v: %s", q, got, pretty, res.body)
		}
	}
	for _, tc := range []struct{ path, bad string }{
		{"/?pretty=yes", "yes"},
		{"/_remote/info?pretty=1", "1"},
		{"/_nodes/_all/http?human=bogus&pretty", "bogus"}, // the channel drops every parameter: not pretty
		{"/_nope/x/y/z?pretty=TRUE", "TRUE"},              // before routing
		{"/?pretty=no&human=bogus", "no"},                 // pretty is parsed first
	} {
		res := get(t, cl, c.URL()+tc.path, noAuth()) // before authentication
		wantStatus(t, res, 400)
		reason := "Failed to parse value [" + tc.bad + "] as only [true] or [false] are allowed."
		want := `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"` + reason +
			`"}],"type":"illegal_argument_exception","reason":"` + reason + `"},"status":400}`
		if string(res.body) != want {
			t.Errorf("%s: body %s, want %s", tc.path, res.body, want)
		}
		if res.header.Get(productHeader) != "Elasticsearch" {
			t.Errorf("%s: no product header", tc.path)
		}
	}
	// 7.17 with security off by license default: handlers' answers carry
	// the security warning, the bad request does not (no handler ran).
	c7 := addCluster(t, s, ClusterSpec{Name: "cf7", Version: "7.17.22", Security: boolPtr(false)})
	if w := get(t, cl, c7.URL()+"/?pretty=false").header.Get("Warning"); w == "" {
		t.Error("7.17 handler answer without the security warning")
	}
	res := get(t, cl, c7.URL()+"/?pretty=nope")
	wantStatus(t, res, 400)
	if w := res.header.Get("Warning"); w != "" {
		t.Errorf("bad request carries Warning %q", w)
	}
}

// TestUnknownNodeErrorsListNodes: every method taking a node name names
// the cluster's nodes when the name is unknown.
func TestUnknownNodeErrorsListNodes(t *testing.T) {
	s := newSim(t)
	c := addCluster(t, s, ClusterSpec{Name: "un", Version: "8.19.2", Nodes: []NodeSpec{{Name: "n1"}, {Name: "n2"}}})
	addCluster(t, s, ClusterSpec{Name: "un-remote", Version: "8.19.2"})
	const want = `simulator: cluster "un" has no node "nope" (its nodes: "n1", "n2")`
	_, err := c.NodeURL("nope")
	wantErrContains(t, err, want, "NodeURL")
	wantErrContains(t, c.SetNodeVersion("nope", "8.19.2"), want, "SetNodeVersion")
	wantErrContains(t, c.SetNodeRoles("nope", nil), want, "SetNodeRoles")
	wantErrContains(t, c.SetNodeSecurity("nope", true), want, "SetNodeSecurity")
	wantErrContains(t, c.SetNodeTransportTLS("nope", true), want, "SetNodeTransportTLS")
	_, err = c.NodeSettings("nope")
	wantErrContains(t, err, want, "NodeSettings")
	_, _, err = c.NodeCertificatePEM("nope")
	wantErrContains(t, err, want, "NodeCertificatePEM")
	_, err = c.NodeTLSCertificate("nope")
	wantErrContains(t, err, want, "NodeTLSCertificate")
	err = c.AddLink(LinkSpec{Alias: "x", Remote: "un-remote", Static: true, StaticNodes: []string{"n1", "nope"}})
	wantErrContains(t, err, want+`, named in StaticNodes of link "x"`, "AddLink")
}

func TestPlainHTTPAndCAFile(t *testing.T) {
	s := newSim(t)
	plain := addCluster(t, s, ClusterSpec{Name: "plain", Version: "7.17.22", PlainHTTP: true})
	tlsC := addCluster(t, s, ClusterSpec{Name: "tls", Version: "8.19.2"})
	if !strings.HasPrefix(plain.URL(), "http://127.0.0.1:") || !strings.HasPrefix(tlsC.URL(), "https://127.0.0.1:") {
		t.Fatalf("URLs %s %s", plain.URL(), tlsC.URL())
	}
	wantStatus(t, get(t, http.DefaultClient, plain.URL()+"/", basic(monUser, monPass)), 200)
	// Without the CA the TLS handshake must fail, and fail for the unknown
	// authority: the certificate is real, only its CA is not trusted. The
	// client trusts another real CA (the transport CA) rather than the
	// system roots, so the outcome does not depend on the host's CA bundle.
	other := x509.NewCertPool()
	if !other.AppendCertsFromPEM(s.TransportCACertPEM()) {
		t.Fatal("transport CA PEM does not parse")
	}
	noCA := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: other}}}
	_, err := doErr(t.Context(), noCA, "GET", tlsC.URL()+"/")
	if err == nil {
		t.Error("TLS cluster accepted by a client without the simulator CA")
	} else if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
		t.Errorf("TLS error without the simulator CA: %v (%T), want x509.UnknownAuthorityError", err, err)
	}
	path, err := s.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != string(s.CACertPEM()) {
		t.Fatalf("CA file %s: %v", path, err)
	}
	// The leaf is valid for localhost too.
	cl := newClient(t, s)
	lh := strings.Replace(tlsC.URL(), "127.0.0.1", "localhost", 1)
	wantStatus(t, get(t, cl, lh+"/"), 200)
}

func TestStopStartKeepsURLAndRefusesWhenStopped(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "ss", Version: "8.19.2"})
	url := c.URL()
	c.Stop()
	if c.Running() {
		t.Fatal("Running after Stop")
	}
	if _, err := doErr(t.Context(), cl, "GET", url+"/"); err == nil {
		t.Fatal("request to a stopped cluster succeeded")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if c.URL() != url || !c.Running() {
		t.Fatalf("URL %s -> %s, running %v", url, c.URL(), c.Running())
	}
	wantStatus(t, get(t, cl, url+"/"), 200)
	if c.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", c.Requests())
	}
}

func TestAddClusterValidation(t *testing.T) {
	s := newSim(t)
	for _, tc := range []struct {
		spec ClusterSpec
		want string
	}{
		{ClusterSpec{Name: "", Version: "8.19.2"}, "ClusterSpec.Name is empty"},
		{ClusterSpec{Name: "v", Version: "6.8.0"}, `version "6.8.0": the simulator plays 7.17.x, 8.x and 9.x only`},
		{ClusterSpec{Name: "v", Version: "7.16.3"}, `version "7.16.3": the simulator plays 7.17.x, 8.x and 9.x only`},
		{ClusterSpec{Name: "v", Version: "banana"}, `version "banana": want MAJOR.MINOR`},
		{ClusterSpec{Name: "v", Version: "8.19.2", Nodes: []NodeSpec{{Name: "a"}, {Name: "a"}}}, `duplicate node name "a"`},
		{ClusterSpec{Name: "v", Version: "8.19.2", InitialConnectTimeout: -time.Second}, "InitialConnectTimeout must not be negative"},
	} {
		_, err := s.AddCluster(tc.spec)
		wantErrContains(t, err, tc.want, fmt.Sprintf("AddCluster(%+v)", tc.spec))
	}
	addCluster(t, s, ClusterSpec{Name: "dup", Version: "8.19.2"})
	_, err := s.AddCluster(ClusterSpec{Name: "dup", Version: "8.19.2"})
	wantErrContains(t, err, `cluster "dup" already exists`, "duplicate cluster name")
	if s.Cluster("dup") == nil || s.Cluster("nope") != nil {
		t.Error("Cluster lookup")
	}
}

func TestNodesInfoMatchesRecordedResponse(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "prod-local", Version: "8.19.2", Nodes: []NodeSpec{
		{Name: "es01"}, {Name: "es02-coord", Roles: []string{}}, {Name: "es03", Roles: []string{"master", "data_hot", "data_content"}},
	}})
	want := loadTestdata(t, "nodes_info_all_none_8.19.json")
	wantNode := want.mustGet(t, "nodes").vals[0]
	res := get(t, cl, c.URL()+"/_nodes/_all/_none")
	wantStatus(t, res, 200)
	got := parseOrdered(t, res.body)
	if g, w := strings.Join(got.keyList(), ","), strings.Join(want.keyList(), ","); g != w {
		t.Errorf("top-level keys %s, want %s", g, w)
	}
	sameShape(t, "_nodes header", got.mustGet(t, "_nodes"), want.mustGet(t, "_nodes"))
	wantNumber(t, got, 3, "_nodes", "total")
	nodes := got.mustGet(t, "nodes")
	if len(nodes.keys) != 3 {
		t.Fatalf("%d nodes", len(nodes.keys))
	}
	addrs := map[string]bool{}
	for i, id := range nodes.keys {
		n := nodes.vals[i]
		if len(id) != 22 {
			t.Errorf("node id %q is not 22 characters", id)
		}
		switch n.mustGet(t, "name").str {
		case "es01":
			sameShape(t, "node es01", n, wantNode)
			if g, w := n.mustGet(t, "roles").shape(), wantNode.mustGet(t, "roles").shape(); g != w {
				t.Errorf("roles %s", g)
			}
		case "es02-coord":
			if r := n.mustGet(t, "roles"); r.kind != "array" || len(r.vals) != 0 {
				t.Errorf("coordinating-only roles %s", r.shape())
			}
		case "es03":
			var roles []string
			for _, r := range n.mustGet(t, "roles").vals {
				roles = append(roles, r.str)
			}
			if !slices.Equal(roles, []string{"data_content", "data_hot", "master"}) {
				t.Errorf("roles not sorted: %v", roles)
			}
		}
		addr := n.mustGet(t, "transport_address").str
		if addrs[addr] {
			t.Errorf("duplicate transport address %s", addr)
		}
		addrs[addr] = true
		// The address is real: something accepts connections there.
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Errorf("dial transport %s: %v", addr, err)
		} else {
			conn.Close()
		}
	}
	// Full GET /_nodes adds total_indexing_buffer (indices metric).
	full := parseOrdered(t, get(t, cl, c.URL()+"/_nodes").body)
	if full.mustGet(t, "nodes").vals[0].get("total_indexing_buffer") == nil {
		t.Error("GET /_nodes lacks total_indexing_buffer")
	}
	// Node selection by name.
	one := parseOrdered(t, get(t, cl, c.URL()+"/_nodes/es03/_none").body)
	wantNumber(t, one, 1, "_nodes", "total")
}

func TestNodesInfoVersionFields(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, tc := range []struct {
		version                      string
		transport, index, components bool
	}{
		{"7.17.22", false, false, false},
		{"8.8.2", true, false, false},
		{"8.11.4", true, true, false},
		{"8.13.4", true, true, true},
		{"9.1.5", true, true, true},
	} {
		c := addCluster(t, s, ClusterSpec{Name: "nv-" + tc.version, Version: tc.version})
		n := parseOrdered(t, get(t, cl, c.URL()+"/_nodes/_all/_none").body).mustGet(t, "nodes").vals[0]
		for field, want := range map[string]bool{"transport_version": tc.transport, "index_version": tc.index,
			"component_versions": tc.components} {
			if got := n.get(field) != nil; got != want {
				t.Errorf("%s: %s present=%v, want %v", tc.version, field, got, want)
			}
		}
		if n.get("transport_version") != nil && n.get("transport_version").kind != "number" {
			t.Errorf("%s: transport_version is not a number", tc.version)
		}
		wantString(t, n, tc.version, "version")
	}
}

// TestVersionValuesComputedOnce: parseESVersion derives the per-version
// values once; reading them allocates nothing (buildHash runs per 7.x
// Warning header).
func TestVersionValuesComputedOnce(t *testing.T) {
	for _, s := range []string{"7.17.22", "8.8.2", "8.19.2", "8.19.5", "9.0.0", "9.1.5-SNAPSHOT"} {
		v, err := parseESVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		if v.lucene != luceneVersion(v.v) || v.transportID != transportVersionID(v.v) || v.indexID != indexVersionID(v.v) ||
			v.hash != buildHashFor(v.str) || v.date != buildDateFor(v.v, v.str) {
			t.Errorf("%s: stored values %+v differ from the tables", s, v)
		}
		if allocs := testing.AllocsPerRun(10, func() { _, _ = buildHash(v), buildDate(v) }); allocs != 0 {
			t.Errorf("%s: buildHash/buildDate allocate %v times", s, allocs)
		}
	}
	v, _ := parseESVersion("8.19.2")
	if v.hash != "c1c00e18ef14acd650768ff01f037eaede0c1f7b" || v.lucene != "9.12.2" || v.transportID != 8841003 || v.indexID != 8525000 {
		t.Errorf("8.19.2: %+v", v)
	}
}

func TestTimeValueRendering(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:        "30s",
		90 * time.Second:        "1.5m",
		100 * time.Second:       "1.6m",
		time.Minute:             "1m",
		5 * time.Second:         "5s",
		1500 * time.Millisecond: "1.5s",
		250 * time.Millisecond:  "250ms",
		2 * time.Hour:           "2h",
		36 * time.Hour:          "1.5d",
		1500 * time.Nanosecond:  "1.5micros",
		7 * time.Nanosecond:     "7nanos",
		0:                       "0s",
	} {
		if got := timeValueString(d); got != want {
			t.Errorf("timeValueString(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 90 * time.Second: "90s", 2 * time.Minute: "2m", 1500 * time.Millisecond: "1500ms",
		3 * day: "3d", 25 * time.Hour: "25h", 1500 * time.Microsecond: "1500micros", 7 * time.Nanosecond: "7nanos", 0: "0nanos",
	} {
		if got := timeValueStringRep(d); got != want {
			t.Errorf("timeValueStringRep(%v) = %q, want %q", d, got, want)
		}
	}
	for s, want := range map[string]time.Duration{"5s": 5 * time.Second, "100ms": 100 * time.Millisecond,
		"2m": 2 * time.Minute, "10nanos": 10, "-1": -1, "0": 0, "3micros": 3 * time.Microsecond, "1h": time.Hour,
		"2d": 2 * day, "-1s": -1, "-001": -1, "000": 0, "5MS": 5 * time.Millisecond, " 7 S ": 7 * time.Second} {
		if got, err := parseTimeValue(s, "timeout"); err != nil || got != want {
			t.Errorf("parseTimeValue(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"5 parsecs", "1.5s", "5M", "5", "-2s", "1e3s"} {
		if _, err := parseTimeValue(s, "timeout"); err == nil {
			t.Errorf("parseTimeValue(%q) accepted", s)
		}
	}
}
