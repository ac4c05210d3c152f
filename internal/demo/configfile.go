package demo

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// WriteConfigFile writes the demo's configuration as a YAML file in dir, as
// an operator would write it: credentials in files readable by the owner
// only, referenced by password_file and api_key_file. Other commands
// (`es_remote_exporter check --config.file ...`) can then reach the demo's
// clusters while it runs. It returns the file's path.
func (t *Topology) WriteConfigFile(dir string) (string, error) {
	q := strconv.Quote // a JSON-style double-quoted string is a YAML string
	var b strings.Builder
	fmt.Fprintf(&b, "# The configuration of a running `es_remote_exporter demo`; valid while it runs.\n")
	fmt.Fprintf(&b, "poll_interval: %s\ntimeout: %s\nclusters:\n", t.Config.PollInterval, t.Config.Timeout)
	for _, cl := range t.Config.Clusters {
		fmt.Fprintf(&b, "  - name: %s\n    urls: [%s]\n", q(cl.Name), q(cl.URLs[0]))
		secret := filepath.Join(dir, cl.Name+".secret")
		switch {
		case cl.APIKey != "":
			if err := os.WriteFile(secret, []byte(cl.APIKey.Reveal()+"\n"), 0o600); err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "    api_key_file: %s\n", q(secret))
		default:
			if err := os.WriteFile(secret, []byte(cl.Password.Reveal()+"\n"), 0o600); err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "    username: %s\n    password_file: %s\n", q(cl.Username), q(secret))
		}
		fmt.Fprintf(&b, "    tls:\n      ca_file: %s\n", q(cl.TLS.CAFile))
		if f := cl.RemoteClusterClient.CAFile; f != "" {
			fmt.Fprintf(&b, "    remote_cluster_client:\n      ca_file: %s\n", q(f))
		}
		if len(cl.Links) > 0 {
			b.WriteString("    links:\n")
		}
		for _, alias := range slices.Sorted(maps.Keys(cl.Links)) {
			l := cl.Links[alias]
			fmt.Fprintf(&b, "      %s:\n        cluster: %s\n", q(alias), q(l.Cluster))
			if l.APIKeyID != "" {
				fmt.Fprintf(&b, "        api_key_id: %s\n", q(l.APIKeyID))
			}
			if len(l.Roles.Search)+len(l.Roles.Replication) > 0 {
				fmt.Fprintf(&b, "        roles:\n          search: %s\n          replication: %s\n",
					yamlList(l.Roles.Search), yamlList(l.Roles.Replication))
			}
		}
	}
	path := filepath.Join(dir, "demo.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

func yamlList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
