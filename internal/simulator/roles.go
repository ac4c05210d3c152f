package simulator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
)

// Native roles and GET /_security/role[/<name>].
//
// Sources (elastic/elasticsearch):
//   - RestGetRolesAction (x-pack/plugin/security/.../rest/action/role/,
//     7.x, verified): names = paramAsStringArray("name"), i.e. comma
//     separated; body {"<name>": <RoleDescriptor>, ...}; when names were
//     given and none was found: 404 with the empty object {} (the
//     builder's startObject/endObject with nothing in between); when at
//     least one was found, 200 with the found ones only.
//   - RoleDescriptor#toXContent (x-pack/plugin/core/.../authz/
//     RoleDescriptor.java, verified for 7.x and 8.x up to remote_indices):
//     cluster, global (only with configurable privileges, not simulated),
//     indices, applications, run_as (always: never null after the
//     constructor), metadata, transient_metadata (API display; the
//     security index stores "type" instead), remote_indices (only when
//     non-empty). The later optional fields remote_cluster (8.15+, not
//     simulated), restriction (not simulated) and description (8.15+,
//     only when non-empty) follow in that order (unverified: from memory
//     of the 8.15+ source).
//   - IndicesPrivileges#innerToXContent (verified): names, privileges,
//     field_security (not simulated), query (not simulated),
//     allow_restricted_indices; RemoteIndicesPrivileges#toXContent
//     (verified): the same then clusters.
//   - transient_metadata of a native role is {"enabled": true}
//     (RoleDescriptor's default transient metadata; unverified here).
//
// GET /_security/role without names returns every native role (in real
// Elasticsearch also the reserved roles, superuser & co., which the
// simulator leaves out: simplification). Native roles are listed sorted
// by name (unverified: the native store answers in search order).
// Metadata maps are rendered with sorted keys (unverified: Elasticsearch
// keeps the stored document's order).
//
// Action cluster:admin/xpack/security/role/get (GetRolesAction.NAME),
// granted by read_security (8.x; ClusterPrivilegeResolver, NOTES.md,
// unverified for 8.0/8.1), manage_security and all; 7.17 has no
// read_security (unverified). A 7.x node with security off by license
// default answers every _security API with SecurityActionFilter's 500.

// RoleSpec is a native role (PUT /_security/role/<name>).
type RoleSpec struct {
	Cluster []string
	Indices []IndicesPrivileges
	// RemoteIndices need 8.14+ (remote_indices, NOTES.md).
	RemoteIndices []RemoteIndicesPrivileges
	// Description needs 8.15+ (unverified minor, NOTES.md).
	Description string
	Metadata    map[string]any
}

// IndicesPrivileges is one "indices" entry of a role.
type IndicesPrivileges struct {
	Names, Privileges      []string
	AllowRestrictedIndices bool
}

// RemoteIndicesPrivileges is one "remote_indices" entry of a role.
type RemoteIndicesPrivileges struct {
	Clusters, Names, Privileges []string
}

func validateRole(ver esVersion, name string, r RoleSpec) error {
	if name == "" {
		return fmt.Errorf("simulator: role name is empty")
	}
	if len(r.RemoteIndices) > 0 && !ver.atLeast(8, 14) {
		return fmt.Errorf("simulator: role %q: remote_indices need 8.14+, the cluster plays %s", name, ver.str)
	}
	if r.Description != "" && !ver.atLeast(8, 15) {
		return fmt.Errorf("simulator: role %q: description needs 8.15+, the cluster plays %s", name, ver.str)
	}
	return nil
}

func cloneRole(r RoleSpec) RoleSpec {
	out := RoleSpec{Cluster: slices.Clone(r.Cluster), Description: r.Description, Metadata: maps.Clone(r.Metadata)}
	for _, ip := range r.Indices {
		out.Indices = append(out.Indices, IndicesPrivileges{Names: slices.Clone(ip.Names),
			Privileges: slices.Clone(ip.Privileges), AllowRestrictedIndices: ip.AllowRestrictedIndices})
	}
	for _, rp := range r.RemoteIndices {
		out.RemoteIndices = append(out.RemoteIndices, RemoteIndicesPrivileges{Clusters: slices.Clone(rp.Clusters),
			Names: slices.Clone(rp.Names), Privileges: slices.Clone(rp.Privileges)})
	}
	return out
}

// SetRole creates or replaces a native role. It fails for fields the
// cluster's version does not have (remote_indices before 8.14,
// description before 8.15).
func (c *Cluster) SetRole(name string, r RoleSpec) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := validateRole(c.nodes[0].ver, name, r); err != nil {
		return err
	}
	c.roles[name] = cloneRole(r)
	return nil
}

// DeleteRole removes a native role (no-op when absent).
func (c *Cluster) DeleteRole(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.roles, name)
}

// metadataValue converts a metadata value for encodeJSON.
func metadataValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		o := obj{}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			o = o.set(k, metadataValue(t[k]))
		}
		return o
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = metadataValue(e)
		}
		return out
	case nil, string, bool, int, int64, float64, []string:
		return t
	}
	return fmt.Sprint(v)
}

// roleBody is RoleDescriptor#toXContent for API display (see above).
func roleBody(ver esVersion, r RoleSpec) obj {
	indices := []any{}
	for _, ip := range r.Indices {
		indices = append(indices, obj{}.set("names", ip.Names).set("privileges", ip.Privileges).
			set("allow_restricted_indices", ip.AllowRestrictedIndices))
	}
	md := r.Metadata
	if md == nil {
		md = map[string]any{}
	}
	o := obj{}.set("cluster", r.Cluster).
		set("indices", indices).
		set("applications", []any{}).
		set("run_as", []any{}).
		set("metadata", metadataValue(md)).
		set("transient_metadata", obj{}.set("enabled", true))
	if len(r.RemoteIndices) > 0 && ver.atLeast(8, 14) {
		remote := []any{}
		for _, rp := range r.RemoteIndices {
			remote = append(remote, obj{}.set("names", rp.Names).set("privileges", rp.Privileges).
				set("allow_restricted_indices", false).set("clusters", rp.Clusters))
		}
		o = o.set("remote_indices", remote)
	}
	if r.Description != "" && ver.atLeast(8, 15) {
		o = o.set("description", r.Description)
	}
	return o
}

// getRolesGrants are the cluster privileges that grant
// cluster:admin/xpack/security/role/get, narrowest first (unverified
// order and 8.x boundary, see above).
func getRolesGrants(ver esVersion) []string {
	if ver.v.Major >= 8 {
		return []string{"read_security", "manage_security", "all"}
	}
	return []string{"manage_security", "all"}
}

// getRolesAction is GET /_security/role[/<names>] (see above).
func (c *Cluster) getRolesAction(r *http.Request, ver esVersion, names []string) response {
	if _, w := c.answeringSecurity(); w != "" {
		return c.securityNotEnabled(ver, r)
	}
	g := grant{action: "cluster:admin/xpack/security/role/get", kind: "cluster", granting: getRolesGrants(ver)}
	if _, deny := c.begin(r, ver, nil, g); deny != nil {
		return *deny
	}
	c.mu.Lock()
	roles := map[string]RoleSpec{}
	for k, v := range c.roles {
		roles[k] = cloneRole(v)
	}
	c.mu.Unlock()
	var selected []string
	if len(names) == 0 {
		selected = slices.Sorted(maps.Keys(roles))
	} else {
		for _, n := range names {
			if _, ok := roles[n]; ok && !slices.Contains(selected, n) {
				selected = append(selected, n)
			}
		}
	}
	out := obj{}
	for _, n := range selected {
		out = out.set(n, roleBody(ver, roles[n]))
	}
	status := http.StatusOK
	if len(names) > 0 && len(selected) == 0 {
		status = http.StatusNotFound
	}
	return jsonResponse(ver, r, status, out)
}
