package collector

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countedServer is an httptest server that counts the connections it
// accepted (before it serves their first request, so a response's arrival
// proves its connection counted).
type countedServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newCountedServer(t *testing.T, tlsOn bool, h http.HandlerFunc) *countedServer {
	t.Helper()
	s := &countedServer{Server: httptest.NewUnstartedServer(h)}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if tlsOn {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func okHandler(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) }

func testNodeTransport(t *testing.T, tlsCfg *tls.Config) *nodeTransport {
	t.Helper()
	tr := newNodeTransport(tlsCfg, 5*time.Second)
	tr.proxy = nil // the environment's proxies are not this test's
	t.Cleanup(tr.Close)
	return tr
}

// roundTrip sends GET (or method) to u and reads the whole answer.
func roundTrip(ctx context.Context, tr http.RoundTripper, method, u string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := tr.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

func mustRoundTrip(t *testing.T, tr http.RoundTripper, method, u string) string {
	t.Helper()
	status, body, err := roundTrip(context.Background(), tr, method, u)
	if err != nil || status != http.StatusOK {
		t.Fatalf("%s %s: status %d, error %v", method, u, status, err)
	}
	return body
}

func TestNodeTransportKeepsConnectionsAlive(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		srv := newCountedServer(t, tlsOn, okHandler)
		var cfg *tls.Config
		if tlsOn {
			// No server name configured: the host's (an IP here) is verified.
			cfg = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
		}
		tr := testNodeTransport(t, cfg)
		for range 5 {
			if body := mustRoundTrip(t, tr, http.MethodGet, srv.URL+"/_nodes"); body != `{"ok":true}` {
				t.Fatalf("body %q", body)
			}
		}
		mustRoundTrip(t, tr, http.MethodHead, srv.URL+"/") // no body: the connection is free at once
		mustRoundTrip(t, tr, http.MethodGet, srv.URL+"/")
		if n := srv.conns.Load(); n != 1 {
			t.Errorf("TLS %v: %d connections for 7 requests one after the other, want 1", tlsOn, n)
		}
	}
}

// concurrently runs f n times at once and reports each error.
func concurrently(t *testing.T, n int, f func() error) {
	t.Helper()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { errs <- f() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// barrierHandler answers its first n requests only once all n are in
// flight (so they take n connections), the others at once.
func barrierHandler(n int) http.HandlerFunc {
	var arrived sync.WaitGroup
	arrived.Add(n)
	var served atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) <= int64(n) {
			arrived.Done()
			arrived.Wait()
		}
		okHandler(w, r)
	}
}

func getOK(tr http.RoundTripper, u string) func() error {
	return func() error {
		status, _, err := roundTrip(context.Background(), tr, http.MethodGet, u)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		return err
	}
}

// Kept-alive connections die together (a node restart, an idle timeout
// on the way): a request that finds its connection closed asks again on
// a new one, not on the next dead one.
func TestNodeTransportAsksAgainOnAConnectionClosedWhileIdle(t *testing.T) {
	const n = 3
	srv := newCountedServer(t, false, barrierHandler(n))
	tr := testNodeTransport(t, nil)
	concurrently(t, n, getOK(tr, srv.URL))
	key, _, _ := nodeAddr(mustParse(t, srv.URL))
	if got := len(tr.idle[key]); got != n {
		t.Fatalf("%d idle connections, want %d", got, n)
	}
	srv.CloseClientConnections()
	mustRoundTrip(t, tr, http.MethodGet, srv.URL)
	if got := srv.conns.Load(); got != n+1 {
		t.Errorf("%d connections, want %d", got, n+1)
	}
}

func TestNodeTransportHonoursConnectionClose(t *testing.T) {
	srv := newCountedServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		okHandler(w, r)
	})
	tr := testNodeTransport(t, nil)
	for range 3 {
		mustRoundTrip(t, tr, http.MethodGet, srv.URL)
	}
	if n := srv.conns.Load(); n != 3 {
		t.Errorf("%d connections for 3 answers with Connection: close, want 3", n)
	}
}

// An answer read in part (an endless one, cut at the exporter's cap) closes
// its connection at once instead of reading to an end that never comes.
func TestNodeTransportClosesAConnectionWithUnreadBody(t *testing.T) {
	srv := streamServer(t, -1)
	tr := testNodeTransport(t, nil)
	// No deadline: a Close that read to the end would never return.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, res.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := res.Body.Read(make([]byte, 1)); !errors.Is(err, errBodyClosed) {
		t.Errorf("read after close: %v, want %v", err, errBodyClosed)
	}
	if len(tr.idle) != 0 {
		t.Errorf("a connection with an unread body went back to the pool: %v", tr.idle)
	}
}

// rawServer accepts connections and hands each to serve.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer c.Close(); serve(c) })
		}
	})
	return "http://" + ln.Addr().String()
}

func TestNodeTransportBoundsHeaders(t *testing.T) {
	u := rawServer(t, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n') // the request line is enough
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Padding: " + strings.Repeat("a", 1000) + "\r\n"
		for {
			if _, err := io.WriteString(c, line); err != nil {
				return // the client left
			}
		}
	})
	tr := testNodeTransport(t, nil)
	_, _, err := roundTrip(context.Background(), tr, http.MethodGet, u)
	if !errors.Is(err, errHeaderTooLarge) {
		t.Fatalf("endless headers: %v, want %v", err, errHeaderTooLarge)
	}
	if ce := classifyTransportError(context.Background(), "GET /", err); ce.Reason != ReasonInvalidResponse {
		t.Errorf("classified %s, want %s", ce.Reason, ReasonInvalidResponse)
	}
}

// Interim 1xx answers are skipped; a 101 (never asked for) ends the
// connection's use.
func TestNodeTransportInterimAnswers(t *testing.T) {
	answers := map[string]string{
		"/continue": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
		"/switch":   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n",
	}
	u := rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if _, err := io.WriteString(c, answers[req.URL.Path]); err != nil {
				return
			}
		}
	})
	tr := testNodeTransport(t, nil)
	status, body, err := roundTrip(context.Background(), tr, http.MethodGet, u+"/continue")
	if err != nil || status != http.StatusOK || body != "{}" {
		t.Fatalf("after 100 Continue: %d %q %v, want 200 {}", status, body, err)
	}
	if status, _, err := roundTrip(context.Background(), tr, http.MethodGet, u+"/switch"); err != nil || status != http.StatusSwitchingProtocols {
		t.Fatalf("101: %d %v", status, err)
	}
	if key, _, _ := nodeAddr(mustParse(t, u)); len(tr.idle[key]) != 0 {
		t.Errorf("a switched connection went back to the pool: %v", tr.idle)
	}
}

// hangingServer sends its headers when head is true, then waits for the
// client to leave; started receives one value per request.
func hangingServer(t *testing.T, head bool) (*httptest.Server, chan struct{}) {
	started := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if head {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}
		started <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, started
}

func TestNodeTransportEndsWithTheContext(t *testing.T) {
	t.Run("deadline before the answer", func(t *testing.T) {
		srv, _ := hangingServer(t, false)
		tr := testNodeTransport(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, _, err := roundTrip(ctx, tr, http.MethodGet, srv.URL)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the deadline's", err)
		}
		if ce := classifyTransportError(ctx, "GET /", err); ce.Reason != ReasonTimeout {
			t.Errorf("classified %s, want %s", ce.Reason, ReasonTimeout)
		}
	})
	t.Run("cancelled before the answer", func(t *testing.T) {
		srv, started := hangingServer(t, false)
		tr := testNodeTransport(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		_, _, err := roundTrip(ctx, tr, http.MethodGet, srv.URL)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
	t.Run("cancelled while the body is read", func(t *testing.T) {
		srv, started := hangingServer(t, true)
		tr := testNodeTransport(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		<-started
		cancel()
		if _, err := io.ReadAll(res.Body); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
}

func TestNodeTransportClosesIdleConnections(t *testing.T) {
	a := newCountedServer(t, false, okHandler)
	b := newCountedServer(t, false, okHandler)
	tr := testNodeTransport(t, nil)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	tr.now = func() time.Time { return now }
	mustRoundTrip(t, tr, http.MethodGet, a.URL)
	keyA, _, _ := nodeAddr(mustParse(t, a.URL))
	now = now.Add(idleTimeout + time.Second)
	mustRoundTrip(t, tr, http.MethodGet, a.URL) // not on the expired connection
	if n := a.conns.Load(); n != 2 {
		t.Errorf("%d connections to a, want 2: an expired one was used", n)
	}
	if len(tr.idle[keyA]) != 1 {
		t.Fatalf("idle %v, want a's connection", tr.idle)
	}
	now = now.Add(idleTimeout + time.Second)
	mustRoundTrip(t, tr, http.MethodGet, b.URL) // handing b's connection back sweeps
	if _, ok := tr.idle[keyA]; ok || len(tr.idle) != 1 {
		t.Errorf("idle %v: a's connection outlived idleTimeout", tr.idle)
	}
	tr.Close()
	if len(tr.idle) != 0 {
		t.Errorf("idle %v after Close", tr.idle)
	}
	mustRoundTrip(t, tr, http.MethodGet, b.URL) // still answers, keeps nothing
	if len(tr.idle) != 0 {
		t.Errorf("idle %v: a connection was kept after Close", tr.idle)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Concurrent requests open a connection each; maxIdlePerNode of them stay.
func TestNodeTransportBoundsIdleConnections(t *testing.T) {
	const n = maxIdlePerNode + 3
	srv := newCountedServer(t, false, barrierHandler(n))
	tr := testNodeTransport(t, nil)
	concurrently(t, n, getOK(tr, srv.URL))
	key, _, _ := nodeAddr(mustParse(t, srv.URL))
	if got := srv.conns.Load(); got != n {
		t.Errorf("%d connections for %d concurrent requests", got, n)
	}
	if got := len(tr.idle[key]); got != maxIdlePerNode {
		t.Errorf("%d idle connections kept, want %d", got, maxIdlePerNode)
	}
}

// A proxy from the environment gets the request (through net/http, which
// speaks to proxies).
func TestNodeTransportUsesProxies(t *testing.T) {
	var asked atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.String())
		okHandler(w, r)
	}))
	t.Cleanup(proxy.Close)
	tr := testNodeTransport(t, nil)
	proxyURL := mustParse(t, proxy.URL)
	tr.proxy = http.ProxyURL(proxyURL)
	mustRoundTrip(t, tr, http.MethodGet, "http://es.example:9200/_nodes")
	if got, _ := asked.Load().(string); got != "http://es.example:9200/_nodes" {
		t.Errorf("the proxy was asked for %q", got)
	}
}
