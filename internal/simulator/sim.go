// Package simulator runs simulated Elasticsearch clusters on 127.0.0.1 for
// tests, demos and benchmarks of es_remote_exporter. Each cluster answers
// HTTP(S) the way real Elasticsearch of the version it plays answers (7.17,
// 8.x, 9.x) for GET /, GET /_remote/info, GET /_resolve/cluster[/<expr>],
// GET /_nodes[...] (with the settings metric: settings.go), GET /_xpack
// (xpack.go), GET /_ssl/certificates, cross-cluster replication (GET
// /_ccr/stats, GET /<index>/_ccr/stats and /<index>/_ccr/info of follower
// indices: ccr.go), unknown paths and
// authentication/authorization failures, with the X-elastic-product header,
// per-version content types, error bodies and WWW-Authenticate headers.
//
// Security and license (security.go): per node xpack.security.enabled
// (ClusterSpec.Security, NodeSpec.SecurityEnabled, SetNodeSecurity) and
// xpack.security.transport.ssl.enabled (NodeSpec.TransportTLS,
// SetNodeTransportTLS), per cluster the license (ClusterSpec.License,
// SetLicense). A node without security answers without authentication
// (7.17 off by license default adds its Warning header); a node without
// transport TLS serves plain TCP on its transport port, and links only
// connect between nodes that agree on TLS. The defaults are security on and
// transport TLS on, with a basic license.
//
// Remote links between simulated clusters follow the real state of the
// remote (running, faults, wire compatibility) and Elasticsearch's
// reconnection rules: a link that lost its connection stays disconnected
// until something reconnects it (_resolve/cluster on versions that do,
// ReconnectRemotes standing for a cross-cluster search, a restart of the
// local cluster).
//
// Every node has its own HTTP(S) listener on 127.0.0.1 (Cluster.NodeURL;
// Cluster.URL is the first node's, so a single-node cluster has exactly
// one), all with the Sim's HTTP certificate, the cluster's faults and
// Stop/Start. A node answers as itself where that is node-local: GET /
// reports its name, GET /_ssl/certificates its configured certificates
// (its own transport certificate), _nodes/_local selects it, and
// GET /_nodes/http lists every node's HTTP address, and GET /_remote/info
// lists the links that node has. Everything else (version, security,
// license, _resolve/cluster) is the first node's for every listener; a node with xpack.security.enabled=false in
// an HTTPS cluster still serves HTTPS (simplification).
//
// Every node with transport TLS (the default) listens on its transport
// address with real mutual TLS (transport.go; the others serve plain TCP):
// node certificates from the Sim's shared transport CA or
// the cluster's own (ClusterSpec.Transport), optional intermediate, chosen
// lifetimes, TLS 1.2/1.3, a truststore per cluster (Sim.Trust,
// Cluster.TrustCluster, Cluster.RotateTransportCA). Links connect only when
// both sides trust each other's certificates at connection time.
//
// API-key model (remotecluster.go): per node a remote cluster server
// (NodeSpec/ClusterSpec.RemoteClusterServer: remote_cluster_server.enabled,
// its own TLS, CA and client authentication) on a port of its own with real
// TLS, reported in GET /_nodes (remote_cluster_server), /_nodes/settings
// and /_ssl/certificates; the local remote cluster client's truststore
// (ClusterSpec.RemoteClusterClientCAs, Cluster.TrustRemoteClusterServer);
// cross-cluster and REST API keys (Cluster.CreateCrossClusterAPIKey,
// CreateRESTAPIKey, InvalidateAPIKey, DeleteAPIKey) listed by GET
// /_security/api_key (apikeys.go). API-key links (LinkSpec.APIKeyAuth,
// APIKeyID) dial the remote cluster server and connect only when it is
// enabled, trusted and the key authenticates; the key's access and the
// user's remote_indices authorize their requests, with the troubleshooting
// guide's texts in _resolve/cluster.
//
// Links are dynamic (cluster settings API: GET /_cluster/settings, every
// node) or static (elasticsearch.yml of some nodes: their GET
// /_nodes/settings and _remote/info only), or both, dynamic settings
// winning key by key (LinkSpec.Static, clustersettings.go). Native roles
// (ClusterSpec.Roles, SetRole, DeleteRole) answer GET /_security/role
// (roles.go).
//
// Behaviour is documented next to the code with the Elasticsearch source file
// it follows; values marked "unverified" are inferences, each listed here.
//
// # Unverified
//
// What the simulator does that could not be checked against Elasticsearch's
// source, tests or recorded responses (TestUnverifiedIsListed keeps every
// file with such a comment in this list):
//   - actions.go: GET / component_versions from 8.13; per-version values other
//     than 8.19's; the shape of some index-level answers and list orders; the
//     caused_by type and text of a node that failed to answer GET /_nodes; the
//     metrics of /_nodes/<ids>/<metrics> are not checked (Elasticsearch refuses
//     an unknown one with 400).
//   - auth.go: that the API key service default switched in 8.0; malformed
//     Basic/ApiKey credentials treated as missing; the order of index
//     privileges in denial texts; role order; no " on indices" context when
//     a principal has no privilege for the action.
//   - remotecluster.go: that a failed remote cluster handshake (wrong key type,
//     unknown/expired/invalidated key, missing credentials at the remote
//     cluster server port, license) surfaces as _resolve/cluster's error rather
//     than as an unreachable remote (a ConnectTransportException wrapper would
//     hide it); the ", this action is granted by the index privileges [..]"
//     suffix of the remote's denial and the sorted "assigned roles"; the texts
//     of invalidated/expired REST keys; the implicit key of a link without
//     APIKeyID; the settings written for the server (remote_cluster.port with
//     the bound port); sniff mode needing a seed that is a remote cluster
//     server address; the realm names and types of a key's owner (reserved,
//     default_native/native); the order of the REST key checks (invalidated,
//     secret, type, expiry); SetNodeRemoteClusterServer dropping every API-key
//     link to the cluster, not only those dialling that node; a link that was
//     established keeping connected:false without the security error; the
//     remote cluster server trusts client certificates of the transport
//     truststore's CAs.
//   - apikeys.go: the version boundaries of type (8.10, with cross-cluster
//     keys), invalidation (8.12), realm_type (8.14), metadata (7.13),
//     active_only (8.10); the order of the listed keys; 200 with an empty list
//     when nothing matches; the privileges listed by the denial; the "role"
//     descriptor name of ClusterSpec.APIKeys; GetApiKeyRequest.validate()'s
//     refusals of id or name with username or realm_name are not modelled,
//     with_limited_by and with_profile_uid are not parsed, and
//     manage_own_api_key is matched on the username only (Elasticsearch matches
//     the realm too).
//   - remoteauth.go: an API key's privileges applying on the remote in the
//     certificate model; the "(assigned roles [..] were not found)" suffix
//     from 8.5; no " on indices [dummy*]" context in the remote's denial;
//     User.RemoteIndices belong to the user, not to its role names (another
//     user with the same role name does not get them; Elasticsearch has one
//     definition per role name), and add to a native role of the same name;
//     REST API keys get no remote_indices (Elasticsearch limits a key
//     without role descriptors by its owner's, remote_indices included).
//   - ccr.go: the first release with total_global_checkpoint_lag (8.13, from
//     the merge date of #104015); no license check in _ccr/info on 8.x/9.x
//     (read in 7.x source); the stall model (time since the last read growing,
//     one failed read per read_poll_timeout, the receive timeout read
//     exception); the minors that added master_timeout (8.13) and timeout
//     (8.14); the order of _ccr/info entries; read/write times and bytes; the
//     mapping/settings/aliases versions, outstanding requests and write-buffer
//     counters; successful reads counted per read_poll_timeout; exclusions (-x)
//     in _ccr/info expressions, taken as literal names; master_timeout and
//     timeout are accepted without parsing their values.
//   - clustersettings.go: setting key names and the dynamic-wins rule from
//     memory of the setting classes; parameter acceptance per version; the
//     version boundary of cluster:monitor/settings.
//   - errors.go: the stability of the error body's key order.
//   - http.go: some content-type and authentication-failure boundaries (about
//     8.8); the X-elastic-product header kept on 7.17's security 401/403;
//     license compliance 403s (ccr.go, the remote's license) keeping the header
//     (only the security filter's 401/403 were observed without it); methods
//     other than GET on /_security/api_key answer 405 (Elasticsearch serves
//     create and invalidate there).
//   - resolve.go: the patch numbers of the fail-fast disconnect strategy
//     (8.16.3 to 8.16.5 and 8.17.1+, from the merge dates of PRs #119526,
//     #119527 and #124368; no 8.17 backport of the revert #124241 was
//     found); background reconnection under FAIL_IF_DISCONNECTED; the order
//     of the received index options in the 400 text; a node without
//     remote_cluster_client answering as if no remote were configured; the
//     404 for an unknown alias; the rendering of the _resolve/index fallback
//     error; exclusions ignored in index matching.
//   - roles.go: field order and transient metadata of GET /_security/role;
//     answer order; sorted metadata keys; read_security from 8.2 and its
//     absence on 7.17; description from 8.15.
//   - security.go: explicit xpack.security.*.ssl.enabled handling; the trial
//     length; link failure wording; proxy-mode handshake exemption; the
//     8.x/9.x security warning prefix.
//   - settings.go: transport client settings gone in 8.0; the 8.x/9.x
//     additional security settings.
//   - timevalue.go: the unit a time value is rendered in; Double.parseDouble's
//     hexadecimal syntax (and f/d suffixes on it) approximated by
//     strconv.ParseFloat's.
//   - transport.go: SNI falling back to the peer host.
//   - versions.go: Lucene versions, transport version ids and minimum
//     compatibility versions other than the recorded ones.
//   - xpack.go: feature lists per version; the expired-license
//     degradation; the 7.17 build hash.
package simulator

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/certgen"
)

// FaultKind selects a misbehaviour of a cluster's HTTP layer (every node's
// listener).
type FaultKind int

// Fault kinds. See Fault.
const (
	FaultNone            FaultKind = iota
	FaultLatency                   // delay Fault.Latency, then answer normally
	FaultHang                      // never answer until the fault is replaced/cleared or the client leaves
	FaultServerError               // a realistic Elasticsearch 5xx (Fault.Status, default 503)
	FaultBadJSON                   // 200 with a non-JSON body, product header present
	FaultHTML                      // 502 text/html page of a reverse proxy, no product header
	FaultTruncated                 // Content-Length larger than the bytes sent, then close
	FaultDrop                      // close the connection without any response
	FaultNoProductHeader           // normal answers but 2xx lack X-elastic-product
)

// Fault is a cluster's current HTTP misbehaviour. PathPrefix restricts it to
// request paths with that prefix ("" = every path). Latency, when set, delays
// every faulted request before the fault itself (for FaultLatency it is the
// whole fault). A FaultHang or FaultDrop without PathPrefix also takes the
// cluster's transport layer down: links from other clusters to it lose their
// connection, as a hung or unreachable host would.
type Fault struct {
	Kind       FaultKind
	PathPrefix string
	Latency    time.Duration
	Status     int
}

// Sim owns a set of simulated clusters, their HTTP CA and listeners.
type Sim struct {
	pki *httpPKI
	// transportCA is the shared transport CA and sharedStore the truststore
	// of every cluster that uses it (see transport.go).
	transportCA *certgen.Cert
	sharedStore *trustStore

	verifyMu    sync.Mutex
	verifyCache map[verifyKey]verifyResult

	mu       sync.Mutex
	clusters map[string]*Cluster
	order    []*Cluster
	closed   bool
	closeCh  chan struct{}
}

// New creates a simulator with a fresh ECDSA P-256 HTTP CA and one leaf
// certificate (127.0.0.1, localhost) shared by every cluster, and the
// shared transport CA (SharedTransportCADN) that issues the node
// certificates of every cluster without a CA of its own.
func New() (*Sim, error) {
	pki, err := newHTTPPKI()
	if err != nil {
		return nil, err
	}
	tca, err := newSharedTransportCA()
	if err != nil {
		return nil, fmt.Errorf("simulator: transport CA: %w", err)
	}
	return &Sim{pki: pki, transportCA: tca,
		sharedStore: newTrustStore([]trustedCA{{path: "certs/ca/ca.crt", cert: tca.Cert}}),
		verifyCache: map[verifyKey]verifyResult{},
		clusters:    map[string]*Cluster{}, closeCh: make(chan struct{})}, nil
}

// CACertPEM returns the PEM of the CA that signed every cluster's HTTP
// certificate.
func (s *Sim) CACertPEM() []byte {
	return append([]byte(nil), s.pki.caPEM...)
}

// WriteCAFile writes the CA as ca.pem into dir and returns its path.
func (s *Sim) WriteCAFile(dir string) (string, error) {
	p := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(p, s.pki.caPEM, 0o644); err != nil {
		return "", fmt.Errorf("simulator: write CA file: %w", err)
	}
	return p, nil
}

// Cluster returns the cluster named name, or nil.
func (s *Sim) Cluster(name string) *Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clusters[name]
}

func (s *Sim) all() []*Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Cluster(nil), s.order...)
}

// Close stops every cluster, releases every request still hanging and waits
// for all goroutines the simulator started.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closeCh)
	clusters := append([]*Cluster(nil), s.order...)
	s.mu.Unlock()
	for _, c := range clusters {
		c.shutdown()
	}
	for _, c := range clusters {
		c.inflight.wait()
	}
	return nil
}
