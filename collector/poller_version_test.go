package collector

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// fixedNow is the clock of collector tests: last-success timestamps are exact.
var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fixtureServer answers like Elasticsearch of one version from the files in
// testdata/<version>/ (compact JSON as Elasticsearch sends it, shapes per
// shared/es/NOTES.md). It fails the test on any request a poll of that
// version must not make.
func fixtureServer(t *testing.T, version string) *httptest.Server {
	t.Helper()
	dir := filepath.Join("testdata", version)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var file string
		switch p := r.URL.Path; {
		case p == "/":
			file = "root.json"
		case p == "/_nodes/_all/_none" || p == "/_nodes/_all/remote_cluster_server":
			// From 8.10 the remote_cluster_server metric (API-key links dial
			// its address); before, an unknown metric would be refused.
			if want := map[bool]string{true: "/_nodes/_all/remote_cluster_server", false: "/_nodes/_all/_none"}[version != "7.17"]; p != want {
				t.Errorf("%s: asked %s, want %s", version, p, want)
			}
			file = "nodes.json"
		case p == "/_xpack":
			file = "xpack.json"
		case p == "/_nodes/_all/settings":
			if r.URL.Query().Get("flat_settings") != "true" {
				t.Errorf("%s: node settings asked without flat_settings=true", version)
			}
			file = "nodes_settings.json"
		case p == "/_ssl/certificates":
			file = "ssl_certificates.json"
		case p == "/_security/api_key":
			file = "api_keys.json"
		case p == "/_ccr/stats":
			file = "ccr_stats.json"
		case p == "/_all/_ccr/info":
			file = "ccr_info.json"
		case p == "/_cluster/settings":
			if r.URL.Query().Get("flat_settings") != "true" {
				t.Errorf("%s: cluster settings asked without flat_settings=true", version)
			}
			file = "cluster_settings.json"
		case p == "/_remote/info":
			file = "remote_info.json"
		case p == "/_resolve/cluster":
			if r.URL.Query().Get("timeout") == "" {
				t.Errorf("%s: GET /_resolve/cluster without ?timeout=", version)
			}
			file = "resolve_cluster.json"
		case strings.HasPrefix(p, "/_resolve/cluster/"):
			// A wildcard that matches nothing, never a bare "*" that makes
			// every remote expand all its indices on every poll.
			alias, ok := strings.CutSuffix(strings.TrimPrefix(p, "/_resolve/cluster/"), ":dummy*")
			if !ok {
				t.Errorf("%s: unexpected expression in %s, want <alias>:dummy*", version, p)
			}
			file = "resolve_cluster." + alias + ".json"
		}
		body, err := os.ReadFile(filepath.Join(dir, file))
		if file == "" || err != nil {
			t.Errorf("%s: unexpected request %s %s", version, r.Method, r.URL)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-elastic-product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newTestPoller(t *testing.T, url string) *Poller {
	t.Helper()
	p, err := NewPoller(config.Cluster{Name: "local", URLs: []string{url}, Username: "u", Password: "p"},
		PollerOptions{Timeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// storeOf is a store holding just snap, as a prometheus.Gatherer.
func storeOf(snap *Snapshot) *Store {
	s := NewStore()
	s.Put(snap)
	return s
}

// comparedMetrics leaves out check_duration_seconds, the one value a fixed
// clock cannot pin down.
var comparedMetrics = []string{
	"es_remote_cluster_up", "es_remote_cluster_info",
	"es_remote_link_connected", "es_remote_link_skip_unavailable", "es_remote_link_initial_connect_timeout_seconds",
	"es_remote_link_nodes_connected", "es_remote_link_max_connections",
	"es_remote_link_proxy_sockets_connected", "es_remote_link_max_proxy_sockets",
	"es_remote_link_info", "es_remote_link_reachable",
	"es_remote_exporter_check_success", "es_remote_exporter_last_success_timestamp_seconds",
	"es_remote_exporter_check_failures_total",
	"es_remote_cluster_nodes", "es_remote_cluster_node_info", "es_remote_cluster_mixed_versions_since_timestamp_seconds",
	"es_remote_link_remote_version_info", "es_remote_link_compatibility_info", "es_remote_link_target_info",
	"es_remote_cluster_certificate_not_after_timestamp_seconds",
	"es_remote_cluster_node_security_enabled", "es_remote_cluster_node_transport_tls_enabled", "es_remote_link_prerequisites_met",
	"es_remote_cluster_remote_client_nodes", "es_remote_link_settings_nodes", "es_remote_link_setting_conflict",
	"es_remote_ccr_follower_info", "es_remote_ccr_follower_lag_operations", "es_remote_ccr_follower_time_since_last_read_seconds",
	"es_remote_ccr_follower_fatal_exception", "es_remote_ccr_follower_failed_read_requests_total", "es_remote_ccr_follower_operations_written_total",
	"es_remote_ccr_auto_follow_failed_follow_indices_total", "es_remote_ccr_auto_follow_successful_follow_indices_total",
	"es_remote_ccr_auto_follow_recent_errors", "es_remote_link_ccr_follower_indices",
	"es_remote_cluster_cross_cluster_api_keys", "es_remote_cluster_cross_cluster_api_key_expiration_timestamp_seconds",
}

func TestPollPerVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    string
	}{
		{
			// 7.17: no _resolve/cluster at all, so no reachable series and no
			// resolve_cluster check; initial_connect_timeout as TimeValue "1.5m".
			version: "7.17",
			want: `
es_remote_cluster_up{es_cluster="local"} 1
es_remote_cluster_info{cluster_name="legacy",cluster_uuid="Qx3T1bWkR9a0mFv7cJ2LhA",es_cluster="local",version="7.17.29"} 1
es_remote_link_connected{es_cluster="local",remote="old_search"} 1
es_remote_link_skip_unavailable{es_cluster="local",remote="old_search"} 0
es_remote_link_initial_connect_timeout_seconds{es_cluster="local",remote="old_search"} 90
es_remote_link_nodes_connected{es_cluster="local",remote="old_search"} 2
es_remote_link_max_connections{es_cluster="local",remote="old_search"} 3
es_remote_link_info{auth="certificate",es_cluster="local",mode="sniff",proxy_address="",remote="old_search",seeds="es-old-1.example.com:9300",server_name=""} 1
es_remote_cluster_nodes{es_cluster="local",version="7.17.29"} 1
es_remote_cluster_node_security_enabled{es_cluster="local",node="es717-01"} 1
es_remote_cluster_node_transport_tls_enabled{es_cluster="local",node="es717-01"} 1
es_remote_link_prerequisites_met{es_cluster="local",remote="old_search",side="local"} 1
es_remote_cluster_certificate_not_after_timestamp_seconds{alias="instance",es_cluster="local",format="PKCS12",has_private_key="true",issuer="",node="es717-01",path="certs/elastic-certificates.p12",serial="5ac1e2f3a4d5e6f7",subject="CN=instance"} 1.8000054e+09
es_remote_cluster_node_info{es_cluster="local",node="es717-01",roles="data,ingest,master,remote_cluster_client",version="7.17.29"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="old_search",remote_version="",rule="supported",verdict="unknown"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="old_search",remote_version="",rule="wire",verdict="unknown"} 1
es_remote_cluster_remote_client_nodes{es_cluster="local"} 1
es_remote_link_settings_nodes{es_cluster="local",remote="old_search",source="static"} 1
es_remote_exporter_check_success{check="identity",es_cluster="local"} 1
es_remote_exporter_check_success{check="nodes",es_cluster="local"} 1
es_remote_exporter_check_success{check="prerequisites",es_cluster="local"} 1
es_remote_exporter_check_success{check="cluster_settings",es_cluster="local"} 1
es_remote_exporter_check_success{check="remote_info",es_cluster="local"} 1
es_remote_exporter_check_success{check="ssl_certificates",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="identity",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="nodes",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="prerequisites",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="cluster_settings",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="remote_info",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="ssl_certificates",es_cluster="local"} 1.7957808e+09
es_remote_ccr_auto_follow_failed_follow_indices_total{es_cluster="local"} 0
es_remote_ccr_auto_follow_recent_errors{es_cluster="local"} 0
es_remote_ccr_auto_follow_successful_follow_indices_total{es_cluster="local"} 1
es_remote_ccr_follower_failed_read_requests_total{es_cluster="local",follower_index="logs-old",remote="old_search"} 1
es_remote_ccr_follower_fatal_exception{es_cluster="local",follower_index="logs-old",remote="old_search"} 0
es_remote_ccr_follower_info{es_cluster="local",follower_index="logs-old",leader_index="logs",remote="old_search",status="active"} 1
es_remote_ccr_follower_info{es_cluster="local",follower_index="metrics-old",leader_index="metrics",remote="old_search",status="paused"} 1
es_remote_ccr_follower_lag_operations{es_cluster="local",follower_index="logs-old",remote="old_search"} 20
es_remote_ccr_follower_operations_written_total{es_cluster="local",follower_index="logs-old",remote="old_search"} 180
es_remote_ccr_follower_time_since_last_read_seconds{es_cluster="local",follower_index="logs-old",remote="old_search"} 2.1
es_remote_exporter_check_success{check="ccr",es_cluster="local"} 1
es_remote_exporter_check_success{check="ccr_followers",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="ccr",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="ccr_followers",es_cluster="local"} 1.7957808e+09
es_remote_link_ccr_follower_indices{es_cluster="local",remote="old_search",status="active"} 1
es_remote_link_ccr_follower_indices{es_cluster="local",remote="old_search",status="paused"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="old_search",remote_version="",rule="ccr",verdict="unknown"} 1
`,
		},
		{
			// 8.13: one resolve request per remote; an API-key proxy link.
			version: "8.13",
			want: `
es_remote_cluster_up{es_cluster="local"} 1
es_remote_cluster_info{cluster_name="mid",cluster_uuid="aB3dE5fG7hI9jK1lM3nO5p",es_cluster="local",version="8.13.4"} 1
es_remote_link_connected{es_cluster="local",remote="apikey_proxy"} 1
es_remote_link_connected{es_cluster="local",remote="cert_sniff"} 0
es_remote_link_skip_unavailable{es_cluster="local",remote="apikey_proxy"} 0
es_remote_link_skip_unavailable{es_cluster="local",remote="cert_sniff"} 0
es_remote_link_initial_connect_timeout_seconds{es_cluster="local",remote="apikey_proxy"} 30
es_remote_link_initial_connect_timeout_seconds{es_cluster="local",remote="cert_sniff"} 30
es_remote_link_nodes_connected{es_cluster="local",remote="cert_sniff"} 0
es_remote_link_max_connections{es_cluster="local",remote="cert_sniff"} 3
es_remote_link_proxy_sockets_connected{es_cluster="local",remote="apikey_proxy"} 6
es_remote_link_max_proxy_sockets{es_cluster="local",remote="apikey_proxy"} 18
es_remote_link_info{auth="api_key",es_cluster="local",mode="proxy",proxy_address="remote.example.com:9443",remote="apikey_proxy",seeds="",server_name=""} 1
es_remote_link_info{auth="certificate",es_cluster="local",mode="sniff",proxy_address="",remote="cert_sniff",seeds="10.0.3.1:9300,10.0.3.2:9300",server_name=""} 1
es_remote_link_reachable{es_cluster="local",remote="apikey_proxy"} 1
es_remote_link_reachable{es_cluster="local",remote="cert_sniff"} 0
es_remote_cluster_nodes{es_cluster="local",version="8.13.4"} 1
es_remote_cluster_node_security_enabled{es_cluster="local",node="es813-01"} 1
es_remote_cluster_node_security_enabled{es_cluster="local",node="es813-02"} 1
es_remote_cluster_node_transport_tls_enabled{es_cluster="local",node="es813-01"} 1
es_remote_cluster_node_transport_tls_enabled{es_cluster="local",node="es813-02"} 0
es_remote_link_prerequisites_met{es_cluster="local",remote="apikey_proxy",side="local"} 0
es_remote_link_prerequisites_met{es_cluster="local",remote="cert_sniff",side="local"} 0
es_remote_cluster_certificate_not_after_timestamp_seconds{alias="",es_cluster="local",format="PEM",has_private_key="true",issuer="CN=Example Transport CA",node="es813-01",path="certs/transport.crt",serial="1a2b3c",subject="CN=es813-01"} 1.7980704e+09
es_remote_cluster_nodes{es_cluster="local",version="8.14.3"} 1
es_remote_cluster_node_info{es_cluster="local",node="es813-01",roles="data,ingest,master,remote_cluster_client",version="8.13.4"} 1
es_remote_cluster_node_info{es_cluster="local",node="es813-02",roles="data,ingest,master,remote_cluster_client",version="8.14.3"} 1
es_remote_cluster_mixed_versions_since_timestamp_seconds{es_cluster="local"} 1.7957808e+09
es_remote_link_remote_version_info{es_cluster="local",remote="apikey_proxy",source="resolve_cluster",version="8.14.3"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="8.13.4",remote="apikey_proxy",remote_version="8.14.3",rule="supported",verdict="compatible"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="cert_sniff",remote_version="",rule="supported",verdict="unknown"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="8.13.4",remote="apikey_proxy",remote_version="8.14.3",rule="wire",verdict="compatible"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="cert_sniff",remote_version="",rule="wire",verdict="unknown"} 1
es_remote_cluster_remote_client_nodes{es_cluster="local"} 2
es_remote_link_settings_nodes{es_cluster="local",remote="apikey_proxy",source="dynamic"} 2
es_remote_link_settings_nodes{es_cluster="local",remote="cert_sniff",source="dynamic"} 2
es_remote_exporter_check_success{check="identity",es_cluster="local"} 1
es_remote_exporter_check_success{check="nodes",es_cluster="local"} 1
es_remote_exporter_check_success{check="prerequisites",es_cluster="local"} 1
es_remote_exporter_check_success{check="cluster_settings",es_cluster="local"} 1
es_remote_exporter_check_success{check="remote_info",es_cluster="local"} 1
es_remote_exporter_check_success{check="ssl_certificates",es_cluster="local"} 1
es_remote_exporter_check_success{check="resolve_cluster",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="identity",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="nodes",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="prerequisites",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="cluster_settings",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="remote_info",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="ssl_certificates",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="resolve_cluster",es_cluster="local"} 1.7957808e+09
es_remote_ccr_auto_follow_failed_follow_indices_total{es_cluster="local"} 2
es_remote_ccr_auto_follow_recent_errors{es_cluster="local"} 1
es_remote_ccr_auto_follow_successful_follow_indices_total{es_cluster="local"} 3
es_remote_ccr_follower_failed_read_requests_total{es_cluster="local",follower_index="orders",remote="cert_sniff"} 0
es_remote_ccr_follower_fatal_exception{es_cluster="local",follower_index="orders",remote="cert_sniff"} 1
es_remote_ccr_follower_info{es_cluster="local",follower_index="orders",leader_index="orders",remote="cert_sniff",status="active"} 1
es_remote_ccr_follower_lag_operations{es_cluster="local",follower_index="orders",remote="cert_sniff"} 30
es_remote_ccr_follower_operations_written_total{es_cluster="local",follower_index="orders",remote="cert_sniff"} 500
es_remote_ccr_follower_time_since_last_read_seconds{es_cluster="local",follower_index="orders",remote="cert_sniff"} 0.4
es_remote_exporter_check_success{check="ccr",es_cluster="local"} 1
es_remote_exporter_check_success{check="ccr_followers",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="ccr",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="ccr_followers",es_cluster="local"} 1.7957808e+09
es_remote_link_ccr_follower_indices{es_cluster="local",remote="cert_sniff",status="active"} 1
es_remote_link_ccr_follower_indices{es_cluster="local",remote="cert_sniff",status="paused"} 0
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="cert_sniff",remote_version="",rule="ccr",verdict="unknown"} 1
es_remote_cluster_cross_cluster_api_key_expiration_timestamp_seconds{es_cluster="local",id="VuaCfGcBCdbkQm-e5aOx",name="paris-ccs"} 1.8e+09
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="active"} 1
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="expired"} 0
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="invalidated"} 0
es_remote_exporter_check_success{check="api_keys",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="api_keys",es_cluster="local"} 1.7957808e+09
`,
		},
		{
			// 8.19: the recorded sniff+proxy sample; no-index resolve with ?timeout=.
			version: "8.19",
			want: `
es_remote_cluster_up{es_cluster="local"} 1
es_remote_cluster_info{cluster_name="docker-cluster",cluster_uuid="yiEgGtOFRwS4OWlfqJzsyQ",es_cluster="local",version="8.19.2"} 1
es_remote_link_connected{es_cluster="local",remote="cluster_down"} 0
es_remote_link_connected{es_cluster="local",remote="cluster_proxy"} 1
es_remote_link_connected{es_cluster="local",remote="cluster_sniff"} 1
es_remote_link_skip_unavailable{es_cluster="local",remote="cluster_down"} 1
es_remote_link_skip_unavailable{es_cluster="local",remote="cluster_proxy"} 0
es_remote_link_skip_unavailable{es_cluster="local",remote="cluster_sniff"} 1
es_remote_link_initial_connect_timeout_seconds{es_cluster="local",remote="cluster_down"} 30
es_remote_link_initial_connect_timeout_seconds{es_cluster="local",remote="cluster_proxy"} 30
es_remote_link_initial_connect_timeout_seconds{es_cluster="local",remote="cluster_sniff"} 30
es_remote_link_nodes_connected{es_cluster="local",remote="cluster_down"} 0
es_remote_link_nodes_connected{es_cluster="local",remote="cluster_sniff"} 3
es_remote_link_max_connections{es_cluster="local",remote="cluster_down"} 3
es_remote_link_max_connections{es_cluster="local",remote="cluster_sniff"} 3
es_remote_link_proxy_sockets_connected{es_cluster="local",remote="cluster_proxy"} 18
es_remote_link_max_proxy_sockets{es_cluster="local",remote="cluster_proxy"} 18
es_remote_link_info{auth="certificate",es_cluster="local",mode="sniff",proxy_address="",remote="cluster_down",seeds="10.0.2.21:9300",server_name=""} 1
es_remote_link_info{auth="certificate",es_cluster="local",mode="proxy",proxy_address="remote-proxy.example.com:9400",remote="cluster_proxy",seeds="",server_name="remote-proxy.example.com"} 1
es_remote_link_info{auth="certificate",es_cluster="local",mode="sniff",proxy_address="",remote="cluster_sniff",seeds="10.0.1.11:9300,10.0.1.12:9300",server_name=""} 1
es_remote_link_reachable{es_cluster="local",remote="cluster_down"} 0
es_remote_link_reachable{es_cluster="local",remote="cluster_proxy"} 1
es_remote_link_reachable{es_cluster="local",remote="cluster_sniff"} 1
es_remote_cluster_nodes{es_cluster="local",version="8.19.2"} 1
es_remote_cluster_node_security_enabled{es_cluster="local",node="es01"} 1
es_remote_cluster_node_transport_tls_enabled{es_cluster="local",node="es01"} 1
es_remote_link_prerequisites_met{es_cluster="local",remote="cluster_down",side="local"} 1
es_remote_link_prerequisites_met{es_cluster="local",remote="cluster_proxy",side="local"} 1
es_remote_link_prerequisites_met{es_cluster="local",remote="cluster_sniff",side="local"} 1
es_remote_cluster_certificate_not_after_timestamp_seconds{alias="",es_cluster="local",format="PEM",has_private_key="false",issuer="CN=Elastic Certificate Tool Autogenerated CA",node="2e278dc309b9",path="certs/ca/ca.crt",serial="3d1f0a9c5e7b2a41c8e2d6f0b9a4c3e1f2a5b6c7",subject="CN=Elastic Certificate Tool Autogenerated CA"} 1.83638252e+09
es_remote_cluster_certificate_not_after_timestamp_seconds{alias="",es_cluster="local",format="PEM",has_private_key="true",issuer="CN=Elastic Certificate Tool Autogenerated CA",node="2e278dc309b9",path="certs/es01/es01.crt",serial="6a2b9e4d1c0f8e7a5b3c2d1e0f9a8b7c6d5e4f3a",subject="CN=es01"} 1.836382521e+09
es_remote_cluster_certificate_not_after_timestamp_seconds{alias="http",es_cluster="local",format="PKCS12",has_private_key="true",issuer="CN=Elasticsearch security auto-configuration HTTP CA",node="2e278dc309b9",path="certs/http.p12",serial="b7c1e2f3a4d5e6f708192a3b4c5d6e7f80912a3b",subject="CN=es01"} 1.8092448e+09
es_remote_cluster_certificate_not_after_timestamp_seconds{alias="http_ca",es_cluster="local",format="PKCS12",has_private_key="true",issuer="CN=Elasticsearch security auto-configuration HTTP CA",node="2e278dc309b9",path="certs/http.p12",serial="1f2e3d4c5b6a79880716253443526170",subject="CN=Elasticsearch security auto-configuration HTTP CA"} 1.8407808e+09
es_remote_cluster_node_info{es_cluster="local",node="es01",roles="data,data_cold,data_content,data_frozen,data_hot,data_warm,ingest,master,ml,remote_cluster_client,transform",version="8.19.2"} 1
es_remote_link_remote_version_info{es_cluster="local",remote="cluster_proxy",source="resolve_cluster",version="8.19.2"} 1
es_remote_link_remote_version_info{es_cluster="local",remote="cluster_sniff",source="resolve_cluster",version="9.1.5"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="cluster_down",remote_version="",rule="supported",verdict="unknown"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="8.19.2",remote="cluster_proxy",remote_version="8.19.2",rule="supported",verdict="compatible"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="8.19.2",remote="cluster_sniff",remote_version="9.1.5",rule="supported",verdict="compatible"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="",remote="cluster_down",remote_version="",rule="wire",verdict="unknown"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="8.19.2",remote="cluster_proxy",remote_version="8.19.2",rule="wire",verdict="compatible"} 1
es_remote_link_compatibility_info{es_cluster="local",local_version="8.19.2",remote="cluster_sniff",remote_version="9.1.5",rule="wire",verdict="compatible"} 1
es_remote_cluster_remote_client_nodes{es_cluster="local"} 1
es_remote_link_settings_nodes{es_cluster="local",remote="cluster_down",source="static"} 1
es_remote_link_settings_nodes{es_cluster="local",remote="cluster_proxy",source="dynamic"} 1
es_remote_link_settings_nodes{es_cluster="local",remote="cluster_sniff",source="both"} 1
es_remote_link_setting_conflict{es_cluster="local",kind="static_vs_dynamic",remote="cluster_sniff",setting="skip_unavailable"} 1
es_remote_exporter_check_success{check="identity",es_cluster="local"} 1
es_remote_exporter_check_success{check="nodes",es_cluster="local"} 1
es_remote_exporter_check_success{check="prerequisites",es_cluster="local"} 1
es_remote_exporter_check_success{check="cluster_settings",es_cluster="local"} 1
es_remote_exporter_check_success{check="remote_info",es_cluster="local"} 1
es_remote_exporter_check_success{check="ssl_certificates",es_cluster="local"} 1
es_remote_exporter_check_success{check="resolve_cluster",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="identity",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="nodes",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="prerequisites",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="cluster_settings",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="remote_info",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="ssl_certificates",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="resolve_cluster",es_cluster="local"} 1.7957808e+09
es_remote_ccr_auto_follow_failed_follow_indices_total{es_cluster="local"} 0
es_remote_ccr_auto_follow_recent_errors{es_cluster="local"} 0
es_remote_ccr_auto_follow_successful_follow_indices_total{es_cluster="local"} 0
es_remote_exporter_check_success{check="ccr",es_cluster="local"} 1
es_remote_exporter_check_success{check="ccr_followers",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="ccr",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="ccr_followers",es_cluster="local"} 1.7957808e+09
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="active"} 1
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="expired"} 0
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="invalidated"} 1
es_remote_exporter_check_success{check="api_keys",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="api_keys",es_cluster="local"} 1.7957808e+09
`,
		},
		{
			// 9.1 with no remotes: {} is zero links, not an error.
			version: "9.1",
			want: `
es_remote_cluster_up{es_cluster="local"} 1
es_remote_cluster_info{cluster_name="new",cluster_uuid="kkJTf9fqR2Ska_jRYbGvTQ",es_cluster="local",version="9.1.5"} 1
es_remote_cluster_nodes{es_cluster="local",version="9.1.5"} 1
es_remote_cluster_node_security_enabled{es_cluster="local",node="es91-01"} 1
es_remote_cluster_node_transport_tls_enabled{es_cluster="local",node="es91-01"} 1
es_remote_cluster_certificate_not_after_timestamp_seconds{alias="",es_cluster="local",format="PEM",has_private_key="false",issuer="CN=Elastic Certificate Tool Autogenerated CA",node="es91-01",path="certs/ca.crt",serial="7f",subject="CN=Elastic Certificate Tool Autogenerated CA"} 1.8855504e+09
es_remote_cluster_node_info{es_cluster="local",node="es91-01",roles="data,master,remote_cluster_client",version="9.1.5"} 1
es_remote_cluster_remote_client_nodes{es_cluster="local"} 1
es_remote_exporter_check_success{check="identity",es_cluster="local"} 1
es_remote_exporter_check_success{check="nodes",es_cluster="local"} 1
es_remote_exporter_check_success{check="prerequisites",es_cluster="local"} 1
es_remote_exporter_check_success{check="cluster_settings",es_cluster="local"} 1
es_remote_exporter_check_success{check="remote_info",es_cluster="local"} 1
es_remote_exporter_check_success{check="ssl_certificates",es_cluster="local"} 1
es_remote_exporter_check_success{check="resolve_cluster",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="identity",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="nodes",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="prerequisites",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="cluster_settings",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="remote_info",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="ssl_certificates",es_cluster="local"} 1.7957808e+09
es_remote_exporter_last_success_timestamp_seconds{check="resolve_cluster",es_cluster="local"} 1.7957808e+09
es_remote_exporter_check_success{check="ccr_followers",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="ccr_followers",es_cluster="local"} 1.7957808e+09
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="active"} 0
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="expired"} 0
es_remote_cluster_cross_cluster_api_keys{es_cluster="local",status="invalidated"} 0
es_remote_exporter_check_success{check="api_keys",es_cluster="local"} 1
es_remote_exporter_last_success_timestamp_seconds{check="api_keys",es_cluster="local"} 1.7957808e+09
`,
		},
	} {
		t.Run(tc.version, func(t *testing.T) {
			p := newTestPoller(t, fixtureServer(t, tc.version).URL)
			_, snap := p.Poll(context.Background())
			if err := testutil.GatherAndCompare(storeOf(snap), strings.NewReader(withHelp(tc.want)), comparedMetrics...); err != nil {
				t.Error(err)
			}
			if problems, err := testutil.GatherAndLint(storeOf(snap)); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %+v", err, problems)
			}
		})
	}
}

// withHelp turns the sample lines of a table above into exposition text,
// adding each family's HELP and TYPE from the metric definitions, so the
// tables stay readable.
func withHelp(samples string) string {
	defs := map[string]Family{}
	for _, d := range Definitions() {
		defs[d.Name] = d
	}
	var order []string
	byName := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(samples), "\n") {
		name := line[:strings.IndexAny(line, "{ ")]
		if byName[name] == nil {
			order = append(order, name)
		}
		byName[name] = append(byName[name], line)
	}
	var b strings.Builder
	for _, name := range order {
		d := defs[name]
		b.WriteString("# HELP " + name + " " + d.Help + "\n# TYPE " + name + " " + d.Type + "\n")
		b.WriteString(strings.Join(byName[name], "\n") + "\n")
	}
	return b.String()
}

// TestXPackFailureKeepsNodeSettings: from 8.0 GET /_xpack only adds the
// license; when it fails (a distribution without some x-pack plugins
// answers 500) the node settings, and the links they define, still count.
// On 7.x, where the answering node's _xpack decides whether security is on,
// it fails the check.
func TestXPackFailureKeepsNodeSettings(t *testing.T) {
	for _, tc := range []struct {
		version string
		fails   bool
	}{{"8.19", false}, {"7.17", true}} {
		fixture := fixtureServer(t, tc.version)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/_xpack" {
				w.Header().Set("X-Elastic-Product", "Elasticsearch")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `{"error":{"type":"illegal_state_exception","reason":"failed to find action [cluster:monitor/xpack/info/monitoring]"},"status":500}`)
				return
			}
			res, err := http.Get(fixture.URL + r.URL.RequestURI())
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			for k, v := range res.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(res.StatusCode)
			io.Copy(w, res.Body)
		}))
		defer srv.Close()
		p := newTestPoller(t, srv.URL)
		f, _ := p.Poll(context.Background())
		c := checkResult(f, CheckPrerequisites)
		switch {
		case c == nil:
			t.Fatalf("%s: no prerequisites check", tc.version)
		case tc.fails && c.Err == nil:
			t.Errorf("%s: a failing _xpack passes the prerequisites check; 7.x needs it", tc.version)
		case !tc.fails && (c.Err != nil || len(f.Security) == 0 || f.License != nil):
			t.Errorf("%s: a failing _xpack: check %v, %d nodes, license %v; want success with the nodes and no license", tc.version, c.Err, len(f.Security), f.License)
		}
	}
}
