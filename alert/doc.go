// Package alert holds es_remote_exporter's Prometheus alerting rules
// (es_remote_exporter.rules.yml), their promtool unit tests (tests.yml), the
// same rules as a Prometheus Operator PrometheusRule (prometheusrule.yaml),
// an example Alertmanager routing (alertmanager.example.yml) and the runbook
// every alert links to (runbook.md).
//
// Its Go API serves the tests only: LoadRules parses the rule file for this
// package's tests, the dashboards' and the end-to-end test. The tests
// validate those files with the real promtool and amtool (Debian packages
// prometheus and prometheus-alertmanager) and keep the manifest in step with
// the rule file.
// After editing the rule file, regenerate the manifest with
//
//	go test ./alert -run TestPrometheusRuleMatchesRuleFile -update
package alert
