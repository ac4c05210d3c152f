// Package realcluster runs real Elasticsearch nodes for es_remote_exporter's
// tests: the integ-test-zip distribution from Maven Central (7.17, 8.19 and
// 9.x, each on the JDK it supports), unpacked into a cache outside the
// repository, started on 127.0.0.1 ports as separate processes that die with
// the test binary, linked to each other with remote-cluster settings, stopped,
// restarted and torn down without leftovers.
//
// Its tests run the exporter's collector against these nodes and compare
// the simulator's answers with the real ones (README.md: what was learned,
// what differs and why).
package realcluster
