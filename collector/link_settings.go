package collector

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Where each link is configured.
//
// A remote alias is the group of settings cluster.remote.<alias>.*. They
// are dynamic settings, so they come from two places: the cluster settings
// API (GET /_cluster/settings: persistent, overlaid by transient; applied on
// every node) and each node's elasticsearch.yml (GET /_nodes/settings: on
// that node only). A node applies its own settings overlaid by the cluster's
// key by key, so "dynamic wins" holds per key, not per link. GET
// /_remote/info answers for the node that handled the request only, so a
// link defined statically on some nodes looks fine or broken depending on
// which node answers: this check looks at all of them.

// CheckClusterSettings is the name of the GET /_cluster/settings check.
const CheckClusterSettings = "cluster_settings"

var (
	famRemoteClientNodes = gauge("cluster", "remote_client_nodes",
		"Nodes with the remote_cluster_client role (from GET /_nodes/settings): the nodes that connect to remotes and on which every link should be defined. Polled every transport.probe_interval.",
		clusterLabels...)
	famLinkSettingsNodes = gauge("link", "settings_nodes",
		"remote_cluster_client nodes on which the link is defined (its seeds or proxy address set), from GET /_cluster/settings and each node's GET /_nodes/settings; source is dynamic (cluster settings), static (elasticsearch.yml) or both. Below es_remote_cluster_remote_client_nodes, the link works or not depending on which node coordinates a request. Polled every transport.probe_interval.",
		"es_cluster", "remote", "source")
	famLinkDeprecatedSetting = gauge("link", "deprecated_setting_nodes",
		"Nodes whose elasticsearch.yml defines the link setting (seeds, skip_unavailable) only under its deprecated search.remote.<alias>.* name, from GET /_nodes/settings: 7.x honours it, 8.0 removed it, so the link is lost on upgrade. Absent when none. Polled every transport.probe_interval.",
		"es_cluster", "remote", "setting")
	famLinkSettingConflict = gauge("link", "setting_conflict",
		"A link setting (mode, seeds, proxy_address, skip_unavailable, transport.compress, transport.ping_schedule) whose value differs between_nodes, or static_vs_dynamic (an elasticsearch.yml value the cluster setting overrides), value 1; absent when consistent. Polled every transport.probe_interval.",
		"es_cluster", "remote", "setting", "kind")
)

// clusterSettingsCheck reads the dynamic link definitions and judges, with
// each node's static ones (read by the prerequisites check), where every
// link is defined and how consistently. The judgement is rendered and not
// kept: with thousands of links only the rendering is worth keeping.
var clusterSettingsCheck = &check{
	name:     CheckClusterSettings,
	schedule: slowListing,
	families: []*Family{famRemoteClientNodes, famLinkSettingsNodes, famLinkSettingConflict, famLinkDeprecatedSetting},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		dynamic, err := p.client.clusterSettings(ctx)
		if err == nil && f.nodesOK {
			f.LinkSettings = analyzeLinkSettings(dynamic, f.nodeLinks)
		}
		f.nodeLinks = nil
		p.logLinkSettings(f.LinkSettings)
		return err
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		if f.RemoteClientNodes >= 0 {
			out.add(famRemoteClientNodes, float64(f.RemoteClientNodes), p.name)
		}
		for _, ls := range f.LinkSettings {
			out.add(famLinkSettingsNodes, float64(ls.Defined), p.name, ls.Alias, ls.Source)
			for _, c := range ls.Conflicts {
				out.add(famLinkSettingConflict, 1, p.name, ls.Alias, c.Setting, c.Kind)
			}
			for _, k := range slices.Sorted(maps.Keys(ls.Deprecated)) {
				out.add(famLinkDeprecatedSetting, float64(len(ls.Deprecated[k])), p.name, ls.Alias, k)
			}
		}
	},
}

// logLinkSettings logs, once per change, a link that is not defined on
// every remote_cluster_client node or whose settings differ.
func (p *Poller) logLinkSettings(ls []LinkSettings) {
	for _, l := range ls {
		var problems []string
		if len(l.MissingOn) > 0 {
			problems = append(problems, "not defined on "+strings.Join(l.MissingOn, ","))
		}
		for _, c := range l.Conflicts {
			problems = append(problems, c.Setting+" "+strings.ReplaceAll(c.Kind, "_", " ")+": "+c.String())
		}
		for _, k := range slices.Sorted(maps.Keys(l.Deprecated)) {
			problems = append(problems, "search.remote."+l.Alias+"."+k+" (deprecated, removed in 8.0; rename it to cluster.remote."+
				l.Alias+"."+k+") on "+strings.Join(l.Deprecated[k], ","))
		}
		problem := strings.Join(problems, " | ")
		p.logChange("settings:"+l.Alias, problem,
			func() {
				p.logger.Warn("link settings inconsistent", "remote", l.Alias, "source", l.Source, "problem", problem)
			},
			func() { p.logger.Info("link settings consistent again", "remote", l.Alias, "source", l.Source) })
	}
}

// roleRemoteClusterClient is the node role a node needs to connect to
// remote clusters (and to answer GET /_remote/info).
const roleRemoteClusterClient = "remote_cluster_client"

const remotePrefix = "cluster.remote."

// linkSettingKeys are the per-alias keys (after cluster.remote.<alias>.)
// the exporter reads; others under cluster.remote. (connect,
// initial_connect_timeout, node.attr, ...) are cluster-wide, not links.
var linkSettingKeys = []string{
	"mode", "seeds", "proxy_address", "server_name", "skip_unavailable",
	"node_connections", "proxy_socket_connections", "transport.compress", "transport.ping_schedule",
}

// ComparedSettings are the link settings compared between nodes and between
// the static and the dynamic definition.
var ComparedSettings = []string{"mode", "seeds", "proxy_address", "skip_unavailable", "transport.compress", "transport.ping_schedule"}

// linkDefinition is one place's settings of each alias: alias -> key -> value
// (a list value, seeds, comma-joined).
type linkDefinition map[string]map[string]string

// NodeLinkSettings is what one node's own settings say about remote links.
type NodeLinkSettings struct {
	Node string
	// RemoteClient: the node has the remote_cluster_client role, so it
	// connects to remotes and can coordinate cross-cluster requests.
	RemoteClient bool
	Static       linkDefinition
	// Legacy lists, per alias, the settings the node's elasticsearch.yml
	// gives only under their deprecated 6.x names (search.remote.<alias>.*),
	// which 7.x still honours and 8.0 removed.
	Legacy map[string][]string
}

// legacyPrefix and legacyKeys are the 6.x names 7.x keeps as fallbacks of
// cluster.remote.<alias>.seeds and .skip_unavailable (7.x RemoteClusterAware:
// SEARCH_REMOTE_CLUSTERS_SEEDS and SEARCH_REMOTE_CLUSTER_SKIP_UNAVAILABLE,
// deprecated, with the note "remove search.remote.* settings in 8.0.0";
// SniffConnectionStrategyTests.testSeedsFallback). A value under the new
// name wins. search.remote.<alias>.proxy was the fallback of the 6.x sniff
// proxy setting, which the exporter does not compare.
const legacyPrefix = "search.remote."

var legacyKeys = []string{"seeds", "skip_unavailable"}

// nodeLinkSettings reads the link settings of one node's flat settings; on
// 7.x it also applies the search.remote.* fallbacks and says which it used.
func nodeLinkSettings(flat map[string]any, major int) (linkDefinition, map[string][]string) {
	def := remoteSettingsOf(flat, remotePrefix)
	if major != 7 {
		return def, nil
	}
	var legacy map[string][]string
	for alias, keys := range remoteSettingsOf(flat, legacyPrefix) {
		for _, k := range legacyKeys {
			v, ok := keys[k]
			if !ok {
				continue
			}
			if _, set := def[alias][k]; set {
				continue // the new name wins; the old one is inert
			}
			if def[alias] == nil {
				def[alias] = map[string]string{}
			}
			def[alias][k] = v
			if legacy == nil {
				legacy = map[string][]string{}
			}
			legacy[alias] = append(legacy[alias], k)
		}
	}
	return def, legacy
}

// Link sources.
const (
	SourceDynamic = "dynamic" // cluster settings API only
	SourceStatic  = "static"  // elasticsearch.yml only
	SourceBoth    = "both"    // both; dynamic wins key by key
)

// Kinds of setting conflicts.
const (
	// ConflictBetweenNodes: the nodes that have the link apply different values.
	ConflictBetweenNodes = "between_nodes"
	// ConflictStaticDynamic: a node's elasticsearch.yml sets a value the
	// dynamic setting overrides; removing the dynamic one would bring it back.
	ConflictStaticDynamic = "static_vs_dynamic"
)

// LinkSettings is where one link is configured and how consistently.
type LinkSettings struct {
	Alias  string
	Source string // SourceDynamic, SourceStatic or SourceBoth
	// StaticOn are the nodes whose elasticsearch.yml defines the alias.
	StaticOn []string
	// Defined counts the remote_cluster_client nodes on which the link is
	// enabled, of Eligible; MissingOn names those on which it is not.
	Defined, Eligible int
	MissingOn         []string
	Conflicts         []SettingConflict
	// Deprecated maps each setting defined only under its search.remote.*
	// name to the nodes doing so (7.x; gone after an upgrade to 8).
	Deprecated map[string][]string
}

// SettingConflict is one setting of a link whose value is not the same
// everywhere.
type SettingConflict struct {
	Setting string // one of ComparedSettings
	Kind    string // ConflictBetweenNodes or ConflictStaticDynamic
	// Values are the distinct values with the nodes applying each (for
	// static_vs_dynamic the first is the dynamic value, Nodes empty).
	Values []SettingValue
}

// SettingValue is one value of a setting and where it applies.
type SettingValue struct {
	Value string // "" = not set (Elasticsearch's default applies)
	Nodes []string
}

func (c SettingConflict) String() string {
	parts := make([]string, len(c.Values))
	for i, v := range c.Values {
		val := v.Value
		if val == "" {
			val = "(not set)"
		}
		switch {
		case c.Kind == ConflictStaticDynamic && i == 0:
			parts[i] = "dynamic " + val
		case c.Kind == ConflictStaticDynamic:
			parts[i] = "elasticsearch.yml of " + strings.Join(v.Nodes, ",") + " " + val
		default:
			parts[i] = strings.Join(v.Nodes, ",") + " " + val
		}
	}
	return strings.Join(parts, "; ")
}

type clusterSettingsBody struct {
	Persistent map[string]any `json:"persistent"`
	Transient  map[string]any `json:"transient"`
}

// clusterSettings reads the dynamic link definitions: persistent settings
// overlaid by transient ones, as Elasticsearch applies them.
func (c *Client) clusterSettings(ctx context.Context) (linkDefinition, *CheckError) {
	var body clusterSettingsBody
	flat := true
	if err := c.do(ctx, "GET /_cluster/settings", esapi.ClusterGetSettingsRequest{FlatSettings: &flat}, &body); err != nil {
		return nil, err
	}
	def := remoteSettingsOf(body.Persistent, remotePrefix)
	for alias, keys := range remoteSettingsOf(body.Transient, remotePrefix) {
		if def[alias] == nil {
			def[alias] = keys
			continue
		}
		maps.Copy(def[alias], keys)
	}
	return def, nil
}

// remoteSettingsOf extracts the link settings under prefix from flat
// settings. A list setting (seeds) comes as an array, or as a string when
// elasticsearch.yml gives one value; both become the comma-joined list.
func remoteSettingsOf(flat map[string]any, prefix string) linkDefinition {
	def := linkDefinition{}
	for k, v := range flat {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		alias, key, ok := strings.Cut(rest, ".")
		if !ok || !slices.Contains(linkSettingKeys, key) {
			continue
		}
		var val string
		switch x := v.(type) {
		case string:
			val = x
		case []any:
			items := make([]string, 0, len(x))
			for _, it := range x {
				items = append(items, fmt.Sprint(it))
			}
			val = strings.Join(items, ",")
		default:
			continue // null: the setting was removed
		}
		if def[alias] == nil {
			def[alias] = map[string]string{}
		}
		def[alias][key] = val
	}
	return def
}

// linkView reads one alias's settings as each node applies them: its own
// elasticsearch.yml overlaid key by key by the cluster settings. It
// allocates nothing: with thousands of links the slow round would
// otherwise build a map per link and node only to compare a few strings.
type linkView struct {
	alias string
	dyn   map[string]string
}

func (v linkView) get(n *NodeLinkSettings, key string) string {
	if val, ok := v.dyn[key]; ok {
		return val
	}
	return n.Static[v.alias][key]
}

// enabled reports whether the node's definition makes Elasticsearch
// connect: seeds in sniff mode (the default), a proxy address in proxy mode
// (RemoteConnectionStrategy#isConnectionEnabled).
func (v linkView) enabled(n *NodeLinkSettings) bool {
	if v.get(n, "mode") == "proxy" {
		return v.get(n, "proxy_address") != ""
	}
	return v.get(n, "seeds") != ""
}

// analyzeLinkSettings judges every alias defined anywhere: its source, the
// remote_cluster_client nodes that have it, and the settings that differ.
func analyzeLinkSettings(dynamic linkDefinition, nodes []NodeLinkSettings) []LinkSettings {
	aliases := make(map[string]bool, len(dynamic))
	for a := range dynamic {
		aliases[a] = true
	}
	for _, n := range nodes {
		for a := range n.Static {
			aliases[a] = true
		}
	}
	out := make([]LinkSettings, 0, len(aliases))
	var have []*NodeLinkSettings // reused: the nodes that have the current link
	for _, alias := range slices.Sorted(maps.Keys(aliases)) {
		v := linkView{alias: alias, dyn: dynamic[alias]}
		ls := LinkSettings{Alias: alias}
		have = have[:0]
		for i := range nodes {
			n := &nodes[i]
			if n.Static[alias] != nil {
				ls.StaticOn = append(ls.StaticOn, n.Node)
			}
			for _, k := range n.Legacy[alias] {
				if ls.Deprecated == nil {
					ls.Deprecated = map[string][]string{}
				}
				ls.Deprecated[k] = append(ls.Deprecated[k], n.Node)
			}
			if !n.RemoteClient {
				continue
			}
			ls.Eligible++
			if !v.enabled(n) {
				ls.MissingOn = append(ls.MissingOn, n.Node)
				continue
			}
			ls.Defined++
			have = append(have, n)
		}
		switch {
		case v.dyn != nil && len(ls.StaticOn) > 0:
			ls.Source = SourceBoth
		case v.dyn != nil:
			ls.Source = SourceDynamic
		default:
			ls.Source = SourceStatic
		}
		for _, key := range ComparedSettings {
			if c, ok := v.betweenNodes(key, have); ok {
				ls.Conflicts = append(ls.Conflicts, c)
			}
			if c, ok := staticVsDynamic(key, alias, v.dyn, nodes); ok {
				ls.Conflicts = append(ls.Conflicts, c)
			}
		}
		out = append(out, ls)
	}
	return out
}

// betweenNodes groups the nodes by the value they apply for key; it
// allocates only when they differ.
func (v linkView) betweenNodes(key string, nodes []*NodeLinkSettings) (SettingConflict, bool) {
	if len(nodes) < 2 {
		return SettingConflict{}, false
	}
	first := v.get(nodes[0], key)
	if !slices.ContainsFunc(nodes[1:], func(n *NodeLinkSettings) bool { return v.get(n, key) != first }) {
		return SettingConflict{}, false
	}
	var values []SettingValue
	for _, n := range nodes {
		val := v.get(n, key)
		i := slices.IndexFunc(values, func(sv SettingValue) bool { return sv.Value == val })
		if i < 0 {
			values = append(values, SettingValue{Value: val})
			i = len(values) - 1
		}
		values[i].Nodes = append(values[i].Nodes, n.Node)
	}
	slices.SortStableFunc(values, func(a, b SettingValue) int { return cmp.Compare(len(b.Nodes), len(a.Nodes)) })
	return SettingConflict{Setting: key, Kind: ConflictBetweenNodes, Values: values}, true
}

// staticVsDynamic finds nodes whose elasticsearch.yml sets key to something
// other than the dynamic value that overrides it.
func staticVsDynamic(key, alias string, dyn map[string]string, nodes []NodeLinkSettings) (SettingConflict, bool) {
	d, ok := dyn[key]
	if !ok {
		return SettingConflict{}, false
	}
	c := SettingConflict{Setting: key, Kind: ConflictStaticDynamic, Values: []SettingValue{{Value: d}}}
	for _, n := range nodes {
		s, ok := n.Static[alias][key]
		if !ok || s == d {
			continue
		}
		i := slices.IndexFunc(c.Values[1:], func(sv SettingValue) bool { return sv.Value == s })
		if i < 0 {
			c.Values = append(c.Values, SettingValue{Value: s})
			i = len(c.Values) - 2
		}
		c.Values[i+1].Nodes = append(c.Values[i+1].Nodes, n.Node)
	}
	return c, len(c.Values) > 1
}
