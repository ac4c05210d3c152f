package collector

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"
)

// nodeTransport is the http.RoundTripper under each cluster's client. It
// speaks HTTP/1.1 over a few kept-alive connections per node and does each
// exchange on the calling goroutine: write the request, read the answer,
// hand the connection back when its body has been read to the end.
//
// net/http's Transport runs two goroutines per connection (a reader and a
// writer) and passes every request and response between them and the caller
// over channels. For a thousand clusters polled every few seconds that was
// 2,000 parked goroutines, their stacks scanned by every GC, and most of the
// exporter's CPU per poll: the handoffs, the allocations behind them and the
// collections those drive (docs/performance.md, "Connections").
// Parsing stays net/http's (Request.Write, ReadResponse).
//
// A request that a proxy from the environment (HTTPS_PROXY, HTTP_PROXY,
// NO_PROXY) applies to goes through a net/http Transport instead, which
// speaks to proxies.
type nodeTransport struct {
	dialer  net.Dialer
	tlsBase *tls.Config
	proxy   func(*http.Request) (*url.URL, error)
	now     func() time.Time // time.Now; tests move it to expire idle connections

	mu       sync.Mutex
	idle     map[string][]*nodeConn // by scheme://host:port, most recently used last
	tlsHosts map[string]*tls.Config // tlsBase naming each host, for verification
	proxied  *http.Transport        // built at the first proxied request
	closed   bool
}

const (
	// maxIdlePerNode bounds the connections kept open to one node: a poll
	// makes its requests one after the other, except the per-remote
	// _resolve/cluster requests of 8.13-8.17 and the slow listings.
	maxIdlePerNode = 4
	// idleTimeout closes connections unused this long (a node no longer
	// asked after a failover, for one).
	idleTimeout = 5 * time.Minute
	// maxResponseHeaderBytes bounds the status line and headers of one
	// answer; Elasticsearch's are a few hundred bytes.
	maxResponseHeaderBytes = 1 << 20
)

func newNodeTransport(tlsCfg *tls.Config, timeout time.Duration) *nodeTransport {
	return &nodeTransport{
		dialer:  net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		tlsBase: tlsCfg,
		proxy:   http.ProxyFromEnvironment,
		now:     time.Now,
		idle:    map[string][]*nodeConn{},
	}
}

// nodeConn is one connection to a node.
type nodeConn struct {
	key       string
	conn      net.Conn
	in        limitedReader // conn, with the header limit while headers are read
	br        *bufio.Reader // from readers, while an exchange runs
	idleSince time.Time
}

// limitedReader reads r, at most left bytes when left >= 0.
type limitedReader struct {
	r    io.Reader
	left int64
}

var errHeaderTooLarge = fmt.Errorf("the answer's status line and headers exceed %d KiB; Elasticsearch's are far smaller", maxResponseHeaderBytes>>10)

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, errHeaderTooLarge
	}
	if l.left > 0 && int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	if l.left > 0 {
		l.left -= int64(n)
	}
	return n, err
}

// readers and requestBuffers are shared by all connections: a connection
// holds a reader only while an exchange runs on it.
var (
	readers        = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 1<<10) }}
	requestBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// aLongTimeAgo is a deadline in the past: setting it makes blocked reads
// and writes on a connection return at once.
var aLongTimeAgo = time.Unix(1, 0)

func (t *nodeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.proxy != nil {
		proxyURL, err := t.proxy(req)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		if proxyURL != nil {
			return t.proxiedTransport().RoundTrip(req)
		}
	}
	key, addr, err := nodeAddr(req.URL)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	ctx := req.Context()
	var nc *nodeConn
	if ctx.Err() == nil {
		nc = t.get(key)
	}
	if nc != nil {
		res, err := t.exchange(nc, req)
		if err == nil {
			return res, nil
		}
		nc.conn.Close()
		// A kept-alive connection the node (or something between) closed
		// while it was idle fails at once. A request without a body is safe
		// to send again, on a new connection, as net/http does (the other
		// idle ones may have died with it).
		if ctx.Err() != nil || !closedWhileIdle(err) || !replayable(req) {
			return nil, contextErr(ctx, err)
		}
	}
	nc, err = t.dial(ctx, req.URL, key, addr)
	if err != nil {
		closeBody(req)
		return nil, contextErr(ctx, err)
	}
	res, err := t.exchange(nc, req)
	if err != nil {
		nc.conn.Close()
		return nil, contextErr(ctx, err)
	}
	return res, nil
}

// nodeAddr is the pool key (scheme://host:port) and dial address of u.
func nodeAddr(u *url.URL) (key, addr string, err error) {
	port := u.Port()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("unsupported protocol scheme %q", u.Scheme)
	case port != "":
	case u.Scheme == "https":
		port = "443"
	default:
		port = "80"
	}
	addr = net.JoinHostPort(u.Hostname(), port)
	return u.Scheme + "://" + addr, addr, nil
}

func (t *nodeTransport) dial(ctx context.Context, u *url.URL, key, addr string) (*nodeConn, error) {
	conn, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" {
		tc := tls.Client(conn, t.tlsFor(u.Hostname()))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	nc := &nodeConn{key: key, conn: conn}
	nc.in = limitedReader{r: conn, left: -1}
	return nc, nil
}

// tlsFor is the TLS configuration for host: the configured one, naming the
// host unless tls.server_name does (as net/http does).
func (t *nodeTransport) tlsFor(host string) *tls.Config {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cfg, ok := t.tlsHosts[host]; ok {
		return cfg
	}
	cfg := &tls.Config{}
	if t.tlsBase != nil {
		cfg = t.tlsBase.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if t.tlsHosts == nil {
		t.tlsHosts = map[string]*tls.Config{}
	}
	t.tlsHosts[host] = cfg
	return cfg
}

// exchange writes req on nc and reads the answer's status and headers; the
// body is read by the caller through nodeBody, which hands nc back.
func (t *nodeTransport) exchange(nc *nodeConn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	deadline, _ := ctx.Deadline() // zero: none
	if err := nc.conn.SetDeadline(deadline); err != nil {
		closeBody(req)
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.conn.SetDeadline(aLongTimeAgo) })
	buf := requestBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	err := req.Write(buf) // closes req.Body
	if err == nil {
		_, err = nc.conn.Write(buf.Bytes())
	}
	requestBuffers.Put(buf)
	if err != nil {
		stop()
		return nil, err
	}
	nc.br = readers.Get().(*bufio.Reader)
	nc.br.Reset(&nc.in)
	var res *http.Response
	nc.in.left = maxResponseHeaderBytes // for all 1xx answers and the answer together
	for {
		res, err = http.ReadResponse(nc.br, req)
		// 1xx answers are interim; the answer follows (101 would switch
		// protocols, which the exporter never asks for).
		if err != nil || res.StatusCode >= 200 || res.StatusCode < 100 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	nc.in.left = -1
	if err != nil {
		stop()
		t.dropReader(nc)
		return nil, err
	}
	body := &nodeBody{t: t, nc: nc, ctx: ctx, body: res.Body, stop: stop, keep: !res.Close && !req.Close && res.StatusCode != http.StatusSwitchingProtocols}
	if res.Body == http.NoBody {
		body.release(true)
		return res, nil
	}
	res.Body = body
	return res, nil
}

// nodeBody is an answer's body; closing it hands the connection back to the
// pool when the body was read to its end, and closes it otherwise.
type nodeBody struct {
	t      *nodeTransport
	nc     *nodeConn
	ctx    context.Context
	body   io.ReadCloser
	stop   func() bool
	keep   bool // the answer allows reusing the connection
	eof    bool
	failed bool
	closed bool
}

var errBodyClosed = errors.New("read on a closed response body")

func (b *nodeBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errBodyClosed
	}
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.failed = true
		err = contextErr(b.ctx, err)
	}
	return n, err
}

func (b *nodeBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if !b.eof || b.failed {
		// Close first: the body's own Close reads to the end, which for an
		// endless answer would never come.
		b.nc.conn.Close()
	}
	_ = b.body.Close()
	b.release(b.eof && !b.failed)
	return nil
}

// release ends the exchange: the connection goes back to the pool when
// complete says its answer was read whole and nothing else stands against
// reusing it.
func (b *nodeBody) release(complete bool) {
	fired := !b.stop() // the context ended: the deadline is in the past
	nc := b.nc
	if complete && b.keep && !fired && nc.br.Buffered() == 0 && nc.conn.SetDeadline(time.Time{}) == nil {
		b.t.dropReader(nc)
		b.t.put(nc)
		return
	}
	b.t.dropReader(nc)
	nc.conn.Close()
}

func (t *nodeTransport) dropReader(nc *nodeConn) {
	nc.br.Reset(nil)
	readers.Put(nc.br)
	nc.br = nil
}

// get takes an idle connection to key, or nil.
func (t *nodeTransport) get(key string) *nodeConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for list := t.idle[key]; len(list) > 0; list = t.idle[key] {
		nc := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[key] = list[:len(list)-1]
		if now.Sub(nc.idleSince) <= idleTimeout {
			return nc
		}
		nc.conn.Close()
	}
	return nil
}

// put keeps nc for the next request to its node, and closes connections
// idle for longer than idleTimeout, to this node or any other.
func (t *nodeTransport) put(nc *nodeConn) {
	now := t.now()
	nc.idleSince = now
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || len(t.idle[nc.key]) >= maxIdlePerNode {
		nc.conn.Close()
		return
	}
	for key, list := range t.idle {
		fresh := list[:0]
		for _, c := range list {
			if now.Sub(c.idleSince) > idleTimeout {
				c.conn.Close()
			} else {
				fresh = append(fresh, c)
			}
		}
		clear(list[len(fresh):])
		if len(fresh) == 0 {
			delete(t.idle, key)
		} else {
			t.idle[key] = fresh
		}
	}
	t.idle[nc.key] = append(t.idle[nc.key], nc)
}

// Close closes the idle connections, and every connection handed back
// after it.
func (t *nodeTransport) Close() {
	t.mu.Lock()
	t.closed = true
	for key, list := range t.idle {
		for _, c := range list {
			c.conn.Close()
		}
		delete(t.idle, key)
	}
	proxied := t.proxied
	t.mu.Unlock()
	if proxied != nil {
		proxied.CloseIdleConnections()
	}
}

// proxiedTransport is net/http's Transport with the same dialer and TLS
// settings, for requests that go through a proxy.
func (t *nodeTransport) proxiedTransport() *http.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.proxied == nil {
		t.proxied = &http.Transport{
			Proxy:               t.proxy,
			DialContext:         t.dialer.DialContext,
			TLSClientConfig:     t.tlsBase,
			TLSHandshakeTimeout: t.dialer.Timeout,
			MaxIdleConnsPerHost: maxIdlePerNode,
			IdleConnTimeout:     idleTimeout,
			// Elasticsearch's HTTP layer speaks HTTP/1.1 only.
			ForceAttemptHTTP2: false,
		}
	}
	return t.proxied
}

// closedWhileIdle tells the errors of a kept-alive connection that the
// other side had closed: the write or the first read fails at once.
func closedWhileIdle(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ETIMEDOUT) // TCP keepalive gave up on it while idle
}

// replayable: req is a GET or HEAD without a body (every request the
// exporter makes is a read; net/http replays the same kinds).
func replayable(req *http.Request) bool {
	return (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody)
}

// contextErr is the context's error when it ended (the connection's deadline
// is the context's, so what failed err), else err.
func contextErr(ctx context.Context, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection's deadline can pass a moment before the context's
		// timer has marked it done.
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			ctxErr = context.DeadlineExceeded
		}
	}
	if ctxErr != nil {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
