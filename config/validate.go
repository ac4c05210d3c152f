package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate returns every problem in c at once (joined with errors.Join, one per line), each starting
// with its key path, e.g. "clusters[2].tls.ca_file: open /x: no such file or directory". It reads the
// files the configuration names (TLS and transport files must be readable; secret files must hold a
// secret; a keystore password file must hold one line). A Config
// returned by Load is valid: its Password equals the content of its PasswordFile, which is not a
// conflict.
func (c *Config) Validate() error {
	return c.validate(osOpen)
}

type problems []error

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, errors.New(path+": "+fmt.Sprintf(format, args...)))
}

func (c *Config) validate(open openFunc) error {
	var ps problems
	if c.PollInterval < MinPollInterval {
		ps.add("poll_interval", "must be at least %s, got %s", MinPollInterval, c.PollInterval)
	}
	if c.Timeout < MinTimeout {
		ps.add("timeout", "must be at least %s, got %s", MinTimeout, c.Timeout)
	}
	if c.MaxConcurrency < 1 {
		ps.add("max_concurrency", "must be at least 1, got %d", c.MaxConcurrency)
	}
	firstWithName := map[string]int{}
	for i, cl := range c.Clusters {
		p := fmt.Sprintf("clusters[%d]", i)
		if j, dup := firstWithName[cl.Name]; dup && cl.Name != "" {
			ps.add(p+".name", "duplicate of clusters[%d].name %q; cluster names must be unique", j, cl.Name)
		} else {
			firstWithName[cl.Name] = i
		}
		ps.cluster(p, cl, open)
	}
	for i, cl := range c.Clusters {
		for _, alias := range slices.Sorted(maps.Keys(cl.Links)) {
			target := cl.Links[alias].Cluster
			lp := fmt.Sprintf("clusters[%d].links.%s.cluster", i, alias)
			switch _, known := firstWithName[target]; {
			case target == "":
				ps.add(lp, "required: name the monitored cluster behind remote %q (a clusters[].name)", alias)
			case !known:
				ps.add(lp, "%q is not the name of a configured cluster; use one of the clusters[].name values", target)
			case target == cl.Name:
				ps.add(lp, "a cluster cannot be its own remote")
			}
			if id := cl.Links[alias].APIKeyID; id != "" && (strings.TrimSpace(id) != id || strings.ContainsAny(id, ", ")) {
				ps.add(fmt.Sprintf("clusters[%d].links.%s.api_key_id", i, alias),
					"%q is not an API key id: give the id field of the cross-cluster API key (GET /_security/api_key on the remote), not the encoded credential", id)
			}
			roles := cl.Links[alias].Roles
			for _, purpose := range []struct {
				key   string
				names []string
			}{{"search", roles.Search}, {"replication", roles.Replication}} {
				for j, name := range purpose.names {
					rp := fmt.Sprintf("clusters[%d].links.%s.roles.%s[%d]", i, alias, purpose.key, j)
					switch {
					case strings.TrimSpace(name) == "":
						ps.add(rp, "empty role name; name a role that exists on both clusters")
					case strings.ContainsAny(name, ",*"):
						// GET /_security/role/<names> splits on commas and
						// does not expand wildcards: such a name cannot be read.
						ps.add(rp, "%q cannot be read by name through GET /_security/role (no commas or wildcards); name one role per entry", name)
					case slices.Contains(purpose.names[:j], name):
						ps.add(rp, "%q is listed twice", name)
					}
				}
			}
		}
	}
	return errors.Join(ps...)
}

func (ps *problems) cluster(p string, cl Cluster, open openFunc) {
	switch {
	case cl.Name == "":
		ps.add(p+".name", "required; it identifies the cluster in the es_cluster label")
	case !utf8.ValidString(cl.Name):
		ps.add(p+".name", "must be valid UTF-8")
	case strings.TrimSpace(cl.Name) != cl.Name:
		ps.add(p+".name", "%q has leading or trailing spaces; remove them", cl.Name)
	}

	if len(cl.URLs) == 0 {
		ps.add(p+".urls", "required; list at least one URL of the cluster's HTTP API, like https://es.example.com:9200")
	}
	allHTTP := len(cl.URLs) > 0
	for j, raw := range cl.URLs {
		scheme, problem := checkURL(raw)
		if problem != "" {
			ps.add(fmt.Sprintf("%s.urls[%d]", p, j), "%s", problem)
		}
		allHTTP = allHTTP && problem == "" && scheme == "http"
	}

	ps.override(p+".poll_interval", cl.PollInterval, MinPollInterval, "poll_interval")
	ps.override(p+".timeout", cl.Timeout, MinTimeout, "timeout")

	ps.auth(p, cl, open)

	t, tp := cl.TLS, p+".tls"
	if t.CertFile != "" && t.KeyFile == "" {
		ps.add(tp+".key_file", "required because tls.cert_file is set: a client certificate needs its private key")
	}
	if t.KeyFile != "" && t.CertFile == "" {
		ps.add(tp+".cert_file", "required because tls.key_file is set: a private key needs its client certificate")
	}
	for _, f := range []struct{ key, path string }{
		{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile},
	} {
		if f.path == "" {
			continue
		}
		if err := checkReadable(open, f.path); err != nil {
			ps.add(tp+"."+f.key, "%v", err)
		}
	}
	if t.isSet() && allHTTP {
		ps.add(tp, "is set but every url is http://; use https:// URLs or remove tls")
	}

	ps.transport(p+".transport", cl.Transport, open)
	if f := cl.RemoteClusterClient.CAFile; f != "" {
		if err := checkReadable(open, f); err != nil {
			ps.add(p+".remote_cluster_client.ca_file", "%v", err)
		}
	}
}

// transport checks a cluster's transport TLS settings. Transport.KeystorePassword is not checked: Load
// fills it from keystore_password_file, which is.
func (ps *problems) transport(tp string, t Transport, open openFunc) {
	if t.CertFile != "" && t.KeyFile == "" {
		ps.add(tp+".key_file", "required because transport.cert_file is set: a certificate needs its private key")
	}
	if t.KeyFile != "" && t.CertFile == "" {
		ps.add(tp+".cert_file", "required because transport.key_file is set: a private key needs its certificate")
	}
	if t.KeystoreFile != "" && t.KeystorePasswordFile == "" {
		ps.add(tp+".keystore_password_file", "required because transport.keystore_file is set; "+
			"for a keystore without a password, name an empty file")
	}
	if t.KeystorePasswordFile != "" && t.KeystoreFile == "" {
		ps.add(tp+".keystore_file", "required because transport.keystore_password_file is set: "+
			"the password opens a PKCS#12 keystore")
	}
	if t.KeystoreFile != "" && (t.CertFile != "" || t.KeyFile != "") {
		pemKey := "cert_file"
		if t.CertFile == "" {
			pemKey = "key_file"
		}
		ps.add(tp+".keystore_file", "cannot be combined with transport.%s: give the transport identity as PEM "+
			"files (cert_file and key_file) or as a PKCS#12 keystore (keystore_file), not both", pemKey)
	}
	for _, f := range []struct{ key, path string }{
		{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}, {"keystore_file", t.KeystoreFile},
	} {
		if f.path == "" {
			continue
		}
		if err := checkReadable(open, f.path); err != nil {
			ps.add(tp+"."+f.key, "%v", err)
		}
	}
	if t.KeystorePasswordFile != "" {
		if _, err := readKeystorePassword(open, t.KeystorePasswordFile); err != nil {
			ps.add(tp+".keystore_password_file", "%v", err)
		}
	}
	switch d := t.ProbeInterval; {
	case d < 0:
		ps.add(tp+".probe_interval", "must not be negative, got %s; leave it unset for the default %s", d, DefaultProbeInterval)
	case d > 0 && d < MinProbeInterval:
		ps.add(tp+".probe_interval", "must be at least %s, got %s", MinProbeInterval, d)
	}
}

// override checks a per-cluster duration, where 0 means "inherit the global value".
func (ps *problems) override(path string, d, minimum time.Duration, global string) {
	switch {
	case d < 0:
		ps.add(path, "must not be negative, got %s; leave it unset to use the global %s", d, global)
	case d > 0 && d < minimum:
		ps.add(path, "must be at least %s, got %s", minimum, d)
	}
}

func (ps *problems) auth(p string, cl Cluster, open openFunc) {
	ps.secret(p, "password", "password_file", cl.Password, cl.PasswordFile, open)
	ps.secret(p, "api_key", "api_key_file", cl.APIKey, cl.APIKeyFile, open)

	passwordKey := "password"
	if cl.Password == "" && cl.PasswordFile != "" {
		passwordKey = "password_file"
	}
	apiKeyKey := "api_key"
	if cl.APIKey == "" && cl.APIKeyFile != "" {
		apiKeyKey = "api_key_file"
	}
	hasPassword := cl.Password != "" || cl.PasswordFile != ""
	hasAPIKey := cl.APIKey != "" || cl.APIKeyFile != ""
	switch {
	case hasAPIKey && (cl.Username != "" || hasPassword):
		basicKey := "username"
		if cl.Username == "" {
			basicKey = passwordKey
		}
		ps.add(p+"."+apiKeyKey, "cannot be combined with %s: use basic auth (username and password) or an API key, not both", basicKey)
	case cl.Username != "" && !hasPassword:
		ps.add(p+".password", "required because username is set; set password or password_file")
	case cl.Username == "" && hasPassword:
		ps.add(p+".username", "required because %s is set", passwordKey)
	}
}

// secret checks an inline secret and its *_file alternative. Both set is a conflict unless the inline
// value is the file's content: that is what Load produces when it reads the file.
func (ps *problems) secret(p, inlineKey, fileKey string, inline Secret, path string, open openFunc) {
	if path == "" {
		return
	}
	content, err := readSecret(open, path)
	if inline != "" && (err != nil || inline.Reveal() != content) {
		ps.add(p+"."+fileKey, "set only one of %s and %s", inlineKey, fileKey)
	}
	if err != nil {
		ps.add(p+"."+fileKey, "%v", err)
	}
}

// checkURL returns the URL's lower-cased scheme, or a problem that never shows a password that may be
// in the URL.
func checkURL(raw string) (scheme, problem string) {
	if raw == "" {
		return "", "is empty; write a URL like https://es.example.com:9200"
	}
	u, err := url.Parse(raw)
	shown := showURL(raw, u, err)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "", shown + " is not a valid URL; credentials belong in username and password, not in the URL"
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Sprintf("%s is not a valid URL: %v", shown, err)
	}
	if strings.TrimSpace(raw) != raw {
		return "", shown + " has leading or trailing spaces; remove them"
	}
	scheme = strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Opaque != "" {
		problem = shown + " is not an http:// or https:// URL; write it like https://es.example.com:9200"
		if strings.Contains(raw, "@") {
			problem += ", with credentials in username and password, not in the URL"
		}
		return "", problem
	}
	if u.User != nil {
		return "", shown + " has credentials in it; remove them and set username and password " +
			"(or password_file) on the cluster instead"
	}
	if u.Hostname() == "" {
		return "", shown + " has no host; write it like https://es.example.com:9200"
	}
	return scheme, ""
}

// showURL quotes a URL for an error message, with any password replaced by "xxxxx". A URL with "@"
// that did not parse as scheme://user:password@host is not shown at all: where the password is in it
// cannot be known. That includes an "@" outside the user info, as in the typos "https//user:pw@host"
// and "https:/user:pw@host", which parse with the credentials in the path.
func showURL(raw string, u *url.URL, err error) string {
	switch {
	case !strings.Contains(raw, "@"):
		return fmt.Sprintf("%q", raw)
	case err == nil && u.Opaque == "" && u.User != nil && strings.Count(u.Redacted(), "@") == 1:
		return fmt.Sprintf("%q", u.Redacted())
	default:
		return "the URL (not shown because it may contain a password)"
	}
}

// Warnings returns what is valid but probably a mistake, each starting with its key path like a
// validation error: a request timeout not shorter than the poll interval (a poll waiting for a hung
// node outlasts its interval, so the next poll is skipped) and certificate verification turned off.
// The daemon logs them at every (re)load and --config.check prints them; check reports
// insecure_skip_verify as a finding of its own.
func (c *Config) Warnings() []string {
	var out []string
	if len(c.Clusters) == 0 {
		out = append(out, "clusters: none configured; add some under clusters: in --config.file")
	}
	globalReported := false
	for i, cl := range c.Clusters {
		p := fmt.Sprintf("clusters[%d]", i)
		if timeout, interval := c.EffectiveTimeout(cl), c.EffectivePollInterval(cl); timeout >= interval {
			key, other := "timeout", "poll_interval"
			if cl.Timeout > 0 {
				key = p + ".timeout"
			}
			if cl.PollInterval > 0 {
				other = p + ".poll_interval"
			}
			if key == "timeout" && other == "poll_interval" {
				if globalReported {
					continue
				}
				globalReported = true
			}
			out = append(out, fmt.Sprintf("%s: %s is not shorter than %s (%s): a poll that waits for a hung node "+
				"outlasts its interval and the next poll is skipped (es_remote_exporter_polls_skipped_total); "+
				"set timeout well below the poll interval", key, timeout, other, interval))
		}
		if cl.TLS.InsecureSkipVerify {
			out = append(out, fmt.Sprintf("%s.tls.insecure_skip_verify: certificate verification is off for cluster %q; "+
				"anyone on the path can read its credentials: set tls.ca_file instead", p, cl.Name))
		}
	}
	return out
}
