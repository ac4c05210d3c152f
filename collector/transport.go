package collector

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/rolecheck"
	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// Transport probes dial the transport endpoints a link depends on (the
// remote's seeds or proxy address, and optionally this cluster's own nodes)
// and record the chain each presents, even when it does not verify. Every
// probe shows in the probed node's log as a connection that closed without a
// transport handshake, so probes run on their own, slower schedule
// (transport.probe_interval, default 10m) and their results are replayed in
// the polls between.

// maxProbesPerLink bounds how many seeds of one link are probed.
const maxProbesPerLink = 3

// probeConcurrency bounds the parallel probes of one cluster, and
// fleetProbeConcurrency those of all clusters together (through the Fleet),
// so that a thousand clusters starting at once do not hold hundreds of TLS
// handshakes in memory at the same time.
const (
	probeConcurrency      = 8
	fleetProbeConcurrency = 32
)

// transportFiles is what clusters[].transport names, loaded.
type transportFiles struct {
	cas      []*x509.Certificate // the cluster's transport truststore; nil = not configured
	identity *tlsprobe.Identity  // the cluster's transport identity; nil = not configured
}

func loadTransportFiles(t config.Transport) (transportFiles, error) {
	var f transportFiles
	if t.CAFile != "" {
		cas, err := tlsprobe.LoadCABundle(t.CAFile)
		if err != nil {
			return f, fmt.Errorf("transport.ca_file: %w", err)
		}
		f.cas = cas
	}
	switch {
	case t.CertFile != "":
		id, err := tlsprobe.LoadPEMIdentity(t.CertFile, t.KeyFile)
		if err != nil {
			return f, fmt.Errorf("transport.cert_file/key_file: %w", err)
		}
		f.identity = &id
	case t.KeystoreFile != "":
		id, err := tlsprobe.LoadPKCS12Identity(t.KeystoreFile, t.KeystorePassword.Reveal())
		if err != nil {
			return f, fmt.Errorf("transport.keystore_file: %w", err)
		}
		f.identity = &id
		if f.cas == nil && len(id.Others) > 0 {
			// elasticsearch-certutil's elastic-certificates.p12 is keystore
			// and truststore at once: its CA entries are what the nodes trust.
			f.cas = id.Others
		}
	}
	return f, nil
}

// probeState is one probe round of one cluster. It lives only while the
// round is judged and rendered; the poller keeps the rendered text.
type probeState struct {
	at    time.Time
	links map[string][]tlsprobe.Result // by alias, one per probed address
	local []tlsprobe.Result            // this cluster's own nodes (probe_local_nodes)
}

// linkAddresses are the endpoints of a link worth probing.
func linkAddresses(l *RemoteLink) []string {
	addrs := l.Addresses()
	return addrs[:min(len(addrs), maxProbesPerLink)]
}

// probeTransport runs one probe round, bounded by the poll's context.
func (p *Poller) probeTransport(ctx context.Context, f *Facts) probeState {
	st := probeState{at: p.now(), links: map[string][]tlsprobe.Result{}}
	type job struct {
		alias string // "" = a local node
		addr  string
		sni   string
	}
	var jobs []job
	for i := range f.Links {
		l := &f.Links[i]
		for _, a := range linkAddresses(l) {
			jobs = append(jobs, job{alias: l.Alias, addr: a, sni: deref(l.ServerName)})
		}
	}
	if p.probeLocal {
		for _, n := range f.Nodes {
			jobs = append(jobs, job{addr: n.TransportAddress})
		}
	}
	opts := tlsprobe.Options{Timeout: p.timeout}
	if p.transport.identity != nil {
		cert := p.transport.identity.Certificate
		opts.ClientCertificate = &cert
	}
	results := make([]tlsprobe.Result, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, probeConcurrency)
	var shared chan struct{}
	if p.fleet != nil {
		shared = p.fleet.probeSlots
	}
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if shared != nil {
				select {
				case shared <- struct{}{}:
					defer func() { <-shared }()
				case <-ctx.Done():
					results[i] = tlsprobe.Result{Addr: j.addr, Err: ctx.Err()}
					return
				}
			}
			o := opts
			o.ServerName = j.sni
			results[i] = tlsprobe.Probe(ctx, j.addr, o)
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if j.alias == "" {
			st.local = append(st.local, results[i])
		} else {
			st.links[j.alias] = append(st.links[j.alias], results[i])
		}
	}
	return st
}

// TrustAnalysis is the trust judgement of one link, both directions.
type TrustAnalysis struct {
	Alias             string
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
func (p *Poller) localChain(st probeState) []*x509.Certificate {
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
func (p *Poller) analyzeTrust(f *Facts, st probeState, targets map[string]string, now time.Time) []TrustAnalysis {
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

		// Does this cluster accept the remote's nodes?
		switch {
		case !gotChain:
			ta.LocalTrustsRemote = noData("no transport certificate seen at " + joinAddrs(st.links[l.Alias]))
		case p.transport.cas != nil:
			host, _, _ := net.SplitHostPort(probe.Addr)
			hosts := []string{host}
			if sn := deref(l.ServerName); sn != "" {
				hosts = []string{sn}
			}
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
}

// due reports whether slow checks last run at last are due again: settings,
// certificates and roles change rarely and probes show in the remote's log,
// so they run every probe_interval (every poll when it is 0) and are
// replayed in between. The listings and the probe round keep their own
// times: a round waits for GET /_remote/info, and while that fails the
// listings must not run on every poll for want of a round.
func (p *Poller) due(last time.Time) bool {
	return p.probeInterval <= 0 || last.IsZero() || p.now().Sub(last) >= p.probeInterval
}

// A link's trust changes only with a new probe round, a new certificate
// listing or a remote's new view, all of which come with the slow checks:
// verdicts are computed then and replayed in between, so a poll does not
// parse DNs and verify chains for every link.

// slowListings runs the certificate listing and the prerequisites check
// when they are due and otherwise replays their last results.
func (p *Poller) slowListings(ctx context.Context, f *Facts) {
	if !p.due(p.lastListing) && p.lastSlowChecks != nil {
		f.Certificates, f.Security, f.Listings = p.lastCerts, p.lastSecurity, p.lastListings
		f.RemoteClientNodes, f.Roles = p.lastClients, p.lastRoles
		f.Checks = append(f.Checks, p.lastSlowChecks...)
		// A replayed failure is a poll in which the check failed: counted,
		// so that failure-rate alerts see a slow check fail as steadily as
		// a fast one (logged once, when it happened).
		for _, c := range p.lastSlowChecks {
			if c.Err != nil {
				p.failures[c.Check][c.Err.Reason]++
			}
		}
		return
	}
	first := len(f.Checks)
	p.run(ctx, f, CheckSSLCertificates, func(ctx context.Context) *CheckError {
		var err *CheckError
		f.Certificates, err = p.client.sslCertificates(ctx)
		return err
	})
	for i := range f.Certificates {
		f.Certificates[i].Node = f.Identity.NodeName
	}
	f.Listings = nil
	if p.cfg.Transport.CertificatesFromAllNodes && f.Certificates != nil {
		others, listings := p.otherNodesCertificates(ctx, f.Identity.NodeName, f.Nodes)
		f.Certificates = append(f.Certificates, others...)
		f.Listings = append([]nodeListing{{node: f.Identity.NodeName}}, listings...)
		p.logListings(f.Listings)
	}
	// The raw settings are judged here and dropped: with thousands of links
	// only the judgement is worth keeping until the next round.
	var nodeLinks []NodeLinkSettings
	var dynamic linkDefinition
	var nodesErr, dynErr *CheckError
	p.run(ctx, f, CheckPrerequisites, func(ctx context.Context) *CheckError {
		f.Security, nodeLinks, nodesErr = p.client.prerequisites(ctx)
		return nodesErr
	})
	p.run(ctx, f, CheckClusterSettings, func(ctx context.Context) *CheckError {
		dynamic, dynErr = p.client.clusterSettings(ctx)
		return dynErr
	})
	f.RemoteClientNodes = -1
	if nodesErr == nil {
		f.RemoteClientNodes = 0
		for _, n := range nodeLinks {
			if n.RemoteClient {
				f.RemoteClientNodes++
			}
		}
	}
	if nodesErr == nil && dynErr == nil {
		f.LinkSettings = analyzeLinkSettings(dynamic, nodeLinks)
	}
	p.logLinkSettings(f.LinkSettings)
	p.settingsText = renderOnce(func(add addFunc) { p.settingsMetrics(f, add) })
	if len(p.roleNames) > 0 {
		p.run(ctx, f, CheckRoles, func(ctx context.Context) *CheckError {
			f.Roles.Roles, f.Roles.Err = p.client.roles(ctx, p.roleNames)
			return f.Roles.Err
		})
		if p.fleet != nil {
			p.fleet.SetRoles(p.name, f.Roles)
		}
	}
	p.lastCerts, p.lastSecurity, p.lastListings = f.Certificates, f.Security, f.Listings
	p.lastClients, p.lastRoles = f.RemoteClientNodes, f.Roles
	p.lastSlowChecks = slices.Clone(f.Checks[first:])
	p.lastListing = p.now()
}

// transportRound runs a slow round when it is due, or when the links or the
// clusters behind them changed: it probes, shares this cluster's transport
// view with the fleet, judges every link's trust and renders the transport
// series once. Between rounds the rendered series stand (slowFamilies):
// they do not change, and with thousands of links judging and rendering
// them on every poll would cost more than the rest of the poll.
func (p *Poller) transportRound(ctx context.Context, f *Facts) {
	targets := linkTargets(f.Analyses)
	if !p.due(p.lastRound) && !p.retrySlow && maps.Equal(targets, p.trustTargets) {
		return
	}
	now := p.now()
	if p.fleet != nil {
		p.fleet.SetTransport(p.name, TransportView{CAs: p.transport.cas, Entries: trustEntries(f.Certificates), Security: f.Security})
	}
	round := p.probeTransport(ctx, f)
	f.Trust = p.analyzeTrust(f, round, targets, now)
	p.logTrust(f.Trust)
	var rolesPending bool
	f.RoleFindings, rolesPending = analyzeRoles(p.name, f.Roles, p.links, p.fleet)
	p.logRoles(f.RoleFindings)
	slow := renderOnce(func(add addFunc) { p.transportMetrics(f, round, add) })
	p.slowText, p.trustTargets, p.lastRound = slow, targets, round.at
	// A monitored remote that has not been polled yet (at start-up) has no
	// view to judge against: run the slow round again next poll rather than
	// report unknown for a whole probe interval. (A link that is matched to
	// its remote only later changes trustTargets, which does the same.)
	// Decided from what the analysis saw, not by asking the fleet again: the
	// remote may have published its view in between.
	p.retrySlow = rolesPending || slices.ContainsFunc(f.Trust, func(ta TrustAnalysis) bool { return ta.remoteViewMissing })
	f.Pending = p.retrySlow
}

// slowFamilies returns the series rendered by the last slow checks (link
// settings) and the last slow round (transport, trust, roles), by family
// index; none while the cluster does not answer (its links are not known
// then either).
func (p *Poller) slowFamilies(f *Facts) [][][]byte {
	if f.Identity == nil {
		return nil
	}
	return [][][]byte{p.settingsText, p.slowText}
}

type addFunc = func(*prometheus.Desc, prometheus.ValueType, float64, ...string)

// renderOnce renders series that are kept for a whole round.
func renderOnce(fill func(add addFunc)) [][]byte {
	r := newRenderer()
	fill(r.add)
	return r.render()
}

// settingsMetrics adds where each link is defined. The judgements are not
// kept between rounds: with thousands of links only their rendering is.
func (p *Poller) settingsMetrics(f *Facts, add addFunc) {
	g := prometheus.GaugeValue
	if f.RemoteClientNodes >= 0 {
		add(descRemoteClientNodes, g, float64(f.RemoteClientNodes), p.name)
	}
	for _, ls := range f.LinkSettings {
		add(descLinkSettingsNodes, g, float64(ls.Defined), p.name, ls.Alias, ls.Source)
		for _, c := range ls.Conflicts {
			add(descLinkSettingConflict, g, 1, p.name, ls.Alias, c.Setting, c.Kind)
		}
	}
}

// transportMetrics adds the certificate, probe and trust series.
func (p *Poller) transportMetrics(f *Facts, round probeState, add func(*prometheus.Desc, prometheus.ValueType, float64, ...string)) {
	g := prometheus.GaugeValue
	// 7.x lists certificates in hash order: sort so series keep their place.
	certs := slices.Clone(f.Certificates)
	slices.SortFunc(certs, func(a, b SSLCertificate) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(deref(a.Path), deref(b.Path)), strings.Compare(deref(a.Alias), deref(b.Alias)),
			strings.Compare(a.SubjectDN, b.SubjectDN), strings.Compare(a.SerialNumber, b.SerialNumber))
	})
	for _, c := range certs {
		if t, ok := c.NotAfter(); ok {
			add(descClusterCertNotAfter, g, unixSeconds(t), p.name, c.Node, deref(c.Path), c.Format, deref(c.Alias),
				c.SubjectDN, c.Issuer, c.SerialNumber, fmt.Sprint(c.HasPrivateKey))
		}
	}
	for _, l := range f.Listings {
		add(descCertListing, g, boolFloat(l.err == nil), p.name, l.node)
	}
	for _, n := range f.Security {
		add(descNodeSecurity, g, boolFloat(n.SecurityEnabled), p.name, n.Node)
		add(descNodeTransportTLS, g, boolFloat(n.TransportTLS), p.name, n.Node)
	}
	for _, rf := range f.RoleFindings {
		for _, st := range RoleStatuses {
			add(descLinkRoleStatus, g, boolFloat(rf.Status == st), p.name, rf.Alias, rf.Role, string(rf.Purpose), string(rf.Side), st)
		}
		for _, m := range rf.Result.Missing {
			add(descLinkRoleMissingPrivilege, g, 1, p.name, rf.Alias, rf.Role, string(rf.Purpose), string(rf.Side), m.String())
		}
	}
	add(descLastProbe, g, unixSeconds(round.at), p.name)
	for _, r := range round.local {
		add(descLocalProbeSuccess, g, boolFloat(len(r.Chain) > 0), p.name, r.Addr)
		for i, c := range r.Chain {
			add(descLocalPresentedNotAfter, g, unixSeconds(c.NotAfter), p.name, r.Addr, trust.ChainRole(i, c.SelfIssued), c.Subject, c.Issuer, c.Serial)
		}
	}
	for i := range f.Links {
		alias := f.Links[i].Alias
		for _, r := range round.links[alias] {
			add(descLinkProbeSuccess, g, boolFloat(len(r.Chain) > 0), p.name, alias, r.Addr)
			add(descLinkProbeInfo, g, 1, p.name, alias, r.Addr, r.VersionName(), string(r.ClientAuth), r.PeerAlert)
			for j, c := range r.Chain {
				add(descLinkPresentedNotAfter, g, unixSeconds(c.NotAfter), p.name, alias, r.Addr, trust.ChainRole(j, c.SelfIssued), c.Subject, c.Issuer, c.Serial)
			}
		}
	}
	for _, ta := range f.Trust {
		for _, d := range []struct {
			direction string
			v         trust.Verdict
		}{{"local_trusts_remote", ta.LocalTrustsRemote}, {"remote_trusts_local", ta.RemoteTrustsLocal}} {
			add(descLinkTrust, g, 1, p.name, ta.Alias, d.direction, string(d.v.Status), string(d.v.Basis), string(d.v.Reason))
		}
		for _, side := range []struct {
			name    string
			met, ok bool
		}{{"local", ta.LocalMet, ta.LocalOK}, {"remote", ta.RemoteMet, ta.RemoteOK}} {
			if side.ok {
				add(descLinkPrerequisites, g, boolFloat(side.met), p.name, ta.Alias, side.name)
			}
		}
		if ta.EarliestOK {
			e := ta.Earliest
			add(descLinkEarliest, g, unixSeconds(e.NotAfter), p.name, ta.Alias, e.Side, e.Role, e.Subject, e.Serial)
		}
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

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
		for _, d := range []struct {
			direction string
			v         trust.Verdict
		}{{"local_trusts_remote", ta.LocalTrustsRemote}, {"remote_trusts_local", ta.RemoteTrustsLocal}} {
			problem := ""
			if d.v.Status == trust.Untrusted {
				problem = cmp.Or(d.v.Detail, string(d.v.Reason))
			}
			switch p.noteProblem("trust:"+ta.Alias+":"+d.direction, problem) {
			case appeared:
				p.logger.Warn("transport trust broken", "remote", ta.Alias, "direction", d.direction,
					"reason", d.v.Reason, "basis", d.v.Basis, "detail", d.v.Detail)
			case resolved:
				p.logger.Info("transport trust restored", "remote", ta.Alias, "direction", d.direction, "status", d.v.Status)
			}
		}
	}
}

// logListings logs, once per change, a node whose certificates could not be
// listed.
func (p *Poller) logListings(ls []nodeListing) {
	for _, l := range ls {
		problem := ""
		if l.err != nil {
			problem = l.err.Msg
		}
		switch p.noteProblem("listing:"+l.node, problem) {
		case appeared:
			p.logger.Warn("certificate listing failed", "node", l.node, "reason", l.err.Reason, "err", l.err.Msg,
				"fix", "the node's HTTP publish address must be reachable with the cluster's credentials and TLS settings (tls.server_name), or turn transport.certificates_from_all_nodes off")
		case resolved:
			p.logger.Info("certificate listing works again", "node", l.node)
		}
	}
}

// logRoles logs, once per change, a role that is not fit for its link. An
// unknown status (the roles could not be read) neither raises nor clears a
// problem: the failing read is logged as a check.
func (p *Poller) logRoles(fs []RoleFinding) {
	for _, f := range fs {
		if f.Status == RoleUnknown {
			continue
		}
		problem := ""
		switch f.Status {
		case string(rolecheck.StatusMissing):
			problem = "role does not exist"
		case string(rolecheck.StatusInsufficient):
			problem = "role lacks " + rolecheck.List(f.Result.Missing)
		}
		switch p.noteProblem("role:"+f.Alias+":"+f.Role+":"+string(f.Purpose)+":"+string(f.Side), problem) {
		case appeared:
			p.logger.Warn("link role not fit for its purpose", "remote", f.Alias, "role", f.Role, "purpose", f.Purpose,
				"side", f.Side, "on", f.Cluster, "problem", problem)
		case resolved:
			p.logger.Info("link role fit for its purpose again", "remote", f.Alias, "role", f.Role, "purpose", f.Purpose, "side", f.Side)
		}
	}
}

// logLinkSettings logs, once per change, a link that is not defined on
// every remote_cluster_client node or whose settings differ.
func (p *Poller) logLinkSettings(ls []LinkSettings) {
	for _, l := range ls {
		var problems []string
		if len(l.MissingOn) > 0 {
			problems = append(problems, "not defined on "+strings.Join(l.MissingOn, ","))
		}
		for _, c := range l.Conflicts {
			problems = append(problems, c.Setting+" "+strings.ReplaceAll(c.Kind, "_", " ")+": "+c.String())
		}
		problem := strings.Join(problems, " | ")
		switch p.noteProblem("settings:"+l.Alias, problem) {
		case appeared:
			p.logger.Warn("link settings inconsistent", "remote", l.Alias, "source", l.Source, "problem", problem)
		case resolved:
			p.logger.Info("link settings consistent again", "remote", l.Alias, "source", l.Source)
		}
	}
}
