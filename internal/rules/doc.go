// Package rules holds the domain rules the controllers enforce: the effective policy of a
// cohort, terms and phases, seat allocation, eligibility, team composition and
// attendance.
//
// Every function is pure: it reads only its arguments (the clock included, as a now
// parameter) so that controllers stay level-triggered and the rules can be table-tested
// and fuzzed without a cluster.
package rules
