package main

import "github.com/prometheus/common/version"

// releaseVersion is the version every build reports, whichever way it is
// built (go build, go install, make build, the container): a release bumps
// it together with the newest heading of CHANGELOG.md (a test keeps them
// equal). The commit comes from Go's VCS stamping (version.GetRevision).
const releaseVersion = "0.1.0-dev"

func init() { applyVersion() }

// applyVersion sets the one version string, also over a -X linker flag
// that would make one build route report another version than the rest.
func applyVersion() { version.Version = releaseVersion }
