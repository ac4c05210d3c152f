package simulator

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// obj is a JSON object whose keys keep the order in which they were added,
// so a response can follow Elasticsearch's toXContent field order exactly.
type obj []kv

type kv struct {
	k string
	v any
}

// set appends a field.
func (o obj) set(k string, v any) obj { return append(o, kv{k, v}) }

// encodeJSON renders v compactly, or the way Elasticsearch renders ?pretty:
// Jackson's DefaultPrettyPrinter with a two-space DefaultIndenter for both
// objects and arrays (JsonXContentGenerator.usePrettyPrint), " : " between
// a key and its value, "{ }" / "[ ]" for empty containers and a line feed at
// the end.
func encodeJSON(v any, pretty bool) []byte {
	var b strings.Builder
	writeValue(&b, v, pretty, 0)
	if pretty {
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func indent(b *strings.Builder, n int) {
	b.WriteByte('\n')
	for i := 0; i < n; i++ {
		b.WriteString("  ")
	}
}

func writeValue(b *strings.Builder, v any, pretty bool, depth int) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, t)
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(t, 'g', -1, 64))
	case obj:
		writeContainer(b, '{', '}', len(t), pretty, depth, func(i int) {
			writeString(b, t[i].k)
			if pretty {
				b.WriteString(" : ")
			} else {
				b.WriteByte(':')
			}
			writeValue(b, t[i].v, pretty, depth+1)
		})
	case []string:
		writeContainer(b, '[', ']', len(t), pretty, depth, func(i int) { writeString(b, t[i]) })
	case []any:
		writeContainer(b, '[', ']', len(t), pretty, depth, func(i int) { writeValue(b, t[i], pretty, depth+1) })
	default:
		panic("simulator: unsupported JSON value type")
	}
}

// writeContainer writes an object or array of n items as Jackson does:
// "{ }" / "[ ]" when empty and pretty, each item on its own indented line
// when pretty.
func writeContainer(b *strings.Builder, open, close byte, n int, pretty bool, depth int, item func(i int)) {
	if n == 0 {
		b.WriteByte(open)
		if pretty {
			b.WriteByte(' ')
		}
		b.WriteByte(close)
		return
	}
	b.WriteByte(open)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if pretty {
			indent(b, depth+1)
		}
		item(i)
	}
	if pretty {
		indent(b, depth)
	}
	b.WriteByte(close)
}

// writeString escapes like Jackson: quote, backslash and control characters;
// unlike encoding/json it leaves '<', '>' and '&' alone.
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xF])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\uFFFD`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
