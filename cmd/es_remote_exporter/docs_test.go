package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The documents the tests keep in step with the code.
const (
	readmeFile  = "../../README.md"
	metricsDoc  = "../../docs/metrics.md"
	commandsDoc = "../../docs/commands.md"
)

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile("(?m)^#{1,6} (.+)$")
	fence     = regexp.MustCompile("(?ms)^```.*?^```")
)

// anchor is the fragment GitHub gives a heading: lower case, punctuation
// other than '-' and '_' dropped, spaces as '-'.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchorsOf(t *testing.T, file string) map[string]bool {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(fence.ReplaceAllString(string(text), ""), -1) {
		out[anchor(m[1])] = true
	}
	return out
}

// TestDocLinksResolve: every relative link in the README, docs/ and the
// top-level documents names a file that exists and, with a fragment, a
// heading in it: a cross-reference to a section that does not exist fails.
func TestDocLinksResolve(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, readmeFile, "../../CONTRIBUTING.md", "../../SECURITY.md", "../../CHANGELOG.md")
	if len(files) < 8 {
		t.Fatalf("docs/ holds %d files, want metrics, configuration, commands, alerts, performance, development, how-it-works", len(files)-4)
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(fence.ReplaceAllString(string(text), ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), path)
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s links to %s, which does not exist", f, target)
					continue
				}
			}
			if frag != "" && !anchorsOf(t, dest)[frag] {
				t.Errorf("%s links to %s, but %s has no heading with anchor #%s", f, target, dest, frag)
			}
		}
	}
}

// TestReadmeFirstScreen: the README starts with what a newcomer needs, and
// the reference material lives in docs/.
func TestReadmeFirstScreen(t *testing.T) {
	text, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	if len(lines) > 200 {
		t.Errorf("README.md has %d lines; keep it to the first hour and move reference material to docs/", len(lines))
	}
	first := strings.Join(lines[:min(len(lines), 100)], "\n")
	for _, want := range []string{"## Contents", "go install ", "make build", "docker build", "Supported Elasticsearch versions",
		"clusters:", "scrape_configs:", "scrape_interval", "poll_interval"} {
		if !strings.Contains(first, want) {
			t.Errorf("README.md's first 100 lines lack %q", want)
		}
	}
}

// TestSystemdUnit: the shipped unit starts the daemon with flags it
// accepts, reloads with SIGHUP and keeps its sandbox.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../contrib/systemd/es_remote_exporter.service")
	if err != nil {
		t.Fatal(err)
	}
	text := string(unit)
	exec := regexp.MustCompile(`(?m)^ExecStart=(\S+)((?: \S+)*)$`).FindStringSubmatch(text)
	if exec == nil || filepath.Base(exec[1]) != programName {
		t.Fatalf("no ExecStart running %s: %q", programName, exec)
	}
	o := newFlagSet()
	name, rest := findCommand(o.fs, strings.Fields(exec[2]))
	if err := o.fs.Parse(rest); err != nil || name != "" {
		t.Errorf("ExecStart %s: command %q, %v; want the daemon with valid flags", exec[2], name, err)
	}
	for _, want := range []string{"ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter=@system-service", "DynamicUser=yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
}
