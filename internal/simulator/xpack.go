package simulator

import (
	"net/http"
	"strings"
	"time"
)

// xpackFeature is one entry of GET /_xpack's features: the name
// (XPackField), the least license that makes it available, and the
// versions that list it.
type xpackFeature struct {
	name       string
	minLicense string // "basic", "gold", "platinum", "enterprise"
	since      [2]int // first major.minor listing it
	until      [2]int // first major.minor no longer listing it; zero = still listed
}

// xpackFeatures are the XPackInfoFeatureAction.ALL entries. Lists verified
// in source: a 7.x XPackInfoFeatureAction with security, monitoring,
// watcher, graph, ml, logstash, eql, sql, rollup, ilm, slm, ccr,
// transform, vectors, voting_only, frozen_indices, spatial, analytics,
// enrich, data_streams, searchable_snapshots, data_tiers, aggregate_metric
// (the simulator's 7.17 list; that 7.12-7.17 added none is unverified) and
// a recent one that drops vectors and adds esql, archive,
// enterprise_search and universal_profiling (8.x/9.x). The minors that
// added those four are unverified (archive 8.3, enterprise_search 8.8,
// esql 8.11, universal_profiling 8.12), as is vectors' removal in 8.0.
//
// Availability with a basic license is verified for the features an
// 8.12.2 basic cluster lists (elasticsearch_ex documentation sample:
// archive, ccr, enterprise_search, graph, logstash, ml unavailable;
// aggregate_metric, analytics, data_streams, data_tiers, enrich, eql,
// esql, frozen_indices, ilm, monitoring available; every feature enabled).
// The minimum licenses themselves (gold for logstash/watcher, platinum for
// ccr/graph/ml/enterprise_search, enterprise for archive/
// searchable_snapshots/universal_profiling) follow the subscription
// matrix and are unverified in source.
var xpackFeatures = []xpackFeature{
	{name: "aggregate_metric", minLicense: "basic", since: [2]int{7, 11}},
	{name: "analytics", minLicense: "basic", since: [2]int{7, 4}},
	{name: "archive", minLicense: "enterprise", since: [2]int{8, 3}},
	{name: "ccr", minLicense: "platinum", since: [2]int{6, 5}},
	{name: "data_streams", minLicense: "basic", since: [2]int{7, 9}},
	{name: "data_tiers", minLicense: "basic", since: [2]int{7, 10}},
	{name: "enrich", minLicense: "basic", since: [2]int{7, 5}},
	{name: "enterprise_search", minLicense: "platinum", since: [2]int{8, 8}},
	{name: "eql", minLicense: "basic", since: [2]int{7, 9}},
	{name: "esql", minLicense: "basic", since: [2]int{8, 11}},
	{name: "frozen_indices", minLicense: "basic", since: [2]int{6, 6}},
	{name: "graph", minLicense: "platinum", since: [2]int{5, 0}},
	{name: "ilm", minLicense: "basic", since: [2]int{6, 6}},
	{name: "logstash", minLicense: "gold", since: [2]int{5, 0}},
	{name: "ml", minLicense: "platinum", since: [2]int{5, 4}},
	{name: "monitoring", minLicense: "basic", since: [2]int{5, 0}},
	{name: "rollup", minLicense: "basic", since: [2]int{6, 3}},
	{name: "searchable_snapshots", minLicense: "enterprise", since: [2]int{7, 10}},
	{name: "security", minLicense: "basic", since: [2]int{5, 0}},
	{name: "slm", minLicense: "basic", since: [2]int{7, 4}},
	{name: "spatial", minLicense: "basic", since: [2]int{7, 4}},
	{name: "sql", minLicense: "basic", since: [2]int{6, 3}},
	{name: "transform", minLicense: "basic", since: [2]int{7, 5}},
	{name: "universal_profiling", minLicense: "enterprise", since: [2]int{8, 12}},
	{name: "vectors", minLicense: "basic", since: [2]int{7, 3}, until: [2]int{8, 0}},
	{name: "voting_only", minLicense: "basic", since: [2]int{7, 3}},
	{name: "watcher", minLicense: "gold", since: [2]int{5, 0}},
}

func (f xpackFeature) listedIn(v esVersion) bool {
	if !v.atLeast(f.since[0], f.since[1]) {
		return false
	}
	return f.until == [2]int{} || !v.atLeast(f.until[0], f.until[1])
}

// available is XPackLicenseState's check for the feature: any license but
// a missing one for security (isSecurityAvailable, verified), the license's
// operation mode at least the feature's minimum otherwise (trial allows
// everything). An expired paid license leaves only the basic features
// (unverified simplification of the expired-license degradation).
func (f xpackFeature) available(l license, now time.Time) bool {
	if f.name == "security" || f.minLicense == "basic" {
		return true
	}
	return l.active(now) && licenseRank(l.typ) >= licenseRank(f.minLicense)
}

// xpackCategories is XPackInfoRequest.Category.toSet over
// request.paramAsStringArray("categories", ["_all"]): "_all" and "_none"
// short-circuit, other names go through Category.valueOf(upper case),
// whose IllegalArgumentException (400) names the enum constant (verified
// in XPackInfoRequest.java and RestXPackInfoAction.java).
func xpackCategories(r *http.Request) (map[string]bool, *esError) {
	all := map[string]bool{"build": true, "license": true, "features": true}
	q := r.URL.Query()
	if !q.Has("categories") {
		return all, nil
	}
	raw := q.Get("categories")
	set := map[string]bool{}
	if raw == "" {
		return set, nil // Strings.splitStringByCommaToArray("") is empty
	}
	for _, c := range strings.Split(raw, ",") {
		switch c {
		case "_all":
			return all, nil
		case "_none":
			return map[string]bool{}, nil
		}
		up := strings.ToUpper(c)
		if up != "BUILD" && up != "LICENSE" && up != "FEATURES" {
			e := illegalArgument("No enum constant org.elasticsearch.protocol.xpack.XPackInfoRequest.Category." + up)
			return nil, &e
		}
		set[strings.ToLower(up)] = true
	}
	return set, nil
}

// xpackInfoAction is GET|HEAD /_xpack (RestXPackInfoAction,
// TransportXPackInfoAction, action cluster:monitor/xpack/info, granted by
// the cluster privilege monitor). Body (XPackInfoResponse.toXContent,
// verified): build {hash, date}, license {uid, type, mode, status,
// expiry_date_in_millis} (expiry omitted for the never-expiring basic
// license; with ?human the readable expiry_date first, XContentBuilder
// #timeField), features {<name> {available, enabled}} sorted by name
// (FeatureSetsInfo.toXContent), and tagline "You know, for X" unless
// human=false (the parameter defaults to true here). Each block only when
// its category is requested.
//
// Parameters (prepareRequest, in this order): human, then accept_enterprise
// — 7.x: opt-in to see an enterprise license as such (otherwise it reads
// platinum, LicenseInfo.toXContent's V_7 branch); 8.x/9.x: deprecated, a
// Warning header when present and 400 "The [accept_enterprise] parameters
// may not be false" when false — then categories. build.hash / build.date
// are the build's hash and date as GET / prints them (an 8.12.2 sample
// shows the full hash; 7.17 unverified).
func (c *Cluster) xpackInfoAction(r *http.Request, ver esVersion) response {
	p, deny := c.authenticate(ver, r)
	if deny != nil {
		return *deny
	}
	q := r.URL.Query()
	// "we piggyback verbosity on human output": human defaults to true
	// for the tagline, while the channel's human-readable flag (readable
	// dates) defaults to false (AbstractRestChannel).
	verbose, readable := true, false
	if q.Has("human") {
		var e *esError
		if verbose, e = parseRestBool(q.Get("human")); e != nil {
			return errorResponse(ver, r, *e)
		}
		readable = verbose
	}
	acceptEnterprise := false
	var warnings []string
	if q.Has("accept_enterprise") {
		b, e := parseRestBool(q.Get("accept_enterprise"))
		if ver.v.Major >= 8 {
			warnings = append(warnings, warningValue(ver, "Including [accept_enterprise] in get license requests is deprecated."+
				" The parameter will be removed in the next major version"))
			if e == nil && !b {
				ae := illegalArgument("The [accept_enterprise] parameters may not be false")
				e = &ae
			}
		}
		if e != nil {
			return withWarnings(errorResponse(ver, r, *e), warnings)
		}
		acceptEnterprise = b
	}
	cats, e := xpackCategories(r)
	if e != nil {
		return withWarnings(errorResponse(ver, r, *e), warnings)
	}
	if deny := admit(r, ver, p, []string{"categories", "accept_enterprise"}, clusterAction("cluster:monitor/xpack/info")); deny != nil {
		return withWarnings(*deny, warnings)
	}

	now := time.Now()
	c.mu.Lock()
	lic := c.lic
	securityOn := c.nodes[0].securityOn(lic)
	c.mu.Unlock()

	body := obj{}
	if cats["build"] {
		body = body.set("build", obj{}.set("hash", buildHash(ver)).set("date", buildDate(ver)))
	}
	if cats["license"] {
		typ, mode := lic.typ, lic.typ // License.OperationMode#description is the lower-case mode
		if ver.v.Major == 7 && !acceptEnterprise && typ == "enterprise" {
			typ, mode = "platinum", "platinum"
		}
		status := "active"
		if !lic.active(now) {
			status = "expired"
		}
		lo := obj{}.set("uid", lic.uid).set("type", typ).set("mode", mode).set("status", status)
		if !lic.expiry.IsZero() {
			if readable {
				lo = lo.set("expiry_date", lic.expiry.UTC().Format("2006-01-02T15:04:05.000Z"))
			}
			lo = lo.set("expiry_date_in_millis", lic.expiry.UnixMilli())
		}
		body = body.set("license", lo)
	}
	if cats["features"] {
		fo := obj{}
		for _, f := range xpackFeatures {
			if !f.listedIn(ver) {
				continue
			}
			enabled := true
			if f.name == "security" {
				// 8.x: licenseState.isSecurityEnabled(); 7.x: the setting
				// and not disabled by license defaults (both verified).
				enabled = securityOn
			}
			fo = fo.set(f.name, obj{}.set("available", f.available(lic, now)).set("enabled", enabled))
		}
		body = body.set("features", fo)
	}
	if verbose {
		body = body.set("tagline", "You know, for X")
	}
	return withWarnings(jsonResponse(ver, r, http.StatusOK, body), warnings)
}

func withWarnings(resp response, warnings []string) response {
	for _, w := range warnings {
		resp.headers = append(resp.headers, [2]string{"Warning", w})
	}
	return resp
}
