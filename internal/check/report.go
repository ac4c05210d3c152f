// Package check builds the report of `es_remote_exporter check`: every
// link of every configured cluster walked through the four steps of the
// spec (prerequisites, trust, connect, roles), each finding with its
// evidence and the fix, from the facts of one round of polls. It decides
// nothing of its own: the verdicts come from the collector and the pure
// judges behind it; this package words them for the person setting up a
// link.
package check

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// Status is a finding's, step's, link's or report's outcome.
type Status string

// Statuses, from best to worst.
const (
	OK   Status = "OK"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

func worse(a, b Status) Status {
	rank := map[Status]int{OK: 0, Warn: 1, Fail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Step names, in the spec's order.
const (
	StepPrerequisites = "prerequisites"
	StepTrust         = "trust"
	StepConnect       = "connect"
	StepRoles         = "roles"
)

// FormatVersion is the JSON report's format_version. It changes only when
// a field changes meaning or disappears; new fields may appear without it.
const FormatVersion = 1

// Report is the whole result. Its JSON form is documented in docs/commands.md.
type Report struct {
	FormatVersion int       `json:"format_version"`
	Time          time.Time `json:"time"`
	Status        Status    `json:"status"`
	Clusters      []Cluster `json:"clusters"`
	Links         []Link    `json:"links"`
	// Notes are said once for the whole report: what was not asked for,
	// rather than a warning on every link.
	Notes []string `json:"notes,omitempty"`
}

// Cluster is what one configured cluster's poll said about the cluster
// itself: mostly the checks that failed.
type Cluster struct {
	Name     string    `json:"name"`
	Version  string    `json:"version,omitempty"`
	Status   Status    `json:"status"`
	Findings []Finding `json:"findings"`
}

// Link is one remote alias of one cluster.
type Link struct {
	Cluster string `json:"cluster"`
	Remote  string `json:"remote"`
	// RemoteCluster is the monitored cluster behind the alias, "" when none.
	RemoteCluster string `json:"remote_cluster,omitempty"`
	Status        Status `json:"status"`
	Steps         []Step `json:"steps"`
}

// Step is one of the spec's four steps for one link.
type Step struct {
	Name     string    `json:"name"`
	Status   Status    `json:"status"`
	Findings []Finding `json:"findings"`
}

// Finding is one observation: what is the case, what shows it, what to do.
type Finding struct {
	Status   Status   `json:"status"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
	Fix      string   `json:"fix,omitempty"`
}

// Build words the facts of one round of polls (by cluster name) as a
// report. now dates certificate expiry.
func Build(cfg *config.Config, facts map[string]*collector.Facts, now time.Time) Report {
	r := Report{FormatVersion: FormatVersion, Time: now.UTC(), Status: OK, Clusters: []Cluster{}, Links: []Link{}}
	var noRoles []string // certificate-model links that name no roles
	for _, cl := range cfg.Clusters {
		f := facts[cl.Name]
		if f == nil {
			f = &collector.Facts{}
		}
		c := clusterFindings(cl, f)
		r.Clusters = append(r.Clusters, c)
		r.Status = worse(r.Status, c.Status)
		for _, alias := range aliases(cl, f) {
			b := linkBuilder{cfg: cfg, cluster: cl, alias: alias, facts: facts, f: f, now: now}
			l := b.build()
			r.Links = append(r.Links, l)
			r.Status = worse(r.Status, l.Status)
			if b.noRoles {
				noRoles = append(noRoles, cl.Name+" -> "+alias)
			}
		}
	}
	if len(noRoles) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("Roles were not checked for %s, which name none: %s. "+
			"To check them, name the roles the link's users have in clusters[].links.<alias>.roles.search and "+
			".replication (with .cluster naming the remote cluster).",
			plural(len(noRoles), "link", "links"), strings.Join(noRoles, ", ")))
	}
	return r
}

// clusterFindings reports the cluster's failed checks (the reason a link's
// step says "unknown" is usually here) and what the daemon would warn about
// its configuration.
func clusterFindings(cl config.Cluster, f *collector.Facts) Cluster {
	c := Cluster{Name: cl.Name, Status: OK, Findings: []Finding{}}
	if cl.TLS.InsecureSkipVerify {
		c.Findings = append(c.Findings, Finding{Status: Warn,
			Summary: "TLS certificate verification is off (tls.insecure_skip_verify): anyone on the path can read the exporter's credentials",
			Fix:     "set tls.ca_file to the CA that issued the cluster's HTTP certificate (and tls.server_name if needed), and remove insecure_skip_verify"})
		c.Status = Warn
	}
	if f.Identity != nil {
		c.Version = f.Identity.Version.Number
	}
	for _, res := range f.Checks {
		if res.Err == nil || res.Err.Reason == collector.ReasonUnavailable {
			continue
		}
		st := Warn
		if res.Check == collector.CheckIdentity {
			st = Fail // nothing about the cluster is known
		}
		c.Findings = append(c.Findings, Finding{Status: st,
			Summary:  fmt.Sprintf("check %s failed (%s)", res.Check, res.Err.Reason),
			Evidence: []string{res.Err.Msg}, Fix: res.Err.Hint})
		c.Status = worse(c.Status, st)
	}
	if len(c.Findings) == 0 {
		c.Findings = append(c.Findings, Finding{Status: OK, Summary: fmt.Sprintf("every check answered (%d)", len(f.Checks))})
	}
	return c
}

// aliases are the links to report: configured ones, those _remote/info
// lists, and those defined in any node's or the cluster's settings.
func aliases(cl config.Cluster, f *collector.Facts) []string {
	set := map[string]bool{}
	for a := range cl.Links {
		set[a] = true
	}
	for _, l := range f.Links {
		set[l.Alias] = true
	}
	for _, ls := range f.LinkSettings {
		set[ls.Alias] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// linkBuilder gathers one link's facts from both sides.
type linkBuilder struct {
	cfg     *config.Config
	cluster config.Cluster
	alias   string
	facts   map[string]*collector.Facts
	f       *collector.Facts // the local cluster's
	now     time.Time
	// noRoles: the link uses the certificate model and names no roles; the
	// report says so once for every such link.
	noRoles bool
}

func (b *linkBuilder) build() Link {
	l := Link{Cluster: b.cluster.Name, Remote: b.alias, Status: OK}
	l.RemoteCluster = b.target()
	for _, s := range []Step{
		b.step(StepPrerequisites, b.prerequisites()),
		b.step(StepTrust, b.trust()),
		b.step(StepConnect, b.connect()),
		b.step(StepRoles, b.roles()),
	} {
		l.Steps = append(l.Steps, s)
		l.Status = worse(l.Status, s.Status)
	}
	return l
}

func (b *linkBuilder) step(name string, fs []Finding) Step {
	s := Step{Name: name, Status: OK, Findings: fs}
	for _, f := range fs {
		s.Status = worse(s.Status, f.Status)
	}
	return s
}

// target is the monitored cluster behind the alias: configured, or matched
// by transport address in the poll.
func (b *linkBuilder) target() string {
	if lc, ok := b.cluster.Links[b.alias]; ok && lc.Cluster != "" {
		return lc.Cluster
	}
	if a := b.analysis(); a != nil {
		return a.Target
	}
	return ""
}

func (b *linkBuilder) remoteFacts() *collector.Facts {
	if t := b.target(); t != "" {
		return b.facts[t]
	}
	return nil
}

func (b *linkBuilder) analysis() *collector.LinkAnalysis {
	return byAlias(b.f.Analyses, b.alias, func(a *collector.LinkAnalysis) string { return a.Alias })
}

func (b *linkBuilder) remoteInfo() *collector.RemoteLink {
	return byAlias(b.f.Links, b.alias, func(l *collector.RemoteLink) string { return l.Alias })
}

func (b *linkBuilder) resolved() *collector.Resolved {
	return byAlias(b.f.Resolved, b.alias, func(r *collector.Resolved) string { return r.Alias })
}

// apiKeyModel: the link authenticates with a cross-cluster API key.
func (b *linkBuilder) apiKeyModel() bool {
	ri := b.remoteInfo()
	return ri != nil && ri.Auth() == "api_key"
}

// byAlias returns the element of a per-link list that is about alias, or nil.
func byAlias[T any](s []T, alias string, aliasOf func(*T) string) *T {
	for i := range s {
		if aliasOf(&s[i]) == alias {
			return &s[i]
		}
	}
	return nil
}

func (b *linkBuilder) checkErr(f *collector.Facts, check string) *collector.CheckError {
	for _, c := range f.Checks {
		if c.Check == check {
			return c.Err
		}
	}
	return nil
}

// notMonitored is the finding for a side the exporter cannot see.
func (b *linkBuilder) notMonitored(what string) Finding {
	return Finding{Status: Warn,
		Summary: "no monitored cluster is known to be behind this link: the remote's " + what + " cannot be checked",
		Fix: fmt.Sprintf("name the remote cluster in clusters[].links.%s.cluster of %s (add it to clusters[] first if it is not monitored)",
			b.alias, b.cluster.Name)}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinOr(items []string, empty string) string {
	if len(items) == 0 {
		return empty
	}
	return strings.Join(items, ", ")
}
