package collector

import (
	"context"

	"github.com/elastic/go-elasticsearch/v8/esapi"
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
		"1 when the last poll reached the cluster's HTTP API (GET /) and was authorised, else 0. Polled.",
		clusterLabels...)
	famClusterInfo = gauge("cluster", "info",
		"Identity of the monitored cluster from GET /, value 1. Polled.",
		"es_cluster", "cluster_name", "cluster_uuid", "version")
)

// identityCheck asks GET / first: without it the cluster is down or the
// exporter is locked out, and the other checks are not attempted.
var identityCheck = &check{
	name:     CheckIdentity,
	schedule: everyPoll,
	families: []*Family{famClusterUp, famClusterInfo},
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		var err *CheckError
		f.Identity, err = p.client.identity(ctx)
		return err
	},
	render: func(p *Poller, f *Facts, add emit) {
		add(famClusterUp, boolFloat(f.Identity != nil), p.name)
		if id := f.Identity; id != nil {
			add(famClusterInfo, 1, p.name, id.ClusterName, id.ClusterUUID, id.Version.Number)
		}
	},
}
