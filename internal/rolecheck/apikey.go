package rolecheck

import (
	"path"
	"slices"
)

// The API-key model ("Add remote clusters using API key authentication",
// elastic/docs-content deploy-manage/remote-clusters/remote-clusters-api-key.md,
// "Configure roles and users"): the local user's role grants access to the
// remote through remote_indices entries whose clusters match the alias,
// and the remote authorizes the cross-cluster API key's access, not a role
// of the same name. The effective permission is the intersection of the
// two (troubleshooting guide, symptom 10).
//   - search: remote_indices with read and read_cross_cluster on the target
//     indices;
//   - replication: manage_ccr, and monitor, read, write and
//     manage_follow_index on the follower indices (local, as in the
//     certificate model), and remote_indices with cross_cluster_replication
//     and cross_cluster_replication_internal on the leader indices.

// RemoteIndicesPrivileges is one remote_indices entry of a role (8.14+).
type RemoteIndicesPrivileges struct {
	Clusters   []string `json:"clusters"`
	Names      []string `json:"names"`
	Privileges []string `json:"privileges"`
}

// ScopeRemoteIndices is the scope of a missing remote_indices privilege.
const ScopeRemoteIndices = "remote_indices"

// RequiredRemote lists the remote_indices privileges the API-key model's
// local role needs for a purpose.
func RequiredRemote(p Purpose) []string {
	switch p {
	case PurposeSearch:
		return []string{"read", "read_cross_cluster"}
	case PurposeReplication:
		return []string{"cross_cluster_replication", "cross_cluster_replication_internal"}
	}
	return nil
}

// CheckAPIKeyLocal judges the local role of a link in the API-key model:
// remote_indices for alias granting what the purpose needs (the privileges
// are named, as the procedure writes them; all grants everything), and for
// replication the local privileges of the follower side.
func CheckAPIKeyLocal(role *Role, p Purpose, alias string) Result {
	if role == nil {
		return Result{Status: StatusMissing}
	}
	res := Result{Unjudged: unjudged(role)}
	if p == PurposeReplication {
		local := Check(role, PurposeReplication, SideLocal, false)
		res.Missing, res.Indices, res.Notes = local.Missing, local.Indices, local.Notes
	}
	granted := map[string]bool{}
	for _, e := range role.RemoteIndices {
		if !slices.ContainsFunc(e.Clusters, func(c string) bool { ok, _ := path.Match(c, alias); return ok || c == alias }) {
			continue
		}
		for _, pr := range e.Privileges {
			granted[normalize(pr)] = true
		}
	}
	for _, need := range RequiredRemote(p) {
		if !granted[need] && !granted["all"] {
			res.Missing = append(res.Missing, Privilege{Scope: ScopeRemoteIndices, Name: need})
		}
	}
	res.Status = StatusOK
	if len(res.Missing) > 0 {
		res.Status = StatusInsufficient
	}
	return res
}

// KeyAccess is a cross-cluster API key's access (its "access" field):
// the index patterns it grants for search and for replication.
type KeyAccess struct {
	Search, Replication [][]string
}

// CheckAPIKeyRemote judges the remote side of a link in the API-key model:
// the cross-cluster key must grant access for the purpose (search or
// replication entries). found is false when the key is not known.
func CheckAPIKeyRemote(access KeyAccess, found bool, p Purpose) Result {
	if !found {
		return Result{Status: StatusMissing}
	}
	entries := access.Search
	if p == PurposeReplication {
		entries = access.Replication
	}
	if len(entries) == 0 {
		return Result{Status: StatusInsufficient, Missing: []Privilege{{Scope: "access", Name: string(p)}}}
	}
	var names []string
	for _, e := range entries {
		names = append(names, e...)
	}
	return Result{Status: StatusOK, Indices: names}
}
