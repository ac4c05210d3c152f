package realcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
)

// TestSimulatorConformance sends the exporter's requests to the real
// clusters and to a simulator playing the same topology (versions, node
// names and roles, links with the same aliases, modes and sources, security
// off), and compares the answers' shapes: status, the headers the exporter
// reads, and every JSON path with its type. Values (ids, ports, hashes,
// dates) are not compared. Every difference must be listed in
// knownDifferences with its reason, and every entry there must still occur.
func TestSimulatorConformance(t *testing.T) {
	sim := mirror(t)
	type pair struct {
		real *Node
		sim  string // simulated cluster
	}
	pairs := []pair{{fx.a, "a"}, {fx.c, "c"}, {fx.d, "d"}, {fx.m0, "m"}}
	var diffs []difference
	for _, p := range pairs {
		simURL := sim.Cluster(p.sim).URL()
		for _, req := range conformanceRequests(p.real.Spec.Version) {
			real, err := fetchShape(p.real.URL() + req)
			if err != nil {
				t.Fatalf("real %s %s: %v", p.real.Spec.Cluster, req, err)
			}
			simulated, err := fetchShape(simURL + req)
			if err != nil {
				t.Fatalf("simulated %s %s: %v", p.sim, req, err)
			}
			for _, d := range compareShapes(real, simulated) {
				diffs = append(diffs, difference{Version: p.real.Spec.Version, Request: req, What: d})
			}
		}
	}
	checkDifferences(t, []string{"", V7, V8, V9}, diffs)
}

// checkDifferences fails for a difference knownDifferences does not
// explain, and for an entry of knownDifferences whose Version is among
// compared that explains none (it is stale).
func checkDifferences(t *testing.T, compared []string, diffs []difference) {
	t.Helper()
	used := make([]bool, len(knownDifferences))
	var unexplained []string
	for _, d := range diffs {
		i := explain(d)
		if i < 0 {
			unexplained = append(unexplained, d.String())
			continue
		}
		used[i] = true
	}
	for _, u := range unexplained {
		t.Errorf("difference not in knownDifferences: %s", u)
	}
	for i, k := range knownDifferences {
		if !used[i] && slices.Contains(compared, k.Version) {
			t.Errorf("knownDifferences[%d] (%s %s %s) no longer occurs: remove it", i, k.Version, k.Request, k.What)
		}
	}
	t.Logf("%d differences, all listed with their reason", len(diffs))
}

// conformanceRequests are the requests the exporter sends (collector/), in
// the form it sends them, for a cluster of version v, and a few refusals
// the simulator models for them.
func conformanceRequests(v string) []string {
	reqs := []string{
		"/",
		"/_nodes/_all/_none",
		"/_nodes/_all/settings?flat_settings=true",
		"/_remote/info",
		"/_cluster/settings?flat_settings=true",
		"/_xpack?categories=features",
		"/_ssl/certificates",
		"/_security/role/remote_monitor",
	}
	if Major(v) >= 8 {
		// The last three: how TimeValue refuses a fraction, a non-number
		// and a missing unit (the simulator's parseTimeValue).
		reqs = append(reqs, "/_resolve/cluster?timeout=5s", "/_resolve/cluster?timeout=1.5s",
			"/_resolve/cluster?timeout=5parsecs", "/_resolve/cluster?timeout=5")
	}
	return reqs
}

// mirror builds the fixture's topology in the simulator.
func mirror(t *testing.T) *simulator.Sim {
	t.Helper()
	sim, err := simulator.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	off := false
	add := func(spec simulator.ClusterSpec) *simulator.Cluster {
		spec.Security, spec.PlainHTTP = &off, true
		c, err := sim.AddCluster(spec)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	add(simulator.ClusterSpec{Name: "b", Version: V8, Nodes: []simulator.NodeSpec{{Name: "b0"}}})
	c := add(simulator.ClusterSpec{Name: "c", Version: V9, Nodes: []simulator.NodeSpec{{Name: "c0"}}})
	d := add(simulator.ClusterSpec{Name: "d", Version: V7, Nodes: []simulator.NodeSpec{{Name: "d0"}}})
	a := add(simulator.ClusterSpec{Name: "a", Version: V8, Nodes: []simulator.NodeSpec{{Name: "a0"}}})
	add(simulator.ClusterSpec{Name: "m", Version: V8, Nodes: []simulator.NodeSpec{
		{Name: "m0"}, {Name: "m1", Version: V9, Roles: []string{"data", "ingest", "remote_cluster_client"}}}})
	f, tr := false, true
	links := []struct {
		on *simulator.Cluster
		l  simulator.LinkSpec
	}{
		{a, simulator.LinkSpec{Alias: "static_b", Remote: "b", Static: true}},
		{a, simulator.LinkSpec{Alias: "both_b", Remote: "b", Static: true, SkipUnavailable: &f}},
		{a, simulator.LinkSpec{Alias: "both_b", Remote: "b", SkipUnavailable: &tr}},
		{a, simulator.LinkSpec{Alias: "sniff_b", Remote: "b"}},
		{a, simulator.LinkSpec{Alias: "proxy_b", Remote: "b", Mode: "proxy"}},
		{a, simulator.LinkSpec{Alias: "to_c", Remote: "c"}},
		{a, simulator.LinkSpec{Alias: "to_d", Remote: "d"}},
		{c, simulator.LinkSpec{Alias: "to_a", Remote: "a"}},
		{c, simulator.LinkSpec{Alias: "to_b", Remote: "b"}},
		{c, simulator.LinkSpec{Alias: "to_d", Remote: "d"}},
		{d, simulator.LinkSpec{Alias: "static_b", Remote: "b", Static: true}},
		{d, simulator.LinkSpec{Alias: "both_b", Remote: "b", Static: true, SkipUnavailable: &tr}},
		{d, simulator.LinkSpec{Alias: "both_b", Remote: "b", SkipUnavailable: &f}},
		{d, simulator.LinkSpec{Alias: "to_c", Remote: "c"}},
	}
	for _, l := range links {
		if err := l.on.AddLink(l.l); err != nil {
			t.Fatal(err)
		}
	}
	return sim
}

// shape is what is compared of one answer.
type shape struct {
	status  int
	headers map[string]string // the headers the exporter reads
	paths   map[string]string // JSON path -> type
}

// The headers the exporter reads (collector/client.go, errors.go): the
// product check, the content type it decodes, and on errors the
// authentication challenge and deprecation warnings.
var comparedHeaders = []string{"X-Elastic-Product", "Content-Type", "Www-Authenticate", "Warning"}

func fetchShape(url string) (*shape, error) { return fetchShapeAs(url, "") }

// fetchShapeAs GETs url as user (basic auth with exporterPassword; "" =
// no credentials).
func fetchShapeAs(url, user string) (*shape, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, exporterPassword)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	s := &shape{status: resp.StatusCode, headers: map[string]string{}, paths: map[string]string{}}
	for _, h := range comparedHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			// Real Elasticsearch lists the WWW-Authenticate challenges in
			// no stable order (two 401s of one 8.19.8 node: "ApiKey",
			// "Basic ..." and "Basic ...", "ApiKey"): compare them as a set.
			// The warn-agent names the build hash, a value (the
			// simulator's are synthetic): compare the rest.
			v = slices.Sorted(slices.Values(v))
			s.headers[h] = warnAgentHash.ReplaceAllString(strings.Join(v, " | "), "$1<hash>")
		}
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		s.paths["$"] = "not JSON"
		return s, nil
	}
	walk(doc, "$", s.paths)
	return s, nil
}

var warnAgentHash = regexp.MustCompile(`(Elasticsearch-[0-9][^ -]*-)[0-9a-f]{7,40}`)

// dynamicKeys are the objects whose keys are data (node ids), not fields:
// their members are merged under "*".
var dynamicKeys = map[string]bool{"$.nodes": true}

func walk(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		out[path] = "object"
		for k, child := range x {
			p := path + "." + k
			if dynamicKeys[path] {
				p = path + ".*"
			}
			walk(child, p, out)
		}
	case []any:
		out[path] = "array"
		for _, child := range x {
			walk(child, path+"[]", out)
		}
	case string:
		out[path] = "string"
	case float64:
		out[path] = "number"
	case bool:
		out[path] = "bool"
	case nil:
		out[path] = "null"
	}
}

func compareShapes(real, sim *shape) []string {
	var d []string
	if real.status != sim.status {
		d = append(d, fmt.Sprintf("status: real %d, sim %d", real.status, sim.status))
	}
	for _, h := range comparedHeaders {
		if real.headers[h] != sim.headers[h] {
			d = append(d, fmt.Sprintf("header %s: real %q, sim %q", h, real.headers[h], sim.headers[h]))
		}
	}
	keys := map[string]bool{}
	for k := range real.paths {
		keys[k] = true
	}
	for k := range sim.paths {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		r, s := real.paths[k], sim.paths[k]
		switch {
		case r == s:
		case s == "":
			d = append(d, fmt.Sprintf("%s: real %s, sim absent", k, r))
		case r == "":
			d = append(d, fmt.Sprintf("%s: sim %s, real absent", k, s))
		default:
			d = append(d, fmt.Sprintf("%s: real %s, sim %s", k, r, s))
		}
	}
	return d
}

type difference struct {
	Version, Request, What string
}

func (d difference) String() string {
	return fmt.Sprintf("{%q, %q, %q, \"\"}", d.Version, d.Request, d.What)
}

// explain returns the index of the knownDifferences entry that explains d,
// or -1.
func explain(d difference) int {
	for i, k := range knownDifferences {
		if (k.Version == "" || k.Version == d.Version) && (k.Request == "" || k.Request == d.Request) &&
			knownDifferenceRE(i).MatchString(d.What) {
			return i
		}
	}
	return -1
}

// TestSimulatorConformanceSecured compares, like TestSimulatorConformance,
// the secured 8.19 cluster sa with a simulated one set up alike (security
// on, trial license, users with the same privileges, a certificate link to
// sb, an API-key link, a link to a cluster it does not trust): the answers
// without credentials (401), without privileges (403), and with the
// exporter's user. Differences go to knownDifferences with Version
// "secured".
func TestSimulatorConformanceSecured(t *testing.T) {
	sim, err := simulator.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	// As the harness's roles.yml: remote_monitor and local_only grant
	// remote_indices on the apikey_* links (nothing, powerless's, grants
	// nothing).
	monitor := simulator.User{Password: exporterPassword, Roles: []string{"remote_monitor"},
		ClusterPrivileges: []string{"monitor", "read_security"}, IndexPrivileges: []string{"view_index_metadata"},
		RemoteIndices: []simulator.RemoteIndicesPrivileges{{Clusters: []string{"apikey_*"}, Names: []string{"*"}, Privileges: []string{"view_index_metadata"}}}}
	lonely := monitor
	lonely.Roles = []string{"local_only"}
	users := map[string]simulator.User{"exporter": monitor, "lonely": lonely,
		"powerless": {Password: exporterPassword, Roles: []string{"nothing"}}}
	add := func(spec simulator.ClusterSpec) *simulator.Cluster {
		spec.PlainHTTP, spec.License, spec.Version = true, "trial", V8
		c, err := sim.AddCluster(spec)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sbUsers := map[string]simulator.User{"exporter": monitor}
	// sb's remote cluster server presents its transport certificate, which
	// sa's remote cluster client trusts (the harness's elasticsearch.yml);
	// sa's link holds a cross-cluster key of sb with search access to "*".
	sb := add(simulator.ClusterSpec{Name: "sb", Users: sbUsers, Nodes: []simulator.NodeSpec{{Name: "sb0", Version: V9}},
		RemoteClusterServer: &simulator.RemoteClusterServerSpec{Enabled: true, CA: "transport"}})
	add(simulator.ClusterSpec{Name: "sx", Users: sbUsers, Nodes: []simulator.NodeSpec{{Name: "sx0"}}, Transport: simulator.TransportSpec{OwnCA: true}})
	sa := add(simulator.ClusterSpec{Name: "sa", Users: users, Nodes: []simulator.NodeSpec{{Name: "sa0"}}})
	if err := sa.TrustRemoteClusterServer(sb); err != nil {
		t.Fatal(err)
	}
	keyID, _, err := sb.CreateCrossClusterAPIKey("sa-to-sb",
		simulator.CrossClusterAccess{Search: []simulator.CrossClusterIndices{{Names: []string{"*"}}}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []simulator.LinkSpec{
		{Alias: "to_sb", Remote: "sb"},
		{Alias: "apikey_sb", Remote: "sb", Mode: "proxy", APIKeyAuth: true, APIKeyID: keyID},
		{Alias: "to_sx", Remote: "sx"},
	} {
		if err := sa.AddLink(l); err != nil {
			t.Fatal(err)
		}
	}
	requests := []struct{ user, path string }{
		{"", "/"},
		{"", "/_remote/info"},
		{"powerless", "/_remote/info"},
		{"powerless", "/_resolve/cluster?timeout=5s"},
		{"exporter", "/"},
		{"exporter", "/_remote/info"},
		{"exporter", "/_resolve/cluster?timeout=5s"},
		{"exporter", "/_ssl/certificates"},
		{"exporter", "/_security/role/remote_monitor"},
		{"exporter", "/_nodes/_all/_none"},
		{"exporter", "/_cluster/settings?flat_settings=true"},
		{"lonely", "/_resolve/cluster?timeout=5s"},
	}
	var diffs []difference
	for _, r := range requests {
		real, err := fetchShapeAs(fx.sa.URL()+r.path, r.user)
		if err != nil {
			t.Fatalf("real sa %s: %v", r.path, err)
		}
		simulated, err := fetchShapeAs(sa.URL()+r.path, r.user)
		if err != nil {
			t.Fatalf("simulated sa %s: %v", r.path, err)
		}
		req := r.path
		if r.user != "" {
			req = r.user + " " + r.path
		}
		for _, d := range compareShapes(real, simulated) {
			diffs = append(diffs, difference{Version: "secured", Request: req, What: d})
		}
	}
	checkDifferences(t, []string{"secured"}, diffs)
}

// TestTimeValueRefusalsMatch: where the shape comparison stops at types,
// the texts of TimeValue's refusals (the simulator's parseTimeValue) are
// compared too: the whole error body of a refused ?timeout, real against
// simulated, on 8.19 and 9.2.
func TestTimeValueRefusalsMatch(t *testing.T) {
	sim := mirror(t)
	for _, p := range []struct {
		real *Node
		sim  string
	}{{fx.a, "a"}, {fx.c, "c"}} {
		for _, value := range []string{"1.5s", "5parsecs", "5", "5M", "-2s", "1.5fs", "nans", "1_0s"} {
			path := "/_resolve/cluster?timeout=" + value
			real, realStatus := getBody(t, p.real.URL()+path)
			simulated, simStatus := getBody(t, sim.Cluster(p.sim).URL()+path)
			if realStatus != simStatus || real != simulated {
				t.Errorf("%s %s:\nreal      %d %s\nsimulated %d %s", p.real.Spec.Version, path, realStatus, real, simStatus, simulated)
			}
		}
	}
}

// getBody GETs url without credentials and returns its body and status.
func getBody(t *testing.T, url string) (string, int) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body), resp.StatusCode
}
