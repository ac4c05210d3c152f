package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/certgen"
	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// The API-key security model ("remote cluster security 2.0").
//
// Remote cluster server. Each node with remote_cluster_server.enabled
// (RemoteClusterPortSettings.REMOTE_CLUSTER_SERVER_ENABLED, default false,
// verified) binds the "_remote_cluster" transport profile on
// remote_cluster.port (default 9443; remote_cluster.host falls back to the
// transport bind host, i.e. network.host; RemoteClusterPortSettings.java,
// 8.10-era source, verified). The simulator binds 127.0.0.1 on a port of
// its own per node (kept across Stop/Start) and serves real TLS there when
// xpack.security.remote_cluster_server.ssl.enabled (XPackSettings
// .REMOTE_CLUSTER_SERVER_SSL_ENABLED, default true), with the node's remote
// cluster certificate, issued by the cluster's remote cluster CA
// ("CN=<cluster> Remote Cluster CA", separate from the transport CA as the
// docs' procedure creates it with elasticsearch-certutil) or, with
// RemoteClusterServerSpec.CA "transport", by the transport CA (the
// "shared CA" case of the troubleshooting guide). Client authentication is
// xpack.security.remote_cluster_server.ssl.client_authentication, default
// none ("Add remote clusters using API key authentication"; the client
// presents no certificate: its SSL configuration has an EmptyKeyConfig,
// SSLServiceTests). As on the transport port, the node waits for the
// client to speak after the handshake and never answers.
//
// Where Elasticsearch reports it:
//   - GET /_nodes (metric remote_cluster_server or _all): a
//     "remote_cluster_server" object {bound_address: [..], publish_address}
//     after "http" (RemoteClusterServerInfo#toXContent and
//     NodesInfoResponse#toXContent, verified; added by PR #94444, merged
//     2023-03-21, so 8.8+, which also keeps the "_remote_cluster" profile
//     out of the transport section), only for nodes that have
//     the server enabled (the info is null otherwise, as
//     RemoteClusterNodesAction's filter shows); the REST test
//     RemoteClusterSecurityRestIT#testNodesInfo reads exactly these two
//     fields.
//   - GET /_nodes/settings: remote_cluster_server.enabled,
//     remote_cluster.port and xpack.security.remote_cluster_server.ssl
//     .enabled as configured; every other
//     xpack.security.remote_cluster_{server,client}.ssl.* setting is
//     filtered like the transport's (SSLConfigurationSettings, settings.go).
//   - GET /_ssl/certificates: the remote cluster server's key material only
//     on nodes with the server enabled ("SSL is not built when port is not
//     enabled"), the remote cluster client's certificate_authorities on
//     every node ("Client (SSL is always built)"; its default trust is the
//     JDK's, which the API does not list): SSLServiceTests
//     #testGetSSLSettingsMap... (8.x, verified).
//
// API-key links (LinkSpec.APIKeyAuth) dial the remote cluster server: their
// default seeds / proxy address are the remote's remote cluster server
// addresses (its transport addresses when no node has the server, which
// then cannot connect). A link connects only when the address dialled is
// an enabled server of a running remote, both sides run 8.10+ (beta from
// 8.10, GA from 8.14: NOTES.md; the exporter judges support, the
// simulator connects as the code does), both sides have security on, the
// server speaks TLS and its chain is trusted by the local
// xpack.security.remote_cluster_client.ssl.certificate_authorities
// (verification mode full: the SNI server_name or the host dialled must
// match), the server does not require a client certificate, and the
// cross-cluster API key the link uses (LinkSpec.APIKeyID) authenticates.
// Sniff mode connects to every enabled, gateway-eligible server the seed
// reports (RemoteClusterNodesAction with the remote_cluster_server flag
// returns each node's remote cluster server publish address). An API-key
// link whose seeds or proxy are the remote's TRANSPORT addresses
// (troubleshooting symptom 6) never connects: the transport port requires a
// client certificate the remote cluster client does not have, or its
// certificate is not trusted; either is a ConnectTransportException, so
// _resolve/cluster reports connected:false without an error. A
// certificate-model link dialling remote cluster server addresses
// (symptom 7) fails trust, or, when its transport truststore trusts the
// server's chain, the remote rejects its handshake: CrossClusterAccess
// AuthenticationService#authenticate cannot read the credentials header
// (IllegalArgumentException "Cross cluster requests through the dedicated
// remote cluster server port require transport header
// [_cross_cluster_access_credentials] but none found. Please ensure you
// have configured remote cluster credentials on the cluster originating
// the request.", the text the troubleshooting guide quotes from the logs)
// and withRequestProcessingFailure wraps it through
// DefaultAuthenticationFailureHandler#exceptionProcessingRequest into the
// security exception "error attempting to authenticate request" (both
// verified in source), whose message is what _resolve/cluster shows.
//
// The key. The remote authenticates the credential of
// cluster.remote.<alias>.credentials on the connection's handshake
// (cluster:internal/remote_cluster/handshake) and on every request:
//   - a REST key: "authentication expected API key type of
//     [cross_cluster], but API key [<id>] has type [rest]"
//     (ApiKeyService#validateApiKeyTypeAndExpiration, verified;
//     RemoteClusterSecurityRestIT asserts it for a search);
//   - an unknown, expired or invalidated key: "unable to authenticate user
//     [<id>] for action [<action>]" (DefaultAuthenticationFailureHandler
//     #failedAuthentication with the key id as the token's principal,
//     verified; the troubleshooting guide's text for the handshake;
//     RemoteClusterSecurityRestIT sees "unable to authenticate user" for an
//     unknown key).
//
// The license. The model is the enterprise feature
// "advanced-remote-cluster-security" (Security.ADVANCED_REMOTE_CLUSTER
// _SECURITY_FEATURE, License.OperationMode.ENTERPRISE, verified): with a
// license below enterprise (trial allows everything) or expired on either
// side the connection cannot be established and requests fail with the
// security exception "current license is non-compliant for
// [advanced-remote-cluster-security]" (403;
// RemoteClusterSecurityLicensingAndFeatureUsageRestIT, verified for basic
// on either or both sides).
//
// Such security exceptions reach _resolve/cluster's entry as
// connected:false with the message as error (TransportResolveClusterAction
// turns any ElasticsearchSecurityException into that); that a failed
// handshake surfaces that way rather than as an unreachable remote is
// unverified (RemoteClusterSecurityRestIT's search answers them with 401,
// i.e. the security exception itself). A link that is connected keeps its
// connections when the key is invalidated later (_remote/info stays
// connected until a reconnect), but each request is authenticated again:
// _resolve/cluster then reports the failure for its own action.
//
// Authorization. The request is authorized on the remote against the
// intersection of the user's remote_indices for the alias and the key's
// access (the docs' "effective permission"): a concrete index outside it is
// denied with "action [<a>] towards remote cluster is unauthorized for user
// [<u>] with assigned roles [<r>] authenticated by API key id [<k>] of
// user [<owner>] on indices [<names>]" (RemoteClusterSecurityRestIT,
// verified up to "on indices [..]"; the ", this action is granted by the
// index privileges [..]" suffix is modelled after actionDenied and
// unverified); wildcards only match what the intersection allows
// (RemoteClusterSecurityRCS2ResolveClusterIT cases 6-10). Only search
// access grants indices:admin/resolve/cluster (replication access is
// cross_cluster_replication, which does not).

// RemoteClusterServerSpec configures a node's remote cluster server.
type RemoteClusterServerSpec struct {
	// Enabled is remote_cluster_server.enabled (default false). Needs 8.10+.
	Enabled bool
	// SSL is xpack.security.remote_cluster_server.ssl.enabled; nil = true.
	SSL *bool
	// CA that issues the server certificates: "" or "own" = the cluster's
	// remote cluster CA, "transport" = the cluster's transport CA.
	CA string
	// CADN is the own CA's subject; "" = "CN=<cluster> Remote Cluster CA".
	// The cluster's first spec that sets it wins.
	CADN string
	// NotAfter of the server certificates; zero = now + 2 years.
	NotAfter time.Time
	// ClientAuthentication is
	// xpack.security.remote_cluster_server.ssl.client_authentication:
	// "none" (default), "optional" or "required".
	ClientAuthentication string
}

// CrossClusterIndices is one entry of a cross-cluster API key's access.
type CrossClusterIndices struct {
	Names                  []string
	AllowRestrictedIndices bool
}

// CrossClusterAccess is a cross-cluster API key's "access": search
// (read, read_cross_cluster, view_index_metadata) and replication
// (cross_cluster_replication, cross_cluster_replication_internal) entries
// (CrossClusterApiKeyRoleDescriptorBuilder, verified).
type CrossClusterAccess struct {
	Search, Replication []CrossClusterIndices
}

// rcsState is a cluster's state of the API-key model, under Cluster.mu.
type rcsState struct {
	ca      *certgen.Cert // the own remote cluster CA; nil until a node needs it
	nodes   []*rcsNode    // index-aligned with Cluster.nodes
	client  *trustStore
	keys    map[string]*keyMeta // every API key's lifecycle, by id
	created time.Time
}

// rcsNode is one node's remote cluster server.
type rcsNode struct {
	spec *RemoteClusterServerSpec // nil = nothing configured
	srv  *node                    // the listener (port, addr, TLS config, connections)
	cert *nodeCert
}

func (r *rcsNode) enabled() bool { return r != nil && r.spec != nil && r.spec.Enabled }

func (r *rcsNode) ssl() bool { return r.spec.SSL == nil || *r.spec.SSL }

// keyMeta is an API key as the security index holds it.
type keyMeta struct {
	typ                  string // "rest" or "cross_cluster"
	name, owner          string
	realm, realmType     string
	secret               string // cross-cluster keys (REST keys: Cluster.apiKeys)
	created, expiration  time.Time
	invalidated          bool
	invalidation         time.Time
	access               CrossClusterAccess
	restRole             bool // REST key with privileges of its own (role_descriptors)
	clusterPrv, indexPrv []string
}

func (k *keyMeta) expired(now time.Time) bool {
	return !k.expiration.IsZero() && !now.Before(k.expiration)
}

func validateRCS(s *RemoteClusterServerSpec, v esVersion) error {
	if s == nil {
		return nil
	}
	if s.Enabled && !v.atLeast(8, 10) {
		return fmt.Errorf("remote_cluster_server.enabled needs 8.10+ (the setting is unknown to %s)", v.str)
	}
	switch s.CA {
	case "", "own", "transport":
	default:
		return fmt.Errorf("remote cluster server CA %q: want \"own\" or \"transport\"", s.CA)
	}
	switch s.ClientAuthentication {
	case "", "none", "optional", "required":
	default:
		return fmt.Errorf("client_authentication %q: want none, optional or required", s.ClientAuthentication)
	}
	return nil
}

// initRemoteCluster sets up the API-key model state of a new cluster (its
// nodes built, not yet listening): each node's remote cluster server spec
// (NodeSpec's, else ClusterSpec's), certificates, the client truststore.
func (c *Cluster) initRemoteCluster(spec ClusterSpec, nodeSpecs []NodeSpec) error {
	c.rcs = rcsState{keys: map[string]*keyMeta{}, created: time.Now(), client: newTrustStore(nil)}
	for i, n := range c.nodes {
		s := spec.RemoteClusterServer
		if nodeSpecs[i].RemoteClusterServer != nil {
			s = nodeSpecs[i].RemoteClusterServer
		}
		if err := validateRCS(s, n.ver); err != nil {
			return fmt.Errorf("node %q: %w", n.name, err)
		}
		r := &rcsNode{srv: &node{name: n.name}}
		if s != nil {
			cp := *s
			r.spec = &cp
		}
		c.rcs.nodes = append(c.rcs.nodes, r)
		if err := c.issueRCSLocked(n, r); err != nil {
			return err
		}
	}
	if len(spec.RemoteClusterClientCAs) > 0 {
		if err := c.setClientCAsLocked(spec.RemoteClusterClientCAs); err != nil {
			return err
		}
	}
	return nil
}

// issueRCSLocked issues a node's remote cluster server certificate and
// publishes its listener configuration. Callers hold c.mu (or own c).
func (c *Cluster) issueRCSLocked(n *node, r *rcsNode) error {
	if r.spec == nil {
		return nil
	}
	issuer := c.tpki.ca
	if r.spec.CA != "transport" {
		if c.rcs.ca == nil {
			dn := r.spec.CADN
			if dn == "" {
				dn = "CN=" + c.name + " Remote Cluster CA"
			}
			ca, err := certgen.New(certgen.Options{Subject: dn, IsCA: true}, nil)
			if err != nil {
				return fmt.Errorf("remote cluster CA: %w", err)
			}
			c.rcs.ca = ca
		}
		issuer = c.rcs.ca
	}
	leaf, err := certgen.New(certgen.Options{Subject: "CN=" + n.name, NotAfter: r.spec.NotAfter,
		DNSNames: []string{n.name, "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}, issuer)
	if err != nil {
		return fmt.Errorf("node %q: remote cluster certificate: %w", n.name, err)
	}
	r.cert = &nodeCert{leaf: leaf, chain: []*x509.Certificate{leaf.Cert},
		tls: tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}}
	// The server trusting the transport truststore's CAs for client
	// certificates is unverified (sim.go's list).
	cfg := &tls.Config{Certificates: []tls.Certificate{r.cert.tls}, MinVersion: tls.VersionTLS12, ClientCAs: c.tpki.store.pool}
	switch r.spec.ClientAuthentication {
	case "optional":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	r.srv.tlsConfig.Store(cfg)
	r.srv.plain.Store(!r.ssl() || !n.pluginActive())
	return nil
}

// listenRemoteClusterServersLocked binds every enabled server (the port
// chosen on the first start is kept). Callers hold c.mu.
func (c *Cluster) listenRemoteClusterServersLocked() error {
	var started []*node
	for i, r := range c.rcs.nodes {
		if !r.enabled() {
			continue
		}
		r.srv.plain.Store(!r.ssl() || !c.nodes[i].pluginActive())
		if err := r.srv.listen(c.tfault.Load); err != nil {
			for _, s := range started {
				s.close()
			}
			return fmt.Errorf("simulator: cluster %q node %q: remote cluster server listen: %w", c.name, c.nodes[i].name, err)
		}
		started = append(started, r.srv)
	}
	return nil
}

// closeRemoteClusterServers closes every listening server.
func (c *Cluster) closeRemoteClusterServers() {
	c.mu.Lock()
	var srvs []*node
	for _, r := range c.rcs.nodes {
		if r.srv.ln != nil {
			srvs = append(srvs, r.srv)
		}
	}
	c.mu.Unlock()
	for _, s := range srvs {
		s.close()
	}
}

// rcsView fills the remote cluster server part of a node's view. Callers
// hold c.mu.
func (c *Cluster) rcsViewLocked(i int, nv *nodeView) {
	if i >= len(c.rcs.nodes) {
		return
	}
	r := c.rcs.nodes[i]
	if !r.enabled() {
		return
	}
	nv.rcsAddr = r.srv.addr
	nv.rcsTLS = r.ssl() && c.nodes[i].pluginActive()
	nv.rcsChain = r.cert.chain
	nv.rcsClientCert = r.spec.ClientAuthentication == "required"
}

// dialled is the addresses a link dials: its seeds (sniff) or proxy address.
func dialled(l LinkSpec) []string {
	if l.Mode == "proxy" {
		return []string{l.ProxyAddress}
	}
	return l.Seeds
}

// rcsEntry is the remote node whose remote cluster server one of the
// addresses dialled is, if any.
func rcsEntry(l LinkSpec, v remoteView) (nodeView, bool) {
	for _, a := range dialled(l) {
		for _, n := range v.nodes {
			if n.rcsAddr != "" && n.rcsAddr == a {
				return n, true
			}
		}
	}
	return nodeView{}, false
}

// atRemoteClusterPort: a certificate-model link whose every address dialled
// is a remote cluster server of the remote (symptom 7).
func atRemoteClusterPort(l LinkSpec, v remoteView) bool {
	d := dialled(l)
	if len(d) == 0 {
		return false
	}
	for _, a := range d {
		if !slices.ContainsFunc(v.nodes, func(n nodeView) bool { return n.rcsAddr != "" && n.rcsAddr == a }) {
			return false
		}
	}
	return true
}

// apiKeyCapacity is capacity (links.go) for API-key links.
func apiKeyCapacity(local esVersion, lm transportMode, l LinkSpec, v remoteView, canConnect func(nodeView) bool) (int, nodeView) {
	if !local.atLeast(8, 10) {
		return 0, nodeView{}
	}
	entry, ok := rcsEntry(l, v)
	if !ok {
		return 0, nodeView{}
	}
	usable := func(n nodeView) bool {
		return n.rcsAddr != "" && n.rcsTLS && !n.rcsClientCert && n.ver.atLeast(8, 10) && wireCompatible(local, n.ver) &&
			transportCompatible(lm, n.mode, true) && (canConnect == nil || canConnect(n))
	}
	if !usable(entry) {
		return 0, nodeView{}
	}
	if l.Mode == "proxy" {
		return l.ProxySocketConnections, entry
	}
	var first nodeView
	count := 0
	for _, n := range v.nodes {
		if gatewayEligible(local, n) && usable(n) {
			if count == 0 {
				first = n
			}
			count++
		}
	}
	return min(count, l.NodeConnections), first
}

// remoteClusterTrustFilter is trustFilter (transport.go) for API-key
// links: the remote cluster client verifies the server's chain against
// its certificate_authorities in full mode (SNI server_name or the host
// dialled), and the handshake authenticates the link's key.
func (c *Cluster) remoteClusterTrustFilter(l LinkSpec, v remoteView) func(nodeView) bool {
	if !v.exists {
		return nil
	}
	tgt := c.sim.Cluster(l.Remote)
	if !c.rcsLicensed() || !tgt.rcsLicensed() || tgt.keyProblem(l.APIKeyID, handshakeAction) != "" {
		return func(nodeView) bool { return false }
	}
	c.mu.Lock()
	store := c.rcs.client
	c.mu.Unlock()
	now := time.Now()
	return func(n nodeView) bool {
		return c.sim.verify(n.rcsChain, store, x509.ExtKeyUsageServerAuth, trust.ModeFull, linkHosts(l, n.rcsAddr), now)
	}
}

// linkHosts are the names a client checks a server certificate against:
// the proxy server_name (SNI), then the host dialled (transport.go).
func linkHosts(l LinkSpec, addr string) []string {
	if l.Mode == "proxy" && l.ProxyAddress != "" {
		addr = l.ProxyAddress
	}
	var hosts []string
	if l.Mode == "proxy" && l.ServerName != "" {
		hosts = append(hosts, l.ServerName)
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		hosts = append(hosts, h)
	}
	return hosts
}

const handshakeAction = "cluster:internal/remote_cluster/handshake"

// keyProblem is why the remote does not authenticate the key named id for
// action ("" = it does). "" as id stands for a valid cross-cluster key the
// simulator does not model (full access).
func (c *Cluster) keyProblem(id, action string) string {
	if c == nil || id == "" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.keyMetaLocked(id)
	switch {
	case k == nil:
		return "unable to authenticate user [" + id + "] for action [" + action + "]"
	case k.typ != "cross_cluster":
		return "authentication expected API key type of [cross_cluster], but API key [" + id + "] has type [" + k.typ + "]"
	case k.invalidated || k.expired(time.Now()):
		return "unable to authenticate user [" + id + "] for action [" + action + "]"
	}
	return ""
}

// keyMetaLocked is the lifecycle of an API key by id: a key created
// through the Go API, or a REST key of ClusterSpec.APIKeys (created with
// the cluster, never expiring). Callers hold c.mu.
func (c *Cluster) keyMetaLocked(id string) *keyMeta {
	if k, ok := c.rcs.keys[id]; ok {
		return k
	}
	if k, ok := c.apiKeys[id]; ok {
		realm, realmType := ownerRealm(k.Owner)
		m := &keyMeta{typ: "rest", name: k.Name, owner: k.Owner, realm: realm, realmType: realmType,
			created: c.rcs.created, restRole: true, clusterPrv: k.ClusterPrivileges, indexPrv: k.IndexPrivileges}
		c.rcs.keys[id] = m
		return m
	}
	return nil
}

// ownerRealm is the realm of an API key's creator: the built-in elastic
// user lives in the reserved realm, the simulator's users in the native
// realm (named default_native when no realm is configured).
// Unverified: the realm names and types (from memory of ReservedRealm and
// NativeRealmSettings).
func ownerRealm(owner string) (string, string) {
	if owner == "elastic" {
		return "reserved", "reserved"
	}
	return "default_native", "native"
}

// linkSecurityFailure is the security exception a new connection of l
// meets at the remote, "" when there is none (the failure, if any, is a
// connect failure). v is the remote's view.
func (c *Cluster) linkSecurityFailure(l LinkSpec, v remoteView) string {
	if !v.exists || !v.running || v.hang || v.drop {
		return ""
	}
	tgt := c.sim.Cluster(l.Remote)
	if l.APIKeyAuth {
		if _, ok := rcsEntry(l, v); !ok {
			return ""
		}
		c.mu.Lock()
		store := c.rcs.client
		c.mu.Unlock()
		entry, _ := rcsEntry(l, v)
		if !entry.rcsTLS || entry.rcsClientCert ||
			!c.sim.verify(entry.rcsChain, store, x509.ExtKeyUsageServerAuth, trust.ModeFull, linkHosts(l, entry.rcsAddr), time.Now()) {
			return ""
		}
		if why := licenseProblem(c, tgt); why != "" {
			return why
		}
		return tgt.keyProblem(l.APIKeyID, handshakeAction)
	}
	if !atRemoteClusterPort(l, v) {
		return ""
	}
	entry, _ := rcsEntry(l, v)
	local := c.localTLS()
	if !entry.rcsTLS || (local.mode != trust.ModeNone &&
		!c.sim.verify(entry.rcsChain, local.store, x509.ExtKeyUsageServerAuth, local.mode, linkHosts(l, entry.rcsAddr), time.Now())) {
		return ""
	}
	// The cause, "Cross cluster requests through the dedicated remote
	// cluster server port require transport header
	// [_cross_cluster_access_credentials] but none found. ...", is only in
	// the logs (see above).
	return "error attempting to authenticate request"
}

// implicitKeyID names the unmodelled key of an API-key link without
// LinkSpec.APIKeyID in denial texts: a stable 20-character id.
func implicitKeyID(cluster, alias string) string {
	h := fnv32a(cluster + "/" + alias)
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%08x%07x", h, h>>4)))[:20]
}

// apiKeyAccess is what a request through API-key link l may do on the
// remote tgt: the authorized index patterns, the owner and id of the key,
// or the authentication failure of the key.
func (c *Cluster) keyAccess(tgt *Cluster, l LinkSpec) (patterns []string, id, owner, failure string) {
	if l.APIKeyID == "" {
		return []string{"*"}, implicitKeyID(c.name, l.Alias), "elastic", ""
	}
	if why := tgt.keyProblem(l.APIKeyID, "indices:admin/resolve/cluster"); why != "" {
		return nil, l.APIKeyID, "", why
	}
	tgt.mu.Lock()
	defer tgt.mu.Unlock()
	k := tgt.keyMetaLocked(l.APIKeyID)
	for _, s := range k.access.Search {
		patterns = append(patterns, s.Names...)
	}
	return patterns, l.APIKeyID, k.owner, ""
}

// userRemotePatterns are the index patterns the principal's roles grant
// indices:admin/resolve/cluster on for alias through remote_indices.
func (c *Cluster) userRemotePatterns(p *principal, alias string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, ri := range c.remoteIndicesLocked(p) {
		if slices.ContainsFunc(ri.Clusters, func(pat string) bool { return simpleMatch(pat, alias) }) &&
			hasAny(ri.Privileges, resolveClusterGrants) {
			out = append(out, ri.Names...)
		}
	}
	return out
}

func matchesAny(patterns []string, name string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return simpleMatch(p, name) })
}

// apiKeyRequest authorizes a _resolve/cluster request through API-key link
// l on the remote tgt: the indices the intersection lets it see, or the
// error the remote answers.
func (c *Cluster) apiKeyRequest(tgt *Cluster, p *principal, l LinkSpec, indices, patterns []string, clusterInfoOnly bool) ([]string, string) {
	if why := licenseProblem(c, tgt); why != "" {
		return nil, why
	}
	keyPats, id, owner, failure := c.keyAccess(tgt, l)
	if failure != "" {
		return nil, failure
	}
	if p == superuser {
		return indices, ""
	}
	userPats := c.userRemotePatterns(p, l.Alias)
	allowed := func(name string) bool { return matchesAny(keyPats, name) && matchesAny(userPats, name) }
	var visible []string
	for _, idx := range indices {
		if allowed(idx) {
			visible = append(visible, idx)
		}
	}
	if clusterInfoOnly {
		return visible, ""
	}
	var denied []string
	for _, pat := range patterns {
		if pat == "" || strings.HasPrefix(pat, "-") || pat == "_all" || strings.Contains(pat, "*") {
			continue
		}
		if !allowed(pat) && !slices.Contains(denied, pat) {
			denied = append(denied, pat)
		}
	}
	if len(denied) == 0 {
		return visible, ""
	}
	roles := slices.Clone(p.roles)
	slices.Sort(roles)
	return nil, "action [indices:admin/resolve/cluster] towards remote cluster is unauthorized for user [" + p.user +
		"] with assigned roles [" + strings.Join(roles, ",") + "] authenticated by API key id [" + id + "] of user [" +
		owner + "] on indices [" + strings.Join(denied, ",") + "], this action is granted by the index privileges [" +
		strings.Join(resolveClusterGrants, ",") + "]"
}

// setClientCAsLocked makes the PEM certificates the local
// remote_cluster_client's certificate_authorities
// (certs/remote-cluster/ca.crt). Callers hold c.mu (or own c).
func (c *Cluster) setClientCAsLocked(pemBytes []byte) error {
	certs, err := tlsprobe.ParseCertificatesPEM(pemBytes)
	if err != nil {
		return fmt.Errorf("simulator: remote cluster client CA: %w", err)
	}
	entries := make([]trustedCA, len(certs))
	for i, crt := range certs {
		entries[i] = trustedCA{path: "certs/remote-cluster/ca.crt", cert: crt}
	}
	c.rcs.client = newTrustStore(entries)
	return nil
}

// Public API.

// RemoteClusterAddresses returns the remote cluster server address
// (127.0.0.1:port) of every node that has the server enabled, in NodeSpec
// order; stable across Stop/Start.
func (c *Cluster) RemoteClusterAddresses() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.rcs.nodes {
		if r.enabled() && r.srv.addr != "" {
			out = append(out, r.srv.addr)
		}
	}
	return out
}

// remoteClusterCA is the CA that signs the remote cluster server
// certificates, nil when no node has a server configured.
func (c *Cluster) remoteClusterCA() *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rcs.nodes {
		if r.spec != nil && r.cert != nil {
			if r.spec.CA == "transport" {
				return c.tpki.ca.Cert
			}
			return c.rcs.ca.Cert
		}
	}
	return nil
}

// RemoteClusterCACertPEM is the PEM of the CA that signs the cluster's
// remote cluster server certificates (nil without a server configured).
func (c *Cluster) RemoteClusterCACertPEM() []byte {
	ca := c.remoteClusterCA()
	if ca == nil {
		return nil
	}
	return certgen.PEM(ca)
}

// WriteRemoteClusterCAFile writes the CA that signs the cluster's remote
// cluster server certificates as <cluster>-remote-cluster-ca.pem into dir
// and returns its path.
func (c *Cluster) WriteRemoteClusterCAFile(dir string) (string, error) {
	pemBytes := c.RemoteClusterCACertPEM()
	if pemBytes == nil {
		return "", fmt.Errorf("simulator: cluster %q has no remote cluster server configured", c.name)
	}
	p := filepath.Join(dir, c.name+"-remote-cluster-ca.pem")
	if err := os.WriteFile(p, pemBytes, 0o644); err != nil {
		return "", fmt.Errorf("simulator: write remote cluster CA file: %w", err)
	}
	return p, nil
}

// TrustRemoteClusterServer adds the CA of other's remote cluster server
// certificates to c's xpack.security.remote_cluster_client.ssl
// .certificate_authorities (certs/remote-cluster/<other>-ca.crt). New
// connections only.
func (c *Cluster) TrustRemoteClusterServer(other *Cluster) error {
	ca := other.remoteClusterCA()
	if ca == nil {
		return fmt.Errorf("simulator: cluster %q has no remote cluster server configured", other.name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rcs.client.has(ca) {
		return nil
	}
	c.rcs.client = newTrustStore(append(slices.Clone(c.rcs.client.entries),
		trustedCA{path: "certs/remote-cluster/" + other.name + "-ca.crt", cert: ca}))
	return nil
}

// SetRemoteClusterClientCAs replaces the remote cluster client's
// certificate_authorities with the PEM certificates (nil = none: the JDK
// default truststore, which trusts no simulated CA).
func (c *Cluster) SetRemoteClusterClientCAs(pemBytes []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pemBytes == nil {
		c.rcs.client = newTrustStore(nil)
		return nil
	}
	return c.setClientCAsLocked(pemBytes)
}

// SetNodeRemoteClusterServer changes a node's remote cluster server
// configuration (nil = none) and restarts the node: its server binds
// (keeping the port it had) or goes away, and every API-key link to the
// cluster loses its connections (not only those dialling this node: a
// simplification, unverified, listed in sim.go).
func (c *Cluster) SetNodeRemoteClusterServer(nodeName string, spec *RemoteClusterServerSpec) error {
	c.life.Lock() // serialised with Start and Stop, which bind and close the servers
	defer c.life.Unlock()
	c.mu.Lock()
	idx, err := c.nodeIndexLocked(nodeName)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	n := c.nodes[idx]
	if err := validateRCS(spec, n.ver); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("simulator: cluster %q node %q: %w", c.name, nodeName, err)
	}
	r := c.rcs.nodes[idx]
	old := r.srv
	r.srv = &node{name: n.name, port: old.port, addr: old.addr}
	r.spec, r.cert = nil, nil
	if spec != nil {
		cp := *spec
		r.spec = &cp
	}
	if err := c.issueRCSLocked(n, r); err != nil {
		c.mu.Unlock()
		return err
	}
	running := c.running
	c.mu.Unlock()
	old.close()
	if running && r.enabled() {
		c.mu.Lock()
		err = r.srv.listen(c.tfault.Load)
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("simulator: cluster %q node %q: remote cluster server listen: %w", c.name, nodeName, err)
		}
	}
	// The node restarted: API-key links through its server lose their
	// connections; the others keep theirs unless they can no longer hold any.
	for _, other := range c.sim.all() {
		other.mu.Lock()
		for _, l := range other.links {
			if l.spec.Remote == c.name && l.spec.APIKeyAuth {
				l.established = false
			}
		}
		other.mu.Unlock()
	}
	c.sim.revalidateLinksTo(c.name)
	return nil
}

// CreateCrossClusterAPIKey creates a cross-cluster API key owned by the
// elastic user (POST /_security/cross_cluster/api_key needs
// manage_security and a credential that is not an API key), with the given
// access and expiration (zero = never). It returns the id and the encoded
// credential (base64 of id:key), what the local keystore's
// cluster.remote.<alias>.credentials holds. Needs 8.10+.
func (c *Cluster) CreateCrossClusterAPIKey(name string, access CrossClusterAccess, expiration time.Time) (id, encoded string, err error) {
	if len(access.Search) == 0 && len(access.Replication) == 0 {
		// CrossClusterApiKeyRoleDescriptorBuilder#build (verified).
		return "", "", errors.New("simulator: must specify non-empty access for either [search] or [replication]")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v := c.nodes[0].ver; !v.atLeast(8, 10) {
		return "", "", fmt.Errorf("simulator: cluster %q plays %s: cross-cluster API keys need 8.10+", c.name, v.str)
	}
	id, secret := randomID()[:20], randomID()
	cp := CrossClusterAccess{}
	for _, s := range access.Search {
		cp.Search = append(cp.Search, CrossClusterIndices{Names: slices.Clone(s.Names), AllowRestrictedIndices: s.AllowRestrictedIndices})
	}
	for _, s := range access.Replication {
		cp.Replication = append(cp.Replication, CrossClusterIndices{Names: slices.Clone(s.Names), AllowRestrictedIndices: s.AllowRestrictedIndices})
	}
	c.rcs.keys[id] = &keyMeta{typ: "cross_cluster", name: name, owner: "elastic", realm: "reserved", realmType: "reserved",
		secret: secret, created: time.Now(), expiration: expiration, access: cp}
	return id, EncodeAPIKey(id, secret), nil
}

// CreateRESTAPIKey creates a REST API key owned by owner with no role
// descriptors of its own (the owner's privileges apply) and the given
// expiration (zero = never); it authenticates REST requests until it
// expires or is invalidated.
func (c *Cluster) CreateRESTAPIKey(name, owner string, expiration time.Time) (id, encoded string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[owner]
	if !ok && owner != "elastic" {
		return "", "", fmt.Errorf("simulator: cluster %q has no user %q", c.name, owner)
	}
	id, secret := randomID()[:20], randomID()
	c.apiKeys[id] = APIKey{Key: secret, Name: name, Owner: owner, ClusterPrivileges: u.ClusterPrivileges, IndexPrivileges: u.IndexPrivileges}
	realm, realmType := ownerRealm(owner)
	c.rcs.keys[id] = &keyMeta{typ: "rest", name: name, owner: owner, realm: realm, realmType: realmType,
		created: time.Now(), expiration: expiration}
	return id, EncodeAPIKey(id, secret), nil
}

// InvalidateAPIKey invalidates a key (DELETE /_security/api_key): it stays
// listed with invalidated:true until deleted. Connections already open
// stay open; requests and new connections fail to authenticate.
func (c *Cluster) InvalidateAPIKey(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.keyMetaLocked(id)
	if k == nil {
		return fmt.Errorf("simulator: cluster %q has no API key %q", c.name, id)
	}
	if !k.invalidated {
		k.invalidated, k.invalidation = true, time.Now()
	}
	return nil
}

// DeleteAPIKey removes a key from the security index, as the expired key
// remover does after the retention period: it is no longer listed.
func (c *Cluster) DeleteAPIKey(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rcs.keys, id)
	delete(c.apiKeys, id)
}

// remoteClusterSettingsLocked adds a node's remote cluster settings, as
// the docs' procedure writes them into elasticsearch.yml: on a node with
// a server configured remote_cluster_server.enabled, remote_cluster.port
// (the port the simulator bound; remote_cluster.host is left to fall back
// to network.host), xpack.security.remote_cluster_server.ssl.enabled when
// set explicitly, and the server's PEM key and certificate
// (certs/remote-cluster/<node>.key/.crt) and client_authentication when
// set; on every node the remote cluster client's certificate_authorities
// when configured. Only the two *.enabled-style keys survive the REST
// settings filter (settings.go). Callers hold c.mu.
func (c *Cluster) remoteClusterSettingsLocked(n *node, m map[string]any) {
	if i := slices.Index(c.nodes, n); i >= 0 && i < len(c.rcs.nodes) && c.rcs.nodes[i].spec != nil {
		r := c.rcs.nodes[i]
		m["remote_cluster_server.enabled"] = strconv.FormatBool(r.spec.Enabled)
		if r.spec.Enabled && r.srv.port != 0 {
			m["remote_cluster.port"] = strconv.Itoa(r.srv.port)
		}
		const prefix = "xpack.security.remote_cluster_server.ssl."
		if r.spec.SSL != nil {
			m[prefix+"enabled"] = strconv.FormatBool(*r.spec.SSL)
		}
		if r.ssl() {
			m[prefix+"key"] = "certs/remote-cluster/" + n.name + ".key"
			m[prefix+"certificate"] = "certs/remote-cluster/" + n.name + ".crt"
			if r.spec.ClientAuthentication != "" {
				m[prefix+"client_authentication"] = r.spec.ClientAuthentication
			}
		}
	}
	if len(c.rcs.client.entries) > 0 {
		var paths []string
		for _, e := range c.rcs.client.entries {
			if !slices.Contains(paths, e.path) {
				paths = append(paths, e.path)
			}
		}
		m["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = paths
	}
}

// remoteClusterCertificatesLocked are the node's remote cluster entries of
// GET /_ssl/certificates (ssl.go): the server's certificate file (only
// when the server is enabled: its SSL configuration is not built
// otherwise) and the client's CA files (the client configuration is
// always built; with no certificate_authorities it uses the JDK's
// default trust, which the API does not list). SSLServiceTests (8.x),
// verified. Callers hold c.mu.
func (c *Cluster) remoteClusterCertificatesLocked(idx int) []storedCert {
	var out []storedCert
	if idx < len(c.rcs.nodes) {
		if r := c.rcs.nodes[idx]; r.enabled() && r.ssl() {
			path := "certs/remote-cluster/" + c.nodes[idx].name + ".crt"
			for i, crt := range r.cert.chain {
				out = append(out, storedCert{path: path, format: "PEM", hasKey: i == 0, cert: crt})
			}
		}
	}
	for _, e := range c.rcs.client.entries {
		out = append(out, storedCert{path: e.path, format: "PEM", cert: e.cert})
	}
	return out
}

// restKeyCheck is the part of ApiKeyService#validateApiKeyCredentials the
// REST layer meets beyond "unknown id" and "wrong secret" (auth.go): an
// invalidated key, then the secret, then the type ("authentication
// expected API key type of [rest], but API key [<id>] has type
// [cross_cluster]", a terminating failure whose message is the 401's
// reason: ApiKeyService, verified; RemoteClusterSecurityApiKeyRestIT sees
// it in the 401), then the expiry. Invalidated and expired keys are
// unsuccessful attempts the chain reports as
// additional_unsuccessful_credentials "API key: api key [<id>] has been
// invalidated" / "API key: api key is expired" (texts from memory of
// ApiKeyService, unverified). nil = nothing to add.
func (c *Cluster) restKeyCheck(ver esVersion, r *http.Request, id, secret, reason string) *response {
	c.mu.Lock()
	k := c.keyMetaLocked(id)
	var stored string
	if k != nil {
		stored = k.secret
		if k.typ == "rest" {
			stored = c.apiKeys[id].Key
		}
	}
	c.mu.Unlock()
	if k == nil {
		return nil
	}
	unsuccessful := func(msg string) *response {
		resp := c.unauthorized(ver, r, reason, obj{}.set("additional_unsuccessful_credentials", "API key: "+msg))
		return &resp
	}
	switch {
	case k.invalidated:
		return unsuccessful("api key [" + id + "] has been invalidated")
	case stored != secret:
		return unsuccessful("invalid credentials for API key [" + id + "]")
	case k.typ != "rest":
		resp := c.unauthorized(ver, r, "authentication expected API key type of [rest], but API key ["+id+"] has type ["+k.typ+"]", nil)
		return &resp
	case k.expired(time.Now()):
		return unsuccessful("api key is expired")
	}
	return nil
}

// rcsLicensed: the cluster's license allows the API-key model (enterprise
// or trial, active).
func (c *Cluster) rcsLicensed() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return licenseRank(c.lic.typ) >= licenseRank("enterprise") && c.lic.active(time.Now())
}

// licenseProblem is the security exception of an API-key connection or
// request between local and remote whose licenses do not allow the model
// (the local check first: the querying cluster's interceptor refuses to
// send).
func licenseProblem(local, remote *Cluster) string {
	if !local.rcsLicensed() || !remote.rcsLicensed() {
		return "current license is non-compliant for [advanced-remote-cluster-security]"
	}
	return ""
}
