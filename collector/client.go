package collector

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// maxBodyBytes bounds what the exporter reads of one response. The largest
// answer it asks for (_remote/info of a cluster with hundreds of remotes) is
// far below this; anything bigger is not an answer to our question.
const maxBodyBytes = 32 << 20

// Memory for answers: each response reads its first freeBodyBytes freely;
// beyond that it takes 1 MiB tokens from bodyBudget, shared by all clusters,
// so that however many clusters (or proxies in front of them) stream large
// or endless answers at once, the bytes held by responses being read stay
// below clusters' concurrency x 1 MiB + responseBudgetMiB (buffers may hold
// up to twice what they read while growing). A response that cannot get a
// token waits for one until its request times out.
const (
	freeBodyBytes     = 1 << 20
	responseBudgetMiB = 96
)

var bodyBudget = newByteBudget(responseBudgetMiB)

var errBudget = errors.New("response memory budget exhausted")

// byteBudget is a counting semaphore of 1 MiB tokens.
type byteBudget struct{ tokens chan struct{} }

func newByteBudget(mib int) *byteBudget { return &byteBudget{tokens: make(chan struct{}, mib)} }

func (b *byteBudget) acquire(ctx context.Context) error {
	select {
	case b.tokens <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errBudget
	}
}

func (b *byteBudget) release(n int) {
	for range n {
		<-b.tokens
	}
}

// readBody reads r into buf, at most maxBodyBytes+1 bytes (one more than
// the cap, to tell an answer at the cap from one beyond it), taking a
// budget token for every MiB past freeBodyBytes. held is the tokens taken:
// the caller releases them when it is done with buf.
func readBody(ctx context.Context, buf *bytes.Buffer, r io.Reader) (held int, err error) {
	lr := io.LimitReader(r, maxBodyBytes+1)
	for {
		if buf.Len() >= freeBodyBytes+held<<20 {
			if err := bodyBudget.acquire(ctx); err != nil {
				return held, err
			}
			held++
		}
		limit := int64(freeBodyBytes + held<<20 - buf.Len())
		n, err := buf.ReadFrom(io.LimitReader(lr, limit))
		switch {
		case err != nil:
			return held, err
		case n < limit:
			return held, nil // EOF (or the cap) before the limit: done
		}
	}
}

// bodyBuffers recycles response buffers across requests and clusters.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Client talks to one cluster's HTTP API through go-elasticsearch's esapi
// request types over its transport (elastic-transport-go), without the
// root go-elasticsearch package: its client types pull in the typed API
// (about 860 packages, most of a cold build) for nothing the exporter uses,
// and what BaseClient adds is done here per response anyway (the product
// header check, which BaseClient makes only until the first success).
type Client struct {
	es        *elastictransport.Client
	transport *nodeTransport
	// multi: the cluster has several URLs; a request that fails on all of
	// them reports each URL's error (attempts).
	multi bool
	// log receives each request at debug level; nil = none.
	log *slog.Logger
	// answered is the URL (scheme://host:port, a string) that answered the
	// last request, with several URLs ("" with one): node-local answers,
	// GET /'s among them, are only as current as the node that gave them.
	// Atomic: per-remote _resolve/cluster requests run concurrently.
	answered atomic.Value
	// What the every-poll requests' last answers were made into.
	nodesMemo      answerMemo[nodesAnswer]
	remoteInfoMemo answerMemo[[]RemoteLink]
	resolveMemo    answerMemo[[]Resolved]
}

// NewClient builds the HTTP client for one configured cluster. TLS files are
// read here, so a broken file is reported at (re)load time, not at poll time.
func NewClient(cl config.Cluster, timeout time.Duration) (*Client, error) {
	tlsCfg, err := tlsConfig(cl.TLS)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", cl.Name, err)
	}
	tr := newNodeTransport(tlsCfg, timeout)
	return clientOn(cl, tr)
}

// clientOn is a client for cl's URLs and credentials over an existing
// transport: the per-node clients of certificates_from_all_nodes share the
// cluster's connections, TLS settings and parsed files.
func clientOn(cl config.Cluster, tr *nodeTransport) (*Client, error) {
	urls := make([]*url.URL, 0, len(cl.URLs))
	for _, raw := range cl.URLs {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil {
			// url.Parse's error quotes the URL; configuration validation has
			// refused credentials in URLs, so it holds no secret.
			return nil, fmt.Errorf("cluster %q: building the Elasticsearch client: %w", cl.Name, err)
		}
		urls = append(urls, u)
	}
	tcfg := elastictransport.Config{
		UserAgent: userAgent,
		URLs:      urls,
		Username:  cl.Username,
		Password:  cl.Password.Reveal(),
		APIKey:    cl.APIKey.Reveal(),
		Transport: attemptsTransport{tr},
		// _remote/info and _ssl/certificates answer for the node that handles
		// the request: ask the same node every time, fail over in order.
		Selector: firstLiveSelector{},
		// Retries exist only to fail over to the next URL; one URL, no retry,
		// so a hung node costs one timeout, not four.
		MaxRetries:    max(len(cl.URLs)-1, 0),
		DisableRetry:  len(cl.URLs) < 2,
		RetryOnStatus: []int{502, 503, 504},
	}
	if cl.APIKey.Reveal() != "" {
		// An API key replaces user and password, as go-elasticsearch does.
		tcfg.Username, tcfg.Password = "", ""
	}
	es, err := elastictransport.New(tcfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: building the Elasticsearch client: %w", cl.Name, err)
	}
	return &Client{es: es, transport: tr, multi: len(urls) > 1}, nil
}

// With several URLs the transport fails over from one to the next and
// returns the last error only; attemptsTransport records each URL's
// outcome in the request's context (when the request asks for it), so a
// request that failed everywhere can say why for every URL.
type attemptsKey struct{}

type attempt struct {
	url string // scheme://host:port, never credentials (validation refuses them in URLs)
	err error
}

type attempts struct {
	mu   sync.Mutex
	list []attempt
}

type attemptsTransport struct{ http.RoundTripper }

func (t attemptsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.RoundTripper.RoundTrip(r)
	if a, ok := r.Context().Value(attemptsKey{}).(*attempts); ok {
		a.mu.Lock()
		a.list = append(a.list, attempt{url: r.URL.Scheme + "://" + r.URL.Host, err: err})
		a.mu.Unlock()
	}
	return res, err
}

// lastAnswered is the URL that answered the client's last request
// (Client.answered).
func (c *Client) lastAnswered() string {
	s, _ := c.answered.Load().(string)
	return s
}

// answered is the URL whose attempt got an answer ("" when none did, or
// for a client with one URL).
func (a *attempts) answered() string {
	if a == nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, at := range a.list {
		if at.err == nil {
			return at.url
		}
	}
	return ""
}

// allFailed words the error of a request that failed on every URL it
// tried; "" when it tried one URL or one of them answered.
func (a *attempts) allFailed() string {
	if a == nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.list) < 2 {
		return ""
	}
	parts := make([]string, len(a.list))
	for i, at := range a.list {
		if at.err == nil {
			return ""
		}
		parts[i] = at.url + ": " + rootCause(at.err).Error()
	}
	return fmt.Sprintf("all %d URLs failed: %s", len(a.list), strings.Join(parts, "; "))
}

// userAgent names the exporter to Elasticsearch (its logs and slow logs).
const userAgent = "es_remote_exporter (go-elasticsearch esapi)"

// Close releases the client's connections.
func (c *Client) Close() { c.transport.Close() }

func tlsConfig(t config.TLS) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicit opt-in, warned about at load
	}
	if t.CAFile != "" {
		pool, err := caPools.load(t.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/tls.key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// caPools shares one parsed pool per CA file content: fleets of clusters
// usually trust one CA, and a parsed pool per cluster adds up. The file is
// read on every (re)load, so a changed file is picked up.
var caPools = &caPoolCache{pools: map[string]*x509.CertPool{}}

type caPoolCache struct {
	mu    sync.Mutex
	pools map[string]*x509.CertPool // by file content
}

func (c *caPoolCache) load(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls.ca_file: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if pool, ok := c.pools[string(pem)]; ok {
		return pool, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate found; give the CA certificate in PEM form", path)
	}
	if len(c.pools) > 64 { // bounded: many distinct CAs simply get their own pools
		clear(c.pools)
	}
	c.pools[string(pem)] = pool
	return pool, nil
}

// firstLiveSelector always picks the first live connection, so node-local
// APIs keep answering for the same node while it is healthy.
type firstLiveSelector struct{}

func (firstLiveSelector) Select(conns []*elastictransport.Connection) (*elastictransport.Connection, error) {
	if len(conns) == 0 {
		return nil, errors.New("no live connection")
	}
	return conns[0], nil
}

// do runs one request under ctx and decodes a 2xx JSON body into out.
// Everything else comes back as a classified *CheckError.
func (c *Client) do(ctx context.Context, what string, req esapi.Request, out any) *CheckError {
	return c.request(ctx, what, req, jsonInto(out))
}

// doAllowing is do for an API whose answer with one of the given statuses
// is an answer, not an error (GET /_security/role/<names>: 404 with {} when
// none exists); such a body is decoded like a 2xx one when Elasticsearch
// sent it.
func (c *Client) doAllowing(ctx context.Context, what string, req esapi.Request, out any, answers ...int) *CheckError {
	return c.request(ctx, what, req, jsonInto(out), answers...)
}

func jsonInto(out any) func([]byte) error {
	return func(body []byte) error { return json.Unmarshal(body, out) }
}

// request runs one request under ctx and hands a 2xx body (or one with a
// status in answers, from Elasticsearch) to decode; the body is valid only
// during the call. Everything else, and decode's error, comes back as a
// classified *CheckError.
func (c *Client) request(ctx context.Context, what string, req esapi.Request, decode func(body []byte) error, answers ...int) (cerr *CheckError) {
	var tried *attempts
	if c.multi {
		tried = &attempts{}
		ctx = context.WithValue(ctx, attemptsKey{}, tried)
	}
	status, size := 0, 0
	if c.log != nil && c.log.Enabled(ctx, slog.LevelDebug) {
		start := time.Now()
		defer func() {
			method, path, _ := strings.Cut(what, " ")
			attrs := []slog.Attr{slog.String("method", method), slog.String("path", path), slog.Int("status", status),
				slog.Duration("duration", time.Since(start)), slog.Int("bytes", size)}
			if cerr != nil {
				attrs = append(attrs, slog.String("reason", string(cerr.Reason)))
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "request", attrs...)
		}()
	}
	res, err := req.Do(ctx, c.es)
	c.answered.Store(tried.answered())
	if err != nil {
		ce := classifyTransportError(ctx, what, err)
		if all := tried.allFailed(); all != "" {
			ce.Msg = what + ": " + all
		}
		return ce
	}
	defer res.Body.Close()
	status = res.StatusCode
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // do not pin the rare huge answer
			buf.Reset()
			bodyBuffers.Put(buf)
		}
	}()
	buf.Reset()
	held, readErr := readBody(ctx, buf, res.Body)
	defer bodyBudget.release(held)
	body := buf.Bytes() // valid until return: everything kept from it is copied
	size = len(body)
	// An error status says more than the size of the page that came with it.
	answer := slices.Contains(answers, res.StatusCode) && res.Header.Get("X-Elastic-Product") == "Elasticsearch"
	if (res.StatusCode < 200 || res.StatusCode > 299) && !answer {
		return classifyStatus(what, res.StatusCode, res.Header, body)
	}
	if readErr == nil && len(body) > maxBodyBytes {
		return &CheckError{Reason: ReasonInvalidResponse, Status: res.StatusCode,
			Msg:  fmt.Sprintf("%s: the response is larger than %d MiB, the most the exporter reads of one answer; it stopped reading there", what, maxBodyBytes>>20),
			Hint: "Elasticsearch's answers to these requests are far smaller: check what answers at the URL (a proxy streaming something else?)"}
	}
	if readErr != nil {
		if errors.Is(readErr, errBudget) {
			return &CheckError{Reason: ReasonTimeout, Status: res.StatusCode, Err: readErr,
				Msg:  fmt.Sprintf("%s: no room to read the answer within the timeout: other large answers in flight hold the exporter's %d MiB response budget", what, responseBudgetMiB),
				Hint: "some clusters (or proxies in front of them) send very large answers; find them by their invalid_response failures"}
		}
		// The connection's deadline is the context's, and can pass a moment
		// before the context says so: the transport's error says it then.
		if ctx.Err() != nil || errors.Is(readErr, context.DeadlineExceeded) || errors.Is(readErr, context.Canceled) {
			return classifyTransportError(ctx, what, readErr)
		}
		return invalidBody(what, body, readErr)
	}
	// go-elasticsearch checks the product header only until its first
	// success; a proxy that starts answering later must not slip through.
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		return classifyTransportError(ctx, what, errors.New(unknownProductMsg))
	}
	if err := decode(body); err != nil {
		return invalidBody(what, body, err)
	}
	return nil
}

// memoized runs req under ctx and makes its answer into a T with parse,
// through m: an answer identical to the last one is not parsed again.
func memoized[T any](ctx context.Context, c *Client, what string, req esapi.Request, m *answerMemo[T], parse func([]byte) (T, error)) (out T, cerr *CheckError) {
	cerr = c.request(ctx, what, req, func(body []byte) (err error) {
		out, err = m.decode(body, parse)
		return err
	})
	return out, cerr
}

// answerMemo remembers what was made of one request's last answer, so that
// an answer identical to the last one (most polls: link and node states
// rarely change between them) is not decoded again. Answers are recognised
// by length and a 64-bit hash with a per-process random seed: two different
// answers of one request passing for each other has a chance of 2^-64 per
// poll. The value is shared with the facts of the polls that made and reused
// it, which treat it as read-only. Not safe for concurrent use: a poller runs
// one poll at a time.
type answerMemo[T any] struct {
	size int
	sum  uint64
	val  T
	set  bool
}

var answerSeed = maphash.MakeSeed()

// decode returns parse(body), or the value made of the same answer last time.
func (m *answerMemo[T]) decode(body []byte, parse func([]byte) (T, error)) (T, error) {
	sum := maphash.Bytes(answerSeed, body)
	if m.set && m.size == len(body) && m.sum == sum {
		return m.val, nil
	}
	v, err := parse(body)
	if err != nil {
		*m = answerMemo[T]{}
		return v, err
	}
	*m = answerMemo[T]{size: len(body), sum: sum, val: v, set: true}
	return v, nil
}
