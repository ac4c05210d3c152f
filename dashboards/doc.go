// Package dashboards holds es_remote_exporter's Grafana dashboard
// (es_remote_links.json: plain dashboard JSON, schemaVersion 39, importable
// as is; pick the Prometheus data source in its datasource variable).
//
// The package has no Go API: its tests check that the dashboard is well
// formed, that every PromQL expression in it is valid (with the real
// promtool, Debian package prometheus), and that every metric the dashboard
// and the alert rules use is one the exporter really exports.
package dashboards
