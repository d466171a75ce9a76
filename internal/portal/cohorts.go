package portal

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// cohortServers hold one Server per cohort that was asked for lately, created on the
// first authorized request and loaded on demand: a cohort's documents are read again
// on a request that comes at least refresh after the last load (every firstRetry while
// they were never loaded). A cohort unused for idle is dropped, and when max cohorts
// are held the one used least recently makes room for a new one.
type cohortServers struct {
	client    kubernetes.Interface
	namespace string
	refresh   time.Duration
	idle      time.Duration
	max       int
	clock     clock.PassiveClock
	metrics   *metrics

	mu      sync.Mutex
	servers map[string]*cohortServer
	// uses counts the uses, ordering them when two fall on one clock reading.
	uses uint64
}

// cohortServer is one cohort's Server and the state of its loads.
type cohortServer struct {
	server *Server
	// lastUsed and lastUse (the use's number) are guarded by cohortServers.mu.
	lastUsed time.Time
	lastUse  uint64

	// loading is held during a load; lastAttempt and lastErr are guarded by it.
	loading     sync.Mutex
	lastAttempt time.Time
	lastErr     error
}

// get returns the cohort's Server, loading its documents first when they are due,
// and the error of the last load while none succeeded. While another request loads
// them, a Server that has documents serves them rather than wait.
func (p *cohortServers) get(ctx context.Context, cohort string) (*Server, error) {
	e := p.entry(cohort)
	if e.server.Ready() {
		if !e.loading.TryLock() {
			return e.server, nil
		}
	} else {
		e.loading.Lock()
	}
	defer e.loading.Unlock()
	now := p.clock.Now()
	wait := p.refresh
	if !e.server.Ready() {
		wait = min(firstRetry, p.refresh)
	}
	if e.lastAttempt.IsZero() || now.Sub(e.lastAttempt) >= wait {
		e.lastAttempt = now
		// The load outlives a client that goes away: other requests wait for it.
		e.lastErr = e.server.Refresh(context.WithoutCancel(ctx))
		if e.lastErr != nil {
			logr.FromContextOrDiscard(ctx).Error(e.lastErr, "loading the cohort's documents failed", "cohort", cohort, "ready", e.server.Ready())
		}
	}
	if e.server.Ready() {
		return e.server, nil
	}
	return e.server, e.lastErr
}

// entry returns the cohort's entry, marked used now, creating it when there is none.
func (p *cohortServers) entry(cohort string) *cohortServer {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.uses++
	if e, ok := p.servers[cohort]; ok {
		e.lastUsed, e.lastUse = now, p.uses
		return e
	}
	if len(p.servers) >= p.max {
		p.dropIdleLocked(now)
	}
	for len(p.servers) >= p.max {
		var lru string
		for name, e := range p.servers {
			if lru == "" || e.lastUse < p.servers[lru].lastUse {
				lru = name
			}
		}
		delete(p.servers, lru)
	}
	src := NewConfigMapSource(p.client, cohortOptions(p.namespace, cohort))
	e := &cohortServer{server: &Server{source: src, cohort: cohort, clock: p.clock, metrics: p.metrics.forCohort()}, lastUsed: now, lastUse: p.uses}
	p.servers[cohort] = e
	p.metrics.cohorts.Set(float64(len(p.servers)))
	return e
}

// dropIdle drops the cohorts unused for the idle time.
func (p *cohortServers) dropIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropIdleLocked(p.clock.Now())
}

func (p *cohortServers) dropIdleLocked(now time.Time) {
	for name, e := range p.servers {
		if now.Sub(e.lastUsed) >= p.idle {
			delete(p.servers, name)
		}
	}
	p.metrics.cohorts.Set(float64(len(p.servers)))
}

// held is how many cohorts are held.
func (p *cohortServers) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.servers)
}

// forCohort returns the metrics a cohort's Server of the shared portal records into:
// the shared portal's load errors, and a load time of its own that is not exported
// (one time series per cohort would grow with the cohorts asked for).
func (m *metrics) forCohort() *metrics {
	return &metrics{
		requests:   m.requests,
		loadErrors: m.loadErrors,
		lastLoad:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "cohort_portal_last_successful_load_timestamp_seconds"}),
	}
}
