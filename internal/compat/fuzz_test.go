package compat

import (
	"strings"
	"testing"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// FuzzJudge: the compatibility rules take versions, which come from strings
// Elasticsearch sends (GET / version.number, node versions). For any two
// that parse, the verdicts hold the rules' own invariants: the wire rule is
// symmetric, the supported rule is stated per minor (patch and qualifier
// change nothing), every verdict says which rule decided it, Overall
// combines the two as documented, and Worst over one pair agrees with Judge.
func FuzzJudge(f *testing.F) {
	vs := TableVersions()
	for i, l := range vs {
		r := vs[(i*7+3)%len(vs)]
		f.Add(l.String(), r.String())
	}
	for _, p := range [][2]string{
		{"7.17.29", "8.19.2"}, {"8.0.0", "7.17.0"}, {"9.0.0", "8.18.0"}, {"9.1.5", "8.18.3"},
		{"6.8.0", "7.17.0"}, {"10.0.0", "9.3.0"}, {"8.19.2-SNAPSHOT", "9.1.0-beta1"}, {"8.13", "8.12.2"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, ls, rs string) {
		l, lerr := esversion.Parse(ls)
		r, rerr := esversion.Parse(rs)
		if lerr != nil || rerr != nil {
			return
		}
		p := Judge(l, r)
		for _, v := range []Verdict{p.Supported, p.Wire, p.Overall()} {
			if v.Status != Unknown && v.Status != Compatible && v.Status != Incompatible {
				t.Fatalf("%s -> %s: status %d is none of the three", l, r, v.Status)
			}
			if strings.TrimSpace(v.Rule) == "" {
				t.Fatalf("%s -> %s: verdict %s without a rule", l, r, v.Status)
			}
		}

		if back := Wire(r, l); back.Status != p.Wire.Status {
			t.Errorf("wire is not symmetric: %s -> %s %s, back %s", l, r, p.Wire.Status, back.Status)
		}
		other := func(v esversion.Version) esversion.Version {
			v.Patch, v.Qualifier = v.Patch+13, "SNAPSHOT"
			return v
		}
		if s := Supported(other(l), other(r)).Status; s != p.Supported.Status {
			t.Errorf("supported changed with patch and qualifier: %s -> %s %s, %s -> %s %s",
				l, r, p.Supported.Status, other(l), other(r), s)
		}
		known := func(v esversion.Version) bool { return v.Major >= 7 && v.Major <= 9 }
		if (p.Supported.Status == Unknown) == (known(l) && known(r)) {
			t.Errorf("%s -> %s: supported %s, but both majors known = %v", l, r, p.Supported.Status, known(l) && known(r))
		}

		o := p.Overall()
		switch {
		case p.Wire.Status == Incompatible || p.Supported.Status == Incompatible:
			if o.Status != Incompatible {
				t.Errorf("%s -> %s: overall %s although a rule says incompatible", l, r, o.Status)
			}
		case p.Wire.Status == Compatible && p.Supported.Status == Compatible:
			if o.Status != Compatible {
				t.Errorf("%s -> %s: overall %s although both rules say compatible", l, r, o.Status)
			}
		default:
			if o.Status != Unknown {
				t.Errorf("%s -> %s: overall %s with an unknown rule and no incompatible one", l, r, o.Status)
			}
		}

		sup, wire, ok := Worst([]esversion.Version{l}, []esversion.Version{r})
		if !ok || sup.Supported.Status != p.Supported.Status || wire.Wire.Status != p.Wire.Status ||
			sup.Local != l || sup.Remote != r {
			t.Errorf("Worst of the one pair %s -> %s = %+v %+v %v, Judge = %+v", l, r, sup, wire, ok, p)
		}
	})
}
