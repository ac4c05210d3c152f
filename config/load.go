package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// LoadOptions says where Load reads configuration from.
type LoadOptions struct {
	// File is the YAML file; "" means none.
	File string
	// Environ is an os.Environ()-style "KEY=value" list; nil means none. Only ES_REMOTE_EXPORTER_*
	// variables are read.
	Environ []string
	// Flags may be nil. Only flags from RegisterFlags that the user explicitly set override.
	Flags *pflag.FlagSet
}

// Load builds the configuration from defaults < file < environment < explicitly set flags, reads
// password_file, api_key_file and transport.keystore_password_file into Password, APIKey and
// Transport.KeystorePassword (one trailing newline trimmed), and validates the result. Its error lists
// every problem found, one per line, each starting with the key path (and the environment variable or
// flag, when the value came from one).
func Load(opts LoadOptions) (*Config, error) {
	return load(opts, osOpen)
}

// layer is one configuration source as a raw koanf map.
type layer struct {
	src  source
	data map[string]any
}

func load(opts LoadOptions, open openFunc) (*Config, error) {
	var layers []layer
	if opts.File != "" {
		data, err := readConfigFile(opts.File)
		if err != nil {
			return nil, err
		}
		layers = append(layers, layer{src: fileSource{}, data: data})
	}
	envLayer, errs := readEnv(opts.Environ)
	layers = append(layers, envLayer)
	if opts.Flags != nil {
		layers = append(layers, readFlags(opts.Flags))
	}

	// Check each layer on its own first, so that an error names the file key, variable or flag the
	// user has to fix. Decoding into a scratch Config checks keys and types; the values are used only
	// after merging.
	for _, l := range layers {
		d := decoder{src: l.src}
		var scratch Config
		d.decodeStruct(nil, l.data, reflect.ValueOf(&scratch).Elem())
		errs = append(errs, d.errs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	merged, conflicts, err := mergeLayers(layers)
	if err != nil {
		return nil, err
	}
	cfg := Defaults()
	d := decoder{src: fileSource{}}
	d.decodeStruct(nil, merged, reflect.ValueOf(&cfg).Elem())
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...) // every layer decoded on its own, so this is a bug here
	}

	cfg.readSecretFiles(open)
	if err := errors.Join(append(conflicts, nameSources(cfg.validate(open), layers))...); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func readConfigFile(path string) (map[string]any, error) {
	b, err := file.Provider(path).ReadBytes()
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err) // the *PathError names the path
	}
	data, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, sanitizeYAMLError(err))
	}
	if data == nil { // empty file
		data = map[string]any{}
	}
	return data, nil
}

var yamlLine = regexp.MustCompile(`line \d+`)

// sanitizeYAMLError keeps the YAML parser's line information but drops the messages that quote file
// content (a type error quotes the start of the offending scalar, which may be a secret, e.g. when
// --config.file points at a password file). Syntax errors only name lines and keys.
func sanitizeYAMLError(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "cannot unmarshal") && !strings.Contains(msg, "invalid map key") {
		return err
	}
	where := "yaml"
	if l := yamlLine.FindString(msg); l != "" {
		where = "yaml: " + l
	}
	return fmt.Errorf("%s: the file must be a YAML mapping with keys such as poll_interval and clusters", where)
}

// readEnv reads ES_REMOTE_EXPORTER_* variables into a nested map: the prefix is dropped, the rest is
// lower-cased and "__" separates nesting levels, so CLUSTERS__0__TLS__CA_FILE becomes
// clusters -> 0 -> tls -> ca_file. Empty values become nil (unset) but stay in the map, so a typo in
// the name of an empty variable is still reported.
func readEnv(environ []string) (layer, []error) {
	src := envSource{names: map[string]string{}}
	var errs []error
	spellings := map[string][]string{} // key -> every variable name that sets it
	p := env.Provider(".", env.Opt{
		Prefix: EnvPrefix,
		TransformFunc: func(name, value string) (string, any) {
			key := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "__", ".")
			if key == "" {
				return "", nil
			}
			if !slices.Contains(spellings[key], name) {
				spellings[key] = append(spellings[key], name)
			}
			src.names[key] = name
			if value == "" {
				return key, nil
			}
			return key, value
		},
		EnvironFunc: func() []string { return environ },
	})
	data, err := p.Read()
	if err != nil { // the env provider never fails today
		return layer{src: src, data: map[string]any{}}, append(errs, fmt.Errorf("environment: %w", err))
	}
	// Which of two variables for one key wins depends on their order in the environment; so would
	// any other error about the key or its value, and the variable it names. The conflict is the
	// error to fix: it names every variable, sorted, and the key is dropped.
	for key, names := range spellings {
		if len(names) < 2 {
			continue
		}
		slices.Sort(names)
		if len(names) == 2 {
			errs = append(errs, fmt.Errorf("%s and %s both set %s; remove one", names[0], names[1], keyPathOf(key)))
		} else {
			errs = append(errs, fmt.Errorf("%s and %s all set %s; keep one", strings.Join(names[:len(names)-1], ", "),
				names[len(names)-1], keyPathOf(key)))
		}
		src.names[key] = names[0]
		dropKey(data, strings.Split(key, "."))
	}

	// TLS=x next to TLS__CA_FILE=y would silently lose one of them when the flat names are nested.
	keys := make([]string, 0, len(src.names))
	for k := range src.names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i := 0; i+1 < len(keys); i++ {
		if strings.HasPrefix(keys[i+1], keys[i]+".") {
			errs = append(errs, fmt.Errorf("%s conflicts with %s: %s is a section; set only its fields",
				src.names[keys[i]], src.names[keys[i+1]], keyPathOf(keys[i])))
			data = map[string]any{} // its shape is unreliable; the conflict is the error to fix
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return layer{src: src, data: data}, errs
}

// dropKey deletes the nested key path from m.
func dropKey(m map[string]any, path []string) {
	for len(path) > 1 {
		next, ok := m[path[0]].(map[string]any)
		if !ok {
			return
		}
		m, path = next, path[1:]
	}
	delete(m, path[0])
}

// keyPathOf renders a dotted koanf key (clusters.0.tls) as a key path (clusters[0].tls).
func keyPathOf(dotted string) string {
	var p keyPath
	for _, k := range strings.Split(dotted, ".") {
		if _, ok := parseIndex(k); ok && len(p) > 0 {
			p = p.index(k)
		} else {
			p = p.key(k)
		}
	}
	return p.String()
}

// readFlags returns the config keys of the flags the user explicitly set. A flag left at its default
// must not override the file or the environment, whatever its default is.
func readFlags(fs *pflag.FlagSet) layer {
	p := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		key, ok := flagKeys[f.Name]
		if !ok || !f.Changed {
			return "", nil
		}
		return key, posflag.FlagVal(fs, f)
	})
	data, _ := p.Read() // never fails
	return layer{src: flagSource{}, data: data}
}

// mapProvider hands an already parsed map to koanf.
type mapProvider map[string]any

func (m mapProvider) Read() (map[string]any, error) { return m, nil }
func (m mapProvider) ReadBytes() ([]byte, error) {
	return nil, errors.New("config: mapProvider has no bytes")
}

// mergeLayers merges the layers in order with koanf. koanf merges maps key by key but replaces lists
// whole, while an environment variable must override one field of one cluster. So the file's cluster
// list becomes a map keyed by index ("0", "1", ...), the same shape the environment produces, koanf
// merges them, and the result becomes a list again, which must have no gaps. conflicts are problems
// to report with the validation's.
func mergeLayers(layers []layer) (merged map[string]any, conflicts []error, err error) {
	k := koanf.New(".")
	fileClusters := 0
	for _, l := range layers {
		data := pruneNil(l.data) // unset never overrides
		if list, ok := data["clusters"].([]any); ok {
			byIndex := make(map[string]any, len(list))
			for i, c := range list {
				byIndex[strconv.Itoa(i)] = c
			}
			data["clusters"] = byIndex
			fileClusters = len(list)
		}
		conflicts = append(conflicts, replaceAlternatives(k, l.src, data)...)
		if err := k.Load(mapProvider(data), nil); err != nil {
			return nil, nil, fmt.Errorf("merging configuration: %w", err)
		}
	}
	merged = k.Raw()
	byIndex, ok := asMap(merged["clusters"])
	if !ok {
		return merged, conflicts, nil
	}
	list := make([]any, len(byIndex))
	var gaps []int
	for key, c := range byIndex {
		i, _ := parseIndex(key) // checked by decodeList
		if i >= len(list) {
			gaps = append(gaps, i)
			continue
		}
		list[i] = c
	}
	if len(gaps) > 0 {
		sort.Ints(gaps)
		missing := 0
		for missing < len(list) && list[missing] != nil {
			missing++
		}
		return nil, nil, fmt.Errorf("clusters[%d] (from %s): there is no clusters[%d]; cluster indexes must be "+
			"contiguous: the config file defines %d cluster(s), so clusters added by environment variables "+
			"take the next indexes, starting at %d",
			gaps[0], envName([]string{"clusters", strconv.Itoa(gaps[0])})+"__*", missing, fileClusters, fileClusters)
	}
	merged["clusters"] = list
	return merged, conflicts, nil
}

// nameSources says which environment variable or flag set the key each validation problem is about,
// as the decoder does for a layer's own problems: "poll_interval (from --es.poll-interval): ...".
// Keys from the file keep their plain path. The highest source that set a key is the one named.
func nameSources(err error, layers []layer) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	from := map[string]string{} // key path -> variable or flag
	for _, l := range layers {
		if _, file := l.src.(fileSource); file {
			continue
		}
		walkLeaves(nil, l.data, func(p keyPath) { from[p.String()] = l.src.spell(p) })
	}
	var out []error
	for _, e := range joined.Unwrap() {
		path, msg, found := strings.Cut(e.Error(), ": ")
		name, ok := from[path]
		if i := strings.LastIndex(path, "["); !ok && i > 0 && strings.HasSuffix(path, "]") {
			name, ok = from[path[:i]] // urls[1] of a list a variable set
		}
		if found && ok {
			e = fmt.Errorf("%s (from %s): %s", path, name, msg)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// walkLeaves calls fn with the key path of every value that is set in a layer's raw map (a list of
// clusters from the environment is a map keyed by index).
func walkLeaves(p keyPath, m map[string]any, fn func(keyPath)) {
	for k, v := range m {
		kp := p.key(k)
		if _, isIndex := parseIndex(k); isIndex && len(p) == 1 && p[0].key == "clusters" {
			kp = p.index(k)
		}
		switch sub, isMap := asMap(v); {
		case isMap:
			walkLeaves(kp, sub, fn)
		case v != nil:
			fn(kp)
		}
	}
}

// secretAlternatives are the keys of a cluster that say the same thing two ways: the inline secret
// and the file that holds it.
var secretAlternatives = [][2]string{{"password", "password_file"}, {"api_key", "api_key_file"}}

// replaceAlternatives applies one layer's choice between a secret and its file: a layer that sets one
// of the two removes the other from the layers below it, so a password from the environment (a
// Kubernetes Secret) overrides the password_file of a config file (a ConfigMap). A layer other than
// the file that sets both is an error naming both as that layer spells them (the file's own conflict
// is the validation's: it names the file's keys), and only its inline value is kept so that the
// validation does not report the conflict again.
func replaceAlternatives(k *koanf.Koanf, src source, data map[string]any) []error {
	clusters, _ := asMap(data["clusters"])
	var errs []error
	for _, i := range slices.Sorted(maps.Keys(clusters)) {
		cl, ok := asMap(clusters[i])
		if !ok {
			continue
		}
		p := keyPath{}.key("clusters").index(i)
		for _, pair := range secretAlternatives {
			_, a := cl[pair[0]]
			_, b := cl[pair[1]]
			switch {
			case a && b:
				if _, file := src.(fileSource); file {
					continue
				}
				errs = append(errs, fmt.Errorf("%s and %s are both set: set only one of %s and %s",
					src.subject(p.key(pair[0])), src.spell(p.key(pair[1])), pair[0], pair[1]))
				delete(cl, pair[1])
				k.Delete("clusters." + i + "." + pair[1])
			case a:
				k.Delete("clusters." + i + "." + pair[1])
			case b:
				k.Delete("clusters." + i + "." + pair[0])
			}
		}
	}
	return errs
}

// pruneNil returns a copy of m without nil values, recursively through maps.
func pruneNil(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		if mm, ok := asMap(v); ok {
			// A section whose every value was unset (CLUSTERS__1__NAME=) must not create clusters[1].
			if p := pruneNil(mm); len(p) > 0 || len(mm) == 0 {
				out[k] = p
			}
			continue
		}
		out[k] = v
	}
	return out
}
