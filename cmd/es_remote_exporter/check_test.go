package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/demo"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// checkFleet is the setup `check` is tested on: eu (8.19, two coordinating
// nodes and a data node) links to us (9.1) for search and replication and
// to asia (8.18) for search.
//   - eu -> us names its roles; us's remote-search lacks read_cross_cluster.
//   - eu -> asia names none, and eu-es01's elasticsearch.yml still says
//     skip_unavailable false under a dynamic true.
//   - eu -> us_static is defined in eu-es02's elasticsearch.yml only, so
//     eu-es01 (the node the exporter asks) does not know it.
//   - gone is a configured cluster nobody answers for.
//
// It returns the configuration file.
func checkFleet(t *testing.T, fix bool) string {
	t.Helper()
	sim, err := simulator.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	const password = "check-test-password"
	users := map[string]simulator.User{"exporter": {Password: password, Roles: []string{"es_remote_exporter"},
		ClusterPrivileges: []string{"monitor", "read_security"}, IndexPrivileges: []string{"view_index_metadata"}}}
	replication := simulator.RoleSpec{Cluster: []string{"read_ccr"}, Indices: []simulator.IndicesPrivileges{
		{Names: []string{"leader-*"}, Privileges: []string{"monitor", "read"}}}}
	search := []string{"read"}
	if fix {
		search = append(search, "read_cross_cluster")
	}
	specs := []simulator.ClusterSpec{
		{Name: "eu", Version: "8.19.7", Users: users, Nodes: []simulator.NodeSpec{{Name: "eu-es01"}, {Name: "eu-es02"},
			{Name: "eu-es03", Roles: []string{"data", "ingest"}}},
			Roles: map[string]simulator.RoleSpec{
				"remote-search": {},
				"remote-replication": {Cluster: []string{"manage_ccr"}, Indices: []simulator.IndicesPrivileges{
					{Names: []string{"follower-*"}, Privileges: []string{"monitor", "read", "write", "manage_follow_index"}}}},
			}},
		{Name: "us", Version: "9.1.5", Users: users, Nodes: []simulator.NodeSpec{{Name: "us-es01"}},
			Roles: map[string]simulator.RoleSpec{
				"remote-search":      {Indices: []simulator.IndicesPrivileges{{Names: []string{"logs-*"}, Privileges: search}}},
				"remote-replication": replication,
			}},
		{Name: "asia", Version: "8.18.8", Users: users, Nodes: []simulator.NodeSpec{{Name: "asia-es01"}}},
	}
	for _, s := range specs {
		if _, err := sim.AddCluster(s); err != nil {
			t.Fatal(err)
		}
	}
	eu := sim.Cluster("eu")
	no, yes := false, true
	links := []simulator.LinkSpec{{Alias: "us", Remote: "us"}, {Alias: "asia", Remote: "asia", SkipUnavailable: &yes}}
	if !fix {
		links = append(links,
			simulator.LinkSpec{Alias: "asia", Remote: "asia", Static: true, StaticNodes: []string{"eu-es01"}, SkipUnavailable: &no},
			simulator.LinkSpec{Alias: "us_static", Remote: "us", Static: true, StaticNodes: []string{"eu-es02"}})
	}
	for _, l := range links {
		if err := eu.AddLink(l); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	caFile, err := sim.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("clusters:\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "  - name: %s\n    urls: [%q]\n    username: exporter\n    password: %s\n    tls: {ca_file: %q}\n",
			s.Name, sim.Cluster(s.Name).URL(), password, caFile)
		if s.Name == "eu" {
			b.WriteString("    links:\n      us:\n        cluster: us\n        roles: {search: [remote-search], replication: [remote-replication]}\n" +
				"      asia:\n        cluster: asia\n")
		}
	}
	if !fix {
		// A cluster nobody answers for: its own finding fails, nothing else.
		fmt.Fprintf(&b, "  - name: gone\n    urls: [\"http://%s\"]\n", testtools.FreeAddr(t))
	}
	file := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

var (
	checkDateRe   = regexp.MustCompile(`\d{4}-\d{2}-\d{2}(T[0-9:.]+Z)?`)
	checkDaysRe   = regexp.MustCompile(`in \d+ days`)
	checkSerialRe = regexp.MustCompile(`serial [0-9a-f]+`)
)

// normalizeCheck removes what changes from run to run: ports, dates and
// the generated certificates' serials.
func normalizeCheck(s string) string {
	s = portRe.ReplaceAllString(s, "127.0.0.1:PORT")
	s = checkDateRe.ReplaceAllString(s, "DATE")
	s = checkDaysRe.ReplaceAllString(s, "in N days")
	return checkSerialRe.ReplaceAllString(s, "serial SERIAL")
}

func TestCheckGolden(t *testing.T) {
	file := checkFleet(t, false)
	for _, format := range []string{"text", "json"} {
		var out, errOut bytes.Buffer
		code := run([]string{"check", "--config.file", file, "--output", format, "--log.level", "error"}, &out, &errOut)
		if code != checkExitFailed {
			t.Errorf("%s: exit %d, want %d (there are failures)\n%s", format, code, checkExitFailed, errOut.String())
		}
		if strings.Contains(out.String(), "check-test-password") || strings.Contains(errOut.String(), "check-test-password") {
			t.Errorf("%s: the password appears in the output", format)
		}
		got := normalizeCheck(out.String())
		golden := filepath.Join("testdata", "check."+format+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("check --output %s differs from %s (rerun with -update if intended):\n%s", format, golden, got)
		}
		if format == "text" {
			for i, line := range strings.Split(got, "\n") {
				if n := len([]rune(line)); n > 80 && !strings.Contains(line, "CN=") {
					t.Errorf("text line %d is %d columns wide: %q", i+1, n, line)
				}
			}
		}
		if format == "json" {
			var r struct {
				FormatVersion int    `json:"format_version"`
				Status        string `json:"status"`
			}
			if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.FormatVersion != 1 || r.Status != "FAIL" {
				t.Errorf("json report: %v %+v", err, r)
			}
		}
	}
}

func TestCheckPassesWhenFixed(t *testing.T) {
	file := checkFleet(t, true)
	var out, errOut bytes.Buffer
	if code := run([]string{"check", "--config.file", file, "--log.level", "error"}, &out, &errOut); code != checkExitOK {
		t.Errorf("exit %d, want %d:\n%s%s", code, checkExitOK, out.String(), errOut.String())
	}
	if regexp.MustCompile(`(?m)^\s*FAIL `).MatchString(out.String()) {
		t.Errorf("a fixed setup reports a failure:\n%s", out.String())
	}
}

func TestCheckUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("clusters:\n  - name: a\n    urls: [\"https://a:9200\"]\n    links:\n      b:\n        cluster: nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.yml")
	if err := os.WriteFile(empty, []byte("poll_interval: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args     []string
		contains string
	}{
		{[]string{"check", "--config.file", bad}, `clusters[0].links.b.cluster: "nowhere" is not the name of a configured cluster`},
		{[]string{"check", "--config.file", empty}, "no clusters configured"},
		{[]string{"check", "--config.file", empty, "--output", "yaml"}, "--output must be text or json"},
		{[]string{"check", "extra"}, "unexpected argument"},
		{[]string{"--output", "json"}, "--output does not apply to the daemon (no command): only the check command writes a report"},
		{[]string{"demo", "--config.file", empty}, "--config.file does not apply to the demo command: the demo builds its own configuration"},
		{[]string{"check", "--config.check", "--config.file", empty}, "--config.check does not apply to the check command"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &out, &errOut); code != checkExitUsage || !strings.Contains(errOut.String(), tc.contains) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut.String(), checkExitUsage, tc.contains)
		}
	}
}

// TestCheckOnTheDemo runs check the way the demo's banner tells a newcomer
// to: on the configuration file the demo writes, against its clusters.
func TestCheckOnTheDemo(t *testing.T) {
	topo, err := demo.Start(t.TempDir(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	file, err := topo.WriteConfigFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"check", "--config.file", file, "--log.level", "error"}, &out, &errOut); code != checkExitFailed {
		t.Fatalf("exit %d, want %d (the demo has setup mistakes):\n%s%s", code, checkExitFailed, out.String(), errOut.String())
	}
	for _, want := range []string{
		"FAIL  tokyo -> paris (cluster paris)",
		"role remote-search for search on paris (remote side): lacks",
		"role remote-replication for replication on paris (remote side): does",
		"FAIL  berlin -> oslo",
		"berlin-es01, the node that answered GET /_remote/info, does not know",
		"skip_unavailable in elasticsearch.yml differs from the cluster",
		"the link uses the certificate security model, deprecated since", // tokyo is 9.1
		"Note: Roles were not checked for",                               // once, not per link
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check on the demo lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "roles not checked"); n > 0 {
		t.Errorf("check on the demo warns %d times about roles nobody asked to check:\n%s", n, out.String())
	}
}
