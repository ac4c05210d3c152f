package simulator

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// productHeader is written with Elasticsearch's spelling
// (RestController.ELASTIC_PRODUCT_HTTP_HEADER); RestController.dispatchRequest
// adds it before any handler or security check, so it is on every response
// (responses/response_headers.json).
const productHeader = "X-elastic-product"

// response is a fully rendered HTTP answer.
type response struct {
	status      int
	body        []byte
	contentType string
	headers     [][2]string
	noProduct   bool
}

// answeringKey is the context key of the index (in c.nodes) of the node
// whose HTTP listener received a request (newHTTPServer).
type answeringKey struct{}

// answeringIndex is the index of the node a request was sent to; 0 (the
// first node, URL()) when the request carries none.
func answeringIndex(r *http.Request) int {
	if i, ok := r.Context().Value(answeringKey{}).(int); ok {
		return i
	}
	return 0
}

// ServeHTTP answers, after applying the cluster's current fault (shared by
// every node's listener), as the node whose listener received the request
// (the first node when used as a plain handler). Node-local parts follow
// that node: GET / "name", GET /_ssl/certificates (its certificates, and
// whether the API exists), _nodes/_local, the 429 thread pool name,
// _remote/info (its own links). Everything else (version, security,
// license) is the cluster's first node's, as before per-node HTTP.
func (c *Cluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.inflight.enter() {
		dropConnection(w)
		return
	}
	defer c.inflight.leave()
	c.requests.Add(1)

	for {
		c.mu.Lock()
		f, faultCh, downCh := c.fault, c.faultCh, c.downCh
		c.mu.Unlock()
		if f.Kind == FaultNone || !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			c.write(w, r, c.handle(r))
			return
		}
		if f.Latency > 0 {
			if !c.sleep(r.Context(), f.Latency, downCh) {
				abort()
			}
		}
		switch f.Kind {
		case FaultLatency:
			c.write(w, r, c.handle(r))
			return
		case FaultHang:
			if c.hold(r.Context(), faultCh, downCh) {
				continue // fault replaced: evaluate the new one
			}
			abort()
		case FaultServerError:
			c.write(w, r, c.serverError(r, f.Status))
		case FaultBadJSON:
			c.write(w, r, response{status: http.StatusOK, contentType: contentType(c.answeringVersion()),
				body: []byte("this is not JSON {\"cluster_name\":")})
		case FaultHTML:
			c.write(w, r, response{
				status:      http.StatusBadGateway,
				contentType: "text/html",
				noProduct:   true,
				body: []byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
					"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"),
			})
		case FaultTruncated:
			c.writeTruncated(w, r, c.handle(r))
		case FaultDrop:
			dropConnection(w)
		case FaultNoProductHeader:
			resp := c.handle(r)
			resp.noProduct = resp.noProduct || resp.status/100 == 2
			c.write(w, r, resp)
		default:
			c.write(w, r, c.handle(r))
		}
		return
	}
}

// hold keeps a request that gets no answer (FaultHang) waiting until
// released is closed, which it reports, or the client leaves, the cluster
// stops or the Sim closes. The request counts as held meanwhile
// (heldRequests).
func (c *Cluster) hold(ctx context.Context, released, downCh <-chan struct{}) bool {
	c.held.Add(1)
	defer c.held.Add(-1)
	select {
	case <-released:
		return true
	case <-ctx.Done():
	case <-downCh:
	case <-c.sim.closeCh:
	}
	return false
}

// heldRequests is the number of requests currently held by a hang: this
// cluster's FaultHang, or a hanging remote a _resolve/cluster request
// waits for. Tests wait for it to know that a request really hangs.
func (c *Cluster) heldRequests() int64 { return c.held.Load() }

// sleep waits d unless the client leaves, the cluster stops or the Sim
// closes; it reports whether the full delay elapsed.
func (c *Cluster) sleep(ctx context.Context, d time.Duration, downCh chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-downCh:
	case <-c.sim.closeCh:
	}
	return false
}

// abort ends the request without any response: net/http closes the
// connection (instead of sending the implicit empty 200 a returning handler
// would get).
func abort() { panic(http.ErrAbortHandler) }

// hijack takes the request's connection over from net/http, or ends the
// request without a response when that is impossible. Bytes net/http has
// buffered from the connection are dropped: every caller closes it.
func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		abort()
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		abort()
	}
	return conn
}

func dropConnection(w http.ResponseWriter) { _ = hijack(w).Close() }

// write sends resp. The product header is left out when resp.noProduct is
// set (a proxy's page, FaultNoProductHeader's 2xx answers).
func (c *Cluster) write(w http.ResponseWriter, r *http.Request, resp response) {
	if resp.status == 0 {
		abort() // the action gave up: client gone or cluster stopping
	}
	h := w.Header()
	if !resp.noProduct {
		h[productHeader] = []string{"Elasticsearch"}
	}
	for _, kv := range resp.headers {
		h[kv[0]] = append(h[kv[0]], kv[1])
	}
	if resp.contentType != "" {
		h["Content-Type"] = []string{resp.contentType}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(resp.body))}
	h["Date"] = nil // Elasticsearch (Netty) sends no Date header
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}

// writeTruncated announces the full Content-Length, sends half of the body
// and closes the connection.
func (c *Cluster) writeTruncated(w http.ResponseWriter, r *http.Request, resp response) {
	if resp.status == 0 {
		abort()
	}
	conn := hijack(w)
	defer conn.Close()
	if len(resp.body) < 2 {
		resp.body = append(resp.body, []byte("{ }")...)
	}
	bw := bufio.NewWriter(conn)
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(resp.status) + " " + http.StatusText(resp.status) + "\r\n")
	if !resp.noProduct {
		bw.WriteString(productHeader + ": Elasticsearch\r\n")
	}
	for _, kv := range resp.headers {
		bw.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	if resp.contentType != "" {
		bw.WriteString("content-type: " + resp.contentType + "\r\n")
	}
	bw.WriteString("content-length: " + strconv.Itoa(len(resp.body)) + "\r\n\r\n")
	if r.Method != http.MethodHead {
		bw.Write(resp.body[:len(resp.body)/2])
	}
	_ = bw.Flush()
}

// serverError renders a realistic Elasticsearch 5xx. 503 is what a node
// without an elected master answers (MasterNotDiscoveredException has no
// message, hence reason null); other statuses are plausible examples
// (unverified).
func (c *Cluster) serverError(r *http.Request, status int) response {
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	var e esError
	switch status {
	case http.StatusServiceUnavailable:
		e = esError{status: status, typ: "master_not_discovered_exception", reason: nil}
	case http.StatusTooManyRequests:
		e = esError{status: status, typ: "es_rejected_execution_exception",
			reason: "rejected execution of TimedRunnable on EsThreadPoolExecutor[name = " + c.answeringNodeName(r) +
				"/management, queue capacity = 100]"}
	case http.StatusGatewayTimeout:
		e = esError{status: status, typ: "process_cluster_event_timeout_exception",
			reason: "failed to process cluster event within 30s"}
	default:
		e = esError{status: status, typ: "illegal_state_exception", reason: "simulated internal failure"}
	}
	ver := c.answeringVersion()
	return jsonResponse(ver, r, status, e.body())
}

// answeringNodeName is the name of the node the request was sent to.
func (c *Cluster) answeringNodeName(r *http.Request) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[answeringIndex(r)].name
}

func (c *Cluster) answeringVersion() esVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[0].ver
}

// contentType per version (responses/response_headers.json): 7.17 adds the
// charset, 8.x/9.x send plain application/json.
func contentType(v esVersion) string {
	if v.v.Major == 7 {
		return "application/json; charset=UTF-8"
	}
	return "application/json"
}

// channelFlags are the boolean response parameters every REST channel
// parses when it is created, in this order (AbstractRestChannel's
// constructor: request.paramAsBoolean("pretty", false), then "human";
// verified in 7.x source). Neither is special-cased: they are as strict as
// any boolean parameter (parseRestBool), e.g. pretty=yes fails.
var channelFlags = []string{"pretty", "human"}

// checkChannelFlags is what Elasticsearch does when creating the channel
// fails on such a value: AbstractHttpServerTransport#handleIncomingRequest
// catches the IllegalArgumentException ("invalid parameter values for any
// of the filter_path, human, or pretty parameters"), builds the channel
// from the request without its parameters
// (RestRequest.requestWithoutParameters) and
// RestController#dispatchBadRequest answers 400 with the exception (and,
// from 7.14, the product header) before any handler: before routing and
// the security filter, never pretty-printed. Verified in 7.x and current
// source; Elasticsearch's Netty4BadRequestIT#testInvalidParameterValue
// checks the 400 for pretty=neither-true-nor-false. Not modelled: since
// Elasticsearch authenticates in the HTTP layer (PR #95112, merged
// 2023-04, so about 8.8; unverified), a failed authentication is the
// first bad-request cause there and would answer 401 instead, as it
// would for the simulator's other routing errors.
func checkChannelFlags(v esVersion, r *http.Request) *response {
	q := r.URL.Query()
	for _, name := range channelFlags {
		if !q.Has(name) {
			continue
		}
		if _, e := parseRestBool(q.Get(name)); e != nil {
			return &response{status: e.status, body: encodeJSON(e.body(), false), contentType: contentType(v)}
		}
	}
	return nil
}

// restFlag is a boolean request parameter with default false
// (RestRequest#paramAsBoolean): true when present and empty or "true".
// Invalid values of the channel flags never reach a handler
// (checkChannelFlags).
func restFlag(r *http.Request, name string) bool {
	q := r.URL.Query()
	if !q.Has(name) {
		return false
	}
	b, e := parseRestBool(q.Get(name))
	return e == nil && b
}

func jsonResponse(v esVersion, r *http.Request, status int, body any) response {
	return response{status: status, body: encodeJSON(body, restFlag(r, "pretty")), contentType: contentType(v)}
}

// errorResponse renders e. Real 8.19.8 and 9.2.0 answer the security
// filter's 401 and 403 WITHOUT the X-elastic-product header that every
// other answer carries (internal/realcluster's secured conformance test,
// 2026-12; this contradicts shared/es/responses/response_headers.json,
// which infers the header from dispatchRequest). 7.17 keeps the header
// (unverified: no secured 7.17 node was run).
func errorResponse(v esVersion, r *http.Request, e esError) response {
	resp := jsonResponse(v, r, e.status, e.body())
	resp.noProduct = e.securityFilter && v.v.Major >= 8
	return resp
}

// splitPath splits like PathTrie: String.split("/") drops trailing empty
// segments, and a leading "/" is skipped.
// Segments are percent-decoded afterwards, as PathTrie's decoder does for
// path parameters.
func splitPath(p string) []string {
	parts := strings.Split(p, "/")
	if len(parts) > 0 && parts[0] == "" {
		parts = parts[1:]
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for i, s := range parts {
		if d, err := url.PathUnescape(s); err == nil {
			parts[i] = d
		}
	}
	return parts
}

// methodOrder is RestRequest.Method's declaration order (an EnumSet prints
// the allowed methods in it).
var methodOrder = []string{"GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT"}

// handle rejects invalid pretty/human values (checkChannelFlags), routes a
// request the way RestController.tryAllHandlers would for the routes the
// simulator models, then authenticates, validates parameters, authorizes
// and runs the action, in that order (begin; SecurityRestFilter runs
// before BaseRestHandler.prepareRequest; authorization happens in the
// transport action filter; action-level checks last). Responses of a
// handler on a 7.x node whose security is off by license default carry
// SecurityRestFilter's Warning header (security.go); RestController's own
// 400/405 answers do not pass the filter.
func (c *Cluster) handle(r *http.Request) response {
	ver := c.answeringVersion()
	if bad := checkChannelFlags(ver, r); bad != nil {
		return *bad
	}
	segs := splitPath(r.URL.EscapedPath())
	method := r.Method
	get := method == http.MethodGet || method == http.MethodHead

	type route struct {
		allowed []string
		run     func() response
	}
	var rt *route
	switch {
	case len(segs) == 0:
		rt = &route{[]string{"GET", "HEAD"}, func() response { return c.mainAction(r, ver) }}
	case len(segs) == 2 && segs[0] == "_remote" && segs[1] == "info":
		rt = &route{[]string{"GET"}, func() response { return c.remoteInfoAction(r, ver) }}
	case segs[0] == "_nodes" && len(segs) <= 3:
		rt = &route{[]string{"GET"}, func() response { return c.nodesInfoAction(r, ver, segs[1:]) }}
	case len(segs) == 2 && segs[0] == "_resolve" && segs[1] == "cluster" && ver.atLeast(8, 18):
		// RestResolveClusterAction routes GET /_resolve/cluster from 8.18.
		rt = &route{[]string{"GET"}, func() response { return c.resolveClusterAction(r, ver, nil) }}
	case len(segs) == 2 && segs[0] == "_cluster" && segs[1] == "settings":
		// RestClusterGetSettingsAction (PUT, RestClusterUpdateSettingsAction,
		// is not simulated).
		rt = &route{[]string{"GET"}, func() response { return c.clusterGetSettingsAction(r, ver) }}
	case (len(segs) == 2 || len(segs) == 3) && segs[0] == "_security" && segs[1] == "role" && c.answeringPluginActive(r):
		// RestGetRolesAction: GET /_security/role and /_security/role/{name}
		// (security plugin only, like _ssl/certificates). PUT/POST/DELETE
		// are not simulated.
		var names []string
		if len(segs) == 3 {
			names = strings.Split(segs[2], ",")
		}
		rt = &route{[]string{"GET"}, func() response { return c.getRolesAction(r, ver, names) }}
	case len(segs) == 2 && segs[0] == "_security" && segs[1] == "api_key" && c.answeringPluginActive(r):
		// RestGetApiKeyAction (apikeys.go); creating and invalidating keys
		// through REST is not simulated (Go API: remotecluster.go).
		rt = &route{[]string{"GET"}, func() response { return c.getAPIKeysAction(r, ver) }}
	case len(segs) == 1 && segs[0] == "_xpack":
		// RestXPackInfoAction: GET and HEAD /_xpack.
		rt = &route{[]string{"GET", "HEAD"}, func() response { return c.xpackInfoAction(r, ver) }}
	case len(segs) == 2 && segs[0] == "_ssl" && segs[1] == "certificates" && c.answeringPluginActive(r):
		// Registered by the security plugin, only when
		// xpack.security.enabled is not false (ssl.go).
		rt = &route{[]string{"GET"}, func() response { return c.sslCertificatesAction(r, ver) }}
	case len(segs) == 3 && segs[0] == "_resolve" && segs[1] == "cluster" && ver.atLeast(8, 13):
		expr := segs[2]
		rt = &route{[]string{"GET"}, func() response { return c.resolveClusterAction(r, ver, &expr) }}
	case len(segs) == 2 && segs[0] == "_ccr" && segs[1] == "stats":
		// RestCcrStatsAction (ccr.go).
		rt = &route{[]string{"GET"}, func() response { return c.ccrStatsAction(r, ver) }}
	case len(segs) == 3 && segs[1] == "_ccr" && segs[2] == "stats":
		// RestFollowStatsAction: GET /{index}/_ccr/stats (ccr.go).
		rt = &route{[]string{"GET"}, func() response { return c.followStatsAction(r, ver, segs[0]) }}
	case len(segs) == 3 && segs[1] == "_ccr" && segs[2] == "info":
		// RestFollowInfoAction: GET /{index}/_ccr/info (ccr.go).
		rt = &route{[]string{"GET"}, func() response { return c.followInfoAction(r, ver, segs[0]) }}
	}
	if rt != nil {
		if !slices.Contains(rt.allowed, method) {
			return methodNotAllowed(ver, r, rt.allowed)
		}
		return c.withSecurityWarning(rt.run())
	}

	switch {
	case len(segs) == 1 && get:
		// A single segment is GET /{index} (RestGetIndicesAction); PathTrie
		// falls back to the root wildcard even for "_foo".
		return c.withSecurityWarning(c.getIndexAction(r, ver, segs[0]))
	case len(segs) == 2 && ver.v.Major < 9 && method != http.MethodPost:
		// 7.17 and 8.x register POST /{index}/{type} (RestIndexAction's typed
		// auto-id route; in 8.x for REST API compatibility v7). PathTrie's
		// wildcard fallback (PathTrie.TrieNode.retrieve) lands any unknown
		// two-segment path on it, so RestController.handleNoHandlerFound
		// answers 405 "allowed: [POST]". This is what GET /_resolve/cluster
		// returns before 8.18.
		return methodNotAllowed(ver, r, []string{"POST"})
	case len(segs) == 3 && ver.v.Major == 7 && get:
		// 7.17 still has the typed GET /{index}/{type}/{id} (RestGetAction),
		// which catches unknown three-segment paths such as
		// /_resolve/cluster/<expr>. In 8.x that route exists for REST API
		// compatibility v7 only, so a v8 request ends in "no handler found"
		// below (RestController.handleNoHandlerFound sees GET among the
		// valid methods and falls through to handleBadRequest).
		return c.withSecurityWarning(c.getDocAction(r, ver, segs[0], segs[1], segs[2]))
	}
	// RestController.handleBadRequest: not an ElasticsearchException, just
	// {"error": "..."} without status field.
	return jsonResponse(ver, r, http.StatusBadRequest,
		obj{}.set("error", "no handler found for uri ["+r.RequestURI+"] and method ["+method+"]"))
}

// methodNotAllowed is RestController.handleUnsupportedHttpMethod:
// RestResponse.createSimpleErrorResponse ({"error": msg, "status": 405}) and
// an Allow header.
func methodNotAllowed(ver esVersion, r *http.Request, allowed []string) response {
	ordered := slices.DeleteFunc(slices.Clone(methodOrder), func(m string) bool { return !slices.Contains(allowed, m) })
	msg := "Incorrect HTTP method for uri [" + r.RequestURI + "] and method [" + r.Method + "], allowed: [" +
		strings.Join(ordered, ", ") + "]"
	resp := jsonResponse(ver, r, http.StatusMethodNotAllowed, obj{}.set("error", msg).set("status", 405))
	resp.headers = append(resp.headers, [2]string{"Allow", strings.Join(ordered, ",")})
	return resp
}
