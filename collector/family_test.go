package collector

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/certgen"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

func TestValidateFamiliesRejectsWhatARegistryWould(t *testing.T) {
	ok := func() *Family {
		return &Family{Name: "es_remote_link_x", Type: "gauge", Help: "h", Labels: []string{"es_cluster"}, owner: "c"}
	}
	for name, tc := range map[string]struct {
		mutate func(f *Family)
		want   string
	}{
		"invalid metric name":     {func(f *Family) { f.Name = "es_remote_link-x" }, "not a valid metric name"},
		"counter without _total":  {func(f *Family) { f.Type = "counter" }, "must end in _total"},
		"gauge with _total":       {func(f *Family) { f.Name = "es_remote_link_x_total" }, "must not end in _total"},
		"unknown type":            {func(f *Family) { f.Type = "histogram" }, "use gauge or counter"},
		"invalid label name":      {func(f *Family) { f.Labels = []string{"es_cluster", "re-mote"} }, "not a valid label name"},
		"reserved label name":     {func(f *Family) { f.Labels = []string{"es_cluster", "__name__"} }, "not a valid label name"},
		"es_cluster not first":    {func(f *Family) { f.Labels = []string{"remote", "es_cluster"} }, "first label must be es_cluster"},
		"no es_cluster":           {func(f *Family) { f.Labels = nil }, "first label must be es_cluster"},
		"repeated label":          {func(f *Family) { f.Labels = []string{"es_cluster", "es_cluster"} }, "appears twice"},
		"no help":                 {func(f *Family) { f.Help = " " }, "no HELP"},
		"owned by no check":       {func(f *Family) { f.owner = "" }, "belongs to no registered check"},
		"declared twice (second)": {nil, "declared twice"},
	} {
		t.Run(name, func(t *testing.T) {
			f := ok()
			fams := []*Family{f}
			if tc.mutate != nil {
				tc.mutate(f)
			} else {
				fams = append(fams, ok())
			}
			err := validateFamilies(fams)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validateFamilies = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := validateFamilies([]*Family{ok()}); err != nil {
		t.Errorf("a valid family: %v", err)
	}
	// The package's own families passed at init (or the test binary would
	// not have started); the registry must also cover every family.
	for _, f := range families {
		if f.owner == "" {
			t.Errorf("%s has no owning check", f.Name)
		}
	}
}

func TestRendererKeepsTheFirstOfRepeatedSeries(t *testing.T) {
	r := newRenderer("c")
	r.add(famLinkConnected, 1, "c", "r")
	r.add(famLinkConnected, 0, "c", "r")       // same series: dropped
	r.add(famLinkConnected, 0, "c", "r2")      // another series
	r.add(famLinkSkipUnavailable, 1, "c", "r") // same labels, other family
	out := r.render(everyPoll)
	got := string(out[famLinkConnected.local])
	// Lines leave the name and es_cluster out; the scrape writes them
	// (Store.WriteText).
	want := ",remote=\"r\"} 1\n,remote=\"r2\"} 0\n"
	if got != want {
		t.Errorf("rendered:\n%s\nwant:\n%s", got, want)
	}
	if got := string(out[famLinkSkipUnavailable.local]); got != ",remote=\"r\"} 1\n" {
		t.Errorf("other family: %q", got)
	}
	// A second renderer from the pool starts empty: no series is "seen".
	r = newRenderer("c")
	r.add(famLinkConnected, 1, "c", "r")
	if got := string(r.render(everyPoll)[famLinkConnected.local]); got != ",remote=\"r\"} 1\n" {
		t.Errorf("pooled renderer kept state: %q", got)
	}
}

// TestRenderReusesUnchangedFamilies: a family whose lines are the same as
// in the previous render keeps the previous text (no copy), one that
// changed gets its own, and the scrape writes each line under its name.
func TestRenderReusesUnchangedFamilies(t *testing.T) {
	render := func(connected float64, prev [][]byte) [][]byte {
		r := newRenderer("c")
		r.add(famLinkConnected, connected, "c", "r")
		r.add(famLinkSkipUnavailable, 1, "c", "r")
		return r.renderReusing(everyPoll, prev)
	}
	first := render(1, nil)
	second := render(0, first)
	same, changed := famLinkSkipUnavailable.local, famLinkConnected.local
	if &second[same][0] != &first[same][0] {
		t.Error("an unchanged family was copied instead of shared")
	}
	if string(first[changed]) != ",remote=\"r\"} 1\n" || string(second[changed]) != ",remote=\"r\"} 0\n" {
		t.Errorf("a changed family: first %q, then %q", first[changed], second[changed])
	}
	var buf strings.Builder
	if err := storeOf(&Snapshot{Cluster: "c", layers: [schedules][][]byte{everyPoll: second}}).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"es_remote_link_connected{es_cluster=\"c\",remote=\"r\"} 0\n", "es_remote_link_skip_unavailable{es_cluster=\"c\",remote=\"r\"} 1\n"} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("the scrape lacks %q:\n%s", line, buf.String())
		}
	}
}

// TestAdversarialInputRendersValidExposition feeds every check answers that
// repeat what should be unique (a seed listed three times, two node ids of
// one name and address, a certificate listed twice, a CA repeated in the
// presented chain) and lints the result with client_golang's linter and the
// real promtool: no duplicate series, whatever Elasticsearch sends.
func TestAdversarialInputRendersValidExposition(t *testing.T) {
	ca := certgen.MustNew(certgen.Options{Subject: "CN=Adversarial CA", IsCA: true}, nil)
	leaf := certgen.MustNew(certgen.Options{Subject: "CN=node", IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}, ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{
		// The CA twice: a chain Elasticsearch would present if the PEM file
		// repeats it.
		Certificate: [][]byte{leaf.Cert.Raw, ca.Cert.Raw, ca.Cert.Raw},
		PrivateKey:  leaf.Key,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	addr := ln.Addr().String()
	node := fmt.Sprintf(`{"name":"n1","transport_address":%q,"host":"127.0.0.1","ip":"127.0.0.1","version":"8.19.7","roles":["master","remote_cluster_client","data"]}`, addr)
	nodeSettings := `{"name":"n1","version":"8.19.7","roles":["remote_cluster_client"],"settings":{"xpack.security.transport.ssl.enabled":"true","cluster.remote.r.seeds":["` + addr + `","` + addr + `"]}}`
	ccrShard := `{"remote_cluster":"r","leader_index":"l","follower_index":"f","shard_id":0,"leader_global_checkpoint":5,` +
		`"follower_global_checkpoint":3,"failed_read_requests":0,"failed_write_requests":0,"operations_written":3,"time_since_last_read_millis":10}`
	cert := `{"path":"certs/node.crt","format":"PEM","alias":null,"subject_dn":"CN=node","serial_number":"01","has_private_key":true,"expiry":"2030-01-01T00:00:00.000Z","issuer":"CN=Adversarial CA"}`
	answers := map[string]string{
		"/":                                  `{"name":"n1","cluster_name":"adv","cluster_uuid":"u","version":{"number":"8.19.7"}}`,
		"/_nodes/_all/remote_cluster_server": `{"nodes":{"id1":` + node + `,"id2":` + node + `}}`,
		"/_xpack":                            `{"features":{"security":{"available":true,"enabled":true}}}`,
		"/_nodes/_all/settings":              `{"nodes":{"id1":` + nodeSettings + `,"id2":` + nodeSettings + `}}`,
		"/_cluster/settings":                 `{"persistent":{"cluster.remote.r.seeds":["` + addr + `","` + addr + `"]},"transient":{}}`,
		"/_ssl/certificates":                 `[` + cert + `,` + cert + `]`,
		"/_remote/info": `{"r":{"connected":true,"mode":"sniff","seeds":["` + addr + `","` + addr + `","` + addr + `"],` +
			`"num_nodes_connected":1,"max_connections_per_cluster":3,"initial_connect_timeout":"30s","skip_unavailable":true}}`,
		"/_resolve/cluster": `{"r":{"connected":true,"skip_unavailable":true,"version":{"number":"8.19.7"}}}`,
		// A cross-cluster key listed twice.
		"/_security/api_key": `{"api_keys":[{"id":"k1","name":"n","type":"cross_cluster","expiration":1900000000000,"invalidated":false},` +
			`{"id":"k1","name":"n","type":"cross_cluster","expiration":1900000000000,"invalidated":false}]}`,
		// A follower index listed twice by both CCR APIs, with a repeated shard.
		"/_all/_ccr/info": `{"follower_indices":[{"follower_index":"f","remote_cluster":"r","leader_index":"l","status":"active"},` +
			`{"follower_index":"f","remote_cluster":"r","leader_index":"l","status":"active"}]}`,
		"/_ccr/stats": `{"auto_follow_stats":{"number_of_failed_follow_indices":0,"number_of_failed_remote_cluster_state_requests":0,` +
			`"number_of_successful_follow_indices":0,"recent_auto_follow_errors":[],"auto_followed_clusters":[]},"follow_stats":{"indices":[` +
			`{"index":"f","shards":[` + ccrShard + `,` + ccrShard + `]},{"index":"f","shards":[` + ccrShard + `]}]}}`,
		"/_security/role/remote-search": `{"remote-search":{"cluster":["cross_cluster_search"],"indices":[` +
			`{"names":["logs-*"],"privileges":["read","read_cross_cluster"]},{"names":["logs-*"],"privileges":["read","read_cross_cluster"]}]}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := answers[r.URL.Path]
		if !ok {
			t.Errorf("unexpected request %s", r.URL)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)

	p, err := NewPoller(config.Cluster{Name: "adv", URLs: []string{srv.URL},
		Transport: config.Transport{ProbeLocalNodes: true},
		Links:     map[string]config.Link{"r": {Cluster: "adv-remote", Roles: config.LinkRoles{Search: []string{"remote-search"}}}}},
		PollerOptions{Timeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now: func() time.Time { return fixedNow }, RoleNames: []string{"remote-search"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	f, snap := p.Poll(context.Background())
	for _, c := range f.Checks {
		if c.Err != nil {
			t.Errorf("check %s failed on adversarial but valid input: %v", c.Check, c.Err)
		}
	}
	store := storeOf(snap)
	var text bytes.Buffer
	if err := store.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	// The repeats reached the renderer: each of these families has samples.
	for _, fam := range []*Family{famLinkProbeSuccess, famLinkPresentedNotAfter, famLocalProbeSuccess, famClusterCertNotAfter, famNodeInfo, famLinkRoleStatus,
		famCCRFollowerInfo, famCCRLag, famCCKeyExpiry} {
		if !strings.Contains(text.String(), "\n"+fam.Name+"{") {
			t.Errorf("%s has no samples: the adversarial input did not reach it", fam.Name)
		}
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(text.String()), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		series := line[:strings.LastIndexByte(line, ' ')]
		if seen[series] {
			t.Errorf("duplicate series %s", series)
		}
		seen[series] = true
	}
	if problems, err := testutil.GatherAndLint(store); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	promtool := testtools.Find(t, "prometheus", "promtool")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text.Bytes())
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// A check whose renderedFrom is the same as in the last render is not
// rendered again: its families keep their text, even when rendering again
// would give other text; a new renderedFrom renders it anew.
func TestRenderedFromKeepsText(t *testing.T) {
	calls := 0
	from := "answer 1"
	stub := &check{
		schedule: everyPoll,
		families: []*Family{famLinkConnected},
		render: func(p *Poller, _ *Facts, out *renderer) {
			calls++
			out.add(famLinkConnected, float64(calls), p.name, "r")
		},
		renderedFrom: func(*Poller, *Facts) any { return from },
	}
	p := &Poller{name: "c", renderedFrom: map[*check]any{}}
	text := func(layers [][]byte) string { return string(layers[famLinkConnected.local]) }
	first := renderSchedule(everyPoll, []*check{stub}, p, &Facts{}, nil)
	second := renderSchedule(everyPoll, []*check{stub}, p, &Facts{}, first)
	if calls != 1 || text(second) != text(first) || &second[famLinkConnected.local][0] != &first[famLinkConnected.local][0] {
		t.Errorf("same renderedFrom: %d renders, text %q then %q; want 1 render and the first text shared", calls, text(first), text(second))
	}
	from = "answer 2"
	third := renderSchedule(everyPoll, []*check{stub}, p, &Facts{}, second)
	if calls != 2 || text(third) != `,remote="r"} 2`+"\n" {
		t.Errorf("new renderedFrom: %d renders, text %q; want a second render", calls, text(third))
	}
}
