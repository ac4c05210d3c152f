package dashboards

import (
	"fmt"
	"regexp"
)

// VarRef matches a Grafana variable reference in a query: $name, ${name} or
// ${name:format}. The first or second group is the name.
var VarRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// Substitute puts values in for the variable references of a dashboard
// expression, as Grafana would before sending it to Prometheus, so that the
// tests can hand it to promtool or to a real Prometheus. It fails on a
// reference values does not cover.
func Substitute(expr string, values map[string]string) (string, error) {
	var missing []string
	out := VarRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := VarRef.FindStringSubmatch(ref)
		v, ok := values[m[1]+m[2]]
		if !ok {
			missing = append(missing, ref)
		}
		return v
	})
	if len(missing) > 0 {
		return out, fmt.Errorf("%q: no substitution for %v", expr, missing)
	}
	return out, nil
}
