package simulator

import (
	"net/http"
	"slices"
	"sort"
	"time"
)

// GET /_security/api_key (RestGetApiKeyAction, TransportGetApiKeyAction,
// action cluster:admin/xpack/security/api_key/get): the API that lists API
// keys, cross-cluster keys included (GET /_security/_query/api_key, 8.5+,
// is not simulated).
//
// Privileges (get-api-keys docs, PR #98065, 8.10+): at least
// manage_own_api_key or read_security. With manage_own_api_key only, the
// caller sees the keys it owns (owner=true, or its own username); with
// read_security, manage_api_key or greater (manage_security, all) every
// key. So read_security is the least privilege that lists every
// cross-cluster key (they are created by a manage_security user, usually
// elastic, not by the monitoring user). 7.17 has no read_security (as
// roles.go). A caller with manage_own_api_key asking for keys it does not
// own is denied; the privileges the denial lists
// ([read_security,manage_api_key,manage_security,all]) are modelled after
// actionDenied's granting list (order unverified).
//
// Body (ApiKey#innerToXContent, verified in 8.x source): {"api_keys":[..]},
// each key: id, name, type ("rest"/"cross_cluster"; 8.10+, when
// cross-cluster keys arrived), creation (epoch millis), expiration (only
// when the key expires), invalidated, invalidation (epoch millis, only
// when invalidated; from 8.12, unverified minor), username, realm,
// realm_type (8.14+, unverified minor), metadata, role_descriptors (8.5+,
// with_limited_by arrived with it), then for cross-cluster keys "access"
// ({"search":[{names, allow_restricted_indices}], "replication":[..]},
// each only when non-empty: buildXContentForCrossClusterApiKeyAccess
// renders the indices privileges without "privileges"). A cross-cluster
// key's single role descriptor is named "cross_cluster" with cluster
// privileges cross_cluster_search and/or cross_cluster_replication and
// index privileges [read, read_cross_cluster, view_index_metadata] (search)
// and [cross_cluster_replication, cross_cluster_replication_internal]
// (replication) (CrossClusterApiKeyRoleDescriptorBuilder, verified). A
// REST key of ClusterSpec.APIKeys is shown with one descriptor "role"
// holding its privileges (index privileges on "*"; the name is
// illustrative), one created by CreateRESTAPIKey with none ({}).
// limited_by (with_limited_by=true, REST keys only) and profile_uid
// (with_profile_uid) are not rendered (not simulated). Expired keys stay
// listed (expiration in the past) until deleted; invalidated ones show
// invalidated:true. active_only=true (8.10+, unverified minor) leaves
// both out. Keys are listed by creation time (unverified: the search's
// order). No match is 200 {"api_keys":[]} (unverified). metadata is always
// {} here; it is shown from 7.13 (unverified minor).

// getAPIKeysAction is GET /_security/api_key (see above).
func (c *Cluster) getAPIKeysAction(r *http.Request, ver esVersion) response {
	if _, w := c.answeringSecurity(); w != "" {
		return c.securityNotEnabled(ver, r)
	}
	p, deny := c.authenticate(ver, r)
	if deny != nil {
		return *deny
	}
	params := []string{"id", "name", "username", "realm_name", "owner"}
	if ver.atLeast(8, 5) {
		params = append(params, "with_limited_by")
	}
	if ver.atLeast(8, 10) {
		params = append(params, "active_only")
	}
	if ver.atLeast(8, 14) {
		params = append(params, "with_profile_uid")
	}
	if e := checkParams(r, params); e != nil {
		return errorResponse(ver, r, *e)
	}
	q := r.URL.Query()
	owner, activeOnly := false, false
	for name, dst := range map[string]*bool{"owner": &owner, "active_only": &activeOnly} {
		if q.Has(name) {
			b, e := parseRestBool(q.Get(name))
			if e != nil {
				return errorResponse(ver, r, *e)
			}
			*dst = b
		}
	}
	username := q.Get("username")
	if owner {
		username = p.user
	}
	granting := []string{"manage_api_key", "manage_security", "all"}
	if ver.v.Major >= 8 {
		granting = append([]string{"read_security"}, granting...)
	}
	onlyOwn := false
	if !hasAny(p.clusterPrv, granting) {
		if !slices.Contains(p.clusterPrv, "manage_own_api_key") || username != p.user {
			e := authorize(ver, p, "cluster:admin/xpack/security/api_key/get", "cluster", granting, nil)
			return errorResponse(ver, r, *e)
		}
		onlyOwn = true
	}

	now := time.Now()
	type listed struct {
		id string
		k  keyMeta
	}
	var keys []listed
	c.mu.Lock()
	for id := range c.apiKeys {
		c.keyMetaLocked(id) // REST keys of the spec get their lifecycle
	}
	for id, k := range c.rcs.keys {
		keys = append(keys, listed{id, *k})
	}
	c.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].k.created.Equal(keys[j].k.created) {
			return keys[i].k.created.Before(keys[j].k.created)
		}
		return keys[i].id < keys[j].id
	})
	arr := []any{}
	for _, l := range keys {
		k := l.k
		switch {
		case q.Has("id") && q.Get("id") != l.id,
			q.Has("name") && !simpleMatch(q.Get("name"), k.name),
			username != "" && username != k.owner,
			q.Has("realm_name") && q.Get("realm_name") != k.realm,
			onlyOwn && k.owner != p.user,
			activeOnly && (k.invalidated || k.expired(now)),
			k.typ == "cross_cluster" && !ver.atLeast(8, 10):
			continue
		}
		arr = append(arr, apiKeyBody(ver, l.id, k))
	}
	return jsonResponse(ver, r, http.StatusOK, obj{}.set("api_keys", arr))
}

// apiKeyBody is ApiKey#innerToXContent (see above).
func apiKeyBody(ver esVersion, id string, k keyMeta) obj {
	o := obj{}.set("id", id).set("name", k.name)
	if ver.atLeast(8, 10) {
		o = o.set("type", k.typ)
	}
	o = o.set("creation", k.created.UnixMilli())
	if !k.expiration.IsZero() {
		o = o.set("expiration", k.expiration.UnixMilli())
	}
	o = o.set("invalidated", k.invalidated)
	if k.invalidated && ver.atLeast(8, 12) {
		o = o.set("invalidation", k.invalidation.UnixMilli())
	}
	o = o.set("username", k.owner).set("realm", k.realm)
	if ver.atLeast(8, 14) {
		o = o.set("realm_type", k.realmType)
	}
	if ver.atLeast(7, 13) {
		o = o.set("metadata", obj{})
	}
	if !ver.atLeast(8, 5) {
		return o
	}
	descriptors := obj{}
	switch {
	case k.typ == "cross_cluster":
		var cluster []string
		role := RoleSpec{}
		for _, s := range k.access.Search {
			role.Indices = append(role.Indices, IndicesPrivileges{Names: s.Names,
				Privileges: []string{"read", "read_cross_cluster", "view_index_metadata"}, AllowRestrictedIndices: s.AllowRestrictedIndices})
		}
		for _, s := range k.access.Replication {
			role.Indices = append(role.Indices, IndicesPrivileges{Names: s.Names,
				Privileges: []string{"cross_cluster_replication", "cross_cluster_replication_internal"}, AllowRestrictedIndices: s.AllowRestrictedIndices})
		}
		if len(k.access.Search) > 0 {
			cluster = append(cluster, "cross_cluster_search")
		}
		if len(k.access.Replication) > 0 {
			cluster = append(cluster, "cross_cluster_replication")
		}
		role.Cluster = cluster
		descriptors = descriptors.set("cross_cluster", roleBody(ver, role))
	case k.restRole:
		role := RoleSpec{Cluster: nonNil(k.clusterPrv)}
		if len(k.indexPrv) > 0 {
			role.Indices = []IndicesPrivileges{{Names: []string{"*"}, Privileges: k.indexPrv}}
		}
		descriptors = descriptors.set("role", roleBody(ver, role))
	}
	o = o.set("role_descriptors", descriptors)
	if k.typ == "cross_cluster" {
		access := obj{}
		entries := func(list []CrossClusterIndices) []any {
			out := make([]any, len(list))
			for i, s := range list {
				out[i] = obj{}.set("names", nonNil(s.Names)).set("allow_restricted_indices", s.AllowRestrictedIndices)
			}
			return out
		}
		if len(k.access.Search) > 0 {
			access = access.set("search", entries(k.access.Search))
		}
		if len(k.access.Replication) > 0 {
			access = access.set("replication", entries(k.access.Replication))
		}
		o = o.set("access", access)
	}
	return o
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
