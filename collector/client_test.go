package collector

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// streamServer answers 200 as Elasticsearch with a body of n bytes of JSON
// whitespace, or without end when n < 0 (until the client leaves).
func streamServer(t *testing.T, n int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
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
