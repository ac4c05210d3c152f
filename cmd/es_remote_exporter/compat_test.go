package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/compat"
	"github.com/es-remote-exporter/es_remote_exporter/internal/demo"
	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// TestCompatCLIEveryTableCell runs `compat LOCAL REMOTE` for all 625 cells of
// the table with patch versions, and requires the exit code and the verdict
// word the public function gives (whose own test pins it to the spec's table).
func TestCompatCLIEveryTableCell(t *testing.T) {
	vs := compat.TableVersions()
	n := 0
	for _, l := range vs {
		for _, r := range vs {
			local, remote := l, r
			local.Patch, remote.Patch = 3, 1
			var out, errOut bytes.Buffer
			code := run([]string{"compat", local.String(), remote.String()}, &out, &errOut)
			want := compat.Judge(local, remote).Overall()
			if code != exitCode(want.Status) || !strings.HasPrefix(out.String(), want.Status.String()+": ") {
				t.Errorf("compat %s %s: exit %d, %q; want exit %d, %s", local, remote, code, out.String(), exitCode(want.Status), want.Status)
			}
			if strings.Count(out.String(), "\n") != 1 {
				t.Errorf("compat %s %s printed %q, want one line", local, remote, out.String())
			}
			n++
		}
	}
	if n != 625 {
		t.Fatalf("%d cells", n)
	}
}

func TestCompatCLIInputs(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"compat", "8.19.2", "9.1.0"}, 0, "compatible: 8.19 -> 9.1 is supported"},
		{[]string{"compat", "9.0.0", "8.19.3"}, 1, "not supported by the compatibility table"},
		{[]string{"compat", "8.18.2", "9.1.0-SNAPSHOT"}, 1, "incompatible: wire"},
		{[]string{"compat", "9.4.1", "9.3.0"}, 0, "policy"},
		{[]string{"compat", "10.0.0", "9.3.0"}, 2, "unknown"},
		{[]string{"compat", "banana", "9.1"}, 2, "LOCAL"},
		{[]string{"compat", "9.1", "9.x"}, 2, "REMOTE"},
		{[]string{"compat", "9.1"}, 2, "want two versions"},
		{[]string{"compat", "--matrix"}, 0, "local\\remote"},
		{[]string{"compat", "--matrix", "9.1"}, 2, "takes no versions"},
	} {
		var out bytes.Buffer
		if code := run(tc.args, &out, &out); code != tc.code || !strings.Contains(out.String(), tc.contains) {
			t.Errorf("%q: exit %d, output %q; want exit %d containing %q", tc.args, code, out.String(), tc.code, tc.contains)
		}
	}
}

// TestPlanUpgrade polls the demo topology and plans upgrades of the hub and
// of the newest cluster.
func TestPlanUpgrade(t *testing.T) {
	topo, err := demo.Start(t.TempDir(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Close()
	load := func() (*config.Config, error) { return topo.Config, nil }

	var out, errOut bytes.Buffer
	code := runPlanUpgrade(context.Background(), load, []string{demo.Paris, "9.1.0"}, discardLogger(), &out, &errOut)
	if code != exitIncompatible {
		t.Errorf("plan-upgrade paris 9.1.0: exit %d, want 1\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"BREAKS  berlin -> paris (alias paris)", // 7.17 cannot reach 9.x
		"BREAKS  oslo -> paris (alias paris)",   // 8.18 -> 9.1: 9.1 needs 8.19
		"BREAKS  paris -> oslo (alias oslo)",    // 9.1 -> 8.18
		"OK      paris -> tokyo (alias tokyo)",  // 9.1 -> 9.1
		"OK      tokyo -> paris (alias paris)",  // 9.1 -> 9.1: the upgrade mends it
		"3 link(s) would break.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan for paris 9.1.0 lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	code = runPlanUpgrade(context.Background(), load, []string{demo.Tokyo, "9.2.0"}, discardLogger(), &out, &errOut)
	if code != 0 {
		t.Errorf("plan-upgrade tokyo 9.2.0: exit %d, want 0\n%s", code, out.String())
	}
	for _, want := range []string{
		"OK      paris -> tokyo (alias tokyo)", // 8.19 reaches every 9.x
		"ALREADY tokyo -> paris (alias paris)", // 9.x -> 8.19 was and stays unsupported
		"Nothing breaks. Links: ",              // a summary also when nothing breaks
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan for tokyo 9.2.0 lacks %q:\n%s", want, out.String())
		}
	}

	// paris follows indices of oslo: upgrading the leader ahead of its
	// follower breaks replication although the pair is otherwise fine
	// (8.19 reaches 9.0), and upgrading the follower first does not.
	out.Reset()
	code = runPlanUpgrade(context.Background(), load, []string{demo.Oslo, "9.0.4"}, discardLogger(), &out, &errOut)
	if want := "BREAKS  paris -> oslo (alias oslo): replication: ccr: the follower cluster's 8.19.7 is older than the leader cluster's 9.0.4"; code != exitIncompatible || !strings.Contains(out.String(), want) {
		t.Errorf("plan-upgrade oslo 9.0.4: exit %d, want 1 with %q:\n%s", code, want, out.String())
	}
	out.Reset()
	runPlanUpgrade(context.Background(), load, []string{demo.Paris, "8.19.9"}, discardLogger(), &out, &errOut)
	if want := "OK      paris -> oslo (alias oslo)"; !strings.Contains(out.String(), want) {
		t.Errorf("plan-upgrade paris 8.19.9 (the follower first) lacks %q:\n%s", want, out.String())
	}

	// berlin-es02's elasticsearch.yml alone defines berlin's link to oslo:
	// GET _remote/info (asked of berlin-es01) does not list it, the plan does.
	out.Reset()
	runPlanUpgrade(context.Background(), load, []string{demo.Oslo, "8.19.0"}, discardLogger(), &out, &errOut)
	if want := "UNKNOWN berlin -> ? (alias oslo): defined only in elasticsearch.yml of berlin-es02"; !strings.Contains(out.String(), want) {
		t.Errorf("plan for oslo 8.19.0 lacks the static-only link %q:\n%s", want, out.String())
	}

	// What Elasticsearch cannot do is refused, with what to do instead.
	for _, tc := range []struct{ cluster, to, want string }{
		{demo.Paris, "8.18.0", "paris has nodes on 8.19.7; 8.18.0 is a downgrade, which Elasticsearch does not support"},
		{demo.Berlin, "9.1.0", "Elasticsearch cannot upgrade them to 9.1.0 in one step: a 9.1 node joins only nodes on 8.19.0 or later. Upgrade berlin to 8.19 first"},
		{demo.Oslo, "9.1.0", "Upgrade oslo to 8.19 first (plan-upgrade oslo 8.19.0), then to 9.1.0"},
	} {
		out.Reset()
		errOut.Reset()
		code := runPlanUpgrade(context.Background(), load, []string{tc.cluster, tc.to}, discardLogger(), &out, &errOut)
		if code != exitUnknown || !strings.Contains(errOut.String(), tc.want) || out.Len() != 0 {
			t.Errorf("plan-upgrade %s %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.cluster, tc.to, code, out.String(), errOut.String(), tc.want)
		}
	}

	for _, args := range [][]string{{"nowhere", "9.1.0"}, {demo.Paris, "nine"}, {demo.Paris}} {
		if code := runPlanUpgrade(context.Background(), load, args, discardLogger(), &out, &errOut); code != exitUnknown {
			t.Errorf("plan-upgrade %q: exit %d, want 2", args, code)
		}
	}
}

// TestPlanUpgradeDeprecatedSettings: a 7.x link defined with the
// search.remote.* names 8.0 removed breaks in an upgrade to 8.
func TestPlanUpgradeDeprecatedSettings(t *testing.T) {
	cfg := &config.Config{Clusters: []config.Cluster{{Name: "berlin", Links: map[string]config.Link{"paris": {Cluster: "paris"}}}, {Name: "paris"}}}
	id := &collector.Identity{NodeName: "n1"}
	id.Version.Number = "7.17.29"
	facts := map[string]*collector.Facts{
		"berlin": {Identity: id, LocalVersions: []esversion.Version{esversion.MustParse("7.17.29")},
			LinkSettings: []collector.LinkSettings{{Alias: "paris", Source: collector.SourceStatic, Deprecated: map[string][]string{"seeds": {"n2"}}}}},
	}
	var out bytes.Buffer
	code := writePlan(&out, cfg, facts, "berlin", esversion.MustParse("8.19.7"))
	want := "BREAKS  berlin -> paris (alias paris, deprecated settings): 8.0 removed the search.remote.* settings it relies on (search.remote.paris.seeds on n2): rename them to cluster.remote.paris.* before upgrading"
	if code != exitIncompatible || !strings.Contains(out.String(), want) {
		t.Errorf("exit %d, plan:\n%s\nwant a line %q", code, out.String(), want)
	}
	out.Reset()
	writePlan(&out, cfg, facts, "berlin", esversion.MustParse("7.17.30"))
	if strings.Contains(out.String(), "deprecated settings") {
		t.Errorf("a 7.x patch upgrade reports the deprecated settings as breaking:\n%s", out.String())
	}
}
