package simulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "f", Version: "8.19.2"})
	url := c.URL()

	t.Run("latency", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultLatency, Latency: 50 * time.Millisecond})
		defer c.SetFault(Fault{})
		start := time.Now()
		wantStatus(t, get(t, cl, url+"/"), 200)
		if el := time.Since(start); el < 50*time.Millisecond {
			t.Errorf("answered after %v, want >= 50ms", el)
		}
	})
	t.Run("hang", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultHang})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := doErr(ctx, cl, "GET", url+"/")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want deadline exceeded", err)
		}
		// The abandoned request is let go once the client has left.
		waitHeld(t, c, 0)
		// Clearing the fault releases waiting requests, which are answered.
		done := make(chan result, 1)
		go func() {
			res, _ := doErr(context.Background(), cl, "GET", url+"/")
			done <- res
		}()
		waitHeld(t, c, 1)
		select {
		case res := <-done:
			t.Fatalf("request answered while the hang lasts: status %d", res.status)
		default:
		}
		c.SetFault(Fault{})
		wantStatus(t, <-done, 200)
		waitHeld(t, c, 0)
	})
	t.Run("server error", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultServerError})
		defer c.SetFault(Fault{})
		res := get(t, cl, url+"/_remote/info")
		wantStatus(t, res, 503)
		got := parseOrdered(t, res.body)
		wantString(t, got, "master_not_discovered_exception", "error", "type")
		if r := got.mustGet(t, "error", "reason"); r.kind != "null" {
			t.Errorf("reason %s, want null", r.kind)
		}
		if res.header.Get(productHeader) != "Elasticsearch" {
			t.Error("5xx from the node lacks the product header")
		}
		c.SetFault(Fault{Kind: FaultServerError, Status: 500})
		wantStatus(t, get(t, cl, url+"/"), 500)
	})
	t.Run("bad json", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultBadJSON})
		defer c.SetFault(Fault{})
		res := get(t, cl, url+"/")
		wantStatus(t, res, 200)
		var v any
		if json.Unmarshal(res.body, &v) == nil {
			t.Errorf("body %q is valid JSON", res.body)
		}
		if res.header.Get(productHeader) != "Elasticsearch" {
			t.Error("bad JSON answer lacks the product header")
		}
	})
	t.Run("html", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultHTML})
		defer c.SetFault(Fault{})
		res := get(t, cl, url+"/", noAuth())
		wantStatus(t, res, 502)
		if res.header.Get(productHeader) != "" || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(res.body), "502 Bad Gateway") {
			t.Errorf("headers %v body %q", res.header, res.body)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultTruncated})
		defer c.SetFault(Fault{})
		res, err := doErr(context.Background(), cl, "GET", url+"/")
		if err == nil {
			t.Fatalf("truncated body read without error: %q", res.body)
		}
		if res.status != 200 {
			t.Errorf("status %d, want 200 before the body breaks", res.status)
		}
	})
	t.Run("drop", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultDrop})
		defer c.SetFault(Fault{})
		if _, err := doErr(context.Background(), cl, "GET", url+"/"); err == nil {
			t.Fatal("dropped connection produced a response")
		}
	})
	t.Run("no product header", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultNoProductHeader})
		defer c.SetFault(Fault{})
		res := get(t, cl, url+"/")
		wantStatus(t, res, 200)
		if _, ok := res.header[http.CanonicalHeaderKey(productHeader)]; ok {
			t.Error("200 still carries the product header")
		}
		// The fault is a proxy rewriting 2xx answers: a 401 keeps what
		// Elasticsearch sends (on 8.x none, errorResponse).
		c.SetFault(Fault{})
		before := get(t, cl, url+"/", noAuth()).header.Values(productHeader)
		c.SetFault(Fault{Kind: FaultNoProductHeader})
		res = get(t, cl, url+"/", noAuth())
		wantStatus(t, res, 401)
		if got := res.header.Values(productHeader); !slices.Equal(got, before) {
			t.Errorf("401 product header %q under the fault, %q without it", got, before)
		}
	})
	t.Run("path prefix", func(t *testing.T) {
		c.SetFault(Fault{Kind: FaultServerError, PathPrefix: "/_remote/info"})
		defer c.SetFault(Fault{})
		wantStatus(t, get(t, cl, url+"/_remote/info"), 503)
		wantStatus(t, get(t, cl, url+"/"), 200)
		wantStatus(t, get(t, cl, url+"/_nodes/_all/_none"), 200)
	})
}

// TestCloseReleasesHangingRequests checks that Close returns with requests
// hanging on a fault and on a hanging remote, and leaves no goroutines.
func TestCloseReleasesHangingRequests(t *testing.T) {
	baseline := runtime.NumGoroutine()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AddCluster(ClusterSpec{Name: "a", Version: "8.19.2", Users: monitorUsers()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddCluster(ClusterSpec{Name: "b", Version: "8.19.2", Users: monitorUsers(),
		Nodes: []NodeSpec{{Name: "b1"}, {Name: "b2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddLink(LinkSpec{Alias: "b", Remote: "b"}); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	cl := &http.Client{Transport: tr}

	b.SetFault(Fault{Kind: FaultHang})
	errs := make(chan error, 2)
	go func() {
		_, err := doErr(context.Background(), cl, "GET", b.URL()+"/")
		errs <- err
	}()
	go func() {
		_, err := doErr(context.Background(), cl, "GET", a.URL()+"/_resolve/cluster/b:*")
		errs <- err
	}()
	// Both requests really hang: b's on its fault, a's on its hanging remote.
	waitHeld(t, a, 1)
	waitHeld(t, b, 1)
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
	for i := 0; i < 2; i++ {
		if err := <-errs; err == nil {
			t.Error("hanging request got a response after Close")
		}
	}
	tr.CloseIdleConnections()
	waitForGoroutines(t, baseline)
	if err := a.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
	if _, err := s.AddCluster(ClusterSpec{Name: "late", Version: "8.19.2"}); err == nil {
		t.Error("AddCluster after Close succeeded")
	}
}
