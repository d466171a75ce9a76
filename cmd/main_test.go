package main

import (
	"testing"
	"time"
)

func TestLeaderElectionValidate(t *testing.T) {
	s := time.Second
	cases := map[string]struct {
		lease, renew, retry time.Duration
		ok                  bool
	}{
		"defaults":                               {defaultLeaseDuration, defaultRenewDeadline, defaultRetryPeriod, true},
		"controller-runtime's defaults":          {15 * s, 10 * s, 2 * s, true},
		"renewing past the lease":                {10 * s, 8 * s, 2 * s, false},
		"renew deadline within one jittered try": {10 * s, 2 * s, 2 * s, false},
		"lease in fractions of a second":         {12500 * time.Millisecond, 8 * s, s, false},
		"zero retry period":                      {12 * s, 8 * s, 0, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := leaderElection{leaseDuration: c.lease, renewDeadline: c.renew, retryPeriod: c.retry}.validate()
			if (err == nil) != c.ok {
				t.Errorf("validate() = %v, want ok %v", err, c.ok)
			}
		})
	}
}
