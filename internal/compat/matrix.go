package compat

import (
	"fmt"
	"io"
	"strings"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// TableVersions are the minors of the compatibility table, in its order.
func TableVersions() []esversion.Version {
	vs := []esversion.Version{tableFirst}
	for m := 0; m <= lastMinor[8]; m++ {
		vs = append(vs, esversion.Version{Major: 8, Minor: m})
	}
	for m := 0; m <= tableLast.Minor; m++ {
		vs = append(vs, esversion.Version{Major: 9, Minor: m})
	}
	return vs
}

// WriteMatrix prints the supported-pairs table as the exporter understands
// it: rows are local versions, columns remote versions; "y" supported, "-"
// not, with the wire verdict marked where it differs ("w": supported by the
// table but the handshake refuses it).
func WriteMatrix(w io.Writer) error {
	vs := TableVersions()
	var b strings.Builder
	b.WriteString("local\\remote")
	for _, r := range vs {
		fmt.Fprintf(&b, " %5s", r.MinorString())
	}
	b.WriteString("\n")
	for _, l := range vs {
		fmt.Fprintf(&b, "%-12s", l.MinorString())
		for _, r := range vs {
			cell := "-"
			if Supported(l, r).Status == Compatible {
				cell = "y"
				if Wire(l, r).Status == Incompatible {
					cell = "w"
				}
			}
			fmt.Fprintf(&b, " %5s", cell)
		}
		b.WriteString("\n")
	}
	b.WriteString("\ny = supported (compatibility table), - = not supported, w = supported but refused by the transport handshake\n")
	b.WriteString("Outside 7.17-9.3: same major, the remote is the local's previous minor or newer; across majors only\n")
	b.WriteString("the last minor (7.17, 8.19) to every minor of the next major, 8.18 -> 9.0, 8.0 -> 7.17 and 9.0 -> 8.18.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
