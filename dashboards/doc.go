// Package dashboards holds es_remote_exporter's Grafana dashboard
// (es_remote_links.json: plain dashboard JSON, schemaVersion 39, importable
// as is; pick the Prometheus data source in its datasource variable).
//
// Its Go API serves the tests only: Load and Dashboard.Expressions parse the
// dashboard once for this package's tests and the end-to-end test, and
// Substitute puts values in for its variables. The tests check that the
// dashboard is well formed, that every PromQL expression in it is valid
// (with the real promtool, Debian package prometheus), and that every metric
// the dashboard and the alert rules use is one the exporter really exports.
package dashboards
