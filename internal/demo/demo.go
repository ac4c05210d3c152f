// Package demo builds the simulated topology behind `es_remote_exporter demo`
// and the end-to-end tests: clusters on three majors, sniff and proxy links,
// an API-key link, a remote that goes away and comes back, and the setup
// mistakes `check` finds (a role short of a privilege, a missing role, a link
// defined on one node only, a static setting a dynamic one overrides).
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/simulator"
)

// The clusters of the demo, by name (also their es_cluster label).
const (
	Berlin = "berlin" // 7.17: the old cluster a hub still searches
	Paris  = "paris"  // 8.19: the hub, last 8.x minor, talks to everything
	Oslo   = "oslo"   // 8.18: the flaky one that goes down and comes back
	Tokyo  = "tokyo"  // 9.1: the newest
)

// Topology is a running demo.
type Topology struct {
	Sim    *simulator.Sim
	Config *config.Config
	caDir  string
}

// exporterUser is the monitoring user every simulated cluster knows: cluster
// monitor (for GET /, _remote/info, _nodes) and view_index_metadata (for
// _resolve/cluster), which is what docs/configuration.md tells users to grant, plus
// read_security where links name roles (its optional privilege).
const exporterUser = "es_remote_exporter"

// Start builds the simulated clusters and the exporter configuration that
// watches them. caDir receives the simulator's CA certificate.
func Start(caDir string, pollInterval time.Duration) (*Topology, error) {
	sim, err := simulator.New()
	if err != nil {
		return nil, fmt.Errorf("starting the simulator: %w", err)
	}
	t := &Topology{Sim: sim, caDir: caDir}
	if err := t.build(pollInterval); err != nil {
		sim.Close()
		return nil, err
	}
	return t, nil
}

func (t *Topology) build(pollInterval time.Duration) error {
	password := randomHex(12)
	apiKeyID, apiKey := randomHex(10), randomHex(16)
	users := map[string]simulator.User{exporterUser: {
		Password:          password,
		Roles:             []string{"remote_monitoring"},
		ClusterPrivileges: []string{"monitor", "read_security"},
		IndexPrivileges:   []string{"view_index_metadata"},
	}}
	specs := []simulator.ClusterSpec{
		// berlin is half way through a patch upgrade: one node still on 7.17.28.
		{Name: Berlin, Version: "7.17.29", Users: users, Nodes: append(nodes(Berlin, 1),
			simulator.NodeSpec{Name: Berlin + "-es02", Version: "7.17.28"})},
		// paris is the remote of tokyo's roles: its remote-search lacks
		// read_cross_cluster, and it has no remote-replication at all.
		// paris replicates from oslo (cross-cluster replication needs a
		// platinum, enterprise or trial license on the follower and the
		// leader; so does the API-key link paris -> tokyo, on both sides).
		{Name: Paris, Version: "8.19.7", Users: users, Nodes: nodes(Paris, 3), License: "trial", Roles: map[string]simulator.RoleSpec{
			"remote-search": {Indices: []simulator.IndicesPrivileges{{Names: []string{"logs-*"}, Privileges: []string{"read"}}}},
		}},
		// oslo's node certificates expire in 20 days: the expiry warning.
		{Name: Oslo, Version: "8.18.8", Users: users, Nodes: nodes(Oslo, 2), License: "trial",
			Transport: simulator.TransportSpec{NotAfter: time.Now().Add(20 * 24 * time.Hour)}},
		// tokyo serves the API-key model: remote_cluster_server.enabled on
		// every node, with its own remote cluster CA.
		{Name: Tokyo, Version: "9.1.5", Nodes: nodes(Tokyo, 3), License: "trial", APIKeys: map[string]simulator.APIKey{
			apiKeyID: {Key: apiKey, Name: "es_remote_exporter", Owner: exporterUser,
				ClusterPrivileges: []string{"monitor", "read_security"}, IndexPrivileges: []string{"view_index_metadata"}},
		}, Roles: map[string]simulator.RoleSpec{
			"remote-search": {},
			"remote-replication": {Cluster: []string{"manage_ccr"}, Indices: []simulator.IndicesPrivileges{
				{Names: []string{"follower-*"}, Privileges: []string{"monitor", "read", "write", "manage_follow_index"}}}},
		}, RemoteClusterServer: &simulator.RemoteClusterServerSpec{Enabled: true}},
	}
	for _, spec := range specs {
		if _, err := t.Sim.AddCluster(spec); err != nil {
			return fmt.Errorf("simulated cluster %s: %w", spec.Name, err)
		}
	}
	// paris -> tokyo uses the API-key model: paris's remote cluster client
	// trusts tokyo's remote cluster CA, and its keystore holds a
	// cross-cluster key of tokyo with search access.
	if err := t.Sim.Cluster(Paris).TrustRemoteClusterServer(t.Sim.Cluster(Tokyo)); err != nil {
		return err
	}
	// The key expires in 10 days: the key expiry warning.
	ccsKeyID, _, err := t.Sim.Cluster(Tokyo).CreateCrossClusterAPIKey("paris",
		simulator.CrossClusterAccess{Search: []simulator.CrossClusterIndices{{Names: []string{"*"}}}}, time.Now().Add(10*24*time.Hour))
	if err != nil {
		return fmt.Errorf("cross-cluster API key of %s: %w", Tokyo, err)
	}
	no, yes := false, true
	links := []struct {
		from string
		link simulator.LinkSpec
	}{
		// berlin (7.17) searches the hub: 7.17 -> 8.x is supported. oslo has
		// two nodes and node_connections says so, as it should (the default
		// 3 would read as a lost gateway forever).
		{Berlin, simulator.LinkSpec{Alias: Paris, Remote: Paris}},
		{Paris, simulator.LinkSpec{Alias: Oslo, Remote: Oslo, NodeConnections: 2}},
		// paris-es01 still has skip_unavailable: false for tokyo in its
		// elasticsearch.yml, under the cluster setting true.
		{Paris, simulator.LinkSpec{Alias: Tokyo, Remote: Tokyo, Mode: "proxy", Static: true, StaticNodes: []string{Paris + "-es01"},
			SkipUnavailable: &no}},
		{Paris, simulator.LinkSpec{Alias: Tokyo, Remote: Tokyo, Mode: "proxy", APIKeyAuth: true, APIKeyID: ccsKeyID, ServerName: "tokyo.es.internal",
			SkipUnavailable: &yes}},
		// berlin-es02 alone has a link to oslo in its elasticsearch.yml:
		// a search coordinated by berlin-es01 does not know it.
		{Berlin, simulator.LinkSpec{Alias: Oslo, Remote: Oslo, Static: true, StaticNodes: []string{Berlin + "-es02"}}},
		{Oslo, simulator.LinkSpec{Alias: Paris, Remote: Paris, Mode: "proxy"}},
		// The deliberate mistake: 9.1 -> 8.19 connects (wire-compatible) but
		// is not a supported pair, and it uses the certificate model that
		// 9.0 deprecated.
		{Tokyo, simulator.LinkSpec{Alias: Paris, Remote: Paris}},
	}
	for _, l := range links {
		if err := t.Sim.Cluster(l.from).AddLink(l.link); err != nil {
			return fmt.Errorf("link %s -> %s: %w", l.from, l.link.Alias, err)
		}
	}
	// Replication: paris follows oslo's orders and lags 1,500 operations
	// behind (Replicate keeps it moving), and its follower of oslo's logs is
	// paused.
	for _, f := range []simulator.FollowerSpec{
		{Index: "orders-oslo", Remote: Oslo, LeaderIndex: "orders", Shards: 2},
		{Index: "logs-oslo", Remote: Oslo, LeaderIndex: "logs"},
	} {
		if err := t.Sim.Cluster(Paris).AddFollower(f); err != nil {
			return fmt.Errorf("follower %s on %s: %w", f.Index, Paris, err)
		}
	}
	t.Sim.Cluster(Paris).AdvanceLeader("orders-oslo", 1500)
	if err := t.Sim.Cluster(Paris).PauseFollower("logs-oslo"); err != nil {
		return err
	}
	caFile, err := t.Sim.WriteCAFile(t.caDir)
	if err != nil {
		return err
	}
	rcCAFile, err := t.Sim.Cluster(Tokyo).WriteRemoteClusterCAFile(t.caDir)
	if err != nil {
		return err
	}
	cfg := config.Defaults()
	cfg.PollInterval = pollInterval
	// A request may take at most half the interval, so that a hung
	// cluster's poll ends before the next one is due.
	cfg.Timeout = min(cfg.Timeout, pollInterval/2)
	for _, spec := range specs {
		cl := config.Cluster{
			Name: spec.Name,
			URLs: []string{t.Sim.Cluster(spec.Name).URL()},
			TLS:  config.TLS{CAFile: caFile},
		}
		if spec.Name == Paris {
			// paris's remote cluster client trusts tokyo's remote cluster
			// CA, and its keystore holds ccsKeyID for the alias tokyo.
			cl.RemoteClusterClient.CAFile = rcCAFile
			cl.Links = map[string]config.Link{Tokyo: {Cluster: Tokyo, APIKeyID: ccsKeyID}}
		}
		if spec.Name == Tokyo {
			cl.APIKey = config.Secret(simulator.EncodeAPIKey(apiKeyID, apiKey))
			cl.Links = map[string]config.Link{Paris: {Cluster: Paris, Roles: config.LinkRoles{
				Search: []string{"remote-search"}, Replication: []string{"remote-replication"}}}}
		} else {
			cl.Username, cl.Password = exporterUser, config.Secret(password)
		}
		cfg.Clusters = append(cfg.Clusters, cl)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	t.Config = &cfg
	return nil
}

func nodes(cluster string, n int) []simulator.NodeSpec {
	out := make([]simulator.NodeSpec, n)
	for i := range out {
		out[i] = simulator.NodeSpec{Name: fmt.Sprintf("%s-es%02d", cluster, i+1)}
	}
	return out
}

// Flap takes the flaky cluster down for `down` every `period` until ctx ends,
// so the demo shows a link that breaks and heals.
func (t *Topology) Flap(ctx context.Context, period, down time.Duration, logger *slog.Logger) {
	c := t.Sim.Cluster(Oslo)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(period - down):
		}
		logger.Info("demo: stopping simulated cluster; links to it will break", "cluster", Oslo, "for", down)
		c.Stop()
		select {
		case <-ctx.Done():
			return
		case <-time.After(down):
		}
		if err := c.Start(); err != nil {
			logger.Error("demo: restarting simulated cluster", "cluster", Oslo, "err", err)
			continue
		}
		logger.Info("demo: simulated cluster is back", "cluster", Oslo)
	}
}

// Replicate keeps paris's follower of oslo's orders moving until ctx ends:
// every `every` the leader indexes more than the follower reads, and every
// tenth time the follower catches up, so the demo shows lag that grows and
// drains.
func (t *Topology) Replicate(ctx context.Context, every time.Duration) {
	c := t.Sim.Cluster(Paris)
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		if i%10 == 0 {
			c.Drain("orders-oslo")
			continue
		}
		c.AdvanceLeader("orders-oslo", 200)
	}
}

// Close stops every simulated cluster.
func (t *Topology) Close() error { return t.Sim.Close() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
