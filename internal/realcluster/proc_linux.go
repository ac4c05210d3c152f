package realcluster

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// lockFile takes an exclusive flock on path (two test binaries unpacking
// the same version wait for each other) and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// nodeUser is who the nodes run as: Elasticsearch refuses to run as root
// ("can not run elasticsearch as root", Elasticsearch.initializeNatives in
// server/src/main/java/org/elasticsearch/bootstrap/Elasticsearch.java), so a
// root test binary (CI) starts them as nobody. nil: as ourselves.
func nodeUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root, the nodes need the user nobody: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: false, Groups: []uint32{}}, nil
}

// sysProcAttr puts a node in its own process group (Stop signals the whole
// tree: the CLI launcher and the server JVM it forks on 8.x/9.x) and kills
// it when the test binary dies before its cleanups run (Pdeathsig, as
// internal/e2e does for Prometheus). The server JVM also exits when its CLI
// dies, since it reads its stdin pipe for the shutdown marker
// (Elasticsearch.startCliMonitorThread).
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
}

// signalGroup signals the process group pgid; it reports whether any
// process of the group was still there.
func signalGroup(pgid int, sig syscall.Signal) bool {
	return syscall.Kill(-pgid, sig) == nil
}

func chown(path string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return os.Lchown(path, int(cred.Uid), int(cred.Gid))
}

func supported() error { return nil }

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
