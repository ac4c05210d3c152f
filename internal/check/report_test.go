package check

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/compat"
	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
	"github.com/es-remote-exporter/es_remote_exporter/internal/rolecheck"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// The golden files of cmd/es_remote_exporter cover a realistic fleet end to
// end; these cases cover the findings that fleet does not produce, on
// hand-made facts.

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func identity(node, version string) *collector.Identity {
	id := &collector.Identity{NodeName: node}
	id.Version.Number = version
	return id
}

// healthy returns the facts of a local cluster "eu" whose link "us" to the
// monitored cluster "us" passes every step, and us's facts.
func healthy() (*config.Config, map[string]*collector.Facts) {
	cfg := &config.Config{Clusters: []config.Cluster{
		{Name: "eu", Links: map[string]config.Link{"us": {Cluster: "us", Roles: config.LinkRoles{Search: []string{"remote-search"}}}}},
		{Name: "us"},
	}}
	seed := "10.0.0.1:9300"
	judge := func(local, remote string) collector.LinkAnalysis {
		s, w, ok := compat.Worst([]esversion.Version{esversion.MustParse(local)}, []esversion.Version{esversion.MustParse(remote)})
		return collector.LinkAnalysis{Alias: "us", Target: "us", Match: collector.MatchConfig, Judged: ok, Supported: s, Wire: w}
	}
	trusted := trust.Verdict{Status: trust.Trusted, Basis: trust.BasisFiles}
	eu := &collector.Facts{
		Identity:  identity("eu-1", "8.19.7"),
		SlowFacts: collector.SlowFacts{Security: []collector.NodeSecurity{{Node: "eu-1", SecurityEnabled: true, TransportTLS: true}}},
		Links:     []collector.RemoteLink{{Alias: "us", Connected: true, Mode: "sniff", Seeds: []string{seed}}},
		Resolved:  []collector.Resolved{{Alias: "us", Connected: true}},
		Analyses:  []collector.LinkAnalysis{judge("8.19.7", "9.1.5")},
		Trust: []collector.TrustAnalysis{{Alias: "us", LocalTrustsRemote: trusted, RemoteTrustsLocal: trusted,
			Earliest:   trust.CertRef{Side: trust.SideRemote, Role: trust.RoleLeaf, Subject: "CN=us-1", Serial: "01", NotAfter: now.AddDate(1, 0, 0)},
			EarliestOK: true}},
		LinkSettings: []collector.LinkSettings{{Alias: "us", Source: collector.SourceDynamic, Defined: 1, Eligible: 1}},
		RoleFindings: []collector.RoleFinding{
			{Alias: "us", Role: "remote-search", Purpose: rolecheck.PurposeSearch, Side: rolecheck.SideLocal, Cluster: "eu", Status: "ok"},
			{Alias: "us", Role: "remote-search", Purpose: rolecheck.PurposeSearch, Side: rolecheck.SideRemote, Cluster: "us", Status: "ok"},
		},
	}
	us := &collector.Facts{
		Identity:  identity("us-1", "9.1.5"),
		SlowFacts: collector.SlowFacts{Security: []collector.NodeSecurity{{Node: "us-1", SecurityEnabled: true, TransportTLS: true}}},
	}
	return cfg, map[string]*collector.Facts{"eu": eu, "us": us}
}

// finding returns the link eu -> us's findings of a step.
func findings(t *testing.T, r Report, step string) []Finding {
	t.Helper()
	for _, l := range r.Links {
		if l.Cluster != "eu" || l.Remote != "us" {
			continue
		}
		for _, s := range l.Steps {
			if s.Name == step {
				return s.Findings
			}
		}
	}
	t.Fatalf("no step %s for eu -> us in %+v", step, r.Links)
	return nil
}

// has reports whether some finding has the status and mentions every
// fragment in its summary, evidence or fix.
func has(fs []Finding, st Status, fragments ...string) bool {
	for _, f := range fs {
		text := f.Summary + "|" + strings.Join(f.Evidence, "|") + "|" + f.Fix
		ok := f.Status == st
		for _, frag := range fragments {
			ok = ok && strings.Contains(text, frag)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestHealthyLinkPasses(t *testing.T) {
	cfg, facts := healthy()
	r := Build(cfg, facts, now)
	if r.Status != OK {
		var b bytes.Buffer
		_ = WriteText(&b, r)
		t.Fatalf("status %s, want OK:\n%s", r.Status, b.String())
	}
}

func TestFindings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mutate    func(eu, us *collector.Facts)
		step      string
		status    Status
		fragments []string
	}{
		{"transport TLS off on a remote node", func(_, us *collector.Facts) {
			us.Security = append(us.Security, collector.NodeSecurity{Node: "us-2", SecurityEnabled: true})
		}, StepPrerequisites, Fail, []string{"transport TLS is off on 1 node of us", "us-2", "xpack.security.transport.ssl.enabled"}},
		{"security off on a local node", func(eu, _ *collector.Facts) {
			eu.Security[0].SecurityEnabled = false
		}, StepPrerequisites, Fail, []string{"security is off", "eu-1", "xpack.security.enabled: true"}},
		{"node settings unreadable", func(eu, _ *collector.Facts) {
			eu.Security = nil
			eu.Checks = []collector.CheckResult{{Check: collector.CheckPrerequisites, Err: &collector.CheckError{
				Reason: collector.ReasonForbidden, Msg: "GET /_nodes/_all/settings: HTTP 403", Hint: "grant monitor"}}}
		}, StepPrerequisites, Warn, []string{"security settings of eu unknown", "HTTP 403", "grant monitor"}},
		{"unsupported versions", func(eu, _ *collector.Facts) {
			s, w, _ := compat.Worst([]esversion.Version{esversion.MustParse("9.1.5")}, []esversion.Version{esversion.MustParse("8.18.2")})
			eu.Analyses[0].Supported, eu.Analyses[0].Wire = s, w
		}, StepPrerequisites, Fail, []string{"versions cannot connect (wire): local 9.1.5, remote 8.18.2", "plan-upgrade"}},
		{"unsupported but wire-compatible versions", func(eu, _ *collector.Facts) {
			s, w, _ := compat.Worst([]esversion.Version{esversion.MustParse("9.1.5")}, []esversion.Version{esversion.MustParse("8.19.7")})
			eu.Analyses[0].Supported, eu.Analyses[0].Wire = s, w
		}, StepPrerequisites, Fail, []string{"versions are not a supported pair: local 9.1.5, remote 8.19.7", "not supported by the compatibility table"}},
		{"versions of a monitored remote unknown", func(eu, _ *collector.Facts) {
			eu.Analyses[0].Judged = false
		}, StepPrerequisites, Warn, []string{"the versions of us's nodes are unknown", "see us's findings under Clusters"}},
		{"9.x link on the deprecated certificate model", func(eu, _ *collector.Facts) {
			eu.Identity = identity("eu-1", "9.1.5")
		}, StepConnect, Warn, []string{"certificate security model, deprecated since Elasticsearch 9.0 (eu runs 9.1.5)", "remote-clusters-migrate"}},
		{"remote rejects the local certificate", func(eu, _ *collector.Facts) {
			eu.Trust[0].RemoteTrustsLocal = trust.Verdict{Status: trust.Untrusted, Basis: trust.BasisHandshake,
				Reason: trust.ReasonRejectedByPeer, Detail: "remote sent alert bad_certificate"}
		}, StepTrust, Fail, []string{"us does not trust eu's transport certificate (rejected by peer)", "bad_certificate",
			"add the CA that issued eu's transport certificates", "on every node of us"}},
		{"hostname mismatch names server_name", func(eu, _ *collector.Facts) {
			eu.Trust[0].LocalTrustsRemote = trust.Verdict{Status: trust.Untrusted, Basis: trust.BasisFiles, Reason: trust.ReasonHostname}
		}, StepTrust, Fail, []string{"eu does not trust us's", "cluster.remote.us.server_name"}},
		{"trust unknown", func(eu, _ *collector.Facts) {
			eu.Trust[0].LocalTrustsRemote = trust.Verdict{Status: trust.Unknown, Basis: trust.BasisIssuerMatch, Reason: trust.ReasonNoData,
				Detail: "configure transport.ca_file"}
		}, StepTrust, Warn, []string{"unknown whether eu trusts us's", "configure transport.ca_file"}},
		{"certificate expires in 10 days", func(eu, _ *collector.Facts) {
			eu.Trust[0].Earliest.NotAfter = now.Add(10*24*time.Hour + time.Hour)
		}, StepTrust, Warn, []string{"earliest certificate expiry 2026-12-07 (in 10 days)", `"CN=us-1"`, "renew it before then"}},
		{"certificate expired", func(eu, _ *collector.Facts) {
			eu.Trust[0].Earliest.NotAfter = now.Add(-time.Hour)
		}, StepTrust, Fail, []string{"expired on 2026-11-27", "renew it"}},
		{"unreachable with the resolve error", func(eu, _ *collector.Facts) {
			eu.Resolved[0] = collector.Resolved{Alias: "us", Error: "connect_transport_exception"}
		}, StepConnect, Fail, []string{"unreachable", "connect_transport_exception", "seeds 10.0.0.1:9300"}},
		{"not connected before 8.13", func(eu, _ *collector.Facts) {
			eu.Resolved, eu.Links[0].Connected = nil, false
		}, StepConnect, Warn, []string{"not connected", "before 8.13", "GET /us:*/_search?size=0"}},
		{"not connected and resolve forbidden", func(eu, _ *collector.Facts) {
			eu.Resolved, eu.Links[0].Connected = nil, false
			eu.Checks = []collector.CheckResult{{Check: collector.CheckResolveCluster, Err: &collector.CheckError{
				Reason: collector.ReasonForbidden, Msg: "GET /_resolve/cluster: HTTP 403", Hint: "grant view_index_metadata"}}}
		}, StepConnect, Warn, []string{"not connected", "would test the link actively, failed: GET /_resolve/cluster: HTTP 403", "grant view_index_metadata; then"}},
		{"remote info failed", func(eu, _ *collector.Facts) {
			eu.Checks = []collector.CheckResult{{Check: collector.CheckRemoteInfo, Err: &collector.CheckError{
				Reason: collector.ReasonMissingRole, Msg: "GET /_remote/info: HTTP 400", Hint: "point urls at a node with the remote_cluster_client role"}}}
		}, StepConnect, Warn, []string{"GET /_remote/info failed", "remote_cluster_client"}},
		{"link defined nowhere", func(eu, _ *collector.Facts) {
			eu.Links, eu.Resolved, eu.LinkSettings = nil, nil, []collector.LinkSettings{}
		}, StepConnect, Fail, []string{"us is not a remote cluster on the node that answered (eu-1)", `"cluster.remote.us.seeds"`}},
		{"seeds differ between nodes", func(eu, _ *collector.Facts) {
			eu.LinkSettings[0].Conflicts = []collector.SettingConflict{{Setting: "seeds", Kind: collector.ConflictBetweenNodes,
				Values: []collector.SettingValue{{Value: "a:9300", Nodes: []string{"eu-1", "eu-2"}}, {Value: "", Nodes: []string{"eu-3"}}}}}
		}, StepConnect, Warn, []string{"seeds differs between nodes", "eu-1,eu-2 a:9300; eu-3 (not set)", "cluster.remote.us.seeds the same"}},
		{"api key link: the remote has no remote cluster server", func(eu, us *collector.Facts) {
			redacted := "::es_redacted::"
			eu.Links[0].ClusterCredentials = &redacted
			trial := &collector.License{Type: "trial", Mode: "trial", Status: "active"}
			eu.License, us.License = trial, trial
			eu.Security[0].Version, us.Security[0].Version = "8.19.7", "9.1.5"
		}, StepPrerequisites, Fail, []string{"us does not meet the API-key model's prerequisites", "no remote cluster server", "remote_cluster_server.enabled: true"}},
		{"api key link: the local role lacks remote_indices", func(eu, _ *collector.Facts) {
			redacted := "::es_redacted::"
			eu.Links[0].ClusterCredentials = &redacted
			eu.RoleFindings[0] = collector.RoleFinding{Alias: "us", Role: "remote-search", Purpose: rolecheck.PurposeSearch,
				Side: rolecheck.SideLocal, Cluster: "eu", APIKey: true, Status: string(rolecheck.StatusInsufficient), Result: rolecheck.Result{
					Status: rolecheck.StatusInsufficient, Missing: []rolecheck.Privilege{{Scope: "remote_indices", Name: "read_cross_cluster"}}}}
		}, StepRoles, Fail, []string{"API-key model: remote_indices for us", "lacks remote_indices:read_cross_cluster",
			`a remote_indices entry {"clusters":["us"],"names":["<indices>"],"privileges":["read_cross_cluster"]}`}},
		{"api key link: the key grants no search access", func(eu, _ *collector.Facts) {
			redacted := "::es_redacted::"
			eu.Links[0].ClusterCredentials = &redacted
			eu.RoleFindings[1] = collector.RoleFinding{Alias: "us", Role: "cross-cluster API key k1", Purpose: rolecheck.PurposeSearch,
				Side: rolecheck.SideRemote, Cluster: "us", APIKey: true, Status: string(rolecheck.StatusInsufficient), Result: rolecheck.Result{
					Status: rolecheck.StatusInsufficient, Missing: []rolecheck.Privilege{{Scope: "access", Name: "search"}}}}
		}, StepRoles, Fail, []string{"the key's access on us", "grants no search access", "PUT _security/cross_cluster/api_key/<id>"}},
		{"role missing on the remote", func(eu, _ *collector.Facts) {
			eu.RoleFindings[1].Status = string(rolecheck.StatusMissing)
		}, StepRoles, Fail, []string{"role remote-search for search on us (remote side): does not exist", "roles.yml",
			`PUT _security/role/remote-search {"indices":[{"names":["<indices>"],"privileges":["read","read_cross_cluster"]}]}`}},
		{"replication role lacks a cluster privilege", func(eu, _ *collector.Facts) {
			eu.RoleFindings[1] = collector.RoleFinding{Alias: "us", Role: "remote-replication", Purpose: rolecheck.PurposeReplication,
				Side: rolecheck.SideRemote, Cluster: "us", Status: string(rolecheck.StatusInsufficient), Result: rolecheck.Result{
					Status: rolecheck.StatusInsufficient, Missing: []rolecheck.Privilege{{Scope: "cluster", Name: "read_ccr"}, {Scope: "indices", Name: "monitor"}},
					Indices: []string{"leader-*"}}}
		}, StepRoles, Fail, []string{"lacks cluster:read_ccr, indices:monitor",
			"add cluster privileges read_ccr and index privileges monitor on leader-* to role remote-replication on us"}},
		{"privileges the check cannot read soften a failure", func(eu, _ *collector.Facts) {
			eu.RoleFindings[1].Status = string(rolecheck.StatusInsufficient)
			eu.RoleFindings[1].Result = rolecheck.Result{Status: rolecheck.StatusInsufficient,
				Missing: []rolecheck.Privilege{{Scope: "indices", Name: "read_cross_cluster"}}, Unjudged: []string{"indices:data/read/*"}}
		}, StepRoles, Warn, []string{"lacks indices:read_cross_cluster", "indices:data/read/*"}},
		{"roles unreadable", func(eu, _ *collector.Facts) {
			eu.RoleFindings[0].Status, eu.RoleFindings[0].Why = collector.RoleUnknown, "GET /_security/role: HTTP 403; grant read_security"
		}, StepRoles, Warn, []string{"(local side): unknown", "grant read_security"}},
		{"roles not judged", func(eu, _ *collector.Facts) {
			eu.RoleFindings = nil
			eu.Checks = []collector.CheckResult{{Check: collector.CheckRoles, Err: &collector.CheckError{
				Reason: collector.ReasonTimeout, Msg: "GET /_security/role: timeout"}}}
		}, StepRoles, Warn, []string{"roles not judged", "timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, facts := healthy()
			tc.mutate(facts["eu"], facts["us"])
			r := Build(cfg, facts, now)
			fs := findings(t, r, tc.step)
			if !has(fs, tc.status, tc.fragments...) {
				t.Errorf("step %s has no %s finding with %q:\n%+v", tc.step, tc.status, tc.fragments, fs)
			}
			if worst := r.Status; (tc.status == Fail) != (worst == Fail) {
				t.Errorf("report status %s with a %s finding", worst, tc.status)
			}
		})
	}
}

func TestUnreachableClusterFails(t *testing.T) {
	cfg, facts := healthy()
	facts["us"] = &collector.Facts{Checks: []collector.CheckResult{{Check: collector.CheckIdentity, Err: &collector.CheckError{
		Reason: collector.ReasonConnection, Msg: "GET /: connection refused", Hint: "check that Elasticsearch is running"}}}}
	r := Build(cfg, facts, now)
	if r.Status != Fail || r.Clusters[1].Status != Fail || !has(r.Clusters[1].Findings, Fail, "check identity failed (connection)", "connection refused") {
		t.Errorf("an unreachable cluster: %+v", r.Clusters[1])
	}
	// eu's link to it cannot judge the remote side.
	if !has(findings(t, r, StepPrerequisites), Warn, "security settings of us unknown") {
		t.Errorf("prerequisites of a link to an unreachable cluster: %+v", findings(t, r, StepPrerequisites))
	}
}

func TestTextWrapsAt80Columns(t *testing.T) {
	cfg, facts := healthy()
	facts["eu"].RoleFindings[1].Status = string(rolecheck.StatusMissing)
	var b bytes.Buffer
	if err := WriteText(&b, Build(cfg, facts, now)); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if len([]rune(line)) > width && strings.Contains(strings.TrimSpace(line), " ") {
			t.Errorf("line of %d columns with a place to break: %q", len([]rune(line)), line)
		}
	}
	if !strings.Contains(b.String(), "            fix: create it on us") {
		t.Errorf("fix not indented under its finding:\n%s", b.String())
	}
}

func TestJSONIsStable(t *testing.T) {
	cfg, facts := healthy()
	var b bytes.Buffer
	if err := WriteJSON(&b, Build(cfg, facts, now)); err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"format_version", "time", "status", "clusters", "links"} {
		if _, ok := generic[key]; !ok {
			t.Errorf("JSON report lacks %q", key)
		}
	}
	if generic["time"] != "2026-11-27T12:00:00Z" || generic["format_version"] != float64(1) {
		t.Errorf("time %v, format_version %v", generic["time"], generic["format_version"])
	}
	steps := generic["links"].([]any)[0].(map[string]any)["steps"].([]any)
	for i, want := range []string{StepPrerequisites, StepTrust, StepConnect, StepRoles} {
		if got := steps[i].(map[string]any)["name"]; got != want {
			t.Errorf("step %d is %v, want %s", i, got, want)
		}
	}
}

// TestMonitoredRemoteIsNotToldToBeMonitored: the advice to monitor the
// remote appears only where the remote is not monitored.
func TestMonitoredRemoteIsNotToldToBeMonitored(t *testing.T) {
	cfg, facts := healthy()
	facts["eu"].Analyses[0].Judged = false
	for _, f := range findings(t, Build(cfg, facts, now), StepPrerequisites) {
		if strings.Contains(f.Fix, "monitor the remote cluster too") {
			t.Errorf("us is monitored, yet: %+v", f)
		}
	}
	// Without the link's cluster in the configuration and no match, it is.
	cfg.Clusters[0].Links = nil
	facts["eu"].Analyses[0].Target = ""
	if !has(findings(t, Build(cfg, facts, now), StepPrerequisites), Warn, "remote's version is unknown", "monitor the remote cluster too") {
		t.Errorf("an unmonitored remote is not advised to be monitored: %+v", findings(t, Build(cfg, facts, now), StepPrerequisites))
	}
}

// TestCertificateModelOnlyOn9: 8.x links on the certificate model are not
// deprecated, and API key links on 9.x are not either.
func TestCertificateModelOnlyOn9(t *testing.T) {
	cfg, facts := healthy()
	if has(findings(t, Build(cfg, facts, now), StepConnect), Warn, "deprecated") {
		t.Error("an 8.19 cluster's certificate link is reported deprecated")
	}
	facts["eu"].Identity = identity("eu-1", "9.1.5")
	redacted := "::es_redacted::"
	facts["eu"].Links[0].ClusterCredentials = &redacted
	if has(findings(t, Build(cfg, facts, now), StepConnect), Warn, "deprecated") {
		t.Error("an API key link is reported deprecated")
	}
}

// TestNoRolesConfiguredIsSaidOnce: a link that names no roles is not a
// warning; the report says once which links were not checked, and API key
// links, whose remote authorizes with the key, are not among them.
func TestNoRolesConfiguredIsSaidOnce(t *testing.T) {
	cfg, facts := healthy()
	cfg.Clusters[0].Links = map[string]config.Link{"us": {Cluster: "us"}}
	facts["eu"].RoleFindings = nil
	// A second link, on the API key model, without roles either.
	redacted := "::es_redacted::"
	facts["eu"].Links = append(facts["eu"].Links, collector.RemoteLink{Alias: "asia", Connected: true, Mode: "proxy", ClusterCredentials: &redacted})
	r := Build(cfg, facts, now)
	for _, l := range r.Links {
		if l.Steps[3].Status != OK {
			t.Errorf("roles step of %s -> %s is %s, want OK: roles that were not asked for are no warning", l.Cluster, l.Remote, l.Steps[3].Status)
		}
		if l.Remote == "us" && l.Status != OK {
			t.Errorf("eu -> us is %s, want OK", l.Status)
		}
	}
	if !has(findings(t, r, StepRoles), OK, "not checked: no roles configured") {
		t.Errorf("roles step of eu -> us: %+v", findings(t, r, StepRoles))
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "Roles were not checked for 1 link, which name none: eu -> us.") {
		t.Errorf("notes %q, want one naming eu -> us only", r.Notes)
	}
	for _, l := range r.Links {
		if l.Remote != "asia" {
			continue
		}
		roles := l.Steps[3]
		if len(roles.Findings) != 1 || !strings.Contains(roles.Findings[0].Summary, "not applicable: the link authenticates with a cross-cluster API key") ||
			roles.Findings[0].Fix != "" {
			t.Errorf("an API key link is told about roles: %+v", roles)
		}
	}
	var b bytes.Buffer
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "Roles were not checked") != 1 || !strings.Contains(b.String(), "\nNote: Roles were not checked") {
		t.Errorf("the text report does not say it once at the end:\n%s", b.String())
	}
}

// TestInsecureSkipVerifyWarns: check warns like the daemon does.
func TestInsecureSkipVerifyWarns(t *testing.T) {
	cfg, facts := healthy()
	cfg.Clusters[1].TLS.InsecureSkipVerify = true
	r := Build(cfg, facts, now)
	if r.Clusters[1].Status != Warn || !has(r.Clusters[1].Findings, Warn, "tls.insecure_skip_verify", "set tls.ca_file") {
		t.Errorf("cluster us with insecure_skip_verify: %+v", r.Clusters[1])
	}
}

// A _resolve/cluster denial is reported as the exporter's access problem
// in the roles step, with the fix, and leaves the connection step unknown
// rather than failing it: Elasticsearch reports connected:false for any
// security exception.
func TestResolveDenialIsARolesFinding(t *testing.T) {
	cfg, facts := healthy()
	denial := "action [indices:admin/resolve/cluster] towards remote cluster [us] is unauthorized for user [exporter] with effective roles [monitoring] because no remote indices privileges apply for the target cluster"
	facts["eu"].Resolved = []collector.Resolved{{Alias: "us", Connected: false, Error: denial}}
	r := Build(cfg, facts, now)
	connect := findings(t, r, "connect")
	if !has(connect, Warn, "reachability unknown", "denied") || has(connect, Fail, "unreachable") {
		t.Errorf("connect step should say reachability is unknown, not unreachable: %+v", connect)
	}
	roles := findings(t, r, "roles")
	if !has(roles, Warn, "may not run GET /_resolve/cluster", denial, "remote_indices", "same name") {
		t.Errorf("roles step should report the denial with the fix for both models: %+v", roles)
	}
}

// The connect step reports the link's follower indices: replicating ones
// in a line, a paused one as a warning, a fatal exception or a follower
// that stopped reading as failures, and a broken replication version rule.
func TestReplicationFindings(t *testing.T) {
	cfg, facts := healthy()
	facts["eu"].CCR = &collector.CCRFacts{Followers: []collector.Follower{
		{Index: "a", Remote: "us", Leader: "a", Status: "active", Stats: true},
		{Index: "b", Remote: "us", Leader: "b", Status: "active", Stats: true},
		{Index: "c", Remote: "us", Leader: "c", Status: "paused"},
		{Index: "d", Remote: "us", Leader: "d", Status: "active", Stats: true, Fatal: true, FatalReason: "mapping update rejected"},
		{Index: "e", Remote: "us", Leader: "e", Status: "active", Stats: true, Lag: 40, SinceLastRead: 900, FailedReads: 15},
		{Index: "x", Remote: "elsewhere", Leader: "x", Status: "paused"},
	}}
	a := &facts["eu"].Analyses[0]
	a.Followers, a.CCR = true, compat.Verdict{Status: compat.Incompatible}
	a.CCRLocal, a.CCRRemote = esversion.MustParse("8.19.7"), esversion.MustParse("9.1.5")
	connect := findings(t, Build(cfg, facts, now), "connect")
	for _, want := range []struct {
		st    Status
		frags []string
	}{
		{OK, []string{"2 follower indices replicate through this link"}},
		{Warn, []string{"follower index c (leader c) is paused", "resume_follow"}},
		{Fail, []string{"follower index d", "fatal exception", "mapping update rejected"}},
		{Fail, []string{"follower index e", "40 operations behind", "15m0s", "15 failed read requests"}},
		{Fail, []string{"replication version rule is broken", "8.19.7 is older than the leader cluster's 9.1.5"}},
	} {
		if !has(connect, want.st, want.frags...) {
			t.Errorf("connect step lacks a %s finding with %q: %+v", want.st, want.frags, connect)
		}
	}
	if has(connect, Warn, "follower index x") {
		t.Error("a follower of another link is reported on this one")
	}
}
