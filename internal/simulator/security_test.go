package simulator

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/tlsprobe"
)

var uuidFormat = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func featureNames(t *testing.T, body *jnode) []string {
	t.Helper()
	return body.mustGet(t, "features").keyList()
}

func TestXPackInfoPerVersion(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	docs := loadTestdata(t, "xpack_info_trial_docs_shape.json")
	for _, tc := range []struct {
		version                      string
		vectors, archive, esql, prof bool
	}{
		{"7.17.22", true, false, false, false},
		{"8.13.4", false, true, true, true},
		{"8.19.2", false, true, true, true},
		{"9.1.5", false, true, true, true},
	} {
		c := addCluster(t, s, ClusterSpec{Name: "x" + tc.version, Version: tc.version})
		res := get(t, cl, c.URL()+"/_xpack")
		wantStatus(t, res, 200)
		if ct := res.header.Get("Content-Type"); ct != contentType(c.answeringVersion()) {
			t.Errorf("%s: content type %q", tc.version, ct)
		}
		got := parseOrdered(t, res.body)
		if k := got.keyList(); !slices.Equal(k, []string{"build", "license", "features", "tagline"}) {
			t.Errorf("%s: top-level keys %v", tc.version, k)
		}
		sameShape(t, tc.version+" build", got.mustGet(t, "build"), docs.mustGet(t, "build"))
		root := parseOrdered(t, get(t, cl, c.URL()+"/").body)
		wantString(t, got, root.mustGet(t, "version", "build_hash").str, "build", "hash")
		wantString(t, got, root.mustGet(t, "version", "build_date").str, "build", "date")
		wantString(t, got, "You know, for X", "tagline")

		// A self-generated basic license never expires: no expiry field.
		lic := got.mustGet(t, "license")
		if k := lic.keyList(); !slices.Equal(k, []string{"uid", "type", "mode", "status"}) {
			t.Errorf("%s: basic license keys %v", tc.version, k)
		}
		wantString(t, lic, "basic", "type")
		wantString(t, lic, "basic", "mode")
		wantString(t, lic, "active", "status")
		if !uuidFormat.MatchString(lic.mustGet(t, "uid").str) {
			t.Errorf("%s: uid %q", tc.version, lic.mustGet(t, "uid").str)
		}

		names := featureNames(t, got)
		if !slices.IsSorted(names) {
			t.Errorf("%s: features not sorted: %v", tc.version, names)
		}
		for name, want := range map[string]bool{"security": true, "ccr": true, "ml": true, "monitoring": true,
			"vectors": tc.vectors, "archive": tc.archive, "esql": tc.esql, "universal_profiling": tc.prof} {
			if slices.Contains(names, name) != want {
				t.Errorf("%s: feature %s listed=%v, want %v (%v)", tc.version, name, !want, want, names)
			}
		}
		for i, name := range names {
			sameShape(t, tc.version+" feature "+name, got.mustGet(t, "features").vals[i], docs.mustGet(t, "features", "ccr"))
			wantBool(t, got, true, "features", name, "enabled")
		}
		// Basic license: security available and on, CCR/ML not available.
		wantBool(t, got, true, "features", "security", "available")
		wantBool(t, got, false, "features", "ccr", "available")
		wantBool(t, got, false, "features", "ml", "available")
		wantBool(t, got, false, "features", "watcher", "available")
		wantBool(t, got, true, "features", "monitoring", "available")
		wantBool(t, got, true, "features", "ilm", "available")
	}
}

func TestXPackInfoLicensesAndParameters(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	docs := loadTestdata(t, "xpack_info_trial_docs_shape.json")
	trial := addCluster(t, s, ClusterSpec{Name: "trial", Version: "8.19.2", License: "trial"})
	got := parseOrdered(t, get(t, cl, trial.URL()+"/_xpack").body)
	sameShape(t, "trial license", got.mustGet(t, "license"), docs.mustGet(t, "license"))
	exp := time.UnixMilli(int64(got.mustGet(t, "license", "expiry_date_in_millis").num))
	if d := time.Until(exp); d < 29*24*time.Hour || d > 30*24*time.Hour {
		t.Errorf("trial expires in %v", d)
	}
	for _, f := range featureNames(t, got) {
		wantBool(t, got, true, "features", f, "available")
	}

	// ?human: the readable date comes first; human=false drops the tagline.
	h := parseOrdered(t, get(t, cl, trial.URL()+"/_xpack?human").body)
	if k := h.mustGet(t, "license").keyList(); !slices.Equal(k, []string{"uid", "type", "mode", "status", "expiry_date", "expiry_date_in_millis"}) {
		t.Errorf("human license keys %v", k)
	}
	if d := h.mustGet(t, "license", "expiry_date").str; d != exp.UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("expiry_date %q", d)
	}
	if k := parseOrdered(t, get(t, cl, trial.URL()+"/_xpack?human=false").body).keyList(); slices.Contains(k, "tagline") {
		t.Errorf("human=false keeps the tagline: %v", k)
	}

	for q, want := range map[string][]string{
		"categories=features":               {"features", "tagline"},
		"categories=license,features":       {"license", "features", "tagline"},
		"categories=License":                {"license", "tagline"},
		"categories=build&human=false":      {"build"},
		"categories=_none":                  {"tagline"},
		"categories=":                       {"tagline"},
		"categories=build,_all":             {"build", "license", "features", "tagline"},
		"categories=features&filter_path=x": nil, // response params accepted (filter_path itself not simulated)
	} {
		res := get(t, cl, trial.URL()+"/_xpack?"+q)
		wantStatus(t, res, 200)
		if want != nil {
			if k := parseOrdered(t, res.body).keyList(); !slices.Equal(k, want) {
				t.Errorf("?%s: keys %v, want %v", q, k, want)
			}
		}
	}
	res := get(t, cl, trial.URL()+"/_xpack?categories=license,foo")
	wantStatus(t, res, 400)
	wantString(t, parseOrdered(t, res.body), "No enum constant org.elasticsearch.protocol.xpack.XPackInfoRequest.Category.FOO",
		"error", "reason")
	res = get(t, cl, trial.URL()+"/_xpack?human=yes")
	wantStatus(t, res, 400)
	wantString(t, parseOrdered(t, res.body), "Failed to parse value [yes] as only [true] or [false] are allowed.", "error", "reason")
	res = get(t, cl, trial.URL()+"/_xpack?categorie=license")
	wantStatus(t, res, 400)
	if !strings.Contains(string(res.body), "did you mean [categories]?") {
		t.Errorf("unknown parameter: %s", res.body)
	}

	// 8.x: accept_enterprise is deprecated and may not be false.
	res = get(t, cl, trial.URL()+"/_xpack?accept_enterprise=false")
	wantStatus(t, res, 400)
	wantString(t, parseOrdered(t, res.body), "The [accept_enterprise] parameters may not be false", "error", "reason")
	res = get(t, cl, trial.URL()+"/_xpack?accept_enterprise=true")
	wantStatus(t, res, 200)
	if w := res.header.Get("Warning"); !strings.HasPrefix(w, "299 Elasticsearch-8.19.2-") ||
		!strings.Contains(w, "Including [accept_enterprise] in get license requests is deprecated.") {
		t.Errorf("accept_enterprise warning %q", w)
	}

	// 7.17 reads an enterprise license as platinum unless accept_enterprise.
	ent := addCluster(t, s, ClusterSpec{Name: "ent7", Version: "7.17.22", License: "enterprise"})
	lic := parseOrdered(t, get(t, cl, ent.URL()+"/_xpack").body).mustGet(t, "license")
	wantString(t, lic, "platinum", "type")
	wantString(t, lic, "platinum", "mode")
	res = get(t, cl, ent.URL()+"/_xpack?accept_enterprise=true")
	wantString(t, parseOrdered(t, res.body), "enterprise", "license", "type")
	if res.header.Get("Warning") != "" {
		t.Errorf("7.17 warned about accept_enterprise: %q", res.header.Get("Warning"))
	}

	// Platinum: CCR available; expired: status expired, CCR unavailable.
	plat := addCluster(t, s, ClusterSpec{Name: "plat", Version: "9.1.5", License: "platinum"})
	got = parseOrdered(t, get(t, cl, plat.URL()+"/_xpack").body)
	wantBool(t, got, true, "features", "ccr", "available")
	wantBool(t, got, false, "features", "searchable_snapshots", "available")
	uid := got.mustGet(t, "license", "uid").str
	if err := plat.SetLicense("platinum", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	got = parseOrdered(t, get(t, cl, plat.URL()+"/_xpack").body)
	wantString(t, got, "expired", "license", "status")
	wantBool(t, got, false, "features", "ccr", "available")
	wantBool(t, got, true, "features", "security", "available")
	if got.mustGet(t, "license", "uid").str == uid {
		t.Error("a new license kept the old uid")
	}
	wantErrContains(t, plat.SetLicense("diamond", time.Time{}),
		`license type "diamond": want one of basic, gold, platinum, enterprise, trial`, "SetLicense(diamond)")
	_, err := s.AddCluster(ClusterSpec{Name: "bad", Version: "8.19.2", License: "free"})
	wantErrContains(t, err, `license type "free": want one of`, "AddCluster with license free")

	// Method, HEAD, authentication and authorization.
	head := do(t, cl, http.MethodHead, trial.URL()+"/_xpack")
	wantStatus(t, head, 200)
	if len(head.body) != 0 {
		t.Errorf("HEAD body %q", head.body)
	}
	res = do(t, cl, http.MethodPost, trial.URL()+"/_xpack")
	wantStatus(t, res, 405)
	if a := res.header.Get("Allow"); a != "GET,HEAD" {
		t.Errorf("Allow %q", a)
	}
	wantStatus(t, get(t, cl, trial.URL()+"/_xpack", noAuth()), 401)
	res = get(t, cl, trial.URL()+"/_xpack", basic("nopriv", "nopriv"))
	wantStatus(t, res, 403)
	if !strings.Contains(string(res.body), "action [cluster:monitor/xpack/info] is unauthorized for user [nopriv]") {
		t.Errorf("403 body %s", res.body)
	}
}

// nodeByName returns a node of a nodes-info body.
func nodeByName(t *testing.T, body *jnode, name string) *jnode {
	t.Helper()
	nodes := body.mustGet(t, "nodes")
	for _, n := range nodes.vals {
		if n.mustGet(t, "name").str == name {
			return n
		}
	}
	t.Fatalf("no node %s in %s", name, nodes.shape())
	return nil
}

// flatStrings collects a flat settings object as key -> value ("[a b]" for
// lists) and checks every value is a string or an array of strings.
func flatStrings(t *testing.T, settings *jnode) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, k := range settings.keys {
		v := settings.vals[i]
		switch v.kind {
		case "string":
			out[k] = v.str
		case "array":
			var parts []string
			for _, e := range v.vals {
				if e.kind != "string" {
					t.Errorf("%s has a non-string element %s", k, e.kind)
				}
				parts = append(parts, e.str)
			}
			out[k] = "[" + strings.Join(parts, " ") + "]"
		default:
			t.Errorf("setting %s is a %s", k, v.kind)
		}
	}
	return out
}

func TestNodesSettingsPerVersion(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	sample := loadTestdata(t, "nodes_settings_7.x_shape.json")
	for _, version := range []string{"7.17.22", "8.19.2", "9.1.5"} {
		name := "ns" + strings.ReplaceAll(version, ".", "")
		c := addCluster(t, s, ClusterSpec{Name: name, Version: version, Transport: TransportSpec{VerificationMode: "certificate"},
			Nodes: []NodeSpec{{Name: "es01"}, {Name: "es02", Roles: []string{"master", "data"}}}})
		for _, path := range []string{"/_nodes/settings", "/_nodes/_all/settings", "/_nodes", "/_nodes/es01,es02/settings"} {
			body := parseOrdered(t, get(t, cl, c.URL()+path).body)
			n := nodeByName(t, body, "es01")
			keys := n.keyList()
			if i := slices.Index(keys, "settings"); i < 0 || keys[i-1] != "attributes" {
				t.Fatalf("%s %s: settings must follow attributes: %v", version, path, keys)
			}
		}
		body := parseOrdered(t, get(t, cl, c.URL()+"/_nodes/settings").body)
		set := nodeByName(t, body, "es01").mustGet(t, "settings")
		wantString(t, set, name, "cluster", "name")
		wantString(t, set, "es01", "node", "name")
		wantString(t, set, "/usr/share/elasticsearch", "path", "home")
		wantString(t, set, "true", "xpack", "security", "enabled")
		wantString(t, set, "true", "node", "attr", "xpack", "installed")
		// Dotted key where a prefix is also a value (getAsStructuredMap).
		wantString(t, set, "security4", "http", "type")
		wantString(t, set, "netty4", "http", "type.default")
		wantString(t, set, "netty4", "transport", "type.default")
		// The settings filter leaves only ssl.enabled of x-pack's SSL settings.
		for _, layer := range []string{"transport", "http"} {
			ssl := set.mustGet(t, "xpack", "security", layer, "ssl")
			if k := ssl.keyList(); !slices.Equal(k, []string{"enabled"}) {
				t.Errorf("%s: xpack.security.%s.ssl shows %v", version, layer, k)
			}
			wantString(t, ssl, "true", "enabled")
		}
		if set.get("node", "roles") != nil {
			t.Errorf("%s: es01 has node.roles without configuring it", version)
		}
		// Every top-level group is one the recorded 7.x settings have.
		for _, k := range set.keyList() {
			if sample.get(k) == nil {
				t.Errorf("%s: settings group %q not in the recorded sample", version, k)
			}
		}
		sameShape(t, version+" xpack settings", set.mustGet(t, "xpack"), sample.mustGet(t, "xpack"))
		if version == "7.17.22" {
			if k := set.mustGet(t, "http").keyList(); !slices.Equal(k, []string{"type", "type.default"}) {
				t.Errorf("7.x http settings %v", k) // the sample adds compression before them
			}
			wantString(t, set, "true", "transport", "features", "x-pack")
			wantString(t, set, "node", "client", "type")
		} else if set.get("client") != nil {
			t.Errorf("%s: client.type is 7.x only", version)
		}

		// flat_settings: sorted keys, strings, lists as arrays.
		flatBody := parseOrdered(t, get(t, cl, c.URL()+"/_nodes/_all/settings?flat_settings=true").body)
		flat := nodeByName(t, flatBody, "es02").mustGet(t, "settings")
		if !slices.IsSorted(flat.keyList()) {
			t.Errorf("%s: flat keys not sorted: %v", version, flat.keyList())
		}
		fs := flatStrings(t, flat)
		for k, want := range map[string]string{
			"cluster.name": name, "node.name": "es02", "node.roles": "[data master]",
			"xpack.security.enabled": "true", "xpack.security.transport.ssl.enabled": "true",
			"xpack.security.http.ssl.enabled": "true", "path.logs": "/usr/share/elasticsearch/logs",
		} {
			if fs[k] != want {
				t.Errorf("%s: flat %s = %q, want %q", version, k, fs[k], want)
			}
		}
		for k := range fs {
			if filteredSetting(k) {
				t.Errorf("%s: filtered setting %s is visible", version, k)
			}
		}
		if f := flatStrings(t, nodeByName(t, parseOrdered(t, get(t, cl, c.URL()+"/_nodes/settings?flat_settings").body), "es01").mustGet(t, "settings")); f["node.name"] != "es01" {
			t.Errorf("%s: ?flat_settings (empty = true) not flat", version)
		}

		// The node's own view includes the filtered SSL settings.
		all, err := c.NodeSettings("es02")
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]any{
			"xpack.security.transport.ssl.certificate":             "certs/es02/es02.crt",
			"xpack.security.transport.ssl.key":                     "certs/es02/es02.key",
			"xpack.security.transport.ssl.certificate_authorities": []string{"certs/ca/ca.crt"},
			"xpack.security.transport.ssl.verification_mode":       "certificate",
			"xpack.security.http.ssl.keystore.path":                "certs/http.p12",
		} {
			if g := all[k]; !equalSetting(g, want) {
				t.Errorf("%s: NodeSettings %s = %v, want %v", version, k, g, want)
			}
		}

		// No settings without the metric; a bad flag is a 400 when rendered.
		if n := nodeByName(t, parseOrdered(t, get(t, cl, c.URL()+"/_nodes/_all/_none?flat_settings=x").body), "es01"); n.get("settings") != nil {
			t.Errorf("%s: _none metric has settings", version)
		}
		res := get(t, cl, c.URL()+"/_nodes/settings?flat_settings=yes")
		wantStatus(t, res, 400)
		wantString(t, parseOrdered(t, res.body), "illegal_argument_exception", "error", "type")
	}
	if _, err := s.Cluster("ns8192").NodeSettings("nope"); err == nil {
		t.Error("NodeSettings of an unknown node")
	}
}

func equalSetting(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case []string:
		g, ok := got.([]string)
		return ok && slices.Equal(g, w)
	}
	return false
}

// flattenSettings turns a nested settings object back into flat keys, as
// Settings.builder().loadFromSource would.
func flattenSettings(n *jnode, prefix string, out map[string]any) {
	for i, k := range n.keys {
		v := n.vals[i]
		switch v.kind {
		case "object":
			flattenSettings(v, prefix+k+".", out)
		case "array":
			var l []string
			for _, e := range v.vals {
				l = append(l, e.str)
			}
			out[prefix+k] = l
		default:
			out[prefix+k] = v.str
		}
	}
}

func TestStructuredSettingsReproduceRecordedOrder(t *testing.T) {
	// The recorded 7.x settings, flattened and rendered again, come out
	// with the same nesting, dotted keys and HashMap key order at every
	// level.
	sample := loadTestdata(t, "nodes_settings_7.x_shape.json")
	flat := map[string]any{}
	flattenSettings(sample, "", flat)
	got := parseOrdered(t, encodeJSON(restSettings(flat, false), false))
	if g, w := got.shape(), sample.shape(); g != w {
		t.Errorf("re-rendered settings\n got %s\nwant %s", g, w)
	}
	// Flat: sorted keys, lists kept.
	flat["x.list"] = []string{"b", "a"}
	f := parseOrdered(t, encodeJSON(restSettings(flat, true), false))
	if !slices.IsSorted(f.keyList()) || f.mustGet(t, "x.list").kind != "array" {
		t.Errorf("flat settings %s", f.shape())
	}
	// A value and a subtree under the same prefix.
	m := map[string]any{"a.b": "1", "a.b.c": "2", "a.d.e": "3"}
	n := parseOrdered(t, encodeJSON(restSettings(m, false), false))
	wantString(t, n, "1", "a", "b")
	wantString(t, n, "2", "a", "b.c")
	wantString(t, n, "3", "a", "d", "e")
	if h := javaHashMapOrder([]string{"ml.machine_memory", "ml.max_open_jobs", "xpack.installed"}, 16); !slices.Equal(h,
		[]string{"ml.machine_memory", "xpack.installed", "ml.max_open_jobs"}) {
		// The attributes order of the same recorded response (a default HashMap).
		t.Errorf("HashMap order %v", h)
	}
}

// speaksTLS reports whether a TLS handshake with addr got a ServerHello.
func speaksTLS(t *testing.T, addr string, as *Cluster) (bool, tlsprobe.Result) {
	t.Helper()
	r := probeAs(t, addr, as)
	if !r.Reachable {
		t.Fatalf("%s not reachable: %v", addr, r.Err)
	}
	return r.Version != 0 || len(r.Chain) > 0, r
}

// rawExchange sends b to addr and returns what comes back before the
// connection closes.
func rawExchange(t *testing.T, addr string, b []byte) (string, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	return string(out), err
}

func TestSecurityExplicitlyDisabled(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	for _, version := range []string{"8.19.2", "9.1.5", "7.17.22"} {
		name := "off" + strings.ReplaceAll(version, ".", "")
		spec := ClusterSpec{Name: name, Version: version, Security: boolPtr(false), PlainHTTP: true,
			Nodes: []NodeSpec{{Name: name + "-1"}, {Name: name + "-2"}}}
		if version == "7.17.22" {
			spec.License = "platinum" // on 7.x only a paid license needs the explicit "false"
		}
		c := addCluster(t, s, spec)

		// No authentication at all: no credentials, wrong ones, no privileges.
		for _, opt := range []reqOpt{noAuth(), basic("ghost", "x"), basic("nopriv", "nopriv"), apiKey("nokey", "x")} {
			for _, p := range []string{"/", "/_remote/info", "/_xpack", "/_nodes/settings"} {
				res := get(t, cl, c.URL()+p, opt)
				wantStatus(t, res, 200)
				if res.header.Get("WWW-Authenticate") != "" || res.header.Get("Warning") != "" {
					t.Errorf("%s %s: headers %v", version, p, res.header)
				}
			}
		}
		x := parseOrdered(t, get(t, cl, c.URL()+"/_xpack", noAuth()).body)
		wantBool(t, x, true, "features", "security", "available")
		wantBool(t, x, false, "features", "security", "enabled")

		fs := flatStrings(t, nodeByName(t, parseOrdered(t, get(t, cl, c.URL()+"/_nodes/settings?flat_settings=true").body),
			name+"-2").mustGet(t, "settings"))
		if fs["xpack.security.enabled"] != "false" {
			t.Errorf("%s: xpack.security.enabled = %q", version, fs["xpack.security.enabled"])
		}
		for _, k := range []string{"xpack.security.transport.ssl.enabled", "xpack.security.http.ssl.enabled", "http.type", "transport.type"} {
			if _, ok := fs[k]; ok {
				t.Errorf("%s: %s present without the security plugin", version, k)
			}
		}
		// The security plugin's REST handlers are gone: the path falls
		// through routing like any unknown two-segment path.
		res := get(t, cl, c.URL()+"/_ssl/certificates", noAuth())
		if version == "9.1.5" {
			wantStatus(t, res, 400)
			wantString(t, parseOrdered(t, res.body), "no handler found for uri [/_ssl/certificates] and method [GET]", "error")
		} else {
			wantStatus(t, res, 405) // the typed POST /{index}/{type} route
		}

		// Plain transport: a TLS client gets EOF, an HTTP client a message.
		for _, addr := range c.TransportAddresses() {
			tlsOK, r := speaksTLS(t, addr, c)
			if tlsOK || r.Stage != tlsprobe.StageHandshake || r.ClientCertRequested {
				t.Errorf("%s %s: TLS on a plain port: %+v", version, addr, r)
			}
			if got, _ := rawExchange(t, addr, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); got != "This is not an HTTP port" {
				t.Errorf("%s: HTTP on the transport port got %q", version, got)
			}
		}
		// A transport message header keeps the connection open.
		conn, err := net.Dial("tcp", c.TransportAddresses()[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write([]byte{'E', 'S', 0, 0, 0, 6})
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := conn.Read(make([]byte, 1)); err == nil || !isTimeout(err) {
			t.Errorf("%s: ES header answered or closed: %v", version, err)
		}
		conn.Close()
	}
	// HTTPS needs the security plugin.
	if _, err := s.AddCluster(ClusterSpec{Name: "https-off", Version: "8.19.2", Security: boolPtr(false)}); err == nil ||
		!strings.Contains(err.Error(), "PlainHTTP") {
		t.Errorf("HTTPS cluster without security: %v", err)
	}
	https := addCluster(t, s, ClusterSpec{Name: "https", Version: "8.19.2"})
	if err := https.SetNodeSecurity("https-es01", false); err == nil {
		t.Error("turned security off on the answering node of an HTTPS cluster")
	}
	if err := https.SetNodeSecurity("nope", false); err == nil {
		t.Error("unknown node accepted")
	}
	wantStatus(t, get(t, cl, https.URL()+"/", noAuth()), 401)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestSecurityOffByLicenseDefault717(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	c := addCluster(t, s, ClusterSpec{Name: "implicit", Version: "7.17.22", Security: boolPtr(false)}) // basic, HTTPS
	res := get(t, cl, c.URL()+"/", noAuth())
	wantStatus(t, res, 200)
	want := `299 Elasticsearch-7.17.22-` + buildHash(c.answeringVersion()) + ` "Elasticsearch built-in security features are not enabled. ` +
		`Without authentication, your cluster could be accessible to anyone. See https://www.elastic.co/guide/en/elasticsearch/reference/7.17/security-minimal-setup.html to enable security."`
	if w := res.header.Values("Warning"); len(w) != 1 || w[0] != want {
		t.Errorf("Warning %q\nwant %q", w, want)
	}
	// RestController's own answers do not pass the security filter.
	res = get(t, cl, c.URL()+"/_no/such/handler/here", noAuth())
	wantStatus(t, res, 400)
	if res.header.Get("Warning") != "" {
		t.Error("no-handler 400 carries the security warning")
	}
	x := parseOrdered(t, get(t, cl, c.URL()+"/_xpack", noAuth()).body)
	wantBool(t, x, false, "features", "security", "enabled")
	fs := flatStrings(t, nodeByName(t, parseOrdered(t, get(t, cl, c.URL()+"/_nodes/settings?flat_settings=true").body),
		"implicit-es01").mustGet(t, "settings"))
	if _, ok := fs["xpack.security.enabled"]; ok {
		t.Errorf("implicit default written as a setting: %v", fs)
	}
	if fs["transport.type"] != "security4" || fs["xpack.security.http.ssl.enabled"] != "true" {
		t.Errorf("security plugin transports missing: %v", fs)
	}
	if _, ok := fs["xpack.security.transport.ssl.enabled"]; ok {
		t.Errorf("transport TLS follows security by default: %v", fs)
	}
	if ok, _ := speaksTLS(t, c.TransportAddresses()[0], c); ok {
		t.Error("transport speaks TLS although TransportTLS defaulted to off")
	}
	// HTTPS still works: the certificates API lists only the HTTP keystore.
	if n := len(sslEntries(t, get(t, cl, c.URL()+"/_ssl/certificates", noAuth()).body)); n != 3 {
		t.Errorf("%d certificate entries, want the 3 HTTP ones", n)
	}

	// A platinum license turns the absent setting into "security on".
	if err := c.SetLicense("platinum", time.Time{}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(t, cl, c.URL()+"/", noAuth()), 401)
	res = get(t, cl, c.URL()+"/")
	wantStatus(t, res, 200)
	if res.header.Get("Warning") != "" {
		t.Error("warning with security on")
	}
	wantBool(t, parseOrdered(t, get(t, cl, c.URL()+"/_xpack").body), true, "features", "security", "enabled")

	// On 7.17 with TLS configured the security4 transport speaks TLS even
	// with security off by license (unverified in ES, modelled).
	tlsNode := addCluster(t, s, ClusterSpec{Name: "implicit-tls", Version: "7.17.22", Security: boolPtr(false),
		Nodes: []NodeSpec{{Name: "t1", TransportTLS: boolPtr(true)}}})
	if ok, _ := speaksTLS(t, tlsNode.TransportAddresses()[0], tlsNode); !ok {
		t.Error("7.17 implicit: configured transport TLS not served")
	}
}

// remoteCount reads num_nodes_connected / num_proxy_sockets_connected.
func remoteCount(t *testing.T, c *Cluster, alias string) (bool, int) {
	t.Helper()
	info := parseOrdered(t, get(t, newClient(t, c.sim), c.URL()+"/_remote/info").body).mustGet(t, alias)
	n := info.get("num_nodes_connected")
	if n == nil {
		n = info.mustGet(t, "num_proxy_sockets_connected")
	}
	return info.mustGet(t, "connected").b, int(n.num)
}

func TestTransportTLSPerNode(t *testing.T) {
	for _, version := range []string{"7.17.22", "8.19.2", "9.1.5"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			s := newSim(t)
			cl := newClient(t, s)
			local := addCluster(t, s, ClusterSpec{Name: "local", Version: version})
			remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: version,
				Nodes: []NodeSpec{{Name: "r1"}, {Name: "r2"}, {Name: "r3"}}})
			addrs := remote.TransportAddresses()
			addLink(t, local, LinkSpec{Alias: "sniff", Remote: "remote"})
			addLink(t, local, LinkSpec{Alias: "proxy", Remote: "remote", Mode: "proxy", ProxyAddress: addrs[0]})
			if ok, n := remoteCount(t, local, "sniff"); !ok || n != 3 {
				t.Fatalf("sniff before: %v %d", ok, n)
			}

			// r2 restarts without transport TLS: it speaks plain TCP, the
			// sniff link keeps its other two nodes.
			if err := remote.SetNodeTransportTLS("r2", false); err != nil {
				t.Fatal(err)
			}
			if ok, r := speaksTLS(t, addrs[1], local); ok || r.Stage != tlsprobe.StageHandshake {
				t.Errorf("r2 still speaks TLS: %+v", r)
			}
			if ok, _ := speaksTLS(t, addrs[0], local); !ok {
				t.Error("r1 lost TLS")
			}
			if ok, n := remoteCount(t, local, "sniff"); !ok || n != 2 {
				t.Errorf("sniff after r2 went plain: %v %d", ok, n)
			}
			body := parseOrdered(t, get(t, cl, remote.URL()+"/_nodes/settings?flat_settings=true").body)
			if _, ok := flatStrings(t, nodeByName(t, body, "r2").mustGet(t, "settings"))["xpack.security.transport.ssl.enabled"]; ok {
				t.Error("r2 still reports transport TLS")
			}
			if v := flatStrings(t, nodeByName(t, body, "r1").mustGet(t, "settings"))["xpack.security.transport.ssl.enabled"]; v != "true" {
				t.Errorf("r1 reports transport TLS %q", v)
			}

			// r1 (the proxy target and answering node) too: the proxy link
			// drops, sniff keeps r3; r1's certificates listing loses the
			// transport entries.
			if err := remote.SetNodeTransportTLS("r1", false); err != nil {
				t.Fatal(err)
			}
			if ok, _ := remoteCount(t, local, "proxy"); ok {
				t.Error("proxy link to a plain node still connected")
			}
			if ok, n := remoteCount(t, local, "sniff"); !ok || n != 1 {
				t.Errorf("sniff with only r3 on TLS: %v %d", ok, n)
			}
			if n := len(sslEntries(t, get(t, cl, remote.URL()+"/_ssl/certificates").body)); n != 3 {
				t.Errorf("r1 lists %d certificates, want the 3 HTTP ones", n)
			}
			if local.answeringVersion().atLeast(8, 18) {
				entry := parseOrdered(t, get(t, cl, local.URL()+"/_resolve/cluster").body).mustGet(t, "proxy")
				wantBool(t, entry, false, "connected")
				if entry.get("error") != nil {
					t.Errorf("failed handshake reported as error: %s", entry.get("error").str)
				}
			}

			// Back on: nothing reconnects by itself, a reconnect trigger does.
			if err := remote.SetNodeTransportTLS("r1", true); err != nil {
				t.Fatal(err)
			}
			if ok, _ := remoteCount(t, local, "proxy"); ok {
				t.Error("proxy link reconnected on its own")
			}
			local.ReconnectRemotes()
			if ok, n := remoteCount(t, local, "proxy"); !ok || n != 18 {
				t.Errorf("proxy after reconnect: %v %d", ok, n)
			}

			// The local node restarts without TLS: it reaches the plain
			// node r2 and nothing on TLS.
			if err := local.SetNodeTransportTLS("local-es01", false); err != nil {
				t.Fatal(err)
			}
			if ok, _ := remoteCount(t, local, "proxy"); ok {
				t.Error("proxy connected from a plain node to a TLS node")
			}
			if ok, n := remoteCount(t, local, "sniff"); !ok || n != 1 {
				t.Errorf("plain local to plain r2 only: %v %d", ok, n)
			}
			if err := remote.SetNodeTransportTLS("r2", true); err != nil {
				t.Fatal(err)
			}
			if ok, _ := remoteCount(t, local, "sniff"); ok {
				t.Error("sniff connected from a plain node to TLS nodes")
			}
			if err := remote.SetNodeTransportTLS("nope", false); err == nil {
				t.Error("unknown node accepted")
			}
		})
	}
}

func TestLinksFollowSecurityOverPlainTransport(t *testing.T) {
	plain := func(name string, security bool) ClusterSpec {
		return ClusterSpec{Name: name, Version: "8.19.2", PlainHTTP: true, Security: boolPtr(security),
			Nodes: []NodeSpec{{Name: name + "-1", TransportTLS: boolPtr(false)}, {Name: name + "-2", TransportTLS: boolPtr(false)}}}
	}
	for _, tc := range []struct {
		name              string
		local, remote     ClusterSpec
		sniff, proxy, key bool
	}{
		{"both secure, both plain", plain("l", true), plain("r", true), true, true, true},
		{"both insecure", plain("l", false), plain("r", false), true, true, false},
		{"insecure local, secure remote", plain("l", false), plain("r", true), false, false, false},
		{"secure local, insecure remote", plain("l", true), plain("r", false), true, true, false},
		// API-key links use the remote cluster server port (its own TLS,
		// remotecluster.go), which needs security on both sides.
		{"TLS local, plain remote", ClusterSpec{Name: "l", Version: "8.19.2"}, plain("r", true), false, false, true},
		{"both TLS: API-key link", ClusterSpec{Name: "l", Version: "8.19.2"}, ClusterSpec{Name: "r", Version: "8.19.2"}, true, true, true},
		{"API-key link to an insecure remote", ClusterSpec{Name: "l", Version: "8.19.2"}, plain("r", false), false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSim(t)
			// The API-key model needs a server and an enterprise license.
			tc.local.License, tc.remote.License = "enterprise", "enterprise"
			local := addCluster(t, s, tc.local)
			tc.remote.RemoteClusterServer = &RemoteClusterServerSpec{Enabled: true}
			remote := addCluster(t, s, tc.remote)
			if err := local.TrustRemoteClusterServer(remote); err != nil {
				t.Fatal(err)
			}
			addLink(t, local, LinkSpec{Alias: "sniff", Remote: "r"})
			addLink(t, local, LinkSpec{Alias: "proxy", Remote: "r", Mode: "proxy"})
			addLink(t, local, LinkSpec{Alias: "key", Remote: "r", Mode: "proxy", APIKeyAuth: true})
			for alias, want := range map[string]bool{"sniff": tc.sniff, "proxy": tc.proxy, "key": tc.key} {
				if ok, _ := remoteCount(t, local, alias); ok != want {
					t.Errorf("%s connected=%v, want %v", alias, ok, want)
				}
			}
		})
	}
}

func TestSetSecurityRestartsNodes(t *testing.T) {
	s := newSim(t)
	cl := newClient(t, s)
	local := addCluster(t, s, ClusterSpec{Name: "local", Version: "8.19.2"})
	remote := addCluster(t, s, ClusterSpec{Name: "remote", Version: "8.19.2", PlainHTTP: true,
		Nodes: []NodeSpec{{Name: "a"}, {Name: "b"}}})
	addLink(t, local, LinkSpec{Alias: "r", Remote: "remote"})
	if err := remote.SetSecurity(false); err != nil {
		t.Fatal(err)
	}
	// xpack.security.enabled=false: plain transport (the TLS settings stay
	// configured but the security4 transport is gone).
	for _, addr := range remote.TransportAddresses() {
		if ok, _ := speaksTLS(t, addr, local); ok {
			t.Errorf("%s speaks TLS with security off", addr)
		}
	}
	fs := flatStrings(t, nodeByName(t, parseOrdered(t, get(t, cl, remote.URL()+"/_nodes/settings?flat_settings=true", noAuth()).body),
		"b").mustGet(t, "settings"))
	if fs["xpack.security.enabled"] != "false" || fs["xpack.security.transport.ssl.enabled"] != "true" {
		t.Errorf("settings after SetSecurity(false): %v", fs)
	}
	if ok, _ := remoteCount(t, local, "r"); ok {
		t.Error("TLS local still connected to plain remote")
	}
	if err := remote.SetSecurity(true); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(t, cl, remote.URL()+"/", noAuth()), 401)
	local.ReconnectRemotes()
	if ok, n := remoteCount(t, local, "r"); !ok || n != 2 {
		t.Errorf("after security back on: %v %d", ok, n)
	}
}
