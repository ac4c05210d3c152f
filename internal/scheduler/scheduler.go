// Package scheduler runs one polling loop per configured cluster: a start
// in one of a few shared slots, a shared bound on concurrent polls, no overlapping polls, and
// snapshots swapped into the collector's store. A slow cluster only ever
// delays itself.
package scheduler

import (
	"context"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/es-remote-exporter/es_remote_exporter/collector"
	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// Scheduler owns the per-cluster loops.
type Scheduler struct {
	store  *collector.Store
	fleet  *collector.Fleet // node lists of all clusters, for judging links
	logger *slog.Logger
	manual bool
	// slowEveryPoll: Options.SlowChecksEveryPoll.
	slowEveryPoll bool
	skipped       *prometheus.CounterVec
	polls         prometheus.Counter // es_remote_exporter_polls_total

	mu      sync.Mutex // guards workers and loops; held across Apply and Stop
	workers *workers
	loops   map[string]*loop

	pendingMu sync.Mutex
	pending   map[string]bool // clusters whose loop has not finished a first poll
}

// loop is one cluster's polling schedule: a timer that hands each poll to
// the scheduler's workers (no goroutine of the loop waits between polls).
type loop struct {
	cluster  config.Cluster
	roles    []string // config.RoleNames: depends on other clusters' links too
	apiKeys  bool     // config.APIKeysNamed: likewise
	probe    time.Duration
	interval time.Duration
	timeout  time.Duration
	poller   *collector.Poller
	cancel   context.CancelFunc
	done     chan struct{} // closed when the loop has stopped (stopLoop)

	mu      sync.Mutex  // guards timer and stopped between a poll and stopLoop
	timer   *time.Timer // fires the next poll
	stopped bool
}

// Options configure a Scheduler.
type Options struct {
	Store      *collector.Store
	Registerer prometheus.Registerer // for the scheduler's own metrics; nil = none
	Logger     *slog.Logger
	// Manual builds pollers but starts no loops: polls happen only through
	// PollAll (one-shot commands, benchmarks).
	Manual bool
	// SlowChecksEveryPoll runs the slow checks (probes, certificate
	// listings, settings, roles), which otherwise run every
	// transport.probe_interval, in every poll, so that each poll's facts
	// carry their judgements: for one-shot commands that read them.
	SlowChecksEveryPoll bool
}

// New returns a scheduler with no clusters; Apply gives it some.
func New(o Options) *Scheduler {
	s := &Scheduler{
		store:         o.Store,
		fleet:         collector.NewFleet(),
		logger:        o.Logger,
		manual:        o.Manual,
		slowEveryPoll: o.SlowChecksEveryPoll,
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "es_remote_exporter_polls_skipped_total",
			Help: "Scheduled polls not started because the cluster's previous poll was still running (polls are skipped, never queued).",
		}, []string{"es_cluster"}),
		polls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "es_remote_exporter_polls_total",
			Help: "Polls completed, of all clusters together (one poll runs every due check of one cluster).",
		}),
		loops:   map[string]*loop{},
		pending: map[string]bool{},
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(s.skipped, s.polls)
	}
	return s
}

// Apply makes the running loops match cfg: clusters whose settings did not
// change keep polling undisturbed; changed ones restart; removed ones stop
// and their metrics disappear. Every new poller is built before a running
// loop is touched, so an error leaves the old set running.
func (s *Scheduler) Apply(cfg *config.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	// Loops keep the workers they started with, so a new bound restarts
	// them all.
	want := max(cfg.MaxConcurrency, 1)
	restartAll := s.workers == nil || s.workers.size != want
	next := make(map[string]*loop, len(cfg.Clusters))
	for _, cl := range cfg.Clusters {
		interval, timeout := cfg.EffectivePollInterval(cl), cfg.EffectiveTimeout(cl)
		roles := cfg.RoleNames(cl.Name)
		apiKeys := cfg.APIKeysNamed(cl.Name)
		probe := cfg.EffectiveProbeInterval(cl)
		if s.slowEveryPoll {
			probe = 0
		}
		old, ok := s.loops[cl.Name]
		// The poller holds what a cluster has learned over time (failure
		// counts, when its versions became mixed, its connections): it is
		// rebuilt only when what it polls or how changed. A new interval
		// or concurrency bound only restarts its loop.
		if ok && old.timeout == timeout && old.probe == probe && reflect.DeepEqual(old.cluster, cl) && slices.Equal(old.roles, roles) && old.apiKeys == apiKeys {
			if !restartAll && old.interval == interval {
				next[cl.Name] = old
			} else {
				next[cl.Name] = &loop{cluster: cl, roles: roles, apiKeys: apiKeys, interval: interval, timeout: timeout, probe: probe, poller: old.poller}
			}
			continue
		}
		p, err := collector.NewPoller(cl, collector.PollerOptions{
			Timeout: timeout, ProbeInterval: probe, Logger: s.logger, Fleet: s.fleet,
			RoleNames: roles, APIKeysRequired: apiKeys,
		})
		if err != nil {
			for name, l := range next {
				if old := s.loops[name]; old == nil || old.poller != l.poller {
					l.poller.Close()
				}
			}
			return err
		}
		next[cl.Name] = &loop{cluster: cl, roles: roles, apiKeys: apiKeys, interval: interval, timeout: timeout, probe: probe, poller: p}
	}
	for name, l := range s.loops {
		if n := next[name]; n != l {
			s.stopLoop(name, l, n == nil, n == nil || n.poller != l.poller)
		}
	}
	if restartAll {
		if s.workers != nil {
			s.workers.stop() // its loops have all stopped
		}
		s.workers = newWorkers(want)
	}
	for name, l := range next {
		if l.done == nil && !s.manual {
			s.startLoop(name, l)
		}
	}
	s.loops = next
	return nil
}

func (s *Scheduler) startLoop(name string, l *loop) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	s.skipped.WithLabelValues(name) // exported as 0 from the start, so increase() sees the first skip
	first := !s.store.Has(name)
	if first {
		s.setPending(name, true)
	}
	s.run(ctx, name, l, s.workers, first)
}

// stopLoop cancels a loop and waits for it; removed clusters lose their
// metrics. closePoller is false when a new loop goes on with its poller.
func (s *Scheduler) stopLoop(name string, l *loop, removed, closePoller bool) {
	if l.cancel != nil {
		l.cancel()
		l.mu.Lock()
		l.stopped = true
		if l.timer.Stop() {
			close(l.done) // no poll was running, and none will start
		}
		l.mu.Unlock()
		<-l.done // else the running poll closes it when it ends
	}
	if closePoller {
		l.poller.Close()
	}
	s.setPending(name, false)
	if removed {
		s.store.Delete(name)
		s.fleet.Delete(name)
		s.skipped.DeleteLabelValues(name)
	}
}

func (s *Scheduler) setPending(name string, pending bool) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if pending {
		s.pending[name] = true
	} else {
		delete(s.pending, name)
	}
}

// pollSlots is how many start times the first polls share, evenly spaced
// over the first quarter of the poll interval (its end included); each cluster takes one at
// random and keeps its phase. So the exporter works in a few bursts per
// interval, up to max_concurrency polls at a time, and sleeps in between,
// instead of waking for every cluster at an instant of its own: on a small
// VM waking threads cost more CPU than the polls' own work (1,000 clusters
// at 5 s: 17-20 µs of system CPU per link-poll with every start its own,
// 4-6 with four slots; docs/performance.md).
const pollSlots = 4

// run starts one cluster's loop. The first poll starts in one of pollSlots
// slots; the goroutine its timer starts hands the poll to a worker, waits for
// it and sets the timer for the next, so between polls the loop holds no
// goroutine; a poll that overruns its interval makes the loop skip the ticks
// it missed.
func (s *Scheduler) run(ctx context.Context, name string, l *loop, w *workers, first bool) {
	var jitter time.Duration
	if first {
		jitter = time.Duration(rand.Int64N(pollSlots)+1) * (l.interval / 4 / pollSlots)
	}
	next := time.Now().Add(jitter)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = time.AfterFunc(jitter, func() {
		if ctx.Err() == nil {
			s.pollOnce(ctx, name, l, w)
		}
		next = next.Add(l.interval)
		now := time.Now()
		for !next.After(now) {
			next = next.Add(l.interval)
			s.skipped.WithLabelValues(name).Inc()
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.stopped {
			close(l.done) // stopLoop found this poll running and waits for it
			return
		}
		l.timer.Reset(next.Sub(now))
	})
}

// pollOnce polls one cluster on one of w's goroutines and stores the
// snapshot; nil when ctx ended before or during the poll.
func (s *Scheduler) pollOnce(ctx context.Context, name string, l *loop, w *workers) *collector.Facts {
	var facts *collector.Facts
	ran := make(chan struct{})
	poll := func() {
		defer close(ran)
		f, snap := l.poller.Poll(ctx)
		if ctx.Err() != nil {
			return // stopped or replaced mid-poll: its half-made snapshot is not the truth
		}
		s.store.Put(snap)
		s.polls.Inc()
		s.setPending(name, false)
		facts = f
	}
	if !w.run(ctx, poll) {
		return nil
	}
	<-ran
	return facts
}

// workers runs polls on up to size long-lived goroutines, so at most size
// at a time (max_concurrency), started as polls first need them. A poll's
// stack grows to tens of KB (TLS, JSON decoding); on a goroutine of its own
// it grew again in every poll, which cost 6% of the steady state's CPU
// (docs/performance.md).
type workers struct {
	size int
	jobs chan func()
	quit chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex // guards started and stopped against stop
	started int
	stopped bool
}

func newWorkers(size int) *workers {
	return &workers{size: size, jobs: make(chan func()), quit: make(chan struct{})}
}

// run hands job to an idle worker, or to a new one while fewer than size
// run, else waits for one; false when ctx ended or w stopped first.
func (w *workers) run(ctx context.Context, job func()) bool {
	select {
	case w.jobs <- job:
		return true
	default:
	}
	w.mu.Lock()
	if !w.stopped && w.started < w.size {
		w.started++
		w.wg.Go(func() { job(); w.serve() })
		w.mu.Unlock()
		return true
	}
	w.mu.Unlock()
	select {
	case w.jobs <- job:
		return true
	case <-ctx.Done():
		return false
	case <-w.quit:
		return false
	}
}

func (w *workers) serve() {
	for {
		select {
		case job := <-w.jobs:
			job()
		case <-w.quit:
			return
		}
	}
}

// stop ends the goroutines, after the polls they are running; nothing may
// use w after.
func (w *workers) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	close(w.quit)
	w.wg.Wait()
}

// Ready reports whether every configured cluster has finished its first poll.
func (s *Scheduler) Ready() bool {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	return len(s.pending) == 0
}

// PollAll polls every configured cluster once, at most MaxConcurrency at a
// time, and returns each cluster's facts by name. The snapshots go into the
// store as usual. It is for one-shot commands and benchmarks; the loops keep
// their own schedule. An Apply that changes max_concurrency, or a Stop,
// while it runs leaves out the clusters it had not started yet.
func (s *Scheduler) PollAll(ctx context.Context) map[string]*collector.Facts {
	s.mu.Lock()
	loops := maps.Clone(s.loops)
	w := s.workers
	s.mu.Unlock()

	var mu sync.Mutex
	out := make(map[string]*collector.Facts, len(loops))
	var wg sync.WaitGroup
	for name, l := range loops {
		wg.Go(func() {
			if facts := s.pollOnce(ctx, name, l, w); facts != nil {
				mu.Lock()
				out[name] = facts
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

// Stop ends every loop and waits for them.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, l := range s.loops {
		s.stopLoop(name, l, false, true)
	}
	s.loops = map[string]*loop{}
	if s.workers != nil {
		s.workers.stop()
		s.workers = nil
	}
}
