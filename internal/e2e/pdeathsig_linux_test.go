package e2e

import "syscall"

// On Linux, Prometheus and Alertmanager die with the test process even when
// it is killed before its t.Cleanup functions run (go test -timeout).
func init() {
	sysProcAttr = func() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
}
