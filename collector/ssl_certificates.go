package collector

import (
	"context"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// CheckSSLCertificates is the name of the GET /_ssl/certificates check.
const CheckSSLCertificates = "ssl_certificates"

// SSLCertificate is one element of GET /_ssl/certificates
// (CertificateInfo.toXContent). The API is node-local: it lists the
// certificates of the node that answered the request.
type SSLCertificate struct {
	Node          string  `json:"-"`      // the node that listed it (set by the exporter)
	Path          *string `json:"path"`   // as configured; null for some keystores in 8.x
	Format        string  `json:"format"` // PEM, PKCS12, jks
	Alias         *string `json:"alias"`  // null for PEM files
	SubjectDN     string  `json:"subject_dn"`
	SerialNumber  string  `json:"serial_number"`
	HasPrivateKey bool    `json:"has_private_key"`
	Expiry        string  `json:"expiry"` // ISO-8601 UTC with milliseconds
	Issuer        string  `json:"issuer"` // 8.4+; absent before
}

// NotAfter parses Expiry; ok is false when it is not a timestamp.
func (c *SSLCertificate) NotAfter() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, c.Expiry)
	return t, err == nil
}

func (c *Client) sslCertificates(ctx context.Context) ([]SSLCertificate, *CheckError) {
	var out []SSLCertificate
	if err := c.do(ctx, "GET /_ssl/certificates", esapi.SSLCertificatesRequest{}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// trustEntries converts a listing for issuer matching.
func trustEntries(certs []SSLCertificate) []trust.Entry {
	out := make([]trust.Entry, len(certs))
	for i, c := range certs {
		out[i] = trust.Entry{SubjectDN: c.SubjectDN, Issuer: c.Issuer, HasPrivateKey: c.HasPrivateKey}
	}
	return out
}

// nodeHTTP is the http section of GET /_nodes/_all/http (HttpInfo).
type nodeHTTP struct {
	Nodes map[string]struct {
		Name string `json:"name"`
		HTTP struct {
			PublishAddress string `json:"publish_address"`
		} `json:"http"`
	} `json:"nodes"`
}

// publishHostPort turns a publish_address into host:port. Elasticsearch
// renders it as "ip:port", or "hostname/ip:port" when the node publishes a
// name; the name is kept, since HTTP certificates usually name hosts.
func publishHostPort(addr string) string {
	if host, rest, ok := strings.Cut(addr, "/"); ok {
		if _, port, err := net.SplitHostPort(rest); err == nil && host != "" {
			return net.JoinHostPort(host, port)
		}
		return rest
	}
	return addr
}

// nodeListing is one node's certificate listing in a slow round.
type nodeListing struct {
	node string
	err  *CheckError
}

// otherNodesCertificates asks every node but the one that answered for its
// certificates, through its HTTP publish address with the cluster's
// credentials and TLS settings (clusters[].transport.certificates_from_all_nodes).
// Without the publish addresses every other node known from the nodes
// check counts as failed, under its own name.
func (p *Poller) otherNodesCertificates(ctx context.Context, answering string, nodes []Node) ([]SSLCertificate, []nodeListing) {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	var nh nodeHTTP
	err := p.client.do(rctx, "GET /_nodes/_all/http", esapi.NodesInfoRequest{NodeID: []string{"_all"}, Metric: []string{"http"}}, &nh)
	cancel()
	if err != nil {
		var failed []nodeListing
		for _, n := range nodes {
			if n.Name != answering {
				failed = append(failed, nodeListing{node: n.Name, err: err})
			}
		}
		return nil, failed
	}
	scheme := "https"
	if len(p.cfg.URLs) > 0 && strings.HasPrefix(p.cfg.URLs[0], "http://") {
		scheme = "http"
	}
	type job struct{ node, url string }
	var jobs []job
	for _, n := range nh.Nodes {
		if n.Name == answering || n.HTTP.PublishAddress == "" {
			continue
		}
		jobs = append(jobs, job{n.Name, scheme + "://" + publishHostPort(n.HTTP.PublishAddress)})
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].node < jobs[j].node })
	certs := make([][]SSLCertificate, len(jobs))
	listings := make([]nodeListing, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			listings[i].node = j.node
			cl := p.cfg
			cl.URLs = []string{j.url}
			c, err := clientOn(cl, p.client.transport)
			if err != nil {
				listings[i].err = &CheckError{Reason: ReasonClientError, Msg: err.Error(),
					Hint: "the node's HTTP publish address must form a valid URL"}
				return
			}
			nctx, cancel := context.WithTimeout(ctx, p.timeout)
			defer cancel()
			list, cerr := c.sslCertificates(nctx)
			if cerr != nil {
				listings[i].err = cerr
				return
			}
			for k := range list {
				list[k].Node = j.node
			}
			certs[i] = list
		}()
	}
	wg.Wait()
	var out []SSLCertificate
	for _, c := range certs {
		out = append(out, c...)
	}
	return out, listings
}
