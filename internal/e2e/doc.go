// Package e2e is the end-to-end test of es_remote_exporter: the demo
// topology on the Elasticsearch simulator, the exporter's scheduler and
// /metrics handler in-process, and the real Prometheus and Alertmanager
// binaries (Debian packages prometheus and prometheus-alertmanager), all on
// 127.0.0.1. It proves that a broken remote link is delivered to an
// Alertmanager receiver and resolved when the link heals, that every
// dashboard panel and every alert rule finds data in a real Prometheus, and
// that every metric they use is one the exporter exports.
//
// The package has no code of its own besides this comment; the test is in
// e2e_test.go. Run it with go test ./internal/e2e/ (about 20 s).
package e2e
