// Package testtools holds what several packages' tests share: Find locates
// the external programs the tests run against (promtool, prometheus,
// amtool, prometheus-alertmanager; a missing one fails the test and names
// the Debian package that provides it, which .ci/run installs: the tests
// never skip), SyncBuffer collects logs and process output, ScratchFile
// serves fuzz targets, WaitHTTP waits for a started process to serve,
// FreeAddr picks a port.
package testtools

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"
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

// FreeAddr is a 127.0.0.1 address nothing listens on (a listener's, closed
// again): for a server the test is about to start, or a connection that
// must be refused.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitHTTP polls url until it answers 200 (nil), exited reports that the
// process behind it ended (its error), or timeout passes.
func WaitHTTP(url string, timeout time.Duration, exited func() error) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		if err := exited(); err != nil {
			return err
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s", url, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
