// Package rules holds the domain rules that judge one thing at a time: the effective
// policy of a cohort, terms and phases, runs of consecutive terms, team composition and
// one member's attendance, and the reporting periods of a program with the verdict of a
// KPI against its target. internal/program combines them over a whole program unit.
//
// Every function is pure: it reads only its arguments (the clock included, as a now
// parameter) so that controllers stay level-triggered and the rules can be table-tested
// and fuzzed without a cluster.
package rules
