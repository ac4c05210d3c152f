package daemon

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestApplyRuntimeDefaults runs in a child process so that the GC setting of
// this test binary stays untouched.
func TestApplyRuntimeDefaults(t *testing.T) {
	if os.Getenv("ESRX_TEST_GC_CHILD") == "1" {
		ApplyRuntimeDefaults()
		os.Stdout.WriteString(strconv.Itoa(debug.SetGCPercent(-1)) + "\n")
		return
	}
	for _, tc := range []struct {
		gogc string // "" = unset
		want string
	}{
		{"", strconv.Itoa(DefaultGCPercent)},
		{"150", "150"}, // the operator's GOGC wins
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestApplyRuntimeDefaults$")
		cmd.Env = append(os.Environ(), "ESRX_TEST_GC_CHILD=1")
		if tc.gogc != "" {
			cmd.Env = append(cmd.Env, "GOGC="+tc.gogc)
		} else {
			env := cmd.Env[:0]
			for _, kv := range cmd.Env {
				if len(kv) < 5 || kv[:5] != "GOGC=" {
					env = append(env, kv)
				}
			}
			cmd.Env = env
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		// The first line is the child's GC percent; the test runner's PASS follows.
		if got, _, _ := strings.Cut(string(out), "\n"); got != tc.want {
			t.Errorf("GOGC=%q: GC percent %q, want %s", tc.gogc, got, tc.want)
		}
	}
}
