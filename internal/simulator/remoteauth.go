package simulator

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// Who may ask a remote cluster anything through a link, and what
// Elasticsearch says when not. Only _resolve/cluster crosses a link in the
// simulator, so only its action, indices:admin/resolve/cluster, is
// authorized here.
//
// Certificate model (RCS 1.0, "remote_cluster_client" links without
// cluster_credentials): the querying cluster authenticates the user and
// passes the user's role NAMES along; the remote resolves those names
// against its own roles and authorizes the action there. A user whose
// roles the remote does not define (or that grant nothing for the action)
// is denied by the remote. Source: x-pack/plugin/security/qa/multi-cluster
// RemoteClusterSecurityRCS1ResolveClusterIT (8.19 and main): without a
// role of the same name on the remote, both `_resolve/cluster/*,remote:*`
// and the no-index form answer 200 with the remote's entry
// {"connected": false, "error": "...unauthorized for user [remote_search_user]..."};
// with the role, a wildcard that matches nothing is no denial (6b, 7b).
//
// API-key model (RCS 2.0, links with cluster_credentials): the querying
// cluster itself checks that the user's roles have remote_indices for the
// alias before anything is sent, and denies with
// AuthorizationDenialMessages.remoteActionDenied: "action [a] towards
// remote cluster [alias] is unauthorized for <user> because no remote
// indices privileges apply for the target cluster". Once connected, the
// remote authorizes the request against the cross-cluster key's access
// intersected with the user's remote_indices (remotecluster.go).
//
// Either denial reaches the REST answer through
// TransportResolveClusterAction's listener, which turns ANY
// ElasticsearchSecurityException into connected:false with the exception's
// message as error ("you can't tell whether the remote cluster is
// available or not").
//
// The simulator's User has privileges rather than role definitions; a
// cluster "defines" a role name when it has a native role of that name
// (ClusterSpec.Roles) or declares a user whose Roles include the name, the
// user's privileges standing for that role's (index privileges on "*", and
// User.RemoteIndices for its remote_indices in the API-key model).

// remoteDenial is the error text a link's remote (or, for API-key links,
// the local cluster) gives p for _resolve/cluster through l; "" when the
// request is authorized. local is the querying cluster, remote the link's
// target.
func remoteDenial(local, remote *Cluster, ver esVersion, p *principal, l *link) string {
	const action = "indices:admin/resolve/cluster"
	if p == superuser {
		return "" // the querying cluster has no security: nothing to pass along
	}
	if l.spec.APIKeyAuth {
		if local.hasRemoteIndices(p, l.spec.Alias) {
			return ""
		}
		return "action [" + action + "] towards remote cluster [" + l.spec.Alias + "] is unauthorized for " +
			userDescription(ver, p, local.definedRoles(p)) + " because no remote indices privileges apply for the target cluster"
	}
	if remote == nil {
		return ""
	}
	if on, _ := remote.answeringSecurity(); !on {
		return ""
	}
	if p.apiKeyID != "" {
		// An API key's own privileges travel with it (unverified: modelled
		// as the key's index privileges applying on the remote).
		if hasAny(p.indexPrv, resolveClusterGrants) {
			return ""
		}
		return "action [" + action + "] is unauthorized for " + userDescription(remote.answeringVersion(), p, nil) +
			", this action is granted by the index privileges [" + strings.Join(resolveClusterGrants, ",") + "]"
	}
	found := remote.definedRoles(p)
	if remote.rolesGrantIndex(found, resolveClusterGrants) {
		return ""
	}
	// The remote's denial (AuthorizationDenialMessages.actionDenied); the
	// " on indices [..]" context for the dummy* pattern of the no-index
	// form is unverified and left out.
	return "action [" + action + "] is unauthorized for " + userDescription(remote.answeringVersion(), p, found) +
		", this action is granted by the index privileges [" + strings.Join(resolveClusterGrants, ",") + "]"
}

// userDescription is AuthorizationDenialMessages.successfulAuthenticationDescription
// for a user: "user [u] with effective roles [found]" and, for assigned
// roles the cluster does not define, " (assigned roles [x] were not
// found)" (rolesDescription, 8.x source). API keys print no roles. Before
// 8.5 the text was "with roles [..]" (auth.go); the not-found suffix is
// modelled from 8.5 on (unverified minor).
func userDescription(ver esVersion, p *principal, found []string) string {
	if p.apiKeyID != "" {
		return "API key id [" + p.apiKeyID + "] of user [" + p.user + "]"
	}
	if !ver.atLeast(8, 5) {
		roles := slices.Clone(p.roles)
		sort.Strings(roles)
		return "user [" + p.user + "] with roles [" + strings.Join(roles, ",") + "]"
	}
	s := "user [" + p.user + "] with effective roles [" + strings.Join(found, ",") + "]"
	var missing []string
	for _, r := range p.roles {
		if !slices.Contains(found, r) {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		s += " (assigned roles [" + strings.Join(missing, ",") + "] were not found)"
	}
	return s
}

// definedRoles are the principal's role names this cluster defines, sorted.
func (c *Cluster) definedRoles(p *principal) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range p.roles {
		if _, ok := c.roles[r]; ok || c.userRoleLocked(r) != nil {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// userRoleLocked is the privileges a declared user with role name r stands
// for; nil when no user has it. Callers hold c.mu.
func (c *Cluster) userRoleLocked(r string) *User {
	for _, name := range slices.Sorted(maps.Keys(c.users)) {
		if u := c.users[name]; slices.Contains(u.Roles, r) {
			return &u
		}
	}
	return nil
}

// rolesGrantIndex reports whether any of the roles grants one of the index
// privileges on some pattern.
func (c *Cluster) rolesGrantIndex(roles, granting []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range roles {
		if spec, ok := c.roles[r]; ok {
			for _, ip := range spec.Indices {
				if hasAny(ip.Privileges, granting) {
					return true
				}
			}
		}
		if u := c.userRoleLocked(r); u != nil && hasAny(u.IndexPrivileges, granting) {
			return true
		}
	}
	return false
}

// hasRemoteIndices reports whether the principal's roles on this cluster
// have a remote_indices entry whose clusters match alias (the API-key
// model's local check; the entry's privileges are not judged here).
func (c *Cluster) hasRemoteIndices(p *principal, alias string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ri := range c.remoteIndicesLocked(p) {
		for _, pat := range ri.Clusters {
			if simpleMatch(pat, alias) {
				return true
			}
		}
	}
	return false
}

// remoteIndicesLocked are the remote_indices entries of the principal's
// roles: the native roles' and, for a user, those its roles file grants
// (User.RemoteIndices). Callers hold c.mu.
func (c *Cluster) remoteIndicesLocked(p *principal) []RemoteIndicesPrivileges {
	var out []RemoteIndicesPrivileges
	for _, r := range p.roles {
		out = append(out, c.roles[r].RemoteIndices...)
	}
	if p.apiKeyID == "" {
		out = append(out, c.users[p.user].RemoteIndices...)
	}
	return out
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}
