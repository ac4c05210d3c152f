// Package testtools holds what several packages' tests share: Find locates
// the external programs the tests run against (promtool, prometheus,
// amtool, prometheus-alertmanager; a missing one fails the test and names
// the Debian package that provides it, which .ci/run installs: the tests
// never skip), SyncBuffer collects logs and process output, ScratchFile
// serves fuzz targets.
package testtools

import (
	"os/exec"
	"testing"
)

// Find returns the path of the first of names found in PATH; without any,
// it fails t, naming pkg.
func Find(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found in PATH: install it with apt-get install %s (.ci/run does)", names[0], pkg)
	return ""
}
