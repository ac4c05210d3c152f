package simulator

import (
	"encoding/base64"
	"net/http"
	"slices"
	"sort"
	"strings"
)

type principal struct {
	user       string // username, or the API key's owner
	apiKeyID   string // set when authenticated with an API key
	roles      []string
	clusterPrv []string
	indexPrv   []string
}

// wwwAuthenticate is the WWW-Authenticate list of a 401
// (DefaultAuthenticationFailureHandler collects one value per realm/service,
// order Basic, Bearer, ApiKey as recorded). Basic value: comma before charset
// from 8.15 (PR #110906), none before (NOTES.md,
// responses/response_headers.json). Bearer is present when the token service
// is enabled, ApiKey when the API key service is. XPackSettings.java: the
// token service defaults to "HTTP TLS enabled" in 7.x and 8.x; the API key
// service defaults to "HTTP TLS enabled" in 7.x and to true in 8.x (verified
// in both source generations; that the switch happened in 8.0 is unverified).
// So 7.17 on plain HTTP sends Basic only (recorded), 7.17 on HTTPS and 8.x on
// HTTPS the full list, 8.x on plain HTTP Basic and ApiKey. A 7.17 plain-HTTP
// cluster given API keys is assumed to have enabled the service explicitly.
func (c *Cluster) wwwAuthenticate(ver esVersion) []string {
	basic := `Basic realm="security" charset="UTF-8"`
	if ver.atLeast(8, 15) {
		basic = `Basic realm="security", charset="UTF-8"`
	}
	out := []string{basic}
	if !c.plain {
		out = append(out, `Bearer realm="security"`)
	}
	if ver.v.Major >= 8 || !c.plain || len(c.apiKeys) > 0 {
		out = append(out, "ApiKey")
	}
	return out
}

func (c *Cluster) unauthorized(ver esVersion, r *http.Request, reason string, meta obj) response {
	values := c.wwwAuthenticate(ver)
	var hv any = values[0] // one value: a string; several: an array
	if len(values) > 1 {
		hv = values
	}
	e := esError{status: 401, typ: "security_exception", reason: reason, meta: meta,
		header: obj{}.set("WWW-Authenticate", hv), securityFilter: true}
	resp := errorResponse(ver, r, e)
	for _, v := range values {
		resp.headers = append(resp.headers, [2]string{"WWW-Authenticate", v})
	}
	return resp
}

// authenticate follows AuthenticationService / AuthenticatorChain for the
// two credential kinds the simulator knows. Reasons (verified in
// DefaultAuthenticationFailureHandler, ApiKeyService, AuthenticatorChain and
// recorded 401 bodies):
//   - no credentials: "missing authentication credentials for REST request [<uri>]"
//   - wrong user/password: "unable to authenticate user [<u>] for REST request [<uri>]"
//   - API key: "unable to authenticate with provided credentials and anonymous
//     access is not allowed for this request" with additional_unsuccessful_credentials
//     "API key: unable to find apikey with id <id>" or
//     "API key: invalid credentials for API key [<id>]".
//
// <uri> is the request URI as received, query string included.
//
// A node without security (security.go) authenticates nothing: no
// SecurityRestFilter (xpack.security.enabled=false), or one that lets every
// request through (7.x, off by license default); credentials, right or
// wrong, are ignored and every action is allowed.
func (c *Cluster) authenticate(ver esVersion, r *http.Request) (*principal, *response) {
	if on, _ := c.answeringSecurity(); !on {
		return superuser, nil
	}
	uri := r.RequestURI
	h := r.Header.Get("Authorization")
	switch {
	case len(h) > 6 && strings.EqualFold(h[:6], "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
		user, pass, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok {
			break // unverified: malformed Basic credentials treated as missing
		}
		u, known := c.users[user]
		if !known || u.Password != pass {
			resp := c.unauthorized(ver, r, "unable to authenticate user ["+user+"] for REST request ["+uri+"]", nil)
			return nil, &resp
		}
		return &principal{user: user, roles: u.Roles, clusterPrv: u.ClusterPrivileges, indexPrv: u.IndexPrivileges}, nil
	case len(h) > 7 && strings.EqualFold(h[:7], "ApiKey "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[7:]))
		id, key, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok {
			break // unverified: malformed ApiKey credentials treated as missing
		}
		const reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
		if resp := c.restKeyCheck(ver, r, id, key, reason); resp != nil {
			return nil, resp // key type and lifecycle (remotecluster.go)
		}
		c.mu.Lock() // CreateRESTAPIKey adds keys at run time
		k, known := c.apiKeys[id]
		c.mu.Unlock()
		if !known {
			resp := c.unauthorized(ver, r, reason, obj{}.set("additional_unsuccessful_credentials",
				"API key: unable to find apikey with id "+id))
			return nil, &resp
		}
		return &principal{user: k.Owner, apiKeyID: id, clusterPrv: k.ClusterPrivileges, indexPrv: k.IndexPrivileges}, nil
	}
	resp := c.unauthorized(ver, r, "missing authentication credentials for REST request ["+uri+"]", nil)
	return nil, &resp
}

// Privileges that grant the actions the simulator serves, in the order
// Elasticsearch lists them in denial messages (ClusterPrivilegeResolver /
// IndexPrivilege.findPrivilegesThatGrant iterate privileges sorted by access
// level). Cluster list verified (responses/error_403_remote_info.json); the
// index lists are unverified (sortByAccessLevel puts the narrower privileges
// first, ties by name).
var (
	clusterMonitorGrants = []string{"monitor", "manage", "all"}
	resolveClusterGrants = []string{"read", "view_index_metadata", "manage", "all"}
	getIndexGrants       = []string{"view_index_metadata", "manage", "all"}
)

// authorize denies like AuthorizationService.denialException /
// AuthorizationDenialMessages.actionDenied:
//
//	action [<a>] is unauthorized for <user text>, this action is granted by the <kind> privileges [<list>]
//
// User text: 7.x and 8.0-8.4 "user [u] with roles [r1,r2]", 8.5+
// "user [u] with effective roles [r1,r2]" (responses/error_403_remote_info.json);
// API keys "API key id [id] of user [owner]" without roles (7.x
// AuthorizationService, 8.x AuthorizationDenialMessages.rolesDescription,
// which prints no roles unless the subject is a USER). Roles are sorted
// (unverified). When the principal has no privilege for the action at all the
// message has no " on indices [..]" context (unverified for index actions).
func authorize(ver esVersion, p *principal, action, kind string, granting, have []string) *esError {
	for _, g := range granting {
		if slices.Contains(have, g) {
			return nil
		}
	}
	var userText string
	if p.apiKeyID != "" {
		userText = "API key id [" + p.apiKeyID + "] of user [" + p.user + "]"
	} else {
		roles := slices.Clone(p.roles)
		sort.Strings(roles)
		label := "with roles"
		if ver.atLeast(8, 5) {
			label = "with effective roles"
		}
		userText = "user [" + p.user + "] " + label + " [" + strings.Join(roles, ",") + "]"
	}
	msg := "action [" + action + "] is unauthorized for " + userText +
		", this action is granted by the " + kind + " privileges [" + strings.Join(granting, ",") + "]"
	e := securityException(403, msg)
	e.securityFilter = true
	return &e
}

// grant is how a transport action is authorized: the action's name, the
// kind of privilege it needs ("cluster" or "index") and the privileges that
// grant it, in denial-message order.
type grant struct {
	action, kind string
	granting     []string
}

// clusterAction is a cluster action granted by monitor, manage or all.
func clusterAction(action string) grant {
	return grant{action: action, kind: "cluster", granting: clusterMonitorGrants}
}

// indexAction is an index action granted by the given index privileges.
func indexAction(action string, granting []string) grant {
	return grant{action: action, kind: "index", granting: granting}
}

// check is authorize against the principal's privileges of g's kind.
func (g grant) check(ver esVersion, p *principal) *esError {
	have := p.clusterPrv
	if g.kind == "index" {
		have = p.indexPrv
	}
	return authorize(ver, p, g.action, g.kind, g.granting, have)
}

// begin is the start every REST handler shares, in Elasticsearch's order:
// authentication (SecurityRestFilter), BaseRestHandler's
// unconsumed-parameter check (params: the handler's own parameters, the
// response parameters are always known), then authorization of the
// transport action g. A non-nil response is the answer to send instead of
// running the action. Handlers with checks of their own between
// authentication and the parameter check call authenticate and admit.
func (c *Cluster) begin(r *http.Request, ver esVersion, params []string, g grant) (*principal, *response) {
	p, deny := c.authenticate(ver, r)
	if deny != nil {
		return nil, deny
	}
	if deny := admit(r, ver, p, params, g); deny != nil {
		return nil, deny
	}
	return p, nil
}

// admit is the part of begin after authentication: the parameter check,
// then authorization of g for p.
func admit(r *http.Request, ver esVersion, p *principal, params []string, g grant) *response {
	e := checkParams(r, params)
	if e == nil {
		e = g.check(ver, p)
	}
	if e == nil {
		return nil
	}
	resp := errorResponse(ver, r, *e)
	return &resp
}

// responseParams are consumed by every REST channel (AbstractRestChannel:
// format, filter_path, pretty, human; RestController: error_trace).
var responseParams = []string{"error_trace", "filter_path", "format", "human", "pretty"}

// checkParams is BaseRestHandler's unconsumed-parameter check (verified in
// BaseRestHandler.java): 400 illegal_argument_exception "request [<path>]
// contains unrecognized parameter(s): [a] -> did you mean [b]?, [c]"; invalid
// names sorted (TreeSet), suggestions with Levenshtein similarity > 0.5 among
// the consumed and response parameters, best first, ties by name.
func checkParams(r *http.Request, handlerParams []string) *esError {
	known := append(slices.Clone(responseParams), handlerParams...)
	var invalid []string
	for k := range r.URL.Query() {
		if !slices.Contains(known, k) {
			invalid = append(invalid, k)
		}
	}
	if len(invalid) == 0 {
		return nil
	}
	sort.Strings(invalid)
	var b strings.Builder
	b.WriteString("request [" + r.URL.Path + "] contains unrecognized parameter")
	if len(invalid) > 1 {
		b.WriteString("s")
	}
	b.WriteString(": ")
	for i, inv := range invalid {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("[" + inv + "]")
		type scored struct {
			d float64
			s string
		}
		var cands []scored
		for _, k := range known {
			if d := levenshtein(inv, k); d > 0.5 {
				cands = append(cands, scored{d, k})
			}
		}
		sort.SliceStable(cands, func(i, j int) bool {
			if cands[i].d != cands[j].d {
				return cands[i].d > cands[j].d
			}
			return cands[i].s < cands[j].s
		})
		switch len(cands) {
		case 0:
		case 1:
			b.WriteString(" -> did you mean [" + cands[0].s + "]?")
		default:
			names := make([]string, len(cands))
			for i, cd := range cands {
				names[i] = cd.s
			}
			b.WriteString(" -> did you mean any of [" + strings.Join(names, ", ") + "]?")
		}
	}
	e := illegalArgument(b.String())
	return &e
}

// levenshtein is Lucene's LevenshteinDistance.getDistance: 1 - d/max(len).
func levenshtein(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	n, m := len(ra), len(rb)
	if n == 0 || m == 0 {
		if n == m {
			return 1
		}
		return 0
	}
	prev := make([]int, n+1)
	cur := make([]int, n+1)
	for i := range prev {
		prev[i] = i
	}
	for j := 1; j <= m; j++ {
		cur[0] = j
		for i := 1; i <= n; i++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[i] = min(cur[i-1]+1, prev[i]+1, prev[i-1]+cost)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[n])/float64(max(n, m))
}
