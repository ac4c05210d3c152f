package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The decoder turns one raw koanf map (from the file, the environment, the flags, or all of them merged)
// into Config fields. It is written here rather than left to koanf's mapstructure Unmarshal because it
// must (1) name every problem by its key path and by where it came from (a file key or an environment
// variable), (2) report unknown keys with a suggestion, and (3) never echo a value that may be a secret:
// mapstructure's errors quote the offending value.

// pathElem is one step of a key path: a map key, or a list index.
type pathElem struct {
	key   string // the key as written, or the decimal index
	index bool
}

// keyPath locates a value, e.g. clusters[0].tls.ca_file.
type keyPath []pathElem

func (p keyPath) key(k string) keyPath {
	return append(p[:len(p):len(p)], pathElem{key: k})
}

func (p keyPath) index(i string) keyPath {
	return append(p[:len(p):len(p)], pathElem{key: i, index: true})
}

// String renders the path as users write it in errors: clusters[0].tls.ca_file.
func (p keyPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.index:
			b.WriteString("[" + e.key + "]")
		case i > 0:
			b.WriteString("." + e.key)
		default:
			b.WriteString(e.key)
		}
	}
	return b.String()
}

// keys returns the raw keys, as koanf and environment variable names nest them.
func (p keyPath) keys() []string {
	out := make([]string, len(p))
	for i, e := range p {
		out[i] = e.key
	}
	return out
}

// source names key paths in errors the way the user wrote them in one configuration layer.
type source interface {
	// subject is what an error about p starts with.
	subject(p keyPath) string
	// spell is how the user would write p in this layer (for "did you mean ...?").
	spell(p keyPath) string
	// indexMaps reports whether lists of clusters may come as maps keyed by index (the environment).
	indexMaps() bool
}

// fileSource names paths as YAML key paths. It also names the merged configuration.
type fileSource struct{}

func (fileSource) subject(p keyPath) string { return p.String() }
func (fileSource) spell(p keyPath) string   { return p.String() }
func (fileSource) indexMaps() bool          { return false }

// envSource names paths by key path and environment variable.
type envSource struct {
	names map[string]string // koanf key (clusters.0.tls.ca_file) -> variable name as given
}

func (s envSource) subject(p keyPath) string { return p.String() + " (from " + s.spell(p) + ")" }
func (s envSource) spell(p keyPath) string {
	if n, ok := s.names[strings.Join(p.keys(), ".")]; ok {
		return n
	}
	return envName(p.keys())
}
func (envSource) indexMaps() bool { return true }

// envName is the environment variable that sets the key path keys.
func envName(keys []string) string {
	return EnvPrefix + strings.ToUpper(strings.Join(keys, "__"))
}

// flagSource names paths by key path and the flag that set them.
type flagSource struct{}

func (flagSource) subject(p keyPath) string {
	return p.String() + " (from " + flagSource{}.spell(p) + ")"
}
func (flagSource) spell(p keyPath) string {
	for name, key := range flagKeys {
		if key == p.String() {
			return "--" + name
		}
	}
	return p.String()
}
func (flagSource) indexMaps() bool { return false }

// decoder decodes raw maps into struct fields by their koanf tags, collecting every problem.
type decoder struct {
	src  source
	errs []error
}

func (d *decoder) errorf(p keyPath, format string, args ...any) {
	d.errs = append(d.errs, errors.New(d.src.subject(p)+": "+fmt.Sprintf(format, args...)))
}

var durationType = reflect.TypeFor[time.Duration]()

// decodeStruct decodes the mapping raw into the struct v; keys absent from raw leave fields alone, so
// decoding onto Defaults() keeps the defaults.
func (d *decoder) decodeStruct(p keyPath, raw any, v reflect.Value) {
	m, ok := asMap(raw)
	if !ok {
		d.errorf(p, "must be a mapping with the keys %s, not %s", strings.Join(tagNames(v.Type()), ", "), describe(raw))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		i, ok := fieldByTag(v.Type(), k)
		if !ok {
			d.unknownKey(p, k, v.Type())
			continue
		}
		d.decodeValue(p.key(k), m[k], v.Field(i))
	}
}

func (d *decoder) unknownKey(p keyPath, k string, t reflect.Type) {
	valid := tagNames(t)
	if s, ok := Suggest(k, valid); ok {
		d.errorf(p.key(k), "unknown key; did you mean %s?", d.src.spell(p.key(s)))
		return
	}
	msg := "unknown key; valid keys here are " + strings.Join(valid, ", ")
	if _, isEnv := d.src.(envSource); isEnv {
		// CLUSTERS_0_PASSWORD instead of CLUSTERS__0__PASSWORD is the likely mistake.
		for _, v := range valid {
			if strings.HasPrefix(k, v+"_") {
				msg += "; nesting levels in variable names are separated by a double underscore, e.g. " +
					EnvPrefix + "CLUSTERS__0__TLS__CA_FILE"
				break
			}
		}
	}
	d.errorf(p.key(k), "%s", msg)
}

// decodeValue decodes one raw value into v. A nil raw value (YAML null, empty variable) leaves v alone.
func (d *decoder) decodeValue(p keyPath, raw any, v reflect.Value) {
	if raw == nil {
		return
	}
	if v.Type() == durationType {
		d.decodeDuration(p, raw, v)
		return
	}
	switch v.Kind() {
	case reflect.String:
		// Only real strings: a YAML number or boolean would be silently reformatted (password: 0123
		// parses as 123), and a mapping or list is a mistake. The value is never echoed: it may be secret.
		s, ok := raw.(string)
		if !ok {
			d.errorf(p, "must be a string, not %s%s", describe(raw), quoteHint(raw))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		switch x := raw.(type) {
		case bool:
			v.SetBool(x)
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil {
				d.errorf(p, "must be true or false, not %q", x)
				return
			}
			v.SetBool(b)
		default:
			d.errorf(p, "must be true or false, not %s", describe(raw))
		}
	case reflect.Int:
		n, ok := toInt(raw)
		if !ok {
			if s, isStr := raw.(string); isStr {
				d.errorf(p, "must be a whole number, not %q", s)
			} else {
				d.errorf(p, "must be a whole number, not %s", describe(raw))
			}
			return
		}
		v.SetInt(int64(n))
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			d.decodeStrings(p, raw, v)
		} else {
			d.decodeList(p, raw, v)
		}
	case reflect.Struct:
		d.decodeStruct(p, raw, v)
	case reflect.Map:
		d.decodeMap(p, raw, v)
	default:
		panic(fmt.Sprintf("config: no decoder for %s at %s", v.Type(), p))
	}
}

// decodeMap decodes a mapping of names to structs (clusters[].links); an
// entry that exists already is decoded onto, so layers merge per field.
func (d *decoder) decodeMap(p keyPath, raw any, v reflect.Value) {
	m, ok := asMap(raw)
	if !ok {
		d.errorf(p, "must be a mapping of names to settings, not %s", describe(raw))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(reflect.ValueOf(k)); old.IsValid() {
			elem.Set(old)
		}
		d.decodeValue(p.key(k), m[k], elem)
		v.SetMapIndex(reflect.ValueOf(k), elem)
	}
}

func (d *decoder) decodeDuration(p keyPath, raw any, v reflect.Value) {
	switch x := raw.(type) {
	case time.Duration:
		v.SetInt(int64(x))
	case string:
		dur, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			d.errorf(p, "%q is not a duration; write a number with a unit, like \"30s\", \"1m30s\" or \"500ms\"", x)
			return
		}
		v.SetInt(int64(dur))
	default:
		// A bare number has no unit: 30 would mean 30ns to time.Duration. Only 0 is unambiguous.
		if n, ok := toInt(raw); ok && n == 0 {
			v.SetInt(0)
			return
		}
		d.errorf(p, "must be a duration with a unit, like \"30s\" or \"1m30s\", not %s", describe(raw))
	}
}

// decodeStrings accepts a list of strings or one string of comma-separated items (how environment
// variables carry lists).
func (d *decoder) decodeStrings(p keyPath, raw any, v reflect.Value) {
	var out []string
	switch x := raw.(type) {
	case string:
		for item := range strings.SplitSeq(x, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	case []string:
		out = slices.Clone(x)
	case []any:
		out = make([]string, 0, len(x))
		for i, item := range x {
			s, ok := item.(string)
			if !ok {
				d.errorf(p.index(strconv.Itoa(i)), "must be a string, not %s%s", describe(item), quoteHint(item))
				continue
			}
			out = append(out, s)
		}
	default:
		d.errorf(p, "must be a list of strings, not %s", describe(raw))
		return
	}
	v.Set(reflect.ValueOf(out))
}

// decodeList decodes a list of structs (clusters). From the environment the list comes as a map keyed
// by index; those entries are only checked here, because they are merged into the file's list by index
// before the final decode (see mergeLayers).
func (d *decoder) decodeList(p keyPath, raw any, v reflect.Value) {
	elemType := v.Type().Elem()
	if list, ok := raw.([]any); ok {
		out := reflect.MakeSlice(v.Type(), len(list), len(list))
		for i, item := range list {
			d.decodeStruct(p.index(strconv.Itoa(i)), item, out.Index(i))
		}
		v.Set(out)
		return
	}
	if m, ok := asMap(raw); ok && d.src.indexMaps() {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if _, ok := parseIndex(k); !ok {
				d.errorf(p.key(k), "%q is not a list index; use %s with 0 for the first entry, 1 for the second, ...",
					k, d.src.spell(p.key("<index>").key("<key>")))
				continue
			}
			d.decodeStruct(p.index(k), m[k], reflect.New(elemType).Elem())
		}
		return
	}
	if d.src.indexMaps() {
		d.errorf(p, "cannot be set as a whole; set one field of one entry, like %s",
			d.src.spell(p.key("0").key("name")))
		return
	}
	d.errorf(p, "must be a list (each entry starting with \"- \"), not %s", describe(raw))
}

// parseIndex accepts only canonical non-negative decimal indexes, so that 0 and 00 cannot both name
// clusters[0].
func parseIndex(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

func toInt(raw any) (int, bool) {
	switch x := raw.(type) {
	case int:
		return x, true
	case int64:
		return int(x), int64(int(x)) == x
	case uint64:
		return int(x), x <= uint64(int(^uint(0)>>1))
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

// asMap accepts both map shapes a YAML decoder produces.
func asMap(raw any) (map[string]any, bool) {
	switch m := raw.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out, true
	}
	return nil, false
}

// describe names the kind of a raw value without showing it.
func describe(raw any) string {
	switch raw.(type) {
	case nil:
		return "nothing (an empty entry)"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, time.Duration:
		return "a number"
	case float64:
		return "a fractional number"
	case []any, []string:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	case time.Time:
		return "a timestamp"
	}
	return fmt.Sprintf("a %T", raw)
}

func quoteHint(raw any) string {
	switch raw.(type) {
	case bool, int, int64, uint64, float64, time.Time:
		return " (put the value in quotes)"
	}
	return ""
}

// keyOf returns the config key of a struct field: its koanf tag. A field without a tag or tagged "-"
// (a value Load derives, like Transport.KeystorePassword) is no key: no file, variable or flag sets it,
// and it is not listed among the valid keys.
func keyOf(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("koanf")
	return tag, tag != "" && tag != "-"
}

func fieldByTag(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		if k, ok := keyOf(t.Field(i)); ok && k == key {
			return i, true
		}
	}
	return 0, false
}

func tagNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if k, ok := keyOf(t.Field(i)); ok {
			out = append(out, k)
		}
	}
	return out
}

// Suggest returns the valid name closest to k, if it is close enough to be a likely typo. Case and
// '-' versus '_' do not count: the command line uses it for flag names too.
func Suggest(k string, valid []string) (string, bool) {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	best, bestDist := "", -1
	for _, v := range valid {
		dist := osaDistance(norm(k), norm(v))
		if dist <= max(1, len(v)/3) && (bestDist < 0 || dist < bestDist) {
			best, bestDist = v, dist
		}
	}
	return best, bestDist >= 0
}

// osaDistance is the optimal string alignment distance: edits, where swapping two adjacent characters
// (ca_fiel) counts as one.
func osaDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
