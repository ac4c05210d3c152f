package collector

import (
	"net/http"
	"strings"
	"testing"
)

// TestClassifyStatus covers answers the simulator tests do not produce with
// every version: the exact bodies are Elasticsearch's error envelope
// (ElasticsearchException.generateFailureXContent) and RestController's
// plain string errors.
func TestClassifyStatus(t *testing.T) {
	esHeader := http.Header{"X-Elastic-Product": []string{"Elasticsearch"}}
	for _, tc := range []struct {
		name     string
		status   int
		header   http.Header
		body     string
		reason   Reason
		contains string
	}{
		{"429 rejected execution", 429, esHeader,
			`{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of TimedRunnable"}],"type":"es_rejected_execution_exception","reason":"rejected execution of TimedRunnable"},"status":429}`,
			ReasonServerError, "overloaded"},
		{"429 circuit breaker", 429, esHeader,
			`{"error":{"root_cause":[{"type":"circuit_breaking_exception","reason":"[parent] Data too large"}],"type":"circuit_breaking_exception","reason":"[parent] Data too large","bytes_wanted":1,"bytes_limit":1,"durability":"TRANSIENT"},"status":429}`,
			ReasonServerError, "Data too large"},
		{"503 no master", 503, esHeader,
			`{"error":{"root_cause":[{"type":"master_not_discovered_exception","reason":null}],"type":"master_not_discovered_exception","reason":null},"status":503}`,
			ReasonServerError, "master_not_discovered_exception"},
		{"405 plain string error", 405, esHeader,
			`{"error":"Incorrect HTTP method for uri [/_resolve/cluster] and method [GET], allowed: [POST]","status":405}`,
			ReasonClientError, "Incorrect HTTP method"},
		{"502 from a proxy", 502, http.Header{"Content-Type": []string{"text/html"}},
			`<html><body><h1>502 Bad Gateway</h1></body></html>`,
			ReasonServerError, "proxy"},
		{"400 missing role", 400, esHeader,
			`{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"node [es01] does not have the [remote_cluster_client] role"}],"type":"illegal_argument_exception","reason":"node [es01] does not have the [remote_cluster_client] role"},"status":400}`,
			ReasonMissingRole, "remote_cluster_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ce := classifyStatus("GET /x", tc.status, tc.header, []byte(tc.body))
			if ce.Reason != tc.reason || !strings.Contains(ce.Error(), tc.contains) {
				t.Errorf("got %s %q, want %s containing %q", ce.Reason, ce.Error(), tc.reason, tc.contains)
			}
		})
	}
}
