package simulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// indexOptionParams are the IndicesOptions request parameters
// (RestResolveClusterAction.INDEX_OPTIONS_PARAMS).
var indexOptionParams = []string{"allow_no_indices", "expand_wildcards", "ignore_throttled", "ignore_unavailable"}

// Message of a remote that did not answer within ?timeout=
// (TransportResolveClusterAction.REMOTE_CONNECTION_TIMEOUT_ERROR, verified).
const remoteTimeoutError = "Request timed out before receiving a response from the remote cluster"

// reconnectMode is how _resolve/cluster treats a disconnected remote, i.e.
// the RemoteClusterService.DisconnectedStrategy TransportResolveClusterAction
// uses:
//   - 8.13: no strategy enum yet; RemoteClusterService#getRemoteClusterClient
//     reconnects (and waits) only when skip_unavailable is false, otherwise
//     fails fast and reconnects in the background (PR #80589 / #106334).
//   - 8.14 .. 8.16.2, 8.17.0: RECONNECT_IF_DISCONNECTED (PR #106334).
//   - 8.16.3+, 8.17.1+: FAIL_IF_DISCONNECTED, PR #119516 "do not let
//     _resolve/cluster hang if remote is unresponsive", backports #119526
//     (8.16) and #119527 (8.17), merged 2025-01-03.
//   - 8.16.6+: RECONNECT_IF_DISCONNECTED again, PR #124241 "Revert fail-fast
//     disconnect strategy for _resolve/cluster" (the change "targeted more
//     broader versions than the timeout parameter PR"), backported to 8.16
//     by #124368, merged 2025-03-07. No 8.17 backport was found, so 8.17.1+
//     keeps failing fast here.
//   - 8.18+ / 9.x: RECONNECT_IF_DISCONNECTED again, PR #120542 (adds ?timeout,
//     "reverses the problematic disconnect strategy"); current source
//     TransportResolveClusterAction.java.
//
// The patch numbers (8.16.3, 8.16.6, 8.17.1) are the first releases after
// the merges, not verified against release notes (package documentation).
//
// Failing fast still triggers a reconnection in the background
// (RemoteClusterAwareClient, PR #80589), so the next request finds the link
// connected (unverified for FAIL_IF_DISCONNECTED).
type reconnectMode int

const (
	reconnectAndWait reconnectMode = iota
	failFastReconnectInBackground
)

func resolveReconnectMode(v esVersion, skipUnavailable bool) reconnectMode {
	if v.v.Major != 8 || v.v.Minor >= 18 {
		return reconnectAndWait
	}
	switch v.v.Minor {
	case 13:
		if skipUnavailable {
			return failFastReconnectInBackground
		}
	case 16:
		if v.v.Patch >= 3 && v.v.Patch < 6 {
			return failFastReconnectInBackground
		}
	case 17:
		if v.v.Patch >= 1 {
			return failFastReconnectInBackground
		}
	}
	return reconnectAndWait
}

// resolveClusterAction is GET /_resolve/cluster[/<expr>]
// (RestResolveClusterAction, TransportResolveClusterAction,
// ResolveClusterActionResponse.toXContent). Entry fields: connected,
// skip_unavailable, error?, matching_indices?, version{number, build_flavor,
// minimum_wire_compatibility_version, minimum_index_compatibility_version}?
// (verified in ResolveClusterActionResponse.java).
func (c *Cluster) resolveClusterAction(r *http.Request, ver esVersion, expr *string) response {
	p, deny := c.authenticate(ver, r)
	if deny != nil {
		return *deny
	}
	q := r.URL.Query()
	if expr == nil {
		var got []string
		for _, k := range indexOptionParams {
			if q.Has(k) {
				got = append(got, k)
			}
		}
		if len(got) > 0 {
			// RestResolveClusterAction.prepareRequest (8.18+, verified text;
			// the order of the received set is unverified).
			return errorResponse(ver, r, illegalArgument(
				"No index options are allowed on _resolve/cluster when no index expression is specified, but received: ["+
					strings.Join(got, ", ")+"]"))
		}
	}
	timeout := time.Duration(-1)
	if ver.atLeast(8, 18) && q.Has("timeout") {
		d, err := parseTimeValue(q.Get("timeout"), "timeout")
		if err != nil {
			// TimeValue#parseTimeValue throws IllegalArgumentException
			// (libs/core cannot use ElasticsearchParseException).
			return errorResponse(ver, r, *err)
		}
		timeout = d
	}
	known := slices.Clone(indexOptionParams)
	if ver.atLeast(8, 18) {
		known = append(known, "timeout")
	}
	if deny := admit(r, ver, p, known, indexAction("indices:admin/resolve/cluster", resolveClusterGrants)); deny != nil {
		return *deny
	}
	ignoreUnavailable := q.Get("ignore_unavailable") == "true"

	local, links, _ := c.localSnapshot()
	c.mu.Lock()
	isClient := hasRole(c.nodes[0].roles, "remote_cluster_client")
	// Only the links the answering (first) node has (static links live on
	// some nodes only, clustersettings.go).
	first := c.nodes[0].name
	links = slices.DeleteFunc(links, func(l *link) bool { return !l.onNode(first) })
	c.mu.Unlock()
	if !isClient {
		// A node without remote_cluster_client registers no remote
		// connections, so no alias resolves (unverified: modelled as "no
		// remotes configured" rather than the 400 of _remote/info).
		links = nil
	}
	clusterInfoOnly := expr == nil
	var localPatterns []string
	remotePatterns := map[string][]string{}
	if clusterInfoOnly {
		// The querying cluster sends "*:dummy*" to find its remotes
		// (DUMMY_INDEX_FOR_OLDER_CLUSTERS); no remotes -> {}.
		for _, l := range links {
			remotePatterns[l.spec.Alias] = []string{"dummy*"}
		}
	} else {
		for _, tok := range strings.Split(*expr, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			aliasExpr, index, remote := strings.Cut(tok, ":")
			if !remote || strings.HasPrefix(tok, "<") {
				localPatterns = append(localPatterns, tok)
				continue
			}
			matched := false
			for _, l := range links {
				if simpleMatch(aliasExpr, l.spec.Alias) {
					remotePatterns[l.spec.Alias] = append(remotePatterns[l.spec.Alias], index)
					matched = true
				}
			}
			if !matched && !strings.Contains(aliasExpr, "*") {
				// ClusterNameExpressionResolver / RemoteClusterAware.groupClusterIndices
				// (unverified for resolve/cluster).
				return errorResponse(ver, r, esError{status: 404, typ: "no_such_remote_cluster_exception",
					reason: "no such remote cluster: [" + aliasExpr + "]"})
			}
		}
	}

	var deadline <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	c.mu.Lock()
	localDown := c.downCh
	c.mu.Unlock()

	out := obj{}
	for _, l := range hashOrder(links, func(l *link) string { return l.spec.Alias }) {
		patterns, ok := remotePatterns[l.spec.Alias]
		if !ok {
			continue
		}
		entry, aborted := c.resolveRemote(r, p, local, l, patterns, clusterInfoOnly, ignoreUnavailable, deadline, localDown)
		if aborted {
			return response{} // client gone or cluster stopping: nothing to send
		}
		out = out.set(l.spec.Alias, entry)
	}
	if len(localPatterns) > 0 {
		// "(local)" = SearchResponse.LOCAL_CLUSTER_NAME_REPRESENTATION; always
		// connected, skip_unavailable false, build of this node.
		entry := obj{}.set("connected", true).set("skip_unavailable", false)
		if m, missing := matchIndices(c.indexNames(), localPatterns, ignoreUnavailable); missing != "" {
			entry = entry.set("error", "no such index ["+missing+"]")
		} else {
			entry = entry.set("matching_indices", m).set("version", buildObj(local))
		}
		out = out.set("(local)", entry)
	}
	return jsonResponse(ver, r, http.StatusOK, out)
}

func buildObj(v esVersion) obj {
	return obj{}.set("number", v.str).
		set("build_flavor", "default").
		set("minimum_wire_compatibility_version", v.minWire().String()).
		set("minimum_index_compatibility_version", v.minIndex())
}

// resolveRemote evaluates one remote alias. It blocks while the remote hangs
// (until the hang ends, the remote stops, the ?timeout deadline, or the
// client goes away; aborted reports the last case or a local shutdown).
func (c *Cluster) resolveRemote(r *http.Request, p *principal, local esVersion, l *link, patterns []string,
	clusterInfoOnly, ignoreUnavailable bool, deadline <-chan time.Time, localDown chan struct{}) (obj, bool) {
	skip := skipUnavailable(local, l.spec)
	disconnected := obj{}.set("connected", false).set("skip_unavailable", skip)
	mode := resolveReconnectMode(local, skip)
	if l.spec.APIKeyAuth {
		// The API-key model's local check comes before any connection
		// (remoteauth.go): a denial says nothing about the remote.
		if why := remoteDenial(c, nil, local, p, l); why != "" {
			return disconnected.set("error", why), false
		}
	}
	for {
		tgt := c.sim.Cluster(l.spec.Remote)
		v := tgt.view()
		c.mu.Lock()
		established := l.established
		c.mu.Unlock()
		// An established link reuses its connections; a new connection
		// also needs transport TLS trust.
		var canConnect func(nodeView) bool
		if !established {
			canConnect = c.trustFilter(l.spec, v)
		}
		n, node := capacity(local, c.localMode(), l.spec, v, canConnect)
		hung := v.exists && v.running && v.hang
		if !established && mode == failFastReconnectInBackground {
			if n > 0 {
				c.setEstablished(l, true)
			}
			return disconnected, false
		}
		if hung {
			// The request (or the connection attempt) gets no answer.
			entry, aborted, again := c.waitHungRemote(r, l, v, disconnected, deadline, localDown)
			if again {
				continue
			}
			return entry, aborted
		}
		if n == 0 {
			// Connect failure / NoSuchRemoteClusterException path:
			// isRemoteUnavailableException -> connected false, no error;
			// a security exception of the remote's handshake has its
			// message as error (remotecluster.go) only when this request
			// dialled: a link that was established fails first on its
			// lost connection (unverified, listed in sim.go).
			c.setEstablished(l, false)
			if why := c.linkSecurityFailure(l.spec, v); why != "" && !established {
				return disconnected.set("error", why), false
			}
			return disconnected, false
		}
		c.setEstablished(l, true)
		indices := v.indices
		if !l.spec.APIKeyAuth {
			// The remote authorizes the user's role names once connected
			// (remoteauth.go); its denial still reads connected:false.
			if why := remoteDenial(c, tgt, local, p, l); why != "" {
				return disconnected.set("error", why), false
			}
		} else {
			// The key authenticates each request; the key's access and the
			// user's remote_indices decide what it sees (remotecluster.go).
			visible, why := c.apiKeyRequest(tgt, p, l.spec, v.indices, patterns, clusterInfoOnly)
			if why != "" {
				return disconnected.set("error", why), false
			}
			indices = visible
		}
		return remoteEntry(node, indices, patterns, skip, clusterInfoOnly, ignoreUnavailable), false
	}
}

// waitHungRemote holds a request while the remote of l hangs (v.hang):
// again when the hang ends (evaluate the remote anew), otherwise the
// entry to report or aborted (client gone, local stop, Sim closed). The
// request counts as held meanwhile (heldRequests).
func (c *Cluster) waitHungRemote(r *http.Request, l *link, v remoteView, disconnected obj,
	deadline <-chan time.Time, localDown chan struct{}) (entry obj, aborted, again bool) {
	c.held.Add(1)
	defer c.held.Add(-1)
	select {
	case <-v.hangCh:
		return nil, false, true
	case <-v.downCh:
		c.setEstablished(l, false)
		return disconnected, false, false
	case <-deadline:
		return disconnected.set("error", remoteTimeoutError), false, false
	case <-r.Context().Done():
	case <-localDown:
	case <-c.sim.closeCh:
	}
	return nil, true, false
}

func (c *Cluster) setEstablished(l *link, b bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b && !c.running {
		return
	}
	l.established = b
}

// remoteEntry is the answer of a connected remote. Remotes >= 8.13 answer
// _resolve/cluster themselves (version block present); older ones make the
// querying cluster fall back to _resolve/index (matching_indices only, no
// version). In the no-index form matching_indices and error are dropped
// (ResolveClusterInfo copy constructor with clusterInfoOnly).
func remoteEntry(node nodeView, indices, patterns []string, skip, clusterInfoOnly, ignoreUnavailable bool) obj {
	e := obj{}.set("connected", true).set("skip_unavailable", skip)
	m, missing := matchIndices(indices, patterns, ignoreUnavailable)
	if node.ver.atLeast(8, 13) {
		switch {
		case clusterInfoOnly:
			return e.set("version", buildObj(node.ver))
		case missing != "":
			// The remote's IndexNotFoundException: connected, error, no build.
			return e.set("error", "no such index ["+missing+"]")
		}
		return e.set("matching_indices", m).set("version", buildObj(node.ver))
	}
	if clusterInfoOnly {
		return e
	}
	if missing != "" {
		// _resolve/index fallback failed: ResolveClusterInfo(false, skip,
		// cause.toString()); ElasticsearchException.toString prints
		// "[index/_na_] " + detailedMessage (unverified rendering).
		return obj{}.set("connected", false).set("skip_unavailable", skip).
			set("error", "["+missing+"/_na_] IndexNotFoundException[no such index ["+missing+"]]")
	}
	return e.set("matching_indices", m)
}

// matchIndices resolves index expressions against a cluster's indices with
// the resolve APIs' default options (strict expand open: a missing concrete
// name is an IndexNotFoundException unless ignore_unavailable; wildcards
// match open, non-hidden indices). Exclusions ("-x") are ignored
// (unverified simplification). It returns whether anything matched, or the
// first missing concrete name.
func matchIndices(indices, patterns []string, ignoreUnavailable bool) (bool, string) {
	matched := false
	for _, p := range patterns {
		if p == "" || strings.HasPrefix(p, "-") {
			continue
		}
		if p == "_all" || strings.Contains(p, "*") {
			pat := p
			if p == "_all" {
				pat = "*"
			}
			for _, idx := range indices {
				if simpleMatch(pat, idx) && (!strings.HasPrefix(idx, ".") || strings.HasPrefix(pat, ".")) {
					matched = true
				}
			}
			continue
		}
		if slices.Contains(indices, p) {
			matched = true
		} else if !ignoreUnavailable {
			return false, p
		}
	}
	return matched, ""
}
