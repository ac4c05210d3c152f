package alert

import (
	"bytes"
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

const (
	ruleFile     = "es_remote_exporter.rules.yml"
	unitTestFile = "tests.yml"
	runbookFile  = "runbook.md"
	amConfigFile = "alertmanager.example.yml"
	// runbookBase stands for where the runbook is published; the install
	// step of docs/alerts.md replaces it (see TestRunbookBaseIsSetAtInstall).
	runbookBase   = "RUNBOOK_BASE_URL"
	runbookPrefix = runbookBase + "#"
	alertsDoc     = "../docs/alerts.md"
)

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// allRules is every rule of the rule file.
func allRules(t *testing.T) []Rule {
	t.Helper()
	rules, err := LoadRules(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// alertRules is the rule file's alerting rules.
func alertRules(t *testing.T) []Rule {
	t.Helper()
	var out []Rule
	for _, r := range allRules(t) {
		if r.Alert != "" {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no alerting rules", ruleFile)
	}
	return out
}

func promtool(t *testing.T) string { return testtools.Find(t, "prometheus", "promtool") }

func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
}

func TestRulesPassPromtoolCheck(t *testing.T) {
	run(t, promtool(t), "check", "rules", ruleFile)
}

func TestRulesPassPromtoolUnitTests(t *testing.T) {
	run(t, promtool(t), "test", "rules", unitTestFile)
}

// TestAlertsFollowConventions checks what an SRE relies on when an alert
// arrives: a severity to route on, a summary and description, a runbook
// section that exists, and a "for" that rides out a single bad poll.
func TestAlertsFollowConventions(t *testing.T) {
	runbook, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (\S+)\s*$`).FindAllSubmatch(runbook, -1) {
		headings[string(m[1])] = true
	}
	alerts := map[string]bool{}
	for _, r := range alertRules(t) {
		alerts[r.Alert] = true
		if !regexp.MustCompile(`^ESRemote[A-Za-z]+$`).MatchString(r.Alert) {
			t.Errorf("%s: alert names are ESRemote<CamelCase>", r.Alert)
		}
		d, err := time.ParseDuration(r.For)
		if err != nil || d < time.Minute {
			t.Errorf("%s: for = %q, want a duration of at least 1m", r.Alert, r.For)
		}
		if s := r.Labels["severity"]; !slices.Contains([]string{"critical", "warning", "info"}, s) {
			t.Errorf("%s: severity = %q, want critical, warning or info", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: annotation %s is missing", r.Alert, a)
			}
		}
		if want := runbookPrefix + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url = %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
		}
		if !headings[r.Alert] {
			t.Errorf("%s: %s has no section \"## %s\"", r.Alert, runbookFile, r.Alert)
		}
	}
	for h := range headings {
		if strings.HasPrefix(h, "ESRemote") && !alerts[h] {
			t.Errorf("%s: section %s describes no alert of %s", runbookFile, h, ruleFile)
		}
	}
}

type unitTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsTestedFiringAndQuiet makes tests.yml cover every alert
// (and every severity an alert name comes in) firing, and every alert name
// also at a time when it must not fire.
func TestEveryAlertIsTestedFiringAndQuiet(t *testing.T) {
	var ut unitTests
	readYAML(t, unitTestFile, &ut)
	firing := map[string]bool{} // alertname + "/" + severity
	quiet := map[string]bool{}  // alertname
	for _, tc := range ut.Tests {
		for _, at := range tc.AlertRuleTest {
			if len(at.ExpAlerts) == 0 {
				quiet[at.Alertname] = true
			}
			for _, e := range at.ExpAlerts {
				firing[at.Alertname+"/"+e.ExpLabels["severity"]] = true
			}
		}
	}
	for _, r := range alertRules(t) {
		if key := r.Alert + "/" + r.Labels["severity"]; !firing[key] {
			t.Errorf("%s: no test expects %s (severity %s) to fire", unitTestFile, r.Alert, r.Labels["severity"])
		}
		if !quiet[r.Alert] {
			t.Errorf("%s: no test expects %s not to fire", unitTestFile, r.Alert)
		}
	}
}

// TestAlertRouting runs every alert's labels through the example
// Alertmanager configuration: configuration failures reach the exporter's
// owner and never the pager; the rest go by severity.
func TestAlertRouting(t *testing.T) {
	amtool := testtools.Find(t, "prometheus-alertmanager", "amtool")
	run(t, amtool, "check-config", amConfigFile)
	bySeverity := map[string]string{
		"critical": "es-oncall-pager",
		"warning":  "es-oncall-ticket",
		"info":     "es-oncall-digest",
	}
	credentials := 0
	for _, r := range alertRules(t) {
		want := bySeverity[r.Labels["severity"]]
		if r.Labels["routing"] == "credentials" {
			want = "exporter-owner"
			credentials++
		}
		args := []string{"config", "routes", "test", "--config.file=" + amConfigFile, "alertname=" + r.Alert}
		for k, v := range r.Labels {
			args = append(args, k+"="+v)
		}
		out, err := exec.Command(amtool, args...).Output()
		if err != nil {
			t.Fatalf("amtool %s: %v", strings.Join(args, " "), err)
		}
		if got := string(bytes.TrimSpace(out)); got != want {
			t.Errorf("%s %v routes to %q, want %q", r.Alert, r.Labels, got, want)
		}
	}
	if credentials == 0 {
		t.Error(`no alert carries routing="credentials"`)
	}
}

// TestConfigurationReasonsAgree makes every regular-expression matcher on
// the reason of es_remote_exporter_check_failures_total name the same set
// of configuration reasons: the alerts that split configuration failures
// (ESRemoteExporterCheckMisconfigured) from the rest (ESRemoteClusterUnreachable,
// ESRemoteExporterCheckFailing) must not drift apart, or a failure would
// raise both alerts or neither.
func TestConfigurationReasonsAgree(t *testing.T) {
	selector := regexp.MustCompile(`es_remote_exporter_check_failures_total\s*\{([^}]*)\}`)
	reason := regexp.MustCompile(`\breason\s*(=~|!~)\s*"([^"]*)"`)
	var want []string
	var wantWhere string
	n := 0
	for _, r := range allRules(t) {
		name := cmp.Or(r.Alert, r.Record)
		for _, sel := range selector.FindAllStringSubmatch(r.Expr, -1) {
			for _, m := range reason.FindAllStringSubmatch(sel[1], -1) {
				n++
				set := strings.Split(m[2], "|")
				slices.Sort(set)
				set = slices.Compact(set)
				where := name + ": reason" + m[1] + `"` + m[2] + `"`
				if want == nil {
					want, wantWhere = set, where
					continue
				}
				if !slices.Equal(set, want) {
					t.Errorf("%s: %s names reasons %v, but %s names %v",
						ruleFile, where, set, wantWhere, want)
				}
			}
		}
	}
	if n < 2 {
		t.Fatalf("%s: %d reason=~/!~ matchers on es_remote_exporter_check_failures_total, want at least 2 (did the expressions change?)", ruleFile, n)
	}
}

// installCommand is how docs/alerts.md tells operators to set the runbook's
// address; $RUNBOOK is theirs.
const installCommand = `sed "s|RUNBOOK_BASE_URL|$RUNBOOK|g" alert/es_remote_exporter.rules.yml`

// TestRunbookBaseIsSetAtInstall runs the documented install step and checks
// that the result is valid and every runbook_url points into the runbook
// at the address the operator gave, whatever it is.
func TestRunbookBaseIsSetAtInstall(t *testing.T) {
	doc, err := os.ReadFile(alertsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(installCommand)) {
		t.Fatalf("%s does not show the install step %s", alertsDoc, installCommand)
	}
	const base = "https://wiki.example.com/ops/es_remote_exporter/runbook.md"
	cmd := exec.Command("sh", "-c", installCommand)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "RUNBOOK="+base)
	installed, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", installCommand, err)
	}
	file := filepath.Join(t.TempDir(), "es_remote_exporter.rules.yml")
	if err := os.WriteFile(file, installed, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, promtool(t), "check", "rules", file)
	rules, err := LoadRules(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Alert != "" && r.Annotations["runbook_url"] != base+"#"+strings.ToLower(r.Alert) {
			t.Errorf("installed %s: runbook_url %q, want %s#%s", r.Alert, r.Annotations["runbook_url"], base, strings.ToLower(r.Alert))
		}
	}
	if bytes.Contains(installed, []byte(runbookBase)) {
		t.Errorf("the installed rules still contain %s", runbookBase)
	}
}
