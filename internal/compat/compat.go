// Package compat judges whether two Elasticsearch versions can work as local
// and remote cluster of a cross-cluster search or replication link. It is
// pure: versions in, verdicts out.
//
// Two rules, kept apart because they fail differently:
//   - Supported: Elastic's compatibility table (the spec's "Version
//     compatibility table", 7.17 to 9.3, cell by cell, including its
//     asymmetries) and, outside it, the documented policy. A pair outside the
//     table may still connect, but requests can fail to serialise.
//   - Wire: what the transport handshake enforces, so an incompatible pair
//     cannot connect at all: local >= remote.minimum_wire_compatibility_version
//     and remote >= local.minimum_wire_compatibility_version
//     (TransportHandshaker / TransportVersion.isCompatible in 8.x/9.x,
//     Version.isCompatible in 7.x).
package compat

import (
	"fmt"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// Status is a verdict's outcome. Unknown never means incompatible: it says
// no rule covers the pair (say, a major version this build has no facts for).
type Status int

const (
	Unknown Status = iota
	Compatible
	Incompatible
)

func (s Status) String() string {
	switch s {
	case Compatible:
		return "compatible"
	case Incompatible:
		return "incompatible"
	}
	return "unknown"
}

// Verdict is a judgement and the rule that decided it, in words.
type Verdict struct {
	Status Status
	Rule   string
}

// The table's range: cells inside it are the table's, cells outside the policy's.
var (
	tableFirst = esversion.Version{Major: 7, Minor: 17}
	tableLast  = esversion.Version{Major: 9, Minor: 3}
	// lastMinor is the final minor of each major with a successor; the
	// policy lets it reach every minor of the next major.
	lastMinor = map[int]int{7: 17, 8: 19}
)

func inTable(v esversion.Version) bool {
	v = minorOf(v)
	return v.Compare(tableFirst) >= 0 && v.Compare(tableLast) <= 0 &&
		(v.Major != 7 || v.Minor == 17)
}

// minorOf drops patch and qualifier: the rules are stated per minor.
func minorOf(v esversion.Version) esversion.Version {
	return esversion.Version{Major: v.Major, Minor: v.Minor}
}

// Supported judges local -> remote by the compatibility table and, outside
// it, by the documented policy.
func Supported(local, remote esversion.Version) Verdict {
	l, r := minorOf(local), minorOf(remote)
	pair := fmt.Sprintf("%s -> %s", l.MinorString(), r.MinorString())
	source := "the compatibility table"
	if !inTable(l) || !inTable(r) {
		source = "the compatibility policy (outside the table)"
	}
	switch supportedStatus(l, r) {
	case Compatible:
		return Verdict{Compatible, fmt.Sprintf("%s is supported by %s", pair, source)}
	case Incompatible:
		return Verdict{Incompatible, fmt.Sprintf("%s is not supported by %s", pair, source)}
	}
	return Verdict{Unknown, pair + ": no compatibility rule covers these versions"}
}

// policy encodes the rules the table follows; the tests prove that it
// reproduces every cell of the table. decided is false where no rule speaks.
func policy(l, r esversion.Version) (ok, decided bool) {
	known := func(v esversion.Version) bool { return v.Major >= 7 && v.Major <= 9 }
	if !known(l) || !known(r) {
		return false, false
	}
	switch {
	case l.Major == r.Major:
		// The remote is the local's previous minor, the same, or newer.
		return r.Minor >= l.Minor-1, true
	case r.Major == l.Major+1:
		// The last minor of a major reaches every minor of the next; 8.18
		// shipped together with 9.0 and reaches it too.
		if l.Minor == lastMinor[l.Major] {
			return true, true
		}
		return l.Major == 8 && l.Minor == 18 && r.Minor == 0, true
	case l.Major == r.Major+1:
		// Back across a major only from its first minor to the minor it
		// shipped with: 8.0 -> 7.17, 9.0 -> 8.18.
		shippedWith := map[int]esversion.Version{8: {Major: 7, Minor: 17}, 9: {Major: 8, Minor: 18}}
		return l.Minor == 0 && r == shippedWith[l.Major], true
	}
	return false, true // two majors apart
}

// Wire judges whether the transport handshake accepts the pair. It is
// symmetric and uses full versions (9.1 needs at least 8.19.0).
func Wire(local, remote esversion.Version) Verdict {
	w := wire(local, remote)
	switch {
	case w.status == Unknown:
		return Verdict{Unknown, fmt.Sprintf("no wire compatibility facts for %s and %s", local, remote)}
	case w.l.Compare(w.rMin) < 0:
		return Verdict{Incompatible, fmt.Sprintf("wire: %s is older than %s, the minimum wire compatibility version of %s", w.l, w.rMin, w.r)}
	case w.r.Compare(w.lMin) < 0:
		return Verdict{Incompatible, fmt.Sprintf("wire: %s is older than %s, the minimum wire compatibility version of %s", w.r, w.lMin, w.l)}
	}
	return Verdict{Compatible, fmt.Sprintf("wire: %s and %s accept each other (minimum wire versions %s and %s)", w.l, w.r, w.lMin, w.rMin)}
}

// wireFacts is the wire rule applied: both versions without qualifier,
// their minimum wire versions, and the outcome.
type wireFacts struct {
	status           Status
	l, r, lMin, rMin esversion.Version
}

func wire(local, remote esversion.Version) wireFacts {
	lMin, lok := esversion.MinimumWireCompatibility(local)
	rMin, rok := esversion.MinimumWireCompatibility(remote)
	w := wireFacts{l: stripQualifier(local), r: stripQualifier(remote), lMin: lMin, rMin: rMin}
	switch {
	case !lok || !rok:
		w.status = Unknown
	case w.l.Compare(rMin) < 0 || w.r.Compare(lMin) < 0:
		w.status = Incompatible
	default:
		w.status = Compatible
	}
	return w
}

func stripQualifier(v esversion.Version) esversion.Version {
	v.Qualifier = ""
	return v
}

// Pair is one local/remote node version pair and its verdicts.
type Pair struct {
	Local, Remote esversion.Version
	Supported     Verdict
	Wire          Verdict
}

// Judge returns both verdicts of one pair.
func Judge(local, remote esversion.Version) Pair {
	return Pair{Local: local, Remote: remote, Supported: Supported(local, remote), Wire: Wire(local, remote)}
}

// Overall combines a pair's two verdicts: incompatible if either rule says
// so, compatible if both do, else unknown.
func (p Pair) Overall() Verdict {
	switch {
	case p.Wire.Status == Incompatible:
		return p.Wire
	case p.Supported.Status == Incompatible:
		return p.Supported
	case p.Wire.Status == Compatible && p.Supported.Status == Compatible:
		return Verdict{Compatible, p.Supported.Rule + "; " + p.Wire.Rule}
	case p.Supported.Status == Unknown:
		return p.Supported
	}
	return p.Wire
}

// severity orders statuses from best to worst for picking a link's worst pair.
func severity(s Status) int {
	switch s {
	case Compatible:
		return 0
	case Unknown:
		return 1
	}
	return 2
}

// Worst judges every local version against every remote version and returns,
// per rule, the worst pair: a link is only as good as its worst node pair.
// ok is false when either side has no versions. The returned pairs carry
// statuses only (empty Rule texts), so judging many links stays cheap; call
// Judge on a pair for the words.
func Worst(locals, remotes []esversion.Version) (supported, wire Pair, ok bool) {
	if len(locals) == 0 || len(remotes) == 0 {
		return Pair{}, Pair{}, false
	}
	var supL, supR, wireL, wireR esversion.Version
	supSev, wireSev := -1, -1
	for _, l := range locals {
		for _, r := range remotes {
			if sev := severity(supportedStatus(l, r)); sev > supSev {
				supSev, supL, supR = sev, l, r
			}
			if sev := severity(wireStatus(l, r)); sev > wireSev {
				wireSev, wireL, wireR = sev, l, r
			}
		}
	}
	pair := func(l, r esversion.Version) Pair {
		return Pair{Local: l, Remote: r,
			Supported: Verdict{Status: supportedStatus(l, r)}, Wire: Verdict{Status: wireStatus(l, r)}}
	}
	return pair(supL, supR), pair(wireL, wireR), true
}

func supportedStatus(l, r esversion.Version) Status {
	ok, decided := policy(minorOf(l), minorOf(r))
	switch {
	case !decided:
		return Unknown
	case ok:
		return Compatible
	}
	return Incompatible
}

func wireStatus(l, r esversion.Version) Status { return wire(l, r).status }
