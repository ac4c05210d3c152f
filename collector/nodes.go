package collector

import (
	"context"
	"sort"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// CheckNodes is the name of the GET /_nodes/_all/_none check.
const CheckNodes = "nodes"

// Node is one node of the basic nodes info (NodeInfo.toXContent without
// metric sections): what version it runs and where its transport listens.
type Node struct {
	Name             string   `json:"name"`
	TransportAddress string   `json:"transport_address"`
	Host             string   `json:"host"`
	IP               string   `json:"ip"`
	Version          string   `json:"version"`
	Roles            []string `json:"roles"`
}

type nodesInfo struct {
	Nodes map[string]*Node `json:"nodes"`
}

// nodes asks for every node's basic info; the _none metric keeps the answer
// small (no settings, os, jvm sections).
func (c *Client) nodes(ctx context.Context) ([]Node, *CheckError) {
	var raw nodesInfo
	req := esapi.NodesInfoRequest{NodeID: []string{"_all"}, Metric: []string{"_none"}}
	if err := c.do(ctx, "GET /_nodes/_all/_none", req, &raw); err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(raw.Nodes))
	for _, n := range raw.Nodes {
		if n == nil {
			continue
		}
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
