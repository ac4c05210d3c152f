package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/compat"
	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
	"github.com/es-remote-exporter/es_remote_exporter/internal/scheduler"
)

// Exit codes of compat and plan-upgrade; scripts depend on them.
const (
	exitCompatible   = 0
	exitIncompatible = 1
	exitUnknown      = 2
)

// runCompat is `es_remote_exporter compat LOCAL REMOTE` and `compat --matrix`.
func runCompat(args []string, matrix bool, stdout, stderr io.Writer) int {
	if matrix {
		if len(args) != 0 {
			fmt.Fprintln(stderr, "compat: --matrix takes no versions")
			return exitUnknown
		}
		if err := compat.WriteMatrix(stdout); err != nil {
			fmt.Fprintf(stderr, "compat: writing the matrix: %v\n", err)
			return exitUnknown
		}
		return 0
	}
	if len(args) != 2 {
		fmt.Fprintf(stderr, "compat: want two versions, LOCAL and REMOTE, got %d; e.g. %s compat 8.19.2 9.1.0\n", len(args), programName)
		return exitUnknown
	}
	local, err := esversion.Parse(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "compat: LOCAL: %v\n", err)
		return exitUnknown
	}
	remote, err := esversion.Parse(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "compat: REMOTE: %v\n", err)
		return exitUnknown
	}
	v := compat.Judge(local, remote).Overall()
	fmt.Fprintf(stdout, "%s: %s\n", v.Status, v.Rule)
	return exitCode(v.Status)
}

func exitCode(s compat.Status) int {
	switch s {
	case compat.Compatible:
		return exitCompatible
	case compat.Incompatible:
		return exitIncompatible
	}
	return exitUnknown
}

// runPlanUpgrade is `es_remote_exporter plan-upgrade --config.file F CLUSTER VERSION`:
// it polls every configured cluster once and judges every link in both
// directions as if CLUSTER ran VERSION on every node.
func runPlanUpgrade(ctx context.Context, load func() (*config.Config, error), args []string, logger *slog.Logger, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintf(stderr, "plan-upgrade: want CLUSTER VERSION, e.g. %s plan-upgrade --config.file config.yml prod-eu 9.1.0\n", programName)
		return exitUnknown
	}
	target, version := args[0], args[1]
	to, err := esversion.Parse(version)
	if err != nil {
		fmt.Fprintf(stderr, "plan-upgrade: VERSION: %v\n", err)
		return exitUnknown
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "plan-upgrade: configuration is invalid:\n%s\n", indent(err.Error()))
		return exitUnknown
	}
	if !slices.ContainsFunc(cfg.Clusters, func(cl config.Cluster) bool { return cl.Name == target }) {
		fmt.Fprintf(stderr, "plan-upgrade: %q is not a configured cluster (clusters[].name)\n", target)
		return exitUnknown
	}
	facts, err := pollTwice(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "plan-upgrade: %v\n", err)
		return exitUnknown
	}
	if f := facts[target]; f != nil && f.Identity != nil {
		if err := upgradePath(target, f.LocalVersions, to); err != nil {
			fmt.Fprintf(stderr, "plan-upgrade: %v\n", err)
			return exitUnknown
		}
	}
	return writePlan(stdout, cfg, facts, target, to)
}

// pollTwice polls every configured cluster twice, for the one-shot
// commands: the first round lets every cluster share what links to it are
// judged against (its nodes, transport view and roles), the second judges
// each link against its remote's. The slow checks (probes, listings, where
// links are defined, roles) run in both rounds: a replayed round carries
// no link settings.
func pollTwice(ctx context.Context, cfg *config.Config, logger *slog.Logger) (map[string]*collector.Facts, error) {
	sched := scheduler.New(scheduler.Options{Store: collector.NewStore(), Logger: logger, Manual: true, SlowChecksEveryPoll: true})
	defer sched.Stop()
	if err := sched.Apply(cfg); err != nil {
		return nil, err
	}
	sched.PollAll(ctx)
	return sched.PollAll(ctx), nil
}

// upgradePath refuses what Elasticsearch cannot do to a running cluster: a
// downgrade, and an upgrade whose new nodes would not join the old ones (a
// rolling upgrade needs every old node at or above the new version's
// minimum wire compatibility version: 7.17 for 8.x, 8.18 for 9.0, 8.19 for
// 9.1 and later). A plan for either would list links that can never be.
func upgradePath(cluster string, current []esversion.Version, to esversion.Version) error {
	for _, c := range current {
		if to.Compare(c) < 0 {
			return fmt.Errorf("%s has nodes on %s; %s is a downgrade, which Elasticsearch does not support "+
				"(nodes refuse to start on data written by a newer version); plan an upgrade to %s or later", cluster, c, to, c)
		}
	}
	minimum, ok := esversion.MinimumWireCompatibility(to)
	if !ok {
		return nil
	}
	for _, c := range current {
		if c.Compare(minimum) < 0 {
			return fmt.Errorf("%s has nodes on %s; Elasticsearch cannot upgrade them to %s in one step: a %s node "+
				"joins only nodes on %s or later. Upgrade %s to %s first (plan-upgrade %s %s), then to %s",
				cluster, c, to, to.MinorString(), minimum, cluster, minimum.MinorString(), cluster, minimum, to)
		}
	}
	return nil
}

// planLine is one link's before/after judgement.
type planLine struct {
	from, alias, to string
	before, after   compat.Verdict
	note            string // why a link is not judged
}

func writePlan(stdout io.Writer, cfg *config.Config, facts map[string]*collector.Facts, target string, to esversion.Version) int {
	names := make([]string, 0, len(facts))
	for n := range facts {
		names = append(names, n)
	}
	sort.Strings(names)
	configured := map[string]config.Cluster{}
	for _, cl := range cfg.Clusters {
		configured[cl.Name] = cl
	}
	versionsOf := func(name string, v []esversion.Version) []esversion.Version {
		if name == target {
			return []esversion.Version{to}
		}
		return v
	}
	var lines []planLine
	var notPolled []string
	for _, name := range names {
		f := facts[name]
		if f.Identity == nil {
			notPolled = append(notPolled, name)
			continue
		}
		known := map[string]bool{}
		for _, a := range f.Analyses {
			known[a.Alias] = true
			if a.Target == "" && name != target {
				lines = append(lines, planLine{from: name, alias: a.Alias, to: "?",
					note: "its remote cluster is not monitored (or not matched), so it may be " + target +
						"; name it in clusters[].links." + a.Alias + ".cluster"})
				continue
			}
			if name != target && a.Target != target {
				continue
			}
			remoteName := a.Target
			if remoteName == "" {
				remoteName = "(unmonitored)"
			}
			verdict := linkVerdict
			if a.Followers {
				// The link carries follower indices: replication adds its
				// own rule (a leader upgraded ahead of its followers breaks).
				verdict = replicationVerdict
			}
			lines = append(lines, planLine{
				from: name, alias: a.Alias, to: remoteName,
				before: verdict(f.LocalVersions, a.RemoteVersions),
				after:  verdict(versionsOf(name, f.LocalVersions), versionsOf(a.Target, a.RemoteVersions)),
			})
		}
		// 7.x still reads search.remote.<alias>.* from elasticsearch.yml;
		// 8.0 removed those names, so a link that relies on them is gone
		// after the upgrade.
		if name == target && to.Major >= 8 {
			for _, ls := range f.LinkSettings {
				if len(ls.Deprecated) == 0 {
					continue
				}
				var where []string
				for _, k := range slices.Sorted(maps.Keys(ls.Deprecated)) {
					where = append(where, "search.remote."+ls.Alias+"."+k+" on "+strings.Join(ls.Deprecated[k], ","))
				}
				remote := cmp.Or(configured[name].Links[ls.Alias].Cluster, "?")
				lines = append(lines, planLine{from: name, alias: ls.Alias + ", deprecated settings", to: remote,
					before: compat.Verdict{Status: compat.Compatible},
					after: compat.Verdict{Status: compat.Incompatible, Rule: "8.0 removed the search.remote.* settings it relies on (" +
						strings.Join(where, "; ") + "): rename them to cluster.remote." + ls.Alias + ".* before upgrading"}})
			}
		}
		// Links the answering node does not know: defined in the
		// elasticsearch.yml of other nodes only.
		for _, ls := range f.LinkSettings {
			if known[ls.Alias] {
				continue
			}
			where := "defined only in elasticsearch.yml of " + strings.Join(ls.StaticOn, ", ")
			if len(ls.StaticOn) == 0 {
				where = "not in GET _remote/info"
			}
			remote := configured[name].Links[ls.Alias].Cluster
			switch {
			case remote == "" && name != target:
				lines = append(lines, planLine{from: name, alias: ls.Alias, to: "?",
					note: where + "; its remote cluster is unknown, so it may be " + target +
						": name it in clusters[].links." + ls.Alias + ".cluster"})
			case remote == "":
				lines = append(lines, planLine{from: name, alias: ls.Alias, to: "(unknown)",
					note: where + "; name its remote cluster in clusters[].links." + ls.Alias + ".cluster"})
			case name == target || remote == target:
				var remotes []esversion.Version
				if rf := facts[remote]; rf != nil {
					remotes = rf.LocalVersions
				}
				lines = append(lines, planLine{
					from: name, alias: ls.Alias + ", " + where, to: remote,
					before: linkVerdict(f.LocalVersions, remotes),
					after:  linkVerdict(versionsOf(name, f.LocalVersions), versionsOf(remote, remotes)),
				})
			}
		}
	}
	fmt.Fprintf(stdout, "If %s ran %s on every node:\n", target, to)
	if len(lines) == 0 {
		fmt.Fprintf(stdout, "  no link from or to %s is known (links to it are matched by transport address or clusters[].links)\n", target)
	}
	counts := map[string]int{}
	for _, l := range lines {
		state := "OK     "
		switch {
		case l.note != "":
			state = "UNKNOWN"
		case l.after.Status == compat.Incompatible && l.before.Status == compat.Incompatible:
			state = "ALREADY"
		case l.after.Status == compat.Incompatible:
			state = "BREAKS "
		case l.after.Status == compat.Unknown:
			state = "UNKNOWN"
		}
		counts[strings.TrimSpace(state)]++
		why := l.after.Rule
		if l.note != "" {
			why = l.note
		}
		fmt.Fprintf(stdout, "  %s %s -> %s (alias %s): %s\n", state, l.from, l.to, l.alias, why)
	}
	for _, name := range notPolled {
		fmt.Fprintf(stdout, "  NOT POLLED %s: its links are not judged (run check for why)\n", name)
	}
	var summary []string
	for _, s := range []struct{ key, words string }{
		{"BREAKS", "would break"}, {"OK", "stay compatible"}, {"ALREADY", "were incompatible before"}, {"UNKNOWN", "not judged"},
	} {
		if counts[s.key] > 0 {
			summary = append(summary, fmt.Sprintf("%d %s", counts[s.key], s.words))
		}
	}
	if len(notPolled) > 0 {
		summary = append(summary, fmt.Sprintf("%d cluster(s) not polled", len(notPolled)))
	}
	verdict := "Nothing breaks."
	if counts["BREAKS"] > 0 {
		verdict = fmt.Sprintf("%d link(s) would break.", counts["BREAKS"])
	}
	if len(summary) > 0 {
		verdict += " Links: " + strings.Join(summary, ", ") + "."
	}
	fmt.Fprintln(stdout, verdict)
	if counts["BREAKS"] > 0 {
		return exitIncompatible
	}
	return 0
}

// replicationVerdict is linkVerdict for a link that carries follower
// indices of the local cluster: also the replication rule (compat.CCR, the
// follower not older than the leader), which decides when it is the worse.
func replicationVerdict(locals, remotes []esversion.Version) compat.Verdict {
	v := linkVerdict(locals, remotes)
	l, r, ccr, ok := compat.WorstCCR(locals, remotes)
	if !ok || v.Status == compat.Incompatible {
		return v
	}
	if ccr.Status == compat.Incompatible || (ccr.Status == compat.Unknown && v.Status == compat.Compatible) {
		w := compat.CCR(l, r)
		w.Rule = "replication: " + w.Rule
		return w
	}
	return v
}

// linkVerdict is a link's overall verdict on its worst pair.
func linkVerdict(locals, remotes []esversion.Version) compat.Verdict {
	sup, wire, ok := compat.Worst(locals, remotes)
	if !ok {
		return compat.Verdict{Status: compat.Unknown, Rule: "versions of one side unknown"}
	}
	// Worst keeps statuses only; Judge words each rule's worst pair.
	sup, wire = compat.Judge(sup.Local, sup.Remote), compat.Judge(wire.Local, wire.Remote)
	return compat.Pair{Supported: sup.Supported, Wire: wire.Wire}.Overall()
}
