package alert

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

const manifestFile = "prometheusrule.yaml"

var update = flag.Bool("update", false, "regenerate "+manifestFile+" from "+ruleFile)

const manifestHeader = `# Generated from es_remote_exporter.rules.yml by
#   go test ./alert -run TestPrometheusRuleMatchesRuleFile -update
# Do not edit: edit the rule file and regenerate. Add the labels your
# Prometheus Operator's ruleSelector expects (e.g. release: prometheus).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: es-remote-exporter
  labels:
    app.kubernetes.io/name: es-remote-exporter
    app.kubernetes.io/component: alerting-rules
spec:
`

// renderManifest nests the rule file's groups under spec, keeping its
// comments and block scalars as they are.
func renderManifest(t *testing.T, rules []byte) []byte {
	t.Helper()
	start := bytes.Index(rules, []byte("\ngroups:\n"))
	if start < 0 {
		t.Fatalf("%s: no top-level groups key", ruleFile)
	}
	var out bytes.Buffer
	out.WriteString(manifestHeader)
	for _, line := range bytes.SplitAfter(rules[start+1:], []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			out.WriteString("  ")
		}
		out.Write(line)
	}
	return out.Bytes()
}

// TestPrometheusRuleMatchesRuleFile fails when the manifest and the rule
// file drift apart: both are parsed and their groups compared.
func TestPrometheusRuleMatchesRuleFile(t *testing.T) {
	rules, err := os.ReadFile(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(manifestFile, renderManifest(t, rules), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var ruleDoc struct {
		Groups any `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &ruleDoc); err != nil {
		t.Fatalf("%s: %v", ruleFile, err)
	}
	manifest, err := os.ReadFile(manifestFile)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Groups any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(manifest, &m); err != nil {
		t.Fatalf("%s: %v", manifestFile, err)
	}
	if m.APIVersion != "monitoring.coreos.com/v1" || m.Kind != "PrometheusRule" || m.Metadata.Name == "" {
		t.Errorf("%s: apiVersion %q kind %q name %q, want monitoring.coreos.com/v1 PrometheusRule with a name",
			manifestFile, m.APIVersion, m.Kind, m.Metadata.Name)
	}
	if ruleDoc.Groups == nil {
		t.Fatalf("%s: no groups", ruleFile)
	}
	if !reflect.DeepEqual(m.Spec.Groups, ruleDoc.Groups) {
		t.Errorf("%s spec.groups differ from the groups of %s; regenerate it:\n\tgo test ./alert -run TestPrometheusRuleMatchesRuleFile -update",
			manifestFile, ruleFile)
	}
}
