package alert

import (
	"bytes"
	"context"
	"encoding/json"

	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// TestInhibitRules runs the real Alertmanager with alertmanager.example.yml
// and sends it what a remote cluster's outage raises: while oslo does not
// answer, the alert of the link paris -> oslo (target oslo) is held back;
// the link to another cluster and the cluster alert itself are not.
func TestInhibitRules(t *testing.T) {
	bin := testtools.Find(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	addr := testtools.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+amConfigFile, "--storage.path="+filepath.Join(t.TempDir(), "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	logs, err := os.Create(filepath.Join(t.TempDir(), "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	base := "http://" + addr
	waitFor(t, logs.Name(), "Alertmanager to be ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	alert := func(labels map[string]string) map[string]any {
		return map[string]any{"labels": labels, "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339)}
	}
	cluster := map[string]string{"alertname": "ESRemoteClusterUnreachable", "es_cluster": "oslo", "target": "oslo", "severity": "critical"}
	toOslo := map[string]string{"alertname": "ESRemoteLinkUnreachable", "es_cluster": "paris", "remote": "oslo", "target": "oslo", "severity": "warning"}
	toTokyo := map[string]string{"alertname": "ESRemoteLinkUnreachable", "es_cluster": "paris", "remote": "tokyo", "target": "tokyo", "severity": "warning"}
	unknown := map[string]string{"alertname": "ESRemoteLinkUnreachable", "es_cluster": "paris", "remote": "elsewhere", "severity": "warning"}
	body, _ := json.Marshal([]any{alert(cluster), alert(toOslo), alert(toTokyo), alert(unknown)})
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/v2/alerts: HTTP %d", resp.StatusCode)
	}

	inhibited := func() (map[string]bool, int) {
		resp, err := http.Get(base + "/api/v2/alerts")
		if err != nil {
			return nil, 0
		}
		defer resp.Body.Close()
		var got []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		if json.NewDecoder(resp.Body).Decode(&got) != nil {
			return nil, 0
		}
		out := map[string]bool{}
		for _, a := range got {
			out[a.Labels["es_cluster"]+"/"+a.Labels["remote"]] = len(a.Status.InhibitedBy) > 0
		}
		return out, len(got)
	}
	waitFor(t, logs.Name(), "the inhibit rule to hold back paris -> oslo", func() bool {
		got, n := inhibited()
		return n == 4 && got["paris/oslo"]
	})
	got, _ := inhibited()
	for key, want := range map[string]bool{"oslo/": false, "paris/oslo": true, "paris/tokyo": false, "paris/elsewhere": false} {
		if got[key] != want {
			t.Errorf("%s inhibited = %v, want %v (all: %v)", key, got[key], want, got)
		}
	}
}

// waitFor polls cond for up to 20 s; Alertmanager starts and applies
// inhibitions asynchronously.
func waitFor(t *testing.T, logFile, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			logs, _ := os.ReadFile(logFile)
			t.Fatalf("timed out waiting for %s; Alertmanager's log:\n%s", what, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
