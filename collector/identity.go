package collector

import (
	"context"
	"slices"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// Identity is what GET / says about the cluster and the node that answered
// (RestMainAction / MainResponse).
type Identity struct {
	NodeName    string      `json:"name"`
	ClusterName string      `json:"cluster_name"`
	ClusterUUID string      `json:"cluster_uuid"`
	Version     VersionInfo `json:"version"`
}

// VersionInfo is the version object of GET / and of GET /_resolve/cluster
// entries; the exporter reads the number only (compatibility is judged on
// it, see internal/compat).
type VersionInfo struct {
	Number string `json:"number"`
}

// CheckIdentity is the name of the GET / check.
const CheckIdentity = "identity"

func (c *Client) identity(ctx context.Context) (*Identity, *CheckError) {
	var id Identity
	if err := c.do(ctx, "GET /", esapi.InfoRequest{}, &id); err != nil {
		return nil, err
	}
	if id.Version.Number == "" {
		return nil, invalidBody("GET /", nil, errMissing("version.number"))
	}
	return &id, nil
}

var (
	famClusterUp = gauge("cluster", "up",
		"1 when the last poll reached the cluster's HTTP API and was authorised (its first request, or GET / when that failed), else 0. Polled.",
		clusterLabels...)
	famClusterInfo = gauge("cluster", "info",
		"Identity of the monitored cluster from GET /, value 1. Polled.",
		"es_cluster", "cluster_name", "cluster_uuid", "version")
)

// identityCheck asks GET /: who the cluster is (name, UUID) and the version
// of the node that answered, which decides what the other checks ask. Its
// answer changes only when the cluster is rebuilt or upgraded, so it is not
// asked every poll (identityDue, settleIdentity): the exporter sends one
// request less per poll, and every signal stays as fresh as before.
var identityCheck = &check{
	name:     CheckIdentity,
	schedule: everyPoll,
	families: []*Family{famClusterUp, famClusterInfo},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		var err *CheckError
		f.Identity, err = p.client.identity(ctx)
		if err == nil {
			p.identity, p.identityAt, p.identityURL = f.Identity, p.now(), p.client.lastAnswered()
			v, perr := esversion.Parse(f.Identity.Version.Number)
			p.version, p.versionKnown = v, perr == nil
		}
		return err
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		out.add(famClusterUp, boolFloat(f.Up()), p.name)
		if id := f.Identity; id != nil {
			out.add(famClusterInfo, 1, p.name, id.ClusterName, id.ClusterUUID, id.Version.Number)
		}
	},
}

// identityDue reports whether a poll asks GET / before anything else: at
// the first poll, after a poll that found the cluster down or locked out
// (it may come back rebuilt or upgraded), and every
// transport.probe_interval (a cluster rebuilt behind the same URLs without
// an outage the exporter saw).
func (p *Poller) identityDue() bool {
	return p.identity == nil || !p.lastUp || p.due(p.identityAt)
}

// settleIdentity runs right after the nodes check. When GET / was not asked
// first, it is asked now if the nodes check failed (is the cluster down, are
// we locked out, or is only the nodes API failing?), found other versions
// than the last poll (GET / then reports the new version), or was answered
// at another of the cluster's URLs than GET / last was (a failover or a
// node back: GET / names the node the node-local checks ask); otherwise the
// nodes' answer proves the cluster up and the last GET / stands, its result
// replayed like a slow listing's.
func (p *Poller) settleIdentity(ctx context.Context, f *Facts, askedFirst bool) {
	nodesOK := f.NodesFailed >= 0
	switch {
	case askedFirst:
	case !nodesOK || !slices.Equal(f.LocalVersions, p.lastVersions) || f.censusURL != p.identityURL:
		p.identityResult = p.runCheck(ctx, identityCheck, f)
	default:
		f.Identity = p.identity // set: GET / was not due
		f.Checks = append(f.Checks, p.identityResult)
	}
	if nodesOK {
		p.lastVersions = f.LocalVersions
	} else if f.Up() && p.versionKnown {
		// Without the census, the answering node's version is all there is.
		f.LocalVersions = []esversion.Version{p.version}
	}
}
