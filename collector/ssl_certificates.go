package collector

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// CheckSSLCertificates is the name of the GET /_ssl/certificates check.
const CheckSSLCertificates = "ssl_certificates"

var (
	famClusterCertNotAfter = gauge("cluster", "certificate_not_after_timestamp_seconds",
		"Expiry (not after) of each certificate the answering node has configured, from GET /_ssl/certificates (node-local: node names it), as a Unix time. Polled.",
		"es_cluster", "node", "path", "format", "alias", "subject", "issuer", "serial", "has_private_key")
	famCertListing = gauge("cluster", "certificate_listing_success",
		"1 when GET /_ssl/certificates of the node, asked through its HTTP publish address, succeeded in the last round, else 0. Only with transport.certificates_from_all_nodes; polled every transport.probe_interval.",
		"es_cluster", "node")
)

// sslCertificatesCheck lists the certificates the answering node (and with
// transport.certificates_from_all_nodes every node) has configured: their
// expiry, and the CAs the trust judgement matches issuers against.
var sslCertificatesCheck = &check{
	name:      CheckSSLCertificates,
	schedule:  slowListing,
	families:  []*Family{famClusterCertNotAfter, famCertListing},
	selfTimed: true,
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		rctx, cancel := context.WithTimeout(ctx, p.timeout)
		certs, err := p.client.sslCertificates(rctx)
		cancel()
		if err != nil && (err.Status == http.StatusBadRequest || err.Status == http.StatusMethodNotAllowed) {
			// The API is x-pack security's: with security off 8.19 answers
			// 405 and 9.2 400 (internal/realcluster), not a wrong URL.
			err.Hint = "GET /_ssl/certificates exists only with security enabled (xpack.security.enabled: true), which remote clusters need anyway"
		}
		for i := range certs {
			certs[i].Node = f.Identity.NodeName
		}
		f.Certificates, f.Listings = certs, nil
		if p.cfg.Transport.CertificatesFromAllNodes && err == nil {
			others, listings := p.otherNodesCertificates(ctx, f.Identity.NodeName, f.Nodes)
			f.Certificates = append(f.Certificates, others...)
			f.Listings = append([]NodeListing{{Node: f.Identity.NodeName}}, listings...)
			p.logListings(f.Listings)
		}
		return err
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		// 7.x lists certificates in hash order: sort so series keep their place.
		certs := slices.Clone(f.Certificates)
		slices.SortFunc(certs, func(a, b SSLCertificate) int {
			return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(deref(a.Path), deref(b.Path)), strings.Compare(deref(a.Alias), deref(b.Alias)),
				strings.Compare(a.SubjectDN, b.SubjectDN), strings.Compare(a.SerialNumber, b.SerialNumber))
		})
		for _, c := range certs {
			if t, ok := c.NotAfter(); ok {
				out.add(famClusterCertNotAfter, unixSeconds(t), p.name, c.Node, deref(c.Path), c.Format, deref(c.Alias),
					c.SubjectDN, c.Issuer, c.SerialNumber, fmt.Sprint(c.HasPrivateKey))
			}
		}
		for _, l := range f.Listings {
			out.add(famCertListing, boolFloat(l.Err == nil), p.name, l.Node)
		}
	},
}

// logListings logs, once per change, a node whose certificates could not be
// listed.
func (p *Poller) logListings(ls []NodeListing) {
	for _, l := range ls {
		problem := ""
		if l.Err != nil {
			problem = l.Err.Msg
		}
		p.logChange("listing:"+l.Node, problem,
			func() {
				p.logger.Warn("certificate listing failed", "node", l.Node, "reason", l.Err.Reason, "err", l.Err.Msg,
					"fix", "the node's HTTP publish address must be reachable with the cluster's credentials and TLS settings (tls.server_name), or turn transport.certificates_from_all_nodes off")
			},
			func() { p.logger.Info("certificate listing works again", "node", l.Node) })
	}
}

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

// NodeListing is one node's certificate listing in a slow round.
type NodeListing struct {
	Node string
	Err  *CheckError // nil on success
}

// otherNodesCertificates asks every node but the one that answered for its
// certificates, through its HTTP publish address with the cluster's
// credentials and TLS settings (clusters[].transport.certificates_from_all_nodes).
// Without the publish addresses every other node known from the nodes
// check counts as failed, under its own name.
func (p *Poller) otherNodesCertificates(ctx context.Context, answering string, nodes []Node) ([]SSLCertificate, []NodeListing) {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	var nh nodeHTTP
	err := p.client.do(rctx, "GET /_nodes/_all/http", esapi.NodesInfoRequest{NodeID: []string{"_all"}, Metric: []string{"http"}}, &nh)
	cancel()
	if err != nil {
		var failed []NodeListing
		for _, n := range nodes {
			if n.Name != answering {
				failed = append(failed, NodeListing{Node: n.Name, Err: err})
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
	listings := make([]NodeListing, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			listings[i].Node = j.node
			cl := p.cfg
			cl.URLs = []string{j.url}
			c, err := clientOn(cl, p.client.transport)
			if err != nil {
				listings[i].Err = &CheckError{Reason: ReasonClientError, Msg: err.Error(),
					Hint: "the node's HTTP publish address must form a valid URL"}
				return
			}
			c.log = p.client.log
			nctx, cancel := context.WithTimeout(ctx, p.timeout)
			defer cancel()
			list, cerr := c.sslCertificates(nctx)
			if cerr != nil {
				listings[i].Err = cerr
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
