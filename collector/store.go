package collector

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Store holds the latest snapshot of every cluster and replays them on
// scrape. A scrape only reads memory: it never waits for a poll.
type Store struct {
	mu        sync.RWMutex
	snapshots map[string]*Snapshot
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{snapshots: map[string]*Snapshot{}} }

// Put swaps in a cluster's newest snapshot.
func (s *Store) Put(snap *Snapshot) {
	s.mu.Lock()
	s.snapshots[snap.Cluster] = snap
	s.mu.Unlock()
}

// Delete drops a cluster that is no longer configured.
func (s *Store) Delete(cluster string) {
	s.mu.Lock()
	delete(s.snapshots, cluster)
	s.mu.Unlock()
}

// Has reports whether a cluster has a snapshot yet.
func (s *Store) Has(cluster string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.snapshots[cluster]
	return ok
}

// Describe implements prometheus.Collector.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	snaps := make([]*Snapshot, 0, len(s.snapshots))
	for _, snap := range s.snapshots {
		snaps = append(snaps, snap)
	}
	s.mu.RUnlock()
	for _, snap := range snaps {
		for _, m := range snap.Metrics {
			ch <- m
		}
	}
}
