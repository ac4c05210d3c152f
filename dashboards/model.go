package dashboards

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"

	"github.com/es-remote-exporter/es_remote_exporter/alert"
)

// The parts of a Grafana dashboard that the tests read (the dashboard's own
// tests and the end-to-end test against a real Prometheus), parsed once here
// so that both read it the same way.

// Dashboard is a Grafana dashboard JSON model, the fields the tests read.
type Dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []Panel `json:"panels"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is one panel or row.
type Panel struct {
	ID              int             `json:"id"`
	Type            string          `json:"type"`
	Title           string          `json:"title"`
	Description     string          `json:"description"`
	Datasource      json.RawMessage `json:"datasource"`
	Targets         []Target        `json:"targets"`
	Panels          []Panel         `json:"panels"` // a collapsed row's panels
	Transformations []struct {
		ID      string `json:"id"`
		Options struct {
			IndexByName  map[string]int    `json:"indexByName"`
			RenameByName map[string]string `json:"renameByName"`
		} `json:"options"`
	} `json:"transformations"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string          `json:"refId"`
	Expr       string          `json:"expr"`
	Datasource json.RawMessage `json:"datasource"`
}

// Variable is one templating variable.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource json.RawMessage `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
}

// Load reads and parses a dashboard file.
func Load(path string) (Dashboard, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Dashboard{}, nil, err
	}
	var d Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return Dashboard{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, raw, nil
}

// QueryText is a query variable's query: a string in older dashboards, an
// object with a query field since Grafana 10.
func (v Variable) QueryText() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &o)
	return o.Query
}

// AllPanels flattens rows: panels of a collapsed row sit inside it.
func (d Dashboard) AllPanels() []Panel { return flatten(d.Panels) }

func flatten(ps []Panel) []Panel {
	var out []Panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// Expression is one PromQL expression of the dashboard: a panel query, or
// the selector of a label_values variable (LabelValues is then its label).
type Expression struct {
	Panel       *Panel // nil for a variable
	RefID       string
	Variable    string
	Expr        string
	LabelValues string
}

var labelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*(\w+)\s*\)\s*$`)

// Expressions returns every panel query and every query variable's
// selector, as written (variables not substituted). A query variable that is
// not label_values(<selector>, <label>) is an error, listed with the others.
func (d Dashboard) Expressions() ([]Expression, error) {
	var out []Expression
	var errs []error
	for _, p := range d.AllPanels() {
		for _, tg := range p.Targets {
			out = append(out, Expression{Panel: &p, RefID: tg.RefID, Expr: tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := v.QueryText()
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			errs = append(errs, fmt.Errorf("variable %s: query %q is not label_values(<selector>, <label>)", v.Name, q))
			continue
		}
		out = append(out, Expression{Variable: v.Name, Expr: m[1], LabelValues: m[2]})
	}
	return out, errors.Join(errs...)
}

// MetricName matches an es_remote_* metric name in PromQL or prose.
var MetricName = regexp.MustCompile(`es_remote_[a-z_]+`)

// UsedMetrics returns the es_remote_* metric names the rules (expressions,
// labels, annotations: their templates query metrics too) and the dashboard
// (queries, variables, panel descriptions) use, each with where. program is
// the exporter's name, which prose mentions and which is no metric.
func UsedMetrics(rules []alert.Rule, d Dashboard, program string) map[string][]string {
	used := map[string][]string{}
	note := func(where, text string) {
		for _, m := range MetricName.FindAllString(text, -1) {
			if m != program && !slices.Contains(used[m], where) {
				used[m] = append(used[m], where)
			}
		}
	}
	for _, r := range rules {
		where := "rule " + cmp.Or(r.Alert, r.Record)
		note(where, r.Expr)
		for _, v := range r.Labels {
			note(where, v)
		}
		for _, v := range r.Annotations {
			note(where, v)
		}
	}
	exprs, _ := d.Expressions() // a malformed variable is the caller's test to report
	for _, e := range exprs {
		where := "variable " + e.Variable
		if e.Panel != nil {
			where = fmt.Sprintf("panel %d query %s", e.Panel.ID, e.RefID)
		}
		note(where, e.Expr)
	}
	for _, p := range d.AllPanels() {
		note(fmt.Sprintf("panel %d description", p.ID), p.Description)
	}
	return used
}
