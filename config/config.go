// Package config holds the exporter's typed configuration: defaults in code, koanf loading from a YAML
// file, ES_REMOTE_EXPORTER_* environment variables and command-line flags (in that order of precedence),
// validation that reports every problem at once with its key path, and the Secret type that keeps
// passwords and API keys out of logs, errors and JSON.
//
// # Precedence
//
// defaults < YAML file (--config.file) < environment < flags the user explicitly set. A flag left at its
// default never overrides the file or the environment.
//
// # Environment variables
//
// Names start with ES_REMOTE_EXPORTER_, then the upper-cased key path with "__" between nesting
// levels and the cluster's index as one level:
//
//	ES_REMOTE_EXPORTER_POLL_INTERVAL=15s
//	ES_REMOTE_EXPORTER_CLUSTERS__0__PASSWORD=...
//	ES_REMOTE_EXPORTER_CLUSTERS__0__URLS=https://a:9200,https://b:9200   (lists are comma-separated)
//	ES_REMOTE_EXPORTER_CLUSTERS__1__TLS__CA_FILE=/etc/es/ca.pem
//	ES_REMOTE_EXPORTER_CLUSTERS__1__TRANSPORT__CA_FILE=/etc/es/transport-ca.pem
//
// A variable for an index the file already defines overrides that one field of that cluster; an index
// right after the last defined cluster adds a cluster (indexes must stay contiguous). A variable with an
// empty value counts as unset. Unknown names under the prefix are errors: they are typos.
//
// # Secrets
//
// password and api_key can be given inline, through the environment, or (preferably) through
// password_file and api_key_file, which Load reads into Password and APIKey. The transport keystore's
// password only comes from transport.keystore_password_file, which Load reads into
// Transport.KeystorePassword. A Secret formats, logs and marshals as "<redacted>"; only Reveal returns
// the value.
//
// A field tagged koanf:"-" is not a key: no file, variable or flag sets it.
package config

import (
	"slices"
	"time"

	"github.com/spf13/pflag"
)

// Config is the whole exporter configuration. Keys in YAML and in environment variable names are the
// koanf tags.
type Config struct {
	// PollInterval is how often each cluster is polled unless the cluster sets its own.
	PollInterval time.Duration `koanf:"poll_interval"`
	// Timeout bounds each HTTP request to Elasticsearch unless the cluster sets its own.
	Timeout time.Duration `koanf:"timeout"`
	// MaxConcurrency is how many clusters are polled at the same time.
	MaxConcurrency int       `koanf:"max_concurrency"`
	Clusters       []Cluster `koanf:"clusters"`
}

// Cluster is one Elasticsearch cluster the exporter polls over HTTP.
type Cluster struct {
	// Name identifies the cluster everywhere; it becomes the es_cluster label.
	Name string `koanf:"name"`
	// URLs are the cluster's HTTP endpoints (http:// or https://, no credentials in them).
	URLs []string `koanf:"urls"`

	// Username and Password (or PasswordFile) are basic auth. After Load, Password holds the content of
	// PasswordFile when that is set; PasswordFile keeps naming its source.
	Username     string `koanf:"username"`
	Password     Secret `koanf:"password"`
	PasswordFile string `koanf:"password_file"`
	// APIKey is the base64 "encoded" value Elasticsearch returns when it creates an API key. After
	// Load, it holds the content of APIKeyFile when that is set.
	APIKey     Secret `koanf:"api_key"`
	APIKeyFile string `koanf:"api_key_file"`

	// PollInterval and Timeout override the global values; 0 inherits them.
	PollInterval time.Duration `koanf:"poll_interval"`
	Timeout      time.Duration `koanf:"timeout"`

	TLS TLS `koanf:"tls"`

	Transport Transport `koanf:"transport"`

	// RemoteClusterClient is how the cluster's nodes dial remotes in the API-key model: their remote
	// cluster server (remote_cluster.port, default 9443), not their transport port.
	RemoteClusterClient RemoteClusterClient `koanf:"remote_cluster_client"`

	// Links holds per-alias settings of this cluster's remote links, keyed
	// by the alias as Elasticsearch reports it in GET _remote/info.
	Links map[string]Link `koanf:"links"`
}

// Link configures one remote alias of a cluster.
type Link struct {
	// Cluster names the monitored cluster (clusters[].name) behind the alias; required for a configured
	// link. Links that are not configured are matched to a monitored cluster whose nodes' transport
	// addresses their seeds or proxy address name.
	Cluster string `koanf:"cluster"`
	// Roles names the roles the link relies on, per purpose. The spec wants each to exist under the same
	// name on both clusters, with the privileges that side needs for that purpose; the exporter reads
	// them on both sides (GET /_security/role, which needs read_security or manage_security).
	Roles LinkRoles `koanf:"roles"`
	// APIKeyID is, for a link in the API-key model, the id of the cross-cluster API key the local
	// keystore holds for the alias (cluster.remote.<alias>.credentials); the credential itself is never
	// visible. The key is looked up on the remote cluster (clusters[].name of Cluster): its expiry
	// counts among the link's, and an expired, invalidated or REST key shows on the link.
	APIKeyID string `koanf:"api_key_id"`
}

// RemoteClusterClient configures what the exporter knows of a cluster's remote cluster client, the TLS
// client of API-key links.
type RemoteClusterClient struct {
	// CAFile is a PEM bundle of the CAs the cluster's nodes trust for remote cluster servers
	// (xpack.security.remote_cluster_client.ssl.certificate_authorities). The exporter verifies the
	// chain an API-key link's remote presents against them, as Elasticsearch does (verification mode
	// full).
	CAFile string `koanf:"ca_file"`
}

// LinkRoles are the roles a link relies on, per purpose.
type LinkRoles struct {
	// Search are the roles of users who search across the link (cross-cluster search).
	Search []string `koanf:"search"`
	// Replication are the roles of users who replicate across it (cross-cluster replication).
	Replication []string `koanf:"replication"`
}

// RoleNames are the roles the named cluster's poller reads: those its own links rely on (its side as
// the local cluster) and those other clusters' links to it rely on (its side as the remote), sorted
// and without repeats.
func (c *Config) RoleNames(cluster string) []string {
	var names []string
	for _, cl := range c.Clusters {
		for _, l := range cl.Links {
			if cl.Name == cluster || l.Cluster == cluster {
				names = append(names, l.Roles.Search...)
				names = append(names, l.Roles.Replication...)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// APIKeysNamed reports whether some configured link names a cross-cluster API key (api_key_id) of the
// named cluster: the exporter must then be able to read that cluster's API keys.
func (c *Config) APIKeysNamed(cluster string) bool {
	for _, cl := range c.Clusters {
		for _, l := range cl.Links {
			if l.Cluster == cluster && l.APIKeyID != "" {
				return true
			}
		}
	}
	return false
}

// TLS configures HTTPS connections to a cluster. Files are only checked for readability here; the TLS
// wiring parses them.
type TLS struct {
	// CAFile is a PEM bundle of CAs trusted for the cluster's HTTP certificate (default: system roots).
	CAFile string `koanf:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key, for clusters that require one.
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// ServerName overrides the name the server certificate is verified against.
	ServerName string `koanf:"server_name"`
	// InsecureSkipVerify disables certificate verification. For tests only.
	InsecureSkipVerify bool `koanf:"insecure_skip_verify"`
}

// isSet reports whether any TLS setting differs from its zero value.
func (t TLS) isSet() bool { return t != TLS{} }

// Transport describes the cluster's transport-layer TLS (port 9300), for the certificate and trust
// checks. Files are only checked for readability here (the keystore password file is read); the
// transport probe parses them.
type Transport struct {
	// CAFile is a PEM bundle of the CAs this cluster's nodes trust (its transport truststore).
	CAFile string `koanf:"ca_file"`
	// CertFile and KeyFile are this cluster's transport identity (a PEM certificate chain and its PEM
	// private key), presented when probing; optional, set both or neither.
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// KeystoreFile is the identity as a PKCS#12 keystore instead (not together with CertFile/KeyFile).
	KeystoreFile string `koanf:"keystore_file"`
	// KeystorePasswordFile holds the keystore password on one line (one trailing newline is trimmed;
	// an empty file is an empty password). Required with KeystoreFile, and only with it.
	KeystorePasswordFile string `koanf:"keystore_password_file"`
	// ProbeInterval is how often the transport endpoints are probed; 0 means DefaultProbeInterval.
	ProbeInterval time.Duration `koanf:"probe_interval"`
	// ProbeLocalNodes also probes this cluster's own nodes (transport addresses from nodes info).
	ProbeLocalNodes bool `koanf:"probe_local_nodes"`
	// CertificatesFromAllNodes asks every node for its GET /_ssl/certificates through its HTTP
	// publish address (the API is node-local), not only the node that answers the cluster's URL.
	CertificatesFromAllNodes bool `koanf:"certificates_from_all_nodes"`

	// KeystorePassword is the content of KeystorePasswordFile, filled by Load. It is not a key: no file,
	// variable or flag sets it.
	KeystorePassword Secret `koanf:"-"`
}

// Default values, also shown in --help.
const (
	DefaultPollInterval   = 30 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultMaxConcurrency = 32
	// DefaultProbeInterval applies to every cluster whose transport.probe_interval is unset.
	DefaultProbeInterval = 10 * time.Minute
)

// Lower bounds: polling faster than once a second only loads Elasticsearch, and a request timeout
// under 100ms fails even against a healthy cluster.
const (
	MinPollInterval = time.Second
	MinTimeout      = 100 * time.Millisecond
	// MinProbeInterval bounds transport.probe_interval: each probe is a TLS handshake with every node.
	MinProbeInterval = 10 * time.Second
)

// Defaults returns a Config with only the defaults set.
func Defaults() Config {
	return Config{
		PollInterval:   DefaultPollInterval,
		Timeout:        DefaultTimeout,
		MaxConcurrency: DefaultMaxConcurrency,
	}
}

// EffectivePollInterval returns the cluster's own poll interval, or the global one when it has none.
func (c *Config) EffectivePollInterval(cl Cluster) time.Duration {
	if cl.PollInterval > 0 {
		return cl.PollInterval
	}
	return c.PollInterval
}

// EffectiveTimeout returns the cluster's own request timeout, or the global one when it has none.
func (c *Config) EffectiveTimeout(cl Cluster) time.Duration {
	if cl.Timeout > 0 {
		return cl.Timeout
	}
	return c.Timeout
}

// EffectiveProbeInterval returns the cluster's transport.probe_interval, or DefaultProbeInterval when it
// has none.
func (c *Config) EffectiveProbeInterval(cl Cluster) time.Duration {
	if cl.Transport.ProbeInterval > 0 {
		return cl.Transport.ProbeInterval
	}
	return DefaultProbeInterval
}

// EnvPrefix starts every environment variable Load reads.
const EnvPrefix = "ES_REMOTE_EXPORTER_"

// Flag names registered by RegisterFlags.
const (
	FlagConfigFile     = "config.file"
	FlagPollInterval   = "es.poll-interval"
	FlagTimeout        = "es.timeout"
	FlagMaxConcurrency = "es.max-concurrency"
)

// flagKeys maps the flags that set config keys to those keys. --config.file is not a key.
var flagKeys = map[string]string{
	FlagPollInterval:   "poll_interval",
	FlagTimeout:        "timeout",
	FlagMaxConcurrency: "max_concurrency",
}

// RegisterFlags adds --config.file and the flags that set global config keys to fs, with defaults
// from Defaults.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Defaults()
	fs.String(FlagConfigFile, "",
		"Path to the YAML configuration file (clusters, credentials, TLS). Without it, configuration comes "+
			"from "+EnvPrefix+"* environment variables and flags only.")
	fs.Duration(FlagPollInterval, d.PollInterval,
		"How often each Elasticsearch cluster is polled, unless the cluster sets its own poll_interval. "+
			"At least 1s. Overrides poll_interval in the config file and "+EnvPrefix+"POLL_INTERVAL.")
	fs.Duration(FlagTimeout, d.Timeout,
		"Timeout of each HTTP request to Elasticsearch, unless the cluster sets its own timeout. "+
			"At least 100ms. Overrides timeout in the config file and "+EnvPrefix+"TIMEOUT.")
	fs.Int(FlagMaxConcurrency, d.MaxConcurrency,
		"Maximum number of clusters polled at the same time. "+
			"Overrides max_concurrency in the config file and "+EnvPrefix+"MAX_CONCURRENCY.")
}
