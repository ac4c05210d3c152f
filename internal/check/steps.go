package check

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/internal/compat"
	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
	"github.com/es-remote-exporter/es_remote_exporter/internal/rolecheck"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// expiryWarning is how close a certificate's expiry must be to warn; the
// shipped alert rules warn at the same distance.
const expiryWarning = 30 * 24 * time.Hour

// Step 1: security and transport TLS on every node of both sides, and
// versions that can talk to each other.
func (b *linkBuilder) prerequisites() []Finding {
	if b.apiKeyModel() {
		return append(b.apiKeyPrerequisites(), b.versions())
	}
	out := []Finding{b.security(b.cluster.Name, b.f)}
	switch rf := b.remoteFacts(); {
	case rf != nil:
		out = append(out, b.security(b.target(), rf))
	default:
		out = append(out, b.notMonitored("security settings"))
	}
	return append(out, b.versions())
}

// apiKeyPrerequisites is step 1 of "Add remote clusters using API key
// authentication": both clusters on 8.14+ with security on and the
// enterprise license (a trial allows it), and on the remote the remote
// cluster server enabled, with TLS, on every node.
func (b *linkBuilder) apiKeyPrerequisites() []Finding {
	side := func(cluster string, f *collector.Facts, remote bool) Finding {
		if len(f.Security) == 0 {
			return Finding{Status: Warn, Summary: "API-key model prerequisites of " + cluster + " unknown: its node settings were not read"}
		}
		var problems []string
		if !f.License.AllowsAPIKeyModel() {
			what := "unknown"
			if f.License != nil {
				what = f.License.Mode + ", " + f.License.Status
			}
			problems = append(problems, "the license ("+what+") does not include the API-key model (enterprise, or a trial)")
		}
		var old, noSec, noRCS []string
		for _, n := range f.Security {
			if v, err := esversion.Parse(n.Version); err != nil || !v.AtLeast(8, 14) {
				old = append(old, n.Node+" ("+n.Version+")")
			}
			if !n.SecurityEnabled {
				noSec = append(noSec, n.Node)
			}
			if remote && !n.RemoteClusterServerTLS {
				noRCS = append(noRCS, n.Node)
			}
		}
		if len(old) > 0 {
			problems = append(problems, "nodes before 8.14, where the model is GA: "+strings.Join(old, ", "))
		}
		if len(noSec) > 0 {
			problems = append(problems, "security is off on "+strings.Join(noSec, ", "))
		}
		if len(noRCS) > 0 {
			problems = append(problems, "no remote cluster server (remote_cluster_server.enabled with TLS) on "+strings.Join(noRCS, ", "))
		}
		if len(problems) == 0 {
			what := "8.14+, security on and a license with the API-key model"
			if remote {
				what += ", and the remote cluster server with TLS on every node"
			}
			return Finding{Status: OK, Summary: fmt.Sprintf("%s meets the API-key model's prerequisites: %s", cluster, what)}
		}
		fd := Finding{Status: Fail, Summary: cluster + " does not meet the API-key model's prerequisites", Evidence: problems,
			Fix: "upgrade to 8.14 or later, enable security, install an enterprise license"}
		if remote {
			fd.Fix += ", and set remote_cluster_server.enabled: true (remote_cluster.port, default 9443; remote_cluster.host reachable from " +
				b.cluster.Name + ") on every node of " + cluster
		}
		return fd
	}
	out := []Finding{side(b.cluster.Name, b.f, false)}
	if rf := b.remoteFacts(); rf != nil {
		out = append(out, side(b.target(), rf, true))
	} else {
		out = append(out, b.notMonitored("remote cluster server settings"))
	}
	return out
}

func (b *linkBuilder) security(cluster string, f *collector.Facts) Finding {
	if len(f.Security) == 0 {
		fd := Finding{Status: Warn, Summary: "security settings of " + cluster + " unknown"}
		if err := b.checkErr(f, collector.CheckPrerequisites); err != nil {
			fd.Evidence, fd.Fix = []string{err.Msg}, err.Hint
		}
		return fd
	}
	var noSecurity, noTLS []string
	for _, n := range f.Security {
		switch {
		case !n.SecurityEnabled:
			noSecurity = append(noSecurity, n.Node)
		case !n.TransportTLS:
			noTLS = append(noTLS, n.Node)
		}
	}
	switch {
	case len(noSecurity) > 0:
		return Finding{Status: Fail,
			Summary:  fmt.Sprintf("security is off on %s of %s", plural(len(noSecurity), "node", "nodes"), cluster),
			Evidence: []string{"nodes: " + strings.Join(noSecurity, ", ")},
			Fix:      "set xpack.security.enabled: true and transport TLS (xpack.security.transport.ssl.*) in elasticsearch.yml of those nodes, then restart them one by one"}
	case len(noTLS) > 0:
		return Finding{Status: Fail,
			Summary:  fmt.Sprintf("transport TLS is off on %s of %s", plural(len(noTLS), "node", "nodes"), cluster),
			Evidence: []string{"nodes: " + strings.Join(noTLS, ", ")},
			Fix:      "set xpack.security.transport.ssl.enabled: true with the node's certificate and the CAs it trusts in elasticsearch.yml of those nodes, then restart them one by one"}
	}
	return Finding{Status: OK, Summary: fmt.Sprintf("security and transport TLS on every node of %s (%d)", cluster, len(f.Security))}
}

func (b *linkBuilder) versions() Finding {
	a := b.analysis()
	switch {
	case a == nil:
		return Finding{Status: Warn, Summary: "versions not judged: the link is not in GET /_remote/info"}
	case !a.Judged && b.remoteFacts() != nil:
		// The remote is monitored: its own poll says why its nodes are unknown.
		return Finding{Status: Warn, Summary: "versions not judged: the versions of " + b.target() + "'s nodes are unknown",
			Fix: "see " + b.target() + "'s findings under Clusters: its GET /_nodes failed"}
	case !a.Judged:
		return Finding{Status: Warn, Summary: "versions not judged: the remote's version is unknown",
			Fix: "monitor the remote cluster too (clusters[] and clusters[].links." + b.alias + ".cluster); on 8.13+ GET /_resolve/cluster also reports it once the remote is reachable"}
	}
	// The analysis keeps statuses only; Judge words each rule's worst pair.
	wire := compat.Judge(a.Wire.Local, a.Wire.Remote)
	supported := compat.Judge(a.Supported.Local, a.Supported.Remote)
	for _, p := range []struct {
		pair compat.Pair
		v    compat.Verdict
		what string
	}{{wire, wire.Wire, "versions cannot connect (wire)"}, {supported, supported.Supported, "versions are not a supported pair"}} {
		if p.v.Status == compat.Incompatible {
			return Finding{Status: Fail,
				Summary:  fmt.Sprintf("%s: local %s, remote %s", p.what, p.pair.Local, p.pair.Remote),
				Evidence: nonEmpty(p.v.Rule),
				Fix:      "upgrade so that every local/remote node pair is compatible; `es_remote_exporter compat LOCAL REMOTE` and `plan-upgrade` show which versions are"}
		}
	}
	local, remote := supported.Local, supported.Remote
	if supported.Supported.Status == compat.Unknown {
		return Finding{Status: Warn, Summary: fmt.Sprintf("versions not covered by any compatibility rule: local %s, remote %s", local, remote),
			Evidence: nonEmpty(supported.Supported.Rule)}
	}
	return Finding{Status: OK, Summary: fmt.Sprintf("versions compatible (worst pair: local %s, remote %s)", local, remote),
		Evidence: nonEmpty(supported.Supported.Rule, wire.Wire.Rule)}
}

func nonEmpty(items ...string) []string {
	var out []string
	for _, s := range items {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Step 2: each side trusts the other's transport certificate, and none of
// the certificates the link depends on is about to expire.
func (b *linkBuilder) trust() []Finding {
	ta := byAlias(b.f.Trust, b.alias, func(t *collector.TrustAnalysis) string { return t.Alias })
	if ta == nil {
		return []Finding{{Status: Warn, Summary: "trust not judged: the link is not in GET /_remote/info, so its transport endpoints are unknown"}}
	}
	local, remote := b.cluster.Name, b.remoteName()
	out := []Finding{trustFinding(ta.LocalTrustsRemote, local, remote, b.alias)}
	if ta.APIKey {
		// The API-key model's TLS is one way: the remote cluster server asks
		// for no client certificate.
		out = append(out, Finding{Status: OK,
			Summary: "the remote does not need to trust " + local + ": an API-key link authenticates with its cross-cluster key, over TLS that asks no client certificate"})
	} else {
		out = append(out, trustFinding(ta.RemoteTrustsLocal, remote, local, b.alias))
	}
	if !ta.EarliestOK {
		return append(out, Finding{Status: Warn, Summary: "certificate expiry unknown: no certificate of the link was seen"})
	}
	e := ta.Earliest
	left := e.NotAfter.Sub(b.now)
	fd := Finding{Status: OK,
		Summary:  fmt.Sprintf("earliest certificate expiry %s (%s)", e.NotAfter.UTC().Format(time.DateOnly), daysLeft(left)),
		Evidence: []string{fmt.Sprintf("%s side %s %q, serial %s", e.Side, e.Role, e.Subject, e.Serial)}}
	switch {
	case left <= 0:
		fd.Status, fd.Summary = Fail, fmt.Sprintf("a certificate of the link expired on %s", e.NotAfter.UTC().Format(time.DateOnly))
		fd.Fix = "renew it and reload it on every node of the " + e.Side + " cluster (xpack.security.transport.ssl.* files are reloaded when they change)"
		if ta.APIKey {
			fd.Fix = "renew it on every node of the " + e.Side + " cluster (xpack.security.remote_cluster_server.ssl.* on the remote, xpack.security.remote_cluster_client.ssl.certificate_authorities locally; the files are reloaded when they change)"
		}
	case left < expiryWarning:
		fd.Status = Warn
		fd.Fix = "renew it before then on every node of the " + e.Side + " cluster"
	}
	return append(out, fd)
}

// remoteName names the remote side: the monitored cluster, else the alias.
func (b *linkBuilder) remoteName() string {
	if t := b.target(); t != "" {
		return t
	}
	return "remote " + b.alias
}

func daysLeft(d time.Duration) string {
	days := int(d.Hours() / 24)
	if d < 0 {
		return fmt.Sprintf("%s ago", plural(-days, "day", "days"))
	}
	return "in " + plural(days, "day", "days")
}

// trustFinding words one direction: verifier accepts peer's certificate.
func trustFinding(v trust.Verdict, verifier, peer, alias string) Finding {
	what := fmt.Sprintf("%s trusts %s's transport certificate", verifier, peer)
	var evidence []string
	if v.Detail != "" {
		evidence = append(evidence, v.Detail)
	}
	evidence = append(evidence, "judged by "+strings.ReplaceAll(string(v.Basis), "_", " "))
	switch v.Status {
	case trust.Trusted:
		return Finding{Status: OK, Summary: what, Evidence: evidence}
	case trust.Untrusted:
		return Finding{Status: Fail, Summary: fmt.Sprintf("%s does not trust %s's transport certificate (%s)", verifier, peer, strings.ReplaceAll(string(v.Reason), "_", " ")),
			Evidence: evidence, Fix: trustFix(v.Reason, verifier, peer, alias)}
	}
	return Finding{Status: Warn, Summary: fmt.Sprintf("unknown whether %s trusts %s's transport certificate", verifier, peer),
		Evidence: evidence}
}

func trustFix(r trust.Reason, verifier, peer, alias string) string {
	switch r {
	case trust.ReasonUnknownCA, trust.ReasonRejectedByPeer:
		return fmt.Sprintf("add the CA that issued %s's transport certificates to xpack.security.transport.ssl.certificate_authorities (or truststore) on every node of %s, or re-issue them from a CA %s trusts", peer, verifier, verifier)
	case trust.ReasonExpired:
		return fmt.Sprintf("renew %s's transport certificate (or the CA that expired) and put it on every node", peer)
	case trust.ReasonNotYetValid:
		return fmt.Sprintf("check the clocks of %s and %s, or re-issue the certificate with a not-before in the past", peer, verifier)
	case trust.ReasonWrongUsage:
		return fmt.Sprintf("re-issue %s's transport certificate with both serverAuth and clientAuth extended key usage (or none), as elasticsearch-certutil does", peer)
	case trust.ReasonMissingIntermediate:
		return fmt.Sprintf("make %s's nodes present the full chain (certificate and intermediates), or add the intermediate CA to %s's certificate_authorities", peer, verifier)
	case trust.ReasonHostname:
		return fmt.Sprintf("with verification_mode full the certificate must name the address %s dials: add it to the certificate's subjectAltName, or set cluster.remote.%s.server_name", verifier, alias)
	}
	return ""
}

// Step 3: the link is defined the same way on every node that may use
// it, and Elasticsearch reaches the remote.
func (b *linkBuilder) connect() []Finding {
	out := b.connection()
	out = append(out, b.definitions()...)
	if fd, ok := b.deprecatedModel(); ok {
		out = append(out, fd)
	}
	return append(out, b.replication()...)
}

// notReading is how long a follower behind its leader may go without a
// read before check calls it stuck (the alert ESRemoteCCRFollowerNotReading
// waits as long; a healthy follower reads at least once a minute).
const notReading = 5 * time.Minute

// replication reports the follower indices of the local cluster that
// replicate through the link (GET _ccr/stats and _ccr/info), and the
// replication version rule.
func (b *linkBuilder) replication() []Finding {
	fs := b.f.CCR.FollowersOf(b.alias)
	if len(fs) == 0 {
		return nil
	}
	var out []Finding
	active := 0
	for _, fo := range fs {
		what := fmt.Sprintf("follower index %s (leader %s)", fo.Index, fo.Leader)
		switch {
		case fo.Fatal:
			out = append(out, Finding{Status: Fail, Summary: what + " stopped on a fatal exception", Evidence: []string{fo.FatalReason},
				Fix: "fix the cause, then POST " + fo.Index + "/_ccr/pause_follow and POST " + fo.Index + "/_ccr/resume_follow"})
		case fo.Status == "paused":
			out = append(out, Finding{Status: Warn, Summary: what + " is paused: it falls behind its leader",
				Fix: "POST " + fo.Index + "/_ccr/resume_follow, or unfollow it if the pause is meant to last"})
		case fo.Stats && fo.Lag > 0 && time.Duration(fo.SinceLastRead*float64(time.Second)) > notReading:
			out = append(out, Finding{Status: Fail,
				Summary:  fmt.Sprintf("%s is %d operations behind and has not read from the leader for %s", what, fo.Lag, time.Duration(fo.SinceLastRead*float64(time.Second)).Round(time.Second)),
				Evidence: []string{fmt.Sprintf("%.0f failed read requests since its tasks started", fo.FailedReads)},
				Fix:      "check this link's reachability and trust above, and GET " + fo.Index + "/_ccr/stats for its read exceptions"})
		default:
			active++
		}
	}
	if active > 0 {
		out = append([]Finding{{Status: OK, Summary: plural(active, "follower index replicates", "follower indices replicate") + " through this link"}}, out...)
	}
	if a := b.analysis(); a != nil && a.Followers && a.Judged && a.CCR.Status == compat.Incompatible {
		v := compat.CCR(a.CCRLocal, a.CCRRemote)
		out = append(out, Finding{Status: Fail, Summary: "the replication version rule is broken: " + v.Rule,
			Fix: "upgrade the follower cluster to at least the leader's version; upgrade followers first, leaders last"})
	}
	return out
}

// migrationAdvice says, for a certificate link of an 8.14+ cluster to a
// monitored remote on 8.14+ (the API-key model's GA), what moving it to the
// API-key model needs ("Migrate remote clusters from certificate to API key
// authentication"): not a problem, so an OK with the steps.
func (b *linkBuilder) migrationAdvice(local esversion.Version) (Finding, bool) {
	rf := b.remoteFacts()
	if !local.AtLeast(8, 14) || rf == nil || rf.Identity == nil {
		return Finding{}, false
	}
	if rv, err := esversion.Parse(rf.Identity.Version.Number); err != nil || !rv.AtLeast(8, 14) {
		return Finding{}, false
	}
	return Finding{Status: OK,
		Summary: "the link could move to the API-key model, which Elastic now recommends (both clusters run 8.14 or later)",
		Evidence: []string{"migration needs: an enterprise license on both clusters; remote_cluster_server.enabled on every node of " + b.target() +
			" (port 9443, its own TLS certificate); a cross-cluster API key from " + b.target() + " in " + b.cluster.Name +
			"'s keystore as cluster.remote." + b.alias + ".credentials; seeds or proxy_address at the remote cluster server; remote_indices in the local users' roles"},
		Fix: migrateDoc}, true
}

// migrateDoc is Elastic's guide from the certificate to the API key model.
const migrateDoc = "https://www.elastic.co/docs/deploy-manage/remote-clusters/remote-clusters-migrate"

// deprecatedModel warns about a link of a 9.x cluster that uses the
// certificate security model, deprecated in 9.0 (the alert
// ESRemoteLinkCertificateAuthDeprecated says the same).
func (b *linkBuilder) deprecatedModel() (Finding, bool) {
	ri := b.remoteInfo()
	if ri == nil || ri.Auth() != "certificate" || b.f.Identity == nil {
		return Finding{}, false
	}
	v, err := esversion.Parse(b.f.Identity.Version.Number)
	if err != nil {
		return Finding{}, false
	}
	if v.Major < 9 {
		return b.migrationAdvice(v)
	}
	return Finding{Status: Warn,
		Summary:  fmt.Sprintf("the link uses the certificate security model, deprecated since Elasticsearch 9.0 (%s runs %s)", b.cluster.Name, v),
		Evidence: []string{"GET /_remote/info: no cluster_credentials for " + b.alias},
		Fix:      "migrate the link to API key authentication (a cross-cluster API key and the remote cluster server port 9443): " + migrateDoc}, true
}

func (b *linkBuilder) connection() []Finding {
	if err := b.checkErr(b.f, collector.CheckRemoteInfo); err != nil {
		return []Finding{{Status: Warn, Summary: "connection state unknown: GET /_remote/info failed", Evidence: []string{err.Msg}, Fix: err.Hint}}
	}
	ri := b.remoteInfo()
	if ri == nil {
		if b.f.Identity == nil {
			return []Finding{{Status: Warn, Summary: "connection state unknown: the cluster did not answer"}}
		}
		if b.settings() != nil {
			// Defined on other nodes: the definitions finding says where
			// and what to do.
			return []Finding{{Status: Fail,
				Summary:  fmt.Sprintf("%s, the node that answered GET /_remote/info, does not know %s", b.f.Identity.NodeName, b.alias),
				Evidence: []string{"GET /_remote/info has no entry " + b.alias}}}
		}
		return []Finding{{Status: Fail,
			Summary:  fmt.Sprintf("%s is not a remote cluster on the node that answered (%s)", b.alias, b.f.Identity.NodeName),
			Evidence: []string{"GET /_remote/info has no entry " + b.alias},
			Fix: fmt.Sprintf(`define it on every node: PUT _cluster/settings {"persistent":{"cluster.remote.%s.seeds":["<remote node>:9300"]}} (sniff mode), or mode proxy with proxy_address`,
				b.alias)}}
	}
	ev := []string{"mode " + ri.Mode + ", authenticates with " + strings.ReplaceAll(ri.Auth(), "_", " ")}
	switch {
	case ri.ProxyAddress != nil:
		ev = append(ev, "proxy_address "+*ri.ProxyAddress)
	default:
		ev = append(ev, "seeds "+joinOr(ri.Seeds, "(none)"))
	}
	if ri.NumNodesConnected != nil {
		ev = append(ev, plural(int(*ri.NumNodesConnected), "remote node", "remote nodes")+" connected")
	}
	if ri.NumProxySocketsConnected != nil {
		ev = append(ev, plural(int(*ri.NumProxySocketsConnected), "proxy socket", "proxy sockets")+" connected")
	}
	res := b.resolved()
	fix := "check that every remote_cluster_client node reaches the remote's transport port (seeds or proxy_address), that the remote is up, and the trust step above"
	switch {
	case res != nil && res.Connected:
		return []Finding{{Status: OK, Summary: "reachable: GET /_resolve/cluster connected to the remote", Evidence: ev}}
	case res != nil && res.Denied():
		// Elasticsearch reports connected:false for any security exception:
		// a denial says nothing about the remote (the roles step has the fix).
		return []Finding{{Status: Warn, Summary: "reachability unknown: Elasticsearch denied the exporter's GET /_resolve/cluster towards the remote (see the roles step)",
			Evidence: ev}}
	case res != nil:
		if res.Error != "" {
			ev = append(ev, "GET /_resolve/cluster: "+res.Error)
		}
		return []Finding{{Status: Fail, Summary: "unreachable: GET /_resolve/cluster could not connect to the remote", Evidence: ev, Fix: fix}}
	case ri.Connected:
		return []Finding{{Status: OK, Summary: "connected (GET /_remote/info)", Evidence: ev}}
	}
	if err := b.checkErr(b.f, collector.CheckResolveCluster); err != nil {
		ev = append(ev, "GET /_resolve/cluster, which would test the link actively, failed: "+err.Msg)
		if err.Hint != "" {
			fix = err.Hint + "; then " + fix
		}
	} else {
		ev = append(ev, "before 8.13 there is no GET /_resolve/cluster to test the link actively; Elasticsearch may also not have needed the link yet")
	}
	return []Finding{{Status: Warn, Summary: "not connected (GET /_remote/info)", Evidence: ev,
		Fix: "run a cross-cluster request (GET /" + b.alias + ":*/_search?size=0) and check again; if it fails: " + fix}}
}

// definitions reports where the link is defined and whether every node
// that may coordinate a cross-cluster request has the same definition.
func (b *linkBuilder) definitions() []Finding {
	ls := b.settings()
	if ls == nil {
		if b.f.LinkSettings == nil {
			fd := Finding{Status: Warn, Summary: "where the link is defined is unknown"}
			for _, c := range []string{collector.CheckClusterSettings, collector.CheckPrerequisites} {
				if err := b.checkErr(b.f, c); err != nil {
					fd.Evidence, fd.Fix = append(fd.Evidence, err.Msg), err.Hint
				}
			}
			return []Finding{fd}
		}
		return []Finding{{Status: Fail, Summary: "the link is defined neither in the cluster settings nor in any node's elasticsearch.yml",
			Fix: fmt.Sprintf(`define it: PUT _cluster/settings {"persistent":{"cluster.remote.%s.seeds":["<remote node>:9300"]}}`, b.alias)}}
	}
	source := map[string]string{
		collector.SourceDynamic: "in the cluster settings",
		collector.SourceStatic:  "in elasticsearch.yml of " + joinOr(ls.StaticOn, "no node"),
		collector.SourceBoth:    "in the cluster settings and in elasticsearch.yml of " + joinOr(ls.StaticOn, "no node"),
	}[ls.Source]
	var out []Finding
	if len(ls.MissingOn) > 0 {
		out = append(out, Finding{Status: Fail,
			Summary: fmt.Sprintf("defined on %d of %s: cross-cluster requests coordinated by %s fail",
				ls.Defined, plural(ls.Eligible, "remote_cluster_client node", "remote_cluster_client nodes"), strings.Join(ls.MissingOn, ", ")),
			Evidence: []string{"defined " + source, "missing on " + strings.Join(ls.MissingOn, ", ")},
			Fix: fmt.Sprintf("define it dynamically so every node has it (PUT _cluster/settings with persistent cluster.remote.%s.*), or add it to elasticsearch.yml of %s and restart them",
				b.alias, strings.Join(ls.MissingOn, ", "))})
	} else {
		out = append(out, Finding{Status: OK,
			Summary:  fmt.Sprintf("defined on all %s", plural(ls.Eligible, "remote_cluster_client node", "remote_cluster_client nodes")),
			Evidence: []string{"defined " + source}})
	}
	for _, c := range ls.Conflicts {
		fd := Finding{Status: Warn, Evidence: []string{c.String()}}
		key := "cluster.remote." + b.alias + "." + c.Setting
		if c.Kind == collector.ConflictBetweenNodes {
			fd.Summary = c.Setting + " differs between nodes"
			fd.Fix = fmt.Sprintf("make %s the same in elasticsearch.yml of every node, or set it dynamically (PUT _cluster/settings), which every node applies", key)
		} else {
			fd.Summary = c.Setting + " in elasticsearch.yml differs from the cluster setting that overrides it"
			fd.Fix = fmt.Sprintf("remove %s from elasticsearch.yml of %s (or make it equal): it is overridden now, and comes back if the cluster setting is removed",
				key, strings.Join(nodesOf(c.Values[1:]), ", "))
		}
		out = append(out, fd)
	}
	return out
}

// settings is where the link is defined; nil when nowhere or unknown.
func (b *linkBuilder) settings() *collector.LinkSettings {
	return byAlias(b.f.LinkSettings, b.alias, func(l *collector.LinkSettings) string { return l.Alias })
}

func nodesOf(vs []collector.SettingValue) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Nodes...)
	}
	return out
}

// apiKeyRoleFinding is roleFinding for a link in the API-key model, whose
// fixes are remote_indices locally and the key's access on the remote
// ("Add remote clusters using API key authentication").
func apiKeyRoleFinding(rf collector.RoleFinding, what string, ev []string) Finding {
	if rf.Side == rolecheck.SideRemote {
		if rf.Status == string(rolecheck.StatusMissing) {
			return Finding{Status: Fail, Summary: what + ": the remote does not list the key as a cross-cluster API key", Evidence: ev,
				Fix: "ask the remote's administrator for a cross-cluster API key (POST _security/cross_cluster/api_key) with " + string(rf.Purpose) +
					" access, put it in the keystore of every node as cluster.remote." + rf.Alias + ".credentials, then POST _nodes/reload_secure_settings"}
		}
		return Finding{Status: Fail, Summary: what + ": the key grants no " + string(rf.Purpose) + " access", Evidence: ev,
			Fix: "update the key's access on " + rf.Cluster + " (PUT _security/cross_cluster/api_key/<id>) to include " + string(rf.Purpose) + " on the indices the link's users need"}
	}
	if rf.Status == string(rolecheck.StatusMissing) {
		return Finding{Status: Fail, Summary: what + ": does not exist", Evidence: ev,
			Fix: fmt.Sprintf(`create it on %s: PUT _security/role/%s {"remote_indices":[{"clusters":[%q],"names":["<indices>"],"privileges":[%s]}]}`,
				rf.Cluster, rf.Role, rf.Alias, quoteJoin(rolecheck.RequiredRemote(rf.Purpose)))}
	}
	var remote []string
	for _, m := range rf.Result.Missing {
		if m.Scope == rolecheck.ScopeRemoteIndices {
			remote = append(remote, m.Name)
		}
	}
	fix := fmt.Sprintf("add to role %s on %s", rf.Role, rf.Cluster)
	if len(remote) > 0 {
		fix += fmt.Sprintf(` a remote_indices entry {"clusters":[%q],"names":["<indices>"],"privileges":[%s]}`, rf.Alias, quoteJoin(remote))
	}
	if len(remote) < len(rf.Result.Missing) {
		fix += " and the follower-side privileges it lacks (" + rolecheck.List(rf.Result.Missing) + ")"
	}
	return Finding{Status: Fail, Summary: what + ": lacks " + rolecheck.List(rf.Result.Missing), Evidence: ev, Fix: fix}
}

func quoteJoin(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ",")
}

// Step 4: the roles the link's users rely on exist on both sides with what
// each side needs.
func (b *linkBuilder) roles() []Finding {
	if res := b.resolved(); res != nil && res.Denied() {
		// The exporter's own access is a role question too, and the one
		// this step can always judge.
		return append([]Finding{{Status: Warn,
			Summary:  "the exporter's user may not run GET /_resolve/cluster towards " + b.alias,
			Evidence: []string{"GET /_resolve/cluster: " + res.Error},
			Fix:      collector.ResolveDeniedFix}}, b.linkRoles()...)
	}
	return b.linkRoles()
}

// linkRoles judges the roles configured for the link's users.
func (b *linkBuilder) linkRoles() []Finding {
	lc := b.cluster.Links[b.alias]
	apiKey := b.apiKeyModel()
	if len(lc.Roles.Search)+len(lc.Roles.Replication) == 0 {
		if apiKey {
			// Not a step of this link: the remote authorizes with the key.
			return []Finding{{Status: OK, Summary: "not applicable: the link authenticates with a cross-cluster API key, whose access the remote authorizes with"}}
		}
		// Not asked for: not a warning. The report says once which links.
		b.noRoles = true
		return []Finding{{Status: OK, Summary: "not checked: no roles configured for this link (see the note at the end)"}}
	}
	var out []Finding
	for _, rf := range b.f.RoleFindings {
		if rf.Alias == b.alias {
			out = append(out, roleFinding(rf))
		}
	}
	if len(out) == 0 {
		fd := Finding{Status: Warn, Summary: "roles not judged in this poll"}
		if err := b.checkErr(b.f, collector.CheckRoles); err != nil {
			fd.Evidence, fd.Fix = []string{err.Msg}, err.Hint
		}
		if err := b.checkErr(b.f, collector.CheckRemoteInfo); err != nil {
			fd.Evidence = append(fd.Evidence, "roles are judged with the transport round, which waits for GET /_remote/info: "+err.Msg)
		}
		out = append(out, fd)
	}
	return out
}

func roleFinding(rf collector.RoleFinding) Finding {
	what := fmt.Sprintf("role %s for %s on %s (%s side)", rf.Role, rf.Purpose, rf.Cluster, rf.Side)
	if rf.APIKey {
		// The API-key model: remote_indices locally, the key's access remotely.
		what = fmt.Sprintf("role %s for %s on %s (local side, API-key model: remote_indices for %s)", rf.Role, rf.Purpose, rf.Cluster, rf.Alias)
		if rf.Side == rolecheck.SideRemote {
			what = fmt.Sprintf("%s for %s (remote side, API-key model: the key's access on %s)", rf.Role, rf.Purpose, rf.Cluster)
		}
	}
	if rf.Kibana {
		what += ", Kibana variant"
	}
	var ev []string
	if len(rf.Result.Indices) > 0 {
		ev = append(ev, "index privileges judged on "+strings.Join(rf.Result.Indices, ", "))
	}
	if len(rf.Result.Unjudged) > 0 {
		ev = append(ev, "privileges the check cannot interpret (they may grant what is missing): "+strings.Join(rf.Result.Unjudged, ", "))
	}
	ev = append(ev, rf.Result.Notes...)
	if rf.APIKey && rf.Status != string(rolecheck.StatusOK) && rf.Status != collector.RoleUnknown {
		return apiKeyRoleFinding(rf, what, ev)
	}
	switch rf.Status {
	case string(rolecheck.StatusOK):
		return Finding{Status: OK, Summary: what, Evidence: ev}
	case string(rolecheck.StatusMissing):
		ev = append(ev, "GET /_security/role sees native roles only: a role defined in roles.yml is reported missing")
		return Finding{Status: Fail, Summary: what + ": does not exist", Evidence: ev,
			Fix: fmt.Sprintf("create it on %s (same name on both clusters): PUT _security/role/%s %s",
				rf.Cluster, rf.Role, roleTemplate(rf.Purpose, rf.Side, rf.Kibana))}
	case string(rolecheck.StatusInsufficient):
		var cluster, indices []string
		for _, m := range rf.Result.Missing {
			if m.Scope == "cluster" {
				cluster = append(cluster, m.Name)
			} else {
				indices = append(indices, m.Name)
			}
		}
		var add []string
		if len(cluster) > 0 {
			add = append(add, "cluster privileges "+strings.Join(cluster, ", "))
		}
		if len(indices) > 0 {
			on := "the " + string(rf.Purpose) + " indices"
			if len(rf.Result.Indices) > 0 {
				on = strings.Join(rf.Result.Indices, ", ")
			}
			add = append(add, "index privileges "+strings.Join(indices, ", ")+" on "+on)
		}
		st := Fail
		if len(rf.Result.Unjudged) > 0 {
			st = Warn
		}
		return Finding{Status: st, Summary: what + ": lacks " + rolecheck.List(rf.Result.Missing), Evidence: ev,
			Fix: fmt.Sprintf("add %s to role %s on %s (PUT _security/role/%s)", strings.Join(add, " and "), rf.Role, rf.Cluster, rf.Role)}
	}
	return Finding{Status: Warn, Summary: what + ": unknown", Evidence: append([]string{rf.Why}, ev...)}
}

// roleTemplate is the body of a role granting what the spec lists for the
// purpose and side, with a placeholder for the index names.
func roleTemplate(p rolecheck.Purpose, s rolecheck.Side, kibana bool) string {
	cluster, indices := rolecheck.Required(p, s, kibana)
	body := map[string]any{}
	if len(cluster) > 0 {
		body["cluster"] = cluster
	}
	if len(indices) > 0 {
		body["indices"] = []map[string]any{{"names": []string{"<indices>"}, "privileges": indices}}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<indices>" stays readable
	_ = enc.Encode(body)     // maps of strings cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}
