package realcluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSweepStale: a harness directory whose test binary is gone is removed
// when the next harness starts; one whose owner lives (this fixture's) stays.
func TestSweepStale(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale, err := os.MkdirTemp("", "realcluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stale) })
	if err := os.WriteFile(filepath.Join(stale, ownerFile), []byte(strconv.Itoa(dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	sweepStale()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale %s still there (%v)", stale, err)
	}
	if _, err := os.Stat(filepath.Join(fx.h.Dir(), ownerFile)); err != nil {
		t.Errorf("the live fixture's directory was swept: %v", err)
	}
}

// A cache below a directory others cannot enter is refused with the
// directory and the remedy named, before any node fails to exec.
func TestCacheOthersCannotEnter(t *testing.T) {
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	err := othersCanEnter(filepath.Join(private, "rc", "not-yet"))
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+private+" (mode 0700)") || !strings.Contains(err.Error(), "chmod o+x "+private) {
		t.Fatalf("error %v; want it to name %s and the chmod", err, private)
	}
	if err := othersCanEnter("/"); err != nil {
		t.Errorf("/: %v", err)
	}
}
