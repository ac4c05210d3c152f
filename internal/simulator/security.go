package simulator

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Security, license and transport TLS per node.
//
// What a node has configured (elasticsearch.yml) is kept as settings, and
// everything else is derived from them the way Elasticsearch derives it:
//
//   - xpack.security.enabled (node.secSetting: "true", "false" or absent).
//     Absent means enabled in 8.x/9.x (XPackSettings.SECURITY_ENABLED
//     defaults to true). In 7.x the setting also defaults to true, but
//     with a basic or trial license security stays off unless the setting
//     is explicitly true: XPackLicenseState#isSecurityDisabledByLicenseDefaults
//     (7.x source, verified) returns true for TRIAL/BASIC when
//     xpack.security.enabled is not set. The simulator therefore writes
//     "true" for a node with security on (every version), and for a node
//     with security off: absent on 7.17 with a basic/trial license (the
//     7.x default), "false" otherwise (the only way to turn it off).
//   - With xpack.security.enabled=false the security plugin registers no
//     transport, HTTP transport, transport interceptor or REST handler
//     (Security#getTransports, #getHttpTransports,
//     #getTransportInterceptors: "don't register anything if we are not
//     enabled"; #getRestHandlers returns an empty list; verified in 7.x and
//     8.x Security.java): the node runs the plain netty4 transport and
//     plain HTTP whatever xpack.security.*.ssl says, and the security REST
//     APIs, GET /_ssl/certificates included (RestGetCertificateInfoAction is
//     in the security plugin's list), do not exist: the request falls
//     through RestController's routing like any unknown path. With the
//     setting absent on 7.x (security off by license) the security4
//     transports and handlers are installed and TLS follows
//     xpack.security.*.ssl.enabled (unverified), but nothing is
//     authenticated; the _security APIs (roles.go, apikeys.go:
//     securityNotEnabled) then fail with 500
//     {"type":"exception","reason":"Security must be explicitly enabled
//     when using a [basic] license. Enable security by setting
//     [xpack.security.enabled] to [true] in the elasticsearch.yml file and
//     restart the node."} (SecurityActionFilter, 7.x source and recorded
//     responses).
//   - xpack.security.transport.ssl.enabled (node.tlsSetting) defaults to
//     false (XPackSettings.TRANSPORT_SSL_ENABLED, verified). A node with it
//     on serves mutual TLS on its transport port (transport.go); one
//     without serves plain TCP and answers a TLS ClientHello by closing the
//     connection (TcpTransport#readHeaderBuffer: StreamCorruptedException
//     "SSL/TLS request received but SSL/TLS is not enabled on this node",
//     logged and the channel closed, verified) and an HTTP request with the
//     raw bytes "This is not an HTTP port" (HttpRequestOnTransportException,
//     TcpTransport#onException, verified).
//
// Production-mode bootstrap checks (7.x TLSLicenseBootstrapCheck via
// XPackLicenseState#isTransportTlsRequired: gold+ licenses need transport
// TLS when security is on, basic when explicitly enabled) do not apply:
// the simulator binds loopback, i.e. development mode, where Elasticsearch
// starts anyway.

// licenseTypes are the license types a cluster can have, in
// License.OperationMode order (trial apart: it allows everything).
var licenseTypes = []string{"basic", "gold", "platinum", "enterprise", "trial"}

// licenseRank orders operation modes for feature availability
// (XPackLicenseState#isAllowedByOperationMode: trial allows everything,
// otherwise the mode must be at least the feature's minimum).
func licenseRank(t string) int {
	if t == "trial" {
		return 100
	}
	return slices.Index(licenseTypes, t)
}

// license is the cluster's current license (guarded by Cluster.mu).
type license struct {
	uid    string
	typ    string
	expiry time.Time // zero = never expires (self-generated basic)
}

func (l license) active(now time.Time) bool { return l.expiry.IsZero() || now.Before(l.expiry) }

// newLicense builds a license of type typ; a zero expiry gets the
// default: a self-generated trial runs 30 days (LicenseSettings /
// StartTrialClusterTask, 30 days, well known; unverified here), a basic
// license never expires (XPackInfoResponse.BASIC_SELF_GENERATED_LICENSE_EXPIRATION_MILLIS,
// verified), gold/platinum/enterprise get one year (illustrative).
func newLicense(typ string, expiry time.Time, now time.Time) (license, error) {
	if typ == "" {
		typ = "basic"
	}
	if !slices.Contains(licenseTypes, typ) {
		return license{}, fmt.Errorf("license type %q: want one of %s", typ, strings.Join(licenseTypes, ", "))
	}
	if expiry.IsZero() {
		switch typ {
		case "trial":
			expiry = now.Add(30 * 24 * time.Hour)
		case "basic":
		default:
			expiry = now.AddDate(1, 0, 0)
		}
	}
	return license{uid: randomUUID(), typ: typ, expiry: expiry}, nil
}

// randomUUID is a version 4 UUID in its canonical form (license uids are
// java.util.UUID strings).
func randomUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// securitySetting is what the simulator writes as xpack.security.enabled
// for a node of version v whose security should be on or off under
// license typ (see the comment at the top of this file).
func securitySetting(on bool, v esVersion, typ string) string {
	switch {
	case on:
		return "true"
	case v.v.Major == 7 && (typ == "basic" || typ == "trial"):
		return ""
	}
	return "false"
}

// pluginActive: the security plugin installed its transports (the setting
// is not explicitly false).
func (n *node) pluginActive() bool { return n.secSetting != "false" }

// securityOn is whether the node authenticates and authorizes: the
// setting, or its default for the node's version and the license.
func (n *node) securityOn(l license) bool {
	switch n.secSetting {
	case "true":
		return true
	case "false":
		return false
	}
	if n.ver.v.Major == 7 {
		return l.typ != "basic" && l.typ != "trial"
	}
	return true
}

// transportTLS is whether the node's transport port speaks TLS.
func (n *node) transportTLS() bool { return n.pluginActive() && n.tlsSetting }

// implicitlyInsecure is 7.x's "security disabled by license defaults":
// the security REST filter is installed but lets everything through with a
// warning header.
func (n *node) implicitlyInsecure(l license) bool { return n.pluginActive() && !n.securityOn(l) }

// transportMode is what a node brings to a transport connection.
type transportMode struct {
	tls      bool // its transport port speaks TLS
	security bool // it authenticates requests (and sends credentials)
}

func (c *Cluster) nodeModeLocked(n *node) transportMode {
	return transportMode{tls: n.transportTLS(), security: n.securityOn(c.lic)}
}

// localMode is the answering node's side of outgoing connections.
func (c *Cluster) localMode() transportMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodeModeLocked(c.nodes[0])
}

// transportCompatible reports whether a node in mode local can hold a
// remote-cluster connection to a node in mode remote:
//   - TLS on one side only: no connection. A TLS client's ClientHello makes
//     a plain node close the channel (TcpTransport, see above); a plain
//     client's transport header makes a TLS node's SslHandler fail with
//     NotSslRecordException and close (Netty; SecurityNetty4Transport logs
//     "received plaintext traffic on an encrypted channel, closing
//     connection", wording unverified).
//   - Remote authenticates, local does not: the local node sends requests
//     without an authentication header (no security interceptor, or 7.x's
//     disabled license state), which the remote's ServerTransportFilter
//     rejects (missing authentication credentials); the sniff/proxy
//     strategies cannot complete their handshake or cluster-state request
//     (unverified for proxy mode, whose handshake action may be exempt).
//   - Local authenticates, remote does not: the remote ignores the headers
//     and the connection works (unverified).
//
// API-key links (LinkSpec.APIKeyAuth) need security on both sides: the
// remote cluster server port and the cross-cluster API key exist only with
// security enabled (unverified).
func transportCompatible(local, remote transportMode, apiKey bool) bool {
	if apiKey {
		return local.security && remote.security
	}
	if local.tls != remote.tls {
		return false
	}
	return local.security || !remote.security
}

// securityWarning is the Warning header 7.16+ adds to every REST response
// (except OPTIONS) of a node whose security is off by license default:
// SecurityRestFilter#handleRequest, HeaderWarning.addWarning (7.x source,
// verified; recorded 7.16.0/7.17 responses show the header as
// `299 Elasticsearch-<version>-<build hash> "<message>"`).
func securityWarning(v esVersion) string {
	msg := "Elasticsearch built-in security features are not enabled. Without authentication, your cluster could be " +
		"accessible to anyone. See https://www.elastic.co/guide/en/elasticsearch/reference/" +
		v.v.MinorString() + "/security-minimal-setup.html to enable security."
	return warningValue(v, msg)
}

// warningValue is HeaderWarning's format: 299 Elasticsearch-<version>
// [-SNAPSHOT]-<build hash> "<escaped message>" (no date in 7.x+, as the
// recorded 7.16 header shows; the 8.x/9.x prefix is unverified).
func warningValue(v esVersion, msg string) string {
	msg = strings.ReplaceAll(strings.ReplaceAll(msg, `\`, `\\`), `"`, `\"`)
	return "299 Elasticsearch-" + v.str + "-" + buildHash(v) + ` "` + msg + `"`
}

// answeringSecurity reports whether the answering node authenticates, and
// the header to add when it is off by 7.x license default.
func (c *Cluster) answeringSecurity() (on bool, warning string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[0]
	if n.implicitlyInsecure(c.lic) {
		return false, securityWarning(n.ver)
	}
	return n.securityOn(c.lic), ""
}

// answeringPluginActive: the node the request was sent to runs the
// security plugin (its REST handlers, e.g. GET /_ssl/certificates, exist).
func (c *Cluster) answeringPluginActive(r *http.Request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[answeringIndex(r)].pluginActive()
}

// withSecurityWarning adds the 7.x warning to a handler's response.
func (c *Cluster) withSecurityWarning(resp response) response {
	if resp.status == 0 {
		return resp
	}
	if _, w := c.answeringSecurity(); w != "" {
		resp.headers = append(resp.headers, [2]string{"Warning", w})
	}
	return resp
}

// superuser is the principal of a request to a node without security:
// nothing is authenticated or authorized.
var superuser = &principal{user: "_anonymous", clusterPrv: []string{"all"}, indexPrv: []string{"all"}}

// Public API.

// SetNodeSecurity sets a node's xpack.security.enabled and restarts it, as
// changing elasticsearch.yml requires. Off is written as an absent setting
// on 7.17 with a basic/trial license and as "false" otherwise; a node
// whose xpack.security.transport.ssl.enabled followed the default (nil
// NodeSpec.TransportTLS) keeps its configuration (so a 7.17 node keeps
// TLS, an 8.x/9.x node with "false" serves plain TCP). The answering node
// of an HTTPS cluster cannot turn security explicitly off: HTTP TLS comes
// from the security plugin.
func (c *Cluster) SetNodeSecurity(nodeName string, enabled bool) error {
	return c.reconfigureNode(nodeName, func(n *node) error {
		n.secSetting = securitySetting(enabled, n.ver, c.lic.typ)
		return nil
	})
}

// SetSecurity sets xpack.security.enabled on every node (see
// SetNodeSecurity), restarting each.
func (c *Cluster) SetSecurity(enabled bool) error {
	for _, name := range c.NodeNames() {
		if err := c.SetNodeSecurity(name, enabled); err != nil {
			return err
		}
	}
	return nil
}

// SetNodeTransportTLS sets a node's xpack.security.transport.ssl.enabled
// (true: the PEM key, certificate and CA settings of transport.go; false:
// no xpack.security.transport.ssl.* setting at all) and restarts the node.
// A node whose security is explicitly off serves plain TCP either way.
func (c *Cluster) SetNodeTransportTLS(nodeName string, enabled bool) error {
	return c.reconfigureNode(nodeName, func(n *node) error {
		n.tlsSetting = enabled
		return nil
	})
}

// SetLicense installs a license of type typ ("basic", "trial", "gold",
// "platinum", "enterprise") with a new uid; zero expiry = the type's
// default (see ClusterSpec.LicenseExpiry), a past one = expired. Like a
// license update it restarts nothing, but on 7.17 a node without
// xpack.security.enabled follows the new license's default at once
// (SecurityStatusChangeListener: "Active license is now [..]; Security is
// enabled/disabled").
func (c *Cluster) SetLicense(typ string, expiry time.Time) error {
	l, err := newLicense(typ, expiry, time.Now())
	if err != nil {
		return fmt.Errorf("simulator: cluster %q: %w", c.name, err)
	}
	c.mu.Lock()
	c.lic = l
	c.refreshNodeModes()
	c.mu.Unlock()
	c.sim.revalidateLinksTo(c.name)
	return nil
}

// reconfigureNode applies change to a node and restarts it when its
// configuration changed: its transport connections close, links to it in
// proxy mode and links that can no longer reach the cluster lose their
// connection, and when the answering node restarts the cluster connects
// its own links afresh.
func (c *Cluster) reconfigureNode(nodeName string, change func(*node) error) error {
	c.mu.Lock()
	idx, err := c.nodeIndexLocked(nodeName)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	n := c.nodes[idx]
	beforeSec, beforeTLS := n.secSetting, n.tlsSetting
	if err := change(n); err != nil {
		c.mu.Unlock()
		return err
	}
	if idx == 0 && !c.plain && !n.pluginActive() {
		n.secSetting, n.tlsSetting = beforeSec, beforeTLS
		c.mu.Unlock()
		return fmt.Errorf("simulator: cluster %q node %q answers HTTPS, which needs the security plugin "+
			"(xpack.security.enabled=false serves plain HTTP): use a PlainHTTP cluster", c.name, nodeName)
	}
	if n.secSetting == beforeSec && n.tlsSetting == beforeTLS {
		c.mu.Unlock()
		return nil
	}
	c.refreshNodeModes()
	running := c.running
	addr := n.addr
	c.mu.Unlock()

	n.closeConns()
	c.sim.dropProxyLinksTo(c.name, addr)
	c.sim.revalidateLinksTo(c.name)
	if idx == 0 && running {
		c.reconnectOwnLinks()
	}
	return nil
}

// refreshNodeModes publishes every node's transport mode to its listener.
// Callers hold c.mu.
func (c *Cluster) refreshNodeModes() {
	for i, n := range c.nodes {
		n.plain.Store(!n.transportTLS())
		if i < len(c.rcs.nodes) && c.rcs.nodes[i].spec != nil {
			// The remote cluster server's TLS also comes from the security
			// plugin (remotecluster.go).
			c.rcs.nodes[i].srv.plain.Store(!c.rcs.nodes[i].ssl() || !n.pluginActive())
		}
	}
}

// dropProxyLinksTo disconnects proxy-mode links whose proxy address is the
// given node of cluster name (the node restarted under them).
func (s *Sim) dropProxyLinksTo(name, addr string) {
	for _, c := range s.all() {
		c.mu.Lock()
		for _, l := range c.links {
			if l.spec.Remote == name && l.spec.Mode == "proxy" && l.spec.ProxyAddress == addr {
				l.established = false
			}
		}
		c.mu.Unlock()
	}
}

// securityNotEnabled is SecurityActionFilter's answer to a _security API
// on a 7.x node whose security is off by license default (see the package
// documentation above: 7.x source and recorded responses).
func (c *Cluster) securityNotEnabled(ver esVersion, r *http.Request) response {
	c.mu.Lock()
	typ := c.lic.typ
	c.mu.Unlock()
	return errorResponse(ver, r, esError{status: http.StatusInternalServerError, typ: "exception",
		reason: "Security must be explicitly enabled when using a [" + typ + "] license. Enable security by " +
			"setting [xpack.security.enabled] to [true] in the elasticsearch.yml file and restart the node."})
}
