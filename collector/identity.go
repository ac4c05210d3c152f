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
