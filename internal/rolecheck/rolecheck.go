// Package rolecheck judges whether one Elasticsearch role definition grants
// what cross-cluster search or cross-cluster replication needs on one side of a
// remote-cluster link.
//
// Why it exists: with TLS-certificate authentication the spec ("Configure
// roles and users for remote clusters") requires a role of the same name on
// the local and the remote cluster, but with a different definition on each
// side. A link can be connected and still fail every search or follow request
// because one side's role is missing or lacks a privilege, and nothing in the
// remote-cluster info says so. The exporter fetches the role on each side
// (GET /_security/role/<name>) and this package says, without any I/O,
// whether that definition is enough and, if not, exactly what is missing.
//
// Privilege semantics follow Elasticsearch's own resolution (the tables
// clusterGrants and indexGrants cite the source): a privilege implies another
// when its action automaton is a superset, the privileges a role grants on the
// same indices (or cluster-wide) are unioned, and names are matched
// case-insensitively because Elasticsearch lower-cases them before lookup.
package rolecheck

import (
	"slices"
	"strings"
)

// Role is a role descriptor as GET /_security/role returns it; only the fields the check reads.
type Role struct {
	Cluster       []string                  `json:"cluster"`
	Indices       []IndicesPrivileges       `json:"indices"`
	RemoteIndices []RemoteIndicesPrivileges `json:"remote_indices"` // 8.14+, the API-key model (apikey.go)
}

// IndicesPrivileges is one entry of a role's "indices" list: privileges
// granted on the index patterns in Names.
type IndicesPrivileges struct {
	Names      []string `json:"names"`
	Privileges []string `json:"privileges"`
}

// Purpose is what the remote-cluster link is used for.
type Purpose string

// The purposes the spec defines roles for.
const (
	// PurposeSearch is cross-cluster search.
	PurposeSearch Purpose = "search"
	// PurposeReplication is cross-cluster replication.
	PurposeReplication Purpose = "replication"
)

// Side says which cluster of the link the role lives on.
type Side string

// The two sides of a remote-cluster link.
const (
	// SideLocal is the cluster that initiates the search, or holds the
	// follower indices.
	SideLocal Side = "local"
	// SideRemote is the cluster that is searched, or holds the leader
	// indices.
	SideRemote Side = "remote"
)

// Status is the verdict on one role.
type Status string

// The possible verdicts.
const (
	// StatusOK means the role exists and grants everything required.
	StatusOK Status = "ok"
	// StatusMissing means the role does not exist.
	StatusMissing Status = "missing"
	// StatusInsufficient means the role exists but lacks at least one
	// required privilege.
	StatusInsufficient Status = "insufficient"
)

// Scopes of a Privilege.
const (
	scopeCluster = "cluster"
	scopeIndices = "indices"
)

// Privilege names one privilege together with where it is granted.
type Privilege struct {
	Scope string // "cluster" or "indices"
	Name  string
}

// String renders the privilege as "scope:name", e.g. "cluster:read_ccr" or
// "indices:read".
func (p Privilege) String() string { return p.Scope + ":" + p.Name }

// List joins privileges as "cluster:read_ccr, indices:read".
func List(ps []Privilege) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// Result is the judgement of one role for one purpose and side.
type Result struct {
	Status Status
	// Missing is what the role lacks, cluster first then indices, each in the
	// spec's order; empty unless Status is StatusInsufficient.
	Missing []Privilege
	// Indices are the index patterns of the entry (group) the judgement used:
	// the one granting most of what is needed; empty when the role has no
	// index entries or needs none.
	Indices []string
	// Unjudged are privileges in the role that the check cannot interpret
	// (action-name patterns such as "indices:data/read/*", unknown names);
	// they may grant what is reported missing, so callers show them. They are
	// listed as written in the role, cluster privileges first, without
	// duplicates, whatever the Status (except StatusMissing).
	Unjudged []string
	// Notes say why a required privilege counts although the role does not
	// name it or a privilege whose automaton implies it.
	Notes []string
}

// Required lists what the spec requires for a purpose and side (kibana = the
// Kibana variant of search). The slices are fresh copies in the spec's order.
// kibana is ignored for replication; an unknown purpose or side requires
// nothing.
func Required(p Purpose, s Side, kibana bool) (cluster, indices []string) {
	switch p {
	case PurposeSearch:
		switch s {
		case SideLocal:
			if kibana {
				// "create a logstash-reader role that grants read and
				// view_index_metadata privileges on the local logstash-* indices"
				return nil, []string{"read", "view_index_metadata"}
			}
			// "a user only needs the remote-search role. The role
			// privileges can be empty."
			return nil, nil
		case SideRemote:
			if kibana {
				// "grants the read_cross_cluster privilege and read and
				// view_index_metadata privileges for the logstash-* indices"
				return nil, []string{"read_cross_cluster", "read", "view_index_metadata"}
			}
			// "requires the read and read_cross_cluster privileges for the
			// target indices"
			return nil, []string{"read", "read_cross_cluster"}
		}
	case PurposeReplication:
		switch s {
		case SideLocal:
			// "requires the manage_ccr cluster privilege, and monitor, read,
			// write, and manage_follow_index privileges on the follower index"
			return []string{"manage_ccr"}, []string{"monitor", "read", "write", "manage_follow_index"}
		case SideRemote:
			// "requires the read_ccr cluster privilege, and monitor and read
			// privileges on the leader index"
			return []string{"read_ccr"}, []string{"monitor", "read"}
		}
	}
	return nil, nil
}

// KibanaVariant reports whether a local search role is the Kibana variant
// (grants view_index_metadata, directly or through a privilege that implies
// it) on at least one index entry.
func KibanaVariant(local Role) bool {
	want := indexNeeds["view_index_metadata"]
	for _, e := range local.Indices {
		if len(e.Names) == 0 {
			continue
		}
		if grantedIndexAtoms(e.Privileges)&want == want {
			return true
		}
	}
	return false
}

// Check judges a role; role == nil means the role does not exist (StatusMissing).
func Check(role *Role, p Purpose, s Side, kibana bool) Result {
	if role == nil {
		return Result{Status: StatusMissing}
	}
	clusterReq, indicesReq := Required(p, s, kibana)
	res := Result{Unjudged: unjudged(role)}

	granted := grantedClusterAtoms(role.Cluster)
	for _, name := range clusterReq {
		need := clusterNeeds[name]
		switch {
		case granted&need == need:
		case (granted|clusterHasPrivilege)&need == need:
			// RBACEngine.authorizeClusterAction grants what the role does not
			// when checkSameUserPermissions allows it: has_privileges about
			// the requesting user itself (SAME_USER_PRIVILEGE), which is how
			// CCR uses it. So the one atom automata leave out is real only on
			// paper (8.x/9.x and 7.x RBACEngine alike).
			res.Notes = append(res.Notes, "cluster:"+name+" counts as granted: the role's "+
				strings.Join(role.Cluster, ",")+" covers its actions except has_privileges, which Elasticsearch "+
				"lets every user call about itself (RBACEngine.checkSameUserPermissions)")
		default:
			res.Missing = append(res.Missing, Privilege{Scope: scopeCluster, Name: name})
		}
	}

	if len(indicesReq) > 0 {
		indices, missing := bestIndexGroup(role.Indices, indicesReq)
		res.Indices = indices
		for _, name := range missing {
			res.Missing = append(res.Missing, Privilege{Scope: scopeIndices, Name: name})
		}
	}

	if len(res.Missing) == 0 {
		res.Status = StatusOK
	} else {
		res.Status = StatusInsufficient
	}
	return res
}

// atoms is a set of indivisible action groups, one bit each. A needed
// privilege is a set of atoms; a granted privilege covers some atoms; the
// need is met when the union of what the role grants covers all its atoms.
// Atoms are only as fine as needed to decide the privileges this package
// requires: a granting privilege is listed with an atom only if its action
// automaton contains every action of that atom.
type atoms uint16

// Cluster atoms. Elasticsearch's ClusterPrivilegeResolver defines
//
//	READ_CCR_PATTERN   = {ClusterStateAction.NAME, HasPrivilegesAction.NAME}
//	MANAGE_CCR_PATTERN = {"cluster:admin/xpack/ccr/*", ClusterStateAction.NAME, HasPrivilegesAction.NAME}
//
// (identical in the 7.x and the 8.x/9.x versions of the file), with
// ClusterStateAction.NAME = "cluster:monitor/state" and HasPrivilegesAction.NAME
// = "cluster:admin/xpack/security/user/has_privileges". The has_privileges
// action matters: it lies under "cluster:admin/xpack/security/*", which the
// cluster "manage" privilege excludes.
const (
	clusterCCRAdmin     atoms = 1 << iota // cluster:admin/xpack/ccr/*
	clusterState                          // cluster:monitor/state
	clusterHasPrivilege                   // cluster:admin/xpack/security/user/has_privileges
)

// clusterNeeds maps each cluster privilege the spec requires to its atoms.
var clusterNeeds = map[string]atoms{
	"read_ccr":   clusterState | clusterHasPrivilege,
	"manage_ccr": clusterCCRAdmin | clusterState | clusterHasPrivilege,
}

// clusterGrants maps every named cluster privilege Elasticsearch 7.x–9.x knows
// to the cluster atoms its automaton fully contains. Source: elastic/elasticsearch
// x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz/privilege/ClusterPrivilegeResolver.java
// (and ActionClusterPrivilege.java, whose second pattern set is *excluded*
// from the first):
//
//   - all = {"cluster:*", "indices:admin/template/*", "indices:admin/index_template/*"}
//     (7.x also "indices:admin/data_stream/*"): every cluster atom, so all
//     implies read_ccr and manage_ccr.
//   - manage_ccr ⊇ read_ccr: MANAGE_CCR_PATTERN contains both READ_CCR_PATTERN
//     actions.
//   - manage = ALL_CLUSTER_PATTERN minus ALL_SECURITY_PATTERN
//     ("cluster:admin/xpack/security/*"); in 7.x (7.13–7.17) minus also the
//     feature-reset action. It contains cluster:admin/xpack/ccr/* and
//     cluster:monitor/state but NOT has_privileges, so by automaton manage
//     implies neither read_ccr nor manage_ccr (it does imply cluster monitor,
//     which nothing here requires). At run time RBACEngine lets any user
//     call has_privileges about itself (checkSameUserPermissions,
//     SAME_USER_PRIVILEGE), which is the only use CCR makes of it, so Check
//     counts that atom as granted to every role and says so in Result.Notes:
//     manage covers manage_ccr, and monitor read_ccr, in practice.
//   - monitor ("cluster:monitor/*"), transport_client and (8.x+)
//     cross_cluster_replication contain cluster:monitor/state only.
//   - manage_security (ALL_SECURITY_PATTERN minus delegate_pki) and (8.x+)
//     read_security (lists HasPrivilegesAction.NAME) contain has_privileges
//     only. So e.g. ["manage", "manage_security"] covers manage_ccr.
//
// Every other name resolves to an automaton that contains none of the atoms.
var clusterGrants = map[string]atoms{
	"all":                       clusterCCRAdmin | clusterState | clusterHasPrivilege,
	"manage_ccr":                clusterCCRAdmin | clusterState | clusterHasPrivilege,
	"read_ccr":                  clusterState | clusterHasPrivilege,
	"manage":                    clusterCCRAdmin | clusterState,
	"monitor":                   clusterState,
	"transport_client":          clusterState,
	"cross_cluster_replication": clusterState,
	"manage_security":           clusterHasPrivilege,
	"read_security":             clusterHasPrivilege,

	"none":                                 0,
	"monitor_ml":                           0,
	"monitor_inference":                    0,
	"monitor_text_structure":               0,
	"monitor_data_frame_transforms":        0,
	"monitor_transform":                    0,
	"monitor_watcher":                      0,
	"monitor_rollup":                       0,
	"monitor_enrich":                       0,
	"monitor_connector":                    0,
	"monitor_snapshot":                     0,
	"monitor_data_stream_global_retention": 0,
	"manage_ml":                            0,
	"manage_inference":                     0,
	"manage_data_frame_transforms":         0,
	"manage_transform":                     0,
	"manage_token":                         0,
	"manage_watcher":                       0,
	"manage_index_templates":               0,
	"manage_ingest_pipelines":              0,
	"manage_pipeline":                      0,
	"manage_rollup":                        0,
	"manage_autoscaling":                   0,
	"manage_saml":                          0,
	"manage_oidc":                          0,
	"manage_api_key":                       0,
	"manage_own_api_key":                   0,
	"manage_service_account":               0,
	"manage_user_profile":                  0,
	"manage_ilm":                           0,
	"manage_slm":                           0,
	"manage_enrich":                        0,
	"manage_logstash_pipelines":            0,
	"manage_search_application":            0,
	"manage_search_synonyms":               0,
	"manage_search_query_rules":            0,
	"manage_behavioral_analytics":          0,
	"manage_connector":                     0,
	"manage_data_stream_global_retention":  0,
	"read_pipeline":                        0,
	"read_ilm":                             0,
	"read_slm":                             0,
	"read_fleet_secrets":                   0,
	"write_fleet_secrets":                  0,
	"read_connector_secrets":               0,
	"write_connector_secrets":              0,
	"grant_api_key":                        0,
	"delegate_pki":                         0,
	"create_snapshot":                      0,
	"cancel_task":                          0,
	"post_behavioral_analytics_event":      0,
	"send_behavioral_analytics_event":      0,
	"cross_cluster_search":                 0,
	"cross_cluster_access":                 0,
}

// Index atoms: one per index privilege the spec requires. No union of
// privileges other than the ones listed in indexGrants covers any of them
// (each needs an action family only the privilege itself, "manage" or "all"
// grants, e.g. internal:transport/proxy/indices:data/read/* or
// indices:data/write/*), so one atom per privilege is exact.
const (
	indexRead atoms = 1 << iota
	indexReadCrossCluster
	indexViewMetadata
	indexMonitor
	indexWrite
	indexManageFollow
)

// indexNeeds maps each index privilege the spec requires to its atom.
var indexNeeds = map[string]atoms{
	"read":                indexRead,
	"read_cross_cluster":  indexReadCrossCluster,
	"view_index_metadata": indexViewMetadata,
	"monitor":             indexMonitor,
	"write":               indexWrite,
	"manage_follow_index": indexManageFollow,
}

// indexGrants maps every named index privilege Elasticsearch 7.x–9.x knows to
// the index atoms its automaton fully contains. Source: elastic/elasticsearch
// x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/authz/privilege/IndexPrivilege.java:
//
//   - all = {"indices:*", "internal:transport/proxy/indices:*"}: every atom,
//     including read_cross_cluster (whose automaton starts with
//     "internal:transport/proxy/indices:data/read/*").
//   - manage = monitor ∪ {"indices:admin/*", field_caps*, rollup index caps*}:
//     implies monitor ("indices:monitor/*"), manage_follow_index (put_follow,
//     unfollow, close*, data_stream/promote, rollover: all "indices:admin/...")
//     and view_index_metadata (its actions are "indices:admin/..." plus
//     field_caps*, rollup index caps*, and the transform checkpoint action
//     "indices:monitor/transform/checkpoint"). 8.x's IndexPrivilegeTests
//     asserts both subsetOf(view_index_metadata, manage) and
//     subsetOf(monitor, manage). For 7.x: field caps were added to both
//     view_index_metadata and manage together in 7.12 (PR #67392/#67509), and
//     rollup index caps to both together (PR #75614/#75823), so the subset
//     holds in 7.17 as well.
//   - manage does NOT imply read, write or read_cross_cluster.
//   - read = "indices:data/read/*" (8.x adds resolve index/cluster) does NOT
//     imply read_cross_cluster (proxy actions) nor view_index_metadata
//     (admin actions).
//   - write ("indices:data/write/*" + auto put mapping) is implied only by all;
//     index, create, create_doc, delete are subsets of write, not supersets.
//   - manage_failure_store (9.x) shares manage's automaton but applies only to
//     the failure-store selector, and read_failure_store likewise, so neither
//     implies anything for regular index access.
//   - cross_cluster_replication (8.x+) holds only part of monitor/read.
var indexGrants = map[string]atoms{
	"all":                 indexRead | indexReadCrossCluster | indexViewMetadata | indexMonitor | indexWrite | indexManageFollow,
	"manage":              indexMonitor | indexViewMetadata | indexManageFollow,
	"read":                indexRead,
	"read_cross_cluster":  indexReadCrossCluster,
	"view_index_metadata": indexViewMetadata,
	"monitor":             indexMonitor,
	"write":               indexWrite,
	"manage_follow_index": indexManageFollow,

	"none":                               0,
	"create_index":                       0,
	"index":                              0,
	"delete":                             0,
	"create":                             0,
	"create_doc":                         0,
	"delete_index":                       0,
	"manage_leader_index":                0,
	"manage_ilm":                         0,
	"manage_data_stream_lifecycle":       0,
	"maintenance":                        0,
	"auto_configure":                     0,
	"cross_cluster_replication":          0,
	"cross_cluster_replication_internal": 0,
	"read_failure_store":                 0,
	"manage_failure_store":               0,
}

// normalize lower-cases a privilege name the way Elasticsearch does before
// looking it up: ClusterPrivilegeResolver.resolve and IndexPrivilege.resolve
// both call toLowerCase(Locale.ROOT) (7.x, 8.x and 9.x). Index names are not
// normalized anywhere: they stay case-sensitive.
func normalize(name string) string { return strings.ToLower(name) }

// grantedClusterAtoms is the union of the atoms the named cluster privileges
// cover; uninterpretable names contribute nothing.
func grantedClusterAtoms(privs []string) atoms {
	var a atoms
	for _, p := range privs {
		a |= clusterGrants[normalize(p)]
	}
	return a
}

// grantedIndexAtoms is the union of the atoms the named index privileges
// cover; uninterpretable names contribute nothing.
func grantedIndexAtoms(privs []string) atoms {
	var a atoms
	for _, p := range privs {
		a |= indexGrants[normalize(p)]
	}
	return a
}

// unjudged lists the role's privileges that are not known names (action
// patterns, typos, names newer than this table), as written, cluster first,
// without duplicates.
func unjudged(role *Role) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range role.Cluster {
		if _, ok := clusterGrants[normalize(p)]; !ok {
			add(p)
		}
	}
	for _, e := range role.Indices {
		for _, p := range e.Privileges {
			if _, ok := indexGrants[normalize(p)]; !ok {
				add(p)
			}
		}
	}
	return out
}

// indexGroup is the set of index entries sharing one names set.
type indexGroup struct {
	names []string            // names of the first entry, as written, deduplicated
	set   map[string]struct{} // the names set that identifies the group
}

// bestIndexGroup groups the role's index entries by their names set, gives
// each group the privileges of every entry whose names are a superset of the
// group's names or include "*", and returns the names and missing privileges
// (in required order) of the group missing the fewest; ties go to the group
// appearing first in the role. With no usable entry it returns no names and
// everything missing.
func bestIndexGroup(entries []IndicesPrivileges, required []string) (names []string, missing []string) {
	var groups []indexGroup
	sets := make([]map[string]struct{}, len(entries))
	for i, e := range entries {
		set := make(map[string]struct{}, len(e.Names))
		var uniq []string
		for _, n := range e.Names {
			if _, dup := set[n]; !dup {
				set[n] = struct{}{}
				uniq = append(uniq, n)
			}
		}
		sets[i] = set
		if len(set) == 0 {
			continue // grants on no index at all
		}
		known := slices.ContainsFunc(groups, func(g indexGroup) bool { return sameSet(g.set, set) })
		if !known {
			groups = append(groups, indexGroup{names: uniq, set: set})
		}
	}

	missing = slices.Clone(required)
	best := -1
	for gi, g := range groups {
		var granted atoms
		for i, e := range entries {
			if len(sets[i]) == 0 {
				continue
			}
			if _, star := sets[i]["*"]; star || isSuperset(sets[i], g.set) {
				granted |= grantedIndexAtoms(e.Privileges)
			}
		}
		var m []string
		for _, r := range required {
			need := indexNeeds[r]
			if granted&need != need {
				m = append(m, r)
			}
		}
		if best < 0 || len(m) < len(missing) {
			best, missing = gi, m
		}
	}
	if best < 0 {
		return nil, missing
	}
	return slices.Clone(groups[best].names), missing
}

// sameSet reports whether a and b hold the same names.
func sameSet(a, b map[string]struct{}) bool {
	return len(a) == len(b) && isSuperset(a, b)
}

// isSuperset reports whether sup holds every name in sub.
func isSuperset(sup, sub map[string]struct{}) bool {
	for n := range sub {
		if _, ok := sup[n]; !ok {
			return false
		}
	}
	return true
}
