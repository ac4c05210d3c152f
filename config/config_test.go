package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spf13/pflag"
)

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeConfig writes a YAML config file into a fresh temporary directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "config.yml", yaml)
}

// checkErrors asserts that err holds exactly len(want) problems (one per line), each line containing
// one of the wanted substrings.
func checkErrors(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error:\n%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error; want %d:\n%s", len(want), strings.Join(want, "\n"))
	}
	lines := strings.Split(err.Error(), "\n")
	for _, w := range want {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
			t.Errorf("no error line contains %q", w)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("got %d error lines, want %d", len(lines), len(want))
	}
	if t.Failed() {
		t.Logf("errors:\n%v", err)
	}
}

func parseFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	want := Config{PollInterval: 30 * time.Second, Timeout: 10 * time.Second, MaxConcurrency: 32}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("Defaults() = %+v, want %+v", d, want)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("Defaults() is invalid: %v", err)
	}
	// Nothing configured: the defaults, zero clusters, no error (main warns about zero clusters).
	got, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("Load with no sources = %+v, want %+v", *got, want)
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeConfig(t, "poll_interval: 45s\ntimeout: 5s\nmax_concurrency: 4\n")
	type want struct {
		poll, timeout time.Duration
		conc          int
	}
	tests := []struct {
		name  string
		file  string
		env   []string
		flags func(t *testing.T) *pflag.FlagSet
		want  want
	}{
		{name: "defaults", want: want{30 * time.Second, 10 * time.Second, 32}},
		{name: "file over defaults", file: file, want: want{45 * time.Second, 5 * time.Second, 4}},
		{
			name: "env over file",
			file: file,
			env:  []string{"ES_REMOTE_EXPORTER_POLL_INTERVAL=15s", "ES_REMOTE_EXPORTER_MAX_CONCURRENCY=8"},
			want: want{15 * time.Second, 5 * time.Second, 8},
		},
		{
			name:  "env over defaults without file",
			env:   []string{"ES_REMOTE_EXPORTER_TIMEOUT=2s"},
			flags: func(t *testing.T) *pflag.FlagSet { return parseFlags(t) },
			want:  want{30 * time.Second, 2 * time.Second, 32},
		},
		{
			name: "set flags over env and file",
			file: file,
			env:  []string{"ES_REMOTE_EXPORTER_POLL_INTERVAL=15s", "ES_REMOTE_EXPORTER_TIMEOUT=3s"},
			flags: func(t *testing.T) *pflag.FlagSet {
				return parseFlags(t, "--es.poll-interval=2m", "--es.max-concurrency=2")
			},
			want: want{2 * time.Minute, 3 * time.Second, 2},
		},
		{
			name:  "unset flags keep file values although their defaults differ",
			file:  file,
			flags: func(t *testing.T) *pflag.FlagSet { return parseFlags(t) },
			want:  want{45 * time.Second, 5 * time.Second, 4},
		},
		{
			name: "unset flag with a non-default default does not override",
			file: file,
			env:  []string{"ES_REMOTE_EXPORTER_TIMEOUT=3s"},
			flags: func(t *testing.T) *pflag.FlagSet {
				fs := pflag.NewFlagSet("custom", pflag.ContinueOnError)
				fs.Duration(FlagTimeout, 99*time.Second, "")
				fs.Int(FlagMaxConcurrency, 99, "")
				fs.String("web.listen-address", ":9999", "") // another package's flag: ignored
				if err := fs.Parse([]string{"--web.listen-address=:1"}); err != nil {
					t.Fatal(err)
				}
				return fs
			},
			want: want{45 * time.Second, 3 * time.Second, 4},
		},
		{
			name:  "flag set to its default value still overrides",
			file:  file,
			flags: func(t *testing.T) *pflag.FlagSet { return parseFlags(t, "--es.timeout=10s") },
			want:  want{45 * time.Second, 10 * time.Second, 4},
		},
		{
			name: "variables without the prefix are ignored",
			env:  []string{"HOME=/root", "ES_REMOTE_POLL_INTERVAL=1h", "es_remote_exporter_timeout=1h", "POLL_INTERVAL=1h"},
			want: want{30 * time.Second, 10 * time.Second, 32},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{File: tt.file, Environ: tt.env}
			if tt.flags != nil {
				opts.Flags = tt.flags(t)
			}
			cfg, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			got := want{cfg.PollInterval, cfg.Timeout, cfg.MaxConcurrency}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoadEnvClusters(t *testing.T) {
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", "ca")
	otherCA := writeFile(t, dir, "other-ca.pem", "ca")
	keystore := writeFile(t, dir, "transport.p12", "p12")
	keystorePassword := writeFile(t, dir, "transport.password", "ks-s3cret\n")
	file := writeConfig(t, fmt.Sprintf(`
clusters:
  - name: a
    urls: [https://a:9200]
    username: u
    password: file-password
    tls:
      ca_file: %s
      server_name: a.internal
  - name: b
    urls: [https://b:9200]
    api_key: file-key
`, ca))
	tests := []struct {
		name    string
		file    string
		env     []string
		want    []Cluster // nil with wantErr
		wantErr []string
	}{
		{
			name: "file only",
			file: file,
			want: []Cluster{
				{Name: "a", URLs: []string{"https://a:9200"}, Username: "u", Password: "file-password", TLS: TLS{CAFile: ca, ServerName: "a.internal"}},
				{Name: "b", URLs: []string{"https://b:9200"}, APIKey: "file-key"},
			},
		},
		{
			name: "env overrides single fields of file clusters by index",
			file: file,
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=env-password",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__CA_FILE=" + otherCA,
				"ES_REMOTE_EXPORTER_CLUSTERS__1__URLS=https://b1:9200, https://b2:9200",
				"ES_REMOTE_EXPORTER_CLUSTERS__1__TIMEOUT=3s",
			},
			want: []Cluster{
				{Name: "a", URLs: []string{"https://a:9200"}, Username: "u", Password: "env-password", TLS: TLS{CAFile: otherCA, ServerName: "a.internal"}},
				{Name: "b", URLs: []string{"https://b1:9200", "https://b2:9200"}, APIKey: "file-key", Timeout: 3 * time.Second},
			},
		},
		{
			name: "env index after the file's clusters adds clusters",
			file: file,
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__2__NAME=c",
				"ES_REMOTE_EXPORTER_CLUSTERS__2__URLS=http://c:9200",
				"ES_REMOTE_EXPORTER_CLUSTERS__3__NAME=d",
				"ES_REMOTE_EXPORTER_CLUSTERS__3__URLS=https://d:9200",
				"ES_REMOTE_EXPORTER_CLUSTERS__3__TLS__INSECURE_SKIP_VERIFY=true",
			},
			want: []Cluster{
				{Name: "a", URLs: []string{"https://a:9200"}, Username: "u", Password: "file-password", TLS: TLS{CAFile: ca, ServerName: "a.internal"}},
				{Name: "b", URLs: []string{"https://b:9200"}, APIKey: "file-key"},
				{Name: "c", URLs: []string{"http://c:9200"}},
				{Name: "d", URLs: []string{"https://d:9200"}, TLS: TLS{InsecureSkipVerify: true}},
			},
		},
		{
			name: "env sets transport fields",
			file: file,
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__CA_FILE=" + otherCA,
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_FILE=" + keystore,
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_PASSWORD_FILE=" + keystorePassword,
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__PROBE_INTERVAL=30s",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__PROBE_LOCAL_NODES=true",
				"ES_REMOTE_EXPORTER_CLUSTERS__1__TRANSPORT__PROBE_LOCAL_NODES=1",
			},
			want: []Cluster{
				{
					Name: "a", URLs: []string{"https://a:9200"}, Username: "u", Password: "file-password",
					TLS: TLS{CAFile: ca, ServerName: "a.internal"},
					Transport: Transport{
						CAFile: otherCA, KeystoreFile: keystore, KeystorePasswordFile: keystorePassword,
						KeystorePassword: "ks-s3cret", ProbeInterval: 30 * time.Second, ProbeLocalNodes: true,
					},
				},
				{Name: "b", URLs: []string{"https://b:9200"}, APIKey: "file-key", Transport: Transport{ProbeLocalNodes: true}},
			},
		},
		{
			name: "env overrides single transport fields of the file",
			file: writeConfig(t, fmt.Sprintf(
				"clusters:\n  - name: a\n    urls: [https://a]\n    transport: {ca_file: %s, probe_interval: 1m}\n", ca)),
			env: []string{"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__PROBE_INTERVAL=2m"},
			want: []Cluster{
				{Name: "a", URLs: []string{"https://a"}, Transport: Transport{CAFile: ca, ProbeInterval: 2 * time.Minute}},
			},
		},
		{
			name: "env alone defines clusters",
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__NAME=only",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://only:9200",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__USERNAME=u",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=p",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__POLL_INTERVAL=1m",
			},
			want: []Cluster{{Name: "only", URLs: []string{"https://only:9200"}, Username: "u", Password: "p", PollInterval: time.Minute}},
		},
		{
			name: "empty values are unset",
			file: file,
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=",
				"ES_REMOTE_EXPORTER_CLUSTERS__2__NAME=",
				"ES_REMOTE_EXPORTER_TIMEOUT=",
			},
			want: []Cluster{
				{Name: "a", URLs: []string{"https://a:9200"}, Username: "u", Password: "file-password", TLS: TLS{CAFile: ca, ServerName: "a.internal"}},
				{Name: "b", URLs: []string{"https://b:9200"}, APIKey: "file-key"},
			},
		},
		{
			// The Kubernetes setup: the file (a ConfigMap) names a password file, the environment (a
			// Secret) carries the password; the higher source's choice replaces the lower one's.
			name: "env secret replaces the file's secret file, and the other way round",
			file: writeConfig(t, fmt.Sprintf("clusters:\n  - name: a\n    urls: [https://a]\n    username: u\n    password_file: %s\n"+
				"  - name: b\n    urls: [https://b]\n    api_key: file-key\n", writeFile(t, dir, "a.password", "from-file\n"))),
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=from-env",
				"ES_REMOTE_EXPORTER_CLUSTERS__1__API_KEY_FILE=" + writeFile(t, dir, "b.key", "key-from-file\n"),
			},
			want: []Cluster{
				{Name: "a", URLs: []string{"https://a"}, Username: "u", Password: "from-env"},
				{Name: "b", URLs: []string{"https://b"}, APIKey: "key-from-file", APIKeyFile: filepath.Join(dir, "b.key")},
			},
		},
		{
			name: "one source setting a secret and its file names both",
			file: file,
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=p",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD_FILE=" + ca,
			},
			wantErr: []string{"clusters[0].password (from ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD) and ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD_FILE are both set: set only one of password and password_file"},
		},
		{
			name:    "gap after the file's clusters",
			file:    file,
			env:     []string{"ES_REMOTE_EXPORTER_CLUSTERS__3__NAME=d", "ES_REMOTE_EXPORTER_CLUSTERS__3__URLS=https://d:9200"},
			wantErr: []string{"clusters[3] (from ES_REMOTE_EXPORTER_CLUSTERS__3__*): there is no clusters[2]; cluster indexes must be contiguous: the config file defines 2 cluster(s), so clusters added by environment variables take the next indexes, starting at 2"},
		},
		{
			name:    "gap without a file",
			env:     []string{"ES_REMOTE_EXPORTER_CLUSTERS__1__NAME=x"},
			wantErr: []string{"clusters[1] (from ES_REMOTE_EXPORTER_CLUSTERS__1__*): there is no clusters[0]"},
		},
		{
			name: "index that is not a number",
			env:  []string{"ES_REMOTE_EXPORTER_CLUSTERS__PROD__NAME=prod", "ES_REMOTE_EXPORTER_CLUSTERS__01__NAME=x"},
			wantErr: []string{
				`clusters.01 (from ES_REMOTE_EXPORTER_CLUSTERS__01): "01" is not a list index; use ES_REMOTE_EXPORTER_CLUSTERS__<INDEX>__<KEY>`,
				`clusters.prod (from ES_REMOTE_EXPORTER_CLUSTERS__PROD): "prod" is not a list index`,
			},
		},
		{
			name:    "whole list from env",
			env:     []string{"ES_REMOTE_EXPORTER_CLUSTERS=https://a:9200"},
			wantErr: []string{"clusters (from ES_REMOTE_EXPORTER_CLUSTERS): cannot be set as a whole; set one field of one entry, like ES_REMOTE_EXPORTER_CLUSTERS__0__NAME"},
		},
		{
			name:    "section and its field both set",
			env:     []string{"ES_REMOTE_EXPORTER_CLUSTERS__0__TLS=x", "ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__CA_FILE=/ca"},
			wantErr: []string{"ES_REMOTE_EXPORTER_CLUSTERS__0__TLS conflicts with ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__CA_FILE: clusters[0].tls is a section; set only its fields"},
		},
		{
			name:    "same key spelled twice",
			env:     []string{"ES_REMOTE_EXPORTER_TIMEOUT=1s", "ES_REMOTE_EXPORTER_timeout=2s"},
			wantErr: []string{"ES_REMOTE_EXPORTER_TIMEOUT and ES_REMOTE_EXPORTER_timeout both set timeout; remove one"},
		},
		{
			name: "bad values name the variable",
			env: []string{
				"ES_REMOTE_EXPORTER_POLL_INTERVAL=soon",
				"ES_REMOTE_EXPORTER_MAX_CONCURRENCY=many",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__INSECURE_SKIP_VERIFY=sure",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__PROBE_INTERVAL=hourly",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__PROBE_LOCAL_NODES=sure",
			},
			wantErr: []string{
				`poll_interval (from ES_REMOTE_EXPORTER_POLL_INTERVAL): "soon" is not a duration; write a number with a unit, like "30s"`,
				`max_concurrency (from ES_REMOTE_EXPORTER_MAX_CONCURRENCY): must be a whole number, not "many"`,
				`clusters[0].tls.insecure_skip_verify (from ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__INSECURE_SKIP_VERIFY): must be true or false, not "sure"`,
				`clusters[0].transport.probe_interval (from ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__PROBE_INTERVAL): "hourly" is not a duration`,
				`clusters[0].transport.probe_local_nodes (from ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__PROBE_LOCAL_NODES): must be true or false, not "sure"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{File: tt.file, Environ: tt.env})
			if tt.wantErr != nil {
				checkErrors(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Clusters, tt.want) {
				t.Errorf("clusters:\n got %+v\nwant %+v", cfg.Clusters, tt.want)
				for i := range min(len(cfg.Clusters), len(tt.want)) {
					if g, w := cfg.Clusters[i], tt.want[i]; g.Password != w.Password || g.APIKey != w.APIKey ||
						g.Transport.KeystorePassword != w.Transport.KeystorePassword {
						t.Errorf("clusters[%d] secrets differ (values not shown by %%+v)", i)
					}
				}
			}
		})
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string
	}{
		{
			name: "top level with suggestion",
			yaml: "poll_intervall: 10s\n",
			want: []string{"poll_intervall: unknown key; did you mean poll_interval?"},
		},
		{
			name: "top level without suggestion lists valid keys",
			yaml: "listen: :9100\n",
			want: []string{"listen: unknown key; valid keys here are poll_interval, timeout, max_concurrency, clusters"},
		},
		{
			name: "cluster",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n    pasword: x\n",
			want: []string{"clusters[0].pasword: unknown key; did you mean clusters[0].password?"},
		},
		{
			name: "tls",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n  - name: b\n    urls: [https://b]\n    tls:\n      ca_fiel: /ca.pem\n",
			want: []string{"clusters[1].tls.ca_fiel: unknown key; did you mean clusters[1].tls.ca_file?"},
		},
		{
			name: "hyphen and case",
			yaml: "Timeout: 1s\nclusters:\n  - name: a\n    urls: [https://a]\n    api-key: x\n",
			want: []string{
				"Timeout: unknown key; did you mean timeout?",
				"clusters[0].api-key: unknown key; did you mean clusters[0].api_key?",
			},
		},
		{
			name: "non-string key",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n    9200: x\n",
			want: []string{"clusters[0].9200: unknown key; valid keys here are name, urls,"},
		},
		{
			name: "dotted key is not nesting",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n    tls.ca_file: /ca.pem\n",
			want: []string{"clusters[0].tls.ca_file: unknown key; valid keys here are name, urls, username, password, password_file, api_key, api_key_file, poll_interval, timeout, tls, transport, remote_cluster_client, links"},
		},
		{
			name: "every unknown key at once",
			yaml: "polling: 1s\nclusters:\n  - name: a\n    url: https://a\n    tls: {ca: x, verify: false}\n",
			want: []string{
				"polling: unknown key",
				"clusters[0].url: unknown key; did you mean clusters[0].urls?",
				"clusters[0].tls.ca: unknown key",
				"clusters[0].tls.verify: unknown key",
			},
		},
		{
			name: "env",
			env: []string{
				"ES_REMOTE_EXPORTER_TIMEOT=1s",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__CA_FIEL=/ca.pem",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__NAME=a",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://a",
				"ES_REMOTE_EXPORTER_EMPTY_TYPO=",
			},
			want: []string{
				"timeot (from ES_REMOTE_EXPORTER_TIMEOT): unknown key; did you mean ES_REMOTE_EXPORTER_TIMEOUT?",
				"clusters[0].tls.ca_fiel (from ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__CA_FIEL): unknown key; did you mean ES_REMOTE_EXPORTER_CLUSTERS__0__TLS__CA_FILE?",
				"empty_typo (from ES_REMOTE_EXPORTER_EMPTY_TYPO): unknown key",
			},
		},
		{
			name: "transport",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n    transport:\n      probe_intervall: 1m\n      verify: full\n",
			want: []string{
				"clusters[0].transport.probe_intervall: unknown key; did you mean clusters[0].transport.probe_interval?",
				"clusters[0].transport.verify: unknown key; valid keys here are ca_file, cert_file, key_file, keystore_file, keystore_password_file, probe_interval, probe_local_nodes",
			},
		},
		{
			// KeystorePassword (koanf:"-") is filled by Load only: neither its Go name nor "-" is a key.
			name: "keystore password is not a key in the file",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n    transport:\n      keystore_password: x\n      \"-\": x\n      keystorepassword: x\n",
			want: []string{
				"clusters[0].transport.keystore_password: unknown key; did you mean clusters[0].transport.keystore_password_file?",
				"clusters[0].transport.-: unknown key; valid keys here are ca_file, cert_file, key_file, keystore_file, keystore_password_file, probe_interval, probe_local_nodes",
				"clusters[0].transport.keystorepassword: unknown key",
			},
		},
		{
			name: "keystore password is not a key in the environment",
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__NAME=a",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://a",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_PASSWORD=x",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__-=x",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT_CA_FILE=/ca.pem",
			},
			want: []string{
				"clusters[0].transport.keystore_password (from ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_PASSWORD): unknown key; did you mean ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_PASSWORD_FILE?",
				"clusters[0].transport.- (from ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__-): unknown key; valid keys here are ca_file,",
				"clusters[0].transport_ca_file (from ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT_CA_FILE): unknown key; valid keys here are name, urls, username, password, password_file, api_key, api_key_file, poll_interval, timeout, tls, transport, remote_cluster_client, links; nesting levels in variable names are separated by a double underscore",
			},
		},
		{
			name: "env with single underscores",
			env:  []string{"ES_REMOTE_EXPORTER_CLUSTERS_0_PASSWORD=x"},
			want: []string{"clusters_0_password (from ES_REMOTE_EXPORTER_CLUSTERS_0_PASSWORD): unknown key; valid keys here are poll_interval, timeout, max_concurrency, clusters; nesting levels in variable names are separated by a double underscore"},
		},
		{
			name: "file and env together",
			yaml: "timout: 1s\n",
			env:  []string{"ES_REMOTE_EXPORTER_POLL_INTERVL=1s"},
			want: []string{
				"timout: unknown key; did you mean timeout?",
				"poll_intervl (from ES_REMOTE_EXPORTER_POLL_INTERVL): unknown key; did you mean ES_REMOTE_EXPORTER_POLL_INTERVAL?",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Environ: tt.env}
			if tt.yaml != "" {
				opts.File = writeConfig(t, tt.yaml)
			}
			_, err := Load(opts)
			checkErrors(t, err, tt.want)
		})
	}
}

func TestLoadTypeErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "durations",
			yaml: "poll_interval: 30\ntimeout: soon\nclusters:\n  - name: a\n    urls: [https://a]\n    poll_interval: 1 minute\n",
			want: []string{
				`poll_interval: must be a duration with a unit, like "30s" or "1m30s", not a number`,
				`timeout: "soon" is not a duration; write a number with a unit`,
				`clusters[0].poll_interval: "1 minute" is not a duration`,
			},
		},
		{
			name: "zero without unit is a duration",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n    timeout: 0\n",
		},
		{
			name: "strings must be strings",
			yaml: "clusters:\n  - name: 2024\n    urls: [https://a, 9200]\n    username: u\n    password: 12345\n    tls: {server_name: [a]}\n",
			want: []string{
				"clusters[0].name: must be a string, not a number (put the value in quotes)",
				"clusters[0].urls[1]: must be a string, not a number (put the value in quotes)",
				"clusters[0].password: must be a string, not a number (put the value in quotes)",
				"clusters[0].tls.server_name: must be a string, not a list",
			},
		},
		{
			name: "a single url string is a one-item list",
			yaml: "clusters:\n  - name: a\n    urls: https://a:9200\n",
		},
		{
			name: "shapes",
			yaml: "max_concurrency: 2.5\nclusters:\n  prod:\n    urls: [https://a]\n",
			want: []string{
				"max_concurrency: must be a whole number, not a fractional number",
				`clusters: must be a list (each entry starting with "- "), not a mapping`,
			},
		},
		{
			name: "entries and sections",
			yaml: "clusters:\n  - https://a:9200\n  - name: b\n    urls: {a: b}\n    tls: true\n    password_file: {}\n  - name: c\n    urls: [https://c]\n    tls: {insecure_skip_verify: \"yes\"}\n  -\n",
			want: []string{
				"clusters[0]: must be a mapping with the keys name, urls, username,",
				"clusters[3]: must be a mapping with the keys name, urls, username, password, password_file, api_key, api_key_file, poll_interval, timeout, tls, transport, remote_cluster_client, links, not nothing (an empty entry)",
				"clusters[1].urls: must be a list of strings, not a mapping",
				"clusters[1].tls: must be a mapping with the keys ca_file, cert_file, key_file, server_name, insecure_skip_verify, not a boolean",
				"clusters[1].password_file: must be a string, not a mapping",
				`clusters[2].tls.insecure_skip_verify: must be true or false, not "yes"`,
			},
		},
		{
			name: "transport",
			yaml: "clusters:\n  - name: a\n    urls: [https://a]\n    transport: /ca.pem\n" +
				"  - name: b\n    urls: [https://b]\n    transport: {probe_interval: 600, probe_local_nodes: \"yes\", ca_file: [a], keystore_password_file: 1234}\n",
			want: []string{
				// keystore_password (the "-" field) is not a key, so not listed.
				"clusters[0].transport: must be a mapping with the keys ca_file, cert_file, key_file, keystore_file, keystore_password_file, probe_interval, probe_local_nodes, certificates_from_all_nodes, not a string",
				`clusters[1].transport.probe_interval: must be a duration with a unit, like "30s" or "1m30s", not a number`,
				`clusters[1].transport.probe_local_nodes: must be true or false, not "yes"`,
				"clusters[1].transport.ca_file: must be a string, not a list",
				"clusters[1].transport.keystore_password_file: must be a string, not a number (put the value in quotes)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeConfig(t, tt.yaml)})
			checkErrors(t, err, tt.want)
		})
	}
}

func TestLoadConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		want string
	}{
		{
			name: "missing",
			path: filepath.Join(dir, "nope.yml"),
			want: "config file: open " + filepath.Join(dir, "nope.yml") + ": no such file or directory",
		},
		{
			name: "syntax",
			path: writeFile(t, dir, "bad.yml", "clusters:\n  - name: a\n   urls: [\n"),
			want: "config file " + filepath.Join(dir, "bad.yml") + ": yaml: line ",
		},
		{
			name: "duplicate key",
			path: writeFile(t, dir, "dup.yml", "timeout: 1s\ntimeout: 2s\n"),
			want: `mapping key "timeout" already defined at line 1`,
		},
		{
			name: "not a mapping",
			path: writeFile(t, dir, "list.yml", "- a\n- b\n"),
			want: "yaml: line 1: the file must be a YAML mapping with keys such as poll_interval and clusters",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: tt.path})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}

	t.Run("empty file is all defaults", func(t *testing.T) {
		cfg, err := Load(LoadOptions{File: writeFile(t, dir, "empty.yml", "# nothing yet\n")})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*cfg, Defaults()) {
			t.Errorf("got %+v, want defaults", *cfg)
		}
	})
}

// validBase is a valid configuration whose files exist in dir.
func validBase(t *testing.T) (Config, string) {
	t.Helper()
	dir := t.TempDir()
	return Config{
		PollInterval:   30 * time.Second,
		Timeout:        10 * time.Second,
		MaxConcurrency: 32,
		Clusters: []Cluster{{
			Name:     "prod",
			URLs:     []string{"https://es-1:9200", "https://es-2:9200"},
			Username: "monitor",
			Password: "p",
			TLS:      TLS{CAFile: writeFile(t, dir, "ca.pem", "ca")},
		}},
	}, dir
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, c *Config, dir string)
		want   []string
	}{
		{name: "valid", mutate: func(*testing.T, *Config, string) {}},
		{name: "zero clusters is valid", mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters = nil }},
		{
			name: "global bounds",
			mutate: func(_ *testing.T, c *Config, _ string) {
				c.PollInterval, c.Timeout, c.MaxConcurrency = 500*time.Millisecond, 50*time.Millisecond, 0
			},
			want: []string{
				"poll_interval: must be at least 1s, got 500ms",
				"timeout: must be at least 100ms, got 50ms",
				"max_concurrency: must be at least 1, got 0",
			},
		},
		{
			name:   "global minimums are allowed",
			mutate: func(_ *testing.T, c *Config, _ string) { c.PollInterval, c.Timeout = time.Second, 100*time.Millisecond },
		},
		{
			name:   "name required",
			mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters[0].Name = "" },
			want:   []string{"clusters[0].name: required; it identifies the cluster in the es_cluster label"},
		},
		{
			name:   "name with spaces",
			mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters[0].Name = " prod" },
			want:   []string{`clusters[0].name: " prod" has leading or trailing spaces; remove them`},
		},
		{
			name:   "name not UTF-8",
			mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters[0].Name = "pr\xffod" },
			want:   []string{"clusters[0].name: must be valid UTF-8"},
		},
		{
			name:   "any UTF-8 name is fine",
			mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters[0].Name = "prod/eu west ✓" },
		},
		{
			name: "duplicate names",
			mutate: func(_ *testing.T, c *Config, _ string) {
				other := c.Clusters[0]
				other.Name = "other"
				c.Clusters = append(c.Clusters, other, c.Clusters[0], c.Clusters[0])
			},
			want: []string{
				`clusters[2].name: duplicate of clusters[0].name "prod"; cluster names must be unique`,
				`clusters[3].name: duplicate of clusters[0].name "prod"; cluster names must be unique`,
			},
		},
		{
			name:   "urls required",
			mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters[0].URLs = nil; c.Clusters[0].TLS = TLS{} },
			want:   []string{"clusters[0].urls: required; list at least one URL"},
		},
		{
			name: "bad urls",
			mutate: func(_ *testing.T, c *Config, _ string) {
				c.Clusters[0].URLs = []string{
					"https://ok:9200",
					"",
					"ftp://es:21",
					"localhost:9200",
					"https://",
					"https://es:port",
					"https://elastic:changeme@es:9200",
					" https://es:9200",
					"HTTPS://upper-case-scheme-is-fine:9200",
					"https://es:9200/proxy/prefix",
				}
			},
			want: []string{
				"clusters[0].urls[1]: is empty; write a URL like https://es.example.com:9200",
				`clusters[0].urls[2]: "ftp://es:21" is not an http:// or https:// URL; write it like https://es.example.com:9200`,
				`clusters[0].urls[3]: "localhost:9200" is not an http:// or https:// URL`,
				`clusters[0].urls[4]: "https://" has no host`,
				`clusters[0].urls[5]: "https://es:port" is not a valid URL: invalid port ":port" after host`,
				`clusters[0].urls[6]: "https://elastic:xxxxx@es:9200" has credentials in it; remove them and set username and password (or password_file) on the cluster instead`,
				`clusters[0].urls[7]: " https://es:9200" is not a valid URL`,
			},
		},
		{
			name: "per-cluster durations",
			mutate: func(_ *testing.T, c *Config, _ string) {
				c.Clusters[0].PollInterval, c.Clusters[0].Timeout = -time.Second, 10*time.Millisecond
				other := c.Clusters[0]
				other.Name, other.PollInterval, other.Timeout = "other", 999*time.Millisecond, -1
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].poll_interval: must not be negative, got -1s; leave it unset to use the global poll_interval",
				"clusters[0].timeout: must be at least 100ms, got 10ms",
				"clusters[1].poll_interval: must be at least 1s, got 999ms",
				"clusters[1].timeout: must not be negative, got -1ns; leave it unset to use the global timeout",
			},
		},
		{
			name: "password and password_file",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].PasswordFile = writeFile(t, dir, "pw", "other\n")
			},
			want: []string{"clusters[0].password_file: set only one of password and password_file"},
		},
		{
			name: "api_key and api_key_file",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Username, c.Clusters[0].Password = "", ""
				c.Clusters[0].APIKey, c.Clusters[0].APIKeyFile = "k", writeFile(t, dir, "key", "other")
			},
			want: []string{"clusters[0].api_key_file: set only one of api_key and api_key_file"},
		},
		{
			name: "username and api key",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Password = ""
				c.Clusters[0].APIKeyFile = writeFile(t, dir, "key", "k")
				other := c.Clusters[0]
				other.Name, other.APIKeyFile, other.APIKey, other.Password = "other", "", "k", "p"
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].api_key_file: cannot be combined with username: use basic auth (username and password) or an API key, not both",
				"clusters[1].api_key: cannot be combined with username",
			},
		},
		{
			name: "password without username",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Username = ""
				other := c.Clusters[0]
				other.Name, other.Password, other.PasswordFile = "other", "", writeFile(t, dir, "pw", "p")
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].username: required because password is set",
				"clusters[1].username: required because password_file is set",
			},
		},
		{
			name:   "username without password",
			mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters[0].Password = "" },
			want:   []string{"clusters[0].password: required because username is set; set password or password_file"},
		},
		{
			name: "no credentials at all is fine",
			mutate: func(_ *testing.T, c *Config, _ string) {
				c.Clusters[0].Username, c.Clusters[0].Password = "", ""
			},
		},
		{
			name: "secret files",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Password = ""
				c.Clusters[0].PasswordFile = filepath.Join(dir, "missing")
				for i, content := range []string{"", "\n", "a\nb\n", "a\n\n", strings.Repeat("x", maxSecretSize+1)} {
					c.Clusters = append(c.Clusters, Cluster{
						Name:       fmt.Sprint(i),
						URLs:       []string{"https://es"},
						APIKeyFile: writeFile(t, dir, fmt.Sprint("key", i), content),
					})
				}
				c.Clusters = append(c.Clusters, Cluster{Name: "dir", URLs: []string{"https://es"}, APIKeyFile: dir})
			},
			want: []string{
				"clusters[0].password_file: open " + "<dir>/missing: no such file or directory",
				"clusters[1].api_key_file: <dir>/key0 is empty; write the secret into it",
				"clusters[2].api_key_file: <dir>/key1 is empty",
				"clusters[3].api_key_file: <dir>/key2 has more than one line; it must hold only the secret (one trailing newline is fine)",
				"clusters[4].api_key_file: <dir>/key3 has more than one line",
				"clusters[5].api_key_file: <dir>/key4 is larger than 65536 bytes; it must hold only the secret",
				"clusters[6].api_key_file: <dir> is a directory; name the file inside it",
			},
		},
		{
			name: "client certificate needs its key and vice versa",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].TLS.CertFile = writeFile(t, dir, "cert.pem", "c")
				other := c.Clusters[0]
				other.Name, other.TLS = "other", TLS{KeyFile: writeFile(t, dir, "key.pem", "k")}
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].tls.key_file: required because tls.cert_file is set: a client certificate needs its private key",
				"clusters[1].tls.cert_file: required because tls.key_file is set: a private key needs its client certificate",
			},
		},
		{
			name: "tls files must be readable",
			mutate: func(_ *testing.T, c *Config, dir string) {
				c.Clusters[0].TLS = TLS{CAFile: filepath.Join(dir, "x.pem"), CertFile: dir, KeyFile: filepath.Join(dir, "nokey.pem")}
			},
			want: []string{
				"clusters[0].tls.ca_file: open <dir>/x.pem: no such file or directory",
				"clusters[0].tls.cert_file: <dir> is a directory",
				"clusters[0].tls.key_file: open <dir>/nokey.pem: no such file or directory",
			},
		},
		{
			name: "tls with only http urls",
			mutate: func(_ *testing.T, c *Config, _ string) {
				c.Clusters[0].URLs = []string{"http://es-1:9200", "http://es-2:9200"}
				other := c.Clusters[0]
				other.Name, other.TLS = "other", TLS{InsecureSkipVerify: true}
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].tls: is set but every url is http://; use https:// URLs or remove tls",
				"clusters[1].tls: is set but every url is http://",
			},
		},
		{
			name:   "tls with some https urls is fine",
			mutate: func(_ *testing.T, c *Config, _ string) { c.Clusters[0].URLs[0] = "http://es-1:9200" },
		},
		{
			name: "transport with every pem key",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport = Transport{
					CAFile:          writeFile(t, dir, "t-ca.pem", "ca"),
					CertFile:        writeFile(t, dir, "t.pem", "c"),
					KeyFile:         writeFile(t, dir, "t-key.pem", "k"),
					ProbeInterval:   time.Minute,
					ProbeLocalNodes: true,
				}
			},
		},
		{
			name: "transport with a keystore",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport = Transport{
					KeystoreFile:         writeFile(t, dir, "t.p12", "p12"),
					KeystorePasswordFile: writeFile(t, dir, "t.password", "pw\n"),
				}
			},
		},
		{
			name: "transport keystore password may be empty",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport = Transport{
					KeystoreFile:         writeFile(t, dir, "t.p12", "p12"),
					KeystorePasswordFile: writeFile(t, dir, "t.password", ""),
				}
				other := c.Clusters[0]
				other.Name = "other"
				other.Transport.KeystorePasswordFile = writeFile(t, dir, "t2.password", "\n")
				c.Clusters = append(c.Clusters, other)
			},
		},
		{
			name: "probe_local_nodes without any transport file is fine",
			mutate: func(_ *testing.T, c *Config, _ string) {
				c.Clusters[0].Transport.ProbeLocalNodes = true
			},
		},
		{
			name: "transport needs no https url",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].URLs, c.Clusters[0].TLS = []string{"http://es-1:9200"}, TLS{}
				c.Clusters[0].Transport.CAFile = writeFile(t, dir, "t-ca.pem", "ca")
			},
		},
		{
			name: "transport certificate needs its key and vice versa",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport.CertFile = writeFile(t, dir, "t.pem", "c")
				other := c.Clusters[0]
				other.Name, other.Transport = "other", Transport{KeyFile: writeFile(t, dir, "t-key.pem", "k")}
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].transport.key_file: required because transport.cert_file is set: a certificate needs its private key",
				"clusters[1].transport.cert_file: required because transport.key_file is set: a private key needs its certificate",
			},
		},
		{
			name: "transport keystore needs its password file and vice versa",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport.KeystoreFile = writeFile(t, dir, "t.p12", "p12")
				other := c.Clusters[0]
				other.Name, other.Transport = "other", Transport{KeystorePasswordFile: writeFile(t, dir, "t.password", "pw")}
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].transport.keystore_password_file: required because transport.keystore_file is set; for a keystore without a password, name an empty file",
				"clusters[1].transport.keystore_file: required because transport.keystore_password_file is set: the password opens a PKCS#12 keystore",
			},
		},
		{
			name: "a keystore password set in code does not replace the file",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport = Transport{KeystoreFile: writeFile(t, dir, "t.p12", "p12"), KeystorePassword: "pw"}
			},
			want: []string{"clusters[0].transport.keystore_password_file: required because transport.keystore_file is set"},
		},
		{
			name: "transport pem identity and keystore are exclusive",
			mutate: func(t *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport = Transport{
					CertFile:             writeFile(t, dir, "t.pem", "c"),
					KeyFile:              writeFile(t, dir, "t-key.pem", "k"),
					KeystoreFile:         writeFile(t, dir, "t.p12", "p12"),
					KeystorePasswordFile: writeFile(t, dir, "t.password", "pw"),
				}
				other := c.Clusters[0]
				other.Name = "other"
				other.Transport.CertFile = ""
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].transport.keystore_file: cannot be combined with transport.cert_file: give the transport identity as PEM files (cert_file and key_file) or as a PKCS#12 keystore (keystore_file), not both",
				"clusters[1].transport.keystore_file: cannot be combined with transport.key_file:",
				"clusters[1].transport.cert_file: required because transport.key_file is set",
			},
		},
		{
			name: "transport files must be readable",
			mutate: func(_ *testing.T, c *Config, dir string) {
				c.Clusters[0].Transport = Transport{
					CAFile: filepath.Join(dir, "x.pem"), CertFile: dir, KeyFile: filepath.Join(dir, "nokey.pem"),
				}
				other := c.Clusters[0]
				other.Name, other.Transport = "other", Transport{
					KeystoreFile: filepath.Join(dir, "x.p12"), KeystorePasswordFile: filepath.Join(dir, "x.password"),
				}
				c.Clusters = append(c.Clusters, other)
			},
			want: []string{
				"clusters[0].transport.ca_file: open <dir>/x.pem: no such file or directory",
				"clusters[0].transport.cert_file: <dir> is a directory; name the file inside it",
				"clusters[0].transport.key_file: open <dir>/nokey.pem: no such file or directory",
				"clusters[1].transport.keystore_file: open <dir>/x.p12: no such file or directory",
				"clusters[1].transport.keystore_password_file: open <dir>/x.password: no such file or directory",
			},
		},
		{
			name: "transport keystore password files",
			mutate: func(t *testing.T, c *Config, dir string) {
				p12 := writeFile(t, dir, "t.p12", "p12")
				for i, content := range []string{"a\nb\n", "a\n\n", strings.Repeat("x", maxSecretSize+1), ""} {
					path := dir // the last one: a directory
					if content != "" {
						path = writeFile(t, dir, fmt.Sprint("pw", i), content)
					}
					c.Clusters = append(c.Clusters, Cluster{
						Name:      fmt.Sprint(i),
						URLs:      []string{"https://es"},
						Transport: Transport{KeystoreFile: p12, KeystorePasswordFile: path},
					})
				}
			},
			want: []string{
				"clusters[1].transport.keystore_password_file: <dir>/pw0 has more than one line; it must hold only the secret (one trailing newline is fine)",
				"clusters[2].transport.keystore_password_file: <dir>/pw1 has more than one line",
				"clusters[3].transport.keystore_password_file: <dir>/pw2 is larger than 65536 bytes; it must hold only the secret",
				"clusters[4].transport.keystore_password_file: <dir> is a directory; name the file inside it",
			},
		},
		{
			name: "transport probe_interval",
			mutate: func(_ *testing.T, c *Config, _ string) {
				c.Clusters[0].Transport.ProbeInterval = -time.Minute
				for i, d := range []time.Duration{time.Second, MinProbeInterval - 1, MinProbeInterval, time.Hour} {
					other := c.Clusters[0]
					other.Name, other.Transport.ProbeInterval = fmt.Sprint(i), d
					c.Clusters = append(c.Clusters, other)
				}
			},
			want: []string{
				"clusters[0].transport.probe_interval: must not be negative, got -1m0s; leave it unset for the default 10m0s",
				"clusters[1].transport.probe_interval: must be at least 10s, got 1s",
				"clusters[2].transport.probe_interval: must be at least 10s, got 9.999999999s",
			},
		},
		{
			name: "links",
			mutate: func(_ *testing.T, c *Config, _ string) {
				other := c.Clusters[0]
				other.Name = "us"
				c.Clusters = append(c.Clusters, other)
				c.Clusters[0].Links = map[string]Link{
					"ok":      {Cluster: "us", Roles: LinkRoles{Search: []string{"remote-search"}, Replication: []string{"remote-replication"}}},
					"none":    {},
					"unknown": {Cluster: "asia"},
					"self":    {Cluster: "prod"},
					"roles":   {Cluster: "us", Roles: LinkRoles{Search: []string{" ", "a,b", "r*", "x", "x"}}},
					"key":     {Cluster: "us", APIKeyID: "aWQ6a2V5 encoded"},
					"goodkey": {Cluster: "us", APIKeyID: "VuaCfGcBCdbkQm-e5aOx"},
				}
				c.Clusters[0].RemoteClusterClient.CAFile = "/nonexistent/remote-cluster-ca.pem"
			},
			want: []string{
				`clusters[0].links.none.cluster: required: name the monitored cluster behind remote "none" (a clusters[].name)`,
				"clusters[0].links.roles.roles.search[0]: empty role name; name a role that exists on both clusters",
				`clusters[0].links.roles.roles.search[1]: "a,b" cannot be read by name through GET /_security/role (no commas or wildcards); name one role per entry`,
				`clusters[0].links.roles.roles.search[2]: "r*" cannot be read by name through GET /_security/role (no commas or wildcards); name one role per entry`,
				`clusters[0].links.roles.roles.search[4]: "x" is listed twice`,
				"clusters[0].links.self.cluster: a cluster cannot be its own remote",
				`clusters[0].links.unknown.cluster: "asia" is not the name of a configured cluster; use one of the clusters[].name values`,
				`clusters[0].links.key.api_key_id: "aWQ6a2V5 encoded" is not an API key id: give the id field of the cross-cluster API key (GET /_security/api_key on the remote), not the encoded credential`,
				"clusters[0].remote_cluster_client.ca_file: ",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, dir := validBase(t)
			tt.mutate(t, &c, dir)
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = strings.ReplaceAll(w, "<dir>", dir)
			}
			checkErrors(t, c.Validate(), want)
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	dir := t.TempDir()
	file := writeConfig(t, fmt.Sprintf(`
poll_interval: 100ms
clusters:
  - name: prod
    urls: [ftp://es:9200]
    username: u
  - name: prod
    urls: []
    api_key: k
    username: u
    tls:
      ca_file: %[1]s/missing-ca.pem
      cert_file: %[1]s/missing-cert.pem
    transport:
      keystore_file: %[1]s/missing.p12
      probe_interval: 1s
`, dir))
	_, err := Load(LoadOptions{File: file, Environ: []string{"ES_REMOTE_EXPORTER_MAX_CONCURRENCY=0"}})
	checkErrors(t, err, []string{
		"poll_interval: must be at least 1s, got 100ms",
		"max_concurrency (from ES_REMOTE_EXPORTER_MAX_CONCURRENCY): must be at least 1, got 0",
		`clusters[0].urls[0]: "ftp://es:9200" is not an http:// or https:// URL`,
		"clusters[0].password: required because username is set",
		`clusters[1].name: duplicate of clusters[0].name "prod"`,
		"clusters[1].urls: required",
		"clusters[1].api_key: cannot be combined with username",
		"clusters[1].tls.key_file: required because tls.cert_file is set",
		"clusters[1].tls.ca_file: open " + dir + "/missing-ca.pem: no such file or directory",
		"clusters[1].tls.cert_file: open " + dir + "/missing-cert.pem: no such file or directory",
		"clusters[1].transport.keystore_password_file: required because transport.keystore_file is set",
		"clusters[1].transport.keystore_file: open " + dir + "/missing.p12: no such file or directory",
		"clusters[1].transport.probe_interval: must be at least 10s, got 1s",
	})
}

func TestLoadSecretFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
		wantErr string
	}{
		{name: "trailing newline trimmed", content: "s3cret\n", want: "s3cret"},
		{name: "trailing CRLF trimmed", content: "s3cret\r\n", want: "s3cret"},
		{name: "no newline", content: "s3cret", want: "s3cret"},
		{name: "spaces kept", content: " s3cret \n", want: " s3cret "},
		{name: "only one newline trimmed", content: "s3cret\n\n", wantErr: "has more than one line"},
		{name: "empty", content: "", wantErr: "is empty; write the secret into it"},
		{name: "missing", wantErr: "no such file or directory"},
	}
	for _, tt := range tests {
		for _, kind := range []struct{ key, fileKey, extra string }{
			{"password", "password_file", "    username: u\n"},
			{"api_key", "api_key_file", ""},
		} {
			t.Run(tt.name+"/"+kind.fileKey, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "secret")
				if tt.name != "missing" {
					writeFile(t, dir, "secret", tt.content)
				}
				file := writeConfig(t, fmt.Sprintf("clusters:\n  - name: a\n    urls: [https://a]\n%s    %s: %s\n", kind.extra, kind.fileKey, path))
				cfg, err := Load(LoadOptions{File: file})
				if tt.wantErr != "" {
					want := "clusters[0]." + kind.fileKey + ": "
					if tt.name == "missing" {
						want += "open " + path + ": "
					} else {
						want += path + " "
					}
					checkErrors(t, err, []string{want + tt.wantErr})
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				cl := cfg.Clusters[0]
				got, gotFile := cl.Password, cl.PasswordFile
				if kind.key == "api_key" {
					got, gotFile = cl.APIKey, cl.APIKeyFile
				}
				if got.Reveal() != tt.want {
					t.Errorf("%s = %q, want %q", kind.key, got.Reveal(), tt.want)
				}
				if gotFile != path {
					t.Errorf("%s = %q, want it to keep naming %q", kind.fileKey, gotFile, path)
				}
				// What Load returns must pass Validate again: main may validate it on reload.
				if err := cfg.Validate(); err != nil {
					t.Errorf("Validate() on Load's result: %v", err)
				}
			})
		}
	}
}

func TestLoadKeystorePasswordFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
		wantErr string
	}{
		{name: "trailing newline trimmed", content: "s3cret\n", want: "s3cret"},
		{name: "trailing CRLF trimmed", content: "s3cret\r\n", want: "s3cret"},
		{name: "no newline", content: "s3cret", want: "s3cret"},
		{name: "spaces kept", content: " s3cret \n", want: " s3cret "},
		{name: "empty is an empty password", content: "", want: ""},
		{name: "lone newline is an empty password", content: "\n", want: ""},
		{name: "only one newline trimmed", content: "s3cret\n\n", wantErr: "has more than one line"},
		{name: "too large", content: strings.Repeat("x", maxSecretSize+1), wantErr: "is larger than 65536 bytes"},
		{name: "missing", wantErr: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			keystore := writeFile(t, dir, "transport.p12", "p12")
			path := filepath.Join(dir, "password")
			if tt.name != "missing" {
				writeFile(t, dir, "password", tt.content)
			}
			file := writeConfig(t, fmt.Sprintf("clusters:\n  - name: a\n    urls: [https://a]\n"+
				"    transport:\n      keystore_file: %s\n      keystore_password_file: %s\n", keystore, path))
			cfg, err := Load(LoadOptions{File: file})
			if tt.wantErr != "" {
				want := "clusters[0].transport.keystore_password_file: "
				if tt.name == "missing" {
					want += "open " + path + ": "
				} else {
					want += path + " "
				}
				checkErrors(t, err, []string{want + tt.wantErr})
				if err != nil && tt.content != "" && strings.Contains(err.Error(), tt.content[:6]) {
					t.Errorf("error shows the file's content: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tr := cfg.Clusters[0].Transport
			if tr.KeystorePassword.Reveal() != tt.want {
				t.Errorf("KeystorePassword = %q, want %q", tr.KeystorePassword.Reveal(), tt.want)
			}
			if tr.KeystorePasswordFile != path || tr.KeystoreFile != keystore {
				t.Errorf("keystore_file, keystore_password_file = %q, %q; want them to keep naming %q, %q",
					tr.KeystoreFile, tr.KeystorePasswordFile, keystore, path)
			}
			// What Load returns must pass Validate again: main may validate it on reload.
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate() on Load's result: %v", err)
			}
		})
	}
}

func TestSecretRedaction(t *testing.T) {
	const pw, key, keystorePW = "hunter2-s3cret", "c2VjcmV0LWtleS12YWx1ZQ==", "keystore-pa55word"
	cfg := Defaults()
	cfg.Clusters = []Cluster{
		{Name: "a", URLs: []string{"https://a"}, Username: "u", Password: pw},
		{Name: "b", URLs: []string{"https://b"}, APIKey: key},
		{Name: "c", URLs: []string{"https://c"}, Transport: Transport{KeystoreFile: "/t.p12", KeystorePassword: keystorePW}},
	}
	s := Secret(pw)
	if s.Reveal() != pw {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}

	var outputs []string
	add := func(what, out string) {
		outputs = append(outputs, what+": "+out)
		if !strings.Contains(out, redacted) {
			t.Errorf("%s shows no %q: %s", what, redacted, out)
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3s"} {
		add("secret "+verb, fmt.Sprintf(verb, s))
		add("*secret "+verb, fmt.Sprintf(verb, &s))
		add("cluster "+verb, fmt.Sprintf(verb, cfg.Clusters[0]))
		add("transport cluster "+verb, fmt.Sprintf(verb, cfg.Clusters[2]))
		add("transport "+verb, fmt.Sprintf(verb, cfg.Clusters[2].Transport))
		add("*transport "+verb, fmt.Sprintf(verb, &cfg.Clusters[2].Transport))
		add("config "+verb, fmt.Sprintf(verb, cfg))
		add("*config "+verb, fmt.Sprintf(verb, &cfg))
	}
	add("Sprint", fmt.Sprint(cfg, s))
	add("Sprintln", fmt.Sprintln(&cfg, s))
	add("error", fmt.Errorf("wrapped %v: %w", s, fmt.Errorf("%+v", cfg)).Error())
	add("String", s.String())
	add("GoString", s.GoString())

	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		slog.New(h).Info("loaded", "config", cfg, "ptr", &cfg, "cluster", cfg.Clusters[1], "password", s,
			slog.Group("g", "key", cfg.Clusters[1].APIKey), "transport", cfg.Clusters[2].Transport,
			"keystore_password", cfg.Clusters[2].Transport.KeystorePassword)
		add("slog "+format, buf.String())
	}

	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, "json: "+string(j)) // json.Marshal escapes < and >: checked decoded below
	var decoded struct {
		Clusters []struct {
			Password, APIKey string
			Transport        struct{ KeystorePassword string }
		}
	}
	if err := json.Unmarshal(j, &decoded); err != nil || decoded.Clusters[0].Password != redacted ||
		decoded.Clusters[1].APIKey != redacted || decoded.Clusters[2].Transport.KeystorePassword != redacted {
		t.Errorf("JSON does not hold %q strings: %s (%v)", redacted, j, err)
	}
	txt, _ := s.MarshalText()
	add("MarshalText", string(txt))
	y, _ := s.MarshalYAML()
	add("MarshalYAML", fmt.Sprint(y))

	for _, out := range outputs {
		if strings.Contains(out, pw) || strings.Contains(out, key) || strings.Contains(out, keystorePW) {
			t.Errorf("secret leaked through %s", out)
		}
	}
}

func TestErrorsNeverContainSecrets(t *testing.T) {
	const secret = "hunter2-s3cret"
	dir := t.TempDir()
	multiLine := writeFile(t, dir, "multi", secret+"\nsecond line\n")
	tests := []struct {
		name string
		yaml string
		env  []string
	}{
		{
			name: "invalid in several ways",
			yaml: fmt.Sprintf(`
poll_interval: 1ms
clusters:
  - name: " a"
    urls:
      - https://elastic:%[1]s@es:9200
      - https://elastic:%[1]s@es:port
      - elastic:%[1]s@es:9200
      - ftp://elastic:%[1]s@es
      - https://elastic:%[1]s @es
    password: %[1]s
    password_file: %[2]s
    api_key: %[1]s
  - name: b
    urls: [http://b]
    api_key_file: %[2]s
    password: %[1]s
    tls: {insecure_skip_verify: true}
    transport: {keystore_password_file: %[2]s, cert_file: %[2]s}
`, secret, multiLine),
			env: []string{"ES_REMOTE_EXPORTER_CLUSTERS__2__PASSWORD=" + secret},
		},
		{
			name: "structural errors",
			yaml: fmt.Sprintf("clusters:\n  - name: a\n    urls: [https://a]\n    password: [%[1]s]\n    api_key: {%[1]s: x}\n    tls: [%[1]s]\n", secret),
		},
		{
			name: "keystore password where it cannot go",
			yaml: fmt.Sprintf("clusters:\n  - name: a\n    urls: [https://a]\n    transport:\n      keystore_password: %[1]s\n      \"-\": %[1]s\n      keystore_password_file: [%[1]s]\n", secret),
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_PASSWORD=" + secret,
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__-=" + secret,
				"ES_REMOTE_EXPORTER_CLUSTERS__0__TRANSPORT__KEYSTORE_PASSWORD_FILE=" + secret,
			},
		},
		{
			name: "secret in the wrong place in the environment",
			env: []string{
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=" + secret,
				"ES_REMOTE_EXPORTER_CLUSTERS__0__NAME=a",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://elastic:" + secret + "@es",
				"ES_REMOTE_EXPORTER_CLUSTERS__0__PASWORD=" + secret,
			},
		},
		{name: "config file is a secret file", yaml: secret + "\n"},
		{name: "config file is a quoted secret", yaml: `"` + secret + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Environ: tt.env}
			if tt.yaml != "" {
				opts.File = writeConfig(t, tt.yaml)
			}
			_, err := Load(opts)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the secret:\n%v", err)
			}
			if n := len(strings.Split(err.Error(), "\n")); tt.name == "invalid in several ways" && n < 10 {
				t.Errorf("want at least 10 problems, got %d:\n%v", n, err)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	c := Config{PollInterval: 30 * time.Second, Timeout: 10 * time.Second}
	tests := []struct {
		name                   string
		cluster                Cluster
		wantPoll, wantTimeouts time.Duration
	}{
		{"inherits both", Cluster{}, 30 * time.Second, 10 * time.Second},
		{"overrides poll", Cluster{PollInterval: time.Minute}, time.Minute, 10 * time.Second},
		{"overrides timeout", Cluster{Timeout: 2 * time.Second}, 30 * time.Second, 2 * time.Second},
		{"overrides both", Cluster{PollInterval: 5 * time.Second, Timeout: time.Second}, 5 * time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.EffectivePollInterval(tt.cluster); got != tt.wantPoll {
				t.Errorf("EffectivePollInterval = %s, want %s", got, tt.wantPoll)
			}
			if got := c.EffectiveTimeout(tt.cluster); got != tt.wantTimeouts {
				t.Errorf("EffectiveTimeout = %s, want %s", got, tt.wantTimeouts)
			}
		})
	}
}

func TestEffectiveProbeInterval(t *testing.T) {
	if DefaultProbeInterval != 10*time.Minute || MinProbeInterval != 10*time.Second {
		t.Fatalf("DefaultProbeInterval, MinProbeInterval = %s, %s; want 10m, 10s", DefaultProbeInterval, MinProbeInterval)
	}
	// The global poll interval and timeout play no part: transport probing has its own schedule.
	c := Config{PollInterval: 30 * time.Second, Timeout: 10 * time.Second}
	tests := []struct {
		name    string
		cluster Cluster
		want    time.Duration
	}{
		{"unset is the default", Cluster{}, DefaultProbeInterval},
		{"unset ignores the poll interval", Cluster{PollInterval: time.Hour}, DefaultProbeInterval},
		{"set", Cluster{Transport: Transport{ProbeInterval: time.Minute}}, time.Minute},
		{"set at the minimum", Cluster{Transport: Transport{ProbeInterval: MinProbeInterval}}, MinProbeInterval},
		{"set above the default", Cluster{Transport: Transport{ProbeInterval: time.Hour}}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.EffectiveProbeInterval(tt.cluster); got != tt.want {
				t.Errorf("EffectiveProbeInterval = %s, want %s", got, tt.want)
			}
		})
	}

	// Load leaves an unset probe_interval at 0, so the default stays visible as "unset".
	cfg, err := Load(LoadOptions{Environ: []string{
		"ES_REMOTE_EXPORTER_CLUSTERS__0__NAME=a",
		"ES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://a",
		"ES_REMOTE_EXPORTER_CLUSTERS__1__NAME=b",
		"ES_REMOTE_EXPORTER_CLUSTERS__1__URLS=https://b",
		"ES_REMOTE_EXPORTER_CLUSTERS__1__TRANSPORT__PROBE_INTERVAL=90s",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clusters[0].Transport.ProbeInterval; got != 0 {
		t.Errorf("clusters[0].transport.probe_interval = %s after Load, want 0 (unset)", got)
	}
	for i, want := range []time.Duration{DefaultProbeInterval, 90 * time.Second} {
		if got := cfg.EffectiveProbeInterval(cfg.Clusters[i]); got != want {
			t.Errorf("clusters[%d]: EffectiveProbeInterval = %s, want %s", i, got, want)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	d := Defaults()
	for name, wantDefault := range map[string]string{
		FlagConfigFile:     "",
		FlagPollInterval:   d.PollInterval.String(),
		FlagTimeout:        d.Timeout.String(),
		FlagMaxConcurrency: fmt.Sprint(d.MaxConcurrency),
	} {
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("--%s not registered", name)
			continue
		}
		if f.DefValue != wantDefault {
			t.Errorf("--%s default %q, want %q", name, f.DefValue, wantDefault)
		}
		if len(f.Usage) < 40 {
			t.Errorf("--%s help text too thin: %q", name, f.Usage)
		}
	}
	help := fs.FlagUsages()
	for _, want := range []string{"--config.file", "--es.poll-interval duration", "--es.timeout duration", "--es.max-concurrency int", "(default 30s)"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q:\n%s", want, help)
		}
	}
	if err := fs.Parse([]string{"--config.file=/x.yml", "--es.poll-interval=1m", "--es.timeout=2s", "--es.max-concurrency=3"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{Flags: fs}) // --config.file is not a config key: Load ignores it
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PollInterval != time.Minute || cfg.Timeout != 2*time.Second || cfg.MaxConcurrency != 3 {
		t.Errorf("flags not applied: %+v", cfg)
	}
	_, err = Load(LoadOptions{Flags: parseFlags(t, "--es.poll-interval=10ms")})
	checkErrors(t, err, []string{"poll_interval (from --es.poll-interval): must be at least 1s, got 10ms"})

	// A caller that registers a flag with another type still gets errors naming the flag.
	custom := pflag.NewFlagSet("custom", pflag.ContinueOnError)
	custom.String(FlagMaxConcurrency, "", "")
	if err := custom.Parse([]string{"--es.max-concurrency=many"}); err != nil {
		t.Fatal(err)
	}
	_, err = Load(LoadOptions{Flags: custom})
	checkErrors(t, err, []string{`max_concurrency (from --es.max-concurrency): must be a whole number, not "many"`})
}

func TestLoadFullExample(t *testing.T) {
	cfg, err := Load(LoadOptions{File: "testdata/example.yml"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		PollInterval:   45 * time.Second,
		Timeout:        5 * time.Second,
		MaxConcurrency: 4,
		Clusters: []Cluster{
			{
				Name:         "prod",
				URLs:         []string{"https://prod-1.example.com:9200", "https://prod-2.example.com:9200"},
				Username:     "monitor",
				Password:     "prod-s3cret",
				PasswordFile: "testdata/files/prod.password",
				PollInterval: time.Minute,
				Timeout:      15 * time.Second,
				TLS: TLS{
					CAFile:     "testdata/files/ca.pem",
					CertFile:   "testdata/files/client.pem",
					KeyFile:    "testdata/files/client-key.pem",
					ServerName: "prod.internal",
				},
				Transport: Transport{
					CAFile:          "testdata/files/transport-ca.pem",
					CertFile:        "testdata/files/transport.pem",
					KeyFile:         "testdata/files/transport-key.pem",
					ProbeInterval:   5 * time.Minute,
					ProbeLocalNodes: true,

					CertificatesFromAllNodes: true,
				},
				RemoteClusterClient: RemoteClusterClient{CAFile: "testdata/files/ca.pem"},
				Links: map[string]Link{"staging_search": {Cluster: "staging", Roles: LinkRoles{
					Search: []string{"remote-search"}, Replication: []string{"remote-replication"}}},
					"staging_replication": {Cluster: "staging", APIKeyID: "VuaCfGcBCdbkQm-e5aOx"}},
			},
			{
				Name:       "staging",
				URLs:       []string{"https://staging.example.com:9200"},
				APIKey:     "c3RhZ2luZy1pZDpzdGFnaW5nLWtleQ==",
				APIKeyFile: "testdata/files/staging.api-key",
				TLS:        TLS{InsecureSkipVerify: true},
				Transport: Transport{
					KeystoreFile:         "testdata/files/transport.p12",
					KeystorePasswordFile: "testdata/files/transport.keystore-password",
					KeystorePassword:     "keystore-s3cret",
				},
			},
			{Name: "dev", URLs: []string{"http://localhost:9200"}, Username: "elastic", Password: "dev-password"},
			{Name: "qa", URLs: []string{"https://qa.example.com"}, APIKey: "cWEtaWQ6cWEta2V5"},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
		for i := range min(len(cfg.Clusters), len(want.Clusters)) {
			if g, w := cfg.Clusters[i], want.Clusters[i]; g.Password != w.Password || g.APIKey != w.APIKey ||
				g.Transport.KeystorePassword != w.Transport.KeystorePassword {
				t.Errorf("clusters[%d] secrets: got %q/%q/%q, want %q/%q/%q", i,
					g.Password.Reveal(), g.APIKey.Reveal(), g.Transport.KeystorePassword.Reveal(),
					w.Password.Reveal(), w.APIKey.Reveal(), w.Transport.KeystorePassword.Reveal())
			}
		}
	}
	if got, want := cfg.EffectiveTimeout(cfg.Clusters[1]), 5*time.Second; got != want {
		t.Errorf("staging inherits timeout %s, want %s", got, want)
	}
	if got, want := cfg.EffectiveProbeInterval(cfg.Clusters[1]), DefaultProbeInterval; got != want {
		t.Errorf("staging probes every %s, want the default %s", got, want)
	}

	// The example must show every key, so a new key cannot be added without documenting it.
	raw, err := readConfigFile("testdata/example.yml")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	collectKeys(raw, "", seen)
	for _, key := range schemaKeys(reflect.TypeFor[Config](), "") {
		if !seen[key] {
			t.Errorf("testdata/example.yml does not show %s", key)
		}
	}
}

// collectKeys records the key paths in raw, with list indexes dropped (clusters.tls.ca_file).
func collectKeys(raw any, prefix string, seen map[string]bool) {
	switch x := raw.(type) {
	case map[string]any:
		for k, v := range x {
			seen[prefix+k] = true
			collectKeys(v, prefix+k+".", seen)
		}
	case []any:
		for _, v := range x {
			collectKeys(v, prefix, seen)
		}
	}
}

// schemaKeys lists every key path of t in the form collectKeys records. Fields that are no key
// (koanf:"-") are left out.
func schemaKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := keyOf(f)
		if !ok {
			continue
		}
		key := prefix + tag
		out = append(out, key)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]() {
			out = append(out, schemaKeys(ft, key+".")...)
		}
	}
	return out
}

// fakeFiles opens any path as a file holding content and records the paths opened.
type fakeFiles struct {
	mu     sync.Mutex
	opened []string
}

func (f *fakeFiles) open(name string) (fs.File, error) {
	f.mu.Lock()
	f.opened = append(f.opened, name)
	f.mu.Unlock()
	return fstest.MapFS{"f": {Data: []byte("example-secret\n")}}.Open("f")
}

func TestDocumentedExample(t *testing.T) {
	// example.yml names files under /etc that do not exist here; everything else is checked for real.
	var files fakeFiles
	cfg, err := load(LoadOptions{File: "example.yml"}, files.open)
	if err != nil {
		t.Fatalf("example.yml does not load: %v", err)
	}
	if len(cfg.Clusters) != 2 || cfg.Clusters[0].Name != "prod-eu" || cfg.Clusters[1].Name != "prod-us" {
		t.Errorf("unexpected clusters: %+v", cfg.Clusters)
	}
	if cfg.Clusters[0].Password.Reveal() != "example-secret" || cfg.Clusters[1].APIKey.Reveal() != "example-secret" ||
		cfg.Clusters[1].Transport.KeystorePassword.Reveal() != "example-secret" {
		t.Error("secret files were not read")
	}
	for _, path := range []string{
		"/etc/es-remote-exporter/prod-eu.password",
		"/etc/es-remote-exporter/prod-eu-ca.pem",
		"/etc/es-remote-exporter/client.pem",
		"/etc/es-remote-exporter/client-key.pem",
		"/etc/es-remote-exporter/prod-us.api-key",
		"/etc/es-remote-exporter/prod-us-ca.pem",
		"/etc/es-remote-exporter/prod-eu-transport-ca.pem",
		"/etc/es-remote-exporter/prod-eu-transport.pem",
		"/etc/es-remote-exporter/prod-eu-transport-key.pem",
		"/etc/es-remote-exporter/prod-us-transport-ca.pem",
		"/etc/es-remote-exporter/prod-us-transport.p12",
		"/etc/es-remote-exporter/prod-us-transport.p12.password",
	} {
		if !slices.Contains(files.opened, path) {
			t.Errorf("%s was not checked", path)
		}
	}

	// The override example.yml documents: the environment's password replaces the file's
	// password_file.
	cfg, err = load(LoadOptions{File: "example.yml", Environ: []string{"ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=from-env"}}, files.open)
	if err != nil {
		t.Fatalf("example.yml with ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD does not load: %v", err)
	}
	if cl := cfg.Clusters[0]; cl.Password.Reveal() != "from-env" || cl.PasswordFile != "" {
		t.Errorf("the environment's password did not replace password_file: file %q", cl.PasswordFile)
	}
}

func TestRoleNames(t *testing.T) {
	c := Config{Clusters: []Cluster{
		{Name: "eu", Links: map[string]Link{
			"us": {Cluster: "us", Roles: LinkRoles{Search: []string{"remote-search"}, Replication: []string{"remote-replication"}}},
		}},
		{Name: "us", Links: map[string]Link{
			"asia": {Cluster: "asia", Roles: LinkRoles{Search: []string{"asia-search", "remote-search"}}},
		}},
		{Name: "asia"},
		{Name: "alone"},
	}}
	for cluster, want := range map[string][]string{
		"eu":    {"remote-replication", "remote-search"},                // its own link
		"us":    {"asia-search", "remote-replication", "remote-search"}, // remote of eu, local of its own link
		"asia":  {"asia-search", "remote-search"},                       // remote of us
		"alone": nil,
	} {
		if got := c.RoleNames(cluster); !slices.Equal(got, want) {
			t.Errorf("RoleNames(%q) = %q, want %q", cluster, got, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"fine", func(*Config) {}, nil},
		{"no clusters", func(c *Config) { c.Clusters = nil }, []string{"clusters: none configured"}},
		{"global timeout not shorter than the global interval, said once", func(c *Config) {
			c.Timeout, c.PollInterval = 30*time.Second, 30*time.Second
			c.Clusters = append(c.Clusters, Cluster{Name: "b"})
		}, []string{"timeout: 30s is not shorter than poll_interval (30s): a poll that waits for a hung node outlasts its interval and the next poll is skipped"}},
		{"a cluster's own timeout", func(c *Config) { c.Clusters[0].Timeout = time.Minute },
			[]string{"clusters[0].timeout: 1m0s is not shorter than poll_interval (30s)"}},
		{"a cluster's own interval", func(c *Config) { c.Clusters[0].PollInterval = 5 * time.Second },
			[]string{"timeout: 10s is not shorter than clusters[0].poll_interval (5s)"}},
		{"insecure_skip_verify", func(c *Config) { c.Clusters[0].TLS.InsecureSkipVerify = true },
			[]string{`clusters[0].tls.insecure_skip_verify: certificate verification is off for cluster "a"; anyone on the path can read its credentials`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.Clusters = []Cluster{{Name: "a", URLs: []string{"https://a:9200"}}}
			tc.edit(&c)
			got := c.Warnings()
			if len(got) != len(tc.want) {
				t.Fatalf("got %d warnings, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// TestValidationNamesTheSource: a value that fails validation names the
// flag or variable it came from, like a value that fails to decode.
func TestValidationNamesTheSource(t *testing.T) {
	file := writeConfig(t, "poll_interval: 30s\nclusters:\n  - name: a\n    urls: [\"https://a:9200\"]\n")
	fs := parseFlags(t, "--es.poll-interval=500ms")
	_, err := Load(LoadOptions{File: file, Flags: fs, Environ: []string{
		"ES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://a:9200,ftp://b",
		"ES_REMOTE_EXPORTER_CLUSTERS__0__TIMEOUT=1ms",
	}})
	checkErrors(t, err, []string{
		"poll_interval (from --es.poll-interval): must be at least 1s, got 500ms",
		"clusters[0].timeout (from ES_REMOTE_EXPORTER_CLUSTERS__0__TIMEOUT): must be at least",
		"clusters[0].urls[1] (from ES_REMOTE_EXPORTER_CLUSTERS__0__URLS): ",
	})
	// From the file, the key path alone.
	_, err = Load(LoadOptions{File: writeConfig(t, "poll_interval: 500ms\n")})
	checkErrors(t, err, []string{"poll_interval: must be at least 1s, got 500ms"})
}
