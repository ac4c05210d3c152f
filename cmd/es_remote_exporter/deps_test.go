package main

import (
	"os/exec"
	"strings"
	"testing"
)

// maxBuildPackages bounds the binary's build graph (go list -deps): the
// root go-elasticsearch package alone pulls in its typed API, about 860
// packages and most of a cold build, for nothing the exporter uses
// (collector/client.go uses esapi over elastic-transport-go).
const maxBuildPackages = 400

func TestBuildGraphStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	pkgs := strings.Fields(string(out))
	var typed []string
	for _, p := range pkgs {
		if p == "github.com/elastic/go-elasticsearch/v8" || strings.HasPrefix(p, "github.com/elastic/go-elasticsearch/v8/typedapi") {
			typed = append(typed, p)
		}
	}
	if len(typed) > 0 {
		t.Errorf("the binary imports the root go-elasticsearch package or its typed API (%d packages, e.g. %s); use esapi over elastictransport", len(typed), typed[0])
	}
	if len(pkgs) > maxBuildPackages {
		t.Errorf("the binary's build graph has %d packages, more than %d", len(pkgs), maxBuildPackages)
	}
}
