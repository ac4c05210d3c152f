package simulator

// esError is an ElasticsearchException as the REST layer renders it
// (ElasticsearchException.generateFailureXContent / innerToXContent):
//
//	{"error":{"root_cause":[{type,reason,<metadata>,header?}],type,reason,<metadata>,header?},"status":N}
//
// Metadata keys lose their "es." prefix; a header with one value is a JSON
// string, with several values an array (headerToXContent). No stack_trace is
// rendered because the simulator ignores error_trace.
type esError struct {
	status int
	typ    string
	reason any // string, or nil for exceptions without a message
	meta   obj // metadata fields, in order
	header obj // exception headers (WWW-Authenticate on 401)
	// securityFilter: the REST security filter refused the request
	// (authentication 401, authorization 403); see errorResponse.
	securityFilter bool
	// cause is the exception's cause, rendered as caused_by after the
	// metadata (innerToXContent) but not in root_cause, which names the
	// outermost exception when that is not an ElasticsearchException
	// (guessRootCauses).
	cause *esError
}

func (e esError) fields() obj {
	o := obj{}.set("type", e.typ).set("reason", e.reason)
	o = append(o, e.meta...)
	if e.cause != nil {
		o = o.set("caused_by", e.cause.fields())
	}
	if len(e.header) > 0 {
		o = o.set("header", e.header)
	}
	return o
}

func (e esError) body() obj {
	root := e
	root.cause = nil
	inner := obj{}.set("root_cause", []any{root.fields()})
	inner = append(inner, e.fields()...)
	return obj{}.set("error", inner).set("status", e.status)
}

func illegalArgument(reason string) esError {
	return esError{status: 400, typ: "illegal_argument_exception", reason: reason}
}

func securityException(status int, reason string) esError {
	return esError{status: status, typ: "security_exception", reason: reason}
}

// indexNotFound is IndexNotFoundException as IndexNameExpressionResolver
// throws it: setResources("index_or_alias", name) then setIndex(name). The
// metadata order below is the order seen in real responses (the metadata map
// is a HashMap; unverified that it is stable).
func indexNotFound(name string) esError {
	return esError{
		status: 404,
		typ:    "index_not_found_exception",
		reason: "no such index [" + name + "]",
		meta: obj{}.set("resource.type", "index_or_alias").set("resource.id", name).
			set("index_uuid", "_na_").set("index", name),
	}
}
