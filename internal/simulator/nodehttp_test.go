package simulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"maps"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
)

func nodeURLs(t *testing.T, c *Cluster) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range c.NodeNames() {
		u, err := c.NodeURL(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = u
	}
	return out
}

func threeNodes() []NodeSpec { return []NodeSpec{{Name: "es01"}, {Name: "es02"}, {Name: "es03"}} }

func TestPerNodeHTTPMain(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "multi", Version: "8.19.2", Nodes: threeNodes()})
	urls := nodeURLs(t, c)
	if urls["es01"] != c.URL() {
		t.Errorf("NodeURL(es01) = %s, URL() = %s", urls["es01"], c.URL())
	}
	seen := map[string]bool{}
	for name, u := range urls {
		if seen[u] {
			t.Errorf("URL %s used twice", u)
		}
		seen[u] = true
		body := parseOrdered(t, get(t, cl, u+"/").body)
		wantString(t, body, name, "name")
		wantString(t, body, "multi", "cluster_name")
		// _local is the node the request was sent to.
		local := parseOrdered(t, get(t, cl, u+"/_nodes/_local/_none").body)
		wantNumber(t, local, 1, "_nodes", "total")
		wantString(t, local.mustGet(t, "nodes").vals[0], name, "name")
	}
	if _, err := c.NodeURL("nope"); err == nil {
		t.Error("NodeURL of an unknown node succeeded")
	}
	if c.Requests() != 6 {
		t.Errorf("Requests() = %d, want 6 (all nodes count)", c.Requests())
	}
}

// A single-node cluster keeps exactly one HTTP listener, the URL() one.
func TestPerNodeHTTPSingleNodeOneListener(t *testing.T) {
	s := newSim(t)
	c := addCluster(t, s, ClusterSpec{Name: "single", Version: "8.19.2"})
	c.mu.Lock()
	n, srv := len(c.nodes), c.nodes[0].srv
	u := c.nodes[0].httpURL
	c.mu.Unlock()
	if n != 1 || srv == nil || u != c.URL() {
		t.Fatalf("nodes %d, srv %v, node URL %s, URL() %s", n, srv != nil, u, c.URL())
	}
}

func TestPerNodeSSLCertificates(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "certs", Version: "8.19.2", Nodes: threeNodes()})
	urls := nodeURLs(t, c)
	addrs := c.TransportAddresses()
	serials := map[string]bool{}
	for i, name := range c.NodeNames() {
		var leaf *sslEntry
		entries := sslEntries(t, get(t, cl, urls[name]+"/_ssl/certificates").body)
		for j, e := range entries {
			if e.hasKey && e.format == "PEM" {
				if leaf != nil {
					t.Fatalf("%s: two transport keys listed", name)
				}
				leaf = &entries[j]
			}
		}
		if leaf == nil || leaf.path != "certs/"+name+"/"+name+".crt" {
			t.Fatalf("%s: transport leaf %+v", name, leaf)
		}
		if serials[leaf.serial] {
			t.Errorf("%s: serial %s listed by another node too", name, leaf.serial)
		}
		serials[leaf.serial] = true
		r := probeAs(t, addrs[i], c)
		if r.ClientAuth != tlsprobe.ClientAuthAccepted || len(r.Chain) == 0 {
			t.Fatalf("%s: probe %q %v", name, r.ClientAuth, r.Err)
		}
		if r.Chain[0].Serial != leaf.serial || r.Chain[0].Subject != leaf.subject {
			t.Errorf("%s: transport port serves %s %s, listing says %s %s", name,
				r.Chain[0].Serial, r.Chain[0].Subject, leaf.serial, leaf.subject)
		}
	}
}

func TestNodesHTTPInfo(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "nh", Version: "8.19.2", Nodes: threeNodes()})
	urls := nodeURLs(t, c)
	hostPort := func(u string) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return p.Host
	}
	for _, path := range []string{"/_nodes/http", "/_nodes/_all/http"} {
		body := parseOrdered(t, get(t, cl, c.URL()+path).body)
		wantNumber(t, body, 3, "_nodes", "total")
		for name, u := range urls {
			n := nodeByName(t, body, name)
			if n.get("settings") != nil {
				t.Errorf("%s: settings without the settings metric", path)
			}
			h := n.mustGet(t, "http")
			if got := h.keyList(); !slices.Equal(got, []string{"bound_address", "publish_address", "max_content_length_in_bytes"}) {
				t.Errorf("%s %s: http keys %v", path, name, got)
			}
			wantString(t, h, hostPort(u), "publish_address")
			if b := h.mustGet(t, "bound_address"); b.kind != "array" || len(b.vals) != 1 || b.vals[0].str != hostPort(u) {
				t.Errorf("%s %s: bound_address %s", path, name, b.shape())
			}
			wantNumber(t, h, 104857600, "max_content_length_in_bytes")
		}
	}
	// Node selection by name, and ?human.
	one := parseOrdered(t, get(t, cl, c.URL()+"/_nodes/es02/http?human").body)
	wantNumber(t, one, 1, "_nodes", "total")
	h := nodeByName(t, one, "es02").mustGet(t, "http")
	wantString(t, h, hostPort(urls["es02"]), "publish_address")
	if got := h.keyList(); !slices.Equal(got, []string{"bound_address", "publish_address", "max_content_length",
		"max_content_length_in_bytes"}) {
		t.Errorf("human http keys %v", got)
	}
	wantString(t, h, "100mb", "max_content_length")
	// All metrics: http comes after settings (NodesInfoResponse.toXContent).
	full := nodeByName(t, parseOrdered(t, get(t, cl, c.URL()+"/_nodes").body), "es03")
	keys := full.keyList()
	if si, hi := slices.Index(keys, "settings"), slices.Index(keys, "http"); si < 0 || hi != si+1 || hi != len(keys)-1 {
		t.Errorf("GET /_nodes node keys %v", keys)
	}
	// Other metrics leave http out.
	if nodeByName(t, parseOrdered(t, get(t, cl, c.URL()+"/_nodes/settings").body), "es01").get("http") != nil {
		t.Error("http section with the settings metric only")
	}
}

func TestPerNodeHTTPStopStartAndFaults(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "ss", Version: "8.19.2", Nodes: threeNodes()})
	urls := nodeURLs(t, c)
	c.Stop()
	for name, u := range urls {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := doErr(ctx, cl, "GET", u+"/"); err == nil {
			t.Errorf("%s answered while stopped", name)
		}
		cancel()
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if after := nodeURLs(t, c); !maps.Equal(after, urls) {
		t.Errorf("URLs changed across Stop/Start: %v -> %v", urls, after)
	}
	for name, u := range urls {
		wantString(t, parseOrdered(t, get(t, cl, u+"/").body), name, "name")
	}
	// Faults apply to every node's listener.
	c.SetFault(Fault{Kind: FaultServerError})
	for _, u := range urls {
		wantStatus(t, get(t, cl, u+"/"), 503)
	}
	c.SetFault(Fault{Kind: FaultServerError, Status: 429})
	res := get(t, cl, urls["es03"]+"/")
	wantStatus(t, res, 429)
	if r := parseOrdered(t, res.body).mustGet(t, "error", "reason").str; !strings.Contains(r, "name = es03/management") {
		t.Errorf("429 reason %q does not name es03", r)
	}
	c.SetFault(Fault{})
	wantStatus(t, get(t, cl, urls["es02"]+"/"), 200)
}

// Close releases requests hanging on every node's listener and leaves no
// goroutine behind.
func TestPerNodeHTTPCloseNoLeaks(t *testing.T) {
	baseline := runtime.NumGoroutine()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AddCluster(ClusterSpec{Name: "leak", Version: "8.19.2", Users: monitorUsers(), Nodes: threeNodes()})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	cl := &http.Client{Transport: tr}
	var urls []string
	for _, name := range c.NodeNames() {
		u, err := c.NodeURL(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := doErr(context.Background(), cl, "GET", u+"/"); err != nil {
			t.Fatal(err)
		}
		urls = append(urls, u)
	}
	c.Stop()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	c.SetFault(Fault{Kind: FaultHang})
	errs := make(chan error, len(urls))
	for _, u := range urls {
		go func() {
			_, err := doErr(context.Background(), cl, "GET", u+"/")
			errs <- err
		}()
	}
	for c.Requests() < int64(2*len(urls)) {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while requests were hanging")
	}
	for range urls {
		if err := <-errs; err == nil {
			t.Error("hanging request got a response after Close")
		}
	}
	tr.CloseIdleConnections()
	waitForGoroutines(t, baseline)
}
