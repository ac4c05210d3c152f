package collector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
)

// Reason is the bounded cause of a failed check: the `reason` label of
// es_remote_exporter_check_failures_total. The set is fixed so that the
// label's cardinality is known; the full story goes to the log.
type Reason string

// The fixed set of failure reasons.
const (
	ReasonTimeout          Reason = "timeout"           // no answer within the configured timeout
	ReasonConnection       Reason = "connection"        // refused, reset, DNS failure, dropped connection
	ReasonTLS              Reason = "tls"               // handshake or certificate verification failed
	ReasonUnauthorized     Reason = "unauthorized"      // HTTP 401: bad or missing credentials
	ReasonForbidden        Reason = "forbidden"         // HTTP 403: the user lacks a privilege
	ReasonMissingRole      Reason = "missing_role"      // HTTP 400: node lacks the remote_cluster_client role
	ReasonClientError      Reason = "client_error"      // any other HTTP 4xx
	ReasonServerError      Reason = "server_error"      // HTTP 5xx (from Elasticsearch or a proxy in front of it) or 429
	ReasonInvalidResponse  Reason = "invalid_response"  // body is not the JSON Elasticsearch sends (HTML, garbage, truncated)
	ReasonNotElasticsearch Reason = "not_elasticsearch" // success status without the X-elastic-product header
	ReasonUnavailable      Reason = "unavailable"       // not attempted: an earlier check of the same poll failed
)

// Reasons lists every Reason, for documentation and tests.
var Reasons = []Reason{
	ReasonTimeout, ReasonConnection, ReasonTLS, ReasonUnauthorized, ReasonForbidden,
	ReasonMissingRole, ReasonClientError, ReasonServerError, ReasonInvalidResponse,
	ReasonNotElasticsearch, ReasonUnavailable,
}

// CheckError is a failed request, classified. Its message names what went
// wrong and what to do about it; it never contains credentials (URLs carry
// no user info: config validation rejects that).
type CheckError struct {
	Reason Reason
	Status int    // HTTP status, 0 when there was no HTTP response
	Type   string // Elasticsearch error type, e.g. security_exception
	Msg    string // what happened, in words
	Hint   string // what to do
	Err    error  // underlying error, if any
}

func (e *CheckError) Error() string {
	s := e.Msg
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *CheckError) Unwrap() error { return e.Err }

// unknownProductMsg is the text go-elasticsearch v8 returns when a 2xx
// response lacks X-elastic-product (go-elasticsearch v8's elasticsearch.go,
// unknownProduct).
const unknownProductMsg = "the client noticed that the server is not Elasticsearch"

// classifyTransportError turns an error from the HTTP round trip (no response)
// into a CheckError. ctx is the request's context: its deadline tells a timeout
// from a reset.
func classifyTransportError(ctx context.Context, what string, err error) *CheckError {
	ce := &CheckError{Err: err}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alertErr tls.AlertError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded ||
		(errors.As(err, &netErr) && netErr.Timeout()):
		ce.Reason = ReasonTimeout
		ce.Msg = fmt.Sprintf("%s: no answer within the timeout", what)
		ce.Hint = "check that the node is up and not overloaded, or raise timeout"
	case errors.Is(err, errHeaderTooLarge):
		ce.Reason = ReasonInvalidResponse
		ce.Msg = fmt.Sprintf("%s: %v", what, errHeaderTooLarge)
		ce.Hint = "check what answers at the URL (a proxy, or another service?)"
	case strings.Contains(err.Error(), unknownProductMsg):
		ce.Reason = ReasonNotElasticsearch
		ce.Msg = fmt.Sprintf("%s: the answer lacks the X-elastic-product: Elasticsearch header", what)
		ce.Hint = "the URL does not reach Elasticsearch (a proxy or another service answers); point urls at Elasticsearch's HTTP port"
	case errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalidErr):
		ce.Reason = ReasonTLS
		ce.Msg = fmt.Sprintf("%s: TLS certificate verification failed: %v", what, rootCause(err))
		ce.Hint = "set tls.ca_file to the CA that signed Elasticsearch's HTTP certificate, or tls.server_name to a name in it"
	case errors.As(err, &recordErr):
		ce.Reason = ReasonTLS
		ce.Msg = fmt.Sprintf("%s: the server does not speak TLS", what)
		ce.Hint = "use an http:// URL for this node, or enable TLS on its HTTP layer"
	case errors.As(err, &alertErr) || strings.Contains(err.Error(), "tls: "):
		ce.Reason = ReasonTLS
		ce.Msg = fmt.Sprintf("%s: TLS handshake failed: %v", what, rootCause(err))
		ce.Hint = "check tls.cert_file/tls.key_file if Elasticsearch requires a client certificate"
	case errors.Is(err, syscall.ECONNREFUSED):
		ce.Reason = ReasonConnection
		ce.Msg = fmt.Sprintf("%s: connection refused", what)
		ce.Hint = "check that Elasticsearch is running and listening on the configured URL"
	default:
		ce.Reason = ReasonConnection
		ce.Msg = fmt.Sprintf("%s: %v", what, rootCause(err))
		ce.Hint = "check the network path to Elasticsearch"
	}
	return ce
}

// rootCause strips the wrapping layers (url.Error with method and URL) that
// repeat what the message already says.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		if _, isNet := err.(*net.OpError); isNet {
			return err
		}
		err = u
	}
}

// esError is Elasticsearch's error envelope
// (ElasticsearchException.generateFailureXContent).
type esError struct {
	Error struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Status int `json:"status"`
}

var missingRoleRe = regexp.MustCompile(`does not have the \[remote_cluster_client\] role`)

// classifyStatus turns a non-2xx response into a CheckError. body is what
// was read of the response (possibly truncated).
func classifyStatus(what string, status int, header http.Header, body []byte) *CheckError {
	ce := &CheckError{Status: status}
	var ee esError
	fromES := header.Get("X-Elastic-Product") == "Elasticsearch"
	if err := json.Unmarshal(body, &ee); err == nil && ee.Error.Type != "" {
		ce.Type = ee.Error.Type
	}
	esReason := ee.Error.Reason
	detail := esReason
	if detail == "" {
		detail = snippet(body)
	}
	ce.Msg = fmt.Sprintf("%s: HTTP %d: %s", what, status, detail)
	switch code := status; {
	case code == http.StatusUnauthorized:
		ce.Reason = ReasonUnauthorized
		ce.Hint = "check username/password or api_key for this cluster"
	case code == http.StatusForbidden:
		ce.Reason = ReasonForbidden
		ce.Hint = "grant the privilege Elasticsearch names to the role of the exporter's user (docs/configuration.md, \"Privileges the exporter needs\")"
	case code == http.StatusBadRequest && missingRoleRe.MatchString(esReason):
		ce.Reason = ReasonMissingRole
		ce.Hint = "point urls at a node with the remote_cluster_client role (add it to node.roles), since _remote/info answers for the node that handles the request"
	case code == http.StatusTooManyRequests:
		// es_rejected_execution_exception or circuit_breaking_exception: the
		// node is overloaded, the request itself was fine.
		ce.Reason = ReasonServerError
		ce.Msg = fmt.Sprintf("%s: HTTP 429, Elasticsearch is overloaded and rejected the request: %s", what, detail)
		ce.Hint = "check the node's thread pools and circuit breakers; if it persists, raise poll_interval for this cluster"
	case code >= 500:
		ce.Reason = ReasonServerError
		if fromES {
			ce.Msg = fmt.Sprintf("%s: HTTP %d from Elasticsearch: %s", what, code, detail)
			ce.Hint = "check the Elasticsearch node's logs"
		} else {
			ce.Msg = fmt.Sprintf("%s: HTTP %d from something in front of Elasticsearch (no X-elastic-product header): %s", what, code, detail)
			ce.Hint = "check the proxy or load balancer between the exporter and Elasticsearch"
		}
	default:
		ce.Reason = ReasonClientError
		ce.Hint = "check that urls point at Elasticsearch's HTTP API root"
	}
	return ce
}

// invalidBody reports a 2xx body that is not what Elasticsearch sends.
func invalidBody(what string, body []byte, err error) *CheckError {
	msg := fmt.Sprintf("%s: response is not valid JSON (%v)", what, err)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		msg = fmt.Sprintf("%s: response body was cut short (%v)", what, err)
	} else if looksLikeHTML(body) {
		msg = fmt.Sprintf("%s: got an HTML page instead of JSON: %s", what, snippet(body))
	}
	return &CheckError{
		Reason: ReasonInvalidResponse, Status: http.StatusOK, Msg: msg, Err: err,
		Hint: "point urls at Elasticsearch's HTTP port, not at a proxy page or another service",
	}
}

func looksLikeHTML(b []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(b[:min(len(b), 256)])))
	return strings.HasPrefix(s, "<!doctype html") || strings.HasPrefix(s, "<html")
}

// snippet renders the start of a body for a log line: one line, bounded.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b[:min(len(b), 200)])), " ")
	if len(b) > 200 {
		s += "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
