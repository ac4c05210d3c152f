package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// The fuzz targets load configurations from every source (YAML file, environment, flags) and check
// what a user relies on whatever they wrote: no panic; no secret in an error, wherever it was written
// (inline password or api_key, a URL's password, an environment variable, the content of a secret
// file); a configuration that loads validates again and prints and marshals without its secrets.
//
// The fuzzer mutates the configuration; the secrets are then swapped for markers no message could
// contain by chance, so that finding one in an error is a leak and never a coincidence. Files are
// opened through fakeFiles: every path the configuration names exists and holds "example-secret".

const (
	secretMarker = "zq0-secret-marker-"
	fileSecret   = "example-secret" // what fakeFiles' files hold
)

// secretKeys are the keys whose values are secrets.
var secretKeys = []string{"password", "api_key"}

// markSecrets replaces, in a parsed YAML document, every value of a secret key and the password of
// every URL under urls with a marker, and returns the markers.
func markSecrets(n *yaml.Node, markers *[]string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			markSecrets(c, markers)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case v.Kind == yaml.ScalarNode && slices.Contains(secretKeys, k.Value):
				v.Value, v.Tag, v.Style = newMarker(markers), "!!str", yaml.DoubleQuotedStyle
			case k.Value == "urls" && v.Kind == yaml.ScalarNode:
				markURL(v, markers)
			case k.Value == "urls" && v.Kind == yaml.SequenceNode:
				for _, u := range v.Content {
					if u.Kind == yaml.ScalarNode {
						markURL(u, markers)
					}
				}
			default:
				markSecrets(v, markers)
			}
		}
	}
}

// markURL puts a marker where a URL written as scheme://user:password@host has its password.
func markURL(n *yaml.Node, markers *[]string) {
	if s, ok := withMarkedPassword(n.Value, markers); ok {
		n.Value, n.Tag, n.Style = s, "!!str", yaml.DoubleQuotedStyle
	}
}

func withMarkedPassword(raw string, markers *[]string) (string, bool) {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return "", false
	}
	start := 0
	if i := strings.Index(raw[:at], "://"); i >= 0 {
		start = i + 3
	}
	userinfo := raw[start:at]
	colon := strings.Index(userinfo, ":")
	if colon < 0 {
		return "", false
	}
	return raw[:start+colon+1] + newMarker(markers) + raw[at:], true
}

func newMarker(markers *[]string) string {
	m := secretMarker + strconv.Itoa(len(*markers))
	*markers = append(*markers, m)
	return m
}

// markEnv replaces the values of secret variables and URL passwords with markers and keeps the last
// entry of each name, as a process environment has it.
func markEnv(lines []string, markers *[]string) []string {
	var out []string
	index := map[string]int{}
	for _, l := range lines {
		name, value, _ := strings.Cut(l, "=")
		upper := strings.ToUpper(name)
		switch {
		case strings.HasSuffix(upper, "PASSWORD") || strings.HasSuffix(upper, "API_KEY"):
			value = newMarker(markers)
		case strings.HasSuffix(upper, "URLS"):
			var urls []string
			for u := range strings.SplitSeq(value, ",") {
				if s, ok := withMarkedPassword(u, markers); ok {
					u = s
				}
				urls = append(urls, u)
			}
			value = strings.Join(urls, ",")
		}
		l = name + "=" + value
		if i, seen := index[name]; seen {
			out[i] = l
			continue
		}
		index[name] = len(out)
		out = append(out, l)
	}
	return out
}

// fuzzInput is one configuration the fuzzer built.
type fuzzInput struct {
	file    *testtools.ScratchFile
	yaml    []byte   // "" = no file
	environ []string // already marked
	args    []string // flags; nil = no flag set
	raw     string   // everything the fuzzer wrote, to tell its own text from a leak
	markers []string
}

// prepare parses and marks a fuzzed YAML document. A document that does not parse is loaded as it is:
// the loader's errors about it must not leak either.
func (in *fuzzInput) prepare(t *testing.T, data []byte) {
	in.raw += string(data)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || doc.Kind == 0 {
		in.yaml = data
		return
	}
	markSecrets(&doc, &in.markers)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		in.yaml = data
		return
	}
	in.yaml = out
}

// load runs the loader on in and checks the properties every configuration has.
func (in *fuzzInput) load(t *testing.T) (*Config, error) {
	t.Helper()
	opts := LoadOptions{Environ: in.environ}
	if in.yaml != nil {
		opts.File = in.file.Write(t, in.yaml)
	}
	if in.args != nil {
		fs := pflag.NewFlagSet("fuzz", pflag.ContinueOnError)
		fs.SetOutput(&bytes.Buffer{})
		RegisterFlags(fs)
		if err := fs.Parse(in.args); err != nil {
			in.args = nil // pflag's business, not the loader's
		} else {
			opts.Flags = fs
		}
	}
	var files fakeFiles
	cfg, err := load(opts, files.open)
	secrets := slices.Clone(in.markers)
	if !strings.Contains(in.raw, fileSecret) {
		secrets = append(secrets, fileSecret)
	}
	if err != nil {
		msg := err.Error()
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Fatalf("the error shows a secret (%s):\n%s\n--- config file:\n%s\n--- environment:\n%s",
					s, msg, in.yaml, strings.Join(in.environ, "\n"))
			}
		}
		if strings.TrimSpace(msg) == "" {
			t.Fatal("an empty error")
		}
		return nil, err
	}
	if verr := cfg.validate(files.open); verr != nil {
		t.Fatalf("a loaded configuration does not validate again: %v", verr)
	}
	js, jerr := json.Marshal(cfg)
	if jerr != nil {
		t.Fatalf("a loaded configuration does not marshal: %v", jerr)
	}
	shown := fmt.Sprintf("%v\n%+v\n%#v\n%s", *cfg, *cfg, *cfg, js)
	for _, s := range secrets {
		if strings.Contains(shown, s) {
			t.Fatalf("printing the configuration shows a secret (%s):\n%s", s, shown)
		}
	}
	return cfg, nil
}

// configSeeds are the repository's configuration files and the YAML of the loader's own tests of
// secrets in the wrong places.
func configSeeds(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, p := range []string{"example.yml", "testdata/example.yml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	for _, s := range []string{
		"",
		"poll_interval: 1ms\nclusters:\n  - name: \" a\"\n    urls:\n      - https://elastic:hunter2@es:9200\n      - elastic:hunter2@es:9200\n      - ftp://elastic:hunter2@es\n    password: hunter2\n    password_file: /x\n    api_key: hunter2\n",
		"clusters:\n  - name: a\n    urls: [https://a]\n    password: [hunter2]\n    api_key: {hunter2: x}\n    tls: [hunter2]\n",
		"clusters:\n  - name: a\n    urls: [https://a]\n    transport:\n      keystore_password: hunter2\n      \"-\": hunter2\n      keystore_password_file: [hunter2]\n",
		"clusters:\n  - {name: a, urls: [https://a:9200], username: u, password: p, links: {b: {cluster: b, roles: {search: [r, r, \"x,y\"]}}}}\n  - {name: b, urls: [\"http://b:9200\"], api_key: k, tls: {insecure_skip_verify: true}}\n",
		"hunter2\n",
		"\"hunter2\"",
	} {
		out = append(out, []byte(s))
	}
	return out
}

var envSeeds = []string{
	"ES_REMOTE_EXPORTER_POLL_INTERVAL=15s\nES_REMOTE_EXPORTER_CLUSTERS__0__NAME=a\nES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://a:9200,https://b:9200\nES_REMOTE_EXPORTER_CLUSTERS__0__USERNAME=u\nES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=hunter2",
	"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=hunter2\nES_REMOTE_EXPORTER_CLUSTERS__0__NAME=a\nES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://elastic:hunter2@es\nES_REMOTE_EXPORTER_CLUSTERS__0__PASWORD=hunter2",
	"ES_REMOTE_EXPORTER_CLUSTERS__2__TLS__CA_FILE=/ca.pem\nES_REMOTE_EXPORTER_CLUSTERS_0_PASSWORD=x\nES_REMOTE_EXPORTER_TIMEOUT=\nES_REMOTE_EXPORTER_CLUSTERS__0__TLS=x",
	"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_PASSWORD=hunter2\nES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__-=hunter2\nes_remote_exporter_max_concurrency=3\nES_REMOTE_EXPORTER_MAX_CONCURRENCY=4",
	"ES_REMOTE_EXPORTER_CLUSTERS__1__NAME=b\nES_REMOTE_EXPORTER_CLUSTERS__1__URLS=https://b\nES_REMOTE_EXPORTER_CLUSTERS__1__API_KEY=k\nES_REMOTE_EXPORTER_CLUSTERS__1__LINKS__x__CLUSTER=prod",
}

var argSeeds = []string{"", "--es.poll-interval=15s", "--es.timeout 2s --es.max-concurrency=1", "--config.file=x --es.poll-interval=0s"}

func environOf(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// FuzzLoadFile loads a fuzzed YAML configuration file.
func FuzzLoadFile(f *testing.F) {
	for _, s := range configSeeds(f) {
		f.Add(s)
	}
	file := testtools.NewScratchFile(f, "config.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput{file: file}
		in.prepare(t, data)
		_, _ = in.load(t)
	})
}

// FuzzLoadEnv loads a fuzzed environment (one KEY=value per line). The order of the variables does not
// matter.
func FuzzLoadEnv(f *testing.F) {
	for _, s := range envSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, env string) {
		in := fuzzInput{raw: env}
		in.environ = markEnv(environOf(env), &in.markers)
		cfg, err := in.load(t)
		rev := in
		rev.environ = slices.Clone(in.environ)
		slices.Reverse(rev.environ)
		cfg2, err2 := rev.load(t)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("the order of the variables matters:\n%v\n%+v\nreversed:\n%v\n%+v", err, cfg, err2, cfg2)
		}
	})
}

// FuzzLoadLayers loads a fuzzed file, environment and command line together: the layers merge without
// panicking or leaking, and a flag the user set wins.
func FuzzLoadLayers(f *testing.F) {
	seeds := configSeeds(f)
	for i, s := range seeds {
		f.Add(s, envSeeds[i%len(envSeeds)], argSeeds[i%len(argSeeds)])
	}
	file := testtools.NewScratchFile(f, "config.yml")
	f.Fuzz(func(t *testing.T, data []byte, env, args string) {
		in := fuzzInput{file: file, raw: env + args}
		in.prepare(t, data)
		in.environ = markEnv(environOf(env), &in.markers)
		in.args = strings.Fields(args)
		cfg, err := in.load(t)
		if err != nil || in.args == nil {
			return
		}
		fs := pflag.NewFlagSet("fuzz", pflag.ContinueOnError)
		fs.SetOutput(&bytes.Buffer{})
		RegisterFlags(fs)
		if fs.Parse(in.args) != nil {
			t.Fatal("the flags parsed once and not twice")
		}
		for flag, got := range map[string]any{FlagPollInterval: cfg.PollInterval, FlagTimeout: cfg.Timeout, FlagMaxConcurrency: cfg.MaxConcurrency} {
			fl := fs.Lookup(flag)
			if !fl.Changed {
				continue
			}
			want := fl.Value.String()
			if d, ok := got.(time.Duration); ok {
				if pd, err := time.ParseDuration(want); err == nil && pd == d {
					continue
				}
			}
			if fmt.Sprint(got) != want {
				t.Errorf("--%s=%s was set, but the configuration has %v", flag, want, got)
			}
		}
	})
}
