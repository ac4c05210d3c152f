package collector

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/rolecheck"
)

// Roles: the spec wants the roles a link relies on to exist under the same
// name on both clusters, each side's definition granting what that side
// needs for the purpose. A cluster's poller reads the roles its own links
// name and those other clusters' links to it name (config.RoleNames), shares
// them through the fleet, and judges its own links' local side against its
// roles and the remote side against the remote cluster's.

// CheckRoles is the name of the GET /_security/role/<names> check. It runs
// only on clusters for which clusters[].links.<alias>.roles names roles.
const CheckRoles = "roles"

// Role statuses beyond rolecheck's: unknown when a side's roles could not
// be read (or the remote has not been polled yet).
const RoleUnknown = "unknown"

// RoleStatuses are the values of the status label, in order.
var RoleStatuses = []string{string(rolecheck.StatusOK), string(rolecheck.StatusMissing), string(rolecheck.StatusInsufficient), RoleUnknown}

// RoleSet is what a cluster's last role read found.
type RoleSet struct {
	Roles map[string]rolecheck.Role // by name; the names asked for that do not exist are absent
	Err   *CheckError               // why the roles could not be read; nil on success
}

var (
	famLinkRoleStatus = gauge("link", "role_status",
		"Whether a role the link relies on (clusters[].links.<alias>.roles) exists on that side with the privileges the spec lists for the purpose: 1 for the current status (ok, missing, insufficient, unknown), 0 for the others. From GET /_security/role on both clusters; for an API-key link, remote_indices for the alias locally and the cross-cluster key's access (role 'cross-cluster API key <id>') on the remote. Polled every transport.probe_interval.",
		"es_cluster", "remote", "role", "purpose", "side", "status")
	famLinkRoleMissingPrivilege = gauge("link", "role_missing_privilege",
		"A privilege (cluster:<name> or indices:<name>) the role lacks on that side for the purpose, value 1; absent when none is missing. Polled every transport.probe_interval.",
		"es_cluster", "remote", "role", "purpose", "side", "privilege")
)

// rolesCheck reads the roles the configured links name (this cluster's own
// links' and other clusters' links to it) and shares them with the fleet.
var rolesCheck = &check{
	name:     CheckRoles,
	schedule: slowListing,
	applies:  func(p *Poller, _ *Facts) bool { return len(p.roleNames) > 0 },
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		f.Roles.Roles, f.Roles.Err = p.client.roles(ctx, p.roleNames)
		if p.fleet != nil {
			p.fleet.SetRoles(p.name, f.Roles)
		}
		return f.Roles.Err
	},
}

// roleFitCheck judges the roles of this cluster's links on both sides, in
// the slow round: the remote side's roles come from the fleet.
var roleFitCheck = &check{
	schedule: slowRound,
	families: []*Family{famLinkRoleStatus, famLinkRoleMissingPrivilege},
	run: func(_ context.Context, p *Poller, f *Facts) *CheckError {
		apiKey := map[string]bool{}
		for i := range f.Links {
			apiKey[f.Links[i].Alias] = f.Links[i].Auth() == "api_key"
		}
		var pending bool
		f.RoleFindings, pending = analyzeRoles(p.name, f.Roles, p.links, apiKey, p.fleet, p.now())
		f.Pending = f.Pending || pending
		p.logRoles(f.RoleFindings)
		return nil
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		for _, rf := range f.RoleFindings {
			for _, st := range RoleStatuses {
				out.add(famLinkRoleStatus, boolFloat(rf.Status == st), p.name, rf.Alias, rf.Role, string(rf.Purpose), string(rf.Side), st)
			}
			for _, m := range rf.Result.Missing {
				out.add(famLinkRoleMissingPrivilege, 1, p.name, rf.Alias, rf.Role, string(rf.Purpose), string(rf.Side), m.String())
			}
		}
	},
}

// logRoles logs, once per change, a role that is not fit for its link. An
// unknown status (the roles could not be read) neither raises nor clears a
// problem: the failing read is logged as a check.
func (p *Poller) logRoles(fs []RoleFinding) {
	for _, f := range fs {
		if f.Status == RoleUnknown {
			continue
		}
		problem := ""
		switch f.Status {
		case string(rolecheck.StatusMissing):
			problem = "role does not exist"
		case string(rolecheck.StatusInsufficient):
			problem = "role lacks " + rolecheck.List(f.Result.Missing)
		}
		p.logChange("role:"+f.Alias+":"+f.Role+":"+string(f.Purpose)+":"+string(f.Side), problem,
			func() {
				p.logger.Warn("link role not fit for its purpose", "remote", f.Alias, "role", f.Role, "purpose", f.Purpose,
					"side", f.Side, "on", f.Cluster, "problem", problem)
			},
			func() {
				p.logger.Info("link role fit for its purpose again", "remote", f.Alias, "role", f.Role, "purpose", f.Purpose, "side", f.Side)
			})
	}
}

// roles reads the named roles. Elasticsearch answers 404 with {} when none
// of them exists, and 200 with the ones that do otherwise.
func (c *Client) roles(ctx context.Context, names []string) (map[string]rolecheck.Role, *CheckError) {
	out := map[string]rolecheck.Role{}
	err := c.doAllowing(ctx, "GET /_security/role", esapi.SecurityGetRoleRequest{Name: names}, &out, http.StatusNotFound)
	if err != nil && err.Reason == ReasonForbidden {
		err.Hint = "the exporter reads the roles clusters[].links.<alias>.roles names: grant its user the read_security cluster privilege (8.x) or manage_security, or remove the roles from the configuration"
	}
	return out, err
}

// RoleFinding is the judgement of one role for one purpose on one side of
// a link.
type RoleFinding struct {
	Alias, Role string
	Purpose     rolecheck.Purpose
	Side        rolecheck.Side
	// Cluster is the monitored cluster holding this side's definition.
	Cluster string
	Status  string // rolecheck's status, or RoleUnknown
	Result  rolecheck.Result
	// Kibana: judged as the spec's Kibana variant of search (the local
	// role grants view_index_metadata).
	Kibana bool
	// Why says, for RoleUnknown, why the side could not be judged.
	Why string
	// APIKey: judged by the API-key model (remote_indices locally, the
	// cross-cluster key's access on the remote).
	APIKey bool
}

// analyzeRoles judges every role the cluster's links name, on both sides.
// pending is true when a remote's roles were not known yet (it has not been
// polled): the caller judges again soon rather than report unknown for a
// whole round.
// apiKey names the links that use the API-key model (from GET
// /_remote/info): their local role is judged by remote_indices and their
// remote side by the cross-cluster key's access (rolecheck/apikey.go).
func analyzeRoles(local string, own RoleSet, links map[string]config.Link, apiKey map[string]bool, fleet *Fleet, now time.Time) (out []RoleFinding, pending bool) {
	for _, alias := range slices.Sorted(maps.Keys(links)) {
		l := links[alias]
		if apiKey[alias] {
			out = append(out, apiKeyRoles(local, own, alias, l, fleet, now)...)
			continue
		}
		remote, remoteKnown := RoleSet{}, false
		if fleet != nil {
			remote, remoteKnown = fleet.Roles(l.Cluster)
		}
		for _, purpose := range []struct {
			p     rolecheck.Purpose
			names []string
		}{{rolecheck.PurposeSearch, l.Roles.Search}, {rolecheck.PurposeReplication, l.Roles.Replication}} {
			for _, name := range purpose.names {
				kibana := false
				if r, ok := own.Roles[name]; ok && own.Err == nil && purpose.p == rolecheck.PurposeSearch {
					kibana = rolecheck.KibanaVariant(r)
				}
				for _, side := range []struct {
					s       rolecheck.Side
					cluster string
					set     RoleSet
					known   bool
				}{{rolecheck.SideLocal, local, own, true}, {rolecheck.SideRemote, l.Cluster, remote, remoteKnown}} {
					f := RoleFinding{Alias: alias, Role: name, Purpose: purpose.p, Side: side.s, Cluster: side.cluster, Kibana: kibana}
					switch {
					case !side.known && fleet != nil && !fleet.Polled(side.cluster):
						f.Status, f.Why = RoleUnknown, "the remote cluster "+side.cluster+" has not been polled yet"
						pending = true
					case !side.known:
						f.Status, f.Why = RoleUnknown, "the roles of the remote cluster "+side.cluster+" could not be read: its last poll failed before reading them"
					case side.set.Err != nil:
						f.Status, f.Why = RoleUnknown, side.set.Err.Error()
					default:
						var role *rolecheck.Role
						if r, ok := side.set.Roles[name]; ok {
							role = &r
						}
						f.Result = rolecheck.Check(role, purpose.p, side.s, kibana)
						f.Status = string(f.Result.Status)
					}
					out = append(out, f)
				}
			}
		}
	}
	return out, pending
}

// apiKeyRoles judges the roles of an API-key link: each named role on the
// local side by remote_indices for the alias, and the remote side once per
// purpose by the cross-cluster key the link holds (clusters[].links.
// <alias>.api_key_id), whose access the remote authorizes instead of a role
// of the same name.
func apiKeyRoles(local string, own RoleSet, alias string, l config.Link, fleet *Fleet, now time.Time) []RoleFinding {
	var out []RoleFinding
	for _, purpose := range []struct {
		p     rolecheck.Purpose
		names []string
	}{{rolecheck.PurposeSearch, l.Roles.Search}, {rolecheck.PurposeReplication, l.Roles.Replication}} {
		for _, name := range purpose.names {
			f := RoleFinding{Alias: alias, Role: name, Purpose: purpose.p, Side: rolecheck.SideLocal, Cluster: local, APIKey: true}
			if own.Err != nil {
				f.Status, f.Why = RoleUnknown, own.Err.Error()
			} else {
				var role *rolecheck.Role
				if r, ok := own.Roles[name]; ok {
					role = &r
				}
				f.Result = rolecheck.CheckAPIKeyLocal(role, purpose.p, alias)
				f.Status = string(f.Result.Status)
			}
			out = append(out, f)
		}
		if len(purpose.names) == 0 {
			continue
		}
		// The remote side: the key, named like a role so that the series
		// stay one per purpose and side.
		f := RoleFinding{Alias: alias, Role: keyRoleName(l.APIKeyID), Purpose: purpose.p, Side: rolecheck.SideRemote, Cluster: l.Cluster, APIKey: true}
		var keys *APIKeySet
		if fleet != nil {
			keys = fleet.APIKeys(l.Cluster)
		}
		switch lk, known := linkKey(l.APIKeyID, keys, now); {
		case l.APIKeyID == "":
			f.Status, f.Why = RoleUnknown, "the remote authorizes the cross-cluster API key's access: name the key in clusters[].links."+alias+".api_key_id to judge it"
		case !known:
			f.Status, f.Why = RoleUnknown, "the API keys of the remote cluster "+l.Cluster+" are not known (not monitored, not polled yet, or not readable: read_security)"
		default:
			f.Result = rolecheck.CheckAPIKeyRemote(lk.Key.Access, lk.Status != KeyNotFound && lk.Status != KeyREST, purpose.p)
			f.Status = string(f.Result.Status)
		}
		out = append(out, f)
	}
	return out
}

// keyRoleName is the role label of a link's remote side in the API-key
// model: the key it holds.
func keyRoleName(id string) string {
	if id == "" {
		return "cross-cluster API key"
	}
	return "cross-cluster API key " + id
}
