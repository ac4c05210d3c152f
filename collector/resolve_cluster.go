package collector

import (
	"cmp"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// CheckResolveCluster is the name of the GET /_resolve/cluster check.
const CheckResolveCluster = "resolve_cluster"

// localAlias is the key _resolve/cluster uses for the local cluster.
const localAlias = "(local)"

// Resolved is one entry of GET /_resolve/cluster (ResolveClusterInfo.toXContent).
type Resolved struct {
	Alias           string `json:"-"`
	Connected       bool   `json:"connected"`
	SkipUnavailable bool   `json:"skip_unavailable"`
	Error           string `json:"error"`
	// Version is absent when the remote is older than 8.13 (the local node
	// falls back to _resolve/index) or could not be reached.
	Version *VersionInfo `json:"version"`
}

// ResolveMode says how (and whether) a cluster of a given version can be
// asked about its remotes' reachability.
type ResolveMode int

const (
	// ResolveUnsupported: before 8.13 there is no _resolve/cluster.
	ResolveUnsupported ResolveMode = iota
	// ResolvePerRemote: 8.13 to 8.17 need an index expression and know no
	// timeout parameter, so each remote gets its own request ("alias:dummy*"):
	// a remote that hangs then costs only its own request.
	ResolvePerRemote
	// ResolveNoIndex: 8.18+ answer GET /_resolve/cluster for every remote at
	// once and bound the wait with ?timeout=.
	ResolveNoIndex
)

// ResolveModeFor picks the form of _resolve/cluster a cluster supports.
func ResolveModeFor(v esversion.Version) ResolveMode {
	switch {
	case v.AtLeast(8, 18):
		return ResolveNoIndex
	case v.AtLeast(8, 13):
		return ResolvePerRemote
	}
	return ResolveUnsupported
}

// resolveTimeout is the ?timeout= handed to Elasticsearch: a little under the
// HTTP timeout, so that Elasticsearch reports the slow remote as timed out
// instead of the whole request timing out on our side.
func resolveTimeout(httpTimeout time.Duration) time.Duration {
	return max(httpTimeout*8/10, 100*time.Millisecond)
}

// dummyIndexPattern is the index part of the per-remote expression: a
// wildcard that matches (next to) nothing, as Elasticsearch's own no-index
// form sends to its remotes (TransportResolveClusterAction's
// DUMMY_INDEX_FOR_OLDER_CLUSTERS "*:dummy*", "preferable to sending just
// '*' since that could be an expensive operation on clusters with
// thousands of indices"). A wildcard that matches nothing is no denial
// (RemoteClusterSecurityRCS1ResolveClusterIT, cases 6b and 7b).
const dummyIndexPattern = "dummy*"

// perRemoteTimeoutError is the error the exporter records for a remote
// whose per-remote request got no answer within the timeout.
const perRemoteTimeoutError = "no answer within the timeout; Elasticsearch is waiting on the remote"

// perRemoteConcurrency bounds the parallel requests of ResolvePerRemote.
const perRemoteConcurrency = 4

// resolveCluster asks the cluster to contact its remotes. For
// ResolvePerRemote, a request that times out is recorded as an unreachable
// remote (Elasticsearch was waiting on it); any other failure fails the check.
func (c *Client) resolveCluster(ctx context.Context, mode ResolveMode, aliases []string, timeout time.Duration) ([]Resolved, *CheckError) {
	switch mode {
	case ResolveNoIndex:
		rctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req := esapi.IndicesResolveClusterRequest{Timeout: resolveTimeout(timeout)}
		return memoized(rctx, c, "GET /_resolve/cluster", req, &c.resolveMemo, parseResolved)
	case ResolvePerRemote:
		return c.resolvePerRemote(ctx, aliases, timeout)
	}
	return nil, nil
}

func (c *Client) resolvePerRemote(ctx context.Context, aliases []string, timeout time.Duration) ([]Resolved, *CheckError) {
	var (
		mu       sync.Mutex
		out      []Resolved
		firstErr *CheckError
		wg       sync.WaitGroup
		sem      = make(chan struct{}, perRemoteConcurrency)
	)
	for _, alias := range aliases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var raw map[string]*Resolved
			expr := alias + ":" + dummyIndexPattern
			req := esapi.IndicesResolveClusterRequest{Name: []string{expr}}
			err := c.do(rctx, "GET /_resolve/cluster/"+expr, req, &raw)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				if r, ok := raw[alias]; ok && r != nil {
					r.Alias = alias
					out = append(out, *r)
				}
			case err.Reason == ReasonTimeout && ctx.Err() == nil:
				out = append(out, Resolved{Alias: alias, Error: perRemoteTimeoutError})
			case firstErr == nil:
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out, nil
}

func parseResolved(body []byte) ([]Resolved, error) {
	var raw map[string]*Resolved
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	return normalizeResolved(raw), nil
}

func normalizeResolved(raw map[string]*Resolved) []Resolved {
	out := make([]Resolved, 0, len(raw))
	for alias, r := range raw {
		if alias == localAlias || r == nil {
			continue
		}
		r.Alias = alias
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out
}

var (
	famLinkReachable = gauge("link", "reachable",
		"1 when GET /_resolve/cluster, which actively contacts the remote, reports it connected, else 0; absent when Elasticsearch denied the request (it cannot tell then whether the remote is up: see es_remote_link_resolve_error_info). Only for clusters on 8.13 or later. Polled.",
		linkLabels...)
	famLinkResolveError = gauge("link", "resolve_error_info",
		"The error GET /_resolve/cluster reports for the remote, value 1, present only while its entry carries one; reason is forbidden (a security exception: the exporter's user is not authorized towards or on the remote), timeout (no answer within the request's timeout), connection (could not connect) or other. Polled.",
		"es_cluster", "remote", "reason")
)

// Reasons of es_remote_link_resolve_error_info.
const (
	ResolveErrorForbidden  = "forbidden"
	ResolveErrorTimeout    = "timeout"
	ResolveErrorConnection = "connection"
	ResolveErrorOther      = "other"
)

// ResolveErrorReason classifies the error of a _resolve/cluster entry, ""
// when there is none. TransportResolveClusterAction (8.13 to 9.x) fills it
// as follows: a remote it could not connect to gets connected:false and no
// error; a remote that timed out its REMOTE_CONNECTION_TIMEOUT_ERROR ("Request
// timed out before receiving a response from the remote cluster"); ANY
// ElasticsearchSecurityException the exception's message, with
// connected:false although nothing may have been attempted (denials of
// AuthorizationDenialMessages: "action [..] is unauthorized for user [..]",
// "action [..] towards remote cluster [..] is unauthorized for ..." in the
// API-key model, and authentication failures "unable to authenticate ...");
// an IndexNotFoundException "no such index [..]" with connected:true; and
// anything else cause.toString(). Connection texts older versions or
// proxies may send (connect_exception, "Connection refused", "no seed node
// left", "Unable to connect") count as connection.
func ResolveErrorReason(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case m == "":
		return ""
	case strings.Contains(m, "is unauthorized for") || strings.Contains(m, "unable to authenticate") ||
		strings.Contains(m, "missing authentication") || strings.Contains(m, "security_exception") ||
		strings.Contains(m, "license is non-compliant") ||
		strings.Contains(m, "elasticsearchsecurityexception"):
		return ResolveErrorForbidden
	case strings.Contains(m, "timed out") || strings.Contains(m, "timeout") || strings.Contains(m, perRemoteTimeoutError):
		return ResolveErrorTimeout
	case strings.Contains(m, "connect") || strings.Contains(m, "no seed node left") || strings.Contains(m, "connection refused"):
		return ResolveErrorConnection
	}
	return ResolveErrorOther
}

// Denied reports whether Elasticsearch denied the request towards this
// remote: its connected:false then says nothing about the remote.
func (r *Resolved) Denied() bool {
	return ResolveErrorReason(r.Error) == ResolveErrorForbidden
}

// resolveMode is how the cluster's last known version answers
// _resolve/cluster.
func (p *Poller) resolveMode() ResolveMode {
	if !p.versionKnown {
		return ResolveUnsupported
	}
	return ResolveModeFor(p.version)
}

// resolveClusterCheck asks the cluster to contact each remote now, which
// GET /_remote/info does not (its connected may only mean nothing needed
// the link yet). Clusters before 8.13 have no such API: the check does not
// apply to them.
var resolveClusterCheck = &check{
	name:     CheckResolveCluster,
	schedule: everyPoll,
	families: []*Family{famLinkReachable, famLinkResolveError},
	// The mode comes from GET /'s last version, also when the cluster is
	// down (the check is then reported as unavailable).
	applies: func(p *Poller, f *Facts) bool {
		return p.resolveMode() != ResolveUnsupported
	},
	selfTimed: true,
	run: func(ctx context.Context, p *Poller, f *Facts) *CheckError {
		mode := p.resolveMode()
		if mode == ResolvePerRemote {
			switch {
			case !f.linksKnown:
				return notAttempted("GET /_remote/info failed")
			case len(f.Links) == 0:
				return nil // nothing to resolve
			}
		}
		aliases := make([]string, len(f.Links))
		for i, l := range f.Links {
			aliases[i] = l.Alias
		}
		var err *CheckError
		f.Resolved, err = p.client.resolveCluster(ctx, mode, aliases, p.timeout)
		p.logResolveErrors(f.Resolved)
		return err
	},
	renderedFrom: func(p *Poller, f *Facts) any { return refOf(f.Resolved) },
	render: func(p *Poller, f *Facts, out *renderer) {
		for i := range f.Resolved {
			r := &f.Resolved[i]
			reason := ResolveErrorReason(r.Error)
			if reason != "" {
				out.add(famLinkResolveError, 1, p.name, r.Alias, reason)
			}
			if reason != ResolveErrorForbidden || r.Connected {
				out.add(famLinkReachable, boolFloat(r.Connected), p.name, r.Alias)
			}
		}
	},
}

// logResolveErrors logs, once per change, why Elasticsearch could not reach
// a remote, or that it denied the exporter's user the request.
func (p *Poller) logResolveErrors(rs []Resolved) {
	for _, r := range rs {
		why := ""
		if !r.Connected {
			why = cmp.Or(r.Error, "Elasticsearch could not connect to the remote")
		}
		p.logChange("resolve:"+r.Alias, why,
			func() {
				if r.Denied() {
					p.logger.Warn("remote denied the exporter's _resolve/cluster; its reachability is unknown", "remote", r.Alias,
						"err", why, "fix", ResolveDeniedFix)
					return
				}
				p.logger.Warn("remote unreachable", "remote", r.Alias, "err", why, "skip_unavailable", r.SkipUnavailable)
			},
			func() { p.logger.Info("remote reachable again", "remote", r.Alias) })
	}
}

// ResolveDeniedFix says what the exporter's user needs for
// _resolve/cluster towards a remote, in both security models (the README's
// "Privileges" section explains it).
const ResolveDeniedFix = "certificate model: define a role with the same name as one of the exporter user's roles on the remote cluster, " +
	"granting view_index_metadata (or read) on some index pattern; API-key model: give the exporter user's role " +
	"remote_indices for this alias (clusters: [<alias>], names: [\"*\"], privileges: [view_index_metadata]) " +
	"and use a cross-cluster API key whose search access covers it"
