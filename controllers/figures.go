package controllers

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// figureSet is a gauge metric whose series belong to owners (a cohort, or a program):
// each evaluation replaces an owner's series whole, and a scrape produces them as
// constant metrics.
//
// The cohorts' metrics were gauge vectors, and an evaluation deleted a cohort's series
// by partial match and set them again: every deletion looked at every series of the
// metric (tens of thousands at a thousand cohorts, so the evaluations of a cold start
// cost time quadratic in the cohorts), and every series was allocated again with its
// label pairs. A figure is its label values and its value, about a fifth of a vector's
// series in memory; replacing an owner's figures touches that owner's alone.
type figureSet struct {
	desc  *prometheus.Desc
	mu    sync.RWMutex
	owned map[string][]figure
}

// figure is one series of a figureSet: its label values, in the order of the set's
// label names, and its value.
type figure struct {
	labels []string
	value  float64
}

var _ prometheus.Collector = &figureSet{}

func newFigureSet(name, help string, labels ...string) *figureSet {
	return &figureSet{desc: prometheus.NewDesc(name, help, labels, nil), owned: map[string][]figure{}}
}

// figureOwner is the key of an owner's series: its namespace and names.
func figureOwner(parts ...string) string { return strings.Join(parts, "/") }

// replace makes figures the owner's series; none deletes them all. Of figures with
// equal label values the last is kept, as a gauge set twice would keep it: a scrape
// that met one series twice would fail whole.
func (s *figureSet) replace(owner string, figures []figure) {
	kept := figures[:0:0]
	for i, f := range figures {
		if !slices.ContainsFunc(figures[i+1:], func(later figure) bool { return slices.Equal(later.labels, f.labels) }) {
			kept = append(kept, f)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(kept) == 0 {
		delete(s.owned, owner)
		return
	}
	s.owned[owner] = kept
}

// Describe implements prometheus.Collector.
func (s *figureSet) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *figureSet) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, figures := range s.owned {
		for _, f := range figures {
			ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, f.value, f.labels...)
		}
	}
}

// value returns the value of the series with the given label values, and whether
// there is one.
func (s *figureSet) value(labels ...string) (float64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, figures := range s.owned {
		for _, f := range figures {
			if slices.Equal(f.labels, labels) {
				return f.value, true
			}
		}
	}
	return 0, false
}
