package rules

import (
	"slices"
	"time"
)

// consecutiveGapDays is how long a break between two terms may last for them to still
// count as consecutive: a month, so that a new cohort starting soon after the last one
// ended continues the run.
const consecutiveGapDays = 31

// ConsecutiveRun returns how many of the served terms form the longest run of
// consecutive terms leading up to term: served terms that start before term (or on
// the same instant) and are linked one to the next, each link a term that starts
// after the previous one starts and no later than consecutiveGapDays calendar days
// after it ends. Terms that overlap are therefore consecutive too. served are the
// person's other terms in the same role in which they held a seat; term itself must
// not be among them. Empty or inverted terms never count.
func ConsecutiveRun(served []Term, term Term) int {
	terms := slices.DeleteFunc(slices.Clone(served), func(t Term) bool {
		return !t.Start.Before(t.End) || t.Start.After(term.Start)
	})
	// Every link goes to a term that starts strictly later, so the chains form a DAG
	// and memoising the longest run ending at each term is enough.
	memo := make([]int, len(terms))
	var runEndingAt func(i int) int
	runEndingAt = func(i int) int {
		if memo[i] > 0 {
			return memo[i]
		}
		longest := 0
		for j := range terms {
			if terms[j].Start.Before(terms[i].Start) && follows(terms[j], terms[i].Start) {
				longest = max(longest, runEndingAt(j))
			}
		}
		memo[i] = longest + 1
		return memo[i]
	}
	run := 0
	for i := range terms {
		if follows(terms[i], term.Start) {
			run = max(run, runEndingAt(i))
		}
	}
	return run
}

// follows reports whether a term starting at start continues prev: it starts no later
// than consecutiveGapDays calendar days after prev ends (in the location of prev.End,
// so a daylight-saving change does not shift the limit by an hour).
func follows(prev Term, start time.Time) bool {
	return !start.After(prev.End.AddDate(0, 0, consecutiveGapDays))
}
