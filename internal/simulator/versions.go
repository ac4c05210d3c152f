package simulator

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// esVersion bundles what a simulated node reports about its build. Only the
// values marked "verified" below come from recorded responses
// (/work/shared/es/responses) or Elasticsearch's source; the rest are
// plausible and marked unverified. parseESVersion derives every value once;
// the fields are plain values, so esVersion stays comparable.
type esVersion struct {
	v   esversion.Version
	str string // qualified version as ES prints it, e.g. "8.19.2"

	hash, date  string // build_hash, build_date (buildHashFor, buildDateFor)
	lucene      string // lucene_version (luceneVersion)
	transportID int64  // transport_version (transportVersionID)
	indexID     int64  // index_version (indexVersionID)
}

func parseESVersion(s string) (esVersion, error) {
	v, err := esversion.Parse(s)
	if err != nil {
		return esVersion{}, err
	}
	// The simulator plays 7.17 and every 8.x/9.x; older lines differ in too
	// many endpoints (no build_flavor rules, no product header before 7.14).
	if v.Major < 7 || (v.Major == 7 && v.Minor < 17) || v.Major > 9 {
		return esVersion{}, fmt.Errorf("version %q: the simulator plays 7.17.x, 8.x and 9.x only", s)
	}
	e := esVersion{v: v, str: v.String(), lucene: luceneVersion(v),
		transportID: transportVersionID(v), indexID: indexVersionID(v)}
	e.hash, e.date = buildHashFor(e.str), buildDateFor(v, e.str)
	return e, nil
}

func (e esVersion) atLeast(major, minor int) bool { return e.v.AtLeast(major, minor) }

// minWire is minimum_wire_compatibility_version (esversion, verified per NOTES).
func (e esVersion) minWire() esversion.Version {
	w, _ := esversion.MinimumWireCompatibility(e.v)
	return w
}

func (e esVersion) minIndex() string {
	s, _ := esversion.MinimumIndexCompatibility(e.v)
	return s
}

// wireCompatible is the handshake rule of NOTES.md "CCS/CCR version
// compatibility" (TransportHandshaker.ensureCompatibleVersion in 8.x/9.x,
// Version.isCompatible in 7.x): each side must be at least the other's
// minimum wire compatibility version.
func wireCompatible(a, b esVersion) bool {
	return a.v.Compare(b.minWire()) >= 0 && b.v.Compare(a.minWire()) >= 0
}

// lucene8 is the Lucene version of each 8.x minor.
var lucene8 = map[int]string{
	0: "9.0.0", 1: "9.0.0", 2: "9.1.0", 3: "9.2.0", 4: "9.3.0", 5: "9.4.1", 6: "9.4.2",
	7: "9.5.0", 8: "9.6.0", 9: "9.7.0", 10: "9.7.0", 11: "9.8.0", 12: "9.9.1", 13: "9.10.0",
	14: "9.10.0", 15: "9.11.1", 16: "9.12.0", 17: "9.12.0", 18: "9.12.1", 19: "9.12.2",
}

// luceneVersion per release line. Verified: 8.19 -> 9.12.2 and 9.0 -> 10.1.0
// (recorded GET / responses). Everything else is unverified (from memory of
// release notes).
func luceneVersion(v esversion.Version) string {
	if v.Major == 7 {
		return "8.11.1" // unverified (7.17.x ships Lucene 8.11.x)
	}
	if v.Major == 8 {
		if s, ok := lucene8[v.Minor]; ok {
			return s
		}
		return "9.12.2"
	}
	switch v.Minor {
	case 0:
		return "10.1.0" // verified (9.0.0 GET /)
	case 1:
		return "10.2.2" // unverified
	default:
		return "10.3.2" // unverified
	}
}

// transportIDs8 is the transport version id of each 8.x minor from 8.8
// (8.19 adds its patch number, see transportVersionID).
var transportIDs8 = map[int]int64{
	8: 8080099, 9: 8500020, 10: 8500061, 11: 8512001, 12: 8560000, 13: 8595000,
	14: 8636001, 15: 8702002, 16: 8772001, 17: 8797002, 18: 8840002, 19: 8841000,
}

// transportVersionID is the nodes-info transport_version integer (8.8+).
// Verified only for 8.19.2 (8841003, recorded sample); other values follow
// the TransportVersions id scheme but are unverified.
func transportVersionID(v esversion.Version) int64 {
	if v.Major == 7 {
		return 7170099 // V_7_17_0 (unverified for 7.17 patches)
	}
	if v.Major == 8 {
		if id, ok := transportIDs8[v.Minor]; ok {
			if v.Minor == 19 {
				return id + int64(v.Patch+1)
			}
			return id
		}
		return 8841000
	}
	return int64(9000009 + v.Minor*100000 + v.Patch) // unverified
}

// indexIDs8 is the index version id of each 8.x minor from 8.11.
var indexIDs8 = map[int]int64{
	11: 8500003, 12: 8500008, 13: 8503000, 14: 8505000, 15: 8512000, 16: 8518000,
	17: 8521000, 18: 8525000, 19: 8525000,
}

// indexVersionID is the nodes-info index_version integer (8.11+). Verified
// only for 8.19.2 (8525000); the rest is unverified.
func indexVersionID(v esversion.Version) int64 {
	if v.Major == 7 {
		return 7170099 // unverified
	}
	if v.Major == 8 {
		if id, ok := indexIDs8[v.Minor]; ok {
			return id
		}
		return 8525000
	}
	return int64(9009000 + v.Minor*12000) // unverified
}

// Known build hashes and dates (verified: recorded GET / responses). Other
// versions get a stable illustrative hash derived from the version string.
var knownBuilds = map[string][2]string{
	"8.19.2": {"c1c00e18ef14acd650768ff01f037eaede0c1f7b", "2025-08-11T10:07:54.721189302Z"},
	"9.0.0":  {"112859b85d50de2a7e63f73c8fc70b99eea24291", "2025-04-08T15:13:46.049795831Z"},
}

// buildHash is the version's build hash (GET / build_hash, nodes info,
// Warning headers), computed once by parseESVersion.
func buildHash(v esVersion) string { return v.hash }

// buildDate is the version's build date, computed once by parseESVersion.
func buildDate(v esVersion) string { return v.date }

func buildHashFor(str string) string {
	if b, ok := knownBuilds[str]; ok {
		return b[0]
	}
	sum := sha1.Sum([]byte("es-build " + str))
	return hex.EncodeToString(sum[:])
}

// buildDateFor has ES's format (ISO-8601 UTC with nanoseconds); the value
// itself is illustrative for versions not in knownBuilds.
func buildDateFor(v esversion.Version, str string) string {
	if b, ok := knownBuilds[str]; ok {
		return b[1]
	}
	base := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	months := (v.Major-7)*24 + v.Minor + v.Patch/2
	d := base.AddDate(0, months, v.Patch%28).Add(time.Duration(v.Patch*7919+v.Minor*104729) * time.Millisecond)
	return d.Format("2006-01-02T15:04:05.000000000Z")
}

// defaultRoles of a node without node.roles: every role of the default
// distribution (7.17 and later), sorted as nodes info prints them (verified
// against the 8.19 nodes-info sample; 7.17/9.x unverified but same role set).
func defaultRoles() []string {
	return []string{
		"data", "data_cold", "data_content", "data_frozen", "data_hot", "data_warm",
		"ingest", "master", "ml", "remote_cluster_client", "transform",
	}
}
