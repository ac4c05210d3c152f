package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// width is the text report's line width: an 80-column terminal.
const width = 80

// WriteJSON writes the report as indented JSON (the documented format).
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for a person: a summary line, the clusters,
// then every link's four steps. Evidence and fixes are shown for what is
// not OK; lines are wrapped to 80 columns.
func WriteText(w io.Writer, r Report) error {
	tw := &textWriter{w: w}
	counts := map[Status]int{}
	for _, l := range r.Links {
		counts[l.Status]++
	}
	tw.line("", fmt.Sprintf("es_remote_exporter check: %s (%s, %s: %d FAIL, %d WARN, %d OK)", r.Status,
		plural(len(r.Clusters), "cluster", "clusters"), plural(len(r.Links), "link", "links"),
		counts[Fail], counts[Warn], counts[OK]), "")
	tw.blank()
	tw.line("", "Clusters", "")
	for _, c := range r.Clusters {
		name := c.Name
		if c.Version != "" {
			name += " " + c.Version
		}
		tw.line("  "+pad(c.Status), name, "        ")
		for _, f := range c.Findings {
			if f.Status != OK {
				tw.finding("        ", f)
			}
		}
	}
	for _, l := range r.Links {
		tw.blank()
		head := l.Cluster + " -> " + l.Remote
		if l.RemoteCluster != "" {
			head += " (cluster " + l.RemoteCluster + ")"
		}
		tw.line(pad(l.Status), head, "      ")
		for i, s := range l.Steps {
			tw.line(fmt.Sprintf("  %d %-14s ", i+1, s.Name), string(s.Status), "    ")
			for _, f := range s.Findings {
				tw.finding("      ", f)
			}
		}
	}
	for _, n := range r.Notes {
		tw.blank()
		tw.line("Note: ", n, "      ")
	}
	return tw.err
}

func pad(s Status) string { return fmt.Sprintf("%-6s", s) }

type textWriter struct {
	w   io.Writer
	err error
}

// finding writes a finding at indent: its status and summary, then (unless
// OK) each piece of evidence and the fix.
func (tw *textWriter) finding(indent string, f Finding) {
	inner := indent + "      "
	tw.line(indent+pad(f.Status), f.Summary, inner)
	if f.Status == OK {
		return
	}
	for _, e := range f.Evidence {
		tw.line(inner+"- ", e, inner+"  ")
	}
	if f.Fix != "" {
		tw.line(inner+"fix: ", f.Fix, inner+"     ")
	}
}

func (tw *textWriter) blank() { tw.write("\n") }

// line writes text after prefix (written as is), wrapped at width, with
// continuation lines indented by cont. A word longer than a line (a DN, a
// URL) is not broken.
func (tw *textWriter) line(prefix, text, cont string) {
	var b strings.Builder
	cur := prefix
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word) > width {
			b.WriteString(cur + "\n")
			cur, empty = cont, true
		}
		if !empty {
			cur += " "
		}
		cur += word
		empty = false
	}
	b.WriteString(strings.TrimRight(cur, " ") + "\n")
	tw.write(b.String())
}

func (tw *textWriter) write(s string) {
	if tw.err == nil {
		_, tw.err = io.WriteString(tw.w, s)
	}
}
