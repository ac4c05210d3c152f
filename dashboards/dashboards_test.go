package dashboards

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/es-remote-exporter/es_remote_exporter/alert"
	"github.com/es-remote-exporter/es_remote_exporter/internal/daemon"
	"github.com/es-remote-exporter/es_remote_exporter/internal/testtools"
)

const (
	dashboardFile = "es_remote_links.json"
	ruleFile      = "../alert/es_remote_exporter.rules.yml"
	// metricsGolden is a normalized /metrics scrape of the exporter, kept
	// by the cmd/es_remote_exporter tests: the list of what is exported.
	metricsGolden = "../cmd/es_remote_exporter/testdata/metrics.golden"
	dsUID         = "${datasource}"
)

// substitutions stand in for the dashboard's variables when its
// expressions are checked: what Grafana would put there.
var substitutions = map[string]string{
	"job":             ".*",
	"es_cluster":      ".*",
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__range":         "1h",
}

func load(t *testing.T) (Dashboard, []byte) {
	t.Helper()
	d, raw, err := Load(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	return d, raw
}

// expression is one PromQL expression of the dashboard and where it is.
type expression struct{ where, expr string }

func expressions(t *testing.T, d Dashboard) []expression {
	t.Helper()
	es, err := d.Expressions()
	if err != nil {
		t.Error(err)
	}
	out := make([]expression, len(es))
	for i, e := range es {
		out[i] = expression{"var_" + e.Variable, e.Expr}
		if e.Panel != nil {
			out[i].where = fmt.Sprintf("panel_%d_%s", e.Panel.ID, e.RefID)
		}
	}
	return out
}

func TestDashboardIsWellFormed(t *testing.T) {
	d, _ := load(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q: both are needed", d.Title, d.UID)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: want 36 or later (datasource references by uid)", d.SchemaVersion)
	}
	ids := map[int]string{}
	for _, p := range d.AllPanels() {
		if p.Title == "" {
			t.Errorf("panel %d (%s) has no title", p.ID, p.Type)
		}
		if prev, dup := ids[p.ID]; dup || p.ID <= 0 {
			t.Errorf("panel %q: id %d is not unique and positive (also %q)", p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			if len(p.Targets) > 0 {
				t.Errorf("row %q has queries", p.Title)
			}
		} else {
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query: no empty panels", p.Title)
			}
			if strings.TrimSpace(p.Description) == "" {
				t.Errorf("panel %q has no description", p.Title)
			}
		}
		checkDatasource(t, "panel "+p.Title, p.Datasource, true)
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q query %s: empty expr", p.Title, tg.RefID)
			}
			checkDatasource(t, fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), tg.Datasource, false)
		}
	}
}

// checkDatasource wants the dashboard's datasource variable, so that the
// dashboard works on any Grafana whatever its Prometheus is called.
func checkDatasource(t *testing.T, where string, raw json.RawMessage, required bool) {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			t.Errorf("%s: no datasource, want uid %s", where, dsUID)
		}
		return
	}
	var ds struct{ Type, UID string }
	if err := json.Unmarshal(raw, &ds); err != nil || ds.UID != dsUID || ds.Type != "prometheus" {
		t.Errorf("%s: datasource %s, want {\"type\": \"prometheus\", \"uid\": %q}", where, raw, dsUID)
	}
}

func TestVariables(t *testing.T) {
	d, raw := load(t)
	defined := map[string]Variable{}
	for _, v := range d.Templating.List {
		defined[v.Name] = v
	}
	if v := defined["datasource"]; v.Type != "datasource" || v.QueryText() != "prometheus" {
		t.Errorf("variable datasource: type %q query %q, want a prometheus datasource variable", v.Type, v.QueryText())
	}
	for _, name := range []string{"job", "es_cluster"} {
		v, ok := defined[name]
		if !ok || v.Type != "query" {
			t.Errorf("variable %s: missing or not a query variable", name)
			continue
		}
		checkDatasource(t, "variable "+name, v.Datasource, true)
	}
	if v := defined["es_cluster"]; !v.Multi || !v.IncludeAll {
		t.Errorf("variable es_cluster: multi %v includeAll %v, want both", v.Multi, v.IncludeAll)
	}
	// Every $var, ${var} or ${var:format} anywhere in the dashboard.
	used := map[string]bool{}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case string:
			for _, m := range VarRef.FindAllStringSubmatch(x, -1) {
				used[m[1]+m[2]] = true
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc)
	for name := range used {
		if _, ok := defined[name]; ok {
			continue
		}
		if _, builtin := substitutions[name]; builtin && strings.HasPrefix(name, "__") {
			continue
		}
		t.Errorf("$%s is used but not defined", name)
	}
}

// substitute puts in what Grafana would, so that promtool can parse it.
func substitute(t *testing.T, expr string) string {
	t.Helper()
	out, err := Substitute(expr, substitutions)
	if err != nil {
		t.Error(err)
	}
	return out
}

// TestPromQLIsValid checks every expression of the dashboard in one
// promtool run: one recording rule per expression, named after its panel
// and query so that promtool's error says which one is wrong.
func TestPromQLIsValid(t *testing.T) {
	promtool := testtools.Find(t, "prometheus", "promtool")
	d, _ := load(t)
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	for _, e := range expressions(t, d) {
		rules = append(rules, rule{Record: "dashboard:" + e.where, Expr: substitute(t, e.expr)})
	}
	if len(rules) == 0 {
		t.Fatal("no expressions found")
	}
	file := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	data, err := json.MarshalIndent(file, "", "  ") // JSON is YAML
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s\nexpressions:\n%s", err, out, data)
	}
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(rules)); !strings.Contains(string(out), want) {
		t.Fatalf("promtool check rules: want %q in\n%s", want, out)
	}
}

// TestUsedMetricsAreExported fails when a rule or panel refers to a metric
// the exporter does not export (a typo, or a metric renamed or not built
// yet), which would leave a panel empty or an alert that can never fire.
func TestUsedMetricsAreExported(t *testing.T) {
	exported := readGolden(t)
	rules, err := alert.LoadRules(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := load(t)
	expressions(t, d) // reports a malformed variable
	used := UsedMetrics(rules, d, daemon.Name)
	if len(used) == 0 {
		t.Fatal("found no metric names in the rules and the dashboard")
	}
	for _, m := range slices.Sorted(maps.Keys(used)) {
		if !exported[m] {
			t.Errorf("%s is used in %s but %s does not export it", m, strings.Join(used[m], ", "), metricsGolden)
		}
	}
}

// readGolden returns the metric names of the golden /metrics scrape: the
// names of # HELP / # TYPE lines and of samples.
func readGolden(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(metricsGolden)
	if err != nil {
		t.Fatalf("%v: the list of exported metrics is the golden /metrics scrape that the cmd/es_remote_exporter tests write; generate it first", err)
	}
	defer f.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE "):
			if fields := strings.Fields(line); len(fields) >= 3 {
				names[fields[2]] = true
			}
		case strings.HasPrefix(line, "#"):
		default:
			if i := strings.IndexAny(line, "{ "); i > 0 {
				names[line[:i]] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("%s: no metrics in it", metricsGolden)
	}
	return names
}

// outputLabels are the labels a table query's result can have: those its
// aggregations keep (by (...)) and those a join copies (group_left(...)).
var outputLabels = regexp.MustCompile(`(?:\bby|group_left)\s*\(([^)]*)\)`)

// TestTableColumnsExist catches a table whose column settings were copied
// from another panel: every column it renames or orders must be a label its
// queries return, or a query's value (Value, or "Value #<refId>" when a
// table has several queries).
func TestTableColumnsExist(t *testing.T) {
	d, _ := load(t)
	for _, p := range d.AllPanels() {
		if p.Type != "table" {
			continue
		}
		columns := map[string]bool{"Time": true}
		for _, tg := range p.Targets {
			for _, m := range outputLabels.FindAllStringSubmatch(tg.Expr, -1) {
				for l := range strings.SplitSeq(m[1], ",") {
					columns[strings.TrimSpace(l)] = true
				}
			}
			if len(p.Targets) == 1 {
				columns["Value"] = true
			} else {
				columns["Value #"+tg.RefID] = true
			}
		}
		for _, tr := range p.Transformations {
			if tr.ID != "organize" {
				continue
			}
			for col := range tr.Options.RenameByName {
				if !columns[col] {
					t.Errorf("table %q renames column %q, which its queries do not return", p.Title, col)
				}
			}
			for col := range tr.Options.IndexByName {
				if !columns[col] {
					t.Errorf("table %q orders column %q, which its queries do not return", p.Title, col)
				}
			}
		}
	}
}
