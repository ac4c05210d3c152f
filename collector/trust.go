package collector

import (
	"cmp"
	"context"
	"crypto/x509"
	"net"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// Trust: whether each side of a link accepts the other's transport
// certificates, judged (internal/trust) in the slow round from the probes,
// the configured files and the _ssl/certificates listings (this cluster's,
// and the remote's when it is monitored). A link's trust changes only with
// a new probe round, a new listing or a remote's new view, all of which come
// with the slow schedules: verdicts are computed then and their series stand
// in between, so a poll does not parse DNs and verify chains for every link.

var (
	famLinkTrust = gauge("link", "trust_info",
		"TLS trust of a link, value 1 per direction: local_trusts_remote (the remote's presented chain against this cluster's transport CAs; for an API-key link, its remote cluster server's chain against the remote cluster client's CAs) and, for certificate links only, remote_trusts_local (this cluster's identity in a real handshake, or its chain against the remote's CAs); status trusted, untrusted or unknown; basis handshake, files or issuer_match; reason when not trusted. Polled and probed.",
		"es_cluster", "remote", "direction", "status", "basis", "reason")
	famLinkEarliest = gauge("link", "certificate_earliest_not_after_timestamp_seconds",
		"The earliest expiry among the certificates the link depends on that the exporter has seen (certificate links: both sides' transport leaf, intermediates and CAs; API-key links: the remote cluster server's chain and the CAs the local remote cluster client trusts), as a Unix time; the labels name that certificate. Probed.",
		"es_cluster", "remote", "side", "role", "subject", "serial")
	famLinkAPIKey = gauge("link", "cross_cluster_api_key_info",
		"The cross-cluster API key the link's keystore holds (clusters[].links.<alias>.api_key_id) as the remote cluster lists it (GET /_security/api_key), value 1; status active, expired, invalidated, rest (a REST key, which the remote refuses) or not_found. Only for configured keys of monitored remotes. Polled every transport.probe_interval.",
		"es_cluster", "remote", "id", "status")
	famLinkPrerequisites = gauge("link", "prerequisites_met",
		"1 when that side of the link meets its security model's prerequisites, else 0: certificate links, security and transport TLS on every node; API-key links, every node on 8.14+ with security on and an enterprise or trial license, and on the remote the remote cluster server enabled with TLS on every node. side is local, or remote when the remote cluster is monitored too. Polled every transport.probe_interval.",
		"es_cluster", "remote", "side")
)

// trustCheck shares this cluster's transport view with the fleet and judges
// both directions of every link.
var trustCheck = &check{
	schedule: slowRound,
	families: []*Family{famLinkTrust, famLinkEarliest, famLinkPrerequisites, famLinkAPIKey},
	run: func(_ context.Context, p *Poller, f *Facts) *CheckError {
		if p.fleet != nil {
			p.fleet.SetTransport(p.name, TransportView{CAs: p.transport.cas, Entries: trustEntries(f.Certificates), Security: f.Security, License: f.License})
		}
		f.Trust = p.analyzeTrust(f, f.round, linkTargets(f.Analyses), p.now())
		for _, ta := range f.Trust {
			f.Pending = f.Pending || ta.remoteViewMissing
		}
		p.logTrust(f.Trust)
		return nil
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		for _, ta := range f.Trust {
			for _, d := range ta.Directions() {
				out.add(famLinkTrust, 1, p.name, ta.Alias, d.Direction, string(d.Verdict.Status), string(d.Verdict.Basis), string(d.Verdict.Reason))
			}
			for _, side := range []struct {
				name    string
				met, ok bool
			}{{"local", ta.LocalMet, ta.LocalOK}, {"remote", ta.RemoteMet, ta.RemoteOK}} {
				if side.ok {
					out.add(famLinkPrerequisites, boolFloat(side.met), p.name, ta.Alias, side.name)
				}
			}
			if ta.EarliestOK {
				e := ta.Earliest
				out.add(famLinkEarliest, unixSeconds(e.NotAfter), p.name, ta.Alias, e.Side, e.Role, e.Subject, e.Serial)
			}
			if ta.KeyOK {
				out.add(famLinkAPIKey, 1, p.name, ta.Alias, ta.Key.ID, ta.Key.Status)
			}
		}
	},
}

// TrustAnalysis is the trust judgement of one link, both directions (one
// for an API-key link).
type TrustAnalysis struct {
	Alias string
	// APIKey: the link uses the API-key model. Its TLS is one way: the
	// local remote cluster client verifies the remote cluster server's
	// chain, which asks for no client certificate
	// (xpack.security.remote_cluster_server.ssl.client_authentication
	// defaults to none), so RemoteTrustsLocal does not apply.
	APIKey            bool
	LocalTrustsRemote trust.Verdict
	RemoteTrustsLocal trust.Verdict
	// Earliest is the certificate with the earliest not-after among those
	// the link depends on that the exporter could see; ok false when none.
	Earliest   trust.CertRef
	EarliestOK bool
	// Prerequisites per side (security and transport TLS on every node);
	// the OK flags are false when that side is not known.
	LocalMet, LocalOK   bool
	RemoteMet, RemoteOK bool
	// Key is an API-key link's configured cross-cluster key as the remote
	// lists it (KeyOK false when no key is configured or the remote's keys
	// are not known).
	Key   LinkKey
	KeyOK bool
	// remoteViewMissing: the link's remote is monitored but had not shared
	// its transport view when this link was judged.
	remoteViewMissing bool
}

// firstChain is the chain of the first probe that got one.
func firstChain(rs []tlsprobe.Result) (tlsprobe.Result, bool) {
	for _, r := range rs {
		if len(r.Chain) > 0 {
			return r, true
		}
	}
	return tlsprobe.Result{}, false
}

// localChain is this cluster's transport chain as the exporter knows it:
// from the configured identity, else from probing its own nodes.
func (p *Poller) localChain(st *probeState) []*x509.Certificate {
	if p.transport.identity != nil {
		return p.transport.identity.Chain
	}
	if r, ok := firstChain(st.local); ok {
		return r.PeerCertificates()
	}
	return nil
}

// analyzeTrust judges both directions of every link from the latest probe
// round, the configured files and the _ssl/certificates listings (this
// cluster's, and the remote's when it is monitored).
// targets maps each link to the monitored cluster behind it (linkTargets).
func (p *Poller) analyzeTrust(f *Facts, st *probeState, targets map[string]string, now time.Time) []TrustAnalysis {
	localEntries := trustEntries(f.Certificates)
	localLeafIssuers := trust.LeafIssuers(localEntries)
	localChain := p.localChain(st)
	localMet, localOK := prerequisitesMet(f.Security)
	out := make([]TrustAnalysis, 0, len(f.Links))
	for i := range f.Links {
		l := &f.Links[i]
		ta := TrustAnalysis{Alias: l.Alias, LocalMet: localMet, LocalOK: localOK}
		var remote *TransportView
		if t := targets[l.Alias]; t != "" && p.fleet != nil {
			if v, ok := p.fleet.Transport(t); ok {
				remote = &v
			} else {
				// Worth waiting for only until the remote's first poll.
				ta.remoteViewMissing = !p.fleet.Polled(t)
			}
		}
		if remote != nil {
			ta.RemoteMet, ta.RemoteOK = prerequisitesMet(remote.Security)
		}
		probe, gotChain := firstChain(st.links[l.Alias])
		chain := probe.PeerCertificates()
		if l.Auth() == "api_key" {
			ta.APIKey = true
			// The API-key model's prerequisites replace the certificate
			// model's (transport TLS is not what the link uses).
			ta.LocalMet, ta.LocalOK = apiKeyPrerequisitesMet(f.Security, f.License, false)
			ta.RemoteMet, ta.RemoteOK = false, false
			if remote != nil {
				ta.RemoteMet, ta.RemoteOK = apiKeyPrerequisitesMet(remote.Security, remote.License, true)
			}
			ta.LocalTrustsRemote = p.trustRemoteClusterServer(l, probe, gotChain, st, localEntries, now)
			var keyRef []trust.CertRef
			if id := p.links[l.Alias].APIKeyID; id != "" && p.fleet != nil && targets[l.Alias] != "" {
				ta.Key, ta.KeyOK = linkKey(id, p.fleet.APIKeys(targets[l.Alias]), now)
				if k := ta.Key.Key; ta.KeyOK && ta.Key.Status == KeyActive && !k.Expiration.IsZero() {
					keyRef = []trust.CertRef{{Side: trust.SideRemote, Role: RoleAPIKey, Subject: k.Name, Serial: k.ID, NotAfter: k.Expiration}}
				}
			}
			// What the link depends on: the remote cluster server's chain,
			// the CAs the local remote cluster client trusts, and the key.
			ta.Earliest, ta.EarliestOK = trust.EarliestExpiry(
				trust.ChainRefs(trust.SideLocal, nil, p.remoteClusterCAs),
				trust.ChainRefs(trust.SideRemote, chain, nil), keyRef)
			out = append(out, ta)
			continue
		}

		// Does this cluster accept the remote's nodes?
		switch {
		case !gotChain:
			ta.LocalTrustsRemote = noData("no transport certificate seen at " + joinAddrs(st.links[l.Alias]))
		case p.transport.cas != nil:
			host, _, _ := net.SplitHostPort(probe.Addr)
			hosts := verifiedHosts(l, host)
			ta.LocalTrustsRemote = trust.VerifyPeer(chain, p.transport.cas, now, trust.Peer{
				Usage: x509.ExtKeyUsageServerAuth, Mode: trust.ModeFull, Hosts: hosts})
		default:
			ta.LocalTrustsRemote = trust.IssuerMatch(chainIssuers(chain), trust.CASubjects(localEntries))
		}

		// Does the remote accept this cluster's nodes?
		switch {
		case gotChain && probe.ClientCertSent:
			ta.RemoteTrustsLocal = probe.ClientVerdict()
		case remote != nil && remote.CAs != nil && localChain != nil:
			ta.RemoteTrustsLocal = trust.VerifyPeer(localChain, remote.CAs, now, trust.Peer{
				Usage: x509.ExtKeyUsageClientAuth, Mode: trust.ModeCertificate})
		case localChain != nil && remote != nil && len(remote.Entries) > 0:
			ta.RemoteTrustsLocal = trust.IssuerMatch(chainIssuers(localChain), trust.CASubjects(remote.Entries))
		case localChain != nil && len(probe.AcceptableCAs) > 0:
			// The CAs the remote named in its certificate request.
			ta.RemoteTrustsLocal = trust.IssuerMatch(chainIssuers(localChain), probe.AcceptableCAs)
		case remote != nil && len(remote.Entries) > 0 && len(localLeafIssuers) > 0:
			ta.RemoteTrustsLocal = trust.IssuerMatch(localLeafIssuers, trust.CASubjects(remote.Entries))
		default:
			ta.RemoteTrustsLocal = noData("configure transport.cert_file (or keystore_file) or transport.probe_local_nodes, or monitor the remote cluster too")
		}

		// Everything the link depends on that the exporter has seen.
		var remoteCAs []*x509.Certificate
		if remote != nil {
			remoteCAs = remote.CAs
		}
		ta.Earliest, ta.EarliestOK = trust.EarliestExpiry(
			trust.ChainRefs(trust.SideLocal, localChain, p.transport.cas),
			trust.ChainRefs(trust.SideRemote, chain, remoteCAs))
		out = append(out, ta)
	}
	return out
}

// RoleAPIKey is the role label of a link's earliest expiry when it is the
// link's cross-cluster API key.
const RoleAPIKey = "api_key"

// trustRemoteClusterServer judges whether the local remote cluster client
// accepts the remote cluster server an API-key link dials: against
// clusters[].remote_cluster_client.ca_file as Elasticsearch verifies it
// (verification mode full: the SNI server_name, else the host dialled),
// else by issuer against the CAs the local nodes list in
// GET /_ssl/certificates (which includes
// xpack.security.remote_cluster_client.ssl.certificate_authorities).
func (p *Poller) trustRemoteClusterServer(l *RemoteLink, probe tlsprobe.Result, gotChain bool, st *probeState, localEntries []trust.Entry, now time.Time) trust.Verdict {
	chain := probe.PeerCertificates()
	switch {
	case !gotChain:
		return noData("no remote cluster server certificate seen at " + joinAddrs(st.links[l.Alias]))
	case p.remoteClusterCAs != nil:
		host, _, _ := net.SplitHostPort(probe.Addr)
		return trust.VerifyPeer(chain, p.remoteClusterCAs, now, trust.Peer{
			Usage: x509.ExtKeyUsageServerAuth, Mode: trust.ModeFull, Hosts: verifiedHosts(l, host)})
	}
	return trust.IssuerMatch(chainIssuers(chain), trust.CASubjects(localEntries))
}

// verifiedHosts are the names a remote's certificate may match in
// verification mode full: the SNI server_name, then the host dialled.
// Elasticsearch sets server_name as the SSLEngine's SNI name and the peer
// host as its host (SecurityNetty4Transport), and the JDK's endpoint
// identification checks the SNI name first and falls back to the peer
// host (X509TrustManagerImpl.checkAdditionalTrust).
func verifiedHosts(l *RemoteLink, host string) []string {
	if sn := deref(l.ServerName); sn != "" && sn != host {
		return []string{sn, host}
	}
	return []string{host}
}

func noData(detail string) trust.Verdict {
	return trust.Verdict{Status: trust.Unknown, Basis: trust.BasisIssuerMatch, Reason: trust.ReasonNoData, Detail: detail}
}

func chainIssuers(chain []*x509.Certificate) []string {
	out := make([]string, len(chain))
	for i, c := range chain {
		out[i] = trust.IssuerDN(c)
	}
	return out
}

func joinAddrs(rs []tlsprobe.Result) string {
	if len(rs) == 0 {
		return "(no address)"
	}
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += r.Addr
		if r.Err != nil {
			s += " (" + r.Err.Error() + ")"
		}
	}
	return s
}

// TransportView is what one monitored cluster shares about its transport
// layer with the pollers of the clusters linking to it.
type TransportView struct {
	CAs      []*x509.Certificate // from its transport.ca_file (or keystore); nil = unknown
	Entries  []trust.Entry       // its _ssl/certificates listing
	Security []NodeSecurity      // its nodes' security prerequisites
	License  *License            // nil = unknown
}

// A DirectionVerdict is one direction's trust verdict of a link.
type DirectionVerdict struct {
	Direction string // local_trusts_remote or remote_trusts_local
	Verdict   trust.Verdict
}

// Directions lists the link's trust directions with their verdicts, in the
// order they are rendered and logged: both for a certificate link, only
// local_trusts_remote for an API-key link.
func (ta *TrustAnalysis) Directions() []DirectionVerdict {
	if ta.APIKey {
		return []DirectionVerdict{{"local_trusts_remote", ta.LocalTrustsRemote}}
	}
	return []DirectionVerdict{{"local_trusts_remote", ta.LocalTrustsRemote}, {"remote_trusts_local", ta.RemoteTrustsLocal}}
}

// linkTargets maps each link to the monitored cluster behind it ("" when
// none): when that changes, the trust verdicts must be judged again.
func linkTargets(as []LinkAnalysis) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.Alias] = a.Target
	}
	return m
}

// logTrust logs, once per change, a link direction that is not trusted,
// with the detail the metric labels cannot carry.
func (p *Poller) logTrust(ts []TrustAnalysis) {
	for _, ta := range ts {
		for _, d := range ta.Directions() {
			v := d.Verdict
			problem := ""
			if v.Status == trust.Untrusted {
				problem = cmp.Or(v.Detail, string(v.Reason))
			}
			p.logChange("trust:"+ta.Alias+":"+d.Direction, problem,
				func() {
					p.logger.Warn("transport trust broken", "remote", ta.Alias, "direction", d.Direction,
						"reason", v.Reason, "basis", v.Basis, "detail", v.Detail)
				},
				func() {
					p.logger.Info("transport trust restored", "remote", ta.Alias, "direction", d.Direction, "status", v.Status)
				})
		}
	}
}
