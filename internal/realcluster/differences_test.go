package realcluster

import "regexp"

// knownDifferences lists every difference TestSimulatorConformance finds
// between real Elasticsearch (the integ-test-zip, run by this harness) and
// the simulator, each with its reason. Version "" matches every version,
// Request "" every request; What is a regular expression over the
// difference's text. README.md explains each group.
var knownDifferences = []struct {
	Version, Request, What, Reason string
}{
	// 1. Simulator gaps: the simulator should change (README, "What the
	//    simulator should change").
	{"", "", `^\$\.nodes\.\*\.component_versions\.api_key_version: real number, sim absent$`,
		"sim gap: 8.x/9.x nodes report component_versions.api_key_version (8150099 on 8.19.8 and 9.2.0, from x-pack-security); the simulator lists ml_config_version and transform_config_version only"},

	// 2. The integ-test-zip is not the default distribution: it carries
	//    transport-netty4, x-pack-core, x-pack-security (and apm on 8.x/9.x)
	//    only. What the missing plugins add is absent from the real answers;
	//    the simulator plays the default distribution.
	{"", "", `^\$\.nodes\.\*\.(settings\.node\.attr|attributes)\.(ml|transform)\.[a-z_]+: sim string, real absent$`,
		"distribution: the ml.* and transform.* node attributes come from the ML and transform plugins, absent from the integ-test-zip"},
	{V8, "/_xpack?categories=features", ``,
		"distribution: 8.x/9.x GET /_xpack with features fails with 500 (failed to find action [cluster:monitor/xpack/info/monitoring]): TransportXPackInfoAction asks every feature in XPackInfoFeatureAction.ALL and the plugins that register most of them are absent"},
	{V9, "/_xpack?categories=features", ``,
		"distribution: as for 8.19 (same TransportXPackInfoAction behaviour)"},
	{V7, "/_xpack?categories=features", `^\$\.features\.[a-z_]+(\.available|\.enabled)?: sim (object|bool), real absent$`,
		"distribution: 7.17's _xpack lists only the features of installed plugins (security, and those x-pack-core registers); the simulator lists the default distribution's"},

	// 3. The harness's elasticsearch.yml: settings a real deployment has in
	//    some form but the simulator's node does not report.
	{"", "/_nodes/_all/settings?flat_settings=true", `^\$\.nodes\.\*\.settings\.(http\.port|transport\.port|path\.data|node\.portsfile|discovery\.type|discovery\.seed_hosts(\[\])?|cluster\.initial_master_nodes(\[\])?|cluster\.routing\.allocation\.disk\.threshold_enabled): real (string|array), sim absent$`,
		"harness: ports, data path, discovery and disk settings the harness writes into elasticsearch.yml"},
}

func knownDifferenceRE(i int) *regexp.Regexp { return knownDifferenceREs[i] }

var knownDifferenceREs = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(knownDifferences))
	for i, k := range knownDifferences {
		out[i] = regexp.MustCompile(k.What)
	}
	return out
}()
