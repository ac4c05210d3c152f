package collector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

// streamServer answers 200 as Elasticsearch with a body of n bytes of JSON
// whitespace, or without end when n < 0 (until the client leaves).
func streamServer(t *testing.T, n int64) *httptest.Server {
	t.Helper()
	return streamServerStatus(t, n, http.StatusOK)
}

// streamServerStatus is streamServer answering with status.
func streamServerStatus(t *testing.T, n int64, status int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for sent := int64(0); n < 0 || sent < n; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil || r.Context().Err() != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := NewClient(config.Cluster{Name: "c", URLs: []string{url}}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestResponseOverTheCapSaysSo(t *testing.T) {
	c := testClient(t, streamServer(t, maxBodyBytes+(1<<20)).URL)
	var out any
	err := c.do(context.Background(), "GET /_remote/info", esapi.ClusterRemoteInfoRequest{}, &out)
	if err == nil || err.Reason != ReasonInvalidResponse || !strings.Contains(err.Msg, "larger than 32 MiB") {
		t.Fatalf("a 33 MiB answer: %+v; want invalid_response saying it is larger than the 32 MiB cap", err)
	}
	if n := len(bodyBudget.tokens); n != 0 {
		t.Errorf("%d budget tokens still held after the request", n)
	}
}

// An error status over the cap is reported as the error status it is.
func TestErrorStatusOverTheCapIsAnErrorStatus(t *testing.T) {
	c := testClient(t, streamServerStatus(t, maxBodyBytes+(1<<20), http.StatusServiceUnavailable).URL)
	var out any
	err := c.do(context.Background(), "GET /_remote/info", esapi.ClusterRemoteInfoRequest{}, &out)
	if err == nil || err.Reason != ReasonServerError || err.Status != http.StatusServiceUnavailable {
		t.Fatalf("a 503 with 33 MiB: %+v; want server_error with status 503", err)
	}
}

// TestResponseBudgetBoundsEndlessAnswers: an answer that never ends holds
// at most its free first MiB plus the shared budget, then fails with a
// message that names the budget, and gives the budget back.
func TestResponseBudgetBoundsEndlessAnswers(t *testing.T) {
	saved := bodyBudget
	bodyBudget = newByteBudget(1)
	t.Cleanup(func() { bodyBudget = saved })
	c := testClient(t, streamServer(t, -1).URL)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out any
	err := c.do(ctx, "GET /_nodes/_all/_none", esapi.NodesInfoRequest{}, &out)
	if err == nil || err.Reason != ReasonTimeout || !strings.Contains(err.Msg, "response budget") {
		t.Fatalf("an endless answer: %+v; want a timeout that names the response budget", err)
	}
	if n := len(bodyBudget.tokens); n != 0 {
		t.Errorf("%d budget tokens still held after the request", n)
	}
}

func TestReadBodyTakesTokensPerMiB(t *testing.T) {
	saved := bodyBudget
	bodyBudget = newByteBudget(8)
	t.Cleanup(func() { bodyBudget = saved })
	for _, tc := range []struct {
		size int
		held int
	}{{0, 0}, {freeBodyBytes - 1, 0}, {freeBodyBytes + 1, 1}, {3*freeBodyBytes + 5, 3}} {
		var buf strings.Builder
		buf.WriteString(strings.Repeat("x", tc.size))
		b := new(bytes.Buffer)
		b.Reset()
		held, err := readBody(context.Background(), b, io.NopCloser(strings.NewReader(buf.String())))
		if err != nil || held != tc.held || b.Len() != tc.size {
			t.Errorf("readBody(%d bytes) = held %d, read %d, %v; want held %d", tc.size, held, b.Len(), err, tc.held)
		}
		bodyBudget.release(held)
	}
}

// TestDebugLogsEveryRequest: at debug level each request is logged with
// method, path, status, duration and size (and the failure reason), never
// a credential.
func TestDebugLogsEveryRequest(t *testing.T) {
	e := newSimEnv(t, "8.19.7")
	var buf testtools.SyncBuffer
	p, err := NewPoller(config.Cluster{Name: "local", URLs: []string{e.local.URL()}, Username: testUser, Password: testPassword,
		TLS: config.TLS{CAFile: e.caFile}},
		PollerOptions{Timeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Poll(t.Context())
	log := buf.String()
	for _, want := range []string{
		`msg=request es_cluster=local method=GET path=/ status=200 duration=`,
		`method=GET path=/_remote/info status=200`,
		`msg="check done" es_cluster=local check=identity duration=`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q:\n%s", want, log)
		}
	}
	if !regexp.MustCompile(`path=/_remote/info status=200 duration=\S+ bytes=[1-9]`).MatchString(log) {
		t.Errorf("request lines carry no size:\n%s", log)
	}
	if strings.Contains(log, testPassword) {
		t.Error("the debug log shows the password")
	}
}

// TestEveryURLsErrorWhenAllFail: a cluster whose URLs all fail says so and
// names each URL's error, not only the last one's.
func TestEveryURLsErrorWhenAllFail(t *testing.T) {
	a, b := "http://"+testtools.FreeAddr(t), "http://"+testtools.FreeAddr(t)
	c, err := NewClient(config.Cluster{Name: "c", URLs: []string{a, b}}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out any
	cerr := c.do(t.Context(), "GET /", esapi.InfoRequest{}, &out)
	if cerr == nil || cerr.Reason != ReasonConnection {
		t.Fatalf("both URLs refused: %+v", cerr)
	}
	for _, want := range []string{"all 2 URLs failed", a + ": ", b + ": ", "connection refused"} {
		if !strings.Contains(cerr.Msg, want) {
			t.Errorf("error %q lacks %q", cerr.Msg, want)
		}
	}
}

// TestAnswerMemo: an answer identical to the last is not parsed again and
// gives the same value; any other answer (even of the same length) is
// parsed; a failed parse forgets the last answer.
func TestAnswerMemo(t *testing.T) {
	var m answerMemo[[]string]
	parses := 0
	parse := func(body []byte) ([]string, error) {
		parses++
		if string(body) == "bad" {
			return nil, errors.New("bad answer")
		}
		return []string{string(body)}, nil
	}
	for i, step := range []struct {
		body       string
		want       string
		wantParses int
	}{
		{`{"a":1}`, `{"a":1}`, 1},
		{`{"a":1}`, `{"a":1}`, 1}, // the same answer: reused
		{`{"a":2}`, `{"a":2}`, 2}, // same length, other bytes
		{`{"a":2}`, `{"a":2}`, 2},
		{"bad", "", 3},
		{`{"a":2}`, `{"a":2}`, 4}, // after a failure the answer is parsed again
	} {
		got, err := m.decode([]byte(step.body), parse)
		if (err != nil) != (step.want == "") || (err == nil && got[0] != step.want) {
			t.Errorf("step %d: got %v, %v; want %q", i, got, err, step.want)
		}
		if parses != step.wantParses {
			t.Errorf("step %d: %d parses, want %d", i, parses, step.wantParses)
		}
	}
}

// A node that sends its headers and then nothing: the request times out
// while its body is read, and says so (not "not valid JSON"), also when
// the connection's deadline passes before the context marks itself done.
func TestTimeoutWhileReadingTheBody(t *testing.T) {
	srv, _ := hangingServer(t, true)
	c := testClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var out map[string]any
	err := c.do(ctx, "GET /", esapi.InfoRequest{}, &out)
	if err == nil || err.Reason != ReasonTimeout {
		t.Fatalf("error %v, want reason %s", err, ReasonTimeout)
	}
}
