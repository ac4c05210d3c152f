package collector

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/rolecheck"
)

// Cross-cluster API keys: the credentials of the API-key model. A remote
// cluster creates one per cluster that links to it; the linking cluster
// holds its encoded value in its keystore (cluster.remote.<alias>.credentials),
// which no API shows. The exporter lists the keys on the cluster that owns
// them: GET /_security/api_key (action cluster:admin/xpack/security/api_key/get),
// which the cluster privilege read_security (8.x) lists for every owner
// (manage_own_api_key only lists the caller's own keys, and cross-cluster
// keys are created by a manage_security user); "type" exists from 8.10, when
// cross-cluster keys appeared (ApiKey#innerToXContent; "Get API key
// information", elastic/docs-content).

// CheckAPIKeys is the name of the GET /_security/api_key check.
const CheckAPIKeys = "api_keys"

// APIKeyInfo is one API key of a cluster.
type APIKeyInfo struct {
	ID, Name    string
	Type        string    // "cross_cluster" or "rest"
	Expiration  time.Time // zero: the key does not expire
	Invalidated bool
	// Access is a cross-cluster key's access: the index patterns of its
	// search and replication entries.
	Access rolecheck.KeyAccess
}

// Status is the key's state at now: invalidated, expired or active.
func (k *APIKeyInfo) Status(now time.Time) string {
	switch {
	case k.Invalidated:
		return KeyInvalidated
	case !k.Expiration.IsZero() && !now.Before(k.Expiration):
		return KeyExpired
	}
	return KeyActive
}

// Key statuses (es_remote_cluster_cross_cluster_api_keys) and, for a
// link's configured key, also rest and not_found.
const (
	KeyActive      = "active"
	KeyExpired     = "expired"
	KeyInvalidated = "invalidated"
	KeyREST        = "rest"
	KeyNotFound    = "not_found"
)

var keyStatuses = []string{KeyActive, KeyExpired, KeyInvalidated}

// APIKeySet is a cluster's API keys, by id.
type APIKeySet struct {
	Keys map[string]APIKeyInfo
}

type apiKeysBody struct {
	APIKeys []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Type        string `json:"type"`
		Expiration  *int64 `json:"expiration"` // epoch milliseconds
		Invalidated bool   `json:"invalidated"`
		Access      struct {
			Search      []struct{ Names []string } `json:"search"`
			Replication []struct{ Names []string } `json:"replication"`
		} `json:"access"`
	} `json:"api_keys"`
}

func (c *Client) apiKeys(ctx context.Context) (*APIKeySet, *CheckError) {
	var body apiKeysBody
	if err := c.do(ctx, "GET /_security/api_key", esapi.SecurityGetAPIKeyRequest{}, &body); err != nil {
		return nil, err
	}
	out := &APIKeySet{Keys: make(map[string]APIKeyInfo, len(body.APIKeys))}
	for _, k := range body.APIKeys {
		if _, seen := out.Keys[k.ID]; seen || k.ID == "" {
			continue // a repeated entry keeps the first
		}
		info := APIKeyInfo{ID: k.ID, Name: k.Name, Type: k.Type, Invalidated: k.Invalidated}
		if info.Type == "" {
			info.Type = "rest" // before 8.10 every key was a REST key
		}
		if k.Expiration != nil {
			info.Expiration = time.UnixMilli(*k.Expiration).UTC()
		}
		for _, e := range k.Access.Search {
			info.Access.Search = append(info.Access.Search, e.Names)
		}
		for _, e := range k.Access.Replication {
			info.Access.Replication = append(info.Access.Replication, e.Names)
		}
		out.Keys[k.ID] = info
	}
	return out, nil
}

var (
	famCCKeyExpiry = gauge("cluster", "cross_cluster_api_key_expiration_timestamp_seconds",
		"Expiry of each cross-cluster API key of the cluster that expires and is not invalidated (GET /_security/api_key, type cross_cluster), as a Unix time; an expired key stays until deleted. Polled every transport.probe_interval.",
		"es_cluster", "id", "name")
	famCCKeys = gauge("cluster", "cross_cluster_api_keys",
		"Cross-cluster API keys of the cluster by status (active, expired, invalidated), from GET /_security/api_key. Polled every transport.probe_interval.",
		"es_cluster", "status")
)

// apiKeysCheck lists the cluster's API keys, from 8.10 (cross-cluster keys
// exist from then). It needs read_security: a cluster whose keys no
// configured link names (clusters[].links.<alias>.api_key_id) is not failing
// when the exporter may not read them; that is logged once.
var apiKeysCheck = &check{
	name:     CheckAPIKeys,
	schedule: slowListing,
	families: []*Family{famCCKeyExpiry, famCCKeys},
	// Whether it applies comes from GET /'s last version, also when the
	// cluster is down (the check is then reported as unavailable).
	applies: func(p *Poller, f *Facts) bool {
		return p.versionKnown && p.version.AtLeast(8, 10)
	},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		keys, err := p.client.apiKeys(ctx)
		optional := err != nil && err.Status == http.StatusForbidden && !p.keysRequired
		why := ""
		if optional {
			why = err.Msg
		}
		p.logChange("api_keys:unreadable", why,
			func() {
				p.logger.Info("cross-cluster API keys are not monitored: the exporter may not list them", "err", why,
					"fix", "grant the exporter's user the cluster privilege read_security to see their expiry")
			}, nil)
		if err != nil && !optional {
			if err.Reason == ReasonForbidden {
				err.Hint = "a link names one of this cluster's cross-cluster API keys (api_key_id): grant the exporter's user the cluster privilege read_security (GET /_security/api_key)"
			}
			return err
		}
		f.APIKeys = keys
		if p.fleet != nil && keys != nil {
			p.fleet.SetAPIKeys(p.name, keys)
		}
		return nil
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		if f.APIKeys == nil {
			return
		}
		now := p.now()
		counts := map[string]float64{}
		for _, id := range slices.Sorted(maps.Keys(f.APIKeys.Keys)) {
			k := f.APIKeys.Keys[id]
			if k.Type != "cross_cluster" {
				continue
			}
			counts[k.Status(now)]++
			if !k.Invalidated && !k.Expiration.IsZero() {
				out.add(famCCKeyExpiry, unixSeconds(k.Expiration), p.name, k.ID, k.Name)
			}
		}
		for _, st := range keyStatuses {
			out.add(famCCKeys, counts[st], p.name, st)
		}
	},
}

// LinkKey is the cross-cluster API key a link's keystore holds
// (clusters[].links.<alias>.api_key_id), looked up on the remote.
type LinkKey struct {
	ID     string
	Status string // KeyActive, KeyExpired, KeyInvalidated, KeyREST or KeyNotFound
	Key    APIKeyInfo
}

// linkKey judges the configured key of an API-key link against the
// remote's key listing; ok is false when the listing is not known.
func linkKey(id string, keys *APIKeySet, now time.Time) (LinkKey, bool) {
	if keys == nil {
		return LinkKey{}, false
	}
	k, found := keys.Keys[id]
	lk := LinkKey{ID: id, Key: k}
	switch {
	case !found:
		lk.Status = KeyNotFound
	case k.Invalidated:
		lk.Status = KeyInvalidated
	case k.Type != "cross_cluster":
		// Troubleshooting symptom 8: "authentication expected API key type
		// of [cross_cluster], but API key [id] has type [rest]".
		lk.Status = KeyREST
	default:
		lk.Status = k.Status(now)
	}
	return lk, true
}
