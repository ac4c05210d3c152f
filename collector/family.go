package collector

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
)

// A Family is one exported metric: its name, HELP, type and labels,
// declared in the file of the check that renders it (kube-state-metrics'
// family generators are the model). Families are rendered to exposition text
// by the renderer (render.go) instead of through a client_golang registry;
// what a registry would check is checked here instead, when the program
// starts (validateFamilies): valid and unique names, a declared type that is
// the type rendered, and (in the renderer) no duplicate series.
type Family struct {
	Name   string
	Type   string // "gauge" or "counter", as rendered in # TYPE
	Help   string
	Labels []string // in the order values are passed to the renderer

	index int // position in families: renderers keep samples by it
	// schedule is its check's schedule, and local its position among the
	// families of that schedule: a snapshot keeps each schedule's text in
	// an array of just those families.
	schedule schedule
	local    int
	order    []int // positions in Labels in exposition order: es_cluster first (render.go), the rest by name
	owner    string
}

// The label sets most families start with.
var (
	clusterLabels = []string{"es_cluster"}
	linkLabels    = []string{"es_cluster", "remote"}
)

const namespace = "es_remote"

// families lists every family in declaration order; exposition writes them
// sorted by name (familyOrder), as a registry's Gather does.
var (
	families    []*Family
	familyOrder []int
)

// gauge declares a gauge family es_remote_<subsystem>_<name>.
func gauge(subsystem, name, help string, labels ...string) *Family {
	return declare("gauge", subsystem, name, help, labels)
}

// counter declares a counter family; its name must end in _total.
func counter(subsystem, name, help string, labels ...string) *Family {
	return declare("counter", subsystem, name, help, labels)
}

func declare(typ, subsystem, name, help string, labels []string) *Family {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order[min(1, len(order)):], func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	f := &Family{Name: namespace + "_" + subsystem + "_" + name, Type: typ, Help: help, Labels: labels,
		index: len(families), order: order}
	families = append(families, f)
	return f
}

// Definitions returns every family the pollers export, sorted by name: for
// the README's metrics table and the tests that keep it honest.
func Definitions() []Family {
	out := make([]Family, len(familyOrder))
	for i, fi := range familyOrder {
		out[i] = *families[fi]
	}
	return out
}

// validateFamilies checks what a client_golang registry would check at
// registration; an invalid family is a programming error that must stop the
// program at start-up, not surface as a scrape Prometheus rejects.
func validateFamilies(fams []*Family) error {
	seen := map[string]bool{}
	for _, f := range fams {
		if !model.LegacyValidation.IsValidMetricName(f.Name) {
			return fmt.Errorf("collector: %q is not a valid metric name", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("collector: metric %q is declared twice", f.Name)
		}
		seen[f.Name] = true
		switch {
		case f.Type == "counter" && !strings.HasSuffix(f.Name, "_total"):
			return fmt.Errorf("collector: counter %q must end in _total", f.Name)
		case f.Type == "gauge" && strings.HasSuffix(f.Name, "_total"):
			return fmt.Errorf("collector: gauge %q must not end in _total (that suffix is for counters)", f.Name)
		case f.Type != "gauge" && f.Type != "counter":
			return fmt.Errorf("collector: metric %q has type %q; use gauge or counter", f.Name, f.Type)
		}
		if strings.TrimSpace(f.Help) == "" {
			return fmt.Errorf("collector: metric %q has no HELP text", f.Name)
		}
		if len(f.Labels) == 0 || f.Labels[0] != "es_cluster" {
			return fmt.Errorf("collector: metric %q: its first label must be es_cluster (snapshots keep each line without it)", f.Name)
		}
		labels := map[string]bool{}
		for _, l := range f.Labels {
			if !model.LegacyValidation.IsValidLabelName(l) || strings.HasPrefix(l, "__") {
				return fmt.Errorf("collector: metric %q: %q is not a valid label name", f.Name, l)
			}
			if labels[l] {
				return fmt.Errorf("collector: metric %q: label %q appears twice", f.Name, l)
			}
			labels[l] = true
		}
		if f.owner == "" {
			return fmt.Errorf("collector: metric %q belongs to no registered check; list it in its check's families", f.Name)
		}
	}
	return nil
}
