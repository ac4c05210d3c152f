package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"

	"github.com/spf13/pflag"

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
func runCompat(argv []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet(programName+" compat", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	matrix := fs.Bool("matrix", false, "Print the whole compatibility table as the exporter understands it.")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: %[1]s compat LOCAL REMOTE   judge a local -> remote version pair
       %[1]s compat --matrix        print the table

Prints one line: the verdict and the rule that decided it. Exit 0 compatible, 1 incompatible,
2 unknown or invalid input. Versions are like 8.19.2, 9.1.0-SNAPSHOT or 8.18.
`, programName)
	}
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "compat: %v\nRun '%s compat --help' for usage.\n", err, programName)
		return exitUnknown
	}
	if *matrix {
		if fs.NArg() != 0 {
			fmt.Fprintln(stderr, "compat: --matrix takes no versions")
			return exitUnknown
		}
		if err := compat.WriteMatrix(stdout); err != nil {
			return exitUnknown
		}
		return 0
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "compat: want two versions, LOCAL and REMOTE, got %d; e.g. %s compat 8.19.2 9.1.0\n", fs.NArg(), programName)
		return exitUnknown
	}
	local, err := esversion.Parse(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "compat: LOCAL: %v\n", err)
		return exitUnknown
	}
	remote, err := esversion.Parse(fs.Arg(1))
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
	facts, err := pollTwice(ctx, cfg, logger, false)
	if err != nil {
		fmt.Fprintf(stderr, "plan-upgrade: %v\n", err)
		return exitUnknown
	}
	return writePlan(stdout, stderr, facts, target, to)
}

// pollTwice polls every configured cluster twice, for the one-shot
// commands: the first round lets every cluster share what links to it are
// judged against (its nodes, and with slowChecks its transport view and
// roles), the second judges each link against its remote's. slowChecks runs
// the slow checks (probes, listings, roles) in both rounds, for commands
// that report their judgements.
func pollTwice(ctx context.Context, cfg *config.Config, logger *slog.Logger, slowChecks bool) (map[string]*collector.Facts, error) {
	sched := scheduler.New(scheduler.Options{Store: collector.NewStore(), Logger: logger, Manual: true, SlowChecksEveryPoll: slowChecks})
	defer sched.Stop()
	if err := sched.Apply(cfg); err != nil {
		return nil, err
	}
	sched.PollAll(ctx)
	return sched.PollAll(ctx), nil
}

// planLine is one link's before/after judgement.
type planLine struct {
	from, alias, to string
	before, after   compat.Verdict
}

func writePlan(stdout, stderr io.Writer, facts map[string]*collector.Facts, target string, to esversion.Version) int {
	names := make([]string, 0, len(facts))
	for n := range facts {
		names = append(names, n)
	}
	sort.Strings(names)
	var lines []planLine
	for _, name := range names {
		f := facts[name]
		if f.Identity == nil {
			fmt.Fprintf(stderr, "warning: %s could not be polled; its links are not judged (see the log)\n", name)
			continue
		}
		for _, a := range f.Analyses {
			if name != target && a.Target != target {
				continue
			}
			locals, remotes := f.LocalVersions, a.RemoteVersions
			if name == target {
				locals = []esversion.Version{to}
			}
			if a.Target == target {
				remotes = []esversion.Version{to}
			}
			remoteName := a.Target
			if remoteName == "" {
				remoteName = "(unmonitored)"
			}
			lines = append(lines, planLine{
				from: name, alias: a.Alias, to: remoteName,
				before: linkVerdict(f.LocalVersions, a.RemoteVersions),
				after:  linkVerdict(locals, remotes),
			})
		}
	}
	fmt.Fprintf(stdout, "If %s ran %s on every node:\n", target, to)
	if len(lines) == 0 {
		fmt.Fprintf(stdout, "  no link from or to %s is known (links to it are matched by transport address or clusters[].links)\n", target)
	}
	breaks := 0
	for _, l := range lines {
		state := "OK     "
		switch {
		case l.after.Status == compat.Incompatible && l.before.Status == compat.Incompatible:
			state = "ALREADY"
		case l.after.Status == compat.Incompatible:
			state, breaks = "BREAKS ", breaks+1
		case l.after.Status == compat.Unknown:
			state = "UNKNOWN"
		}
		fmt.Fprintf(stdout, "  %s %s -> %s (alias %s): %s\n", state, l.from, l.to, l.alias, l.after.Rule)
	}
	if breaks > 0 {
		fmt.Fprintf(stdout, "%d link(s) would break.\n", breaks)
		return exitIncompatible
	}
	return 0
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
