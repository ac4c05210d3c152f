package collector

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
	"github.com/es-remote-exporter/es_remote_exporter/internal/trust"
)

// Transport probes dial the endpoints a link depends on (the remote's seeds
// or proxy address: transport ports for certificate links, remote cluster
// servers for API-key links; and optionally this cluster's own nodes)
// and record the chain each presents, even when it does not verify. Every
// probe shows in the probed node's log as a connection that closed without a
// transport handshake, so probes run on their own, slower schedule
// (transport.probe_interval, default 10m) and their results are replayed in
// the polls between.

// maxProbesPerLink bounds how many seeds of one link are probed.
const maxProbesPerLink = 3

// probeConcurrency bounds the parallel probes of one cluster, and
// fleetProbeConcurrency those of all clusters together (through the Fleet),
// so that a thousand clusters starting at once do not hold hundreds of TLS
// handshakes in memory at the same time.
const (
	probeConcurrency      = 8
	fleetProbeConcurrency = 32
)

// transportFiles is what clusters[].transport names, loaded.
type transportFiles struct {
	cas      []*x509.Certificate // the cluster's transport truststore; nil = not configured
	identity *tlsprobe.Identity  // the cluster's transport identity; nil = not configured
}

func loadTransportFiles(t config.Transport) (transportFiles, error) {
	var f transportFiles
	if t.CAFile != "" {
		cas, err := tlsprobe.LoadCABundle(t.CAFile)
		if err != nil {
			return f, fmt.Errorf("transport.ca_file: %w", err)
		}
		f.cas = cas
	}
	switch {
	case t.CertFile != "":
		id, err := tlsprobe.LoadPEMIdentity(t.CertFile, t.KeyFile)
		if err != nil {
			return f, fmt.Errorf("transport.cert_file/key_file: %w", err)
		}
		f.identity = &id
	case t.KeystoreFile != "":
		id, err := tlsprobe.LoadPKCS12Identity(t.KeystoreFile, t.KeystorePassword.Reveal())
		if err != nil {
			return f, fmt.Errorf("transport.keystore_file: %w", err)
		}
		f.identity = &id
		if f.cas == nil && len(id.Others) > 0 {
			// elasticsearch-certutil's elastic-certificates.p12 is keystore
			// and truststore at once: its CA entries are what the nodes trust.
			f.cas = id.Others
		}
	}
	return f, nil
}

// probeState is one probe round of one cluster. It lives only while the
// round is judged and rendered; the poller keeps the rendered text.
type probeState struct {
	at    time.Time
	links map[string][]tlsprobe.Result // by alias, one per probed address
	local []tlsprobe.Result            // this cluster's own nodes (probe_local_nodes)
}

// linkAddresses are the endpoints of a link worth probing: each address
// once, however often Elasticsearch lists it.
func linkAddresses(l *RemoteLink) []string {
	var out []string
	for _, a := range l.Addresses() {
		if len(out) == maxProbesPerLink {
			break
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// probeTransport runs one probe round, bounded by the poll's context.
func (p *Poller) probeTransport(ctx context.Context, f *Facts) *probeState {
	st := &probeState{at: p.now(), links: map[string][]tlsprobe.Result{}}
	type job struct {
		alias  string // "" = a local node
		addr   string
		sni    string
		apiKey bool // a remote cluster server: no client certificate
	}
	var jobs []job
	for i := range f.Links {
		l := &f.Links[i]
		for _, a := range linkAddresses(l) {
			jobs = append(jobs, job{alias: l.Alias, addr: a, sni: deref(l.ServerName), apiKey: l.Auth() == "api_key"})
		}
	}
	if p.probeLocal {
		for _, n := range f.Nodes {
			jobs = append(jobs, job{addr: n.TransportAddress})
		}
	}
	opts := tlsprobe.Options{Timeout: p.timeout}
	if p.transport.identity != nil {
		cert := p.transport.identity.Certificate
		opts.ClientCertificate = &cert
	}
	results := make([]tlsprobe.Result, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, probeConcurrency)
	var shared chan struct{}
	if p.fleet != nil {
		shared = p.fleet.probeSlots
	}
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if shared != nil {
				select {
				case shared <- struct{}{}:
					defer func() { <-shared }()
				case <-ctx.Done():
					results[i] = tlsprobe.Result{Addr: j.addr, Err: ctx.Err()}
					return
				}
			}
			o := opts
			o.ServerName = j.sni
			if j.apiKey {
				// The remote cluster client presents no certificate
				// (client_authentication none by default), so neither do
				// the exporter's probes of a remote cluster server.
				o.ClientCertificate = nil
			}
			results[i] = tlsprobe.Probe(ctx, j.addr, o)
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if j.alias == "" {
			st.local = append(st.local, results[i])
		} else {
			st.links[j.alias] = append(st.links[j.alias], results[i])
		}
	}
	return st
}

var (
	famLocalProbeSuccess = gauge("cluster", "transport_probe_success",
		"1 when a TLS handshake with one of the cluster's own nodes on its transport address completed (the chain was seen), else 0. Probed on transport.probe_interval when transport.probe_local_nodes is set.",
		"es_cluster", "address")
	famLocalPresentedNotAfter = gauge("cluster", "transport_certificate_not_after_timestamp_seconds",
		"Expiry of each certificate one of the cluster's own nodes presented on its transport port (role leaf, intermediate or ca), as a Unix time. Probed.",
		"es_cluster", "address", "role", "subject", "issuer", "serial")
	famLinkProbeSuccess = gauge("link", "transport_probe_success",
		"1 when a TLS handshake with the link's seed or proxy address completed far enough to see the remote's chain, else 0. Probed on transport.probe_interval.",
		"es_cluster", "remote", "address")
	famLinkProbeInfo = gauge("link", "transport_probe_info",
		"How the last probe of a remote transport address went, value 1: tls_version negotiated, client_auth (not_requested, accepted, rejected, unknown) and the TLS alert the peer sent, if any. Probed.",
		"es_cluster", "remote", "address", "tls_version", "client_auth", "peer_alert")
	famLinkPresentedNotAfter = gauge("link", "transport_certificate_not_after_timestamp_seconds",
		"Expiry of each certificate the remote presented at a seed or proxy address (role leaf, intermediate or ca), as a Unix time. Probed.",
		"es_cluster", "remote", "address", "role", "subject", "issuer", "serial")
	famLastProbe = gauge("exporter", "last_transport_probe_timestamp_seconds",
		"Unix time of the cluster's last transport probe round (every transport.probe_interval).",
		clusterLabels...)
)

// transportProbeCheck opens the slow round: it probes the transport
// endpoints of every link (and with probe_local_nodes the cluster's own
// nodes) and records the chains the trust judgement reads.
var transportProbeCheck = &check{
	schedule:  slowRound,
	families:  []*Family{famLocalProbeSuccess, famLocalPresentedNotAfter, famLinkProbeSuccess, famLinkProbeInfo, famLinkPresentedNotAfter, famLastProbe},
	selfTimed: true,
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		f.round = p.probeTransport(ctx, f)
		return nil
	},
	render: func(p *Poller, f *Facts, out *renderer) {
		round := f.round
		out.add(famLastProbe, unixSeconds(round.at), p.name)
		for _, r := range round.local {
			out.add(famLocalProbeSuccess, boolFloat(len(r.Chain) > 0), p.name, r.Addr)
			for i, c := range r.Chain {
				out.add(famLocalPresentedNotAfter, unixSeconds(c.NotAfter), p.name, r.Addr, trust.ChainRole(i, c.SelfIssued), c.Subject, c.Issuer, c.Serial)
			}
		}
		for i := range f.Links {
			alias := f.Links[i].Alias
			for _, r := range round.links[alias] {
				out.add(famLinkProbeSuccess, boolFloat(len(r.Chain) > 0), p.name, alias, r.Addr)
				out.add(famLinkProbeInfo, 1, p.name, alias, r.Addr, r.VersionName(), string(r.ClientAuth), r.PeerAlert)
				for j, c := range r.Chain {
					out.add(famLinkPresentedNotAfter, unixSeconds(c.NotAfter), p.name, alias, r.Addr, trust.ChainRole(j, c.SelfIssued), c.Subject, c.Issuer, c.Serial)
				}
			}
		}
	},
}
