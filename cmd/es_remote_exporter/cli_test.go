package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/version"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/daemon"
	"github.com/es-remote-exporter/es_remote_exporter/internal/demo"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// runSplit runs the command line and returns the exit code, stdout and
// stderr apart: help and reports belong on stdout, errors on stderr.
func runSplit(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommandsRejectWhatTheyDoNotUse: the README promises that a flag or an
// argument a command does not use is an error.
func TestCommandsRejectWhatTheyDoNotUse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"version", "--log.level=debug"}, "--log.level does not apply to the version command"},
		{[]string{"version", "extra"}, `unexpected argument "extra"`},
		{[]string{"check", "--version"}, "--version does not apply to the check command: run 'es_remote_exporter version' on its own"},
		{[]string{"compat", "--config.file", "x.yml", "8.19.0", "9.1.0"}, "--config.file does not apply to the compat command"},
		{[]string{"compat", "--log.level", "debug", "8.19.0", "9.1.0"}, "--log.level does not apply to the compat command"},
		{[]string{"check", "--matrix"}, "--matrix does not apply to the check command: it belongs to the compat command"},
		{[]string{"check", "--web.listen-address=:1"}, "--web.listen-address does not apply to the check command: only the daemon and the demo serve HTTP"},
		{[]string{"help", "check", "demo"}, `unexpected argument "demo"`},
		{[]string{"help", "nope"}, `unknown command "nope"`},
		{[]string{"nope"}, `unknown command "nope"`},
	} {
		code, out, errOut := runSplit(tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestHelpPerCommand: each command's help shows that command's usage and
// only its flags, on stdout; `help COMMAND` and `COMMAND --help` agree.
func TestHelpPerCommand(t *testing.T) {
	for _, c := range commands {
		args := []string{"--help"}
		if c.name != "" {
			args = []string{c.name, "--help"}
		}
		code, out, errOut := runSplit(args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		if !strings.HasPrefix(out, "Usage: "+programName+" "+c.synopsis+"\n") {
			t.Errorf("%q does not start with its own usage line:\n%s", args, out)
		}
		var shown []string
		for _, m := range helpFlag.FindAllStringSubmatch(out, -1) {
			shown = append(shown, m[1])
		}
		if !slices.Equal(shown, c.flags) {
			t.Errorf("%q shows flags %q, want exactly the command's %q", args, shown, c.flags)
		}
		if c.name != "" {
			if code, viaHelp, _ := runSplit("help", c.name); code != 0 || viaHelp != out {
				t.Errorf("help %s differs from %s --help:\n%s", c.name, c.name, viaHelp)
			}
		}
	}
	if code, out, _ := runSplit("help"); code != 0 || !strings.Contains(out, "plan-upgrade [flags] CLUSTER VERSION") {
		t.Errorf("help: exit %d, want the overview of commands:\n%s", code, out)
	}
}

var (
	helpFlag = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z.-]+)`)
	spaces   = regexp.MustCompile(`\s+`)
)

// TestHelpMatchesDocs: every flag line of every command's help stands in
// docs/commands.md, and its table lists each command's flags.
func TestHelpMatchesDocs(t *testing.T) {
	raw, err := os.ReadFile(commandsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := spaces.ReplaceAllString(string(raw), " ")
	for _, c := range commands {
		_, out, _ := runSplit("help", c.name)
		if c.name == "" {
			_, out, _ = runSplit("--help")
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "--") && !strings.Contains(doc, spaces.ReplaceAllString(line, " ")) {
				t.Errorf("%s lacks this line of %q's help (paste it into its Flags section):\n%s", commandsDoc, c.name, line)
			}
		}
		name := "*(none)*"
		if c.name != "" {
			name = "`" + c.name + "`"
		}
		want := "none"
		if len(c.flags) > 0 {
			want = "`--" + strings.Join(c.flags, "`, `--") + "`"
		}
		if row := "| " + name + " | " + want + " |"; !strings.Contains(string(raw), row) {
			t.Errorf("%s's flags table lacks the row\n%s", commandsDoc, row)
		}
	}
}

// TestFlagErrors: an unknown flag gets the nearest one, a bad value names
// the flag and lists the valid values.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--es.poll_interval=5s"}, "unknown flag: --es.poll_interval; did you mean --es.poll-interval?"},
		{[]string{"--es.poll_interval", "5s", "demo"}, "did you mean --es.poll-interval?"},
		{[]string{"check", "--ouptut=json"}, "did you mean --output?"},
		{[]string{"demo", "--config.fil=x"}, "did you mean --config.file? (it does not apply to the demo command, though)"},
		{[]string{"--log.level=loud"}, `invalid argument "loud" for "--log.level" flag: must be one of debug, info, warn, error`},
		{[]string{"check", "--log.format=xml"}, `invalid argument "xml" for "--log.format" flag: must be logfmt or json`},
		{[]string{"--es.timeout=5"}, `"--es.timeout" flag`},
		{[]string{"--web.listen-address=10114"}, "--web.listen-address=10114: address 10114: missing port in address; write host:port or :port, like :10114"},
		{[]string{"demo", "--web.listen-address=10114"}, "--web.listen-address=10114: address 10114: missing port in address"},
	} {
		code, out, errOut := runSplit(tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
		if out != "" { // the demo's banner, for one, comes only after its flags pass
			t.Errorf("%q: stdout %q, want nothing", tc.args, out)
		}
	}
	// A value the configuration rejects names the flag it came from.
	if code, _, errOut := runSplit("--es.poll-interval=500ms", "--config.check"); code != 1 ||
		!strings.Contains(errOut, "poll_interval (from --es.poll-interval): must be at least 1s, got 500ms") {
		t.Errorf("--es.poll-interval=500ms --config.check: exit %d, stderr %q; want 1 and the flag named", code, errOut)
	}
}

// TestFlagsBeforeTheCommand: `--flag command` works like `command --flag`,
// also for a flag that takes its value as the next argument.
func TestFlagsBeforeTheCommand(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.yml")
	if err := os.WriteFile(empty, []byte("poll_interval: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "--output", "yaml", "--config.file", empty},
		{"--output", "yaml", "check", "--config.file", empty},
		{"--config.file", empty, "--output=yaml", "check"},
	} {
		if code, _, errOut := runSplit(args...); code != checkExitUsage || !strings.Contains(errOut, "--output must be text or json") {
			t.Errorf("%q: exit %d, stderr %q; want check to have its --output", args, code, errOut)
		}
	}

	// The demo with web and log flags before the command: it reaches the
	// listener (which is taken), logging errors only.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, out, errOut := runSplit("--log.level", "error", "--web.listen-address", busy.Addr().String(), "demo")
	if code != 1 || !strings.Contains(out, "es_remote_exporter demo:") || !strings.Contains(errOut, "level=ERROR") ||
		!strings.Contains(errOut, busy.Addr().String()) || strings.Contains(errOut, "level=INFO") {
		t.Errorf("flags before demo: exit %d, want 1 (port taken) with the demo's banner and errors only:\n%s\n%s", code, out, errOut)
	}
}

// TestBusyPortNamesTheFlag: the listener's error says which flag moves it.
func TestBusyPortNamesTheFlag(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, _, errOut := runSplit("--web.listen-address=" + busy.Addr().String())
	if code != 1 || !strings.Contains(errOut, "address already in use: another process listens there; stop it or choose another address with --web.listen-address") {
		t.Errorf("exit %d, stderr %q; want 1 and the flag that moves the port", code, errOut)
	}
}

// TestConfigCheckWarns: --config.check prints what the daemon would warn
// about, and still exits 0.
func TestConfigCheckWarns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(file, []byte("poll_interval: 10s\ntimeout: 10s\nclusters:\n  - name: a\n    urls: [\"https://a:9200\"]\n    tls: {insecure_skip_verify: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runSplit("--config.file", file, "--config.check")
	for _, want := range []string{"configuration is valid: 1 cluster(s)",
		`warning: clusters[0].tls.insecure_skip_verify: certificate verification is off for cluster "a"`,
		"warning: timeout: 10s is not shorter than poll_interval (10s)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, stdout lacks %q:\n%s", code, want, out)
		}
	}
}

// TestOneShotCommandsKeepTheLogQuiet: check and plan-upgrade print their
// report; the daemon's per-check warnings (a dead cluster here) stay off
// stderr unless --log.level asks for them.
func TestOneShotCommandsKeepTheLogQuiet(t *testing.T) {
	topo, err := demo.Start(t.TempDir(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	dir := t.TempDir()
	file, err := topo.WriteConfigFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A cluster nobody answers for: the daemon logs its failing checks.
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("  - name: gone\n    urls: [\"http://" + testtools.FreeAddr(t) + "\"]\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, args := range [][]string{{"check", "--config.file", file}, {"plan-upgrade", "--config.file", file, demo.Paris, "9.0.0"}} {
		_, out, errOut := runSplit(args...)
		if out == "" || errOut != "" {
			t.Errorf("%q: want the report on stdout and nothing on stderr; stderr:\n%s", args, errOut)
		}
		if args[0] == "plan-upgrade" && (!strings.Contains(out, "NOT POLLED gone:") || !strings.Contains(out, "1 cluster(s) not polled")) {
			t.Errorf("plan-upgrade does not report the cluster it could not poll:\n%s", out)
		}
		_, _, errOut = runSplit(append(args, "--log.level=warn")...)
		if !strings.Contains(errOut, "level=WARN") {
			t.Errorf("%q --log.level=warn: the log is missing on stderr:\n%s", args, errOut)
		}
	}
}

// TestReloadEndpointNeedsLifecycle: POST/PUT /-/reload answer 403 with a
// message saying how to enable them, unless --web.enable-lifecycle.
func TestReloadEndpointNeedsLifecycle(t *testing.T) {
	d, loads := countingDaemon(t)
	closed, err := d.Handler()
	if err != nil {
		t.Fatal(err)
	}
	open, err := d.Handler(daemon.WithLifecycle())
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"POST", "PUT"} {
		before := loads.Load()
		rec := get(t, closed, method, "/-/reload")
		if rec.Code != 403 || !strings.Contains(rec.Body.String(), "--web.enable-lifecycle") {
			t.Errorf("%s /-/reload without --web.enable-lifecycle: %d %q, want 403 naming the flag", method, rec.Code, rec.Body)
		}
		if loads.Load() != before {
			t.Errorf("%s /-/reload without --web.enable-lifecycle reloaded", method)
		}
		if rec := get(t, open, method, "/-/reload"); rec.Code != 200 || loads.Load() != before+1 {
			t.Errorf("%s /-/reload with --web.enable-lifecycle: %d, loads %d -> %d", method, rec.Code, before, loads.Load())
		}
	}
}

// TestSIGHUPReloads: SIGHUP reloads whether or not the lifecycle endpoints
// are enabled (serve always listens for it).
func TestSIGHUPReloads(t *testing.T) {
	d, loads := countingDaemon(t)
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal)
	done := make(chan struct{})
	go func() { reloadOnSignal(ctx, hup, d, discardLogger()); close(done) }()
	hup <- syscall.SIGHUP
	hup <- syscall.SIGHUP // accepted only after the first reload finished
	cancel()
	<-done
	if n := loads.Load(); n != 3 {
		t.Errorf("%d loads after two SIGHUPs, want 3: the first load and a reload for each", n)
	}
}

// countingDaemon is a daemon on the default configuration whose loads
// (the first and every reload) are counted.
func countingDaemon(t *testing.T) (*daemon.Daemon, *atomic.Int32) {
	t.Helper()
	loads := new(atomic.Int32)
	d, err := daemon.New(func() (*config.Config, error) {
		loads.Add(1)
		c := config.Defaults()
		return &c, nil
	}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d, loads
}

// TestOneVersion: the version is releaseVersion whatever the build route
// (a -X linker flag included), and CHANGELOG.md's newest section is it.
func TestOneVersion(t *testing.T) {
	saved := version.Version
	defer func() { version.Version = saved }()
	version.Version = "stamped-by-a-linker-flag"
	applyVersion()
	if _, out, _ := runSplit("version"); !strings.Contains(out, "es_remote_exporter, version "+releaseVersion+" ") {
		t.Errorf("version prints %q, want version %s", out, releaseVersion)
	}
	changelog, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	newest := regexp.MustCompile(`(?m)^## (\S+)`).FindSubmatch(changelog)
	if newest == nil || string(newest[1]) != releaseVersion {
		t.Errorf("CHANGELOG.md's newest section is %q, want %q (bump both together)", newest, releaseVersion)
	}
}

// TestDemoDoesNotWarnAboutItself: the demo's configuration at its real
// poll interval passes the checks the daemon warns about.
func TestDemoDoesNotWarnAboutItself(t *testing.T) {
	topo, err := demo.Start(t.TempDir(), demoPollInterval)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if w := topo.Config.Warnings(); len(w) > 0 {
		t.Errorf("the demo's configuration warns: %q", w)
	}
}
