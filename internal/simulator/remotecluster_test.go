package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// rcsPair is a local cluster and a remote with a remote cluster server on
// every node, the local's remote cluster client trusting its CA.
func rcsPair(t *testing.T, s *Sim, remoteSpec RemoteClusterServerSpec) (local, remote *Cluster) {
	t.Helper()
	// The model needs an enterprise (or trial) license on both sides.
	remote = addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2", License: "enterprise", Nodes: []NodeSpec{{Name: "r1"}, {Name: "r2"}},
		RemoteClusterServer: &remoteSpec, Indices: []string{"logs-1", "metrics-1", "secret"}})
	// The monitor user's role has remote_indices for every alias.
	local = addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2", License: "trial", Roles: map[string]RoleSpec{
		"ccs_monitor_role": {RemoteIndices: []RemoteIndicesPrivileges{
			{Clusters: []string{"*"}, Names: []string{"*"}, Privileges: []string{"view_index_metadata"}}}}}})
	if err := local.TrustRemoteClusterServer(remote); err != nil {
		t.Fatal(err)
	}
	return local, remote
}

func searchKey(t *testing.T, c *Cluster, names ...string) string {
	t.Helper()
	id, _, err := c.CreateCrossClusterAPIKey("ccs", CrossClusterAccess{Search: []CrossClusterIndices{{Names: names}}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// resolveEntry is the alias's entry of GET /_resolve/cluster/<expr> on c.
func resolveEntry(t *testing.T, c *Cluster, expr, alias string, opts ...reqOpt) *jnode {
	t.Helper()
	res := get(t, newClient(t, c.sim), c.URL()+"/_resolve/cluster/"+expr, opts...)
	wantStatus(t, res, 200)
	return parseOrdered(t, res.body).mustGet(t, alias)
}

func wantResolveError(t *testing.T, e *jnode, want string) {
	t.Helper()
	if e.mustGet(t, "connected").b {
		t.Errorf("connected:true, want false with error %q", want)
	}
	got := e.get("error")
	switch {
	case want == "" && got != nil:
		t.Errorf("error %q, want none (a connect failure)", got.str)
	case want != "" && (got == nil || got.str != want):
		t.Errorf("error %v, want %q", got, want)
	}
}

func TestRemoteClusterServerReported(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "fc", Version: "8.19.2", Nodes: []NodeSpec{
		{Name: "on", RemoteClusterServer: &RemoteClusterServerSpec{Enabled: true}}, {Name: "off"}}})
	addrs := c.RemoteClusterAddresses()
	if len(addrs) != 1 || slices.Contains(c.TransportAddresses(), addrs[0]) {
		t.Fatalf("RemoteClusterAddresses = %v (transport %v)", addrs, c.TransportAddresses())
	}

	// GET /_nodes: a remote_cluster_server section right after http, only
	// on the node that has the server.
	body := parseOrdered(t, get(t, cl, c.URL()+"/_nodes").body)
	on, off := nodeByName(t, body, "on"), nodeByName(t, body, "off")
	if i := slices.Index(on.keys, "remote_cluster_server"); i < 1 || on.keys[i-1] != "http" {
		t.Errorf("node keys %v: want remote_cluster_server right after http", on.keys)
	}
	wantString(t, on, addrs[0], "remote_cluster_server", "publish_address")
	if b := on.mustGet(t, "remote_cluster_server", "bound_address"); len(b.vals) != 1 || b.vals[0].str != addrs[0] {
		t.Errorf("bound_address %s", b.shape())
	}
	if off.get("remote_cluster_server") != nil {
		t.Error("remote_cluster_server reported for a node without the server")
	}
	only := nodeByName(t, parseOrdered(t, get(t, cl, c.URL()+"/_nodes/remote_cluster_server").body), "on")
	if only.get("http") != nil || only.get("settings") != nil || only.get("remote_cluster_server") == nil {
		t.Errorf("metric remote_cluster_server alone: %v", only.keys)
	}

	// GET /_nodes/settings: enabled and port visible, the SSL files filtered.
	settings := parseOrdered(t, get(t, cl, c.URL()+"/_nodes/settings?flat_settings=true").body)
	fs := flatStrings(t, nodeByName(t, settings, "on").mustGet(t, "settings"))
	_, port, _ := net.SplitHostPort(addrs[0])
	if fs["remote_cluster_server.enabled"] != "true" || fs["remote_cluster.port"] != port {
		t.Errorf("settings of the server node: %v", fs)
	}
	for k := range fs {
		if strings.HasPrefix(k, "xpack.security.remote_cluster_server.ssl.") {
			t.Errorf("filtered setting %s shown", k)
		}
	}
	if _, ok := flatStrings(t, nodeByName(t, settings, "off").mustGet(t, "settings"))["remote_cluster_server.enabled"]; ok {
		t.Error("remote_cluster_server.enabled written for a node without a server configured")
	}
	if raw, _ := c.NodeSettings("on"); raw["xpack.security.remote_cluster_server.ssl.certificate"] != "certs/remote-cluster/on.crt" {
		t.Errorf("unfiltered settings %v", raw)
	}

	// GET /_ssl/certificates: the server certificate only on its node.
	offURL, _ := c.NodeURL("off")
	for url, want := range map[string]bool{c.URL(): true, offURL: false} {
		got := false
		for _, e := range parseOrdered(t, get(t, cl, url+"/_ssl/certificates").body).vals {
			if e.mustGet(t, "path").str == "certs/remote-cluster/on.crt" {
				got = true
				if !e.mustGet(t, "has_private_key").b || e.mustGet(t, "issuer").str != "CN=fc Remote Cluster CA" {
					t.Errorf("server certificate entry %s", e.shape())
				}
			}
		}
		if got != want {
			t.Errorf("%s lists the remote cluster certificate: %v, want %v", url, got, want)
		}
	}

	// Real TLS: no client certificate needed, the chain verifies against
	// the remote cluster CA file and not against the transport CA.
	caFile, err := c.WriteRemoteClusterCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, roots := range map[string][]byte{"remote cluster CA": pemBytes, "transport CA": c.TransportCACertPEM()} {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(roots)
		conn, err := tls.Dial("tcp", addrs[0], &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if (err == nil) != (name == "remote cluster CA") {
			t.Errorf("TLS to the remote cluster server trusting the %s: %v", name, err)
		}
		if err == nil {
			conn.Close()
		}
	}

	// Stop/Start keeps the address; turning the server off closes it.
	c.Stop()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if got := c.RemoteClusterAddresses(); !slices.Equal(got, addrs) {
		t.Errorf("after restart %v, want %v", got, addrs)
	}
	if err := c.SetNodeRemoteClusterServer("on", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", addrs[0]); err == nil {
		t.Error("the server still listens after it was turned off")
	}
	if len(c.RemoteClusterAddresses()) != 0 {
		t.Error("RemoteClusterAddresses lists a disabled server")
	}

	// Before 8.8 remote_cluster_server is no metric: the path names nodes.
	old := addCluster(t, s, ClusterSpec{Name: "seven", Version: "7.17.22"})
	if n := parseOrdered(t, get(t, cl, old.URL()+"/_nodes/remote_cluster_server").body).mustGet(t, "nodes"); len(n.keys) != 0 {
		t.Errorf("7.17 /_nodes/remote_cluster_server selected nodes %v", n.keys)
	}
	if _, err := s.AddCluster(ClusterSpec{Name: "old", Version: "8.9.2",
		RemoteClusterServer: &RemoteClusterServerSpec{Enabled: true}}); err == nil {
		t.Error("remote_cluster_server.enabled accepted on 8.9")
	}
}

func TestAPIKeyLinkConnectsThroughRemoteClusterServer(t *testing.T) {
	s := newSim(t)
	local, remote := rcsPair(t, s, RemoteClusterServerSpec{Enabled: true})
	key := searchKey(t, remote, "*")
	addLink(t, local, LinkSpec{Alias: "sniff", Remote: "remote", APIKeyAuth: true, APIKeyID: key})
	addLink(t, local, LinkSpec{Alias: "proxy", Remote: "remote", Mode: "proxy", APIKeyAuth: true, APIKeyID: key})
	info := parseOrdered(t, get(t, newClient(t, s), local.URL()+"/_remote/info").body)
	seeds := info.mustGet(t, "sniff", "seeds")
	if len(seeds.vals) != 2 || seeds.vals[0].str != remote.RemoteClusterAddresses()[0] {
		t.Errorf("default seeds %s, want the remote cluster server addresses %v", seeds.shape(), remote.RemoteClusterAddresses())
	}
	wantString(t, info, remote.RemoteClusterAddresses()[0], "proxy", "proxy_address")
	if ok, n := remoteCount(t, local, "sniff"); !ok || n != 2 {
		t.Errorf("sniff: connected %v with %d nodes, want 2", ok, n)
	}
	if ok, _ := remoteCount(t, local, "proxy"); !ok {
		t.Error("proxy not connected")
	}
	e := resolveEntry(t, local, "sniff:logs-*", "sniff")
	if !e.mustGet(t, "connected").b || !e.mustGet(t, "matching_indices").b {
		t.Errorf("resolve through the API-key link: %s", e.shape())
	}
	// The local side: the client's CA file is a (filtered) setting and
	// listed by GET /_ssl/certificates.
	if raw, _ := local.NodeSettings("local-es01"); raw["xpack.security.remote_cluster_client.ssl.certificate_authorities"] == nil {
		t.Errorf("local settings lack the remote cluster client CAs: %v", raw)
	}
	listed := false
	for _, c := range parseOrdered(t, get(t, newClient(t, s), local.URL()+"/_ssl/certificates").body).vals {
		if c.mustGet(t, "path").str == "certs/remote-cluster/remote-ca.crt" && c.mustGet(t, "subject_dn").str == "CN=remote Remote Cluster CA" {
			listed = true
		}
	}
	if !listed {
		t.Error("the remote cluster client's CA is not in the local _ssl/certificates")
	}
}

func TestAPIKeyLinkPrerequisites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, local, remote *Cluster)
	}{
		{"local does not trust the server's CA", func(t *testing.T, local, remote *Cluster) {
			if err := local.SetRemoteClusterClientCAs(nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"local trusts the remote's transport CA only", func(t *testing.T, local, remote *Cluster) {
			if err := local.SetRemoteClusterClientCAs(remote.TransportCACertPEM()); err != nil {
				t.Fatal(err)
			}
		}},
		{"server disabled", func(t *testing.T, local, remote *Cluster) {
			for _, n := range remote.NodeNames() {
				if err := remote.SetNodeRemoteClusterServer(n, &RemoteClusterServerSpec{Enabled: false}); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"server without TLS", func(t *testing.T, local, remote *Cluster) {
			for _, n := range remote.NodeNames() {
				if err := remote.SetNodeRemoteClusterServer(n, &RemoteClusterServerSpec{Enabled: true, SSL: boolPtr(false)}); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"server requires a client certificate", func(t *testing.T, local, remote *Cluster) {
			for _, n := range remote.NodeNames() {
				if err := remote.SetNodeRemoteClusterServer(n, &RemoteClusterServerSpec{Enabled: true, ClientAuthentication: "required"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := local.TrustRemoteClusterServer(remote); err != nil {
				t.Fatal(err)
			}
		}},
		{"remote stopped", func(t *testing.T, local, remote *Cluster) { remote.Stop() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t)
			local, remote := rcsPair(t, s, RemoteClusterServerSpec{Enabled: true})
			key := searchKey(t, remote, "*")
			addLink(t, local, LinkSpec{Alias: "r", Remote: "remote", Mode: "proxy", APIKeyAuth: true, APIKeyID: key})
			if ok, _ := remoteCount(t, local, "r"); !ok {
				t.Fatal("not connected before the change")
			}
			tc.setup(t, local, remote)
			// A restart of the local cluster opens new connections (trust
			// is checked only then).
			local.Stop()
			if err := local.Start(); err != nil {
				t.Fatal(err)
			}
			// Every cause is a connect failure: no error in _resolve/cluster.
			wantResolveError(t, resolveEntry(t, local, "r:*", "r"), "")
			if ok, _ := remoteCount(t, local, "r"); ok {
				t.Error("_remote/info connected")
			}
		})
	}
}

func TestRemoteClusterServerWrongPorts(t *testing.T) {
	s := newSim(t)
	local, remote := rcsPair(t, s, RemoteClusterServerSpec{Enabled: true})
	shared := addCluster(t, s, ClusterSpec{Name: "shared", Version: "8.19.2", License: "enterprise",
		RemoteClusterServer: &RemoteClusterServerSpec{Enabled: true, CA: "transport"}})
	key := searchKey(t, remote, "*")
	// Symptom 6: an API-key link pointed at the transport port.
	addLink(t, local, LinkSpec{Alias: "key-at-transport", Remote: "remote", Mode: "proxy", APIKeyAuth: true, APIKeyID: key,
		ProxyAddress: remote.TransportAddresses()[0]})
	addLink(t, local, LinkSpec{Alias: "key-at-transport-sniff", Remote: "remote", APIKeyAuth: true, APIKeyID: key,
		Seeds: remote.TransportAddresses()})
	// Symptom 7: certificate links pointed at remote cluster server ports,
	// one whose chain the local transport truststore does not trust (the
	// server's own CA) and one it trusts (issued by the shared transport CA).
	addLink(t, local, LinkSpec{Alias: "cert-at-rcs", Remote: "remote", Mode: "proxy", ProxyAddress: remote.RemoteClusterAddresses()[0]})
	addLink(t, local, LinkSpec{Alias: "cert-at-shared-rcs", Remote: "shared", Seeds: shared.RemoteClusterAddresses()})
	for _, alias := range []string{"key-at-transport", "key-at-transport-sniff", "cert-at-rcs", "cert-at-shared-rcs"} {
		if ok, _ := remoteCount(t, local, alias); ok {
			t.Errorf("%s connected", alias)
		}
	}
	wantResolveError(t, resolveEntry(t, local, "key-at-transport:*", "key-at-transport"), "")
	wantResolveError(t, resolveEntry(t, local, "key-at-transport-sniff:*", "key-at-transport-sniff"), "")
	wantResolveError(t, resolveEntry(t, local, "cert-at-rcs:*", "cert-at-rcs"), "")
	// The remote's security exception; its cause (the missing
	// _cross_cluster_access_credentials header) is only logged.
	wantResolveError(t, resolveEntry(t, local, "cert-at-shared-rcs:*", "cert-at-shared-rcs"), "error attempting to authenticate request")

	// Real TLS: the transport port wants a client certificate the remote
	// cluster client does not send.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(remote.TransportCACertPEM())
	conn, err := tls.Dial("tcp", remote.TransportAddresses()[0], &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1)) // TLS 1.3: the alert arrives after the handshake
		conn.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("transport port without a client certificate: %v", err)
	}
}

func TestAPIKeyLinkKeys(t *testing.T) {
	s := newSim(t)
	local, remote := rcsPair(t, s, RemoteClusterServerSpec{Enabled: true})
	restID, _, err := remote.CreateRESTAPIKey("rest", monUser, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expiredID, _, err := remote.CreateCrossClusterAPIKey("old", CrossClusterAccess{Search: []CrossClusterIndices{{Names: []string{"*"}}}},
		time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	goneID := searchKey(t, remote, "*")
	if err := remote.InvalidateAPIKey(goneID); err != nil {
		t.Fatal(err)
	}
	handshake := func(id string) string {
		return "unable to authenticate user [" + id + "] for action [cluster:internal/remote_cluster/handshake]"
	}
	for alias, want := range map[string]string{
		"rest":        "authentication expected API key type of [cross_cluster], but API key [" + restID + "] has type [rest]", // symptom 8
		"expired":     handshake(expiredID),                                                                                    // symptom 9
		"invalidated": handshake(goneID),
		"unknown":     handshake("nosuchkey0123456789a"),
	} {
		id := map[string]string{"rest": restID, "expired": expiredID, "invalidated": goneID, "unknown": "nosuchkey0123456789a"}[alias]
		addLink(t, local, LinkSpec{Alias: alias, Remote: "remote", Mode: "proxy", APIKeyAuth: true, APIKeyID: id})
		if ok, _ := remoteCount(t, local, alias); ok {
			t.Errorf("%s: connected", alias)
		}
		wantResolveError(t, resolveEntry(t, local, alias+":*", alias), want)
		wantResolveError(t, resolveEntry(t, local, alias+":logs-1", alias), want)
	}

	// A key invalidated while the link is connected: the connections stay
	// (_remote/info), each request fails to authenticate.
	live := searchKey(t, remote, "*")
	addLink(t, local, LinkSpec{Alias: "live", Remote: "remote", APIKeyAuth: true, APIKeyID: live})
	if ok, _ := remoteCount(t, local, "live"); !ok {
		t.Fatal("live: not connected")
	}
	if err := remote.InvalidateAPIKey(live); err != nil {
		t.Fatal(err)
	}
	wantResolveError(t, resolveEntry(t, local, "live:*", "live"),
		"unable to authenticate user ["+live+"] for action [indices:admin/resolve/cluster]")
	if ok, _ := remoteCount(t, local, "live"); !ok {
		t.Error("live: the open connections were dropped by the invalidation")
	}
	local.Stop()
	if err := local.Start(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := remoteCount(t, local, "live"); ok {
		t.Error("live: reconnected with an invalidated key")
	}
}

func TestAPIKeyLinkAuthorization(t *testing.T) {
	s := newSim(t)
	remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2", License: "enterprise",
		RemoteClusterServer: &RemoteClusterServerSpec{Enabled: true}, Indices: []string{"logs-1", "metrics-1", "secret"}})
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2", License: "enterprise",
		RemoteClusterClientCAs: remote.RemoteClusterCACertPEM(),
		Users: map[string]User{
			"searcher": {Password: "pw", Roles: []string{"remote_search", "local"}, IndexPrivileges: []string{"view_index_metadata"}},
			"nobody":   {Password: "pw", Roles: []string{"local"}, IndexPrivileges: []string{"view_index_metadata"}},
		},
		Roles: map[string]RoleSpec{
			"local": {},
			"remote_search": {RemoteIndices: []RemoteIndicesPrivileges{
				{Clusters: []string{"r*"}, Names: []string{"logs-*", "secret"}, Privileges: []string{"read", "read_cross_cluster"}}}},
		}})
	key := searchKey(t, remote, "logs-*", "metrics-*")
	addLink(t, local, LinkSpec{Alias: "r", Remote: "remote", APIKeyAuth: true, APIKeyID: key})
	as := basic("searcher", "pw")

	if e := resolveEntry(t, local, "r:logs-1", "r", as); !e.mustGet(t, "connected").b || !e.mustGet(t, "matching_indices").b {
		t.Errorf("index both the key and the role grant: %s", e.shape())
	}
	deny := func(indices string) string {
		return "action [indices:admin/resolve/cluster] towards remote cluster is unauthorized for user [searcher] with assigned roles " +
			"[local,remote_search] authenticated by API key id [" + key + "] of user [elastic] on indices [" + indices +
			"], this action is granted by the index privileges [read,view_index_metadata,manage,all]"
	}
	// Symptom 10: the role grants secret, the key does not; the key grants
	// metrics-1, the role does not.
	wantResolveError(t, resolveEntry(t, local, "r:secret", "r", as), deny("secret"))
	wantResolveError(t, resolveEntry(t, local, "r:logs-1,r:metrics-1,r:secret", "r", as), deny("metrics-1,secret"))
	// Wildcards see only the intersection: no denial.
	if e := resolveEntry(t, local, "r:metrics*", "r", as); !e.mustGet(t, "connected").b || e.mustGet(t, "matching_indices").b {
		t.Errorf("wildcard outside the intersection: %s", e.shape())
	}
	if e := resolveEntry(t, local, "r:*", "r", as); !e.mustGet(t, "matching_indices").b {
		t.Errorf("wildcard over the intersection: %s", e.shape())
	}
	// Symptom 11: no remote_indices for the alias, denied locally.
	wantResolveError(t, resolveEntry(t, local, "r:logs-1", "r", basic("nobody", "pw")),
		"action [indices:admin/resolve/cluster] towards remote cluster [r] is unauthorized for user [nobody] with effective roles "+
			"[local] because no remote indices privileges apply for the target cluster")
}

func TestAPIKeysListing(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	users := map[string]User{
		"reader": {Password: "pw", Roles: []string{"r"}, ClusterPrivileges: []string{"read_security"}},
		"own":    {Password: "pw", Roles: []string{"o"}, ClusterPrivileges: []string{"manage_own_api_key"}},
		monUser:  monitorUsers()[monUser],
	}
	for _, tc := range []struct {
		version                   string
		typ, invalidation, realmT bool
	}{
		{"8.10.4", true, false, false},
		{"8.12.2", true, true, false},
		{"8.19.2", true, true, true},
		{"9.1.5", true, true, true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			c := addCluster(t, s, ClusterSpec{Name: "k" + tc.version, Version: tc.version, Users: users,
				APIKeys: map[string]APIKey{"speckey": {Key: "k", Name: "spec", Owner: monUser, ClusterPrivileges: []string{"monitor"}}}})
			exp := time.Now().Add(10 * 24 * time.Hour).Truncate(time.Millisecond)
			ccID, _, err := c.CreateCrossClusterAPIKey("to-paris", CrossClusterAccess{
				Search:      []CrossClusterIndices{{Names: []string{"logs-*"}}},
				Replication: []CrossClusterIndices{{Names: []string{"leader-*"}}}}, exp)
			if err != nil {
				t.Fatal(err)
			}
			ownID, _, err := c.CreateRESTAPIKey("mine", "own", time.Now().Add(-time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.InvalidateAPIKey("speckey"); err != nil {
				t.Fatal(err)
			}
			body := parseOrdered(t, get(t, cl, c.URL()+"/_security/api_key", basic("reader", "pw")).body)
			keys := map[string]*jnode{}
			for _, k := range body.mustGet(t, "api_keys").vals {
				keys[k.mustGet(t, "id").str] = k
			}
			if len(keys) != 3 {
				t.Fatalf("listed %d keys, want 3 (expired and invalidated ones stay): %s", len(keys), body.shape())
			}
			cc := keys[ccID]
			want := []string{"id", "name", "type", "creation", "expiration", "invalidated", "username", "realm"}
			if tc.realmT {
				want = append(want, "realm_type")
			}
			want = append(want, "metadata", "role_descriptors", "access")
			if !slices.Equal(cc.keys, want) {
				t.Errorf("cross-cluster key fields %v, want %v", cc.keys, want)
			}
			wantString(t, cc, "cross_cluster", "type")
			wantNumber(t, cc, float64(exp.UnixMilli()), "expiration")
			wantString(t, cc, "elastic", "username")
			wantString(t, cc, "reserved", "realm")
			access := cc.mustGet(t, "access")
			if !slices.Equal(access.keys, []string{"search", "replication"}) ||
				!slices.Equal(access.mustGet(t, "search").vals[0].keys, []string{"names", "allow_restricted_indices"}) ||
				access.mustGet(t, "replication").vals[0].mustGet(t, "names").vals[0].str != "leader-*" {
				t.Errorf("access %s", access.shape())
			}
			rd := cc.mustGet(t, "role_descriptors", "cross_cluster")
			if cls := rd.mustGet(t, "cluster"); len(cls.vals) != 2 || cls.vals[0].str != "cross_cluster_search" || cls.vals[1].str != "cross_cluster_replication" {
				t.Errorf("cluster privileges %s", cls.shape())
			}
			spec := keys["speckey"]
			wantBool(t, spec, true, "invalidated")
			if (spec.get("invalidation") != nil) != tc.invalidation {
				t.Errorf("invalidation present = %v", spec.get("invalidation") != nil)
			}
			wantString(t, spec, "rest", "type")
			if spec.get("expiration") != nil {
				t.Error("expiration on a key that never expires")
			}
			if mine := keys[ownID]; mine.mustGet(t, "expiration").num >= float64(time.Now().UnixMilli()) {
				t.Error("an expired key's expiration is not in the past")
			}

			// active_only leaves expired and invalidated keys out.
			active := parseOrdered(t, get(t, cl, c.URL()+"/_security/api_key?active_only=true", basic("reader", "pw")).body)
			if n := len(active.mustGet(t, "api_keys").vals); n != 1 {
				t.Errorf("active_only: %d keys, want 1", n)
			}
			// manage_own_api_key: own keys with owner=true, denied otherwise.
			own := parseOrdered(t, get(t, cl, c.URL()+"/_security/api_key?owner=true", basic("own", "pw")).body)
			if ks := own.mustGet(t, "api_keys").vals; len(ks) != 1 || ks[0].mustGet(t, "id").str != ownID {
				t.Errorf("owner=true: %s", own.shape())
			}
			res := get(t, cl, c.URL()+"/_security/api_key", basic("own", "pw"))
			wantStatus(t, res, 403)
			denied := get(t, cl, c.URL()+"/_security/api_key")
			wantStatus(t, denied, 403)
			if !strings.Contains(string(denied.body), "action [cluster:admin/xpack/security/api_key/get] is unauthorized for user ["+monUser+
				"] with effective roles [ccs_monitor_role], this action is granted by the cluster privileges [read_security,manage_api_key,manage_security,all]") {
				t.Errorf("denial %s", denied.body)
			}
		})
	}
}

func TestAPIKeysOnTheRESTLayer(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "c", Version: "8.19.2"})
	id, encoded, err := c.CreateCrossClusterAPIKey("ccs", CrossClusterAccess{Search: []CrossClusterIndices{{Names: []string{"*"}}}}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	withKey := func(enc string) reqOpt {
		return func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+enc) }
	}
	res := get(t, cl, c.URL()+"/", withKey(encoded))
	wantStatus(t, res, 401)
	wantString(t, parseOrdered(t, res.body), "authentication expected API key type of [rest], but API key ["+id+"] has type [cross_cluster]",
		"error", "reason")

	restID, restEnc, err := c.CreateRESTAPIKey("r", monUser, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(t, cl, c.URL()+"/", withKey(restEnc)), 200)
	if err := c.InvalidateAPIKey(restID); err != nil {
		t.Fatal(err)
	}
	res = get(t, cl, c.URL()+"/", withKey(restEnc))
	wantStatus(t, res, 401)
	wantString(t, parseOrdered(t, res.body), "API key: api key ["+restID+"] has been invalidated", "error", "additional_unsuccessful_credentials")
	c.DeleteAPIKey(restID)
	res = get(t, cl, c.URL()+"/", withKey(restEnc))
	wantString(t, parseOrdered(t, res.body), "API key: unable to find apikey with id "+restID, "error", "additional_unsuccessful_credentials")
	if _, _, err := c.CreateCrossClusterAPIKey("none", CrossClusterAccess{}, time.Time{}); err == nil {
		t.Error("a cross-cluster key without access was created")
	}
}

func TestAPIKeyModelNeedsEnterpriseLicense(t *testing.T) {
	const want = "current license is non-compliant for [advanced-remote-cluster-security]"
	for _, side := range []string{"local", "remote"} {
		t.Run(side, func(t *testing.T) {
			s := newSim(t)
			local, remote := rcsPair(t, s, RemoteClusterServerSpec{Enabled: true})
			key := searchKey(t, remote, "*")
			addLink(t, local, LinkSpec{Alias: "r", Remote: "remote", Mode: "proxy", APIKeyAuth: true, APIKeyID: key})
			downgraded := map[string]*Cluster{"local": local, "remote": remote}[side]
			// A license change restarts nothing: the open connections stay,
			// each request fails.
			if err := downgraded.SetLicense("platinum", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if ok, _ := remoteCount(t, local, "r"); !ok {
				t.Error("the license change dropped the connections")
			}
			wantResolveError(t, resolveEntry(t, local, "r:*", "r"), want)
			// A new connection cannot be established.
			local.Stop()
			if err := local.Start(); err != nil {
				t.Fatal(err)
			}
			if ok, _ := remoteCount(t, local, "r"); ok {
				t.Error("connected with a platinum license")
			}
			wantResolveError(t, resolveEntry(t, local, "r:*", "r"), want)
			// Back to trial: connects again.
			if err := downgraded.SetLicense("trial", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if e := resolveEntry(t, local, "r:*", "r"); !e.mustGet(t, "connected").b {
				t.Errorf("with a trial license: %s", e.shape())
			}
		})
	}
}

// A user's RemoteIndices (its roles-file roles') grant an API-key link like
// a native role's remote_indices; without them the link is denied locally
// (TestSimulatorConformanceSecured compares this with 8.19.8).
func TestUserRemoteIndicesGrantLikeARole(t *testing.T) {
	s := newSim(t)
	remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2", License: "enterprise",
		RemoteClusterServer: &RemoteClusterServerSpec{Enabled: true}, Indices: []string{"logs-1"}})
	filed := User{Password: "pw", Roles: []string{"filed"}, ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"view_index_metadata"},
		RemoteIndices: []RemoteIndicesPrivileges{{Clusters: []string{"r*"}, Names: []string{"*"}, Privileges: []string{"view_index_metadata"}}}}
	bare := filed
	bare.Roles, bare.RemoteIndices = []string{"bare"}, nil
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2", License: "trial",
		Users: map[string]User{"filed": filed, "bare": bare}})
	if err := local.TrustRemoteClusterServer(remote); err != nil {
		t.Fatal(err)
	}
	addLink(t, local, LinkSpec{Alias: "r", Remote: "remote", Mode: "proxy", APIKeyAuth: true, APIKeyID: searchKey(t, remote, "*")})
	if e := resolveEntry(t, local, "r:logs-1", "r", basic("filed", "pw")); !e.mustGet(t, "connected").b || !e.mustGet(t, "matching_indices").b {
		t.Errorf("a user whose roles file grants remote_indices: %s", e.shape())
	}
	wantResolveError(t, resolveEntry(t, local, "r:logs-1", "r", basic("bare", "pw")),
		"action [indices:admin/resolve/cluster] towards remote cluster [r] is unauthorized for user [bare] with effective roles "+
			"[bare] because no remote indices privileges apply for the target cluster")
	if _, err := s.AddCluster(ClusterSpec{Name: "old", Version: "8.13.4", Users: map[string]User{"filed": filed}}); err == nil ||
		!strings.Contains(err.Error(), "remote_indices need 8.14+") {
		t.Errorf("remote_indices on 8.13: %v, want refused", err)
	}
}
