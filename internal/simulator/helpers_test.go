package simulator

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	monUser = "ccs_monitor"
	monPass = "s3cret"
)

// monitorUsers is a user with the privileges a remote-cluster monitor needs.
func monitorUsers() map[string]User {
	return map[string]User{
		monUser: {Password: monPass, Roles: []string{"ccs_monitor_role"},
			ClusterPrivileges: []string{"monitor"}, IndexPrivileges: []string{"view_index_metadata"}},
		"nopriv": {Password: "nopriv", Roles: []string{"ccs_monitor_role"}},
	}
}

func newSim(t *testing.T) *Sim {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func addCluster(t *testing.T, s *Sim, spec ClusterSpec) *Cluster {
	t.Helper()
	if spec.Users == nil {
		spec.Users = monitorUsers()
	}
	c, err := s.AddCluster(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addLink(t *testing.T, c *Cluster, l LinkSpec) {
	t.Helper()
	if err := c.AddLink(l); err != nil {
		t.Fatal(err)
	}
}

func newClient(t *testing.T, s *Sim) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("CA PEM does not parse")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

type reqOpt func(*http.Request)

func basic(u, p string) reqOpt { return func(r *http.Request) { r.SetBasicAuth(u, p) } }

func apiKey(id, key string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+EncodeAPIKey(id, key)) }
}

func noAuth() reqOpt { return func(r *http.Request) { r.Header.Del("Authorization") } }

func do(t *testing.T, cl *http.Client, method, url string, opts ...reqOpt) result {
	t.Helper()
	res, err := doErr(context.Background(), cl, method, url, opts...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res
}

func doErr(ctx context.Context, cl *http.Client, method, url string, opts ...reqOpt) (result, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return result{}, err
	}
	req.SetBasicAuth(monUser, monPass)
	for _, o := range opts {
		o(req)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{status: resp.StatusCode, header: resp.Header}, err
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

func get(t *testing.T, cl *http.Client, url string, opts ...reqOpt) result {
	t.Helper()
	return do(t, cl, http.MethodGet, url, opts...)
}

// ordered JSON tree, so tests can check field order.
type jnode struct {
	kind string // object, array, string, number, bool, null
	keys []string
	vals []*jnode
	str  string
	num  float64
	b    bool
}

func parseOrdered(t *testing.T, data []byte) *jnode {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err != nil {
		t.Fatalf("parse %q: %v", data, err)
	}
	return n
}

func decodeNode(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &jnode{kind: "object"}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				child, err := decodeNode(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, kt.(string))
				n.vals = append(n.vals, child)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &jnode{kind: "array"}
			for dec.More() {
				child, err := decodeNode(dec)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, child)
			}
			_, err := dec.Token()
			return n, err
		}
	case string:
		return &jnode{kind: "string", str: v}, nil
	case json.Number:
		f, _ := v.Float64()
		return &jnode{kind: "number", num: f, str: v.String()}, nil
	case bool:
		return &jnode{kind: "bool", b: v}, nil
	case nil:
		return &jnode{kind: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// get follows a path of object keys.
func (n *jnode) get(path ...string) *jnode {
	cur := n
	for _, p := range path {
		if cur == nil || cur.kind != "object" {
			return nil
		}
		var next *jnode
		for i, k := range cur.keys {
			if k == p {
				next = cur.vals[i]
			}
		}
		cur = next
	}
	return cur
}

func (n *jnode) mustGet(t *testing.T, path ...string) *jnode {
	t.Helper()
	v := n.get(path...)
	if v == nil {
		t.Fatalf("missing %s in %s", strings.Join(path, "."), n.shape())
	}
	return v
}

// shape renders keys, nesting, types and field order, without values.
// Arrays show the distinct shapes of their elements.
func (n *jnode) shape() string {
	switch n.kind {
	case "object":
		parts := make([]string, len(n.keys))
		for i, k := range n.keys {
			parts[i] = k + ":" + n.vals[i].shape()
		}
		return "{" + strings.Join(parts, ",") + "}"
	case "array":
		seen := map[string]bool{}
		var elems []string
		for _, v := range n.vals {
			s := v.shape()
			if !seen[s] {
				seen[s] = true
				elems = append(elems, s)
			}
		}
		sort.Strings(elems)
		return "[" + strings.Join(elems, "|") + "]"
	}
	return n.kind
}

// sameShape compares two values' shapes: same keys in the same order, same
// nesting and JSON types. Callers pass entries of dynamic maps (aliases, node
// ids) one by one.
func sameShape(t *testing.T, what string, got, want *jnode) {
	t.Helper()
	if g, w := got.shape(), want.shape(); g != w {
		t.Errorf("%s: shape differs\n got: %s\nwant: %s", what, g, w)
	}
}

func loadTestdata(t *testing.T, name string) *jnode {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return parseOrdered(t, data)
}

func (n *jnode) keyList() []string { return append([]string(nil), n.keys...) }

func wantString(t *testing.T, n *jnode, want string, path ...string) {
	t.Helper()
	v := n.mustGet(t, path...)
	if v.kind != "string" || v.str != want {
		t.Errorf("%s = %s %q, want %q", strings.Join(path, "."), v.kind, v.str, want)
	}
}

func wantBool(t *testing.T, n *jnode, want bool, path ...string) {
	t.Helper()
	v := n.mustGet(t, path...)
	if v.kind != "bool" || v.b != want {
		t.Errorf("%s = %s %v, want %v", strings.Join(path, "."), v.kind, v.b, want)
	}
}

func wantNumber(t *testing.T, n *jnode, want float64, path ...string) {
	t.Helper()
	v := n.mustGet(t, path...)
	if v.kind != "number" || v.num != want {
		t.Errorf("%s = %s %v, want %v", strings.Join(path, "."), v.kind, v.num, want)
	}
}

func wantStatus(t *testing.T, res result, status int) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d; body %s", res.status, status, res.body)
	}
}

func boolPtr(b bool) *bool { return &b }

// wantErrContains fails unless err is an error whose message contains
// substr; what names the call that should have failed.
func wantErrContains(t *testing.T, err error, substr, what string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s succeeded, want an error containing %q", what, substr)
	case !strings.Contains(err.Error(), substr):
		t.Errorf("%s: error %q does not contain %q", what, err, substr)
	}
}

// waitForGoroutines fails the test unless the goroutine count falls back to
// baseline (plus one for the test's own bookkeeping) within 5 s.
func waitForGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline+1 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitHeld waits until exactly want requests of c are held by a hang
// (heldRequests), failing the test after 10 s.
func waitHeld(t *testing.T, c *Cluster, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.heldRequests() != want {
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s: %d requests held, want %d", c.Name(), c.heldRequests(), want)
		}
		time.Sleep(time.Millisecond)
	}
}
