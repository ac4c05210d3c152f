package compat

import (
	"fmt"

	"github.com/es-remote-exporter/es_remote_exporter/internal/esversion"
)

// CCR judges whether a follower index on the local cluster (version local)
// can replicate from a leader index on the remote cluster (version remote).
// Elastic's cross-cluster replication prerequisites: "The Elasticsearch
// version of the local cluster must be the same as or newer than the
// remote cluster. If newer, the versions must also be compatible"
// (Cross-cluster replication overview, 7.x and 8.x reference; the upgrade
// guide's consequence: upgrade the clusters with follower indices first,
// the leaders last, since Lucene is not forward compatible). So a pair is
// compatible when the follower is not older (full versions) and the pair
// is supported; incompatible when the follower is older or the pair is
// not supported; unknown when no rule covers the pair.
func CCR(local, remote esversion.Version) Verdict {
	if followerOlder(local, remote) {
		return Verdict{Incompatible, fmt.Sprintf("ccr: the follower cluster's %s is older than the leader cluster's %s; "+
			"a follower must run the same or a newer version (upgrade followers first, leaders last)", local, remote)}
	}
	s := Supported(local, remote)
	if s.Status != Compatible {
		return Verdict{s.Status, "ccr: " + s.Rule}
	}
	return Verdict{Compatible, fmt.Sprintf("ccr: the follower cluster's %s is the same as or newer than the leader cluster's %s, and %s", local, remote, s.Rule)}
}

// followerOlder: the follower (local) runs an older version than the
// leader (remote), pre-release qualifiers aside.
func followerOlder(local, remote esversion.Version) bool {
	return stripQualifier(local).Compare(stripQualifier(remote)) < 0
}

func ccrStatus(l, r esversion.Version) Status {
	if followerOlder(l, r) {
		return Incompatible
	}
	return supportedStatus(l, r)
}

// WorstCCR is Worst for the replication rule: the worst follower/leader
// node pair of a link (status only; call CCR on it for the words). ok is
// false when either side has no versions.
func WorstCCR(locals, remotes []esversion.Version) (local, remote esversion.Version, v Verdict, ok bool) {
	if len(locals) == 0 || len(remotes) == 0 {
		return local, remote, Verdict{}, false
	}
	sev := -1
	for _, l := range locals {
		for _, r := range remotes {
			st := ccrStatus(l, r)
			if s := severity(st); s > sev {
				sev, local, remote, v = s, l, r, Verdict{Status: st}
			}
		}
	}
	return local, remote, v, true
}
