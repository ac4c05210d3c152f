package simulator

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ClusterSpec describes a simulated cluster.
type ClusterSpec struct {
	Name                  string            // cluster_name, unique in the Sim
	Version               string            // e.g. "8.19.2", default version of every node
	Nodes                 []NodeSpec        // empty = one node "<name>-es01" with default roles
	Users                 map[string]User   // basic-auth users
	APIKeys               map[string]APIKey // by id
	PlainHTTP             bool
	InitialConnectTimeout time.Duration // default 30s
	// Indices are the (open, non-hidden) index names of the cluster, used by
	// _resolve/cluster to compute matching_indices and "no such index"
	// errors. Extension of the requested API; nil = no indices.
	Indices []string
	// Transport configures the nodes' transport TLS (certificates, CA,
	// truststore, TLS versions, verification mode); the zero value shares
	// the Sim's transport CA. See transport.go.
	Transport TransportSpec
	// Security is xpack.security.enabled of every node (NodeSpec.
	// SecurityEnabled overrides it per node); nil = enabled, written
	// explicitly as "true" (required on 7.17 with a basic/trial license,
	// what auto-configuration and the docker setup write in 8.x/9.x).
	// Off is an absent setting on 7.17 with a basic/trial license (the
	// 7.x default: security off by license) and "false" otherwise. A node
	// without security answers REST requests without authentication, and
	// with "false" serves plain HTTP and a plain transport port. See
	// security.go.
	Security *bool
	// License is the cluster's license type: "" or "basic" (what a fresh
	// self-managed cluster generates), "trial" (started with
	// xpack.license.self_generated.type: trial), "gold", "platinum" or
	// "enterprise". It decides GET /_xpack's license block and feature
	// availability (ccr needs platinum, enterprise or trial), and on 7.17
	// whether a node without xpack.security.enabled has security on.
	License string
	// LicenseExpiry is the license's expiry; zero = 30 days from now for
	// a trial, never for basic, one year for the paid types (illustrative).
	// A past value makes the license expired.
	LicenseExpiry time.Time
	// Roles are the native roles (GET /_security/role, roles.go), by name.
	Roles map[string]RoleSpec
	// RemoteClusterServer is every node's remote cluster server (NodeSpec
	// overrides it per node); nil = not configured (remotecluster.go).
	RemoteClusterServer *RemoteClusterServerSpec
	// RemoteClusterClientCAs (PEM) is what
	// xpack.security.remote_cluster_client.ssl.certificate_authorities
	// trusts; nil = nothing simulated (see TrustRemoteClusterServer).
	RemoteClusterClientCAs []byte
}

// NodeSpec describes one node. Version "" = the cluster's version; Roles nil =
// the default roles of a node without node.roles (a non-nil Roles is also
// reported as the node.roles setting).
type NodeSpec struct {
	Name, Version string
	Roles         []string
	// SecurityEnabled overrides ClusterSpec.Security for this node.
	SecurityEnabled *bool
	// TransportTLS is xpack.security.transport.ssl.enabled (with the PEM
	// key, certificate and CA settings of transport.go); nil = on when the
	// node's security is on, off otherwise. Off = no
	// xpack.security.transport.ssl.* setting at all (the default false):
	// the node serves plain TCP on its transport port, and TLS nodes
	// cannot connect to it nor it to them. A node whose security is
	// explicitly off serves plain TCP whatever this says.
	TransportTLS *bool
	// RemoteClusterServer overrides ClusterSpec.RemoteClusterServer.
	RemoteClusterServer *RemoteClusterServerSpec
}

// User is a native-realm user. Roles are only reported in 403 texts; the
// privileges decide: ClusterPrivileges (monitor, manage, all, ...) and
// IndexPrivileges granted on the index pattern "*", and RemoteIndices, the
// remote_indices of the user's roles (8.14+, as a role's). They stand for
// roles of the roles file (roles.yml), which grant like native roles but
// which GET /_security/role does not list (only ClusterSpec.Roles; "The get
// roles API cannot retrieve roles that are defined in roles files",
// elastic.co/guide/en/elasticsearch/reference/current/security-api-get-role.html);
// the real-cluster harness's roles.yml grants remote_indices so and
// TestSimulatorConformanceSecured compares the result (8.19.8).
type User struct {
	Password          string
	Roles             []string
	ClusterPrivileges []string
	IndexPrivileges   []string
	RemoteIndices     []RemoteIndicesPrivileges
}

// APIKey is a REST API key owned by Owner.
type APIKey struct {
	Key, Name, Owner                   string
	ClusterPrivileges, IndexPrivileges []string
}

// EncodeAPIKey returns base64(id:key), the value a client sends after
// "Authorization: ApiKey " (and what ES returns as "encoded").
func EncodeAPIKey(id, key string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":" + key))
}

// Cluster is one simulated cluster.
type Cluster struct {
	sim            *Sim
	name           string
	uuid           string
	plain          bool
	connectTimeout time.Duration
	users          map[string]User
	apiKeys        map[string]APIKey
	roles          map[string]RoleSpec // native roles (roles.go), under mu
	indices        []string
	url            string // the first node's HTTP URL (URL())
	requests       atomic.Int64
	held           atomic.Int64 // requests held by a hang (heldRequests)
	inflight       *tracker

	life     sync.Mutex // serialises Start, Stop and shutdown
	mu       sync.Mutex
	nodes    []*node
	links    []*link
	fault    Fault
	faultCh  chan struct{} // closed when the current fault is replaced
	running  bool
	downCh   chan struct{} // closed by Stop; a new one per Start
	shutDown bool
	tpki     *transportPKI
	tfault   atomic.Int32 // transportOK / transportHang / transportDrop
	lic      license
	ccr      ccrState // cross-cluster replication (ccr.go)
	rcs      rcsState // API-key model (remotecluster.go)
}

type node struct {
	id    string
	name  string
	ver   esVersion
	roles []string // sorted
	// explicitRoles: node.roles is configured (NodeSpec.Roles non-nil).
	explicitRoles bool
	// secSetting is xpack.security.enabled as configured ("true", "false",
	// "" = absent); tlsSetting xpack.security.transport.ssl.enabled (absent
	// when false). See security.go.
	secSetting string
	tlsSetting bool
	// unresponsive: the node does not answer the per-node requests of
	// nodes-level APIs (SetNodeUnresponsive).
	unresponsive bool
	// plain: the transport listener serves plain TCP (published by
	// refreshNodeModes, read without Cluster.mu).
	plain atomic.Bool
	port  int
	addr  string // transport address 127.0.0.1:port
	ln    net.Listener
	done  chan struct{}
	cert  *nodeCert // transport identity; replaced under Cluster.mu
	// tlsConfig is the transport listener's config, republished on every
	// certificate or truststore change (read without Cluster.mu).
	tlsConfig atomic.Pointer[tls.Config]
	connMu    sync.Mutex
	conns     map[net.Conn]struct{}
	handlers  sync.WaitGroup
	// HTTP layer (http.port): every node has its own listener on
	// 127.0.0.1, kept across Stop/Start. httpPort/httpURL are set by the
	// first Start; srv/srvDone exist while the cluster runs (all under
	// Cluster.mu).
	httpPort int
	httpURL  string
	srv      *http.Server
	srvDone  chan struct{}
}

// randomID is a 22-character URL-safe base64 id like UUIDs.randomBase64UUID.
func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// AddCluster creates a cluster and starts listening on 127.0.0.1:0 (HTTP and
// one transport socket per node) right away.
func (s *Sim) AddCluster(spec ClusterSpec) (*Cluster, error) {
	if spec.Name == "" {
		return nil, errors.New("simulator: ClusterSpec.Name is empty")
	}
	ver, err := parseESVersion(spec.Version)
	if err != nil {
		return nil, fmt.Errorf("simulator: cluster %q: %w", spec.Name, err)
	}
	if spec.InitialConnectTimeout < 0 {
		return nil, fmt.Errorf("simulator: cluster %q: InitialConnectTimeout must not be negative", spec.Name)
	}
	c := &Cluster{
		sim:            s,
		name:           spec.Name,
		uuid:           randomID(),
		plain:          spec.PlainHTTP,
		connectTimeout: spec.InitialConnectTimeout,
		users:          map[string]User{},
		apiKeys:        map[string]APIKey{},
		roles:          map[string]RoleSpec{},
		indices:        append([]string(nil), spec.Indices...),
		inflight:       newTracker(),
		faultCh:        make(chan struct{}),
	}
	if c.connectTimeout == 0 {
		c.connectTimeout = 30 * time.Second
	}
	if c.tpki, err = s.newTransportPKI(spec.Name, spec.Transport); err != nil {
		return nil, fmt.Errorf("simulator: cluster %q: transport: %w", spec.Name, err)
	}
	if c.lic, err = newLicense(spec.License, spec.LicenseExpiry, time.Now()); err != nil {
		return nil, fmt.Errorf("simulator: cluster %q: %w", spec.Name, err)
	}
	for k, v := range spec.Users {
		v.RemoteIndices = cloneRole(RoleSpec{RemoteIndices: v.RemoteIndices}).RemoteIndices
		c.users[k] = v
	}
	for k, v := range spec.APIKeys {
		c.apiKeys[k] = v
	}
	nodeSpecs := spec.Nodes
	if len(nodeSpecs) == 0 {
		nodeSpecs = []NodeSpec{{Name: spec.Name + "-es01"}}
	}
	seen := map[string]bool{}
	for i, ns := range nodeSpecs {
		n := &node{id: randomID(), name: ns.Name, ver: ver}
		if n.name == "" {
			n.name = fmt.Sprintf("%s-es%02d", spec.Name, i+1)
		}
		if seen[n.name] {
			return nil, fmt.Errorf("simulator: cluster %q: duplicate node name %q", spec.Name, n.name)
		}
		seen[n.name] = true
		if ns.Version != "" {
			if n.ver, err = parseESVersion(ns.Version); err != nil {
				return nil, fmt.Errorf("simulator: cluster %q node %q: %w", spec.Name, n.name, err)
			}
		}
		n.roles = normalizeRoles(ns.Roles)
		n.explicitRoles = ns.Roles != nil
		secOn := spec.Security == nil || *spec.Security
		if ns.SecurityEnabled != nil {
			secOn = *ns.SecurityEnabled
		}
		n.secSetting = securitySetting(secOn, n.ver, c.lic.typ)
		n.tlsSetting = secOn
		if ns.TransportTLS != nil {
			n.tlsSetting = *ns.TransportTLS
		}
		if i == 0 && !c.plain && !n.pluginActive() {
			return nil, fmt.Errorf("simulator: cluster %q: node %q answers HTTP with xpack.security.enabled=false, "+
				"which serves plain HTTP only: set PlainHTTP", spec.Name, n.name)
		}
		if n.cert, err = c.tpki.issue(n.name, spec.Transport.NotBefore, spec.Transport.NotAfter); err != nil {
			return nil, fmt.Errorf("simulator: cluster %q node %q: %w", spec.Name, n.name, err)
		}
		c.nodes = append(c.nodes, n)
	}
	if err := c.initRemoteCluster(spec, nodeSpecs); err != nil {
		return nil, fmt.Errorf("simulator: cluster %q: %w", spec.Name, err)
	}
	c.refreshNodeConfigs()
	c.refreshNodeModes()
	for name, role := range spec.Roles {
		if err := validateRole(c.nodes[0].ver, name, role); err != nil {
			return nil, fmt.Errorf("simulator: cluster %q: %w", spec.Name, err)
		}
		c.roles[name] = cloneRole(role)
	}
	for name, u := range spec.Users {
		// The roles file's role is validated like a native one.
		if err := validateRole(c.nodes[0].ver, name, RoleSpec{RemoteIndices: u.RemoteIndices}); err != nil {
			return nil, fmt.Errorf("simulator: cluster %q: user %q: %w", spec.Name, name, err)
		}
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("simulator: Sim is closed")
	}
	if _, dup := s.clusters[spec.Name]; dup {
		s.mu.Unlock()
		return nil, fmt.Errorf("simulator: cluster %q already exists", spec.Name)
	}
	s.clusters[spec.Name] = c
	s.order = append(s.order, c)
	s.mu.Unlock()

	if err := c.Start(); err != nil {
		s.mu.Lock()
		delete(s.clusters, spec.Name)
		s.order = slices.DeleteFunc(s.order, func(x *Cluster) bool { return x == c })
		s.mu.Unlock()
		return nil, err
	}
	return c, nil
}

func normalizeRoles(roles []string) []string {
	if roles == nil {
		return defaultRoles()
	}
	out := append([]string{}, roles...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Name is the cluster_name.
func (c *Cluster) Name() string { return c.name }

// URL is https://127.0.0.1:PORT (http:// with PlainHTTP) of the first
// node (NodeSpec order); stable across Stop/Start.
func (c *Cluster) URL() string { return c.url }

// NodeURL is the HTTP URL of the named node (every node has its own HTTP
// port, as every Elasticsearch node binds http.port); the first node's is
// URL(). Stable across Stop/Start.
func (c *Cluster) NodeURL(node string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, err := c.nodeIndexLocked(node)
	if err != nil {
		return "", err
	}
	return c.nodes[i].httpURL, nil
}

// nodeIndexLocked is the index in c.nodes of the node named name; the
// error lists the nodes the cluster has. Callers hold c.mu.
func (c *Cluster) nodeIndexLocked(name string) (int, error) {
	for i, n := range c.nodes {
		if n.name == name {
			return i, nil
		}
	}
	names := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		names[i] = strconv.Quote(n.name)
	}
	return -1, fmt.Errorf("simulator: cluster %q has no node %q (its nodes: %s)", c.name, name, strings.Join(names, ", "))
}

// Requests counts the HTTP requests the cluster received on any node (faulted
// ones too).
func (c *Cluster) Requests() int64 { return c.requests.Load() }

// Running reports whether the cluster is started.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// Start listens again on the same HTTP and transport ports (every node's). Like a restarted
// node, the cluster then connects to its remotes afresh.
func (c *Cluster) Start() error {
	c.life.Lock()
	defer c.life.Unlock()
	c.mu.Lock()
	if c.shutDown {
		c.mu.Unlock()
		return errors.New("simulator: Sim is closed")
	}
	if c.running {
		c.mu.Unlock()
		return nil
	}
	// One HTTP listener per node (real Elasticsearch binds http.port on
	// every node); the first node's is URL().
	scheme := "https"
	if c.plain {
		scheme = "http"
	}
	httpLns := make([]net.Listener, 0, len(c.nodes))
	closeHTTP := func() {
		for _, l := range httpLns {
			_ = l.Close()
		}
	}
	for _, n := range c.nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(n.httpPort))
		if err != nil {
			closeHTTP()
			c.mu.Unlock()
			return fmt.Errorf("simulator: cluster %q node %q: listen: %w", c.name, n.name, err)
		}
		if n.httpPort == 0 {
			n.httpPort = ln.Addr().(*net.TCPAddr).Port
			n.httpURL = scheme + "://127.0.0.1:" + strconv.Itoa(n.httpPort)
		}
		httpLns = append(httpLns, ln)
	}
	if c.url == "" {
		c.url = c.nodes[0].httpURL
	}
	var started []*node
	for _, n := range c.nodes {
		if err := n.listen(c.tfault.Load); err != nil {
			for _, m := range started {
				m.close()
			}
			closeHTTP()
			c.mu.Unlock()
			return fmt.Errorf("simulator: cluster %q node %q: transport listen: %w", c.name, n.name, err)
		}
		started = append(started, n)
	}
	if err := c.listenRemoteClusterServersLocked(); err != nil {
		for _, m := range started {
			m.close()
		}
		closeHTTP()
		c.mu.Unlock()
		return err
	}
	type serving struct {
		srv  *http.Server
		ln   net.Listener
		done chan struct{}
	}
	servers := make([]serving, len(c.nodes))
	for i, n := range c.nodes {
		srv := c.newHTTPServer(i)
		var serveLn net.Listener = httpLns[i]
		if !c.plain {
			serveLn = tls.NewListener(serveLn, c.sim.pki.config)
		}
		servers[i] = serving{srv, serveLn, make(chan struct{})}
		n.srv, n.srvDone = srv, servers[i].done
	}
	c.running = true
	c.downCh = make(chan struct{})
	c.mu.Unlock()
	for _, sv := range servers {
		go func(sv serving) {
			defer close(sv.done)
			_ = sv.srv.Serve(sv.ln)
		}(sv)
	}
	c.connectLinks(nil)
	return nil
}

// newHTTPServer is the HTTP server of the node at index idx: requests carry
// the index in their context (answeringIndex), so the node answers as
// itself. The first node's server has no value (index 0 is the default).
func (c *Cluster) newHTTPServer(idx int) *http.Server {
	srv := &http.Server{
		Handler:           c,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		// HTTP/1.1 only, like Elasticsearch.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	if idx != 0 {
		base := context.WithValue(context.Background(), answeringKey{}, idx)
		srv.BaseContext = func(net.Listener) context.Context { return base }
	}
	return srv
}

func (n *node) listen(fault func() int32) error {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(n.port))
	if err != nil {
		return err
	}
	if n.port == 0 {
		n.port = ln.Addr().(*net.TCPAddr).Port
		n.addr = "127.0.0.1:" + strconv.Itoa(n.port)
	}
	n.ln = ln
	n.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		n.serveTransport(ln, fault)
	}(n.done)
	return nil
}

func (n *node) close() {
	if n.ln == nil {
		return
	}
	_ = n.ln.Close()
	n.closeConns()
	<-n.done
	n.ln = nil
}

// Stop closes every node's HTTP listener and connections (clients get
// connection refused) and the transport sockets; links of other clusters to this one
// lose their connection.
func (c *Cluster) Stop() {
	c.stop()
	c.sim.dropLinksTo(c.name)
}

func (c *Cluster) stop() {
	c.life.Lock()
	defer c.life.Unlock()
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return
	}
	c.running = false
	close(c.downCh)
	nodes := append([]*node(nil), c.nodes...)
	srvs := make([]*http.Server, len(nodes))
	dones := make([]chan struct{}, len(nodes))
	for i, n := range nodes {
		srvs[i], dones[i] = n.srv, n.srvDone
		n.srv, n.srvDone = nil, nil
	}
	c.mu.Unlock()
	for _, srv := range srvs {
		_ = srv.Close()
	}
	for _, done := range dones {
		<-done
	}
	for _, n := range nodes {
		n.close()
	}
	c.closeRemoteClusterServers()
	// Links of this cluster are torn down with it: a node that is not running
	// has no connections (they are re-established by Start).
	c.mu.Lock()
	for _, l := range c.links {
		l.established = false
	}
	c.mu.Unlock()
}

func (c *Cluster) shutdown() {
	c.stop()
	c.mu.Lock()
	c.shutDown = true
	c.mu.Unlock()
	c.inflight.close()
}

// SetFault replaces the current fault; Fault{} clears it. Requests hanging
// on the previous fault are released (and answered normally).
func (c *Cluster) SetFault(f Fault) {
	c.mu.Lock()
	close(c.faultCh)
	c.fault = f
	c.faultCh = make(chan struct{})
	c.tfault.Store(transportFault(f))
	c.mu.Unlock()
	if transportFault(f) != transportOK {
		c.sim.dropLinksTo(c.name)
	}
}

// SetNodeVersion changes a node's version, as a rolling upgrade restarts it
// with a new binary. Connections to and from the node are re-evaluated: a
// remote whose every gateway node became incompatible is disconnected, and
// when the answering node itself restarts the cluster reconnects its links.
func (c *Cluster) SetNodeVersion(nodeName, version string) error {
	v, err := parseESVersion(version)
	if err != nil {
		return fmt.Errorf("simulator: cluster %q: %w", c.name, err)
	}
	c.mu.Lock()
	idx, err := c.nodeIndexLocked(nodeName)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.nodes[idx].ver = v
	running := c.running
	c.mu.Unlock()
	c.sim.revalidateLinksTo(c.name)
	if idx == 0 && running {
		c.reconnectOwnLinks()
	}
	return nil
}

// SetNodeUnresponsive makes a node stop answering the per-node transport
// requests of the nodes-level APIs (GET /_nodes...): the coordinating node
// then lists it under _nodes.failures instead of nodes, as
// TransportNodesAction does for a node that times out or disconnects. The
// node's own HTTP listener and its links are unchanged.
func (c *Cluster) SetNodeUnresponsive(nodeName string, on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx, err := c.nodeIndexLocked(nodeName)
	if err != nil {
		return err
	}
	c.nodes[idx].unresponsive = on
	return nil
}

// SetNodeRoles changes a node's roles (nil = default roles).
func (c *Cluster) SetNodeRoles(nodeName string, roles []string) error {
	c.mu.Lock()
	idx, err := c.nodeIndexLocked(nodeName)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.nodes[idx].roles = normalizeRoles(roles)
	c.nodes[idx].explicitRoles = roles != nil
	c.mu.Unlock()
	c.sim.revalidateLinksTo(c.name)
	return nil
}

// tracker counts in-flight requests so Close can wait for them.
type tracker struct {
	mu     sync.Mutex
	cond   *sync.Cond
	n      int
	closed bool
}

func newTracker() *tracker {
	t := &tracker{}
	t.cond = sync.NewCond(&t.mu)
	return t
}

func (t *tracker) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *tracker) leave() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		t.cond.Broadcast()
	}
	t.mu.Unlock()
}

func (t *tracker) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

func (t *tracker) wait() {
	t.mu.Lock()
	for t.n > 0 {
		t.cond.Wait()
	}
	t.mu.Unlock()
}

// reconnectOwnLinks drops and re-establishes this cluster's own links, as a
// restart of the node that holds them does.
func (c *Cluster) reconnectOwnLinks() {
	c.mu.Lock()
	for _, l := range c.links {
		l.established = false
	}
	c.mu.Unlock()
	c.connectLinks(nil)
}
