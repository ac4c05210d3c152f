package config

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every formatting and marshalling path shows instead of a Secret's value.
const redacted = "<redacted>"

// Secret holds a password or API key. Every way of printing, logging or marshalling it yields
// "<redacted>", so a Config can be logged or dumped without leaking credentials; Reveal returns the value
// for the one place that needs it (the HTTP client).
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return redacted }

// Format implements fmt.Formatter. Without it, verbs that do not apply to strings (%d, %t, ...) print
// "%!d(config.Secret=<the value>)", bypassing String.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML implements the yaml.Marshaler interface of go.yaml.in/yaml (v2 and v3).
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }
